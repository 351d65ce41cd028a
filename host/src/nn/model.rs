//! A model: layers wired into a graph, with a reference forward pass,
//! calibration and IR emission.

use super::emit::{Emitter, Port as EPort};
use super::layers::{ActLayer, AddLayer, Flatten, PoolLayer, Slice};
use super::quant::BatchStat;
use super::tensor::{Act, Output, QuantTensor};
use super::weighted::WeightLayer;
use super::{Ctx, NnError};
use crate::ir::{DType, Graph, Op, Tensor, shape};

/// Any layer of a [`Model`].
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// `QuantLinear`, `QuantConv*`, `QuantConvTranspose*`.
    Weight(Box<WeightLayer>),
    /// `QuantIdentity`, `QuantReLU`, `QuantHardTanh`.
    Act(ActLayer),
    /// `QuantMaxPool2d`, `QuantAvgPool2d`.
    Pool(PoolLayer),
    /// `QuantEltwiseAdd` (two inputs).
    Add(AddLayer),
    /// Flatten after the batch dimension.
    Flatten,
    /// A slice along one axis.
    Slice(Slice),
}

impl From<WeightLayer> for Layer {
    fn from(l: WeightLayer) -> Layer {
        Layer::Weight(Box::new(l))
    }
}
impl From<ActLayer> for Layer {
    fn from(l: ActLayer) -> Layer {
        Layer::Act(l)
    }
}
impl From<PoolLayer> for Layer {
    fn from(l: PoolLayer) -> Layer {
        Layer::Pool(l)
    }
}
impl From<AddLayer> for Layer {
    fn from(l: AddLayer) -> Layer {
        Layer::Add(l)
    }
}
impl From<Flatten> for Layer {
    fn from(_: Flatten) -> Layer {
        Layer::Flatten
    }
}
impl From<Slice> for Layer {
    fn from(s: Slice) -> Layer {
        Layer::Slice(s)
    }
}

impl Layer {
    fn arity(&self) -> usize {
        if matches!(self, Layer::Add(_)) { 2 } else { 1 }
    }

    /// Whether the layer returns a quantized tensor.
    pub fn return_quant_tensor(&self) -> bool {
        match self {
            Layer::Weight(l) => l.return_quant_tensor,
            Layer::Act(l) => l.return_quant_tensor,
            Layer::Pool(l) => l.return_quant_tensor,
            Layer::Add(l) => l.return_quant_tensor,
            Layer::Flatten | Layer::Slice(_) => false,
        }
    }

    fn slots_mut(&mut self) -> Vec<&mut super::act::ActQuant> {
        match self {
            Layer::Weight(l) => vec![&mut l.input_quant, &mut l.output_quant],
            Layer::Act(l) => vec![&mut l.act],
            Layer::Add(l) => vec![&mut l.input_quant, &mut l.output_quant],
            _ => vec![],
        }
    }

    fn forward(&self, name: &str, ins: &[&Act], ctx: &mut Ctx) -> Result<Act, NnError> {
        let x = ins[0];
        match self {
            Layer::Weight(l) => l.forward(name, x, ctx),
            Layer::Act(l) => l.forward(name, x, ctx),
            Layer::Pool(l) => l.forward(name, x, ctx),
            Layer::Add(l) => l.forward(name, x, ins[1], ctx),
            Layer::Flatten | Layer::Slice(_) => {
                let op = self.layout_op();
                let shape = shape::output_shape(&op, &[&x.value.shape]).map_err(|r| NnError::layer(name, r))?;
                let value = match &op {
                    Op::Slice(s) => slice(&x.value, s, &shape).map_err(|r| NnError::layer(name, r))?,
                    _ => x.value.clone().reshaped(shape),
                };
                let grid = x.grid.clone().filter(|g| !g.is_per_channel());
                Ok(Act { value, grid })
            }
        }
    }

    fn layout_op(&self) -> Op {
        match self {
            Layer::Slice(s) => Op::Slice(s.attrs()),
            _ => Op::Flatten { axis: 1 },
        }
    }

    fn emit(&self, name: &str, ins: Vec<EPort>, e: &mut Emitter) -> Result<EPort, NnError> {
        let mut ins = ins.into_iter();
        let x = ins.next().expect("arity checked");
        match self {
            Layer::Weight(l) => l.emit(name, x, e),
            Layer::Act(l) => l.emit(name, x, e),
            Layer::Pool(l) => l.emit(name, x, e),
            Layer::Add(l) => l.emit(name, x, ins.next().expect("arity checked"), e),
            Layer::Flatten | Layer::Slice(_) => {
                let op = self.layout_op();
                let id = e.node(&format!("{name}/{}", op.name()), op, vec![x.float], DType::F32, None);
                Ok(EPort { float: id, int: None, grid: x.grid.filter(|g| !g.is_per_channel()) })
            }
        }
    }
}

/// Copies a static slice of `x` (output shape `shape`).
fn slice(x: &Tensor, s: &crate::ir::SliceAttrs, shape: &[usize]) -> Result<Tensor, String> {
    let ranges = shape::slice_ranges(s, &x.shape)?;
    let v = x.as_f32().unwrap_or_default();
    let total: usize = shape.iter().product();
    let out = (0..total)
        .map(|mut o| {
            let (mut flat, mut stride) = (0i64, 1i64);
            for (axis, &(start, step, count)) in ranges.iter().enumerate().rev() {
                let k = (o % count.max(1)) as i64;
                o /= count.max(1);
                flat += (start as i64 + k * step) * stride;
                stride *= x.shape[axis] as i64;
            }
            v[flat as usize]
        })
        .collect();
    Ok(Tensor::f32(shape.to_vec(), out))
}

/// The value behind a port.
fn pick<'a>(p: &Port, inputs: &'a [Act], outs: &'a [Act]) -> &'a Act {
    match *p {
        Port::Input(i) => &inputs[i],
        Port::Layer(i) => &outs[i],
    }
}

/// A value in a [`Model`]: a model input or a layer's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// Model input `i`.
    Input(usize),
    /// The output of layer `i`.
    Layer(usize),
}

/// A named layer and the ports it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Name (the prefix of its weights' names, as in a PyTorch state dict).
    pub name: String,
    /// The layer.
    pub layer: Layer,
    /// Its operands.
    pub inputs: Vec<Port>,
}

/// A quantized model: inputs, layers in order, one output.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Model name (the ONNX graph name).
    pub name: String,
    /// Input names.
    pub inputs: Vec<String>,
    /// Layers in evaluation order.
    pub layers: Vec<Entry>,
    /// The output; the last layer's when unset.
    pub output: Option<Port>,
    rng: super::weights::SplitMix64,
}

impl Model {
    /// An empty model; random weights are drawn from seed 0 unless [`Model::init_random`] says otherwise.
    pub fn new(name: &str) -> Model {
        Model {
            name: name.to_string(),
            inputs: Vec::new(),
            layers: Vec::new(),
            output: None,
            rng: super::weights::SplitMix64(0),
        }
    }

    /// A chain of layers named `"0"`, `"1"`, … (PyTorch `nn.Sequential`) over one input `x`.
    pub fn sequential(name: &str, layers: impl IntoIterator<Item = Layer>) -> Result<Model, NnError> {
        let mut m = Model::new(name);
        let mut port = m.input("x");
        for (i, layer) in layers.into_iter().enumerate() {
            port = m.add(&i.to_string(), layer, &[port])?;
        }
        Ok(m)
    }

    /// Declares an input.
    pub fn input(&mut self, name: &str) -> Port {
        self.inputs.push(name.to_string());
        Port::Input(self.inputs.len() - 1)
    }

    /// Adds layer `name` reading `inputs`; weights not given are drawn at random.
    pub fn add(&mut self, name: &str, layer: impl Into<Layer>, inputs: &[Port]) -> Result<Port, NnError> {
        let mut layer = layer.into();
        if inputs.len() != layer.arity() {
            return Err(NnError::layer(name, format!("takes {} input(s), {} given", layer.arity(), inputs.len())));
        }
        if self.layers.iter().any(|e| e.name == name) {
            return Err(NnError::layer(name, "a layer of this name exists already"));
        }
        for p in inputs {
            let ok = match *p {
                Port::Input(i) => i < self.inputs.len(),
                Port::Layer(i) => i < self.layers.len(),
            };
            if !ok {
                return Err(NnError::layer(name, format!("reads {p:?}, which does not exist")));
            }
        }
        if let Layer::Weight(w) = &mut layer {
            self.rng.fill_missing(w);
        }
        self.layers.push(Entry { name: name.to_string(), layer, inputs: inputs.to_vec() });
        Ok(Port::Layer(self.layers.len() - 1))
    }

    /// Makes `port` the model's output.
    pub fn set_output(&mut self, port: Port) {
        self.output = Some(port);
    }

    /// Redraws every weight and bias from `seed` (PyTorch's default
    /// uniform `±1/sqrt(fan_in)` initialisation).
    pub fn init_random(&mut self, seed: u64) {
        self.rng = super::weights::SplitMix64(seed);
        for e in &mut self.layers {
            if let Layer::Weight(w) = &mut e.layer {
                w.weight = None;
                w.bias = None;
                self.rng.fill_missing(w);
            }
        }
    }

    /// The layer named `name`.
    pub fn layer(&self, name: &str) -> Option<&Layer> {
        self.layers.iter().find(|e| e.name == name).map(|e| &e.layer)
    }

    /// The layer named `name`, mutably.
    pub fn layer_mut(&mut self, name: &str) -> Option<&mut Layer> {
        self.layers.iter_mut().find(|e| e.name == name).map(|e| &mut e.layer)
    }

    fn output_port(&self) -> Result<Port, NnError> {
        self.output
            .or(if self.layers.is_empty() { None } else { Some(Port::Layer(self.layers.len() - 1)) })
            .ok_or_else(|| NnError::Model("the model has no layers".into()))
    }

    /// Runs every layer; returns the output value.
    fn run(&self, inputs: &[Tensor], ctx: &mut Ctx) -> Result<Act, NnError> {
        if inputs.len() != self.inputs.len() {
            return Err(NnError::Model(format!(
                "the model takes {} input(s), {} given",
                self.inputs.len(),
                inputs.len()
            )));
        }
        if let Some(bad) = inputs.iter().find(|t| t.as_f32().is_none()) {
            return Err(NnError::Model(format!("inputs must be float32, got {}", bad.dtype)));
        }
        let in_acts: Vec<Act> = inputs.iter().map(|t| Act::float(t.clone())).collect();
        let mut outs: Vec<Act> = Vec::with_capacity(self.layers.len());
        for (i, e) in self.layers.iter().enumerate() {
            ctx.layer = i;
            let refs: Vec<&Act> = e.inputs.iter().map(|p| pick(p, &in_acts, &outs)).collect();
            let y = e.layer.forward(&e.name, &refs, ctx)?;
            outs.push(y);
        }
        Ok(pick(&self.output_port()?, &in_acts, &outs).clone())
    }

    /// Sets every activation scale from statistics over sample batches
    /// (each a list of model inputs): the mean over batches of each
    /// batch's statistic, as Brevitas's calibration mode does. Activations
    /// flow unquantized while statistics are collected.
    pub fn calibrate(&mut self, batches: &[Vec<Tensor>]) -> Result<(), NnError> {
        let mut stats: Vec<Vec<Vec<BatchStat>>> =
            self.layers.iter_mut().map(|e| vec![Vec::new(); e.layer.slots_mut().len()]).collect();
        for batch in batches {
            let mut ctx = Ctx { calibrating: true, layer: 0, observed: Vec::new() };
            self.run(batch, &mut ctx)?;
            for (layer, slot, s) in ctx.observed {
                stats[layer][slot].push(s);
            }
        }
        for (e, layer_stats) in self.layers.iter_mut().zip(&stats) {
            let name = e.name.clone();
            for (slot, s) in e.layer.slots_mut().into_iter().zip(layer_stats) {
                slot.finish_calibration(&name, s)?;
            }
        }
        Ok(())
    }

    /// The reference forward pass: Brevitas's fake quantization in float32.
    pub fn forward(&self, inputs: &[Tensor]) -> Result<Output, NnError> {
        let mut ctx = Ctx { calibrating: false, layer: 0, observed: Vec::new() };
        let y = self.run(inputs, &mut ctx)?;
        Ok(match (self.returns_quant_tensor()?, y.grid) {
            (true, Some(params)) => Output::Quant(QuantTensor { value: y.value, params }),
            (_, _) => Output::Float(y.value),
        })
    }

    /// Whether the output layer returns a quantized tensor.
    pub fn returns_quant_tensor(&self) -> Result<bool, NnError> {
        Ok(match self.output_port()? {
            Port::Layer(i) => self.layers[i].layer.return_quant_tensor(),
            Port::Input(_) => false,
        })
    }

    /// The model as an IR graph in QCDQ form, with input shapes from
    /// `example` and the given opset. With `int_output`, a quantized
    /// output is the integers rather than their dequantized values.
    pub fn to_graph(&self, example: &[Tensor], opset: i64, int_output: bool) -> Result<Graph, NnError> {
        if example.len() != self.inputs.len() {
            return Err(NnError::Model(format!(
                "the model takes {} input(s), {} given",
                self.inputs.len(),
                example.len()
            )));
        }
        let mut e = Emitter::new(&self.name, opset);
        let ins: Vec<EPort> =
            self.inputs.iter().zip(example).map(|(n, t)| EPort::float(e.input(n, &t.shape))).collect();
        let mut outs: Vec<EPort> = Vec::new();
        for entry in &self.layers {
            let pick = |p: &Port| match *p {
                Port::Input(i) => ins[i].clone(),
                Port::Layer(i) => outs[i].clone(),
            };
            let operands = entry.inputs.iter().map(pick).collect();
            let out = entry.layer.emit(&entry.name, operands, &mut e)?;
            outs.push(out);
        }
        let out = match self.output_port()? {
            Port::Input(i) => ins[i].clone(),
            Port::Layer(i) => outs[i].clone(),
        };
        let id = match (int_output && self.returns_quant_tensor()?, out.int, &out.grid) {
            (true, Some(int), _) => int,
            // A float value on a grid (max pooling): quantized again, as Brevitas's QOp export does.
            (true, None, Some(grid)) => {
                let op = Op::Quantize(crate::ir::QuantizeAttrs::ONNX);
                e.node("output_quant/Quantize", op, vec![out.float], super::quant::storage(grid), Some(grid.clone()))
            }
            _ => out.float,
        };
        e.graph.outputs.push(id);
        let name = e.graph.values[id.0].name.clone();
        e.graph.values[id.0].name = if name.ends_with("_output") { "output".into() } else { name };
        Ok(e.graph)
    }
}

//! A model: layers wired into a graph, with a reference forward pass,
//! calibration and IR emission.

use super::emit::{Emitter, Port as EPort};
use super::layer::Layer;
use super::quant::BatchStat;
use super::tensor::{Act, Output, QuantTensor};
use super::{Ctx, NnError};
use crate::ir::{Graph, Op, Tensor};

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

//! The [`Layer`] enum: every layer kind behind one type, with its forward
//! pass and emission dispatched to the kind.

use super::activations::ActLayer;
use super::combine::{AddLayer, Flatten, Slice};
use super::emit::{Emitter, Port as EPort};
use super::pool::PoolLayer;
use super::tensor::Act;
use super::weighted::WeightLayer;
use super::{Ctx, NnError};
use crate::ir::{DType, Op, Tensor, shape};

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
    pub(crate) fn arity(&self) -> usize {
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

    pub(crate) fn slots_mut(&mut self) -> Vec<&mut super::act::ActQuant> {
        match self {
            Layer::Weight(l) => vec![&mut l.input_quant, &mut l.output_quant],
            Layer::Act(l) => vec![&mut l.act],
            Layer::Add(l) => vec![&mut l.input_quant, &mut l.output_quant],
            _ => vec![],
        }
    }

    pub(crate) fn forward(&self, name: &str, ins: &[&Act], ctx: &mut Ctx) -> Result<Act, NnError> {
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

    pub(crate) fn emit(&self, name: &str, ins: Vec<EPort>, e: &mut Emitter) -> Result<EPort, NnError> {
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

//! Layers that combine or reshape values: `QuantEltwiseAdd`, `Flatten`, `Slice`.

// Brevitas's layer names (`QuantLinear::new`, …) construct the builder
// their family shares, so `new` does not return `Self`.
#![allow(clippy::new_ret_no_self)]

use super::act::ActQuant;
use super::emit::{Emitter, Port};
use super::quant::{Preset, QuantSpec};
use super::tensor::Act;
use super::{Ctx, NnError};
use crate::ir::{DType, Op, SliceAttrs, Tensor};

/// `brevitas.nn.QuantEltwiseAdd`: both operands through one input
/// quantizer, the sum through the output quantizer (both `Int8ActPerTensorFloat`).
#[derive(Debug, Clone, PartialEq)]
pub struct AddLayer {
    pub(crate) input_quant: ActQuant,
    pub(crate) output_quant: ActQuant,
    pub(crate) return_quant_tensor: bool,
}

/// `brevitas.nn.QuantEltwiseAdd`.
pub struct QuantEltwiseAdd;

impl QuantEltwiseAdd {
    /// A quantized elementwise sum of two inputs.
    pub fn new() -> AddLayer {
        let q = || ActQuant::new(Some(Preset::Int8ActPerTensorFloat.spec()));
        AddLayer { input_quant: q(), output_quant: q(), return_quant_tensor: false }
    }
}

impl AddLayer {
    /// The quantizer of both operands (`None`: add as they come).
    pub fn input_quant(mut self, q: impl Into<Option<QuantSpec>>) -> Self {
        self.input_quant.spec = q.into();
        self
    }

    /// The quantizer of the sum (`None`: a float sum).
    pub fn output_quant(mut self, q: impl Into<Option<QuantSpec>>) -> Self {
        self.output_quant.spec = q.into();
        self
    }

    /// Overrides the output quantizer's bit width.
    pub fn output_bit_width(mut self, bits: u32) -> Self {
        self.output_quant.bit_width = Some(bits);
        self
    }

    /// Return a quantized tensor instead of float values.
    pub fn return_quant_tensor(mut self, r: bool) -> Self {
        self.return_quant_tensor = r;
        self
    }

    pub(crate) fn forward(&self, name: &str, a: &Act, b: &Act, ctx: &mut Ctx) -> Result<Act, NnError> {
        let quant = |x: &Act, ctx: &mut Ctx| -> Result<Tensor, NnError> {
            Ok(if self.input_quant.is_set() {
                self.input_quant.forward(name, 0, x.value.clone(), ctx)?.value
            } else {
                x.value.clone()
            })
        };
        let (qa, qb) = (quant(a, ctx)?, quant(b, ctx)?);
        if qa.shape != qb.shape {
            return Err(NnError::layer(name, format!("operand shapes {:?} and {:?} differ", qa.shape, qb.shape)));
        }
        let (va, vb) = (qa.as_f32().unwrap_or_default(), qb.as_f32().unwrap_or_default());
        let sum = Tensor::f32(qa.shape.clone(), va.iter().zip(vb).map(|(x, y)| x + y).collect());
        self.output_quant.forward(name, 1, sum, ctx)
    }

    pub(crate) fn emit(&self, name: &str, a: Port, b: Port, e: &mut Emitter) -> Result<Port, NnError> {
        let a = self.input_quant.emit(name, "input_quant", a, e)?;
        let b = self.input_quant.emit(name, "input_quant", b, e)?;
        let sum = e.node(&format!("{name}/Add"), Op::Add, vec![a.float, b.float], DType::F32, None);
        self.output_quant.emit(name, "output_quant", Port::float(sum), e)
    }
}

/// `torch.flatten(x, 1)`: everything after the batch in one dimension.
pub struct Flatten;

/// `x[..., start:end]` along one axis (a tensor slice in PyTorch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    /// The sliced axis.
    pub axis: i64,
    /// First index.
    pub start: i64,
    /// One past the last index (`i64::MAX`: to the end).
    pub end: i64,
}

impl Slice {
    /// `x[axis][start:end]`.
    pub fn new(axis: i64, start: i64, end: i64) -> Slice {
        Slice { axis, start, end }
    }

    pub(crate) fn attrs(&self) -> SliceAttrs {
        SliceAttrs { starts: vec![self.start], ends: vec![self.end], axes: vec![self.axis], steps: vec![1] }
    }
}

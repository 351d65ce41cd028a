//! Layers without weights: activations, pooling, addition, reshaping.

// Brevitas's layer names (`QuantLinear::new`, …) construct the builder
// their family shares, so `new` does not return `Self`.
#![allow(clippy::new_ret_no_self)]

use super::act::ActQuant;
use super::emit::{Emitter, Port};
use super::kernels::{self, Window};
use super::quant::{Preset, QuantSpec};
use super::tensor::Act;
use super::{Ctx, NnError};
use crate::ir::{AvgPoolAttrs, ClipAttrs, DType, Op, PoolAttrs, QuantParams, SliceAttrs, Tensor, TruncAttrs};
use lowbit_runtime::arith::Rounding;

/// Which activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ActKind {
    /// `QuantIdentity`: quantization only.
    Identity,
    /// `QuantReLU`.
    Relu,
    /// `QuantHardTanh` clamping to `[min, max]`.
    HardTanh {
        /// Lower bound.
        min: f32,
        /// Upper bound.
        max: f32,
    },
}

/// An activation layer, built by [`QuantIdentity::new`], [`QuantReLU::new`] or [`QuantHardTanh::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct ActLayer {
    /// Which activation.
    pub kind: ActKind,
    pub(crate) act: ActQuant,
    pub(crate) return_quant_tensor: bool,
}

/// `brevitas.nn.QuantIdentity` (default `Int8ActPerTensorFloat`).
pub struct QuantIdentity;
/// `brevitas.nn.QuantReLU` (default `Uint8ActPerTensorFloat`).
pub struct QuantReLU;
/// `brevitas.nn.QuantHardTanh` (default `Int8ActPerTensorFloat` with its range from `[min, max]`).
pub struct QuantHardTanh;

impl QuantIdentity {
    /// A quantizer layer.
    pub fn new() -> ActLayer {
        ActLayer {
            kind: ActKind::Identity,
            act: ActQuant::new(Some(Preset::Int8ActPerTensorFloat.spec())),
            return_quant_tensor: false,
        }
    }
}

impl QuantReLU {
    /// A quantized ReLU.
    pub fn new() -> ActLayer {
        ActLayer {
            kind: ActKind::Relu,
            act: ActQuant::new(Some(Preset::Uint8ActPerTensorFloat.spec())),
            return_quant_tensor: false,
        }
    }
}

impl QuantHardTanh {
    /// A quantized HardTanh over `[min_val, max_val]`: the scale is
    /// `max(|min_val|, |max_val|)` over the quantizer's integer scale, no calibration needed.
    pub fn new(min_val: f32, max_val: f32) -> ActLayer {
        let mut act = ActQuant::new(Some(Preset::Int8ActPerTensorFloat.spec()));
        act.fixed_max = Some(min_val.abs().max(max_val.abs()));
        ActLayer { kind: ActKind::HardTanh { min: min_val, max: max_val }, act, return_quant_tensor: false }
    }
}

impl ActLayer {
    /// The activation quantizer (`None`: a float activation).
    pub fn act_quant(mut self, q: impl Into<Option<QuantSpec>>) -> Self {
        self.act.spec = q.into();
        self
    }

    /// Overrides the bit width.
    pub fn bit_width(mut self, bits: u32) -> Self {
        self.act.bit_width = Some(bits);
        self
    }

    /// Overrides the narrow range.
    pub fn narrow_range(mut self, narrow: bool) -> Self {
        self.act.narrow_range = Some(narrow);
        self
    }

    /// Return a quantized tensor (integers in QOp) instead of float values.
    pub fn return_quant_tensor(mut self, r: bool) -> Self {
        self.return_quant_tensor = r;
        self
    }

    pub(crate) fn forward(&self, name: &str, x: &Act, ctx: &mut Ctx) -> Result<Act, NnError> {
        let v = x.value.as_f32().unwrap_or_default();
        let y = match self.kind {
            ActKind::Identity => x.value.clone(),
            ActKind::Relu => Tensor::f32(x.value.shape.clone(), v.iter().map(|&a| a.max(0.0)).collect()),
            ActKind::HardTanh { min, max } if !self.act.is_set() => {
                Tensor::f32(x.value.shape.clone(), v.iter().map(|&a| a.max(min).min(max)).collect())
            }
            ActKind::HardTanh { .. } => x.value.clone(),
        };
        if !self.act.is_set() {
            let grid = if matches!(self.kind, ActKind::Identity | ActKind::Relu) { x.grid.clone() } else { None };
            return Ok(Act { value: y, grid });
        }
        self.act.forward(name, 0, y, ctx)
    }

    pub(crate) fn emit(&self, name: &str, x: Port, e: &mut Emitter) -> Result<Port, NnError> {
        let y = match self.kind {
            ActKind::Relu => {
                let id = e.node(&format!("{name}/Relu"), Op::Relu, vec![x.float], DType::F32, None);
                Port { float: id, int: None, grid: x.grid.clone() }
            }
            ActKind::HardTanh { min, max } if !self.act.is_set() => {
                let clip = ClipAttrs { min: Some(min as f64), max: Some(max as f64) };
                Port::float(e.node(&format!("{name}/Clip"), Op::Clip(clip), vec![x.float], DType::F32, None))
            }
            _ => x,
        };
        self.act.emit(name, "act_quant", y, e)
    }
}

/// Which pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    /// `QuantMaxPool2d`: the output keeps the input's grid.
    Max,
    /// `QuantAvgPool2d` (Brevitas's `TruncAvgPool2d`): the window sum is
    /// truncated to `bit_width` bits.
    Avg {
        /// Output bit width.
        bit_width: u32,
    },
}

/// A pooling layer, built by [`QuantMaxPool2d::new`] or [`QuantAvgPool2d::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct PoolLayer {
    /// Which pooling.
    pub kind: PoolKind,
    pub(crate) kernel: usize,
    pub(crate) stride: usize,
    pub(crate) padding: usize,
    pub(crate) return_quant_tensor: bool,
}

/// `brevitas.nn.QuantMaxPool2d`.
pub struct QuantMaxPool2d;
/// `brevitas.nn.QuantAvgPool2d` (`TruncAvgPool2d`), truncating to 8 bits by default.
pub struct QuantAvgPool2d;

impl QuantMaxPool2d {
    /// Max pooling over `kernel × kernel` windows, stride `kernel`.
    pub fn new(kernel: usize) -> PoolLayer {
        PoolLayer { kind: PoolKind::Max, kernel, stride: kernel, padding: 0, return_quant_tensor: false }
    }
}

impl QuantAvgPool2d {
    /// Average pooling over `kernel × kernel` windows, stride `kernel`, output 8 bits.
    pub fn new(kernel: usize) -> PoolLayer {
        PoolLayer {
            kind: PoolKind::Avg { bit_width: 8 },
            kernel,
            stride: kernel,
            padding: 0,
            return_quant_tensor: false,
        }
    }
}

impl PoolLayer {
    /// The stride.
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = s;
        self
    }

    /// Symmetric zero padding.
    pub fn padding(mut self, p: usize) -> Self {
        self.padding = p;
        self
    }

    /// The output bit width of average pooling.
    pub fn bit_width(mut self, bits: u32) -> Self {
        if let PoolKind::Avg { bit_width } = &mut self.kind {
            *bit_width = bits;
        }
        self
    }

    /// Return a quantized tensor instead of float values.
    pub fn return_quant_tensor(mut self, r: bool) -> Self {
        self.return_quant_tensor = r;
        self
    }

    fn window(&self) -> Window {
        Window {
            kernel: vec![self.kernel; 2],
            stride: vec![self.stride; 2],
            padding: vec![self.padding; 2],
            dilation: vec![1; 2],
        }
    }

    /// The truncation of an average over a grid `x`: attributes and output parameters.
    fn trunc(&self, name: &str, x: Option<&QuantParams>, bits: u32) -> Result<(TruncAttrs, QuantParams), NnError> {
        let err = |r: &str| NnError::layer(name, r.to_string());
        let x = x.ok_or_else(|| err("truncating average pooling needs a quantized input"))?;
        if x.is_per_channel() || !x.is_symmetric() {
            return Err(err("truncating average pooling needs a per-tensor input grid with zero point 0"));
        }
        let count = (self.kernel * self.kernel) as u32;
        let sum_bits = x.bits + count.next_power_of_two().trailing_zeros();
        let in_scale = x.scale[0] / count as f32;
        let shift = sum_bits as i32 - bits as i32;
        let out_scale = in_scale * 2f32.powi(shift);
        let attrs = TruncAttrs { in_scale, in_zero_point: 0.0, in_bits: sum_bits, shift, rounding: Rounding::HalfEven };
        Ok((attrs, QuantParams::per_tensor(out_scale, 0, bits, x.signed, false)))
    }

    pub(crate) fn forward(&self, name: &str, x: &Act, ctx: &mut Ctx) -> Result<Act, NnError> {
        let avg = matches!(self.kind, PoolKind::Avg { .. });
        let y = kernels::pool(&x.value, &self.window(), avg).map_err(|r| NnError::layer(name, r))?;
        match self.kind {
            PoolKind::Max => Ok(Act { value: y, grid: x.grid.clone() }),
            PoolKind::Avg { .. } if ctx.calibrating => Ok(Act::float(y)),
            PoolKind::Avg { bit_width } => {
                let (attrs, p) = self.trunc(name, x.grid.as_ref(), bit_width)?;
                let range = p.range();
                let v =
                    y.as_f32().unwrap_or_default().iter().map(|&a| attrs.apply(a, range) as f32 * p.scale[0]).collect();
                Ok(Act { value: Tensor::f32(y.shape.clone(), v), grid: Some(p) })
            }
        }
    }

    pub(crate) fn emit(&self, name: &str, x: Port, e: &mut Emitter) -> Result<Port, NnError> {
        let pool = PoolAttrs {
            kernel: vec![self.kernel; 2],
            strides: vec![self.stride; 2],
            pads: vec![self.padding; 4],
            dilations: vec![1; 2],
            ceil_mode: false,
        };
        match self.kind {
            PoolKind::Max => {
                let id = e.node(&format!("{name}/MaxPool"), Op::MaxPool(pool), vec![x.float], DType::F32, None);
                Ok(Port { float: id, int: None, grid: x.grid })
            }
            PoolKind::Avg { bit_width } => {
                let (attrs, p) = self.trunc(name, x.grid.as_ref(), bit_width)?;
                let op = Op::AveragePool(AvgPoolAttrs { pool, count_include_pad: true });
                let avg = e.node(&format!("{name}/AveragePool"), op, vec![x.float], DType::F32, None);
                let dtype = super::quant::storage(&p);
                let t =
                    e.node(&format!("{name}/trunc_quant/Trunc"), Op::Trunc(attrs), vec![avg], dtype, Some(p.clone()));
                let d = e.node(&format!("{name}/trunc_quant/Dequantize"), Op::Dequantize, vec![t], DType::F32, None);
                Ok(Port { float: d, int: Some(t), grid: Some(p) })
            }
        }
    }
}

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

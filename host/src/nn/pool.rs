//! Pooling layers: `QuantMaxPool2d`, `QuantAvgPool2d` (truncating).

// Brevitas's layer names (`QuantLinear::new`, …) construct the builder
// their family shares, so `new` does not return `Self`.
#![allow(clippy::new_ret_no_self)]

use super::emit::{Emitter, Port};
use super::kernels::{self, Window};
use super::tensor::Act;
use super::{Ctx, NnError};
use crate::ir::{AvgPoolAttrs, DType, Op, PoolAttrs, QuantParams, Tensor, TruncAttrs};
use lowbit_runtime::arith::Rounding;

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

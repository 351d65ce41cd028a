//! Activation layers: `QuantIdentity`, `QuantReLU`, `QuantHardTanh`.

// Brevitas's layer names (`QuantLinear::new`, …) construct the builder
// their family shares, so `new` does not return `Self`.
#![allow(clippy::new_ret_no_self)]

use super::act::ActQuant;
use super::emit::{Emitter, Port};
use super::quant::{Preset, QuantSpec};
use super::tensor::Act;
use super::{Ctx, NnError};
use crate::ir::{ClipAttrs, DType, Op, Tensor};

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

//! Activation quantizers (input, output and activation quantization of
//! layers): calibration statistics, parameters, forward and emission.

use super::emit::{Emitter, Port};
use super::quant::{BatchStat, QuantSpec, dequantize, quantize};
use super::tensor::Act;
use super::{Ctx, NnError};
use crate::ir::{QuantParams, Tensor};

/// An activation quantizer slot of a layer, with Brevitas-style overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct ActQuant {
    /// The quantizer, `None` for no quantization.
    pub(crate) spec: Option<QuantSpec>,
    /// `bit_width` / `output_bit_width` override.
    pub(crate) bit_width: Option<u32>,
    /// `narrow_range` override.
    pub(crate) narrow_range: Option<bool>,
    /// A fixed `max |x|` (HardTanh's `max(|min_val|, |max_val|)`) instead of calibration.
    pub(crate) fixed_max: Option<f32>,
    /// Parameters found by calibration.
    pub(crate) params: Option<QuantParams>,
}

impl ActQuant {
    /// A slot with quantizer `spec`.
    pub(crate) fn new(spec: Option<QuantSpec>) -> ActQuant {
        ActQuant { spec, bit_width: None, narrow_range: None, fixed_max: None, params: None }
    }

    /// The quantizer with the overrides applied.
    pub fn resolved(&self) -> Option<QuantSpec> {
        self.spec.map(|s| QuantSpec {
            bit_width: self.bit_width.unwrap_or(s.bit_width),
            narrow_range: self.narrow_range.unwrap_or(s.narrow_range),
            ..s
        })
    }

    /// Whether the slot quantizes at all.
    pub fn is_set(&self) -> bool {
        self.spec.is_some()
    }

    /// The parameters in force: fixed by the layer, or calibrated.
    pub(crate) fn params(&self, layer: &str) -> Result<Option<QuantParams>, NnError> {
        let Some(spec) = self.resolved() else { return Ok(None) };
        if let Some(max) = self.fixed_max {
            return spec.act_params(0.0, max as f64).map(Some).map_err(|reason| NnError::layer(layer, reason));
        }
        match &self.params {
            Some(p) => Ok(Some(p.clone())),
            None => Err(NnError::Uncalibrated { layer: layer.to_string() }),
        }
    }

    /// Sets the parameters from calibration statistics (the mean over batches).
    pub(crate) fn finish_calibration(&mut self, layer: &str, stats: &[BatchStat]) -> Result<(), NnError> {
        let Some(spec) = self.resolved() else { return Ok(()) };
        if self.fixed_max.is_some() || stats.is_empty() {
            return Ok(());
        }
        let n = stats.len() as f64;
        let lo = stats.iter().map(|s| s.lo).sum::<f64>() / n;
        let hi = stats.iter().map(|s| s.hi).sum::<f64>() / n;
        self.params = Some(spec.act_params(lo, hi).map_err(|reason| NnError::layer(layer, reason))?);
        Ok(())
    }

    /// Quantizes `x` in the forward pass (or records its statistics while calibrating).
    pub(crate) fn forward(&self, layer: &str, slot: usize, x: Tensor, ctx: &mut Ctx) -> Result<Act, NnError> {
        let Some(spec) = self.resolved() else { return Ok(Act::float(x)) };
        if ctx.calibrating && self.fixed_max.is_none() {
            ctx.record(slot, spec.observe(x.as_f32().unwrap_or_default()));
            return Ok(Act::float(x));
        }
        let params = self.params(layer)?.expect("a set quantizer has parameters");
        let value = dequantize(&quantize(&x, &params), &params);
        Ok(Act { value, grid: Some(params) })
    }

    /// Emits `Quantize → Dequantize` for `x` (nothing when the slot is empty).
    pub(crate) fn emit(&self, layer: &str, tag: &str, x: Port, e: &mut Emitter) -> Result<Port, NnError> {
        match self.params(layer)? {
            Some(p) => Ok(e.quant_dequant(&format!("{layer}.{tag}"), &x, p)),
            None => Ok(x),
        }
    }
}

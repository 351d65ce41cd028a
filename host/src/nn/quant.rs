//! Quantizer presets with Brevitas's semantics, and how they turn
//! statistics into [`QuantParams`].
//!
//! Scales follow Brevitas's integer scaling: a statistic (max-abs of the
//! weights, a percentile of the activations) maps to `2^(b-1)` for signed
//! quantizers (`2^(b-1) - 1` when narrow) and to `2^b - 1` for unsigned
//! ones. Power-of-two (`*FixedPoint`) quantizers round the scale up to the
//! next power of two, as Brevitas's `CeilSte` restriction does.

use crate::ir::{DType, QuantParams, QuantizeAttrs, Tensor, int_range};

/// What a quantizer is applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantRole {
    /// Weights: scale from the weights themselves (max-abs).
    Weight,
    /// Activations: scale from calibration statistics or a fixed range.
    Activation,
    /// Biases: scale = input scale × weight scale (the accumulator's).
    Bias,
}

/// The statistic an activation quantizer's scale comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    /// The largest value (of `|x|` for signed quantizers).
    Max,
    /// A percentile in `(0, 100]` (of `|x|` for signed quantizers), as
    /// Brevitas's `high_percentile_q`.
    Percentile(f32),
}

/// A quantizer: bit width, signedness, range and how its scale is found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantSpec {
    /// Weights, activations or biases.
    pub role: QuantRole,
    /// Bit width, 1 to 32.
    pub bit_width: u32,
    /// Two's complement (true) or unsigned.
    pub signed: bool,
    /// The most negative (signed) or top (unsigned) code is unused.
    pub narrow_range: bool,
    /// One scale per output channel (weights only).
    pub per_channel: bool,
    /// Scales restricted to powers of two (shift-only hardware).
    pub power_of_two: bool,
    /// A zero point from the minimum (Brevitas's `ShiftedUint8`).
    pub asymmetric: bool,
    /// The calibration statistic (activations only).
    pub stat: Stat,
}

/// Brevitas's quantizer classes, by their Brevitas names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// Signed 8-bit, narrow range, per-tensor max-abs scale: the default weight quantizer.
    Int8WeightPerTensorFloat,
    /// As [`Preset::Int8WeightPerTensorFloat`] with one scale per output channel.
    Int8WeightPerChannelFloat,
    /// Signed 8-bit activations (not narrow), percentile-99.999 scale.
    Int8ActPerTensorFloat,
    /// Unsigned 8-bit activations, percentile-99.999 scale: QuantReLU's default.
    Uint8ActPerTensorFloat,
    /// Unsigned 8-bit activations with a zero point (min-max statistics).
    ShiftedUint8ActPerTensorFloat,
    /// Signed 8-bit bias at the accumulator scale (input scale × weight scale).
    Int8Bias,
    /// Signed 16-bit bias at the accumulator scale.
    Int16Bias,
    /// Signed 32-bit bias at the accumulator scale.
    Int32Bias,
    /// Power-of-two scaled [`Preset::Int8WeightPerTensorFloat`].
    Int8WeightPerTensorFixedPoint,
    /// Power-of-two scaled [`Preset::Int8WeightPerChannelFloat`].
    Int8WeightPerChannelFixedPoint,
    /// Power-of-two scaled [`Preset::Int8ActPerTensorFloat`].
    Int8ActPerTensorFixedPoint,
    /// Power-of-two scaled [`Preset::Uint8ActPerTensorFloat`].
    Uint8ActPerTensorFixedPoint,
}

/// Brevitas's default activation percentile.
pub const DEFAULT_PERCENTILE: f32 = 99.999;

impl Preset {
    /// The quantizer this preset stands for.
    pub fn spec(self) -> QuantSpec {
        use Preset::*;
        let base = QuantSpec {
            role: QuantRole::Activation,
            bit_width: 8,
            signed: true,
            narrow_range: false,
            per_channel: false,
            power_of_two: false,
            asymmetric: false,
            stat: Stat::Percentile(DEFAULT_PERCENTILE),
        };
        let weight = QuantSpec { role: QuantRole::Weight, narrow_range: true, stat: Stat::Max, ..base };
        let bias = |bits| QuantSpec { role: QuantRole::Bias, bit_width: bits, stat: Stat::Max, ..base };
        match self {
            Int8WeightPerTensorFloat => weight,
            Int8WeightPerChannelFloat => QuantSpec { per_channel: true, ..weight },
            Int8ActPerTensorFloat => base,
            Uint8ActPerTensorFloat => QuantSpec { signed: false, ..base },
            ShiftedUint8ActPerTensorFloat => QuantSpec { signed: false, asymmetric: true, stat: Stat::Max, ..base },
            Int8Bias => bias(8),
            Int16Bias => bias(16),
            Int32Bias => bias(32),
            Int8WeightPerTensorFixedPoint => QuantSpec { power_of_two: true, ..weight },
            Int8WeightPerChannelFixedPoint => QuantSpec { power_of_two: true, per_channel: true, ..weight },
            Int8ActPerTensorFixedPoint => QuantSpec { power_of_two: true, ..base },
            Uint8ActPerTensorFixedPoint => QuantSpec { power_of_two: true, signed: false, ..base },
        }
    }
}

impl From<Preset> for QuantSpec {
    fn from(p: Preset) -> QuantSpec {
        p.spec()
    }
}

impl From<Preset> for Option<QuantSpec> {
    fn from(p: Preset) -> Option<QuantSpec> {
        Some(p.spec())
    }
}

/// Statistics of one calibration batch: the lower and upper ends of the range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BatchStat {
    /// Lower end (0 for symmetric and unsigned quantizers).
    pub lo: f64,
    /// Upper end (of `|x|` for signed quantizers).
    pub hi: f64,
}

/// The `k`-th smallest value for percentile `q` of `n` values, as Brevitas
/// takes it: `k = floor(q/100 · n + 0.5)`, clamped to `1..=n`.
fn percentile(mut v: Vec<f32>, q: f32) -> f32 {
    let n = v.len();
    let k = ((0.01 * q as f64 * n as f64 + 0.5).floor() as usize).clamp(1, n.max(1));
    v.sort_by(f32::total_cmp);
    v.get(k - 1).copied().unwrap_or(0.0)
}

impl QuantSpec {
    /// Narrow range, which 1-bit (bipolar) quantizers ignore.
    fn narrow(&self) -> bool {
        self.narrow_range && self.bit_width > 1
    }

    /// The integer a statistic maps to (Brevitas's `IntScaling`).
    pub fn int_scale(&self) -> f32 {
        let b = self.bit_width as i32;
        let narrow = self.narrow() as i32 as f32;
        if self.signed && !self.asymmetric { 2f32.powi(b - 1) - narrow } else { 2f32.powi(b) - 1.0 - narrow }
    }

    /// Restricts a scale to the quantizer's scale type.
    fn restrict(&self, s: f32) -> f32 {
        if self.power_of_two { 2f32.powi(s.log2().ceil() as i32) } else { s }
    }

    /// Checks the bit width.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !(1..=32).contains(&self.bit_width) {
            return Err(format!("bit width {} is outside 1..=32", self.bit_width));
        }
        Ok(())
    }

    /// Parameters of weights `w` whose output channels lie along `axis`.
    pub(crate) fn weight_params(&self, w: &Tensor, axis: usize) -> Result<QuantParams, String> {
        self.check()?;
        let values = w.as_f32().ok_or("weights must be float32")?;
        let channels = if self.per_channel { w.shape[axis] } else { 1 };
        let inner: usize = w.shape[axis + 1..].iter().product();
        let mut max_abs = vec![0f32; channels];
        for (i, &x) in values.iter().enumerate() {
            let c = if self.per_channel { (i / inner.max(1)) % channels } else { 0 };
            max_abs[c] = max_abs[c].max(x.abs());
        }
        let scale = max_abs
            .iter()
            .map(|&m| {
                if m > 0.0 && m.is_finite() {
                    Ok(self.restrict(m / self.int_scale()))
                } else {
                    Err(format!("weights of channel with max-abs {m} give no scale (all zero or not finite)"))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(QuantParams {
            zero_point: vec![0; scale.len()],
            axis: self.per_channel.then_some(axis),
            scale,
            bits: self.bit_width,
            signed: self.signed,
            narrow: self.narrow(),
            bipolar: self.bit_width == 1 && self.signed,
        })
    }

    /// The statistics of one batch of activations.
    pub(crate) fn observe(&self, x: &[f32]) -> BatchStat {
        let pick = |v: Vec<f32>, q: Stat| match q {
            Stat::Max => v.iter().copied().fold(0f32, f32::max),
            Stat::Percentile(p) => percentile(v, p),
        };
        if self.signed && !self.asymmetric {
            return BatchStat { lo: 0.0, hi: pick(x.iter().map(|v| v.abs()).collect(), self.stat) as f64 };
        }
        let hi = pick(x.to_vec(), self.stat) as f64;
        let lo = if self.asymmetric {
            let low = match self.stat {
                Stat::Max => x.iter().copied().fold(0f32, f32::min),
                Stat::Percentile(p) => percentile(x.to_vec(), 100.0 - p).min(0.0),
            };
            low as f64
        } else {
            0.0
        };
        BatchStat { lo, hi }
    }

    /// Activation parameters from a range `[lo, hi]` (`hi` of `|x|` for signed).
    pub(crate) fn act_params(&self, lo: f64, hi: f64) -> Result<QuantParams, String> {
        self.check()?;
        let span = (hi - lo) as f32;
        if !(span > 0.0 && span.is_finite()) {
            return Err(format!("the calibrated range [{lo}, {hi}] is empty; calibrate with non-zero inputs"));
        }
        let scale = self.restrict(span / self.int_scale());
        let (zmin, zmax) = int_range(self.bit_width, self.signed, self.narrow_range);
        let zero_point =
            if self.asymmetric { ((-lo as f32 / scale).round_ties_even() as i64).clamp(zmin, zmax) } else { 0 };
        let mut p = QuantParams::per_tensor(scale, zero_point, self.bit_width, self.signed, self.narrow_range);
        p.bipolar = self.bit_width == 1 && self.signed;
        Ok(p)
    }

    /// Bias parameters at the accumulator scale(s) `acc_scale`.
    pub(crate) fn bias_params(&self, acc_scale: Vec<f32>) -> Result<QuantParams, String> {
        self.check()?;
        let axis = (acc_scale.len() > 1).then_some(0);
        Ok(QuantParams {
            zero_point: vec![0; acc_scale.len()],
            scale: acc_scale,
            axis,
            bits: self.bit_width,
            signed: true,
            narrow: self.narrow(),
            bipolar: false,
        })
    }
}

/// Quantizes a float tensor with `q` (ONNX `QuantizeLinear` order: round
/// half to even, add the zero point, clamp); returns the integers in their
/// storage type.
pub(crate) fn quantize(x: &Tensor, q: &QuantParams) -> Tensor {
    let range = q.range();
    let ints = x
        .as_f32()
        .unwrap_or_default()
        .iter()
        .zip(q.channels(&x.shape))
        .map(|(&v, c)| QuantizeAttrs::ONNX.apply(v, q.scale_at(c), q.zero_point_at(c), range, q.bipolar))
        .collect();
    Tensor::int(storage(q), x.shape.clone(), ints)
}

/// Dequantizes integers: `(q - zero_point) · scale` in float32.
pub(crate) fn dequantize(q_ints: &Tensor, q: &QuantParams) -> Tensor {
    let v = q_ints
        .as_int()
        .unwrap_or_default()
        .iter()
        .zip(q.channels(&q_ints.shape))
        .map(|(&v, c)| (v - q.zero_point_at(c)) as f32 * q.scale_at(c))
        .collect();
    Tensor::f32(q_ints.shape.clone(), v)
}

/// The ONNX storage type of integers with parameters `q` (biases: int32).
pub(crate) fn storage(q: &QuantParams) -> DType {
    DType::storage_for(q.bits, q.signed || q.bipolar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_scale_is_max_abs_over_the_narrow_range() {
        let w = Tensor::f32(vec![2, 2], vec![0.5, -1.27, 0.1, 0.2]);
        let p = Preset::Int8WeightPerTensorFloat.spec().weight_params(&w, 0).unwrap();
        assert_eq!(p.scale, vec![1.27 / 127.0]);
        assert_eq!(p.range(), (-127, 127));
        let pc = Preset::Int8WeightPerChannelFloat.spec().weight_params(&w, 0).unwrap();
        assert_eq!(pc.scale, vec![1.27 / 127.0, 0.2 / 127.0]);
        assert_eq!(pc.axis, Some(0));
    }

    #[test]
    fn activation_scales_follow_brevitas_int_scaling() {
        // Signed, not narrow: the statistic maps to 2^(b-1) (HardTanh [-1, 1] at 4 bits: 1/8).
        let s4 = QuantSpec { bit_width: 4, ..Preset::Int8ActPerTensorFloat.spec() };
        assert_eq!(s4.act_params(0.0, 1.0).unwrap().scale, vec![0.125]);
        let u8 = Preset::Uint8ActPerTensorFloat.spec();
        assert_eq!(u8.act_params(0.0, 2.55).unwrap().scale, vec![2.55 / 255.0]);
        let shifted = Preset::ShiftedUint8ActPerTensorFloat.spec().act_params(-1.0, 1.55).unwrap();
        assert_eq!(shifted.scale, vec![2.55 / 255.0]);
        assert_eq!(shifted.zero_point, vec![100]);
        let pot = Preset::Int8ActPerTensorFixedPoint.spec().act_params(0.0, 3.0).unwrap();
        assert_eq!(pot.scale, vec![2f32.powi(-5)], "3/128 rounds up to 1/32");
    }

    #[test]
    fn percentile_takes_brevitas_kth_value() {
        let v: Vec<f32> = (1..=1000).map(|i| i as f32).collect();
        // k = floor(0.99999 * 1000 + 0.5) = 1000.
        assert_eq!(percentile(v.clone(), 99.999), 1000.0);
        assert_eq!(percentile(v, 50.0), 500.0);
    }
}

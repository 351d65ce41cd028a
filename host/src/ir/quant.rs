//! Quantization parameters carried by integer values.

use lowbit_runtime::arith::Rounding;
use std::fmt;

/// How the integers of a value map to real numbers, and which integers it may hold.
///
/// `real = (q - zero_point) * scale`, per tensor or per channel along `axis`;
/// `q` lies in [`QuantParams::range`], set by `bits`, `signed` and `narrow`
/// (or `{-1, +1}` for bipolar values).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QuantParams {
    /// One scale per tensor, or one per channel of `axis`.
    pub scale: Vec<f32>,
    /// One zero point per tensor, or one per channel of `axis`.
    pub zero_point: Vec<i64>,
    /// The channel axis of per-channel parameters.
    pub axis: Option<usize>,
    /// Bit width, 1 to 32.
    pub bits: u32,
    /// Two's complement (true) or unsigned.
    pub signed: bool,
    /// Narrow range: the most negative (signed) or top (unsigned) code is unused.
    pub narrow: bool,
    /// Bipolar 1-bit values `{-1, +1}` (QONNX `BipolarQuant`).
    pub bipolar: bool,
}

/// Why a set of quantization parameters is impossible.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuantParamsError {
    /// A scale is zero, negative, infinite or NaN.
    #[error("scale {0} is not a positive finite number")]
    BadScale(f32),
    /// The bit width is outside 1..=32.
    #[error("bit width {0} is outside 1..=32")]
    BadBits(i64),
    /// A zero point lies outside the integer range.
    #[error("zero point {zero_point} lies outside the {bits}-bit {kind} range [{min}, {max}]")]
    ZeroPointOutOfRange {
        /// The zero point.
        zero_point: i64,
        /// Bit width.
        bits: u32,
        /// "signed" or "unsigned".
        kind: &'static str,
        /// Range minimum.
        min: i64,
        /// Range maximum.
        max: i64,
    },
    /// Scale and zero point lengths disagree, or per-channel without an axis.
    #[error("{scales} scales and {zero_points} zero points do not form per-tensor or per-channel parameters")]
    BadLength {
        /// Number of scales.
        scales: usize,
        /// Number of zero points.
        zero_points: usize,
    },
}

impl QuantParams {
    /// Per-tensor parameters.
    pub fn per_tensor(scale: f32, zero_point: i64, bits: u32, signed: bool, narrow: bool) -> QuantParams {
        QuantParams {
            scale: vec![scale],
            zero_point: vec![zero_point],
            axis: None,
            bits,
            signed,
            narrow,
            bipolar: false,
        }
    }

    /// Checks that the parameters describe a real quantizer.
    pub fn validate(&self) -> Result<(), QuantParamsError> {
        if !(1..=32).contains(&self.bits) {
            return Err(QuantParamsError::BadBits(self.bits as i64));
        }
        if let Some(&s) = self.scale.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(QuantParamsError::BadScale(s));
        }
        let n = self.scale.len();
        let z = self.zero_point.len();
        let lengths_ok = (z == n || z == 1) && n >= 1 && (n == 1 || self.axis.is_some());
        if !lengths_ok {
            return Err(QuantParamsError::BadLength { scales: n, zero_points: z });
        }
        let (min, max) = self.range();
        if let Some(&zp) = self.zero_point.iter().find(|&&zp| zp < min || zp > max) {
            return Err(QuantParamsError::ZeroPointOutOfRange {
                zero_point: zp,
                bits: self.bits,
                kind: if self.signed { "signed" } else { "unsigned" },
                min,
                max,
            });
        }
        Ok(())
    }

    /// The integer range `[min, max]` the value's integers lie in.
    pub fn range(&self) -> (i64, i64) {
        if self.bipolar {
            return (-1, 1);
        }
        int_range(self.bits, self.signed, self.narrow)
    }

    /// Whether the parameters differ per channel.
    pub fn is_per_channel(&self) -> bool {
        self.scale.len() > 1 || self.zero_point.len() > 1
    }

    /// The scale of channel `c` (the only scale when per tensor).
    pub fn scale_at(&self, c: usize) -> f32 {
        self.scale[if self.scale.len() == 1 { 0 } else { c }]
    }

    /// The zero point of channel `c` (the only one when per tensor).
    pub fn zero_point_at(&self, c: usize) -> i64 {
        self.zero_point[if self.zero_point.len() == 1 { 0 } else { c }]
    }

    /// The channel of every element of a tensor of `shape`, in row-major
    /// order (all 0 for per-tensor parameters).
    pub fn channels(&self, shape: &[usize]) -> impl Iterator<Item = usize> + use<> {
        let total: usize = shape.iter().product();
        let (inner, count) = match self.axis.filter(|_| self.is_per_channel()) {
            Some(axis) if axis < shape.len() => (shape[axis + 1..].iter().product::<usize>(), shape[axis]),
            _ => (total.max(1), 1),
        };
        (0..total).map(move |i| (i / inner.max(1)) % count.max(1))
    }

    /// Whether every zero point is 0.
    pub fn is_symmetric(&self) -> bool {
        self.zero_point.iter().all(|&z| z == 0)
    }

    /// The same scale and zero point with another integer range.
    pub fn with_range(&self, bits: u32, signed: bool, narrow: bool) -> QuantParams {
        QuantParams { bits, signed, narrow, bipolar: false, ..self.clone() }
    }

    /// Short description like `int4 narrow per-channel(axis 0)`.
    pub fn describe(&self) -> String {
        if self.bipolar {
            return "bipolar".into();
        }
        let mut s = format!("{}{}", if self.signed { "int" } else { "uint" }, self.bits);
        if self.narrow {
            s.push_str(" narrow");
        }
        if let (true, Some(axis)) = (self.is_per_channel(), self.axis) {
            s.push_str(&format!(" per-channel(axis {axis})"));
        }
        s
    }
}

impl fmt::Display for QuantParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())?;
        if self.scale.len() == 1 {
            write!(f, " scale {:e} zp {}", self.scale[0], self.zero_point[0])
        } else {
            write!(f, " {} scales", self.scale.len())
        }
    }
}

/// The integer range of `bits`-wide values (see [`lowbit_runtime::arith::int_range`]),
/// widened to `i64` so 32-bit unsigned values fit.
pub fn int_range(bits: u32, signed: bool, narrow: bool) -> (i64, i64) {
    if signed {
        let half = 1i64 << (bits - 1);
        (-half + narrow as i64, half - 1)
    } else {
        (0, (1i64 << bits) - 1 - narrow as i64)
    }
}

/// The bit width, signedness and narrowness whose range is exactly `[lo, hi]`.
///
/// This is how a `Clip` between `QuantizeLinear` and `DequantizeLinear`
/// states a bit width below 8: `[-8, 7]` is int4, `[-7, 7]` narrow int4,
/// `[0, 15]` uint4. Returns `None` when no integer range matches.
pub fn range_to_bits(lo: i64, hi: i64) -> Option<(u32, bool, bool)> {
    (1..=32u32).find_map(|bits| {
        let candidates = [(true, false), (true, true), (false, false), (false, true)];
        candidates
            .into_iter()
            .find(|&(signed, narrow)| !(bits == 1 && narrow) && int_range(bits, signed, narrow) == (lo, hi))
            .map(|(signed, narrow)| (bits, signed, narrow))
    })
}

/// The narrowest signed or unsigned range holding every value of `values`.
///
/// Used for integer weights whose storage type is wider than their
/// quantizer (QOp exports store 4-bit weights as int8). Signed ranges are
/// reported narrow when the most negative code is unused, as Brevitas's
/// narrow-range weight quantizers produce.
pub fn fitting_bits(values: &[i64], signed: bool) -> (u32, bool) {
    let (min, max) = values.iter().fold((0i64, 0i64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let bits = (1..=32u32)
        .find(|&b| {
            let (lo, hi) = int_range(b, signed, false);
            lo <= min && max <= hi
        })
        .unwrap_or(32);
    let narrow = signed && bits > 1 && min > int_range(bits, true, false).0;
    (bits, narrow)
}

/// Parses a QONNX `rounding_mode` attribute.
pub fn parse_rounding(mode: &str) -> Option<Rounding> {
    Some(match mode.to_ascii_uppercase().as_str() {
        "ROUND" | "HALF_EVEN" => Rounding::HalfEven,
        "FLOOR" => Rounding::Floor,
        "CEIL" => Rounding::Ceil,
        "DOWN" => Rounding::TowardZero,
        "UP" => Rounding::AwayFromZero,
        "HALF_UP" => Rounding::HalfUp,
        "HALF_DOWN" => Rounding::HalfDown,
        _ => return None,
    })
}

/// The QONNX name of a rounding mode.
pub fn rounding_name(r: Rounding) -> &'static str {
    match r {
        Rounding::HalfEven => "ROUND",
        Rounding::Floor => "FLOOR",
        Rounding::Ceil => "CEIL",
        Rounding::TowardZero => "DOWN",
        Rounding::AwayFromZero => "UP",
        Rounding::HalfUp => "HALF_UP",
        Rounding::HalfDown => "HALF_DOWN",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_bounds_map_to_bit_widths() {
        assert_eq!(range_to_bits(-8, 7), Some((4, true, false)));
        assert_eq!(range_to_bits(-7, 7), Some((4, true, true)));
        assert_eq!(range_to_bits(0, 15), Some((4, false, false)));
        assert_eq!(range_to_bits(0, 3), Some((2, false, false)));
        assert_eq!(range_to_bits(-127, 127), Some((8, true, true)));
        assert_eq!(range_to_bits(-1, 0), Some((1, true, false)));
        assert_eq!(range_to_bits(-3, 5), None);
        assert_eq!(range_to_bits(1, 7), None);
    }

    #[test]
    fn fitting_bits_finds_the_narrowest_range() {
        assert_eq!(fitting_bits(&[-7, 3, 7], true), (4, true));
        assert_eq!(fitting_bits(&[-8, 3, 7], true), (4, false));
        assert_eq!(fitting_bits(&[-3, 3], true), (3, true));
        assert_eq!(fitting_bits(&[0, 15], false), (4, false));
        assert_eq!(fitting_bits(&[-127, 127], true), (8, true));
    }

    #[test]
    fn validation_rejects_impossible_parameters() {
        let ok = QuantParams::per_tensor(0.5, 0, 8, true, false);
        assert!(ok.validate().is_ok());
        for s in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            let p = QuantParams { scale: vec![s], ..ok.clone() };
            assert!(matches!(p.validate(), Err(QuantParamsError::BadScale(_))));
        }
        assert!(matches!(QuantParams { bits: 0, ..ok.clone() }.validate(), Err(QuantParamsError::BadBits(0))));
        assert!(matches!(QuantParams { bits: 33, ..ok.clone() }.validate(), Err(QuantParamsError::BadBits(33))));
        let zp = QuantParams::per_tensor(0.5, 300, 8, false, false);
        assert!(matches!(zp.validate(), Err(QuantParamsError::ZeroPointOutOfRange { .. })));
    }
}

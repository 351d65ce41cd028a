//! Quantization arithmetic with ONNX Runtime's exact float32 semantics.
//!
//! IEEE-754 float32 addition, multiplication, division and int→float
//! conversion are correctly rounded (round to nearest, ties to even) on every
//! target lowbit supports: an FPU, the compiler's soft-float routines on
//! Cortex-M0/RV32IMAC, and the host. Performing the same operations in the
//! same order therefore gives the same bits everywhere. The functions below
//! fix that order to the one ONNX Runtime 1.32 uses:
//!
//! - `QuantizeLinear`: `q = sat(rne(x / scale) + zp)` with a true division.
//! - `DequantizeLinear`: `x = f32(q - zp) * scale`.
//! - `QLinearConv` / `QLinearMatMul`: `y = sat(rne(f32(acc) * m) + zp_y)` with
//!   `m = f32(f32(s_x * s_w) / s_y)`.

/// 2^23: from this magnitude on, every float32 is an integer.
const TWO_POW_23: f32 = 8_388_608.0;

/// Rounds to the nearest integer, ties to even (IEEE `roundTiesToEven`).
///
/// `core` has no float rounding functions without `std`, so this uses the
/// classic exact trick: for `|x| < 2^23`, `x + 2^23` lands in a binade whose
/// spacing is 1, so the addition itself rounds `x` to an integer, ties to
/// even; subtracting 2^23 again is exact. Larger values, infinities and NaN
/// are returned unchanged.
#[inline]
pub fn round_half_even(x: f32) -> f32 {
    if x.is_nan() || x.abs() >= TWO_POW_23 {
        return x;
    }
    if x.is_sign_negative() {
        (x - TWO_POW_23) + TWO_POW_23
    } else {
        (x + TWO_POW_23) - TWO_POW_23
    }
}

/// The largest integer not above `x` (exact for every finite float32).
#[inline]
pub fn floor(x: f32) -> f32 {
    let r = round_half_even(x);
    if r > x { r - 1.0 } else { r }
}

/// The smallest integer not below `x` (exact for every finite float32).
#[inline]
pub fn ceil(x: f32) -> f32 {
    let r = round_half_even(x);
    if r < x { r + 1.0 } else { r }
}

/// How a real value becomes an integer.
///
/// ONNX `QuantizeLinear` always rounds half to even; QONNX `Quant` and
/// `Trunc` name their mode in a `rounding_mode` attribute, evaluated by the
/// reference `qonnx` executor with the float32 numpy expressions reproduced
/// in [`Rounding::apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Nearest, ties to even (`ROUND`, `HALF_EVEN`; ONNX's only mode).
    HalfEven,
    /// Toward −∞ (`FLOOR`, Brevitas's truncation default).
    Floor,
    /// Toward +∞ (`CEIL`).
    Ceil,
    /// Toward zero (`DOWN`, `np.fix`).
    TowardZero,
    /// Away from zero (`UP`).
    AwayFromZero,
    /// Nearest, ties away from zero (`HALF_UP`: `sign(x) * floor(|x| + 0.5)`).
    HalfUp,
    /// Nearest, ties toward zero (`HALF_DOWN`: `sign(x) * ceil(|x| - 0.5)`).
    HalfDown,
}

impl Rounding {
    /// Rounds `x` to an integral float32 with this mode.
    ///
    /// `HalfUp` and `HalfDown` deliberately evaluate `|x| ± 0.5` in float32,
    /// as the qonnx reference does, including its double rounding.
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        let sign = if x < 0.0 { -1.0 } else { 1.0 };
        match self {
            Rounding::HalfEven => round_half_even(x),
            Rounding::Floor => floor(x),
            Rounding::Ceil => ceil(x),
            Rounding::TowardZero => sign * floor(x.abs()),
            Rounding::AwayFromZero => sign * ceil(x.abs()),
            Rounding::HalfUp => sign * floor(x.abs() + 0.5),
            Rounding::HalfDown => sign * ceil(x.abs() - 0.5),
        }
    }
}

/// Converts an integral float32 to `i64`, saturating (NaN becomes 0).
#[inline]
fn to_i64(x: f32) -> i64 {
    x as i64
}

/// ONNX `QuantizeLinear` of one value: `clamp(rne(x / scale) + zero_point)`.
///
/// The division is a true float32 division; multiplying by a precomputed
/// reciprocal gives different results on ties and is not used.
#[inline]
pub fn quantize(x: f32, scale: f32, zero_point: i32, min: i32, max: i32) -> i32 {
    quantize_with(x, scale, zero_point, min, max, Rounding::HalfEven)
}

/// `QuantizeLinear` generalised to any [`Rounding`] (QONNX `Quant`).
///
/// QONNX adds the zero point before rounding and clamps before rounding; both
/// are equivalent to ONNX's order because the zero point and the bounds are
/// integers and every rounding mode is monotonic and fixes integers.
#[inline]
pub fn quantize_with(x: f32, scale: f32, zero_point: i32, min: i32, max: i32, rounding: Rounding) -> i32 {
    let q = to_i64(rounding.apply(x / scale)).saturating_add(zero_point as i64);
    q.clamp(min as i64, max as i64) as i32
}

/// ONNX `DequantizeLinear` of one value: `f32(q - zero_point) * scale`.
#[inline]
pub fn dequantize(q: i32, scale: f32, zero_point: i32) -> f32 {
    (q as i64 - zero_point as i64) as f32 * scale
}

/// The requantization multiplier of `QLinearConv`/`QLinearMatMul`:
/// `f32(f32(s_x * s_w) / s_y)`, in exactly ONNX Runtime's order.
#[inline]
pub fn requant_multiplier(input_scale: f32, weight_scale: f32, output_scale: f32) -> f32 {
    (input_scale * weight_scale) / output_scale
}

/// Requantizes an int32 accumulator: `clamp(rne(f32(acc) * multiplier) + zero_point)`.
#[inline]
pub fn requantize(acc: i32, multiplier: f32, zero_point: i32, min: i32, max: i32) -> i32 {
    let q = to_i64(round_half_even(acc as f32 * multiplier)).saturating_add(zero_point as i64);
    q.clamp(min as i64, max as i64) as i32
}

/// The integer range of a `bits`-wide value: `(min, max)`.
///
/// Signed values span `[-2^(b-1), 2^(b-1) - 1]`, unsigned `[0, 2^b - 1]`;
/// narrow range drops the most negative code (signed) or the top code
/// (unsigned), as Brevitas and QONNX define it. `bits` must be in `1..=32`
/// (unsigned values are limited to 31 bits by the `i32` result).
#[inline]
pub fn int_range(bits: u32, signed: bool, narrow: bool) -> (i32, i32) {
    let (min, max): (i64, i64) = if signed {
        let half = 1i64 << (bits - 1);
        (-half + narrow as i64, half - 1)
    } else {
        (0, (1i64 << bits) - 1 - narrow as i64)
    };
    (min.max(i32::MIN as i64) as i32, max.min(i32::MAX as i64) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_half_even_matches_std_on_ties_and_edges() {
        let cases = [
            0.5f32,
            1.5,
            2.5,
            -0.5,
            -1.5,
            -2.5,
            0.49999997,
            8_388_607.5,
            -8_388_607.5,
            8_388_608.0,
            1e30,
            -1e30,
            0.0,
            -0.0,
            3.4999998,
            1.0e-40,
        ];
        for x in cases {
            assert_eq!(round_half_even(x), x.round_ties_even(), "x = {x:e}");
        }
    }

    #[test]
    fn round_half_even_matches_std_on_every_float_in_a_wide_band() {
        // Every float32 with |x| in [2^-2, 2^24): all mantissas of 26 binades,
        // both signs (435 million values, about a second in release mode;
        // sampled every 7th bit pattern in debug builds).
        let step = if cfg!(debug_assertions) { 7 } else { 1 };
        let lo = 0.25f32.to_bits();
        let hi = 16_777_216.0f32.to_bits();
        let mut bits = lo;
        while bits < hi {
            let x = f32::from_bits(bits);
            assert_eq!(round_half_even(x), x.round_ties_even(), "x = {x:e}");
            assert_eq!(round_half_even(-x), (-x).round_ties_even(), "x = {:e}", -x);
            bits += step;
        }
    }

    #[test]
    fn floor_and_ceil_match_std() {
        for x in [
            -2.5f32,
            -2.0,
            -1.2,
            -0.0,
            0.3,
            0.5,
            1.0,
            7.9999995,
            8_388_607.5,
            -8_388_607.5,
        ] {
            assert_eq!(floor(x), x.floor(), "floor {x}");
            assert_eq!(ceil(x), x.ceil(), "ceil {x}");
        }
    }

    #[test]
    fn rounding_modes_follow_qonnx_definitions() {
        let r = |m: Rounding, x: f32| m.apply(x);
        assert_eq!(r(Rounding::HalfEven, 2.5), 2.0);
        assert_eq!(r(Rounding::HalfUp, 2.5), 3.0);
        assert_eq!(r(Rounding::HalfUp, -2.5), -3.0);
        assert_eq!(r(Rounding::HalfDown, 2.5), 2.0);
        assert_eq!(r(Rounding::HalfDown, -2.5), -2.0);
        assert_eq!(r(Rounding::TowardZero, -2.7), -2.0);
        assert_eq!(r(Rounding::AwayFromZero, -2.2), -3.0);
        assert_eq!(r(Rounding::Floor, -2.2), -3.0);
        assert_eq!(r(Rounding::Ceil, 2.2), 3.0);
        // numpy evaluates |x| + 0.5 in float32: 0.49999997 + 0.5 rounds to 1.0.
        assert_eq!(r(Rounding::HalfUp, 0.49999997), 1.0);
    }

    #[test]
    fn quantize_uses_true_division_not_reciprocal() {
        // Search values near ties k + 1/2 for one where x * (1/s) and x / s
        // round to different integers; quantize must follow the division.
        let scale = 0.024_922_207f32;
        let mut found = 0;
        for k in 0..20_000 {
            let tie = (k as f32 + 0.5) * scale;
            for x in [
                f32::from_bits(tie.to_bits() - 1),
                tie,
                f32::from_bits(tie.to_bits() + 1),
            ] {
                let by_div = round_half_even(x / scale);
                let by_recip = round_half_even(x * (1.0 / scale));
                if by_div != by_recip {
                    assert_eq!(quantize(x, scale, 0, i32::MIN, i32::MAX) as f32, by_div);
                    found += 1;
                }
            }
        }
        assert!(found > 10, "only {found} distinguishing values found");
    }

    #[test]
    fn quantize_saturates_and_adds_zero_point() {
        assert_eq!(quantize(1000.0, 1.0, 0, -128, 127), 127);
        assert_eq!(quantize(-1000.0, 1.0, 0, -128, 127), -128);
        assert_eq!(quantize(2.5, 1.0, 10, 0, 255), 12);
        assert_eq!(quantize(f32::NAN, 1.0, 3, 0, 255), 3);
        assert_eq!(quantize(f32::INFINITY, 1.0, 3, 0, 255), 255);
    }

    #[test]
    fn requantize_rounds_ties_to_even_then_saturates() {
        assert_eq!(requantize(5, 0.5, 0, -128, 127), 2);
        assert_eq!(requantize(7, 0.5, 0, -128, 127), 4);
        assert_eq!(requantize(-5, 0.5, 0, -128, 127), -2);
        assert_eq!(requantize(1 << 20, 1.0, 0, -128, 127), 127);
        assert_eq!(requantize(3, 1.0, 100, 0, 15), 15);
    }

    #[test]
    fn multiplier_is_product_then_quotient_in_f32() {
        let (sx, sw, sy) = (0.0249222f32, 0.0951764f32, 0.0153622f32);
        assert_eq!(requant_multiplier(sx, sw, sy).to_bits(), ((sx * sw) / sy).to_bits());
    }

    #[test]
    fn int_ranges() {
        assert_eq!(int_range(8, true, false), (-128, 127));
        assert_eq!(int_range(8, true, true), (-127, 127));
        assert_eq!(int_range(4, false, false), (0, 15));
        assert_eq!(int_range(4, false, true), (0, 14));
        assert_eq!(int_range(1, true, false), (-1, 0));
        assert_eq!(int_range(32, true, false), (i32::MIN, i32::MAX));
        assert_eq!(int_range(32, false, false), (0, i32::MAX));
    }
}

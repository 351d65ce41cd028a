//! Multi-threshold activations computed from the program's own integer
//! arithmetic.
//!
//! A unit's accumulator `s` (a dot product, a window sum, a sum of two
//! streams, or a single value) goes through the program's output stage:
//! `requantize(offset + s, m, zp, lo, hi)` and any lookup tables fused after
//! it. That composite `f` is a monotonic step function of `s`, so an
//! `n`-bit output is `base + #{k : s' >= T_k}` for `2^n - 1` thresholds,
//! with `base` the smallest output value and `s' = s` (or `-s` where `f`
//! falls, e.g. for a negative multiplier). Each `T_k` is found by binary
//! search evaluating `f` with [`lowbit_runtime::arith::requantize`] itself,
//! and the thresholds are then checked against `f`: over the whole
//! accumulator range when it is small, else at every threshold (which
//! proves equality for a monotonic `f`).

use crate::{DType, HlsError};
use lowbit_runtime::arith::requantize;

/// One step of an element-wise integer activation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stage {
    /// `requantize(v, m[c], zero_point, lo, hi)` with one multiplier, or
    /// one per channel.
    Requant {
        /// Multipliers.
        multipliers: Vec<f32>,
        /// Output zero point.
        zero_point: i32,
        /// Clamp.
        lo: i32,
        /// Clamp.
        hi: i32,
    },
    /// `table[v as u8]`: a program `Lut` (indexed by the stored byte).
    Table {
        /// The entries.
        table: Box<[i32; 256]>,
        /// The program op, for messages.
        op: String,
    },
    /// `values[v - first]`: a function tabulated over a range.
    Indexed {
        /// The first tabulated input.
        first: i64,
        /// The outputs.
        values: Vec<i32>,
    },
}

/// An element-wise activation of an accumulator: `offset[c] + s`, then the
/// stages in order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Activation {
    /// Added to the unit's accumulator before the first stage: one value,
    /// or one per channel (e.g. the bias with the input zero point folded in).
    pub(crate) offset: Vec<i64>,
    /// The stages.
    pub(crate) stages: Vec<Stage>,
}

/// Which way a monotonic function goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Non-decreasing (constant included).
    Rising,
    /// Non-increasing.
    Falling,
}

impl Activation {
    /// The program's output value for accumulator `s` of channel `c`.
    pub(crate) fn eval(&self, c: usize, s: i64) -> i64 {
        let mut v = s + self.offset[c.min(self.offset.len() - 1)];
        for stage in &self.stages {
            v = match stage {
                Stage::Requant { multipliers, zero_point, lo, hi } => {
                    let m = multipliers[c.min(multipliers.len() - 1)];
                    let acc = v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
                    i64::from(requantize(acc, m, *zero_point, *lo, *hi))
                }
                Stage::Table { table, .. } => i64::from(table[usize::from(v as u8)]),
                Stage::Indexed { first, values } => {
                    let i = (v - first).clamp(0, values.len() as i64 - 1);
                    i64::from(values[i as usize])
                }
            };
        }
        v
    }

    /// Proves that the activation of channel `c` is monotonic over inputs
    /// in `domain` and says which way, or explains why it is not.
    fn direction(&self, c: usize, domain: (i64, i64)) -> Result<Direction, String> {
        let mut rising = true;
        // The range of values entering the next stage.
        let off = self.offset[c.min(self.offset.len() - 1)];
        let mut range = (domain.0 + off, domain.1 + off);
        for stage in &self.stages {
            match stage {
                Stage::Requant { multipliers, lo, hi, .. } => {
                    // f32 conversion, multiplication and rounding are monotonic.
                    rising ^= multipliers[c.min(multipliers.len() - 1)] < 0.0;
                    range = (i64::from(*lo), i64::from(*hi));
                }
                Stage::Table { table, op } => {
                    let values: Vec<i64> =
                        (range.0..=range.1).map(|v| i64::from(table[usize::from(v as u8)])).collect();
                    rising ^= monotonic(&values)
                        .ok_or_else(|| format!("the table of {op} is not monotonic over the values it receives"))?;
                    range = (values.iter().copied().min().unwrap_or(0), values.iter().copied().max().unwrap_or(0));
                }
                Stage::Indexed { first, values } => {
                    let lo = (range.0 - first).max(0) as usize;
                    let hi = ((range.1 - first).max(0) as usize).min(values.len() - 1);
                    let values: Vec<i64> = values[lo..=hi].iter().map(|&v| i64::from(v)).collect();
                    rising ^= monotonic(&values).ok_or_else(|| "the function is not monotonic".to_string())?;
                    range = (values.iter().copied().min().unwrap_or(0), values.iter().copied().max().unwrap_or(0));
                }
            }
        }
        Ok(if rising { Direction::Rising } else { Direction::Falling })
    }
}

/// `Some(false)` for a non-decreasing sequence, `Some(true)` for a
/// non-increasing one (a constant counts as non-decreasing), else `None`.
fn monotonic(values: &[i64]) -> Option<bool> {
    if values.windows(2).all(|w| w[0] <= w[1]) {
        Some(false)
    } else if values.windows(2).all(|w| w[0] >= w[1]) {
        Some(true)
    } else {
        None
    }
}

/// The thresholds of one unit, in FINN's form.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// Output channels.
    pub channels: usize,
    /// Thresholds per channel: `2^n - 1` for an `n`-bit output.
    pub steps: usize,
    /// The output for an accumulator below every threshold.
    pub base: i64,
    /// `channels × steps` thresholds, ascending within a channel.
    pub values: Vec<i64>,
    /// Channels compared as `-s >= T` (falling activations).
    pub negate: Vec<bool>,
    /// A signed type holding the accumulator, its negation and every
    /// threshold.
    pub acc: DType,
    /// The output type.
    pub output: DType,
}

impl Thresholds {
    /// The output for accumulator `s` of channel `c`, as the hardware
    /// computes it.
    pub fn apply(&self, c: usize, s: i64) -> i64 {
        let a = if self.negate[c] { -s } else { s };
        // Ascending thresholds: those reached form a prefix.
        let row = &self.values[c * self.steps..(c + 1) * self.steps];
        self.base + row.partition_point(|&t| t <= a) as i64
    }
}

/// Accumulator ranges up to this size are checked value by value.
const SWEEP_LIMIT: i64 = 1 << 16;

/// Computes and checks the thresholds of `act` for accumulators in
/// `domains[c]` (one range per channel) and an `output`-typed result.
/// `layer` names the unit in errors.
pub(crate) fn thresholds(
    act: &Activation,
    domains: &[(i64, i64)],
    output: DType,
    layer: &str,
) -> Result<Thresholds, HlsError> {
    let (base, top) = output.range();
    let steps = (top - base) as usize;
    let mut values = Vec::with_capacity(domains.len() * steps);
    let mut negate = Vec::with_capacity(domains.len());
    let (mut lo_all, mut hi_all) = (0i64, 0i64);
    for (c, &(lo, hi)) in domains.iter().enumerate() {
        let direction = act.direction(c, (lo, hi)).map_err(|reason| HlsError::Unsupported {
            layer: layer.to_string(),
            reason: format!("{reason}, so the activation has no threshold form"),
        })?;
        let neg = direction == Direction::Falling;
        // Search over t = ±s, where g(t) = f(±t) rises.
        let (tlo, thi) = if neg { (-hi, -lo) } else { (lo, hi) };
        let g = |t: i64| act.eval(c, if neg { -t } else { t });
        for k in 1..=steps as i64 {
            let level = base + k;
            let t = if g(thi) < level {
                thi + 1
            } else {
                let (mut a, mut b) = (tlo, thi);
                while a < b {
                    let mid = a + (b - a) / 2;
                    if g(mid) >= level { b = mid } else { a = mid + 1 }
                }
                a
            };
            values.push(t);
        }
        negate.push(neg);
        let row = &values[c * steps..];
        lo_all = lo_all.min(lo).min(tlo).min(row.iter().copied().min().unwrap_or(0));
        hi_all = hi_all.max(hi).max(thi).max(row.iter().copied().max().unwrap_or(0));
    }
    let t = Thresholds {
        channels: domains.len(),
        steps,
        base,
        values,
        negate,
        acc: DType::signed_covering(lo_all, hi_all),
        output,
    };
    for (c, &(lo, hi)) in domains.iter().enumerate() {
        check(&t, act, c, (lo, hi), layer)?;
    }
    Ok(t)
}

/// Checks the thresholds of channel `c` against the activation.
fn check(t: &Thresholds, act: &Activation, c: usize, (lo, hi): (i64, i64), layer: &str) -> Result<(), HlsError> {
    let mismatch = |s: i64| {
        let (expected, got) = (act.eval(c, s), t.apply(c, s));
        (expected != got).then(|| HlsError::Thresholds { layer: layer.to_string(), channel: c, acc: s, expected, got })
    };
    if hi - lo <= SWEEP_LIMIT {
        return (lo..=hi).find_map(mismatch).map_or(Ok(()), Err);
    }
    // Monotonic on both sides: agreeing at both ends and on either side of
    // every threshold means agreeing everywhere.
    let row = &t.values[c * t.steps..(c + 1) * t.steps];
    let sign = if t.negate[c] { -1 } else { 1 };
    let probes = row.iter().flat_map(|&th| [th - 1, th]).map(|a| a * sign);
    [lo, hi].into_iter().chain(probes).filter(|s| (lo..=hi).contains(s)).find_map(mismatch).map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prop_oneof;

    fn requant(m: f32, zp: i32, lo: i32, hi: i32) -> Stage {
        Stage::Requant { multipliers: vec![m], zero_point: zp, lo, hi }
    }

    #[test]
    fn thresholds_of_a_relu4_are_the_rounding_boundaries() {
        // requantize(s, 0.25, 0, 0, 15): s = 2 rounds to 0 (tie to even),
        // s = 3 to 1, s = 6 → 2 (1.5 ties to 2), s = 10 → 2 (2.5 ties to 2),
        // s = 11 → 3.
        let act = Activation { offset: vec![0], stages: vec![requant(0.25, 0, 0, 15)] };
        let t = thresholds(&act, &[(-100, 50)], DType { bits: 4, signed: false }, "t").unwrap();
        assert_eq!((t.steps, t.base, t.negate[0]), (15, 0, false));
        assert_eq!(&t.values[..4], &[3, 6, 11, 14]);
        // s = 50 gives 12 (12.5 ties to even): levels 13 to 15 are out of
        // reach, one above the range.
        assert_eq!(t.values[11], 46);
        assert_eq!(&t.values[12..], &[51, 51, 51]);
        assert_eq!(t.acc, DType::signed_covering(-100, 51));
    }

    #[test]
    fn falling_activations_negate_and_offsets_shift() {
        let act = Activation {
            offset: vec![10, -10],
            stages: vec![Stage::Requant { multipliers: vec![-0.5, 0.5], zero_point: 1, lo: -4, hi: 3 }],
        };
        let t = thresholds(&act, &[(-40, 40), (-40, 40)], DType { bits: 3, signed: true }, "t").unwrap();
        assert_eq!(t.negate, [true, false]);
        for c in 0..2 {
            for s in -40..=40 {
                assert_eq!(t.apply(c, s), act.eval(c, s), "c {c} s {s}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// For every accumulator in range, the thresholds give exactly
        /// `requantize(offset + s, m, zp, lo, hi)`, whatever the sign and
        /// size of the multiplier, the zero point and the clamp.
        #[test]
        fn thresholds_equal_requantize_over_the_whole_range(
            m in prop_oneof![-2.0f32..2.0, -0.01f32..0.01, -40.0f32..40.0],
            bits in 1u32..=8,
            signed: bool,
            zp_pick in 0i64..256,
            clamp in (0i64..256, 0i64..256),
            offset in -5000i64..5000,
            lo in -3000i64..0,
            len in 0i64..4000,
        ) {
            let output = DType { bits, signed };
            let (min, max) = output.range();
            let zp = (min + zp_pick % (max - min + 1)) as i32;
            let (a, b) = (min + clamp.0 % (max - min + 1), min + clamp.1 % (max - min + 1));
            let (qlo, qhi) = (a.min(b) as i32, a.max(b) as i32);
            let act = Activation {
                offset: vec![offset],
                stages: vec![Stage::Requant { multipliers: vec![m], zero_point: zp, lo: qlo, hi: qhi }],
            };
            let t = thresholds(&act, &[(lo, lo + len)], output, "prop").unwrap();
            proptest::prop_assert_eq!(t.steps as i64, (1i64 << bits) - 1);
            for s in lo..=lo + len {
                let want = i64::from(requantize((offset + s) as i32, m, zp, qlo, qhi));
                proptest::prop_assert_eq!(t.apply(0, s), want, "s = {}", s);
            }
        }
    }

    #[test]
    fn wide_accumulator_ranges_are_exact_at_every_probe() {
        let act = Activation { offset: vec![-123_456], stages: vec![requant(3.7e-6, -3, -128, 127)] };
        let range = (-(1 << 24), 1 << 24);
        let t = thresholds(&act, &[range], DType { bits: 8, signed: true }, "wide").unwrap();
        let mut x = 0x1234_5678_9abc_def1u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let s = range.0 + (x % (range.1 - range.0) as u64) as i64;
            assert_eq!(t.apply(0, s), i64::from(requantize((s - 123_456) as i32, 3.7e-6, -3, -128, 127)));
        }
    }

    #[test]
    fn a_non_monotonic_table_is_refused() {
        let mut table = [0i32; 256];
        table[1] = 3;
        let act = Activation {
            offset: vec![0],
            stages: vec![requant(1.0, 0, 0, 2), Stage::Table { table: Box::new(table), op: "op 1 (Lut → 4)".into() }],
        };
        let err = thresholds(&act, &[(0, 5)], DType { bits: 2, signed: false }, "MVAU_hls_0").unwrap_err();
        assert_eq!(
            err.to_string(),
            "MVAU_hls_0: the table of op 1 (Lut → 4) is not monotonic over the values it receives, so the \
             activation has no threshold form"
        );
    }
}

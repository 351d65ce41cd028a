//! A fixed-point output stage found when the model is built, for layers
//! whose accumulators stay in a small known range (binary Dense: the sum
//! of `n` products of ±1 lies in `[-n, n]`).
//!
//! Per channel an integer multiplier `M` and offset `R`, and one shift `k`
//! for the layer, such that `sat((acc · M + R) >> k)` (`sat` the full
//! `i8` or `u8` range, one `SSAT`/`USAT`) equals
//! [`arith::requantize`](crate::arith::requantize)`(acc, m, zp, lo, hi)`
//! for **every** accumulator of the range
//! ([`Clamp::I8`](super::Clamp::I8) or [`Clamp::U8`](super::Clamp::U8)):
//! the builder searches for them and checks each accumulator, and keeps
//! the float output stage when none exist (a product that lands exactly on
//! a half between two integers can make the rounded values no line's
//! floor). With them the device spends
//! two integer multiply-adds, a shift and a saturation per output instead
//! of the float conversions.

#[cfg(feature = "std")]
use super::Clamp;

/// Shifts tried, largest first: more fraction bits fit a multiplier more
/// closely, fewer leave room for larger products in an `i32`.
#[cfg(feature = "std")]
const SHIFTS: core::ops::RangeInclusive<u32> = 4..=24;

/// How far from `round(m · 2^k)` a multiplier is searched (the float
/// product's roundings can move the best line slightly off `m`).
#[cfg(feature = "std")]
const REACH: i64 = 16;

/// At most this many accumulators are checked for one layer; larger
/// layers keep the float output stage.
#[cfg(feature = "std")]
const BUDGET: usize = 1 << 22;

/// The shift `k` and per channel `(M, R)` of a fixed-point stage for the
/// accumulators `ranges[c]` (inclusive, every `step`-th: a binary Dense
/// over bipolar inputs only reaches one parity) of each channel `c`, multiplier
/// `multipliers[c]` (or the single one), zero point `zero_point` and
/// `clamp`, a byte type's whole range. A channel without a stage at that shift is `None`
/// (it keeps the float stage). `k` is the largest shift at which every
/// channel that has a stage at some shift has one before its products
/// leave the `i32` range. `None` when no channel has a stage, the layer
/// is too large to check or `clamp` is not a saturation.
#[cfg(feature = "std")]
#[allow(clippy::type_complexity)]
pub(crate) fn fit(
    (ranges, step): (&[(i32, i32)], usize),
    multipliers: &[f32],
    zero_point: i32,
    clamp: Clamp,
) -> Option<(u32, std::vec::Vec<Option<(i32, i64)>>)> {
    use std::vec::Vec;
    let (lo, hi): (i64, i64) = match clamp {
        Clamp::I8 => (-128, 127),
        Clamp::U8 => (0, 255),
        Clamp::Range(..) => return None,
    };
    let multiplier = |c: usize| {
        if multipliers.len() == 1 {
            multipliers[0]
        } else {
            multipliers[c]
        }
    };
    let points: usize = ranges
        .iter()
        .map(|&(a, b)| (i64::from(b) - i64::from(a) + 1).max(0) as usize)
        .sum();
    if points > BUDGET || step == 0 || (multipliers.len() != 1 && multipliers.len() != ranges.len()) {
        return None;
    }
    let channels: Vec<(f32, Vec<(i32, i32)>)> = ranges
        .iter()
        .enumerate()
        .map(|(c, &(a, b))| {
            let expected = (a..=b).step_by(step).map(|acc| {
                (
                    acc,
                    crate::arith::requantize(acc, multiplier(c), zero_point, lo as i32, hi as i32),
                )
            });
            (multiplier(c), expected.collect())
        })
        .collect();
    let at = |k: u32, (m, expected): &(f32, Vec<(i32, i32)>)| {
        let m0 = (f64::from(*m) * f64::from(1u32 << k)).round() as i64;
        (0..=2 * REACH)
            .map(|d| m0 + if d % 2 == 0 { d / 2 } else { -(d + 1) / 2 })
            .filter(|&m| i32::try_from(m).is_ok())
            .find_map(|m| offset(expected, m, k, (lo, hi)).map(|r| (m as i32, r)))
    };
    // The largest shift of each channel that has one.
    let k = channels
        .iter()
        .filter_map(|channel| SHIFTS.rev().find(|&k| at(k, channel).is_some()))
        .min()?;
    Some((k, channels.iter().map(|channel| at(k, channel)).collect()))
}

/// An offset `R` with `sat((acc · m + R) >> k) = e` and `acc · m + R`
/// within `i32` for every accumulator and its value `(acc, e)` of
/// `expected`, if there is one: each
/// accumulator bounds `R` from both sides (a saturated value only from one,
/// besides the `i32` range).
#[cfg(feature = "std")]
fn offset(expected: &[(i32, i32)], m: i64, k: u32, (lo, hi): (i64, i64)) -> Option<i64> {
    let (mut below, mut above) = (i64::MIN, i64::MAX);
    for &(acc, e) in expected {
        let (acc, e) = (i64::from(acc), i64::from(e));
        let (min, max) = (i64::from(i32::MIN), i64::from(i32::MAX));
        let floor = if e > lo { (e << k).max(min) } else { min };
        let ceiling = if e < hi { (((e + 1) << k) - 1).min(max) } else { max };
        below = below.max(floor - acc * m);
        above = above.min(ceiling - acc * m);
        if below > above {
            return None;
        }
    }
    Some(below + (above - below) / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arith::requantize;

    /// `sat((acc · m + r) >> k)` in `i64`.
    fn apply(acc: i32, (m, r): (i32, i64), k: u32, (lo, hi): (i64, i64)) -> i64 {
        ((i64::from(acc) * i64::from(m) + r) >> k).clamp(lo, hi)
    }

    #[test]
    fn a_found_stage_gives_every_accumulator_the_float_result() {
        let ranges = [(-256, 256), (1000, 1512), (-3000, -2488), (-10, 10)];
        let multipliers = [0.3712, 0.011, 0.0463, 5.3];
        for (clamp, (lo, hi), zp) in [(Clamp::I8, (-128, 127), -3), (Clamp::U8, (0, 255), 130)] {
            let (k, rows) = fit((&ranges, 1), &multipliers, zp, clamp).expect("a stage");
            for (c, (&(a, b), row)) in ranges.iter().zip(&rows).enumerate() {
                let row = row.as_ref().expect("every channel has a stage");
                for acc in a..=b {
                    let want = requantize(acc, multipliers[c], zp, lo as i32, hi as i32);
                    assert_eq!(apply(acc, *row, k, (lo, hi)), i64::from(want), "channel {c}, acc {acc}");
                    let t = i64::from(acc) * i64::from(row.0) + row.1;
                    assert!(i32::try_from(t).is_ok(), "channel {c}: acc {acc} leaves i32");
                }
            }
        }
    }

    #[test]
    fn exact_halves_rounded_to_even_have_no_stage() {
        // 0.5, 1.5, 2.5 round to 0, 2, 2: no line's floor gives that, but
        // the second channel (even accumulators: whole products) has one.
        let (_, rows) = fit((&[(1, 5), (2, 2)], 1), &[0.5], 0, Clamp::I8).expect("a stage");
        assert!(rows[0].is_none() && rows[1].is_some());
        assert_eq!(fit((&[(1, 5)], 1), &[0.5], 0, Clamp::I8), None);
        // Every other accumulator (one parity): 1.5 and 3.5 only, rounded
        // to 2 and 4, lie on a line.
        assert!(fit((&[(1, 3)], 2), &[0.5], 0, Clamp::I8).is_some());
    }

    #[test]
    fn too_many_accumulators_or_a_narrow_clamp_keep_the_float_stage() {
        assert_eq!(fit((&[(0, 10)], 1), &[0.01], 0, Clamp::Range(0, 100)), None);
        assert_eq!(fit((&[(0, BUDGET as i32)], 1), &[0.01], 0, Clamp::U8), None);
    }
}

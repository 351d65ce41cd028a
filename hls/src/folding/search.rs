//! Folding search for a cycle budget, as FINN's `SetFolding` does it.
//!
//! Per unit, in dataflow order: an MVAU first raises SIMD (over the
//! divisors of MW) until it meets the budget or its weight stream per PE
//! would exceed [`MVAU_WWIDTH_MAX`] bits, then raises PE (over the divisors
//! of MH); channel-parallel units raise PE, window generators and padding
//! raise SIMD; a VVAU raises PE, then SIMD once PE covers every channel; a
//! depthwise window generator takes its consumer's PE. A unit "meets" the
//! budget when its cycles are strictly below it. If the slowest unit still
//! misses the budget, a second pass refolds everything for that unit's
//! cycles, so that the rest of the pipeline is not faster than needed.
//!
//! Source: FINN compiler documentation, "Folding and Design Space
//! Exploration" (`SetFolding` transformation).

use super::tie_and_size;
use crate::estimate::cycles;
use crate::graph::{Dataflow, Layer, Op, weight_type};

/// FINN's default bound on an MVAU's weight stream per PE (SIMD × weight
/// bits) while the first pass raises SIMD.
pub const MVAU_WWIDTH_MAX: u32 = 36;

/// Folds every unit of `df` for `target_cycles` per frame (two passes).
/// Returns the cycles per frame of the slowest unit.
pub fn set_folding(df: &mut Dataflow, target_cycles: u64, mvau_wwidth_max: u32) -> u64 {
    pass(df, target_cycles, mvau_wwidth_max);
    let achieved = slowest(df);
    if achieved > target_cycles {
        pass(df, achieved, mvau_wwidth_max);
    }
    slowest(df)
}

/// The cycles of the slowest unit.
fn slowest(df: &Dataflow) -> u64 {
    df.layers.iter().map(|l| cycles(&l.op, &l.fold)).max().unwrap_or(0)
}

/// The divisors of `n`, ascending.
fn divisors(n: usize) -> impl Iterator<Item = usize> {
    (1..=n).filter(move |&d| n.is_multiple_of(d))
}

/// Which folding attribute to set.
#[derive(Clone, Copy)]
enum Attr {
    Pe,
    Simd,
}

/// How a pass folds one unit.
enum Plan {
    /// SIMD up to the weight-width bound, then PE.
    Mvau { mw: usize, mh: usize, weight_bits: u32 },
    /// PE, then SIMD over the window once PE covers every channel.
    Vvau { channels: usize, window: usize },
    /// Follows its consumer (a depthwise window generator), or fixed.
    Nothing,
    /// PE and/or SIMD up to their largest values.
    Knobs(Option<usize>, Option<usize>),
}

/// One pass of the search.
fn pass(df: &mut Dataflow, target: u64, wwidth_max: u32) {
    for l in &mut df.layers {
        let plan = match &l.op {
            Op::Mvau(m) => Plan::Mvau { mw: m.mw, mh: m.mh, weight_bits: weight_type(m.weight_format).0 },
            Op::Vvau(v) => Plan::Vvau { channels: v.channels, window: v.kernel[0] * v.kernel[1] },
            Op::Swg(s) if s.depthwise => Plan::Nothing,
            op => match (op.pe_knob(), op.simd_knob()) {
                (None, None) => Plan::Nothing,
                (pe, simd) => Plan::Knobs(pe.map(|k| k.max), simd.map(|k| k.max)),
            },
        };
        match plan {
            Plan::Mvau { mw, mh, weight_bits } => {
                l.fold.pe = 1;
                l.fold.simd = 1;
                for simd in divisors(mw) {
                    let prev = l.fold.simd;
                    l.fold.simd = simd;
                    if cycles(&l.op, &l.fold) < target {
                        break;
                    }
                    if weight_bits * simd as u32 > wwidth_max {
                        l.fold.simd = prev;
                        break;
                    }
                }
                optimize(l, Attr::Pe, mh, target);
            }
            Plan::Vvau { channels, window } => {
                l.fold.simd = 1;
                optimize(l, Attr::Pe, channels, target);
                if l.fold.pe == channels && cycles(&l.op, &l.fold) > target {
                    optimize(l, Attr::Simd, window, target);
                }
            }
            Plan::Nothing => {}
            Plan::Knobs(pe, simd) => {
                if let Some(max) = pe {
                    optimize(l, Attr::Pe, max, target);
                }
                if let Some(max) = simd {
                    optimize(l, Attr::Simd, max, target);
                }
            }
        }
    }
    tie_and_size(df);
}

/// FINN's `optimize_attribute_val`: the smallest divisor of `max` that
/// meets the budget, else `max`.
fn optimize(l: &mut Layer, attr: Attr, max: usize, target: u64) {
    for d in divisors(max) {
        match attr {
            Attr::Pe => l.fold.pe = d,
            Attr::Simd => l.fold.simd = d,
        }
        if cycles(&l.op, &l.fold) < target {
            break;
        }
    }
}

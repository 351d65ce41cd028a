//! The `asm!` body of [`crate::window`] (Armv7E-M).
//!
//! The loop reads, for each pair of windows `j, j + 1`, the word at
//! `plane[r·stride + j]` for `r = 0, 1, 2`, and the odd last window reads
//! the same words at its own start; the safe wrapper checked that
//! `2·stride + n + 3` bytes lie in the plane, so every word read does (from
//! any address: Armv7-M loads words from unaligned addresses). Sums are
//! stored to the `i32` slice (word aligned, as `STRD` needs) and nothing
//! else is written. The pair loop runs only when there is a pair, counts
//! down with `SUBS` and does not preserve the flags.
#![allow(unsafe_code)]

use core::arch::asm;

use crate::window::Taps3x3;

/// See [`crate::window::window_3x3_row`].
#[inline(never)]
pub(crate) fn window_3x3_row(plane: &[u8], stride: usize, taps: &Taps3x3, sums: &mut [i32]) {
    let [o0, o1, o2] = taps.outer;
    let [m01, m2] = taps.middle;
    let mut p = plane.as_ptr();
    let mut out = sums.as_mut_ptr();
    let pairs = sums.len() / 2;
    if pairs > 0 {
        // SAFETY: see the module docs: `pairs` pairs read words below
        // `2·stride + 2·pairs + 2` and store `2·pairs` sums.
        unsafe {
            asm!(
                "2:",
                "ldr {x}, [{p}]",
                "uxtb16 {e}, {x}",
                "uxtb16 {x}, {x}, ror #8",
                "smuad {a0}, {o0}, {e}",
                "smlabb {a0}, {m01}, {x}, {a0}",
                "smuad {a1}, {o0}, {x}",
                "smlabt {a1}, {m01}, {e}, {a1}",
                "ldr {x}, [{p}, {s}]",
                "uxtb16 {e}, {x}",
                "uxtb16 {x}, {x}, ror #8",
                "smlad {a0}, {o1}, {e}, {a0}",
                "smlatb {a0}, {m01}, {x}, {a0}",
                "smlad {a1}, {o1}, {x}, {a1}",
                "smlatt {a1}, {m01}, {e}, {a1}",
                "ldr {x}, [{p}, {s}, lsl #1]",
                "uxtb16 {e}, {x}",
                "uxtb16 {x}, {x}, ror #8",
                "smlad {a0}, {o2}, {e}, {a0}",
                "smlabb {a0}, {m2}, {x}, {a0}",
                "smlad {a1}, {o2}, {x}, {a1}",
                "smlabt {a1}, {m2}, {e}, {a1}",
                "adds {p}, {p}, #2",
                "strd {a0}, {a1}, [{out}], #8",
                "subs {n}, {n}, #1",
                "bne 2b",
                p = inout(reg) p,
                out = inout(reg) out,
                n = inout(reg) pairs => _,
                s = in(reg) stride,
                o0 = in(reg) o0,
                o1 = in(reg) o1,
                o2 = in(reg) o2,
                m01 = in(reg) m01,
                m2 = in(reg) m2,
                a0 = out(reg) _,
                a1 = out(reg) _,
                e = out(reg) _,
                x = out(reg) _,
                options(nostack),
            );
        }
    }
    if sums.len() % 2 == 1 {
        // SAFETY: see the module docs: the last window reads words below
        // `2·stride + n + 3` and stores the last sum.
        unsafe {
            asm!(
                "ldr {x}, [{p}]",
                "uxtb16 {e}, {x}",
                "uxtb16 {x}, {x}, ror #8",
                "smuad {a0}, {o0}, {e}",
                "smlabb {a0}, {m01}, {x}, {a0}",
                "ldr {x}, [{p}, {s}]",
                "uxtb16 {e}, {x}",
                "uxtb16 {x}, {x}, ror #8",
                "smlad {a0}, {o1}, {e}, {a0}",
                "smlatb {a0}, {m01}, {x}, {a0}",
                "ldr {x}, [{p}, {s}, lsl #1]",
                "uxtb16 {e}, {x}",
                "uxtb16 {x}, {x}, ror #8",
                "smlad {a0}, {o2}, {e}, {a0}",
                "smlabb {a0}, {m2}, {x}, {a0}",
                "str {a0}, [{out}]",
                p = in(reg) p,
                out = in(reg) out,
                s = in(reg) stride,
                o0 = in(reg) o0,
                o1 = in(reg) o1,
                o2 = in(reg) o2,
                m01 = in(reg) m01,
                m2 = in(reg) m2,
                a0 = out(reg) _,
                e = out(reg) _,
                x = out(reg) _,
                options(nostack, preserves_flags),
            );
        }
    }
}

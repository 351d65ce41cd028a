//! The `asm!` body of [`crate::pool`] (Armv7E-M).
//!
//! For each of the `oh = out.len() / ow` output rows the loop nest reads
//! the first `4·(ow / 2)` bytes (at most `2·ow ≤ w`) of input rows `2·oy`
//! and `2·oy + 1` with `LDR` (any alignment), four bytes per pair of
//! outputs, and writes the first `2·(ow / 2)` bytes of output row `oy` with
//! `STRH`. The safe wrapper checked that `plane` holds the `2·oh` rows of
//! `w` bytes, that `2·ow ≤ w` and that `out` holds `oh` rows of `ow`. It
//! touches no other memory and no stack; the flags (`GE` included) are not
//! preserved.
#![allow(unsafe_code)]

use core::arch::asm;

/// The loop nest with `$sub` (`"usub8"` or `"ssub8"`) setting the
/// byte-wise `GE` flags for `SEL`.
macro_rules! pairs {
    ($sub:literal, $plane:expr, $w:expr, $out:expr, $ow:expr) => {{
        let (pairs, rows) = ($ow / 2, $out.len() / $ow);
        if pairs > 0 && rows > 0 {
            // SAFETY: see the module docs.
            unsafe {
                asm!(
                    "3:",
                    "mov {j}, {pairs}",
                    "2:",
                    "ldr {a}, [{p0}], #4",
                    "ldr {b}, [{p1}], #4",
                    // Row maxima, then each byte against its right
                    // neighbour: bytes 0 and 2 hold the two window maxima.
                    concat!($sub, " {t}, {a}, {b}"),
                    "sel {a}, {a}, {b}",
                    "lsr {b}, {a}, #8",
                    concat!($sub, " {t}, {a}, {b}"),
                    "sel {a}, {a}, {b}",
                    "uxtb16 {a}, {a}",
                    "orr {a}, {a}, {a}, lsr #8",
                    "strh {a}, [{po}], #2",
                    "subs {j}, {j}, #1",
                    "bne 2b",
                    // The next row pair and output row.
                    "add {p0}, {p0}, {skip_in}",
                    "add {p1}, {p1}, {skip_in}",
                    "add {po}, {po}, {skip_out}",
                    "subs {n}, {n}, #1",
                    "bne 3b",
                    p0 = inout(reg) $plane.as_ptr() => _,
                    p1 = inout(reg) $plane.as_ptr().wrapping_add($w) => _,
                    po = inout(reg) $out.as_mut_ptr() => _,
                    n = inout(reg) rows => _,
                    pairs = in(reg) pairs,
                    skip_in = in(reg) 2 * $w - 4 * pairs,
                    skip_out = in(reg) $ow - 2 * pairs,
                    j = out(reg) _,
                    a = out(reg) _,
                    b = out(reg) _,
                    t = out(reg) _,
                    options(nostack),
                );
            }
        }
    }};
}

/// See [`crate::pool::max_2x2_plane`]: the pairs of outputs of every row.
#[inline(never)]
pub(crate) fn max_2x2_pairs(plane: &[u8], w: usize, signed: bool, out: &mut [u8], ow: usize) {
    if signed {
        pairs!("ssub8", plane, w, out, ow);
    } else {
        pairs!("usub8", plane, w, out, ow);
    }
}

//! The `asm!` body of [`crate::gather`] (Armv7E-M), for groups of four.
//!
//! The loop reads the `4·n` offsets of the word-aligned table with `LDM`,
//! one byte of `input` per offset (every offset is below `input.len()`,
//! which the safe wrapper checked against the table's largest entry), and
//! writes four halfwords with one `STRD` at `block + 8·q + 8·pixels·k` for
//! group `k` (word aligned, inside `block`: the wrapper checked its
//! alignment, `q < pixels` and its length). It touches no other memory and
//! no stack.
#![allow(unsafe_code)]

use core::arch::asm;

/// The loop with `$load` (`"ldrb"` or `"ldrsb"`) reading the values.
macro_rules! groups {
    ($load:literal, $offsets:expr, $input:expr, $q:expr, $pixels:expr, $block:expr) => {{
        let n = $offsets.len() / 4;
        if n > 0 {
            // SAFETY: see the module docs.
            unsafe {
                asm!(
                    "2:",
                    // `LDM` fills registers in ascending order: fixed ones.
                    "ldm {t}!, {{r4, r5, r8, r10}}",
                    concat!($load, " r4, [{x}, r4]"),
                    concat!($load, " r5, [{x}, r5]"),
                    concat!($load, " r8, [{x}, r8]"),
                    concat!($load, " r10, [{x}, r10]"),
                    "pkhbt r4, r4, r5, lsl #16",
                    "pkhbt r8, r8, r10, lsl #16",
                    "strd r4, r8, [{o}]",
                    "add {o}, {o}, {stride}",
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    t = inout(reg) $offsets.as_ptr() => _,
                    o = inout(reg) $block.as_mut_ptr().wrapping_add(4 * $q) => _,
                    n = inout(reg) n => _,
                    x = in(reg) $input.as_ptr(),
                    stride = in(reg) 8 * $pixels,
                    out("r4") _,
                    out("r5") _,
                    out("r8") _,
                    out("r10") _,
                    options(nostack),
                );
            }
        }
    }};
}

/// See [`crate::gather::GatherTable::gather`] with groups of four.
#[inline(never)]
pub(crate) fn gather4(offsets: &[u32], input: &[u8], signed: bool, q: usize, pixels: usize, block: &mut [u16]) {
    if signed {
        groups!("ldrsb", offsets, input, q, pixels, block);
    } else {
        groups!("ldrb", offsets, input, q, pixels, block);
    }
}

//! The `asm!` body of [`crate::bits`] (Armv7-M: Cortex-M3, M4, M7).
//!
//! The loop reads `32 · bits.len()` bytes of `x` (two words per `LDRD`,
//! from any address: `LDRD` needs a word-aligned one, so the bytes are
//! read with two `LDR`s, which take unaligned ones) and writes the
//! `bits.len()` words of `bits` (a `u32` slice); it writes nothing else
//! but registers and does not preserve the flags.
//!
//! Eight bytes make a byte of bits: the bit of each is moved to bit 1 of
//! its byte (the first four) or bit 5 (the last four), so that input
//! `k < 4` sits at `8k + 1` and input `k ≥ 4` at `8(k - 4) + 5`; `UMULL`
//! by `0x8102_0400` (`2^(31 - 7j)` for `j` from 0 to 3) puts input `k` at
//! bit `32 + k` of the 64-bit product, the high word's bit `k`, and every
//! other partial product at a position of its own (`32 + 8m - 7j` or
//! `36 + 8m - 7j` for `m ≠ j`, none in `32..40` and no two equal, so no
//! carries); `BFI` inserts the high word's low byte into the word.
#![allow(unsafe_code)]

use core::arch::asm;

/// Eight bytes from `{px}` into byte `$i` of `{w}`, the bit at `$lo` and
/// `$hi` shifts: `and` with the bit-1 mask of `lo` shifted by `$lo`, the
/// bit-5 mask of `hi` shifted by `$hi`.
macro_rules! eight {
    ($insert:literal, $lo:literal, $hi:literal) => {
        concat!(
            "ldr {a}, [{px}], #4\n",
            "ldr {b}, [{px}], #4\n",
            "and {a}, {m1}, {a}, ",
            $lo,
            "\n",
            "and {b}, {m5}, {b}, ",
            $hi,
            "\n",
            "orr {a}, {a}, {b}\n",
            "umull {b}, {a}, {a}, {k}\n",
            $insert,
            "\n",
        )
    };
}

/// The loop with the shifts `$lo`, `$hi` that move bit 7 (or 0) of each
/// byte to bits 1 and 5.
macro_rules! words {
    ($lo:literal, $hi:literal, $x:expr, $bits:expr) => {{
        // SAFETY: see the module docs; `x` has `32 · bits.len()` bytes and
        // `bits.len() > 0` words are written.
        unsafe {
            asm!(
                "2:",
                eight!("uxtb {w}, {a}", $lo, $hi),
                eight!("bfi {w}, {a}, #8, #8", $lo, $hi),
                eight!("bfi {w}, {a}, #16, #8", $lo, $hi),
                eight!("bfi {w}, {a}, #24, #8", $lo, $hi),
                "str {w}, [{pb}], #4",
                "subs {n}, {n}, #1",
                "bne 2b",
                px = inout(reg) $x.as_ptr() => _,
                pb = inout(reg) $bits.as_mut_ptr() => _,
                n = inout(reg) $bits.len() => _,
                m1 = in(reg) 0x0202_0202u32,
                m5 = in(reg) 0x2020_2020u32,
                k = in(reg) 0x8102_0400u32,
                a = out(reg) _,
                b = out(reg) _,
                w = out(reg) _,
            );
        }
    }};
}

/// Bit `shift` (0 or 7) of each of the `32 · bits.len()` bytes of `x`
/// into `bits`.
#[inline(never)]
pub(crate) fn pack_words(x: &[u8], shift: u32, bits: &mut [u32]) {
    if bits.is_empty() || x.len() != 32 * bits.len() {
        return;
    }
    if shift == 0 {
        words!("lsl #1", "lsl #5", x, bits);
    } else {
        words!("lsr #6", "lsr #2", x, bits);
    }
}

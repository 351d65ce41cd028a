//! lowbit's target intrinsics: the one audited place with `unsafe` code in
//! the runtime.
//!
//! Every function is safe, `#[inline(always)]` and has two bodies:
//!
//! - on Armv7E-M (Cortex-M4/M7, cfg `lowbit_dsp` set by `build.rs`), one DSP
//!   instruction through `core::arch::asm!` (`SMLAD`, `SXTB16`, ...), or a
//!   whole loop; the bit-counting loops of binary layers ([`pack_bits`],
//!   [`select`], [`sum_columns`]) use base Armv7-M instructions only and
//!   run on Cortex-M3 too (cfg `lowbit_v7m`);
//! - everywhere else (the host, Cortex-M0/M3, RISC-V), a portable
//!   definition with exactly the instruction's result, so kernels written
//!   with these functions run, and are tested, on the host.
//!
//! The tests check the portable definitions against hand-computed
//! instruction results; the board runs (`cargo xtask hil`) check the
//! instructions against the host.
//!
//! Lane notation: a `u32` holds two 16-bit lanes, `lo` (bits 0..16) and
//! `hi` (bits 16..32), read as `i16` by the multiplying instructions.
#![cfg_attr(not(test), no_std)]

mod bits;
mod columns;
mod dot;
#[cfg(lowbit_dsp)]
mod dsp;
#[cfg(lowbit_dsp)]
mod dsp_dot;
#[cfg(lowbit_dsp)]
mod dsp_gather;
#[cfg(lowbit_dsp)]
mod dsp_pool;
#[cfg(lowbit_dsp)]
mod dsp_popcount;
#[cfg(lowbit_dsp)]
mod dsp_window;
mod gather;
mod pool;
mod popcount;
mod portable;
#[cfg(lowbit_v7m)]
mod v7m_bits;
#[cfg(lowbit_v7m)]
mod v7m_columns;
mod window;
mod words;

pub use bits::pack_bits;
pub use columns::{Fixed, PART, Selection, column_sums, fixed_dense, select, sum_columns};
pub use dot::{
    NIBBLE_WORDS_MAX, dot_1x4_s2, dot_1x4_s4, dot_1x4_s8, dot_2x1_s2, dot_2x1_s4, dot_2x1_s8, dot_3x1_s4, dot_4x1_s8,
    dot_rows_1x4_s2, dot_rows_1x4_s4, dot_rows_1x4_s8, dot_rows_4x1_s8, dot_rows_u4, widen_bytes,
};
pub use gather::GatherTable;
pub use pool::max_2x2_plane;
pub use popcount::{BitOp, popcount_rows};
pub use window::{Taps3x3, window_3x3_row};
pub use words::{bytes_mut, halves_mut, ints_mut, words, words_mut};

/// Whether the DSP instructions are real instructions on this target
/// (Armv7E-M), rather than portable definitions.
pub const DSP: bool = cfg!(lowbit_dsp);

/// Whether float operations are library calls on this target (no float
/// unit in the ABI), so integer emulations of float steps pay off.
pub const SOFT_FLOAT: bool = cfg!(lowbit_soft_float);

/// Selects the DSP body on Armv7E-M and the portable one elsewhere.
macro_rules! dsp_or_portable {
    ($name:ident($($arg:ident),*)) => {{
        #[cfg(lowbit_dsp)]
        {
            dsp::$name($($arg),*)
        }
        #[cfg(not(lowbit_dsp))]
        {
            portable::$name($($arg),*)
        }
    }};
}

/// `SMLAD`: `acc + a.lo·b.lo + a.hi·b.hi`, lanes as `i16`, wrapping.
#[inline(always)]
pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    dsp_or_portable!(smlad(a, b, acc))
}

/// `SMLABB`: `acc + a.lo·b.lo`, lanes as `i16`, wrapping.
#[inline(always)]
pub fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
    dsp_or_portable!(smlabb(a, b, acc))
}

/// `SMLABT`: `acc + a.lo·b.hi`, lanes as `i16`, wrapping.
#[inline(always)]
pub fn smlabt(a: u32, b: u32, acc: i32) -> i32 {
    dsp_or_portable!(smlabt(a, b, acc))
}

/// `SXTB16`: bytes 0 and 2 of `x` sign-extended into the lanes `(lo, hi)`.
#[inline(always)]
pub fn sxtb16(x: u32) -> u32 {
    dsp_or_portable!(sxtb16(x))
}

/// `SXTB16 ROR #8`: bytes 1 and 3 of `x` sign-extended into the lanes.
#[inline(always)]
pub fn sxtb16_ror8(x: u32) -> u32 {
    dsp_or_portable!(sxtb16_ror8(x))
}

/// `UXTB16`: bytes 0 and 2 of `x` zero-extended into the lanes.
#[inline(always)]
pub fn uxtb16(x: u32) -> u32 {
    dsp_or_portable!(uxtb16(x))
}

/// `UXTB16 ROR #8`: bytes 1 and 3 of `x` zero-extended into the lanes.
#[inline(always)]
pub fn uxtb16_ror8(x: u32) -> u32 {
    dsp_or_portable!(uxtb16_ror8(x))
}

/// `SSAT #8`: `x` clamped to `-128..=127`.
#[inline(always)]
pub fn ssat8(x: i32) -> i32 {
    dsp_or_portable!(ssat8(x))
}

/// `USAT #8`: `x` clamped to `0..=255`.
#[inline(always)]
pub fn usat8(x: i32) -> i32 {
    dsp_or_portable!(usat8(x))
}

/// `PKHBT`: the lanes `(lo.lo, hi.lo)`.
#[inline(always)]
pub fn pkhbt(lo: u32, hi: u32) -> u32 {
    dsp_or_portable!(pkhbt(lo, hi))
}

/// `PKHTB ... ASR #16`: the lanes `(lo.hi, hi.hi)`.
#[inline(always)]
pub fn pkhtb(hi: u32, lo: u32) -> u32 {
    dsp_or_portable!(pkhtb(hi, lo))
}

#[cfg(test)]
mod tests;

//! Sliding 3×3 windows (stride 1) along one row of a byte plane: the inner
//! loop of depthwise convolutions, as one `asm!` loop on Armv7E-M and
//! portably elsewhere. Both compute the same sums; the portable definition
//! is the specification.
//!
//! Plane bytes are read as `u8` (callers with `i8` data flip the sign bits
//! and correct the bias). The Armv7E-M loop computes two neighbouring
//! windows from one word per window row (`UXTB16` into lanes, `SMUAD`/
//! `SMLAD` for the outer taps and `SMLABB`/`SMLABT`-style products for the
//! middle one), reading one byte past the pair's last window.

#![cfg_attr(lowbit_dsp, allow(dead_code))]

/// The nine taps of a 3×3 window, packed into the lanes the Armv7E-M loop
/// multiplies with: `outer[r] = (w[r][0], w[r][2])` and
/// `middle = [(w[0][1], w[1][1]), (w[2][1], 0)]`, each lane an `i16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taps3x3 {
    pub(crate) outer: [u32; 3],
    pub(crate) middle: [u32; 2],
}

/// Two `i16` lanes.
#[inline(always)]
fn lanes(lo: i16, hi: i16) -> u32 {
    u32::from(lo as u16) | u32::from(hi as u16) << 16
}

impl Taps3x3 {
    /// Packs the taps `w` (row-major `w[r][c]`).
    pub fn new(w: &[[i16; 3]; 3]) -> Taps3x3 {
        Taps3x3 {
            outer: core::array::from_fn(|r| lanes(w[r][0], w[r][2])),
            middle: [lanes(w[0][1], w[1][1]), lanes(w[2][1], 0)],
        }
    }

    /// Tap `w[r][c]`.
    #[inline(always)]
    fn tap(&self, r: usize, c: usize) -> i32 {
        let lane = |x: u32, hi: bool| i32::from((if hi { x >> 16 } else { x }) as u16 as i16);
        match c {
            1 => lane(self.middle[r / 2], r == 1),
            _ => lane(self.outer[r], c == 2),
        }
    }
}

/// Bytes of `plane` that [`window_3x3_row`] may read for `n` windows with
/// rows `stride` bytes apart: up to the word at the last window's start
/// in the third row.
fn reach(stride: usize, n: usize) -> Option<usize> {
    stride.checked_mul(2)?.checked_add(n)?.checked_add(3)
}

/// Portable: the sum of window `j` is `Σ w[r][c] · plane[r·stride + j + c]`.
fn row_portable(plane: &[u8], stride: usize, taps: &Taps3x3, sums: &mut [i32]) {
    for (j, s) in sums.iter_mut().enumerate() {
        *s = (0..3)
            .flat_map(|r| (0..3).map(move |c| (r, c)))
            .fold(0i32, |acc, (r, c)| {
                let x = plane.get(r * stride + j + c).copied().unwrap_or_default();
                acc.wrapping_add(taps.tap(r, c) * i32::from(x))
            });
    }
}

/// Sums of `sums.len()` neighbouring 3×3 windows: window `j` has its
/// top-left byte at `plane[j]` and its rows `stride` bytes apart, and its
/// sum is `Σ w[r][c] · plane[r·stride + j + c]` (bytes as `u8`). Returns
/// `false`, computing nothing, unless `plane` holds
/// `2·stride + sums.len() + 3` bytes (the loop reads whole words).
#[inline]
pub fn window_3x3_row(plane: &[u8], stride: usize, taps: &Taps3x3, sums: &mut [i32]) -> bool {
    if reach(stride, sums.len()).is_none_or(|end| end > plane.len()) {
        return false;
    }
    #[cfg(lowbit_dsp)]
    {
        crate::dsp_window::window_3x3_row(plane, stride, taps, sums);
    }
    #[cfg(not(lowbit_dsp))]
    {
        row_portable(plane, stride, taps, sums);
    }
    true
}

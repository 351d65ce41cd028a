//! Bit counts of weight rows met with a packed input: the inner loop of
//! binary (XNOR) dense layers, as one `asm!` loop on Armv7E-M and portably
//! elsewhere. Both compute the same counts; the portable definition is the
//! specification.
//!
//! The Armv7E-M loop takes three words of a row at a time: a carry-save
//! adder turns them into `ones` and `twos`, whose 4-bit field counts
//! `ones + 2·twos` (at most 12 per field) are summed by `USADA8` twice, once
//! whole (`Σ lo + 16·Σ hi` over the bytes' two fields) and once with the
//! high fields masked off (`Σ lo`), so the count is `Σ lo + (whole - Σ lo)
//! / 16`. The one or two words left over take the same path without the
//! adder.
//!
//! Rows of eight words (256 inputs) take an unrolled loop of the same
//! arithmetic (two triples and a pair whose two field counts are added),
//! with no per-row bookkeeping beyond storing the count.

#![cfg_attr(lowbit_dsp, allow(dead_code))]

/// How a weight word meets an input word before its bits are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BitOp {
    /// `w XOR s`: the bits where a `±1` weight and a `±1` input differ.
    Xor,
    /// `w AND s`: the bits where both are set.
    And,
}

impl BitOp {
    /// `op(w, s)`.
    #[inline(always)]
    fn apply(self, w: u32, s: u32) -> u32 {
        match self {
            BitOp::Xor => w ^ s,
            BitOp::And => w & s,
        }
    }
}

/// Portable: `counts[r] = Σ_j popcount(op(w_r[j], s[j]))`.
fn rows_portable(w: &[u8], s: &[u32], op: BitOp, counts: &mut [u32]) {
    let words = w.as_chunks::<4>().0;
    for (r, c) in counts.iter_mut().enumerate() {
        let row = words.iter().skip(r * s.len()).take(s.len());
        *c = row
            .zip(s)
            .map(|(w, &s)| op.apply(u32::from_le_bytes(*w), s).count_ones())
            .sum();
    }
}

/// For each of the `counts.len()` rows of `s.len()` little-endian words
/// back to back from the start of `w`, the number of set bits of
/// `op(row word j, s[j])` over all `j`. Returns `false`, computing nothing,
/// unless `w` holds those rows.
#[inline]
pub fn popcount_rows(w: &[u8], s: &[u32], op: BitOp, counts: &mut [u32]) -> bool {
    let fits = counts
        .len()
        .checked_mul(s.len())
        .and_then(|n| n.checked_mul(4))
        .is_some_and(|n| n <= w.len());
    if !fits {
        return false;
    }
    #[cfg(lowbit_dsp)]
    {
        // `LDM` needs a word-aligned row start (rows are whole words apart).
        if w.as_ptr().addr().is_multiple_of(4) {
            crate::dsp_popcount::popcount_rows(w, s, op, counts);
        } else {
            rows_portable(w, s, op, counts);
        }
    }
    #[cfg(not(lowbit_dsp))]
    {
        rows_portable(w, s, op, counts);
    }
    true
}

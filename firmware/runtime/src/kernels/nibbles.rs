//! [`Kernel::Nibbles`](crate::Kernel::Nibbles): Dense layers with 4-bit
//! two's complement weights, stored by the builder as nibbles laid out for
//! `SMLAD`:
//!
//! - each row is cut into words of eight weights (the last one padded with
//!   weight 0); nibble `q` of a word (bits `4q` for `q < 4`, else
//!   `16 + 4(q - 4)`) holds the weight of input `8k + t` with
//!   `t = [0, 1, 4, 5, 2, 3, 6, 7][q]`, so `(W << (12 - 4j)) & 0xF000_F000`
//!   is the lane pair of inputs `(t_j, t_j + 2)` = `(0, 2) (1, 3) (4, 6)
//!   (5, 7)` for `j = 0..4`, each weight at the top of its 16-bit lane
//!   (`4096·w` read as `i16`): exactly the lanes the input widens into with
//!   `UXTB16`/`SXTB16` and their `ROR #8` forms, one `AND` per pair;
//! - the input features are cut into segments of 256 (32 words; the last
//!   may be shorter), whose rows are stored one segment after the other:
//!   256 products of a 4-bit weight and an 8-bit value sum to less than
//!   `2^19`, so a segment's sum scaled by 4096 fits an `i32`;
//! - within a segment, rows go in groups of four (the last group holds the
//!   one to three rows left), each group's words interleaved: word `k` of
//!   its rows one after the other, then word `k + 1` (see
//!   `lowbit_arch::dot_rows_u4`).
//!
//! Each segment adds its exact products to the sums (the scaled sum shifted
//! back by 12 bits), so no offset needs correcting. All sums wrap modulo
//! 2^32, so the result is the exact accumulator the builder bounded.

use super::{DenseArgs, Fault};
use crate::WeightFormat;
use lowbit_arch::NIBBLE_WORDS_MAX;

/// Weights per word.
const PER_WORD: usize = 8;
/// Rows per interleaved group.
#[cfg(feature = "std")]
const GROUP: usize = 4;
/// Output channels requantized together.
const ROWS: usize = 16;

/// Words per row of `inputs` weights.
fn words(inputs: usize) -> usize {
    inputs.div_ceil(PER_WORD)
}

/// The bit position of natural weight `t` (`0..8`) of a word.
#[cfg(feature = "std")]
fn shift(t: usize) -> u32 {
    /// The nibble of each natural position (the permutation is its own
    /// inverse).
    const NIBBLE: [u32; PER_WORD] = [0, 1, 4, 5, 2, 3, 6, 7];
    let q = NIBBLE[t % PER_WORD];
    if q < 4 { 4 * q } else { 16 + 4 * (q - 4) }
}

/// Bytes of the packed weights of `outputs` rows of `inputs` weights
/// (`None` if that overflows).
pub(crate) fn packed_len(inputs: usize, outputs: usize) -> Option<usize> {
    words(inputs).checked_mul(4)?.checked_mul(outputs)
}

/// Scratch bytes of a Dense over `inputs` features: the widened input,
/// one `u32` per two values, padded to whole words of weights, aligned.
pub(crate) fn scratch_len(inputs: usize) -> usize {
    16 * words(inputs) + 3
}

/// Byte offset of word `k` of row `r` among `outputs` rows of `words`
/// words: in segment `k / 32`, whose rows have `words_s` words, in the
/// group of four rows that holds `r`.
#[cfg(feature = "std")]
fn word_at(r: usize, k: usize, words: usize, outputs: usize) -> usize {
    let (segment, k) = (k / NIBBLE_WORDS_MAX, k % NIBBLE_WORDS_MAX);
    let before = segment * NIBBLE_WORDS_MAX;
    let words_s = NIBBLE_WORDS_MAX.min(words - before);
    let (g, i) = (r / GROUP, r % GROUP);
    let rows = GROUP.min(outputs - g * GROUP);
    4 * (before * outputs + g * GROUP * words_s + k * rows + i)
}

/// Packs `weights` (`[out][in]`, each in `-8..=7`) in the layout above.
#[cfg(feature = "std")]
pub(crate) fn pack(weights: &[i32], inputs: usize) -> std::vec::Vec<u8> {
    let outputs = weights.len().checked_div(inputs).unwrap_or(0);
    let words = words(inputs);
    let mut bytes = std::vec![0u8; packed_len(inputs, outputs).unwrap_or(0)];
    for (r, row) in weights.chunks(inputs.max(1)).enumerate() {
        for k in 0..words {
            let word = (0..PER_WORD).fold(0u32, |word, t| {
                let w = row.get(k * PER_WORD + t).copied().unwrap_or(0);
                word | (w as u32 & 0xf) << shift(t)
            });
            let at = word_at(r, k, words, outputs);
            bytes[at..at + 4].copy_from_slice(&word.to_le_bytes());
        }
    }
    bytes
}

/// The weights (`[out][in]`) of `bytes` packed by [`pack`], or `None` if
/// the length does not match.
#[cfg(feature = "std")]
pub(crate) fn unpack(bytes: &[u8], inputs: usize, outputs: usize) -> Option<std::vec::Vec<i32>> {
    if packed_len(inputs, outputs) != Some(bytes.len()) {
        return None;
    }
    let words = words(inputs);
    let weight = |r: usize, i: usize| {
        let at = word_at(r, i / PER_WORD, words, outputs);
        let word = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default());
        ((word >> shift(i % PER_WORD) & 0xf) as i32 ^ 8) - 8
    };
    Some(
        (0..outputs)
            .flat_map(|r| (0..inputs).map(move |i| weight(r, i)))
            .collect(),
    )
}

/// Runs a [`Kernel::Nibbles`](crate::Kernel::Nibbles) Dense (the loops are
/// `lowbit_arch`'s: `SMLAD` on Armv7E-M, their portable definitions
/// elsewhere).
#[inline(never)]
pub(crate) fn dense(a: &DenseArgs<'_>, x: &[u8], y: &mut [u8], scratch: &mut [u8]) -> Result<(), Fault> {
    if x.len() != a.inputs || y.len() != a.outputs || a.weights.format != WeightFormat::Signed(4) {
        return Err(Fault);
    }
    let words = words(a.inputs);
    let patch = lowbit_arch::words_mut(scratch).get_mut(..4 * words).ok_or(Fault)?;
    let signed = a.x.signed();
    // One pair of lane words per four inputs: the whole ones, then the
    // partial last one padded with zero bytes (value 0), then zeros.
    let (pairs, _) = patch.as_chunks_mut::<2>();
    let (whole, rest) = x.as_chunks::<4>();
    let (head, tail) = pairs.split_at_mut_checked(whole.len()).ok_or(Fault)?;
    lowbit_arch::widen_bytes(whole, signed, head);
    if let Some((first, zeros)) = tail.split_first_mut() {
        let mut last = [0u8; 4];
        last.get_mut(..rest.len()).ok_or(Fault)?.copy_from_slice(rest);
        lowbit_arch::widen_bytes(&[last], signed, core::slice::from_mut(first));
        zeros.fill([0; 2]);
    }
    let chunks = patch.as_chunks::<4>().0;
    let (head, later) = chunks.split_at(chunks.len().min(NIBBLE_WORDS_MAX));
    // Every entry is written before it is read, so any value does; one
    // whose bytes differ makes the fill a few stores, not a `memset` call.
    let mut all = [1; ROWS];
    for (group, out) in y.chunks_mut(ROWS).enumerate() {
        let first = group * ROWS;
        let sums = all.get_mut(..out.len()).ok_or(Fault)?;
        let w = a.weights.bytes.get(4 * first * head.len()..).ok_or(Fault)?;
        if !lowbit_arch::dot_rows_u4(w, head.len(), head, sums) {
            return Err(Fault);
        }
        // The other segments, after `before` words of every row.
        for (s, p) in later.chunks(NIBBLE_WORDS_MAX).enumerate() {
            let before = (s + 1) * NIBBLE_WORDS_MAX;
            let w = a
                .weights
                .bytes
                .get(4 * (before * a.outputs + first * p.len())..)
                .ok_or(Fault)?;
            let mut more = [1; ROWS];
            let more = more.get_mut(..out.len()).ok_or(Fault)?;
            if !lowbit_arch::dot_rows_u4(w, p.len(), p, more) {
                return Err(Fault);
            }
            sums.iter_mut().zip(more).for_each(|(s, m)| *s = s.wrapping_add(*m));
        }
        a.out.store_outputs(out, sums, a.bias, first)?;
    }
    Ok(())
}

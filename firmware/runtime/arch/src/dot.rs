//! Packed-lane dot products: the inner loops of lowbit's matrix kernels,
//! written once per weight width as one `asm!` loop on Armv7E-M (the
//! register allocator cannot keep these loops' 12 to 14 live values out of
//! the stack) and once portably. Both compute the same sums; the portable
//! definitions are the specification.
//!
//! Weights are 32-bit words of the file's plain bit stream, read from any
//! address (Armv7-M loads words from unaligned addresses; lowbit never sets
//! the `UNALIGN_TRP` trap). Patches are `u32` words of two `i16` lanes, in
//! the lane order in which a weight word unpacks:
//!
//! | width | weights per word | lane pairs of one word, in order | scale |
//! |-------|-----------------:|----------------------------------|------:|
//! | 8     | 4  | `(0,2) (1,3)`                                         | 1  |
//! | 4     | 8  | `(0,4) (2,6) (1,5) (3,7)`                             | 16 |
//! | 2     | 16 | `(f, 8+f) (4+f, 12+f)` for `f = 0, 1, 2, 3`           | 64 |
//!
//! (`SXTB16` of the word, then of the word rotated by 8, for 8 bits; for 4
//! and 2 bits the same of each field moved to the top of its byte, which
//! multiplies it by the scale). The sums returned are scaled that way.

#![cfg_attr(lowbit_dsp, allow(dead_code))]

use crate::portable::{smlad, sxtb16, sxtb16_ror8};

/// The fields of a weight word, each moved to the top of its bytes:
/// `[W]` (8 bits), `[(W << 4) & F0.., W & F0..]` (4 bits),
/// `[(W << 6) & C0.., (W << 4) & C0.., (W << 2) & C0.., W & C0..]` (2 bits).
#[inline(always)]
fn fields<const F: usize>(w: u32) -> [u32; F] {
    match F {
        2 => core::array::from_fn(|f| (w << (4 - 4 * f as u32)) & 0xf0f0_f0f0),
        4 => core::array::from_fn(|f| (w << (6 - 2 * f as u32)) & 0xc0c0_c0c0),
        _ => [w; F],
    }
}

/// Portable: one row of weights with `Q` patches interleaved pair by pair
/// (chunk `j` holds, for each field `f` of word `j` and each patch `q`, the
/// pair at `(f·Q + q)·2`).
#[inline(always)]
fn rows_by_patches<const F: usize, const Q: usize, const M: usize>(w: &[[u8; 4]], p: &[[u32; M]]) -> [i32; Q] {
    let mut a = [0i32; Q];
    for (w, p) in w.iter().zip(p) {
        for (f, field) in fields::<F>(u32::from_le_bytes(*w)).into_iter().enumerate() {
            let (e, o) = (sxtb16(field), sxtb16_ror8(field));
            for (q, a) in a.iter_mut().enumerate() {
                let i = (f * Q + q) * 2;
                *a = smlad(o, p[i + 1], smlad(e, p[i], *a));
            }
        }
    }
    a
}

/// Portable: `R` rows (`stride` bytes apart, `n` words each) with one patch.
#[inline(always)]
fn patch_by_rows<const F: usize, const R: usize, const M: usize>(w: &[u8], stride: usize, p: &[[u32; M]]) -> [i32; R] {
    core::array::from_fn(|r| {
        let row = w.get(r * stride..).unwrap_or_default().as_chunks::<4>().0;
        rows_by_patches::<F, 1, M>(row, p)[0]
    })
}

/// Whether `R` rows of `n` words, `stride` bytes apart, lie in `w`.
fn rows_fit(w: &[u8], stride: usize, rows: usize, n: usize) -> bool {
    let last = stride
        .checked_mul(rows - 1)
        .and_then(|s| s.checked_add(n.checked_mul(4)?));
    last.is_some_and(|end| end <= w.len())
}

/// 8-bit weights: one row (`n = min(w.len(), p.len())` words) with four
/// patches.
#[inline]
pub fn dot_1x4_s8(w: &[[u8; 4]], p: &[[u32; 8]]) -> [i32; 4] {
    #[cfg(lowbit_dsp)]
    {
        crate::dsp_dot::dot_1x4_s8(w, p)
    }
    #[cfg(not(lowbit_dsp))]
    {
        rows_by_patches::<1, 4, 8>(w, p)
    }
}

/// 4-bit weights: one row with four patches; sums ×16.
#[inline]
pub fn dot_1x4_s4(w: &[[u8; 4]], p: &[[u32; 16]]) -> [i32; 4] {
    #[cfg(lowbit_dsp)]
    {
        crate::dsp_dot::dot_1x4_s4(w, p)
    }
    #[cfg(not(lowbit_dsp))]
    {
        rows_by_patches::<2, 4, 16>(w, p)
    }
}

/// 2-bit weights: one row with four patches; sums ×64.
#[inline]
pub fn dot_1x4_s2(w: &[[u8; 4]], p: &[[u32; 32]]) -> [i32; 4] {
    #[cfg(lowbit_dsp)]
    {
        crate::dsp_dot::dot_1x4_s2(w, p)
    }
    #[cfg(not(lowbit_dsp))]
    {
        rows_by_patches::<4, 4, 32>(w, p)
    }
}

/// Whether `sums.len()` rows of `words` words each, back to back, lie in
/// `w`, and the patches hold `words` chunks.
fn block_fits(w: &[u8], words: usize, chunks: usize, rows: usize) -> bool {
    words <= chunks
        && rows
            .checked_mul(words)
            .and_then(|n| n.checked_mul(4))
            .is_some_and(|n| n <= w.len())
}

/// Portable: every row (back to back, `words` words each) with four
/// patches, into `sums`.
#[inline(always)]
fn rows_block<const F: usize, const M: usize>(w: &[u8], words: usize, p: &[[u32; M]], sums: &mut [[i32; 4]]) {
    for (r, s) in sums.iter_mut().enumerate() {
        let row = w.get(4 * words * r..4 * words * (r + 1)).unwrap_or_default();
        *s = rows_by_patches::<F, 4, M>(row.as_chunks::<4>().0, p);
    }
}

/// 8-bit weights: `sums.len()` rows of `words` words, back to back from the
/// start of `w`, each with four patches (`false` if they do not fit).
#[inline]
pub fn dot_rows_1x4_s8(w: &[u8], words: usize, p: &[[u32; 8]], sums: &mut [[i32; 4]]) -> bool {
    if !block_fits(w, words, p.len(), sums.len()) {
        return false;
    }
    #[cfg(lowbit_dsp)]
    {
        crate::dsp_dot::dot_rows_1x4_s8(w, words, p, sums);
    }
    #[cfg(not(lowbit_dsp))]
    {
        rows_block::<1, 8>(w, words, p, sums);
    }
    true
}

/// 4-bit weights: like [`dot_rows_1x4_s8`]; sums ×16.
#[inline]
pub fn dot_rows_1x4_s4(w: &[u8], words: usize, p: &[[u32; 16]], sums: &mut [[i32; 4]]) -> bool {
    if !block_fits(w, words, p.len(), sums.len()) {
        return false;
    }
    #[cfg(lowbit_dsp)]
    {
        crate::dsp_dot::dot_rows_1x4_s4(w, words, p, sums);
    }
    #[cfg(not(lowbit_dsp))]
    {
        rows_block::<2, 16>(w, words, p, sums);
    }
    true
}

/// 2-bit weights: like [`dot_rows_1x4_s8`]; sums ×64.
#[inline]
pub fn dot_rows_1x4_s2(w: &[u8], words: usize, p: &[[u32; 32]], sums: &mut [[i32; 4]]) -> bool {
    if !block_fits(w, words, p.len(), sums.len()) {
        return false;
    }
    #[cfg(lowbit_dsp)]
    {
        crate::dsp_dot::dot_rows_1x4_s2(w, words, p, sums);
    }
    #[cfg(not(lowbit_dsp))]
    {
        rows_block::<4, 32>(w, words, p, sums);
    }
    true
}

/// 8-bit weights: four rows starting `stride` bytes apart in `w`, each
/// `p.len()` words, with one patch; `None` if the rows do not fit in `w`.
#[inline]
pub fn dot_4x1_s8(w: &[u8], stride: usize, p: &[[u32; 2]]) -> Option<[i32; 4]> {
    if !rows_fit(w, stride, 4, p.len()) {
        return None;
    }
    #[cfg(lowbit_dsp)]
    {
        Some(crate::dsp_dot::dot_4x1_s8(w, stride, p))
    }
    #[cfg(not(lowbit_dsp))]
    {
        Some(patch_by_rows::<1, 4, 2>(w, stride, p))
    }
}

/// 8-bit weights: `4·sums.len()` rows starting `stride` bytes apart in `w`
/// (`stride` ≥ `4·p.len()`), each `p.len()` words, with one patch; the sums
/// of rows `4g..4g + 4` go to `sums[g]` (`false`, computing nothing, if the
/// rows do not fit in `w`).
#[inline]
pub fn dot_rows_4x1_s8(w: &[u8], stride: usize, p: &[[u32; 2]], sums: &mut [[i32; 4]]) -> bool {
    let rows = 4 * sums.len();
    if sums.is_empty() || stride < 4 * p.len() || !rows_fit(w, stride, rows, p.len()) {
        return false;
    }
    #[cfg(lowbit_dsp)]
    {
        crate::dsp_dot::dot_rows_4x1_s8(w, stride, p, sums);
    }
    #[cfg(not(lowbit_dsp))]
    {
        for (g, s) in sums.iter_mut().enumerate() {
            let rows = w.get(4 * g * stride..).unwrap_or_default();
            *s = patch_by_rows::<1, 4, 2>(rows, stride, p);
        }
    }
    true
}

/// 8-bit weights: two rows with one patch.
#[inline]
pub fn dot_2x1_s8(w: &[u8], stride: usize, p: &[[u32; 2]]) -> Option<[i32; 2]> {
    if !rows_fit(w, stride, 2, p.len()) {
        return None;
    }
    #[cfg(lowbit_dsp)]
    {
        Some(crate::dsp_dot::dot_2x1_s8(w, stride, p))
    }
    #[cfg(not(lowbit_dsp))]
    {
        Some(patch_by_rows::<1, 2, 2>(w, stride, p))
    }
}

/// 4-bit weights: two rows with one patch; sums ×16.
#[inline]
pub fn dot_2x1_s4(w: &[u8], stride: usize, p: &[[u32; 4]]) -> Option<[i32; 2]> {
    if !rows_fit(w, stride, 2, p.len()) {
        return None;
    }
    #[cfg(lowbit_dsp)]
    {
        Some(crate::dsp_dot::dot_2x1_s4(w, stride, p))
    }
    #[cfg(not(lowbit_dsp))]
    {
        Some(patch_by_rows::<2, 2, 4>(w, stride, p))
    }
}

/// 4-bit weights: three rows with one patch; sums ×16.
#[inline]
pub fn dot_3x1_s4(w: &[u8], stride: usize, p: &[[u32; 4]]) -> Option<[i32; 3]> {
    if !rows_fit(w, stride, 3, p.len()) {
        return None;
    }
    #[cfg(lowbit_dsp)]
    {
        Some(crate::dsp_dot::dot_3x1_s4(w, stride, p))
    }
    #[cfg(not(lowbit_dsp))]
    {
        Some(patch_by_rows::<2, 3, 4>(w, stride, p))
    }
}

/// 2-bit weights: two rows with one patch; sums ×64.
#[inline]
pub fn dot_2x1_s2(w: &[u8], stride: usize, p: &[[u32; 8]]) -> Option<[i32; 2]> {
    if !rows_fit(w, stride, 2, p.len()) {
        return None;
    }
    #[cfg(lowbit_dsp)]
    {
        Some(crate::dsp_dot::dot_2x1_s2(w, stride, p))
    }
    #[cfg(not(lowbit_dsp))]
    {
        Some(patch_by_rows::<4, 2, 8>(w, stride, p))
    }
}

/// Widens bytes into the 8-bit lane order: word `i` of `x` (bytes
/// `b0 b1 b2 b3`) becomes the pair `[(b0, b2), (b1, b3)]` of `patch`
/// (`SXTB16` and `SXTB16 ROR #8` if `signed`, else the `UXTB16` forms), for
/// the first `min(x.len(), patch.len())` words.
#[inline]
pub fn widen_bytes(x: &[[u8; 4]], signed: bool, patch: &mut [[u32; 2]]) {
    let n = x.len().min(patch.len());
    #[cfg(lowbit_dsp)]
    {
        // Four words per loop, the last one to three one by one.
        let quads = n / 4 * 4;
        let (head, tail) = (x.split_at(quads), patch.split_at_mut(quads));
        if signed {
            crate::dsp_dot::widen_quads_s8(head.0, tail.0);
        } else {
            crate::dsp_dot::widen_quads_u8(head.0, tail.0);
        }
        widen_words(head.1.get(..n - quads).unwrap_or_default(), signed, tail.1);
    }
    #[cfg(not(lowbit_dsp))]
    {
        widen_words(x.get(..n).unwrap_or_default(), signed, patch);
    }
}

/// [`widen_bytes`] one word at a time.
#[inline(always)]
fn widen_words(x: &[[u8; 4]], signed: bool, patch: &mut [[u32; 2]]) {
    for (d, b) in patch.iter_mut().zip(x) {
        let w = u32::from_le_bytes(*b);
        *d = if signed {
            [crate::sxtb16(w), crate::sxtb16_ror8(w)]
        } else {
            [crate::uxtb16(w), crate::uxtb16_ror8(w)]
        };
    }
}

/// The most words [`dot_rows_u4`] takes per row: 256 products of a 4-bit
/// weight and an 8-bit value sum to less than `2^19` in magnitude, so
/// their sum scaled by `4096` stays inside `i32`.
pub const NIBBLE_WORDS_MAX: usize = 32;

/// 4-bit two's complement weights against one patch of 8-bit values
/// (`i8` or `u8` in `i16` lanes, as [`widen_bytes`] makes them): the sum
/// of the products of each of `sums.len()` rows of `words` words (at most
/// [`NIBBLE_WORDS_MAX`]) into `sums`. The rows are stored in groups of
/// four rows (the last group holds the remaining one to three rows) whose
/// words are interleaved: word `k` of each row of a group, then word
/// `k + 1`, so a group of `R` rows takes `4·R·words` bytes, group after
/// group from the start of `w`. Word `k` of a row multiplies chunk `k` of
/// `p` lane word by lane word, in the order of the fields' lanes (`(n0,
/// n4)` with `p[k][0]`, `(n1, n5)` with `p[k][1]`, ...). On Armv7E-M each
/// field is moved to the top of its 16-bit lane, `(word << (12 - 4j)) &
/// 0xF000_F000`, a lane that `SMLAD` reads as `4096·n`, and a row's scaled
/// sum is shifted back by 12 bits once; the portable loops sign-extend the
/// fields instead. `false` if the rows or the patch are too short or a row
/// too long.
#[inline]
pub fn dot_rows_u4(w: &[u8], words: usize, p: &[[u32; 4]], sums: &mut [i32]) -> bool {
    let fits = sums
        .len()
        .checked_mul(words)
        .and_then(|n| n.checked_mul(4))
        .is_some_and(|n| n <= w.len());
    if !fits || p.len() < words || words > NIBBLE_WORDS_MAX {
        return false;
    }
    let p = p.get(..words).unwrap_or_default();
    let (groups, rest) = sums.as_chunks_mut::<4>();
    let (head, tail) = w.split_at(groups.len() * 16 * words);
    #[cfg(lowbit_dsp)]
    {
        if words == 0 {
            sums.fill(0);
            return true;
        }
        // The `LDRD`s of the weights need them word aligned (validated
        // blobs are; any other start takes the portable loops).
        if !w.as_ptr().addr().is_multiple_of(4) {
            for (g, sums) in groups.iter_mut().enumerate() {
                nibble_group(head.get(g * 16 * words..).unwrap_or_default(), p, sums);
            }
            nibble_group(tail, p, rest);
            return true;
        }
        if !groups.is_empty() {
            crate::dsp_dot::dot_rows_4x1_u4(head, p, groups);
        }
        let scaled = |s: &mut [i32], a: &[i32]| s.iter_mut().zip(a).for_each(|(s, a)| *s = a >> 12);
        match rest.len() {
            1 => scaled(rest, &[crate::dsp_dot::dot_1x1_u4(tail, p)]),
            2 => scaled(rest, &crate::dsp_dot::dot_2x1_u4(tail, p)),
            3 => scaled(rest, &crate::dsp_dot::dot_3x1_u4(tail, p)),
            _ => {}
        }
    }
    #[cfg(not(lowbit_dsp))]
    {
        for (g, sums) in groups.iter_mut().enumerate() {
            nibble_group(head.get(g * 16 * words..).unwrap_or_default(), p, sums);
        }
        nibble_group(tail, p, rest);
    }
    true
}

/// Portable: one interleaved group of `sums.len()` rows of nibble words,
/// the sum of each row's products: field `j` and `j + 4` of a word (each
/// sign-extended) against the low and high lane of `p[k][j]`.
fn nibble_group(w: &[u8], p: &[[u32; 4]], sums: &mut [i32]) {
    sums.fill(0);
    let rows = sums.len().max(1);
    for (chunk, words) in p.iter().zip(w.as_chunks::<4>().0.chunks(rows)) {
        for (s, word) in sums.iter_mut().zip(words) {
            let word = u32::from_le_bytes(*word);
            for (j, &x) in chunk.iter().enumerate() {
                let field = |bit: usize| ((word << (28 - bit)) as i32) >> 28;
                let (lo, hi) = (i32::from(x as u16 as i16), (x as i32) >> 16);
                *s = s.wrapping_add(field(4 * j) * lo).wrapping_add(field(16 + 4 * j) * hi);
            }
        }
    }
}

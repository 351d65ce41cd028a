//! [`Kernel::Binary`](crate::Kernel::Binary): Dense with bipolar (±1)
//! weights over an input of two levels, 32 products per word with
//! logic operations and a popcount.
//!
//! The input is packed once into bits `s` (one per feature, in the
//! scratch memory) and every weight row is a bit string `b` (`1` is `-1`).
//! With `n` features:
//!
//! | input values            | `s` is set for | `Σ w·x`                      |
//! |-------------------------|----------------|------------------------------|
//! | bipolar `{-1, +1}`      | `-1`           | `n - 2·popcount(b XOR s)`    |
//! | 1-bit unsigned `{0, 1}` | `1`            | `popcount(s) - 2·popcount(b AND s)` |
//! | 1-bit signed `{-1, 0}`  | `-1`           | `2·popcount(b AND s) - popcount(s)` |
//!
//! which is exactly the integer the reference kernel sums (the stored bias
//! already holds the zero-point correction).
//!
//! Layers of at least 32 outputs store their weights by columns (see
//! [`columns`]) and count the other way round: with `A_o` the number of
//! set input bits whose weight bit is set, `B_o` the weight bits set in
//! row `o` (stored after the columns) and `n1 = popcount(s)`,
//! `popcount(b XOR s) = n1 + B_o - 2·A_o` and `popcount(b AND s) = A_o`.
//! `lowbit_arch::select` lists the columns of the set bits of `s`, or of
//! the clear ones when more than half are set (their counts `C_o` give
//! `A_o = B_o - C_o`), so at most `n / 2` columns are added, 32 outputs
//! at a time, by `lowbit_arch::sum_columns`.

use super::{DenseArgs, Fault};
use crate::format::{TensorQuant, WeightFormat};
use lowbit_arch::BitOp;

/// The input values of a binary Dense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Levels {
    /// `-1` or `+1` (a bipolar tensor).
    Bipolar,
    /// `0` or `1` (1-bit unsigned).
    ZeroOne,
    /// `-1` or `0` (1-bit signed).
    MinusOneZero,
}

impl Levels {
    /// The levels of an input with quantization `q`, declared bipolar or
    /// not; `None` for more than two levels.
    pub(crate) fn of(q: &TensorQuant, bipolar: bool) -> Option<Levels> {
        match (bipolar, q.bits, q.signed) {
            (true, _, _) => Some(Levels::Bipolar),
            (false, 1, false) => Some(Levels::ZeroOne),
            (false, 1, true) => Some(Levels::MinusOneZero),
            _ => None,
        }
    }

    /// Where an input byte keeps its bit: the sign bit, or bit 0 for
    /// `ZeroOne`.
    #[inline]
    fn shift(self) -> u32 {
        match self {
            Levels::ZeroOne => 0,
            Levels::Bipolar | Levels::MinusOneZero => 7,
        }
    }
}

/// Whether an input with quantization `q` (declared bipolar or not) has two
/// levels.
#[cfg(feature = "std")]
pub(crate) fn two_level(q: &TensorQuant, bipolar: bool) -> bool {
    Levels::of(q, bipolar).is_some()
}

/// Scratch bytes for `inputs` packed bits, aligned to a word, and with
/// weights by columns ([`columns`]) 32 sums and the list of up to
/// `inputs / 2` columns (padded to a multiple of 4).
#[inline(always)]
pub(crate) fn scratch_len(inputs: usize, outputs: usize) -> usize {
    let list = if columns(inputs, outputs) {
        4 * (32 + (inputs / 2).next_multiple_of(4))
    } else {
        0
    };
    4 * inputs.div_ceil(32) + list + 3
}

/// Whether a layer of `inputs` features and `outputs` outputs stores its
/// weights by columns: at least 32 outputs (a whole word of lanes) and
/// row counts that fit an `i16`.
#[inline]
pub(crate) fn columns(inputs: usize, outputs: usize) -> bool {
    outputs >= 32 && (1..=i16::MAX as usize).contains(&inputs)
}

/// Where the count of row `o` is stored among the counts: each quad of
/// rows in the order 0, 2, 1, 3 (as `lowbit_arch::column_sums` reads them).
#[cfg(feature = "std")]
fn count_slot(o: usize) -> usize {
    4 * (o / 4) + [0, 2, 1, 3][o % 4]
}

/// The lane of output `o` (`o < 32`) in its column word: `8·(o % 4) + o / 4`,
/// so that `lowbit_arch::sum_columns` returns the counts as bytes in
/// output order.
#[cfg(feature = "std")]
fn lane(o: usize) -> usize {
    8 * (o % 4) + o / 4
}

/// Bytes of the weights of a Dense over `inputs` features with `outputs`
/// outputs: by columns, `⌈outputs / 32⌉` words for each input and for one
/// zero column, then an `i16` count per row and quad (`⌈outputs / 4⌉`
/// quads); otherwise the bit stream (`None` if that overflows).
pub(crate) fn packed_len(inputs: usize, outputs: usize) -> Option<usize> {
    if columns(inputs, outputs) {
        let column = 4 * outputs.div_ceil(32);
        column.checked_mul(inputs + 1)?.checked_add(8 * outputs.div_ceil(4))
    } else {
        WeightFormat::Bipolar.packed_len(inputs as u64 * outputs as u64)
    }
}

/// Packs bipolar `weights` (`[out][in]`, each -1 or +1) by columns: bit
/// [`lane`]`(o % 32)` of word `⌈out/32⌉ · i + o / 32` is set when the
/// weight of input `i` in row `o` is -1; the words of input `inputs` (the
/// zero column) are 0; then, per row, the number of its -1 weights as a
/// little-endian `i16`, at [`count_slot`] (0 for the rows past `outputs`
/// in the last quad).
#[cfg(feature = "std")]
pub(crate) fn pack_columns(weights: &[i32], inputs: usize) -> std::vec::Vec<u8> {
    let outputs = weights.len().checked_div(inputs).unwrap_or(0);
    let groups = outputs.div_ceil(32);
    let mut bytes = std::vec![0u8; packed_len(inputs, outputs).unwrap_or(0)];
    let counts_at = 4 * groups * (inputs + 1);
    for (o, row) in weights.chunks(inputs.max(1)).enumerate() {
        let lane = lane(o % 32);
        for (i, _) in row.iter().enumerate().filter(|(_, w)| **w < 0) {
            bytes[4 * (groups * i + o / 32) + lane / 8] |= 1 << (lane % 8);
        }
        let count = row.iter().filter(|w| **w < 0).count() as i16;
        let at = counts_at + 2 * count_slot(o);
        bytes[at..at + 2].copy_from_slice(&count.to_le_bytes());
    }
    bytes
}

/// The weights (`[out][in]`) of `bytes` packed by [`pack_columns`], or
/// `None` if the length, the zero column or a row count does not match.
#[cfg(feature = "std")]
pub(crate) fn unpack_columns(bytes: &[u8], inputs: usize, outputs: usize) -> Option<std::vec::Vec<i32>> {
    if packed_len(inputs, outputs) != Some(bytes.len()) {
        return None;
    }
    let groups = outputs.div_ceil(32);
    let counts_at = 4 * groups * (inputs + 1);
    if bytes[counts_at - 4 * groups..counts_at].iter().any(|&b| b != 0) {
        return None;
    }
    let mut weights = std::vec::Vec::with_capacity(inputs * outputs);
    for o in 0..outputs {
        let lane = lane(o % 32);
        let row = (0..inputs).map(|i| 1 - 2 * i32::from(bytes[4 * (groups * i + o / 32) + lane / 8] >> (lane % 8) & 1));
        let start = weights.len();
        weights.extend(row);
        let count = weights[start..].iter().filter(|w| **w < 0).count();
        let at = counts_at + 2 * count_slot(o);
        if usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]])) != count {
            return None;
        }
    }
    // The slots of the rows past `outputs` hold 0.
    let mut padding = (outputs..outputs.next_multiple_of(4)).map(|o| counts_at + 2 * count_slot(o));
    if padding.any(|at| bytes[at] != 0 || bytes[at + 1] != 0) {
        return None;
    }
    Some(weights)
}

/// Output channels whose counts are collected before they are
/// requantized together.
const ROWS: usize = 32;

/// Runs a [`Kernel::Binary`](crate::Kernel::Binary) Dense over an input of
/// the given levels on the fastest path of this target.
#[inline(never)]
pub(crate) fn dense(
    a: &DenseArgs<'_>,
    levels: Levels,
    x: &[u8],
    y: &mut [u8],
    scratch: &mut [u8],
) -> Result<(), Fault> {
    dense_with(a, levels, x, y, scratch, lowbit_arch::DSP)
}

/// [`dense`] with rows of whole words counted by
/// `lowbit_arch::popcount_rows` (`dsp`) or portably.
pub(crate) fn dense_with(
    a: &DenseArgs<'_>,
    levels: Levels,
    x: &[u8],
    y: &mut [u8],
    scratch: &mut [u8],
    dsp: bool,
) -> Result<(), Fault> {
    let n = a.inputs;
    if x.len() != n || y.len() != a.outputs || a.weights.format != WeightFormat::Bipolar {
        return Err(Fault);
    }
    if columns(n, a.outputs) {
        return dense_columns(a, levels, x, y, scratch);
    }
    let bits = lowbit_arch::words_mut(scratch).get_mut(..n.div_ceil(32)).ok_or(Fault)?;
    if !lowbit_arch::pack_bits(x, levels.shift(), bits) {
        return Err(Fault);
    }
    let bits: &[u32] = bits;
    // Only the 1-bit levels need the input's own count.
    let set = match levels {
        Levels::Bipolar => 0,
        Levels::ZeroOne | Levels::MinusOneZero => bits.iter().map(|w| w.count_ones()).sum::<u32>() as i32,
    };
    let op = match levels {
        Levels::Bipolar => BitOp::Xor,
        Levels::ZeroOne | Levels::MinusOneZero => BitOp::And,
    };
    let row_bytes = 4 * bits.len();
    // `Σ w·x = base + slope · count` (see the module docs).
    let (base, slope): (i32, i32) = match levels {
        Levels::Bipolar => (n as i32, -2),
        Levels::ZeroOne => (set, -2),
        Levels::MinusOneZero => (set.wrapping_neg(), 2),
    };
    // Cleared once: every group writes the entries it reads.
    let (mut counts, mut sums) = ([0u32; ROWS], [0i32; ROWS]);
    for (group, out) in y.chunks_mut(ROWS).enumerate() {
        let first = group * ROWS;
        let counts = counts.get_mut(..out.len()).ok_or(Fault)?;
        if !n.is_multiple_of(32) {
            for (o, c) in (first..).zip(counts.iter_mut()) {
                *c = count_bits(a.weights.bytes, o * n, n, bits, op)?;
            }
        } else if dsp {
            let rows = a.weights.bytes.get(first * row_bytes..).ok_or(Fault)?;
            if !lowbit_arch::popcount_rows(rows, bits, op, counts) {
                return Err(Fault);
            }
        } else {
            for (o, c) in (first..).zip(counts.iter_mut()) {
                let row = a.weights.bytes.get(o * row_bytes..(o + 1) * row_bytes).ok_or(Fault)?;
                *c = count_words(row.as_chunks::<4>().0, bits, op);
            }
        }
        let sums = sums.get_mut(..out.len()).ok_or(Fault)?;
        for (s, &c) in sums.iter_mut().zip(counts.iter()) {
            *s = base.wrapping_add(slope.wrapping_mul(c as i32));
        }
        a.out.store_outputs(out, sums, a.bias, first)?;
    }
    Ok(())
}

/// [`dense_with`] for weights stored by columns (see the module docs).
fn dense_columns(a: &DenseArgs<'_>, levels: Levels, x: &[u8], y: &mut [u8], scratch: &mut [u8]) -> Result<(), Fault> {
    let n = a.inputs;
    let groups = a.outputs.div_ceil(32);
    let (bits, rest) = lowbit_arch::words_mut(scratch)
        .split_at_mut_checked(n.div_ceil(32))
        .ok_or(Fault)?;
    let (sums, list) = rest.split_at_mut_checked(32).ok_or(Fault)?;
    let sums = lowbit_arch::ints_mut(sums);
    if !lowbit_arch::pack_bits(x, levels.shift(), bits) {
        return Err(Fault);
    }
    let sel = lowbit_arch::select(bits, n, groups, list).ok_or(Fault)?;
    let (cols, counts) = a.weights.bytes.split_at_checked(4 * groups * (n + 1)).ok_or(Fault)?;
    let set = sel.set() as i32;
    // `Σ w·x = base + with_b · B_o + with_x · X_o`, `X_o` the count of the
    // listed columns (`A_o`, or `C_o` when inverted; see the module docs).
    let (base, with_b, with_x): (i32, i16, i16) = match (levels, sel.inverted()) {
        (Levels::Bipolar, false) => (n as i32 - 2 * set, -2, 4),
        (Levels::Bipolar, true) => (n as i32 - 2 * set, 2, -4),
        (Levels::ZeroOne, false) => (set, 0, -2),
        (Levels::ZeroOne, true) => (set, -2, 2),
        (Levels::MinusOneZero, false) => (-set, 0, 2),
        (Levels::MinusOneZero, true) => (-set, 2, -2),
    };
    for ((g, out), counts) in y.chunks_mut(32).enumerate().zip(counts.chunks(64)) {
        let mut parts = sel.parts();
        let first = match parts.next() {
            Some(part) => column_bytes(cols, &part, g)?,
            None => [0; 8],
        };
        let sums = sums.get_mut(..out.len()).ok_or(Fault)?;
        if !lowbit_arch::column_sums(&first, counts, base, (with_b, with_x), sums) {
            return Err(Fault);
        }
        // Inputs past 480 (more than one part of columns).
        for part in parts {
            let bytes = column_bytes(cols, &part, g)?;
            for (o, s) in sums.iter_mut().enumerate() {
                *s += i32::from(with_x) * (bytes[o / 4] >> (8 * (o % 4)) & 0xff) as i32;
            }
        }
        a.out.store_outputs(out, sums, a.bias, 32 * g)?;
    }
    Ok(())
}

/// The counts of lanes of word `group` of the columns `part` lists, as
/// bytes in output order (byte `c` of word `q`: lane `8c + q`, output
/// `4q + c`).
#[inline(always)]
fn column_bytes(cols: &[u8], part: &lowbit_arch::Selection<'_>, group: usize) -> Result<[u32; 8], Fault> {
    let mut counts = [0u32; 8];
    if !lowbit_arch::sum_columns(cols, part, group, &mut counts) {
        return Err(Fault);
    }
    Ok(counts)
}

/// The count of a row of `n` bits starting at bit `start` of the stream
/// (any bit position), word by word.
fn count_bits(bytes: &[u8], start: usize, n: usize, bits: &[u32], op: BitOp) -> Result<u32, Fault> {
    let mut count = 0;
    for (j, &s) in bits.iter().enumerate() {
        let b = row_word(bytes, start + 32 * j, (n - 32 * j).min(32))?;
        count += match op {
            BitOp::Xor => (b ^ s).count_ones(),
            BitOp::And => (b & s).count_ones(),
        };
    }
    Ok(count)
}

/// `Σ_j popcount(op(row_j, bits_j))` over whole words: three words at a
/// time through a carry-save adder (`ones`, `twos`), whose 4-bit field
/// counts `ones + 2·twos` (at most 12) become byte counts (at most 24)
/// added into a byte accumulator, summed every two triples (at most 192).
#[inline(always)]
fn count_words(row: &[[u8; 4]], bits: &[u32], op: BitOp) -> u32 {
    let word = |b: &[u8; 4], s: &u32| {
        let b = u32::from_le_bytes(*b);
        match op {
            BitOp::Xor => b ^ s,
            BitOp::And => b & s,
        }
    };
    let ((row3, row1), (bits3, bits1)) = (row.as_chunks::<3>(), bits.as_chunks::<3>());
    let mut total = 0;
    for (rows, bits) in row3.chunks(2).zip(bits3.chunks(2)) {
        let mut bytes = 0u32;
        for ([r0, r1, r2], [s0, s1, s2]) in rows.iter().zip(bits) {
            let (a, b, c) = (word(r0, s0), word(r1, s1), word(r2, s2));
            let u = a ^ b;
            let (ones, twos) = (u ^ c, (a & b) | (u & c));
            bytes += byte_counts(nibble_counts(ones) + (nibble_counts(twos) << 1));
        }
        total += horizontal(bytes);
    }
    let rest = row1
        .iter()
        .zip(bits1)
        .fold(0, |n, (r, s)| n + nibble_counts(word(r, s)));
    total + horizontal(byte_counts(rest))
}

/// The popcount of each 4-bit field of `x`.
#[inline(always)]
fn nibble_counts(x: u32) -> u32 {
    let x = x - ((x >> 1) & 0x5555_5555);
    (x & 0x3333_3333) + ((x >> 2) & 0x3333_3333)
}

/// Each byte's two 4-bit fields added.
#[inline(always)]
fn byte_counts(x: u32) -> u32 {
    (x & 0x0f0f_0f0f) + ((x >> 4) & 0x0f0f_0f0f)
}

/// The sum of the four bytes of `x` (at most 255 in total).
#[inline(always)]
fn horizontal(x: u32) -> u32 {
    x.wrapping_mul(0x0101_0101) >> 24
}

/// `len` (1 to 32) bits of the stream `bytes` from bit `start`, low bits
/// first, the rest zero.
#[inline]
fn row_word(bytes: &[u8], start: usize, len: usize) -> Result<u32, Fault> {
    let (byte, shift) = (start / 8, start % 8);
    let needed = (shift + len).div_ceil(8);
    let src = bytes.get(byte..byte + needed).ok_or(Fault)?;
    let mut window = [0u8; 8];
    window[..needed].copy_from_slice(src);
    let word = (u64::from_le_bytes(window) >> shift) as u32;
    Ok(if len == 32 { word } else { word & ((1 << len) - 1) })
}

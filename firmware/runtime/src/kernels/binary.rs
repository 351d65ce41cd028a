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

    /// The bit of an input byte: set for `-1`, or for `1` with `ZeroOne`.
    #[inline]
    fn bit(self, b: u8) -> u32 {
        u32::from(b >> self.shift() & 1)
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

    /// The bits of 32 input bytes, the first byte's in bit 0: four bytes
    /// at a time, their bits gathered by one multiplication
    /// ([`gather4`]).
    #[inline]
    fn pack32(self, bytes: &[[u8; 4]; 8]) -> u32 {
        bytes.iter().enumerate().fold(0, |word, (i, b)| {
            word | gather4(u32::from_le_bytes(*b) >> self.shift()) << (4 * i)
        })
    }
}

/// Bits 0, 8, 16 and 24 of `w` as bits 0 to 3. With `m` those bits alone
/// (`b_k` at `8k`), `m · 0x1020_4080` (`2^28 + 2^21 + 2^14 + 2^7`) puts
/// `b_k` at bit `28 + k`; every other product `b_k · 2^(28 - 7j)` lands at
/// `28 + 8k - 7j`, at or above bit 36 for `k > j` (dropped) and at distinct
/// bits below 24 for `k < j` (no carries).
#[inline(always)]
fn gather4(w: u32) -> u32 {
    (w & 0x0101_0101).wrapping_mul(0x1020_4080) >> 28
}

/// Whether an input with quantization `q` (declared bipolar or not) has two
/// levels.
#[cfg(feature = "std")]
pub(crate) fn two_level(q: &TensorQuant, bipolar: bool) -> bool {
    Levels::of(q, bipolar).is_some()
}

/// Scratch bytes for `inputs` packed bits, aligned to a word.
pub(crate) fn scratch_len(inputs: usize) -> usize {
    4 * inputs.div_ceil(32) + 3
}

/// Output channels whose counts are collected before they are
/// requantized together.
const ROWS: usize = 16;

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
    let bits = lowbit_arch::words_mut(scratch).get_mut(..n.div_ceil(32)).ok_or(Fault)?;
    for (word, chunk) in bits.iter_mut().zip(x.chunks(32)) {
        *word = match chunk.as_chunks::<4>() {
            ([b0, b1, b2, b3, b4, b5, b6, b7], []) => levels.pack32(&[*b0, *b1, *b2, *b3, *b4, *b5, *b6, *b7]),
            _ => chunk.iter().rev().fold(0, |w, &b| w << 1 | levels.bit(b)),
        };
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
    for (group, out) in y.chunks_mut(ROWS).enumerate() {
        let first = group * ROWS;
        let mut counts = [0u32; ROWS];
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
        let mut sums = [0i32; ROWS];
        for (s, &c) in sums.iter_mut().zip(counts.iter()) {
            let twice = c.wrapping_mul(2) as i32;
            *s = match levels {
                Levels::Bipolar => (n as i32).wrapping_sub(twice),
                Levels::ZeroOne => set.wrapping_sub(twice),
                Levels::MinusOneZero => twice.wrapping_sub(set),
            };
        }
        a.out.store_outputs(out, &sums, a.bias, first)?;
    }
    Ok(())
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

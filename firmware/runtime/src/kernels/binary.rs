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
use crate::format::{TensorQuant, WeightFormat, i32_at};

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
        match self {
            Levels::ZeroOne => u32::from(b & 1),
            Levels::Bipolar | Levels::MinusOneZero => u32::from(b >> 7),
        }
    }
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

/// Runs a [`Kernel::Binary`](crate::Kernel::Binary) Dense over an input of
/// the given levels.
#[inline(never)]
pub(crate) fn dense(
    a: &DenseArgs<'_>,
    levels: Levels,
    x: &[u8],
    y: &mut [u8],
    scratch: &mut [u8],
) -> Result<(), Fault> {
    let n = a.inputs;
    if x.len() != n || y.len() != a.outputs || a.weights.format != WeightFormat::Bipolar {
        return Err(Fault);
    }
    let bits = lowbit_arch::words_mut(scratch).get_mut(..n.div_ceil(32)).ok_or(Fault)?;
    for (word, chunk) in bits.iter_mut().zip(x.chunks(32)) {
        *word = chunk.iter().rev().fold(0, |w, &b| w << 1 | levels.bit(b));
    }
    let set: u32 = bits.iter().map(|w| w.count_ones()).sum();
    for (o, out) in y.iter_mut().enumerate() {
        let start = o * n;
        let mut count = 0u32;
        for (j, &s) in bits.iter().enumerate() {
            let b = row_word(a.weights.bytes, start + 32 * j, (n - 32 * j).min(32))?;
            count += match levels {
                Levels::Bipolar => (b ^ s).count_ones(),
                Levels::ZeroOne | Levels::MinusOneZero => (b & s).count_ones(),
            };
        }
        let twice = count.wrapping_mul(2) as i32;
        let dot = match levels {
            Levels::Bipolar => (n as i32).wrapping_sub(twice),
            Levels::ZeroOne => (set as i32).wrapping_sub(twice),
            Levels::MinusOneZero => twice.wrapping_sub(set as i32),
        };
        let bias = i32_at(a.bias, o).ok_or(Fault)?;
        *out = a.out.store(bias.wrapping_add(dot), a.out.multiplier(o)?);
    }
    Ok(())
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

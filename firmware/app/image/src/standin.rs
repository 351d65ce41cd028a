//! The stand-in workload: a tiny integer "model" with `lowbit_runtime::Model`'s API.
//!
//! It computes a circular 1-D convolution of an int8 input with int8 taps
//! into int32 accumulators (kept in the arena), then requantizes each
//! accumulator with [`lowbit_runtime::arith::requantize`] to int8:
//!
//! `acc[i] = bias + Σ_j x[(i + j) mod n] · w[j]`,
//! `y[i] = requantize(acc[i], multiplier, zero_point, min, max)`.
//!
//! Blob layout (little-endian): magic `b"LBSI"`, then `u32` length `n`
//! (input = output length), `u32` arena size (at least `4n`), `f32`
//! multiplier, `i32` zero point, `i32` min, `i32` max, `i32` bias, `u32` tap
//! count `k`, then `k` int8 taps.

use lowbit_runtime::arith::requantize;

/// The four bytes a stand-in blob starts with.
pub const MAGIC: [u8; 4] = *b"LBSI";
/// Bytes before the taps.
const FIXED_LEN: usize = 36;

/// Why a stand-in model was refused or could not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The blob is shorter than its fields say.
    Truncated,
    /// The blob does not start with [`MAGIC`].
    BadMagic,
    /// A field is out of range.
    BadField(&'static str),
    /// The arena is smaller than the model needs.
    ArenaTooSmall {
        /// Bytes the model needs.
        needed: u32,
        /// Bytes provided.
        available: u32,
    },
    /// The input slice has the wrong length.
    InputLen {
        /// Bytes the model expects.
        expected: u32,
        /// Bytes provided.
        actual: u32,
    },
    /// The output slice has the wrong length.
    OutputLen {
        /// Bytes the model produces.
        expected: u32,
        /// Bytes provided.
        actual: u32,
    },
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Error::Truncated => f.write_str("model blob truncated"),
            Error::BadMagic => f.write_str("not a stand-in model (bad magic)"),
            Error::BadField(name) => write!(f, "model field `{name}` out of range"),
            Error::ArenaTooSmall { needed, available } => {
                write!(f, "arena too small: model needs {needed} bytes, {available} available")
            }
            Error::InputLen { expected, actual } => {
                write!(f, "input is {actual} bytes, model expects {expected}")
            }
            Error::OutputLen { expected, actual } => {
                write!(f, "output is {actual} bytes, model produces {expected}")
            }
        }
    }
}

/// The stand-in model's parameters; `to_bytes` writes the blob (host side).
#[derive(Debug, Clone, PartialEq)]
pub struct Params<'a> {
    /// Input and output length in elements (bytes).
    pub len: u32,
    /// Arena size the model states (at least `4 * len`).
    pub arena_size: u32,
    /// Requantization multiplier.
    pub multiplier: f32,
    /// Output zero point.
    pub zero_point: i32,
    /// Output minimum.
    pub min: i32,
    /// Output maximum.
    pub max: i32,
    /// Accumulator bias.
    pub bias: i32,
    /// Convolution taps (int8).
    pub taps: &'a [i8],
}

impl Params<'_> {
    /// Serializes the blob.
    #[cfg(feature = "std")]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_LEN + self.taps.len());
        out.extend_from_slice(&MAGIC);
        for word in [self.len, self.arena_size, self.multiplier.to_bits()] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        for word in [self.zero_point, self.min, self.max, self.bias] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&(self.taps.len() as u32).to_le_bytes());
        out.extend(self.taps.iter().map(|&t| t as u8));
        out
    }
}

/// A parsed stand-in model borrowing its blob.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StandIn<'a> {
    len: usize,
    arena_size: usize,
    multiplier: f32,
    zero_point: i32,
    min: i32,
    max: i32,
    bias: i32,
    taps: &'a [u8],
}

/// The little-endian word at `at` (the caller checked the bounds).
fn word(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

impl<'a> StandIn<'a> {
    /// Parses and validates a blob (as `Model::from_bytes` will).
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() < FIXED_LEN {
            return Err(Error::Truncated);
        }
        if bytes[..4] != MAGIC {
            return Err(Error::BadMagic);
        }
        let len = word(bytes, 4) as usize;
        let arena_size = word(bytes, 8) as usize;
        let tap_count = word(bytes, 32) as usize;
        let taps = bytes.get(FIXED_LEN..FIXED_LEN.saturating_add(tap_count)).ok_or(Error::Truncated)?;
        let model = StandIn {
            len,
            arena_size,
            multiplier: f32::from_bits(word(bytes, 12)),
            zero_point: word(bytes, 16) as i32,
            min: word(bytes, 20) as i32,
            max: word(bytes, 24) as i32,
            bias: word(bytes, 28) as i32,
            taps,
        };
        if len == 0 {
            return Err(Error::BadField("len"));
        }
        if arena_size < len.saturating_mul(4) {
            return Err(Error::BadField("arena_size"));
        }
        if !model.multiplier.is_finite() {
            return Err(Error::BadField("multiplier"));
        }
        if model.min > model.max || model.min < i8::MIN as i32 || model.max > i8::MAX as i32 {
            return Err(Error::BadField("min/max"));
        }
        Ok(model)
    }

    /// Arena bytes [`run`](Self::run) needs.
    pub fn arena_size(&self) -> usize {
        self.arena_size
    }

    /// Input length in bytes.
    pub fn input_len(&self) -> usize {
        self.len
    }

    /// Output length in bytes.
    pub fn output_len(&self) -> usize {
        self.len
    }

    /// Runs one inference.
    pub fn run(&self, arena: &mut [u8], input: &[u8], output: &mut [u8]) -> Result<(), Error> {
        let n = self.len;
        if arena.len() < self.arena_size {
            return Err(Error::ArenaTooSmall { needed: self.arena_size as u32, available: arena.len() as u32 });
        }
        if input.len() != n {
            return Err(Error::InputLen { expected: n as u32, actual: input.len() as u32 });
        }
        if output.len() != n {
            return Err(Error::OutputLen { expected: n as u32, actual: output.len() as u32 });
        }
        let accumulators = &mut arena[..4 * n];
        for (i, slot) in accumulators.chunks_exact_mut(4).enumerate() {
            let mut acc = self.bias;
            for (j, &tap) in self.taps.iter().enumerate() {
                let x = input[(i + j) % n] as i8 as i32;
                acc = acc.wrapping_add(x * tap as i8 as i32);
            }
            slot.copy_from_slice(&acc.to_le_bytes());
        }
        for (slot, y) in accumulators.chunks_exact(4).zip(output.iter_mut()) {
            let acc = i32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]]);
            *y = requantize(acc, self.multiplier, self.zero_point, self.min, self.max) as i8 as u8;
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    fn params(taps: &[i8]) -> Params<'_> {
        Params { len: 4, arena_size: 16, multiplier: 0.5, zero_point: 1, min: -128, max: 127, bias: 3, taps }
    }

    #[test]
    fn computes_circular_convolution_then_requantizes() {
        let blob = params(&[1, -2]).to_bytes();
        let model = StandIn::from_bytes(&blob).unwrap();
        let (mut arena, mut out) = ([0u8; 16], [0u8; 4]);
        let input = [10u8, 20, 30, (-40i8) as u8];
        model.run(&mut arena, &input, &mut out).unwrap();
        // acc = 3 + x[i] - 2 x[i+1]: -27, -37, 113, -57; y = rne(acc / 2) + 1.
        assert_eq!(out.map(|b| b as i8), [-13, -17, 57, -27]);
    }

    #[test]
    fn refuses_bad_blobs_and_small_arenas() {
        let blob = params(&[1]).to_bytes();
        assert_eq!(StandIn::from_bytes(&blob[..blob.len() - 1]), Err(Error::Truncated));
        let mut bad = blob.clone();
        bad[0] = b'X';
        assert_eq!(StandIn::from_bytes(&bad), Err(Error::BadMagic));
        let model = StandIn::from_bytes(&blob).unwrap();
        let err = model.run(&mut [0; 8], &[0; 4], &mut [0; 4]);
        assert_eq!(err, Err(Error::ArenaTooSmall { needed: 16, available: 8 }));
    }
}

//! Integer kernels, one file per op family.
//!
//! Activations are stored one value per byte in `C,H,W` order (ONNX order
//! without the batch axis); rank-2 tensors `C,L` are one-row images.
//!
//! `conv`, `dense` and `conv_transpose` are the portable reference loops
//! ([`Kernel::Reference`](crate::Kernel::Reference)); [`gemm`], [`direct`]
//! and [`binary`] are the faster families the builder picks per shape. The
//! fast families have a DSP body for Armv7E-M (`lowbit_arch::DSP`), used on
//! Cortex-M4/M7, and a portable one, used everywhere else (the host
//! included); both compute exactly the reference's integers, and the tests
//! run both on the host (the DSP instructions through `lowbit_arch`'s
//! portable definitions).
//!
//! Every kernel checks the lengths of the slices it is given against its
//! arguments on entry and reports a [`Fault`] instead of indexing out of
//! bounds; validation makes those faults unreachable for a model that passed
//! [`Model::from_bytes`](crate::Model::from_bytes).
//!
//! Accumulation uses wrapping `i32` arithmetic: the result is the exact sum
//! modulo 2^32, and the builder rejects layers whose exact accumulator could
//! leave the `i32` range, so for every model it writes the wrapping sum *is*
//! the exact sum. A hand-made blob can at worst produce different numbers,
//! never a panic.

mod add;
pub(crate) mod binary;
mod conv;
mod conv_transpose;
mod dense;
pub(crate) mod direct;
pub(crate) mod gemm;
mod geometry;
mod lut;
mod pool;

pub(crate) use add::{AddArgs, add};
pub(crate) use conv::conv;
pub(crate) use conv_transpose::conv_transpose;
pub(crate) use dense::{DenseArgs, dense};
pub(crate) use geometry::Geometry;
pub(crate) use lut::lut;
pub(crate) use pool::{AvgPoolArgs, MaxPoolArgs, avg_pool, max_pool};

use crate::format::{WeightFormat, f32_at};

/// A kernel was handed slices that do not match its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fault;

/// How a stored byte becomes an integer value: `i8` or `u8`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Values {
    flip: u8,
    offset: i32,
}

impl Values {
    /// Values stored as `i8` (`signed`) or `u8`.
    pub(crate) fn new(signed: bool) -> Values {
        if signed {
            Values {
                flip: 0x80,
                offset: 128,
            }
        } else {
            Values { flip: 0, offset: 0 }
        }
    }

    /// The value of a stored byte (branch-free: `(b ^ 0x80) - 128 == b as i8`).
    #[inline]
    pub(crate) fn get(self, b: u8) -> i32 {
        i32::from(b ^ self.flip) - self.offset
    }

    /// Whether bytes are read as `i8`.
    #[inline]
    pub(crate) fn signed(self) -> bool {
        self.flip != 0
    }
}

/// Packed weights of one layer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Weights<'a> {
    /// The bitstream.
    pub(crate) bytes: &'a [u8],
    /// Its format.
    pub(crate) format: WeightFormat,
}

/// The requantizing output stage: `clamp(rne(f32(acc) * m) + zero_point)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output<'a> {
    /// Little-endian `f32` multipliers: one, or one per channel (or per
    /// window size for average pooling).
    pub(crate) multipliers: &'a [u8],
    /// The output zero point.
    pub(crate) zero_point: i32,
    /// Smallest output value.
    pub(crate) lo: i32,
    /// Largest output value.
    pub(crate) hi: i32,
}

impl Output<'_> {
    /// Multiplier `index`, or the single multiplier if there is only one.
    #[inline]
    pub(crate) fn multiplier(&self, index: usize) -> Result<f32, Fault> {
        let index = if self.multipliers.len() == 4 { 0 } else { index };
        f32_at(self.multipliers, index).ok_or(Fault)
    }

    /// Requantizes an accumulator to the stored output byte: exactly
    /// [`arith::requantize`](crate::arith::requantize)`(acc, multiplier,
    /// zero_point, lo, hi)` for every finite multiplier (validation
    /// guarantees finite multipliers); see [`Channel::store`].
    #[inline]
    pub(crate) fn store(&self, acc: i32, multiplier: f32) -> u8 {
        self.channel(multiplier, 0).store(acc)
    }

    /// The output stage of one channel with multiplier `multiplier` and the
    /// bias `bias` (added to every sum).
    #[inline]
    pub(crate) fn channel(&self, multiplier: f32, bias: i32) -> Channel {
        Channel {
            multiplier,
            offset: self.zero_point.wrapping_sub(MAGIC_BITS),
            bias,
            clamp: self.clamp(),
        }
    }

    /// Requantizes the sums of the channels `first..first + out.len()` into
    /// `out`, each with its own bias (from `bias`, one little-endian `i32`
    /// per channel) and multiplier.
    #[inline(never)]
    pub(crate) fn store_outputs(&self, out: &mut [u8], sums: &[i32], bias: &[u8], first: usize) -> Result<(), Fault> {
        let stage = self.channel(0.0, 0);
        let range = first..first + out.len();
        let bias = bias.as_chunks::<4>().0.get(range.clone()).ok_or(Fault)?;
        let channel = |b: &[u8; 4], m: &[u8; 4]| Channel {
            bias: i32::from_le_bytes(*b),
            multiplier: f32::from_le_bytes(*m),
            ..stage
        };
        let outputs = out.iter_mut().zip(sums).zip(bias);
        match self.multipliers.as_chunks::<4>().0 {
            [m] => outputs.for_each(|((o, s), b)| *o = channel(b, m).store(*s)),
            all => {
                let each = all.get(range).ok_or(Fault)?;
                outputs
                    .zip(each)
                    .for_each(|(((o, s), b), m)| *o = channel(b, m).store(*s));
            }
        }
        Ok(())
    }

    /// How outputs are clamped.
    #[inline]
    fn clamp(&self) -> Clamp {
        match (self.lo, self.hi) {
            (-128, 127) => Clamp::I8,
            (0, 255) => Clamp::U8,
            (lo, hi) => Clamp::Range(lo, hi),
        }
    }
}

/// `1.5 · 2^23` and its bits (see [`Channel::store`]).
const MAGIC: f32 = 12_582_912.0;
const MAGIC_BITS: i32 = 0x4b40_0000;

/// How outputs are clamped.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Clamp {
    /// To the full `i8` range (one `SSAT`).
    I8,
    /// To the full `u8` range (one `USAT`).
    U8,
    /// To `[lo, hi]`.
    Range(i32, i32),
}

/// The requantization of one output channel: multiplier, zero point
/// (folded into the rounding offset), bias and clamp.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Channel {
    /// The multiplier.
    pub(crate) multiplier: f32,
    /// `zero_point - 0x4b40_0000`.
    offset: i32,
    /// The bias added to every sum.
    pub(crate) bias: i32,
    clamp: Clamp,
}

impl Channel {
    /// The stored byte of sum `sum` (the bias is added first): exactly
    /// `arith::requantize(sum + bias, m, zp, lo, hi)` for a finite `m`.
    ///
    /// `t = f32(acc) · m` is computed as `arith` does. Adding
    /// `1.5 · 2^23` puts any `|t| < 2^22` into the binade `[2^23, 2^24)`,
    /// whose spacing is 1, so the float addition itself rounds `t` to an
    /// integer, ties to even (the offset is even, so parity is kept), and the
    /// sum's bits minus those of `1.5 · 2^23`, plus the zero point, are
    /// `rne(t) + zp`. For larger `|t|` the bits still move with `t`: they
    /// exceed the offset's by at least `2^22` above it, fall at least `2^22`
    /// below it under it, and a negative sum saturates the addition at
    /// `i32::MIN`; `rne(t) + zp` is then beyond `±2^22 ∓ 255` as well. Either
    /// way the clamp to `[lo, hi]` (inside `[-128, 255]`) gives `arith`'s
    /// result.
    #[inline(always)]
    pub(crate) fn store(&self, sum: i32) -> u8 {
        let q = self.rounded(sum);
        (match self.clamp {
            Clamp::I8 => lowbit_arch::ssat8(q),
            Clamp::U8 => lowbit_arch::usat8(q),
            Clamp::Range(lo, hi) => q.max(lo).min(hi),
        }) as u8
    }

    /// `rne(f32(sum + bias) · m) + zp`, or a value beyond the clamp on the
    /// same side.
    #[inline(always)]
    fn rounded(&self, sum: i32) -> i32 {
        let t = sum.wrapping_add(self.bias) as f32 * self.multiplier;
        ((t + MAGIC).to_bits() as i32).saturating_add(self.offset)
    }

    /// [`Channel::store`] of every sum into `out` (the clamp chosen once).
    #[inline(never)]
    pub(crate) fn store_all(&self, sums: &[i32], out: &mut [u8]) {
        let pairs = out.iter_mut().zip(sums);
        match self.clamp {
            Clamp::I8 => pairs.for_each(|(o, &s)| *o = lowbit_arch::ssat8(self.rounded(s)) as u8),
            Clamp::U8 => pairs.for_each(|(o, &s)| *o = lowbit_arch::usat8(self.rounded(s)) as u8),
            Clamp::Range(lo, hi) => pairs.for_each(|(o, &s)| *o = self.rounded(s).max(lo).min(hi) as u8),
        }
    }

    /// [`Channel::store`] of four sums (the clamp chosen once).
    #[inline(always)]
    pub(crate) fn store4(&self, sums: [i32; 4]) -> [u8; 4] {
        let q = sums.map(|s| self.rounded(s));
        match self.clamp {
            Clamp::I8 => q.map(|v| lowbit_arch::ssat8(v) as u8),
            Clamp::U8 => q.map(|v| lowbit_arch::usat8(v) as u8),
            Clamp::Range(lo, hi) => q.map(|v| v.max(lo).min(hi) as u8),
        }
    }
}

/// The common arguments of the convolution kernels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvArgs<'a> {
    /// Input `[C, H, W]`.
    pub(crate) input: [usize; 3],
    /// Output `[C, H, W]`.
    pub(crate) output: [usize; 3],
    /// Window geometry.
    pub(crate) geometry: Geometry,
    /// Number of groups (divides both channel counts).
    pub(crate) groups: usize,
    /// Weights in `[O][I/groups][kH][kW]` order.
    pub(crate) weights: Weights<'a>,
    /// One little-endian `i32` bias per output channel.
    pub(crate) bias: &'a [u8],
    /// How input bytes are read.
    pub(crate) x: Values,
    /// The input zero point.
    pub(crate) x_zero: i32,
    /// Requantization.
    pub(crate) out: Output<'a>,
}

impl ConvArgs<'_> {
    /// Checks the slice lengths and returns `(in_channels_per_group,
    /// out_channels_per_group)`.
    fn check(&self, x: &[u8], y: &[u8]) -> Result<(usize, usize), Fault> {
        let [c, h, w] = self.input;
        let [oc, oh, ow] = self.output;
        let all_positive = [c, h, w, oc, oh, ow, self.groups].iter().all(|&d| d > 0);
        if !all_positive || x.len() != c * h * w || y.len() != oc * oh * ow {
            return Err(Fault);
        }
        if c % self.groups != 0 || oc % self.groups != 0 || !self.geometry.is_valid() {
            return Err(Fault);
        }
        Ok((c / self.groups, oc / self.groups))
    }
}

#[cfg(test)]
mod tests;

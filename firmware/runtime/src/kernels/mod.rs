//! Integer kernels, one file per op family.
//!
//! Activations are stored one value per byte in `C,H,W` order (ONNX order
//! without the batch axis); rank-2 tensors `C,L` are one-row images.
//!
//! `conv`, `dense` and `conv_transpose` are the portable reference loops
//! ([`Kernel::Reference`](crate::Kernel::Reference)); [`gemm`], [`nibbles`],
//! [`direct`] and [`binary`] are the faster families the builder picks per
//! shape. The
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
pub(crate) mod fixed;
pub(crate) mod gemm;
mod geometry;
mod lut;
pub(crate) mod nibbles;
pub(crate) mod pool;
mod requant;

pub(crate) use add::{AddArgs, add};
pub(crate) use conv::conv;
pub(crate) use conv_transpose::conv_transpose;
pub(crate) use dense::{DenseArgs, dense};
pub(crate) use geometry::Geometry;
pub(crate) use lut::lut;
pub(crate) use pool::{AvgPoolArgs, MaxPoolArgs, avg_pool, max_pool};
pub(crate) use requant::{Clamp, Output};

use crate::format::WeightFormat;

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
    pub(crate) const fn new(signed: bool) -> Values {
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

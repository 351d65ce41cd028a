//! [`Kernel::Gemm`](crate::Kernel::Gemm): blocked matrix products. A Conv
//! with one group multiplies its weight matrix `[O][C·kH·kW]` with the
//! `im2col` patches of its output pixels, four pixels at a time; a Dense
//! multiplies its weight matrix with one patch, its input.
//!
//! A patch holds the receptive field of an output pixel as `i16` values in
//! the weights' order `(c, ky, kx)`, padding read as the input zero point,
//! in the arena scratch memory the op record names. Patches are cut into
//! chunks of as many values as one 32-bit word of weights holds, and the
//! four pixels' chunks are interleaved ([`layout`]), so that each decoded
//! weight word serves four pixels with one pointer walking the patches:
//!
//! - [`lanes`] (Armv7E-M): `SMLAD` on packed 16-bit lanes, 8/4/2-bit
//!   weights unpacked in registers with `SXTB16`, each chunk permuted to
//!   the lane order the weights unpack in;
//! - [`scalar`] (every other target, and the weight formats without lanes):
//!   one multiply-accumulate per weight, weights decoded eight at a time.
//!
//! A Dense has a single patch, so its blocks are two to four output
//! channels.

mod lanes;
mod layout;
mod scalar;

use super::{ConvArgs, DenseArgs, Fault, Geometry, Output};
use crate::WeightFormat;
use lanes::Lanes;
use layout::Layout;

/// Output channels of a Dense whose sums are collected before they are
/// requantized together.
const ROWS: usize = 16;

/// Output pixels per Conv block.
const PIXELS: usize = 4;
/// The longest chunk (2-bit weights: 16 per word); patch buffers are sized
/// for it whatever path runs.
const MAX_CHUNK: usize = 16;

/// Halfwords of one pixel's chunked patch of `taps` values.
fn chunked(taps: usize) -> usize {
    taps.div_ceil(MAX_CHUNK) * MAX_CHUNK
}

/// Scratch bytes of a Conv with window `g` over a `[C, H, W]` input: the
/// block of [`PIXELS`] chunked patches, the gather table (a word per
/// slot), the padded input if there are pads, and 3 bytes to align the
/// words.
pub(crate) fn conv_scratch_len(g: &Geometry, [c, h, w]: [usize; 3]) -> usize {
    let slots = chunked(c * g.kernel[0] * g.kernel[1]);
    let padded = if g.pads == [0; 4] {
        0
    } else {
        c * (h + g.pads[0] + g.pads[2]) * (w + g.pads[1] + g.pads[3])
    };
    2 * PIXELS * slots + 4 * slots + padded.next_multiple_of(4) + 3
}

/// The weight path a Gemm layer takes, each a cargo feature of its own
/// (`weights-8`, `weights-4`, `weights-2`, `weights-other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WeightPath {
    /// 8-bit two's complement rows: the lane loops (Armv7E-M) or the
    /// whole-chunk decoder (elsewhere).
    W8,
    /// 4-bit two's complement rows, likewise.
    W4,
    /// 2-bit two's complement rows, likewise.
    W2,
    /// The bit-stream path, which takes every format and row length.
    Other,
}

impl WeightPath {
    /// The path of rows of `taps` weights of `format` on a target with
    /// (`dsp`) or without the DSP extension: the lanes need rows of whole
    /// lane words, the scalar decoders rows of whole chunks.
    pub(crate) fn of(format: WeightFormat, taps: usize, dsp: bool) -> WeightPath {
        let whole = if dsp {
            Lanes::of(format, taps).is_some()
        } else {
            taps.is_multiple_of(scalar::CHUNK)
        };
        match format {
            WeightFormat::Signed(8) if whole => WeightPath::W8,
            WeightFormat::Signed(4) if whole => WeightPath::W4,
            WeightFormat::Signed(2) if whole => WeightPath::W2,
            _ => WeightPath::Other,
        }
    }

    /// Whether this build has the path.
    fn built(self) -> bool {
        match self {
            WeightPath::W8 => cfg!(feature = "weights-8"),
            WeightPath::W4 => cfg!(feature = "weights-4"),
            WeightPath::W2 => cfg!(feature = "weights-2"),
            WeightPath::Other => cfg!(feature = "weights-other"),
        }
    }

    /// The path's cargo feature.
    #[cfg(feature = "std")]
    pub(crate) fn feature(self) -> &'static str {
        match self {
            WeightPath::W8 => "weights-8",
            WeightPath::W4 => "weights-4",
            WeightPath::W2 => "weights-2",
            WeightPath::Other => "weights-other",
        }
    }
}

/// Whether this build can run a Gemm layer with rows of `taps` weights of
/// `format` on this target: its own [`WeightPath`] or the bit-stream path,
/// which takes every layer.
pub(crate) fn built_in(format: WeightFormat, taps: usize) -> bool {
    cfg!(feature = "weights-other") || WeightPath::of(format, taps, lowbit_arch::DSP).built()
}

/// Scratch bytes of a Dense over `inputs` features: one chunked patch,
/// aligned.
pub(crate) fn dense_scratch_len(inputs: usize) -> usize {
    2 * chunked(inputs) + 3
}

/// The factor 4- and 2-bit weights are unpacked with on the DSP path (their
/// products are summed scaled and shifted back at the end), 1 otherwise.
#[cfg(feature = "std")]
pub(crate) fn lane_scale(format: WeightFormat) -> i64 {
    lanes::Lanes::of(format, 0).map_or(1, |l| 1 << l.shift())
}

/// The weight rows of a layer: rows of `taps` weights, bit-packed.
#[derive(Clone, Copy)]
pub(super) struct Rows<'a> {
    bytes: &'a [u8],
    format: WeightFormat,
    taps: usize,
}

/// Runs a [`Kernel::Gemm`](crate::Kernel::Gemm) Conv (one group) on the
/// fastest path of this target.
#[inline(never)]
pub(crate) fn conv(a: &ConvArgs<'_>, x: &[u8], y: &mut [u8], scratch: &mut [u8]) -> Result<(), Fault> {
    conv_with(a, x, y, scratch, lowbit_arch::DSP)
}

/// Runs a [`Kernel::Gemm`](crate::Kernel::Gemm) Dense on the fastest path
/// of this target.
#[inline(never)]
pub(crate) fn dense(a: &DenseArgs<'_>, x: &[u8], y: &mut [u8], scratch: &mut [u8]) -> Result<(), Fault> {
    dense_with(a, x, y, scratch, lowbit_arch::DSP)
}

/// [`conv`] on the DSP path (`dsp`, where the weight format has one) or
/// the scalar path.
pub(crate) fn conv_with(a: &ConvArgs<'_>, x: &[u8], y: &mut [u8], scratch: &mut [u8], dsp: bool) -> Result<(), Fault> {
    let (c, channels) = a.check(x, y)?;
    if a.groups != 1 {
        return Err(Fault);
    }
    let g = &a.geometry;
    let [kh, kw] = g.kernel;
    let rows = Rows {
        bytes: a.weights.bytes,
        format: a.weights.format,
        taps: c * kh * kw,
    };
    let layout = Layout::of(rows.format, rows.taps, dsp);
    let slots = chunked(rows.taps);
    let scratch = lowbit_arch::words_mut(scratch);
    let (block, rest) = scratch.split_at_mut_checked(PIXELS * slots / 2).ok_or(Fault)?;
    let (table, rest) = rest.split_at_mut_checked(slots).ok_or(Fault)?;
    let (input, [plane, padded]) = layout::padded(x, a.input, g, a.x_zero as u8, lowbit_arch::bytes_mut(rest))?;
    layout.table(g, c, [plane, padded], table)?;
    let table = lowbit_arch::GatherTable::new(table.get(..layout.slots(rows.taps)).ok_or(Fault)?);
    let [_, oh, ow] = a.output;
    let pixels = oh * ow;
    for first in (0..pixels).step_by(PIXELS) {
        let halves = lowbit_arch::halves_mut(block);
        for q in 0..PIXELS {
            let pixel = (first + q).min(pixels - 1);
            let origin = pixel / ow * g.stride[0] * padded + pixel % ow * g.stride[1];
            layout.gather(input, origin, &table, a.x, q, halves)?;
        }
        let mut outputs = Outputs {
            y: &mut *y,
            pixels,
            first,
            next: 0,
            bias: a.bias.as_chunks().0,
            multipliers: a.out.multipliers.as_chunks().0,
            out: a.out,
        };
        match layout.lanes() {
            Some(l) => l.pixels(rows, block, &mut outputs)?,
            None => {
                for oc in 0..channels {
                    outputs.store(&[scalar::pixels(rows, oc, block)?], 0)?;
                }
            }
        }
    }
    Ok(())
}

/// Where the sums of a block of pixels go: requantized into the pixels
/// `first..` (up to [`PIXELS`]) of each output channel's plane, channel
/// after channel from channel `next`.
struct Outputs<'a, 'y> {
    /// The output tensor (`[O][pixels]`).
    y: &'y mut [u8],
    pixels: usize,
    first: usize,
    /// The next channel.
    next: usize,
    /// The biases, one per channel.
    bias: &'a [[u8; 4]],
    /// The multipliers, one per channel or a single one.
    multipliers: &'a [[u8; 4]],
    /// The output stage.
    out: Output<'a>,
}

impl Outputs<'_, '_> {
    /// Stores the sums of the next output channels, each shifted right by
    /// `shift` (the lane scale).
    #[inline(never)]
    fn store(&mut self, sums: &[[i32; PIXELS]], shift: u32) -> Result<(), Fault> {
        let planes = self.y.chunks_exact_mut(self.pixels.max(1)).skip(self.next);
        let bias = self.bias.get(self.next..).ok_or(Fault)?;
        // One multiplier for every channel, or one per channel.
        let (each, single) = match self.multipliers {
            [m] => (&[][..], *m),
            all => (all.get(self.next..).unwrap_or_default(), [0; 4]),
        };
        let multipliers = each.iter().chain(core::iter::repeat(&single));
        let mut stored = 0;
        for (((s, plane), b), m) in sums.iter().zip(planes).zip(bias).zip(multipliers) {
            let channel = self.out.channel(f32::from_le_bytes(*m), i32::from_le_bytes(*b));
            let s = [s[0] >> shift, s[1] >> shift, s[2] >> shift, s[3] >> shift];
            match plane.get_mut(self.first..).ok_or(Fault)? {
                [o0, o1, o2, o3, ..] => [*o0, *o1, *o2, *o3] = channel.store4(s),
                out => {
                    for (o, v) in out.iter_mut().zip(channel.store4(s)) {
                        *o = v;
                    }
                }
            }
            stored += 1;
        }
        self.next += stored;
        if stored == sums.len() { Ok(()) } else { Err(Fault) }
    }
}

/// [`dense`] on the DSP path (`dsp`, where the weight format has one) or
/// the scalar path.
pub(crate) fn dense_with(
    a: &DenseArgs<'_>,
    x: &[u8],
    y: &mut [u8],
    scratch: &mut [u8],
    dsp: bool,
) -> Result<(), Fault> {
    if x.len() != a.inputs || y.len() != a.outputs || a.outputs == 0 {
        return Err(Fault);
    }
    let rows = Rows {
        bytes: a.weights.bytes,
        format: a.weights.format,
        taps: a.inputs,
    };
    let layout = Layout::of(rows.format, rows.taps, dsp);
    let patch = lowbit_arch::words_mut(scratch);
    layout.widen(x, a.x, patch)?;
    // 8-bit rows of whole words: four rows at a time, all quads of a group
    // in one call.
    let quads = cfg!(feature = "weights-8") && layout.lanes() == Some(Lanes::S8) && a.inputs.is_multiple_of(4);
    for (group, out) in y.chunks_mut(ROWS).enumerate() {
        let first = group * ROWS;
        let mut quad_sums = [[0i32; 4]; ROWS / 4];
        let mut done = 0;
        if quads && out.len() >= 4 {
            let full = out.len() / 4;
            let words = patch.get(..a.inputs / 2).ok_or(Fault)?.as_chunks::<2>().0;
            let w = a.weights.bytes.get(first * a.inputs..).ok_or(Fault)?;
            if !lowbit_arch::dot_rows_4x1_s8(w, a.inputs, words, quad_sums.get_mut(..full).ok_or(Fault)?) {
                return Err(Fault);
            }
            done = 4 * full;
        }
        let sums = quad_sums.as_flattened_mut();
        while done < out.len() {
            let (oc, left) = (first + done, out.len() - done);
            let (count, block) = match layout.lanes() {
                Some(l) => {
                    let count = l.block_rows(left).min(left);
                    (count, l.channels(rows, oc, count, patch)?)
                }
                None => {
                    let last = a.outputs - 1;
                    let quad = [oc, (oc + 1).min(last), (oc + 2).min(last), (oc + 3).min(last)];
                    (left.min(4), scalar::channels(rows, quad, patch)?)
                }
            };
            for (d, s) in sums.get_mut(done..done + count).ok_or(Fault)?.iter_mut().zip(block) {
                *d = s;
            }
            done += count;
        }
        a.out.store_outputs(out, sums, a.bias, first)?;
    }
    Ok(())
}

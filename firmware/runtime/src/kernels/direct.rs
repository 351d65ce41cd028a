//! [`Kernel::Direct`](crate::Kernel::Direct): convolutions whose groups each
//! read one input channel (depthwise, or a single input channel), as
//! sliding windows over a padded copy of the channel's plane.
//!
//! The plane is copied once per input channel into the scratch memory with
//! its padding written as the input zero point's byte, so the windows need
//! no bounds checks; each output channel's weights (at most [`MAX_TAPS`])
//! are decoded once into registers. 3×3 windows with stride and dilation 1
//! compute two neighbouring outputs at a time: on Armv7E-M from one word
//! per window row (`SXTB16`/`UXTB16` into lanes, `SMLAD` and `SMLABB`/
//! `SMLABT`), elsewhere with nine scalar products per output.

use super::geometry::pad_plane;
use super::{ConvArgs, Fault, Geometry, Output, Values};
use crate::format::{WeightStream, i32_at};
use lowbit_arch::{smlabb, smlabt, smlad, sxtb16, sxtb16_ror8, uxtb16, uxtb16_ror8};

/// The largest kernel area (`kH·kW`) the direct kernel takes.
pub(crate) const MAX_TAPS: usize = 25;

/// Bytes after the plane that the two-output 3×3 windows may read (the
/// word starting at the last output column of the last row).
const SLACK: usize = 4;

/// Whether the window fits the direct kernel.
pub(crate) fn applies(g: &Geometry) -> bool {
    g.kernel[0] * g.kernel[1] <= MAX_TAPS
}

/// Bytes of a padded `[H, W]` plane.
pub(crate) fn plane_len(g: &Geometry, [h, w]: [usize; 2]) -> usize {
    (h + g.pads[0] + g.pads[2]) * (w + g.pads[1] + g.pads[3])
}

/// Scratch bytes for a padded plane of `plane` bytes.
pub(crate) fn scratch_len(plane: usize) -> usize {
    plane + SLACK
}

/// Runs a [`Kernel::Direct`](crate::Kernel::Direct) Conv on the fastest
/// path of this target.
#[inline(never)]
pub(crate) fn conv(a: &ConvArgs<'_>, x: &[u8], y: &mut [u8], scratch: &mut [u8]) -> Result<(), Fault> {
    conv_with(a, x, y, scratch, lowbit_arch::DSP)
}

/// [`conv`] with the 3×3 windows on the DSP path (`dsp`) or the scalar one.
pub(crate) fn conv_with(a: &ConvArgs<'_>, x: &[u8], y: &mut [u8], scratch: &mut [u8], dsp: bool) -> Result<(), Fault> {
    let (per_group, out_per_group) = a.check(x, y)?;
    let g = &a.geometry;
    if per_group != 1 || !applies(g) {
        return Err(Fault);
    }
    let [_, h, w] = a.input;
    let [_, oh, ow] = a.output;
    let wp = w + g.pads[1] + g.pads[3];
    let plane = plane_len(g, [h, w]);
    let scratch = scratch.get_mut(..plane + SLACK).ok_or(Fault)?;
    let [kh, kw] = g.kernel;
    let taps = kh * kw;
    let fast = kh == 3 && kw == 3 && g.stride == [1, 1] && g.dilation == [1, 1];
    let window = Window {
        padded: wp,
        output: [oh, ow],
        geometry: g,
        values: a.x,
        out: &a.out,
    };
    for (group, input) in x.chunks_exact(h * w).enumerate() {
        pad_plane(input, [h, w], g, a.x_zero as u8, scratch);
        for oc in group * out_per_group..(group + 1) * out_per_group {
            let mut weights = [0i32; MAX_TAPS];
            let mut stream = WeightStream::at(a.weights.bytes, a.weights.format, oc * taps);
            for v in weights.iter_mut().take(taps) {
                *v = stream.next_weight();
            }
            let bias = i32_at(a.bias, oc).ok_or(Fault)?;
            let m = a.out.multiplier(oc)?;
            let y = y.get_mut(oc * oh * ow..(oc + 1) * oh * ow).ok_or(Fault)?;
            match (fast, dsp) {
                (true, true) => window.dsp_3x3(scratch, &weights, bias, m, y)?,
                (true, false) => window.scalar_3x3(scratch, &weights, bias, m, y)?,
                _ => window.generic(scratch, &weights, bias, m, y)?,
            }
        }
    }
    Ok(())
}

/// What every output channel's windows share.
struct Window<'a> {
    /// Width of the padded plane.
    padded: usize,
    /// `[OH, OW]`.
    output: [usize; 2],
    /// The window geometry.
    geometry: &'a Geometry,
    /// How input bytes are read.
    values: Values,
    /// Requantization.
    out: &'a Output<'a>,
}

impl Window<'_> {
    /// Any window: `kH·kW` scalar products per output.
    fn generic(&self, plane: &[u8], weights: &[i32; MAX_TAPS], bias: i32, m: f32, y: &mut [u8]) -> Result<(), Fault> {
        let g = self.geometry;
        let [kh, kw] = g.kernel;
        let [oh, ow] = self.output;
        for (oy, out_row) in y.chunks_exact_mut(ow).take(oh).enumerate() {
            for (ox, out) in out_row.iter_mut().enumerate() {
                let mut acc = bias;
                for ky in 0..kh {
                    let start = (oy * g.stride[0] + ky * g.dilation[0]) * self.padded + ox * g.stride[1];
                    for kx in 0..kw {
                        let b = *plane.get(start + kx * g.dilation[1]).ok_or(Fault)?;
                        acc = acc.wrapping_add(weights[ky * kw + kx].wrapping_mul(self.values.get(b)));
                    }
                }
                *out = self.out.store(acc, m);
            }
        }
        Ok(())
    }

    /// 3×3, stride 1, dilation 1: two outputs per step, nine products each.
    fn scalar_3x3(&self, plane: &[u8], w: &[i32; MAX_TAPS], bias: i32, m: f32, y: &mut [u8]) -> Result<(), Fault> {
        let [oh, ow] = self.output;
        let v = self.values;
        for (oy, out_row) in y.chunks_exact_mut(ow).take(oh).enumerate() {
            for (ox, out) in out_row.iter_mut().enumerate() {
                let mut acc = bias;
                for r in 0..3 {
                    let start = (oy + r) * self.padded + ox;
                    let [x0, x1, x2] = plane
                        .get(start..start + 3)
                        .ok_or(Fault)?
                        .try_into()
                        .map_err(|_| Fault)?;
                    acc = acc
                        .wrapping_add(w[3 * r].wrapping_mul(v.get(x0)))
                        .wrapping_add(w[3 * r + 1].wrapping_mul(v.get(x1)))
                        .wrapping_add(w[3 * r + 2].wrapping_mul(v.get(x2)));
                }
                *out = self.out.store(acc, m);
            }
        }
        Ok(())
    }

    /// 3×3, stride 1, dilation 1 on packed lanes: per window row, one word
    /// `x0..x3` of the plane feeds both outputs: `(w0, w2)·(x0, x2) + w1·x1`
    /// and `(w0, w2)·(x1, x3) + w1·x2`.
    fn dsp_3x3(&self, plane: &[u8], w: &[i32; MAX_TAPS], bias: i32, m: f32, y: &mut [u8]) -> Result<(), Fault> {
        let [oh, ow] = self.output;
        let lane = |v: i32| u32::from(v as u16);
        let outer: [u32; 3] = core::array::from_fn(|r| lane(w[3 * r]) | lane(w[3 * r + 2]) << 16);
        let middle: [u32; 3] = core::array::from_fn(|r| lane(w[3 * r + 1]));
        let signed = self.values.signed();
        for (oy, out_row) in y.chunks_exact_mut(ow).take(oh).enumerate() {
            for ox in (0..ow).step_by(2) {
                let (mut a0, mut a1) = (bias, bias);
                for r in 0..3 {
                    let start = (oy + r) * self.padded + ox;
                    let bytes: [u8; 4] = plane
                        .get(start..start + 4)
                        .ok_or(Fault)?
                        .try_into()
                        .map_err(|_| Fault)?;
                    let word = u32::from_le_bytes(bytes);
                    let (even, odd) = if signed {
                        (sxtb16(word), sxtb16_ror8(word))
                    } else {
                        (uxtb16(word), uxtb16_ror8(word))
                    };
                    a0 = smlabb(middle[r], odd, smlad(outer[r], even, a0));
                    a1 = smlabt(middle[r], even, smlad(outer[r], odd, a1));
                }
                for (out, acc) in out_row.iter_mut().skip(ox).take(2).zip([a0, a1]) {
                    *out = self.out.store(acc, m);
                }
            }
        }
        Ok(())
    }
}

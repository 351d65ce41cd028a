//! [`Kernel::Direct`](crate::Kernel::Direct): convolutions whose groups each
//! read one input channel (depthwise, or a single input channel), as
//! sliding windows over a padded copy of the channel's plane.
//!
//! The scratch memory holds one padded plane: its padding is filled with
//! the input zero point's byte once per call, and each input channel's
//! values are copied into its interior. `i8` inputs are copied with their
//! sign bits flipped (`b ^ 0x80`: the value plus 128), so every path reads
//! bytes as `u8`, and each channel's bias absorbs `-128 · Σ weights`. Each
//! output channel's weights (at most [`MAX_TAPS`]) are decoded once; the
//! sums of up to [`RUN`] consecutive outputs (across rows) are computed
//! into a buffer and then requantized together. 3×3 windows with stride and dilation 1 use
//! `lowbit_arch::window_3x3_row` on Armv7E-M (two windows from one word per
//! window row) and column partial sums elsewhere; other windows sum their
//! taps one by one.

use super::geometry::copy_interior;
use super::{ConvArgs, Fault, Geometry};
use crate::format::{WeightStream, i32_at};
use lowbit_arch::Taps3x3;

/// The largest kernel area (`kH·kW`) the direct kernel takes.
pub(crate) const MAX_TAPS: usize = 25;

/// Bytes after the plane that the 3×3 windows may read (the word starting
/// at the last output column of the last row).
const SLACK: usize = 4;

/// Consecutive outputs whose sums are computed before they are requantized.
const RUN: usize = 64;

/// Whether the window fits the direct kernel.
pub(crate) fn applies(g: &Geometry) -> bool {
    g.kernel[0] * g.kernel[1] <= MAX_TAPS
}

/// Whether the window takes the generic path (any window but 3×3 with
/// stride and dilation 1), which is in the build only with the cargo
/// feature `direct-generic`.
pub(crate) fn generic(g: &Geometry) -> bool {
    !(g.kernel == [3, 3] && g.stride == [1, 1] && g.dilation == [1, 1])
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
    let plane = scratch.get_mut(..plane_len(g, [h, w]) + SLACK).ok_or(Fault)?;
    let (flip, offset) = if a.x.signed() { (0x80, 128) } else { (0, 0) };
    plane.fill(a.x_zero as u8 ^ flip);
    let [kh, kw] = g.kernel;
    let taps = kh * kw;
    let shape = match (generic(g), dsp) {
        (false, true) => Shape::Dsp3x3,
        (false, false) => Shape::Scalar3x3,
        _ => Shape::Generic,
    };
    let window = Window {
        padded: w + g.pads[1] + g.pads[3],
        geometry: g,
    };
    let mut sums = [0i32; RUN];
    for (group, input) in x.chunks_exact(h * w).enumerate() {
        copy_interior(input, [h, w], g, flip, plane);
        for oc in group * out_per_group..(group + 1) * out_per_group {
            let mut weights = [0i32; MAX_TAPS];
            let mut stream = WeightStream::at(a.weights.bytes, a.weights.format, oc * taps);
            for v in weights.iter_mut().take(taps) {
                *v = stream.next_weight();
            }
            let total = weights.iter().fold(0i32, |t, &v| t.wrapping_add(v));
            let bias = i32_at(a.bias, oc).ok_or(Fault)?.wrapping_sub(offset * total);
            let channel = a.out.channel(a.out.multiplier(oc)?, bias);
            let taps3 = Taps3x3::new(&core::array::from_fn(|r| {
                core::array::from_fn(|c| weights[3 * r + c] as i16)
            }));
            let y = y.get_mut(oc * oh * ow..(oc + 1) * oh * ow).ok_or(Fault)?;
            let (mut filled, mut done) = (0, 0);
            for oy in 0..oh {
                let mut ox = 0;
                while ox < ow {
                    let len = (ow - ox).min(RUN - filled);
                    let run = sums.get_mut(filled..filled + len).ok_or(Fault)?;
                    match shape {
                        Shape::Dsp3x3 => window.dsp_3x3(plane, &taps3, [oy, ox], run)?,
                        Shape::Scalar3x3 => window.scalar_3x3(plane, &weights, [oy, ox], run)?,
                        Shape::Generic if cfg!(feature = "direct-generic") => {
                            window.generic(plane, &weights, [oy, ox], run)?
                        }
                        // Left out of this build (see `generic`).
                        Shape::Generic => return Err(Fault),
                    }
                    (filled, ox) = (filled + len, ox + len);
                    if filled == RUN || (oy + 1 == oh && ox == ow) {
                        let out = y.get_mut(done..done + filled).ok_or(Fault)?;
                        channel.store_all(sums.get(..filled).ok_or(Fault)?, out);
                        (done, filled) = (done + filled, 0);
                    }
                }
            }
        }
    }
    Ok(())
}

/// How a channel's windows are summed.
#[derive(Clone, Copy)]
enum Shape {
    /// 3×3, stride and dilation 1, through `lowbit_arch::window_3x3_row`.
    Dsp3x3,
    /// 3×3, stride and dilation 1, portably.
    Scalar3x3,
    /// Any window.
    Generic,
}

/// The padded plane's width and the window geometry.
struct Window<'a> {
    /// Width of the padded plane.
    padded: usize,
    /// The window geometry.
    geometry: &'a Geometry,
}

impl Window<'_> {
    /// Any window: the sums of the outputs `[oy, ox..]`, `kH·kW` products
    /// each.
    fn generic(&self, plane: &[u8], w: &[i32; MAX_TAPS], [oy, ox]: [usize; 2], sums: &mut [i32]) -> Result<(), Fault> {
        let g = self.geometry;
        let [kh, kw] = g.kernel;
        for (x, s) in (ox..).zip(sums.iter_mut()) {
            let mut acc = 0i32;
            for ky in 0..kh {
                let start = (oy * g.stride[0] + ky * g.dilation[0]) * self.padded + x * g.stride[1];
                for kx in 0..kw {
                    let b = *plane.get(start + kx * g.dilation[1]).ok_or(Fault)?;
                    acc = acc.wrapping_add(w[ky * kw + kx].wrapping_mul(i32::from(b)));
                }
            }
            *s = acc;
        }
        Ok(())
    }

    /// 3×3, stride 1, dilation 1, on packed lanes: the sums of the outputs
    /// `[oy, ox..]`.
    fn dsp_3x3(&self, plane: &[u8], taps: &Taps3x3, [oy, ox]: [usize; 2], sums: &mut [i32]) -> Result<(), Fault> {
        let start = plane.get(oy * self.padded + ox..).ok_or(Fault)?;
        lowbit_arch::window_3x3_row(start, self.padded, taps, sums)
            .then_some(())
            .ok_or(Fault)
    }

    /// 3×3, stride 1, dilation 1, portably: the sums of the outputs
    /// `[oy, ox..]` from column partial sums. Each input column `c` gives
    /// its products with the three kernel columns, which finish output
    /// `c - 2`, continue output `c - 1` and start output `c`.
    fn scalar_3x3(
        &self,
        plane: &[u8],
        w: &[i32; MAX_TAPS],
        [oy, ox]: [usize; 2],
        sums: &mut [i32],
    ) -> Result<(), Fault> {
        let span = sums.len() + 2;
        let row = |r: usize| {
            let start = (oy + r) * self.padded + ox;
            plane.get(start..start + span).ok_or(Fault)
        };
        let (r0, r1, r2) = (row(0)?, row(1)?, row(2)?);
        let product = |k: usize, (a, b, c): (u8, u8, u8)| {
            w[k].wrapping_mul(i32::from(a))
                .wrapping_add(w[3 + k].wrapping_mul(i32::from(b)))
                .wrapping_add(w[6 + k].wrapping_mul(i32::from(c)))
        };
        let mut columns = r0.iter().zip(r1).zip(r2).map(|((&a, &b), &c)| (a, b, c));
        let (Some(c0), Some(c1)) = (columns.next(), columns.next()) else {
            return Err(Fault);
        };
        let (mut first, mut second) = (product(0, c0).wrapping_add(product(1, c1)), product(0, c1));
        for (s, c) in sums.iter_mut().zip(columns) {
            *s = first.wrapping_add(product(2, c));
            first = second.wrapping_add(product(1, c));
            second = product(0, c);
        }
        Ok(())
    }
}

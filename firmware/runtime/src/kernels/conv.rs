//! Convolution (1d and 2d, groups, dilation, pads).

use super::geometry::{at, row};
use super::{ConvArgs, Fault};
use crate::format::{WeightStream, i32_at};

/// `y = requant(bias' + Σ w · x)` per output pixel, with padding read as the
/// input zero point.
///
/// The builder folds the zero-point correction into the bias
/// (`bias' = bias - x_zero · Σ w` per output channel), so the inner loop is a
/// plain multiply-accumulate; padded taps contribute `w · x_zero`, which
/// makes their `(x - x_zero)` exactly 0 as in ONNX `QLinearConv`.
#[inline(never)]
pub(crate) fn conv(a: &ConvArgs<'_>, x: &[u8], y: &mut [u8]) -> Result<(), Fault> {
    let (in_per_group, out_per_group) = a.check(x, y)?;
    let [_, h, w] = a.input;
    let [_, oh, ow] = a.output;
    let g = &a.geometry;
    let [kh, kw] = g.kernel;
    let taps = in_per_group * kh * kw;
    let group_len = in_per_group * h * w;
    for (oc, out_plane) in y.chunks_exact_mut(oh * ow).enumerate() {
        let group = oc / out_per_group;
        let group_in = x.get(group * group_len..(group + 1) * group_len).ok_or(Fault)?;
        let bias = i32_at(a.bias, oc).ok_or(Fault)?;
        let m = a.out.multiplier(oc)?;
        for (oy, out_row) in out_plane.chunks_exact_mut(ow).enumerate() {
            let iy0 = (oy * g.stride[0]) as isize - g.pads[0] as isize;
            for (ox, out) in out_row.iter_mut().enumerate() {
                let ix0 = (ox * g.stride[1]) as isize - g.pads[1] as isize;
                let mut weights = WeightStream::at(a.weights.bytes, a.weights.format, oc * taps);
                let mut acc = bias;
                for plane in group_in.chunks_exact(h * w) {
                    for ky in 0..kh {
                        match row(plane, h, w, iy0 + (ky * g.dilation[0]) as isize) {
                            Some(line) => {
                                for kx in 0..kw {
                                    let tap = at(line, ix0 + (kx * g.dilation[1]) as isize);
                                    let v = tap.map_or(a.x_zero, |&b| a.x.get(b));
                                    acc = acc.wrapping_add(weights.next_weight().wrapping_mul(v));
                                }
                            }
                            None => {
                                for _ in 0..kw {
                                    acc = acc.wrapping_add(weights.next_weight().wrapping_mul(a.x_zero));
                                }
                            }
                        }
                    }
                }
                *out = a.out.store(acc, m);
            }
        }
    }
    Ok(())
}

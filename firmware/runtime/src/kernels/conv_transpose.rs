//! Transposed convolution (1d and 2d, groups, dilation, pads, output padding).

use super::geometry::{at, row};
use super::{ConvArgs, Fault};
use crate::format::{WeightStream, i32_at};

/// The input index that kernel tap `k` maps to output index `o`, if any:
/// `o = i · stride - pad + k · dilation` solved for `i`.
#[inline]
fn source(o: usize, pad: usize, k: usize, dilation: usize, stride: usize) -> isize {
    let t = o as isize + pad as isize - (k * dilation) as isize;
    if t >= 0 && t % stride as isize == 0 {
        t / stride as isize
    } else {
        -1
    }
}

/// `y = requant(bias + Σ w · (x - x_zero))`, gathered per output pixel.
///
/// Weights are stored `[O][I/groups][kH][kW]` (the builder reorders ONNX's
/// `[I][O/groups][kH][kW]`). Which taps reach an output pixel depends on its
/// position modulo the stride, so the zero-point correction is applied per
/// tap rather than folded into the bias.
#[inline(never)]
pub(crate) fn conv_transpose(a: &ConvArgs<'_>, x: &[u8], y: &mut [u8]) -> Result<(), Fault> {
    let (in_per_group, out_per_group) = a.check(x, y)?;
    let [_, h, w] = a.input;
    let [_, oh, ow] = a.output;
    let g = &a.geometry;
    let [kh, kw] = g.kernel;
    let group_len = in_per_group * h * w;
    for (oc, out_plane) in y.chunks_exact_mut(oh * ow).enumerate() {
        let group = oc / out_per_group;
        let group_in = x.get(group * group_len..(group + 1) * group_len).ok_or(Fault)?;
        let bias = i32_at(a.bias, oc).ok_or(Fault)?;
        let m = a.out.multiplier(oc)?;
        for (oy, out_row) in out_plane.chunks_exact_mut(ow).enumerate() {
            for (ox, out) in out_row.iter_mut().enumerate() {
                let mut acc = bias;
                for (ic, plane) in group_in.chunks_exact(h * w).enumerate() {
                    for ky in 0..kh {
                        let iy = source(oy, g.pads[0], ky, g.dilation[0], g.stride[0]);
                        let Some(line) = row(plane, h, w, iy) else { continue };
                        let first = ((oc * in_per_group + ic) * kh + ky) * kw;
                        let mut weights = WeightStream::at(a.weights.bytes, a.weights.format, first);
                        for kx in 0..kw {
                            let weight = weights.next_weight();
                            let ix = source(ox, g.pads[1], kx, g.dilation[1], g.stride[1]);
                            if let Some(&b) = at(line, ix) {
                                acc = acc.wrapping_add(weight.wrapping_mul(a.x.get(b).wrapping_sub(a.x_zero)));
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

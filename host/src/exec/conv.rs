//! Convolutions: float `Conv`/`ConvTranspose` and integer `QLinearConv`.

use super::{floats, int_tensor, ints};
use crate::ir::{ConvAttrs, ConvTransposeAttrs, DType, QuantParams, Tensor, shape};
use lowbit_runtime::arith;
use std::ops::{Add, Mul};

/// Quantization of the operands and result of an integer operator.
pub(super) struct IntQuant<'a> {
    /// Input (activation) parameters.
    pub x: &'a QuantParams,
    /// Weight parameters (per output channel along axis 0, or per tensor).
    pub w: &'a QuantParams,
    /// Output parameters.
    pub y: &'a QuantParams,
}

/// A 1-D or 2-D convolution seen as 2-D (1-D has height 1).
struct Geometry {
    n: usize,
    ci: usize,
    ih: usize,
    iw: usize,
    co: usize,
    oh: usize,
    ow: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
    pt: usize,
    pl: usize,
    dh: usize,
    dw: usize,
    groups: usize,
}

impl Geometry {
    fn new(a: &ConvAttrs, x: &[usize], out: &[usize]) -> Geometry {
        let two = a.kernel.len() == 2;
        let pick =
            |v: &[usize], i2: usize, i1: usize, d: usize| if two { v[i2] } else { v.get(i1).copied().unwrap_or(d) };
        Geometry {
            n: x[0],
            ci: x[1],
            ih: if two { x[2] } else { 1 },
            iw: *x.last().unwrap_or(&1),
            co: out[1],
            oh: if two { out[2] } else { 1 },
            ow: *out.last().unwrap_or(&1),
            kh: if two { a.kernel[0] } else { 1 },
            kw: *a.kernel.last().unwrap_or(&1),
            sh: if two { a.strides[0] } else { 1 },
            sw: *a.strides.last().unwrap_or(&1),
            pt: if two { a.pads[0] } else { 0 },
            pl: pick(&a.pads, 1, 0, 0),
            dh: if two { a.dilations[0] } else { 1 },
            dw: *a.dilations.last().unwrap_or(&1),
            groups: a.group,
        }
    }

    /// The input position read by output `o` at kernel tap `k` on one axis.
    fn tap(o: usize, k: usize, stride: usize, dilation: usize, pad: usize, size: usize) -> Option<usize> {
        (o * stride + k * dilation).checked_sub(pad).filter(|&i| i < size)
    }
}

/// Sums `x · w` over every output position; `x` and `w` are already
/// centred (zero points subtracted), so padding contributes nothing.
fn accumulate<T: Copy + Default + Add<Output = T> + Mul<Output = T>>(g: &Geometry, x: &[T], w: &[T]) -> Vec<T> {
    let cig = g.ci / g.groups;
    let cog = g.co / g.groups;
    let mut out = vec![T::default(); g.n * g.co * g.oh * g.ow];
    let mut o = 0;
    for n in 0..g.n {
        for oc in 0..g.co {
            let group = oc / cog;
            for oy in 0..g.oh {
                for ox in 0..g.ow {
                    let mut acc = T::default();
                    for icl in 0..cig {
                        let ic = group * cig + icl;
                        let xbase = (n * g.ci + ic) * g.ih;
                        let wbase = (oc * cig + icl) * g.kh;
                        for ky in 0..g.kh {
                            let Some(iy) = Geometry::tap(oy, ky, g.sh, g.dh, g.pt, g.ih) else { continue };
                            for kx in 0..g.kw {
                                let Some(ix) = Geometry::tap(ox, kx, g.sw, g.dw, g.pl, g.iw) else { continue };
                                acc = acc + x[(xbase + iy) * g.iw + ix] * w[(wbase + ky) * g.kw + kx];
                            }
                        }
                    }
                    out[o] = acc;
                    o += 1;
                }
            }
        }
    }
    out
}

/// The channel of element `i` of an NC… tensor with `inner` elements per channel.
fn channel(i: usize, inner: usize, channels: usize) -> usize {
    (i / inner.max(1)) % channels.max(1)
}

pub(super) fn conv(a: &ConvAttrs, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor, String> {
    let out_shape = shape::conv_output_shape(a, &x.shape, &w.shape)?;
    let g = Geometry::new(a, &x.shape, &out_shape);
    let xf: Vec<f64> = floats(x)?.iter().map(|&v| v as f64).collect();
    let wf: Vec<f64> = floats(w)?.iter().map(|&v| v as f64).collect();
    let bias = b.map(floats).transpose()?;
    let inner = g.oh * g.ow;
    let out = accumulate(&g, &xf, &wf)
        .into_iter()
        .enumerate()
        .map(|(i, acc)| (acc + bias.map_or(0.0, |b| b[channel(i, inner, g.co)] as f64)) as f32)
        .collect();
    Ok(Tensor::f32(out_shape, out))
}

pub(super) fn qlinear_conv(
    a: &ConvAttrs,
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    q: &IntQuant<'_>,
    dtype: DType,
) -> Result<Tensor, String> {
    let out_shape = shape::conv_output_shape(a, &x.shape, &w.shape)?;
    let g = Geometry::new(a, &x.shape, &out_shape);
    let zx = q.x.zero_point_at(0);
    let xc: Vec<i64> = ints(x)?.iter().map(|&v| v - zx).collect();
    let wc: Vec<i64> = ints(w)?.iter().zip(q.w.channels(&w.shape)).map(|(&v, c)| v - q.w.zero_point_at(c)).collect();
    let bias = b.map(ints).transpose()?;
    let multipliers: Vec<f32> =
        (0..g.co).map(|c| arith::requant_multiplier(q.x.scale_at(0), q.w.scale_at(c), q.y.scale_at(0))).collect();
    let (lo, hi) = q.y.range();
    let (lo, hi) = (lo.max(i32::MIN as i64) as i32, hi.min(i32::MAX as i64) as i32);
    let zy = q.y.zero_point_at(0) as i32;
    let inner = g.oh * g.ow;
    let out = accumulate(&g, &xc, &wc)
        .into_iter()
        .enumerate()
        .map(|(i, acc)| {
            let c = channel(i, inner, g.co);
            // ONNX Runtime accumulates in int32.
            let acc = acc.wrapping_add(bias.map_or(0, |b| b[c])) as i32;
            arith::requantize(acc, multipliers[c], zy, lo, hi) as i64
        })
        .collect();
    Ok(int_tensor(dtype, out_shape, out))
}

pub(super) fn conv_transpose(
    a: &ConvTransposeAttrs,
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
) -> Result<Tensor, String> {
    let out_shape = shape::conv_transpose_output_shape(&a.conv, &a.output_padding, &x.shape, &w.shape)?;
    // Geometry in transposed roles: the "output" of the 2-D view is the input here.
    let g = Geometry::new(&a.conv, &out_shape, &x.shape);
    let (xf, wf) = (floats(x)?, floats(w)?);
    let cog = g.ci / g.groups; // output channels per group (roles swapped)
    let cig = g.co / g.groups; // input channels per group
    let mut out = vec![0f64; out_shape.iter().product()];
    for n in 0..g.n {
        for ic in 0..g.co {
            let group = ic / cig;
            for iy in 0..g.oh {
                for ix in 0..g.ow {
                    let xv = xf[((n * g.co + ic) * g.oh + iy) * g.ow + ix] as f64;
                    for ocl in 0..cog {
                        let oc = group * cog + ocl;
                        for ky in 0..g.kh {
                            let Some(oy) = Geometry::tap(iy, ky, g.sh, g.dh, g.pt, g.ih) else { continue };
                            for kx in 0..g.kw {
                                let Some(ox) = Geometry::tap(ix, kx, g.sw, g.dw, g.pl, g.iw) else { continue };
                                let wv = wf[((ic * cog + ocl) * g.kh + ky) * g.kw + kx] as f64;
                                out[((n * g.ci + oc) * g.ih + oy) * g.iw + ox] += xv * wv;
                            }
                        }
                    }
                }
            }
        }
    }
    let bias = b.map(floats).transpose()?;
    let inner = g.ih * g.iw;
    let out = out
        .into_iter()
        .enumerate()
        .map(|(i, v)| (v + bias.map_or(0.0, |b| b[channel(i, inner, g.ci)] as f64)) as f32)
        .collect();
    Ok(Tensor::f32(out_shape, out))
}

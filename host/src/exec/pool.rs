//! Max and average pooling over 1-D or 2-D windows.

use super::floats;
use crate::ir::{AvgPoolAttrs, PoolAttrs, Tensor, TensorData, shape};

/// A window tap: an input element, a padding position, or (ceil mode) a
/// position beyond the padding.
#[derive(Clone, Copy)]
enum Tap {
    Input(usize),
    Pad,
    Outside,
}

/// Visits each output position with the taps of its window.
fn windows(p: &PoolAttrs, x: &[usize], out: &[usize], mut f: impl FnMut(usize, &mut dyn Iterator<Item = Tap>)) {
    let two = p.kernel.len() == 2;
    let (ih, iw) = (if two { x[2] } else { 1 }, x[x.len() - 1]);
    let (oh, ow) = (if two { out[2] } else { 1 }, out[out.len() - 1]);
    let (kh, kw) = (if two { p.kernel[0] } else { 1 }, p.kernel[p.kernel.len() - 1]);
    let (sh, sw) = (if two { p.strides[0] } else { 1 }, p.strides[p.strides.len() - 1]);
    let (dh, dw) = (if two { p.dilations[0] } else { 1 }, p.dilations[p.dilations.len() - 1]);
    let (pt, pl) = (if two { p.pads[0] } else { 0 }, if two { p.pads[1] } else { p.pads[0] });
    let (pb, pr) = (if two { p.pads[2] } else { 0 }, if two { p.pads[3] } else { p.pads[1] });
    let planes = x[0] * x[1];
    let mut o = 0;
    for plane in 0..planes {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut taps = (0..kh).flat_map(|ky| (0..kw).map(move |kx| (ky, kx))).map(|(ky, kx)| {
                    // Positions in the padded input.
                    let (py, px) = (oy * sh + ky * dh, ox * sw + kx * dw);
                    if py >= pt + ih + pb || px >= pl + iw + pr {
                        return Tap::Outside;
                    }
                    match (py.checked_sub(pt).filter(|&v| v < ih), px.checked_sub(pl).filter(|&v| v < iw)) {
                        (Some(iy), Some(ix)) => Tap::Input((plane * ih + iy) * iw + ix),
                        _ => Tap::Pad,
                    }
                });
                f(o, &mut taps);
                o += 1;
            }
        }
    }
}

/// The input element of a tap, if any.
fn input(t: Tap) -> Option<usize> {
    match t {
        Tap::Input(i) => Some(i),
        Tap::Pad | Tap::Outside => None,
    }
}

pub(super) fn max_pool(p: &PoolAttrs, x: &Tensor) -> Result<Tensor, String> {
    let out_shape = shape::pool_output_shape(p, &x.shape)?;
    let n: usize = out_shape.iter().product();
    let data = match &x.data {
        TensorData::F32(v) => {
            let mut out = vec![f32::NEG_INFINITY; n];
            windows(p, &x.shape, &out_shape, |o, taps| {
                out[o] = taps.filter_map(input).map(|i| v[i]).fold(f32::NEG_INFINITY, f32::max);
            });
            TensorData::F32(out)
        }
        TensorData::Int(v) => {
            let mut out = vec![i64::MIN; n];
            windows(p, &x.shape, &out_shape, |o, taps| {
                out[o] = taps.filter_map(input).map(|i| v[i]).max().unwrap_or(i64::MIN);
            });
            TensorData::Int(out)
        }
    };
    Ok(Tensor { dtype: x.dtype, shape: out_shape, data })
}

/// Average pooling: a float32 running sum divided by the window count,
/// as ONNX Runtime's pooling loops compute it.
pub(super) fn average_pool(a: &AvgPoolAttrs, x: &Tensor) -> Result<Tensor, String> {
    let out_shape = shape::pool_output_shape(&a.pool, &x.shape)?;
    let v = floats(x)?;
    let mut out = vec![0f32; out_shape.iter().product()];
    windows(&a.pool, &x.shape, &out_shape, |o, taps| {
        // ONNX: with count_include_pad the divisor counts padding, but never
        // positions beyond it (ceil mode).
        let (mut sum, mut inside, mut total) = (0f32, 0u32, 0u32);
        for t in taps {
            match t {
                Tap::Input(i) => {
                    sum += v[i];
                    inside += 1;
                    total += 1;
                }
                Tap::Pad => total += 1,
                Tap::Outside => {}
            }
        }
        let count = if a.count_include_pad { total } else { inside };
        out[o] = sum / count.max(1) as f32;
    });
    Ok(Tensor::f32(out_shape, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_pool_counts_padding_but_not_the_ceil_mode_overhang() {
        // ONNX Runtime 1.32 on the same op gives [0.5, 2.5, 4.0]: the first
        // window averages a pad and 1, the last sees 4 and nothing beyond.
        let pool =
            PoolAttrs { kernel: vec![2], strides: vec![2], pads: vec![1, 0], dilations: vec![1], ceil_mode: true };
        let a = AvgPoolAttrs { pool, count_include_pad: true };
        let x = Tensor::f32(vec![1, 1, 4], vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(average_pool(&a, &x).unwrap().as_f32().unwrap(), &[0.5, 2.5, 4.0]);
        let excluded = AvgPoolAttrs { count_include_pad: false, ..a };
        assert_eq!(average_pool(&excluded, &x).unwrap().as_f32().unwrap(), &[1.0, 2.5, 4.0]);
    }
}

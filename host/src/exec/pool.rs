//! Max and average pooling over 1-D or 2-D windows.

use super::floats;
use crate::ir::{AvgPoolAttrs, PoolAttrs, Tensor, TensorData, shape};

/// Visits each output position with the input positions of its window.
fn windows(
    p: &PoolAttrs,
    x: &[usize],
    out: &[usize],
    mut f: impl FnMut(usize, &mut dyn Iterator<Item = Option<usize>>),
) {
    let two = p.kernel.len() == 2;
    let (ih, iw) = (if two { x[2] } else { 1 }, x[x.len() - 1]);
    let (oh, ow) = (if two { out[2] } else { 1 }, out[out.len() - 1]);
    let (kh, kw) = (if two { p.kernel[0] } else { 1 }, p.kernel[p.kernel.len() - 1]);
    let (sh, sw) = (if two { p.strides[0] } else { 1 }, p.strides[p.strides.len() - 1]);
    let (dh, dw) = (if two { p.dilations[0] } else { 1 }, p.dilations[p.dilations.len() - 1]);
    let (pt, pl) = (if two { p.pads[0] } else { 0 }, if two { p.pads[1] } else { p.pads[0] });
    let planes = x[0] * x[1];
    let mut o = 0;
    for plane in 0..planes {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut taps = (0..kh).flat_map(|ky| (0..kw).map(move |kx| (ky, kx))).map(|(ky, kx)| {
                    let iy = (oy * sh + ky * dh).checked_sub(pt).filter(|&v| v < ih)?;
                    let ix = (ox * sw + kx * dw).checked_sub(pl).filter(|&v| v < iw)?;
                    Some((plane * ih + iy) * iw + ix)
                });
                f(o, &mut taps);
                o += 1;
            }
        }
    }
}

pub(super) fn max_pool(p: &PoolAttrs, x: &Tensor) -> Result<Tensor, String> {
    let out_shape = shape::pool_output_shape(p, &x.shape)?;
    let n: usize = out_shape.iter().product();
    let data = match &x.data {
        TensorData::F32(v) => {
            let mut out = vec![f32::NEG_INFINITY; n];
            windows(p, &x.shape, &out_shape, |o, taps| {
                out[o] = taps.flatten().map(|i| v[i]).fold(f32::NEG_INFINITY, f32::max);
            });
            TensorData::F32(out)
        }
        TensorData::Int(v) => {
            let mut out = vec![i64::MIN; n];
            windows(p, &x.shape, &out_shape, |o, taps| {
                out[o] = taps.flatten().map(|i| v[i]).max().unwrap_or(i64::MIN);
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
        let (mut sum, mut inside, mut total) = (0f32, 0u32, 0u32);
        for t in taps {
            total += 1;
            if let Some(i) = t {
                sum += v[i];
                inside += 1;
            }
        }
        let count = if a.count_include_pad { total } else { inside };
        out[o] = sum / count.max(1) as f32;
    });
    Ok(Tensor::f32(out_shape, out))
}

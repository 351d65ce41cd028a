//! Float32 kernels of the reference forward pass.
//!
//! Products are summed in float64 and rounded to float32 once, the closest
//! a float32 implementation (PyTorch, ONNX Runtime) can get whatever its
//! summation order. 1-D ops run as 2-D ops of height 1.

use crate::ir::Tensor;

/// Geometry of a 1-D or 2-D windowed op (convolution or pooling).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    /// Kernel size per spatial axis.
    pub kernel: Vec<usize>,
    /// Stride per spatial axis.
    pub stride: Vec<usize>,
    /// Symmetric padding per spatial axis.
    pub padding: Vec<usize>,
    /// Dilation per spatial axis.
    pub dilation: Vec<usize>,
}

/// A spatial size seen as `(height, width)`.
fn hw(v: &[usize], fill: usize) -> (usize, usize) {
    match v {
        [w] => (fill, *w),
        [h, w, ..] => (*h, *w),
        [] => (fill, fill),
    }
}

impl Window {
    /// `(kh, kw, sh, sw, ph, pw, dh, dw)`.
    fn dims(&self) -> [usize; 8] {
        let (kh, kw) = hw(&self.kernel, 1);
        let (sh, sw) = hw(&self.stride, 1);
        let (ph, pw) = hw(&self.padding, 0);
        let (dh, dw) = hw(&self.dilation, 1);
        [kh, kw, sh, sw, ph, pw, dh, dw]
    }

    /// Output size of one axis, or an error when the window does not fit.
    fn out(input: usize, k: usize, s: usize, p: usize, d: usize) -> Result<usize, String> {
        let span = d * (k - 1) + 1;
        (input + 2 * p)
            .checked_sub(span)
            .map(|n| n / s + 1)
            .ok_or_else(|| format!("window {span} does not fit input {input} with padding {p}"))
    }

    /// The spatial output shape for spatial input `spatial`.
    pub(crate) fn output(&self, spatial: &[usize]) -> Result<Vec<usize>, String> {
        if spatial.len() != self.kernel.len() {
            return Err(format!("expected {} spatial axes, got {}", self.kernel.len(), spatial.len()));
        }
        (0..spatial.len())
            .map(|i| Self::out(spatial[i], self.kernel[i], self.stride[i], self.padding[i], self.dilation[i]))
            .collect()
    }
}

/// The float values of a tensor (callers only pass float tensors).
fn f(t: &Tensor) -> &[f32] {
    t.as_f32().unwrap_or_default()
}

/// `x` `[N, C, *S]` convolved with `w` `[O, C/groups, *K]`, plus `bias` per `O`.
pub(crate) fn conv(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&[f32]>,
    win: &Window,
    groups: usize,
) -> Result<Tensor, String> {
    let (n, c) = (x.shape[0], x.shape[1]);
    let o = w.shape[0];
    if c != w.shape[1] * groups || !o.is_multiple_of(groups) {
        return Err(format!("{c} input channels do not match weights {:?} in {groups} groups", w.shape));
    }
    let out_sp = win.output(&x.shape[2..])?;
    let (ih, iw) = hw(&x.shape[2..], 1);
    let (oh, ow) = hw(&out_sp, 1);
    let [kh, kw, sh, sw, ph, pw, dh, dw] = win.dims();
    let (cg, og) = (c / groups, o / groups);
    let (xv, wv) = (f(x), f(w));
    // The output columns whose tap `k` reads an input column: `[lo, hi)`.
    let valid = |k: usize, d: usize, p: usize, s: usize, size: usize, out: usize| {
        let first = (p.saturating_sub(k * d)).div_ceil(s);
        let last = (size + p).checked_sub(k * d).map_or(0, |v| v.div_ceil(s)).min(out);
        (first.min(last), last)
    };
    let mut out = Vec::with_capacity(n * o * oh * ow);
    let mut plane = vec![0f64; oh * ow];
    for b in 0..n {
        for oc in 0..o {
            plane.fill(bias.map_or(0.0, |bv| bv[oc] as f64));
            let g = oc / og;
            for icl in 0..cg {
                let xplane = &xv[(b * c + g * cg + icl) * ih * iw..][..ih * iw];
                for ky in 0..kh {
                    let (y0, y1) = valid(ky, dh, ph, sh, ih, oh);
                    for kx in 0..kw {
                        let wval = wv[((oc * cg + icl) * kh + ky) * kw + kx] as f64;
                        let (x0, x1) = valid(kx, dw, pw, sw, iw, ow);
                        for oy in y0..y1 {
                            let row = &xplane[(oy * sh + ky * dh - ph) * iw..][..iw];
                            let orow = &mut plane[oy * ow..][..ow];
                            for ox in x0..x1 {
                                orow[ox] += row[ox * sw + kx * dw - pw] as f64 * wval;
                            }
                        }
                    }
                }
            }
            out.extend(plane.iter().map(|&v| v as f32));
        }
    }
    let mut shape = vec![n, o];
    shape.extend(out_sp);
    Ok(Tensor::f32(shape, out))
}

/// Transposed convolution: `x` `[N, C, *S]`, `w` `[C, O/groups, *K]`.
pub(crate) fn conv_transpose(
    x: &Tensor,
    w: &Tensor,
    bias: Option<&[f32]>,
    win: &Window,
    output_padding: &[usize],
    groups: usize,
) -> Result<Tensor, String> {
    let (n, c) = (x.shape[0], x.shape[1]);
    if w.shape[0] != c || !c.is_multiple_of(groups) {
        return Err(format!("{c} input channels do not match weights {:?} in {groups} groups", w.shape));
    }
    let og = w.shape[1];
    let o = og * groups;
    let cg = c / groups;
    let [kh, kw, sh, sw, ph, pw, dh, dw] = win.dims();
    let (ih, iw) = hw(&x.shape[2..], 1);
    let (oph, opw) = hw(output_padding, 0);
    let full = |i: usize, s: usize, d: usize, k: usize, op: usize| s * (i - 1) + d * (k - 1) + 1 + op;
    let (fh, fw) = (full(ih, sh, dh, kh, oph), full(iw, sw, dw, kw, opw));
    if fh <= 2 * ph || fw <= 2 * pw {
        return Err("padding consumes the whole output".into());
    }
    let (oh, ow) = (fh - 2 * ph, fw - 2 * pw);
    let (xv, wv) = (f(x), f(w));
    let mut acc = vec![0f64; n * o * oh * ow];
    for b in 0..n {
        for ic in 0..c {
            let g = ic / cg;
            for iy in 0..ih {
                for ix in 0..iw {
                    let xval = xv[((b * c + ic) * ih + iy) * iw + ix] as f64;
                    for ocl in 0..og {
                        let oc = g * og + ocl;
                        for ky in 0..kh {
                            let Some(oy) = (iy * sh + ky * dh).checked_sub(ph).filter(|&v| v < oh) else { continue };
                            for kx in 0..kw {
                                let Some(ox) = (ix * sw + kx * dw).checked_sub(pw).filter(|&v| v < ow) else {
                                    continue;
                                };
                                let wval = wv[((ic * og + ocl) * kh + ky) * kw + kx] as f64;
                                acc[((b * o + oc) * oh + oy) * ow + ox] += xval * wval;
                            }
                        }
                    }
                }
            }
        }
    }
    let plane = oh * ow;
    let out = acc
        .into_iter()
        .enumerate()
        .map(|(i, v)| (v + bias.map_or(0.0, |bv| bv[(i / plane) % o] as f64)) as f32)
        .collect();
    let mut shape = vec![n, o];
    shape.extend(if x.shape.len() == 3 { vec![ow] } else { vec![oh, ow] });
    Ok(Tensor::f32(shape, out))
}

/// `x` `[N, K]` times `w` `[O, K]` transposed, plus `bias`.
pub(crate) fn linear(x: &Tensor, w: &Tensor, bias: Option<&[f32]>) -> Result<Tensor, String> {
    let (&[n, k], &[o, kw]) = (x.shape.as_slice(), w.shape.as_slice()) else {
        return Err(format!("a linear layer needs [N, K] inputs, got {:?}", x.shape));
    };
    if k != kw {
        return Err(format!("{k} input features, weights {:?}", w.shape));
    }
    let (xv, wv) = (f(x), f(w));
    let out = (0..n * o)
        .map(|i| {
            let (r, c) = (i / o, i % o);
            let dot: f64 = (0..k).map(|p| xv[r * k + p] as f64 * wv[c * k + p] as f64).sum();
            (dot + bias.map_or(0.0, |b| b[c] as f64)) as f32
        })
        .collect();
    Ok(Tensor::f32(vec![n, o], out))
}

/// Max pooling (`average: false`) or average pooling counting padded
/// positions (`average: true`, a float32 running sum as ONNX Runtime).
pub(crate) fn pool(x: &Tensor, win: &Window, average: bool) -> Result<Tensor, String> {
    let planes = x.shape[0] * x.shape[1];
    let out_sp = win.output(&x.shape[2..])?;
    let (ih, iw) = hw(&x.shape[2..], 1);
    let (oh, ow) = hw(&out_sp, 1);
    let [kh, kw, sh, sw, ph, pw, dh, dw] = win.dims();
    let xv = f(x);
    let mut out = Vec::with_capacity(planes * oh * ow);
    for p in 0..planes {
        for oy in 0..oh {
            for ox in 0..ow {
                let (mut sum, mut max) = (0f32, f32::NEG_INFINITY);
                for ky in 0..kh {
                    for kx in 0..kw {
                        let iy = (oy * sh + ky * dh).checked_sub(ph).filter(|&v| v < ih);
                        let ix = (ox * sw + kx * dw).checked_sub(pw).filter(|&v| v < iw);
                        if let (Some(iy), Some(ix)) = (iy, ix) {
                            let v = xv[(p * ih + iy) * iw + ix];
                            sum += v;
                            max = max.max(v);
                        }
                    }
                }
                out.push(if average { sum / (kh * kw) as f32 } else { max });
            }
        }
    }
    let mut shape = x.shape[..2].to_vec();
    shape.extend(out_sp);
    Ok(Tensor::f32(shape, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(k: usize, s: usize, p: usize) -> Window {
        Window { kernel: vec![k, k], stride: vec![s, s], padding: vec![p, p], dilation: vec![1, 1] }
    }

    #[test]
    fn conv_sums_windows_with_padding() {
        let x = Tensor::f32(vec![1, 1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]);
        let w = Tensor::f32(vec![1, 1, 3, 3], vec![1.0; 9]);
        let y = conv(&x, &w, Some(&[0.5]), &win(3, 1, 1), 1).unwrap();
        assert_eq!(y.shape, vec![1, 1, 2, 2]);
        assert_eq!(y.as_f32().unwrap(), &[10.5; 4]);
    }

    #[test]
    fn transposed_conv_scatters_each_input() {
        let x = Tensor::f32(vec![1, 1, 2], vec![1.0, 2.0]);
        let w = Tensor::f32(vec![1, 1, 3], vec![1.0, 10.0, 100.0]);
        let w1 = Window { kernel: vec![3], stride: vec![2], padding: vec![0], dilation: vec![1] };
        let y = conv_transpose(&x, &w, None, &w1, &[0], 1).unwrap();
        assert_eq!(y.as_f32().unwrap(), &[1.0, 10.0, 102.0, 20.0, 200.0]);
    }

    #[test]
    fn pools_take_max_and_mean() {
        let x = Tensor::f32(vec![1, 1, 2, 2], vec![1.0, 2.0, 3.0, 6.0]);
        assert_eq!(pool(&x, &win(2, 2, 0), false).unwrap().as_f32().unwrap(), &[6.0]);
        assert_eq!(pool(&x, &win(2, 2, 0), true).unwrap().as_f32().unwrap(), &[3.0]);
        let l =
            linear(&Tensor::f32(vec![1, 2], vec![1.0, 2.0]), &Tensor::f32(vec![1, 2], vec![3.0, 4.0]), Some(&[1.0]));
        assert_eq!(l.unwrap().as_f32().unwrap(), &[12.0]);
    }
}

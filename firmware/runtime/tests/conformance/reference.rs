//! Reference implementations of every op, written independently of the
//! runtime: direct loops over ONNX-layout tensors of `i32` values, `i64`
//! accumulation, and the float steps spelled out with `std`.

/// Window geometry in ONNX terms; pairs are `[height, width]`, pads
/// `[top, left, bottom, right]`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    pub pads: [usize; 4],
}

impl Window {
    /// ONNX Conv/Pool output extent along `axis` (floor mode).
    pub fn out(&self, axis: usize, n: usize) -> Option<usize> {
        let extent = (self.kernel[axis] - 1) * self.dilation[axis] + 1;
        let padded = n + self.pads[axis] + self.pads[axis + 2];
        (padded >= extent).then(|| (padded - extent) / self.stride[axis] + 1)
    }

    /// ONNX ConvTranspose output extent along `axis`.
    pub fn out_transpose(&self, axis: usize, n: usize, output_padding: usize) -> Option<usize> {
        let extent = (self.kernel[axis] - 1) * self.dilation[axis] + 1;
        let full = self.stride[axis] * (n - 1) + output_padding + extent;
        let pads = self.pads[axis] + self.pads[axis + 2];
        (full > pads).then(|| full - pads)
    }
}

/// Output quantization and clamp.
#[derive(Debug, Clone)]
pub struct OutStage {
    pub multipliers: Vec<f32>,
    pub zero_point: i32,
    pub lo: i32,
    pub hi: i32,
}

impl OutStage {
    /// `clamp(round_half_even(f32(acc) * m) + zp)`; the accumulator must be
    /// an `i32`, as in ONNX Runtime.
    pub fn apply(&self, acc: i64, channel: usize) -> i32 {
        let m = if self.multipliers.len() == 1 {
            self.multipliers[0]
        } else {
            self.multipliers[channel]
        };
        let acc = i32::try_from(acc).expect("reference accumulator left the i32 range");
        let r = (acc as f32 * m).round_ties_even() as i64;
        (r + self.zero_point as i64).clamp(self.lo as i64, self.hi as i64) as i32
    }
}

/// ONNX `QLinearConv` over `x` (`[C][H][W]`, values), weights `[O][C/g][kH][kW]`.
#[allow(clippy::too_many_arguments)]
pub fn conv(
    x: &[i32],
    [c, h, w]: [usize; 3],
    zx: i32,
    win: &Window,
    groups: usize,
    weights: &[i32],
    bias: &[i32],
    o: usize,
    out: &OutStage,
) -> (Vec<i32>, [usize; 2]) {
    let (oh, ow) = (win.out(0, h).unwrap(), win.out(1, w).unwrap());
    let (cig, cog) = (c / groups, o / groups);
    let [kh, kw] = win.kernel;
    let mut y = Vec::with_capacity(o * oh * ow);
    for oc in 0..o {
        let g = oc / cog;
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = bias[oc] as i64;
                for icl in 0..cig {
                    let ic = g * cig + icl;
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let iy = (oy * win.stride[0] + ky * win.dilation[0]) as i64 - win.pads[0] as i64;
                            let ix = (ox * win.stride[1] + kx * win.dilation[1]) as i64 - win.pads[1] as i64;
                            // Padding holds the zero point: (x - zx) = 0.
                            if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
                                continue;
                            }
                            let xv = x[(ic * h + iy as usize) * w + ix as usize] as i64 - zx as i64;
                            let wv = weights[((oc * cig + icl) * kh + ky) * kw + kx] as i64;
                            acc += xv * wv;
                        }
                    }
                }
                y.push(out.apply(acc, oc));
            }
        }
    }
    (y, [oh, ow])
}

/// ONNX `ConvTranspose` (scatter form) with `QLinearConv`-style
/// requantization; weights `[C][O/g][kH][kW]`.
#[allow(clippy::too_many_arguments)]
pub fn conv_transpose(
    x: &[i32],
    [c, h, w]: [usize; 3],
    zx: i32,
    win: &Window,
    output_padding: [usize; 2],
    groups: usize,
    weights: &[i32],
    bias: &[i32],
    o: usize,
    out: &OutStage,
) -> (Vec<i32>, [usize; 2]) {
    let oh = win.out_transpose(0, h, output_padding[0]).unwrap();
    let ow = win.out_transpose(1, w, output_padding[1]).unwrap();
    let (cig, cog) = (c / groups, o / groups);
    let [kh, kw] = win.kernel;
    let mut acc: Vec<i64> = (0..o * oh * ow).map(|i| bias[i / (oh * ow)] as i64).collect();
    for ic in 0..c {
        let g = ic / cig;
        for iy in 0..h {
            for ix in 0..w {
                let xv = x[(ic * h + iy) * w + ix] as i64 - zx as i64;
                for ocl in 0..cog {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let oy = (iy * win.stride[0] + ky * win.dilation[0]) as i64 - win.pads[0] as i64;
                            let ox = (ix * win.stride[1] + kx * win.dilation[1]) as i64 - win.pads[1] as i64;
                            if oy < 0 || ox < 0 || oy >= oh as i64 || ox >= ow as i64 {
                                continue;
                            }
                            let oc = g * cog + ocl;
                            let wv = weights[((ic * cog + ocl) * kh + ky) * kw + kx] as i64;
                            acc[(oc * oh + oy as usize) * ow + ox as usize] += xv * wv;
                        }
                    }
                }
            }
        }
    }
    let y = acc
        .iter()
        .enumerate()
        .map(|(i, &a)| out.apply(a, i / (oh * ow)))
        .collect();
    (y, [oh, ow])
}

/// `y = W (x - zx) + b` with `W` in `[out][in]` layout.
pub fn dense(x: &[i32], zx: i32, weights: &[i32], bias: &[i32], out: &OutStage) -> Vec<i32> {
    let n = x.len();
    (0..bias.len())
        .map(|o| {
            let acc: i64 = (0..n)
                .map(|i| weights[o * n + i] as i64 * (x[i] as i64 - zx as i64))
                .sum();
            out.apply(acc + bias[o] as i64, o)
        })
        .collect()
}

/// The values under each pooling window: `(valid values, output shape)`.
fn windows(x: &[i32], [c, h, w]: [usize; 3], win: &Window) -> (Vec<Vec<i32>>, [usize; 2]) {
    let (oh, ow) = (win.out(0, h).unwrap(), win.out(1, w).unwrap());
    let mut all = Vec::new();
    for ch in 0..c {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut values = Vec::new();
                for ky in 0..win.kernel[0] {
                    for kx in 0..win.kernel[1] {
                        let iy = (oy * win.stride[0] + ky * win.dilation[0]) as i64 - win.pads[0] as i64;
                        let ix = (ox * win.stride[1] + kx * win.dilation[1]) as i64 - win.pads[1] as i64;
                        if (0..h as i64).contains(&iy) && (0..w as i64).contains(&ix) {
                            values.push(x[(ch * h + iy as usize) * w + ix as usize]);
                        }
                    }
                }
                all.push(values);
            }
        }
    }
    (all, [oh, ow])
}

/// Whether every pooling window holds at least one input value.
pub fn windows_filled(win: &Window, [h, w]: [usize; 2]) -> bool {
    let (all, _) = windows(&vec![0; h * w], [1, h, w], win);
    all.iter().all(|v| !v.is_empty())
}

/// ONNX `MaxPool`: padding is ignored.
pub fn max_pool(x: &[i32], chw: [usize; 3], win: &Window) -> (Vec<i32>, [usize; 2]) {
    let (all, out) = windows(x, chw, win);
    (
        all.iter()
            .map(|v| *v.iter().max().expect("window without values"))
            .collect(),
        out,
    )
}

/// Average pooling as lowbit defines it: `requant(Σ (x - zx), m[n - 1])`.
pub fn avg_pool(
    x: &[i32],
    chw: [usize; 3],
    zx: i32,
    win: &Window,
    count_include_pad: bool,
    out: &OutStage,
) -> (Vec<i32>, [usize; 2]) {
    let (all, shape) = windows(x, chw, win);
    let area = win.kernel[0] * win.kernel[1];
    let y = all
        .iter()
        .map(|v| {
            let sum: i64 = v.iter().map(|&x| (x - zx) as i64).sum();
            let n = if count_include_pad { area } else { v.len() };
            out.apply(sum, n - 1)
        })
        .collect();
    (y, shape)
}

/// ONNX Runtime's float path: dequantize both, add in `f32`, quantize with
/// a true division, round half to even.
#[allow(clippy::too_many_arguments)]
pub fn add(
    a: &[i32],
    (sa, za): (f32, i32),
    b: &[i32],
    (sb, zb): (f32, i32),
    (sy, zy): (f32, i32),
    lo: i32,
    hi: i32,
) -> Vec<i32> {
    a.iter()
        .zip(b)
        .map(|(&a, &b)| {
            let sum = (a - za) as f32 * sa + (b - zb) as f32 * sb;
            let q = (sum / sy).round_ties_even() as i64 + zy as i64;
            q.clamp(lo as i64, hi as i64) as i32
        })
        .collect()
}

//! The mapping of each kind of program op to its units.

use super::Mapper;
use crate::graph::ops::{
    AddStreams, FmPadding, LabelSelect, Mvau, Op, Pool, StreamingMaxPool, Swg, Thresholding, Vvau,
};
use crate::graph::{Layout, StreamId};
use crate::thresholds::{Activation, Stage};
use crate::{DType, HlsError};
use lowbit_runtime::WeightFormat;
use lowbit_runtime::arith::{dequantize, quantize};
use lowbit_runtime::build::{
    AddParams, AvgPoolParams, ConvParams, DecodedOp, DenseParams, PoolParams, Requant, TensorId,
};

impl Mapper<'_> {
    /// Dense → MVAU over the whole input (columns permuted to stream order).
    pub(super) fn dense(
        &mut self,
        index: usize,
        op: &DecodedOp,
        p: &DenseParams,
        origin: &str,
    ) -> Result<(), HlsError> {
        let (s, layout) = self.take(self.base(op.input));
        let xq = self.quant(op.input);
        let n = layout.elements();
        // Columns in stream order.
        let order = layout.order();
        let weights: Vec<i32> = (0..p.out_features)
            .flat_map(|o| order.iter().map(move |&f| (o, f)))
            .map(|(o, f)| p.weights[o * n + f])
            .collect();
        let (lo, hi) = xq.range();
        let domains = dot_ranges(&weights, n, (i64::from(lo), i64::from(hi)));
        let offset = folded_bias(&p.bias, &p.weights, n, xq.zero_point, p.out_features);
        let (act, end) = self.chain(index, offset, requant_stage(&p.requant));
        let act = self.thresholds(&act, &domains, end, origin)?;
        let output = self.stream(act.output, p.out_features);
        let mvau = Mvau {
            mw: n,
            mh: p.out_features,
            reps: 1,
            input: DType::of(&xq),
            weight_format: p.weight_format,
            weights,
            act,
        };
        self.push(Op::Mvau(mvau), origin, vec![s], vec![output]);
        let layout = Layout::of(&self.p.tensors[op.output.index()].shape);
        self.publish(end.index(), output, layout);
        Ok(())
    }

    /// Conv → [FMPadding] → [sliding window] → MVAU, or VVAU when depthwise.
    pub(super) fn conv(&mut self, index: usize, op: &DecodedOp, p: &ConvParams, origin: &str) -> Result<(), HlsError> {
        let (s, inl) = self.spatial_input(op.input, origin)?;
        let xq = self.quant(op.input);
        let (c, o, g) = (inl.c, p.out_channels, p.groups);
        let [kh, kw] = p.kernel;
        let outl = Layout::of(&self.p.tensors[op.output.index()].shape);
        let depthwise = g > 1 && g == c && o == c;
        let padded = p.pads.iter().any(|&v| v > 0);
        let window = PoolParams { kernel: p.kernel, stride: p.stride, pads: p.pads, dilation: p.dilation };
        let pointwise = p.kernel == [1, 1] && p.stride == [1, 1] && !padded;
        let s = if pointwise {
            s
        } else {
            self.window(s, inl, &window, xq.zero_point, DType::of(&xq), outl, depthwise, origin)
        };
        let (lo, hi) = xq.range();
        let (lo, hi) = if padded { (lo.min(xq.zero_point), hi.max(xq.zero_point)) } else { (lo, hi) };
        let taps = (c / g) * kh * kw;
        let offset = folded_bias(&p.bias, &p.weights, taps, xq.zero_point, o);
        let (act, end) = self.chain(index, offset, requant_stage(&p.requant));
        let unit = if depthwise {
            // [C][1][kH][kW] is already channel × window in (kh, kw) order.
            let domains = dot_ranges(&p.weights, kh * kw, (i64::from(lo), i64::from(hi)));
            let act = self.thresholds(&act, &domains, end, origin)?;
            Op::Vvau(Vvau {
                channels: c,
                kernel: p.kernel,
                dim: [outl.h, outl.w],
                input: DType::of(&xq),
                weight_format: p.weight_format,
                weights: p.weights.clone(),
                act,
            })
        } else {
            // Columns in window order (kh, kw, c); other groups' inputs weigh 0.
            let mw = kh * kw * c;
            let (cig, cog) = (c / g, o / g);
            let mut weights = vec![0; o * mw];
            for oc in 0..o {
                let g0 = (oc / cog) * cig;
                for (ci, y, x) in (0..cig).flat_map(|ci| (0..kh).flat_map(move |y| (0..kw).map(move |x| (ci, y, x)))) {
                    weights[oc * mw + (y * kw + x) * c + g0 + ci] = p.weights[((oc * cig + ci) * kh + y) * kw + x];
                }
            }
            // Zero is not a bipolar weight: grouped bipolar layers use {-1, 0, 1}.
            let weight_format = match p.weight_format {
                WeightFormat::Bipolar if g > 1 => WeightFormat::Signed(2),
                f => f,
            };
            let domains = dot_ranges(&weights, mw, (i64::from(lo), i64::from(hi)));
            let act = self.thresholds(&act, &domains, end, origin)?;
            Op::Mvau(Mvau { mw, mh: o, reps: outl.pixels(), input: DType::of(&xq), weight_format, weights, act })
        };
        let output = self.stream(unit.output_dtype(), outl.elements());
        self.push(unit, origin, vec![s], vec![output]);
        self.publish(end.index(), output, outl);
        Ok(())
    }

    /// Padding (with `pad_value`) and a sliding-window generator in front
    /// of a unit with output layout `outl`; returns the windows' stream.
    #[allow(clippy::too_many_arguments)]
    fn window(
        &mut self,
        s: StreamId,
        inl: Layout,
        w: &PoolParams,
        pad_value: i32,
        dtype: DType,
        outl: Layout,
        depthwise: bool,
        origin: &str,
    ) -> StreamId {
        let [t, l, b, r] = w.pads;
        let mut s = s;
        let (h, wd) = (inl.h + t + b, inl.w + l + r);
        if w.pads.iter().any(|&v| v > 0) {
            let padded = self.stream(dtype, h * wd * inl.c);
            let pad = FmPadding { channels: inl.c, dim: [inl.h, inl.w], pads: w.pads, value: pad_value, dtype };
            self.push(Op::FmPadding(pad), origin, vec![s], vec![padded]);
            s = padded;
        }
        let windows = self.stream(dtype, outl.pixels() * w.kernel[0] * w.kernel[1] * inl.c);
        let swg = Swg {
            channels: inl.c,
            ifm: [h, wd],
            ofm: [outl.h, outl.w],
            kernel: w.kernel,
            stride: w.stride,
            dilation: w.dilation,
            depthwise,
            dtype,
        };
        self.push(Op::Swg(swg), origin, vec![s], vec![windows]);
        windows
    }

    /// MaxPool → StreamingMaxPool, or [FMPadding] → depthwise window → Pool.
    pub(super) fn max_pool(&mut self, op: &DecodedOp, p: &PoolParams, origin: &str) -> Result<(), HlsError> {
        let (s, inl) = self.spatial_input(op.input, origin)?;
        let dtype = DType::of(&self.quant(op.input));
        let outl = Layout::of(&self.p.tensors[op.output.index()].shape);
        let [kh, kw] = p.kernel;
        let streaming =
            p.pads == [0; 4] && p.dilation == [1, 1] && p.stride == p.kernel && inl.h % kh == 0 && inl.w % kw == 0;
        let output = self.stream(dtype, outl.elements());
        if streaming {
            let pool = StreamingMaxPool { channels: inl.c, dim: [inl.h, inl.w], kernel: p.kernel, dtype };
            self.push(Op::StreamingMaxPool(pool), origin, vec![s], vec![output]);
        } else {
            // Padding by the smallest value never wins a maximum.
            let lowest = self.quant(op.input).range().0;
            let windows = self.window(s, inl, p, lowest, dtype, outl, true, origin);
            let pool = Pool {
                channels: inl.c,
                kernel: p.kernel,
                dim: [outl.h, outl.w],
                sum: false,
                input: dtype,
                output: dtype,
            };
            self.push(Op::Pool(pool), origin, vec![windows], vec![output]);
        }
        self.publish(op.output.index(), output, outl);
        Ok(())
    }

    /// AvgPool → [FMPadding] → depthwise window → Pool (sum) → Thresholding.
    pub(super) fn avg_pool(
        &mut self,
        index: usize,
        op: &DecodedOp,
        p: &AvgPoolParams,
        origin: &str,
    ) -> Result<(), HlsError> {
        let padded = p.pool.pads.iter().any(|&v| v > 0);
        if padded && !p.count_include_pad {
            return Err(HlsError::Unsupported {
                layer: origin.to_string(),
                reason: "average pooling that leaves padding out of the count divides by a position-dependent \
                         window size, which FINN's pool and threshold units do not have"
                    .into(),
            });
        }
        let (s, inl) = self.spatial_input(op.input, origin)?;
        let xq = self.quant(op.input);
        let outl = Layout::of(&self.p.tensors[op.output.index()].shape);
        let k = (p.pool.kernel[0] * p.pool.kernel[1]) as i64;
        let windows = self.window(s, inl, &p.pool, xq.zero_point, DType::of(&xq), outl, true, origin);
        let (lo, hi) = xq.range();
        let (lo, hi) = if padded { (lo.min(xq.zero_point), hi.max(xq.zero_point)) } else { (lo, hi) };
        let (smin, smax) = (k * i64::from(lo), k * i64::from(hi));
        let sum = DType::covering(smin, smax);
        let sums = self.stream(sum, outl.elements());
        let pool = Pool {
            channels: inl.c,
            kernel: p.pool.kernel,
            dim: [outl.h, outl.w],
            sum: true,
            input: DType::of(&xq),
            output: sum,
        };
        self.push(Op::Pool(pool), origin, vec![windows], vec![sums]);
        // Σ (x - zx) over the window = Σ x - k·zx (padding reads zx).
        let m = &p.requant.multipliers;
        let requant =
            Requant { multipliers: vec![m[if m.len() == 1 { 0 } else { k as usize - 1 }]], ..p.requant.clone() };
        let (act, end) = self.chain(index, vec![-k * i64::from(xq.zero_point)], requant_stage(&requant));
        self.threshold_unit(sums, sum, outl, &act, (smin, smax), end, origin)
    }

    /// Add → AddStreams → Thresholding, when the sum depends on `a + b` alone.
    pub(super) fn add(
        &mut self,
        index: usize,
        op: &DecodedOp,
        b: TensorId,
        p: &AddParams,
        origin: &str,
    ) -> Result<(), HlsError> {
        let (sa, la) = self.spatial_input(op.input, origin)?;
        let (sb, lb) = self.spatial_input(b, origin)?;
        if !la.same_order(&lb) {
            return Err(HlsError::Unsupported {
                layer: origin.to_string(),
                reason: "the two operands stream their elements in different orders".into(),
            });
        }
        let (qa, qb) = (self.quant(op.input), self.quant(b));
        let ((alo, ahi), (blo, bhi)) = (qa.range(), qb.range());
        let (smin, smax) = (i64::from(alo + blo), i64::from(ahi + bhi));
        // y must depend on the integer sum a + b alone for AddStreams + thresholds.
        let mut values = vec![None; (smax - smin + 1) as usize];
        for va in alo..=ahi {
            for vb in blo..=bhi {
                let real = dequantize(va, qa.scale, qa.zero_point) + dequantize(vb, qb.scale, qb.zero_point);
                let y = quantize(real, p.output.scale, p.output.zero_point, p.lo, p.hi);
                let slot = &mut values[(i64::from(va + vb) - smin) as usize];
                if slot.is_some_and(|v| v != y) {
                    return Err(HlsError::Unsupported {
                        layer: origin.to_string(),
                        reason: format!(
                            "the quantized sum is not a function of the integer sum a + b (scales {} and {}), \
                             so it has no AddStreams + thresholds form",
                            qa.scale, qb.scale
                        ),
                    });
                }
                *slot = Some(y);
            }
        }
        let sum = DType::covering(smin, smax);
        let sums = self.stream(sum, la.elements());
        let unit = AddStreams { channels: la.c, reps: la.pixels(), a: DType::of(&qa), b: DType::of(&qb), output: sum };
        self.push(Op::AddStreams(unit), origin, vec![sa, sb], vec![sums]);
        let first = Stage::Indexed { first: smin, values: values.into_iter().map(|v| v.unwrap_or(0)).collect() };
        let (act, end) = self.chain(index, vec![0], first);
        self.threshold_unit(sums, sum, la, &act, (smin, smax), end, origin)
    }

    /// A Lut not fused into the unit before it → Thresholding.
    pub(super) fn lut(
        &mut self,
        index: usize,
        op: &DecodedOp,
        table: &[i32; 256],
        origin: &str,
    ) -> Result<(), HlsError> {
        let (s, layout) = self.take(self.base(op.input));
        let xq = self.quant(op.input);
        let (lo, hi) = xq.range();
        let first = Stage::Table { table: Box::new(*table), op: origin.to_string() };
        let (act, end) = self.chain(index, vec![0], first);
        self.threshold_unit(s, DType::of(&xq), layout, &act, (i64::from(lo), i64::from(hi)), end, origin)
    }

    /// A Thresholding unit over stream `s` ending the activation at `end`.
    #[allow(clippy::too_many_arguments)]
    fn threshold_unit(
        &mut self,
        s: StreamId,
        input: DType,
        layout: Layout,
        act: &Activation,
        domain: (i64, i64),
        end: TensorId,
        origin: &str,
    ) -> Result<(), HlsError> {
        let act = self.thresholds(act, &vec![domain; layout.c], end, origin)?;
        let output = self.stream(act.output, layout.elements());
        let unit = Thresholding { channels: layout.c, reps: layout.pixels(), input, act };
        self.push(Op::Thresholding(unit), origin, vec![s], vec![output]);
        self.publish(end.index(), output, layout);
        Ok(())
    }

    /// A LabelSelect of the top `k` over the output stream.
    pub(super) fn label_select(&mut self, s: StreamId, layout: Layout, k: usize) -> Result<StreamId, HlsError> {
        let labels = layout.elements();
        let layer = "the label selection (--topk)".to_string();
        if !(1..=labels).contains(&k) {
            return Err(HlsError::Unsupported {
                layer,
                reason: format!("k = {k} must be between 1 and the {labels} output values"),
            });
        }
        if layout.order() != (0..labels).collect::<Vec<_>>() {
            return Err(HlsError::Unsupported {
                layer,
                reason: "the output is a feature map, not a vector of scores".into(),
            });
        }
        let output = DType::covering(0, labels as i64 - 1);
        let out = self.stream(output, k);
        let unit = LabelSelect { labels, k, input: self.streams[s].dtype, output };
        self.push(Op::LabelSelect(unit), &format!("top {k} of {labels} outputs"), vec![s], vec![out]);
        Ok(out)
    }
}

/// The first stage of a requantizing op.
fn requant_stage(r: &Requant) -> Stage {
    Stage::Requant { multipliers: r.multipliers.clone(), zero_point: r.output.zero_point, lo: r.lo, hi: r.hi }
}

/// `bias - zx · Σ w` per output channel, exactly (the accumulator of the
/// raw input values then equals the program's).
fn folded_bias(bias: &[i32], weights: &[i32], per_channel: usize, zx: i32, channels: usize) -> Vec<i64> {
    (0..channels)
        .map(|o| {
            let b = bias.get(o).copied().unwrap_or(0);
            let sum: i64 = weights[o * per_channel..(o + 1) * per_channel].iter().map(|&w| i64::from(w)).sum();
            i64::from(b) - i64::from(zx) * sum
        })
        .collect()
}

/// The range of `Σ w·x` per row of `n` weights for inputs in `x`.
fn dot_ranges(weights: &[i32], n: usize, (lo, hi): (i64, i64)) -> Vec<(i64, i64)> {
    weights
        .chunks(n)
        .map(|row| {
            row.iter().fold((0, 0), |(a, b), &w| {
                let (p, q) = (i64::from(w) * lo, i64::from(w) * hi);
                (a + p.min(q), b + p.max(q))
            })
        })
        .collect()
}

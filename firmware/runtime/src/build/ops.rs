//! The op methods of [`ProgramBuilder`]: checks, weight packing, build-time
//! folding and shape inference.

use super::params::{AddParams, AvgPoolParams, ConvParams, ConvTransposeParams, DenseParams, PoolParams, Requant};
use super::{BuildError, OpDef, OpReport, ProgramBuilder, TensorId, shape_of};
use crate::format::{
    Affine, BLOB_ALIGN, Blob, OpBody, OpKind, Requant as RequantRecord, Shape, TensorQuant, WeightFormat, Window, pack,
};
use crate::kernels::{Geometry, Values};

/// The weight-related outcome of checking a layer.
struct Packed {
    bytes: Vec<u8>,
    count: u64,
    format: WeightFormat,
}

impl ProgramBuilder {
    /// `InvalidParams` for the op about to be added.
    fn invalid(&self, kind: OpKind, reason: impl Into<String>) -> BuildError {
        BuildError::InvalidParams {
            op: self.ops.len(),
            kind,
            reason: reason.into(),
        }
    }

    /// Fails unless `ok`.
    fn ensure(&self, ok: bool, kind: OpKind, reason: &str) -> Result<(), BuildError> {
        if ok { Ok(()) } else { Err(self.invalid(kind, reason)) }
    }

    /// Checks and narrows a window geometry to the record's `u16` fields.
    fn window(
        &self,
        kind: OpKind,
        kernel: [usize; 2],
        stride: [usize; 2],
        dilation: [usize; 2],
        pads: [usize; 4],
        output_padding: [usize; 2],
    ) -> Result<(Window, Geometry), BuildError> {
        let positive = kernel.iter().chain(&stride).chain(&dilation).all(|&v| v > 0);
        self.ensure(positive, kind, "kernel, stride and dilation must be at least 1")?;
        let narrow = |v: usize| u16::try_from(v).map_err(|_| self.invalid(kind, "window parameter above 65 535"));
        let pair = |p: [usize; 2]| Ok::<_, BuildError>([narrow(p[0])?, narrow(p[1])?]);
        let window = Window {
            kernel: pair(kernel)?,
            stride: pair(stride)?,
            dilation: pair(dilation)?,
            pads: [narrow(pads[0])?, narrow(pads[1])?, narrow(pads[2])?, narrow(pads[3])?],
            output_padding: pair(output_padding)?,
        };
        Ok((window, Geometry::from(&window)))
    }

    /// The spatial view `[C, H, W]` of an op input.
    fn spatial(&self, kind: OpKind, shape: &Shape) -> Result<[usize; 3], BuildError> {
        shape
            .chw()
            .ok_or_else(|| self.invalid(kind, "the input must have rank 2 (C,L) or 3 (C,H,W)"))
    }

    /// The output shape `[C, H, W]`, written with the input's rank.
    fn spatial_output(&self, kind: OpKind, input: &Shape, [c, h, w]: [usize; 3]) -> Result<Shape, BuildError> {
        if input.rank() == 2 {
            self.ensure(
                h == 1,
                kind,
                "a 1d (C,L) input must keep height 1: use kernel [1, k] and no top/bottom pads",
            )?;
            shape_of(&[c, w])
        } else {
            shape_of(&[c, h, w])
        }
    }

    /// Checks an output stage with `channels` allowed multipliers.
    fn check_requant(&self, kind: OpKind, r: &Requant, channels: usize, what: &str) -> Result<(), BuildError> {
        if !r.output.is_valid() {
            return Err(BuildError::InvalidQuant(r.output));
        }
        let n = r.multipliers.len();
        self.ensure(
            n == 1 || n == channels,
            kind,
            &format!("expected 1 or {channels} multipliers ({what}), got {n}"),
        )?;
        self.ensure(
            r.multipliers.iter().all(|m| m.is_finite()),
            kind,
            "multipliers must be finite",
        )?;
        self.check_clamp(kind, &r.output, r.lo, r.hi)
    }

    /// Checks that `[lo, hi]` is a non-empty part of `output`'s range.
    fn check_clamp(&self, kind: OpKind, output: &TensorQuant, lo: i32, hi: i32) -> Result<(), BuildError> {
        let (min, max) = output.range();
        let ok = min <= lo && lo <= hi && hi <= max;
        self.ensure(
            ok,
            kind,
            &format!("clamp [{lo}, {hi}] is empty or outside the output range [{min}, {max}]"),
        )
    }

    /// Checks a bias vector (empty means zeros).
    fn bias(&self, kind: OpKind, bias: &[i32], channels: usize) -> Result<Vec<i32>, BuildError> {
        match bias.len() {
            0 => Ok(vec![0; channels]),
            n if n == channels => Ok(bias.to_vec()),
            n => Err(self.invalid(kind, format!("expected {channels} biases, got {n}"))),
        }
    }

    /// Checks that every weight fits `format` and packs `ordered` (the same
    /// values in the kernel's order).
    fn pack(&self, kind: OpKind, onnx: &[i32], ordered: &[i32], format: WeightFormat) -> Result<Packed, BuildError> {
        self.ensure(format.is_valid(), kind, "weight bit width must be 1 to 8")?;
        if let Some(index) = onnx.iter().position(|&v| !format.contains(v)) {
            return Err(BuildError::WeightOutOfRange {
                op: self.ops.len(),
                index,
                value: onnx[index],
                format,
            });
        }
        let count = ordered.len() as u64;
        format
            .packed_len(count)
            .ok_or(BuildError::TooLarge("more than 2^32 weight bits in one layer"))?;
        let bytes = pack(ordered, format).map_err(|_| self.invalid(kind, "weight out of range"))?;
        Ok(Packed { bytes, count, format })
    }

    /// Checks that `|bias| + Σ|w| · max|x - zx|` fits an `i32` for every
    /// output channel (`rows` yields each channel's weights), so wrapping
    /// accumulation is exact.
    fn check_accumulators<'w>(
        &self,
        input: &TensorQuant,
        rows: impl Iterator<Item = &'w [i32]>,
        bias: &[i32],
    ) -> Result<(), BuildError> {
        let deviation = max_deviation(input);
        for (channel, (row, &b)) in rows.zip(bias).enumerate() {
            let sum_abs: i64 = row.iter().map(|&w| i64::from(w).abs()).sum();
            if sum_abs * deviation + i64::from(b).abs() > i64::from(i32::MAX) {
                return Err(BuildError::AccumulatorOverflow {
                    op: self.ops.len(),
                    channel,
                });
            }
        }
        Ok(())
    }

    /// Appends a blob to the data section (4-aligned); returns its offset.
    fn push_blob(&mut self, bytes: &[u8]) -> Result<u32, BuildError> {
        let offset = self.data.len().next_multiple_of(BLOB_ALIGN);
        self.data.resize(offset, 0);
        self.data.extend_from_slice(bytes);
        u32::try_from(self.data.len())
            .ok()
            .and(u32::try_from(offset).ok())
            .ok_or(BuildError::TooLarge("more than 4 GiB of constants"))
    }

    /// Appends the constants of a weighted op and returns its [`Affine`].
    fn push_affine(&mut self, packed: &Packed, bias: &[i32], r: &Requant) -> Result<Affine, BuildError> {
        let weights = Blob {
            offset: self.push_blob(&packed.bytes)?,
            len: packed.bytes.len() as u32,
        };
        let bias = self.push_blob(&bias.iter().flat_map(|b| b.to_le_bytes()).collect::<Vec<_>>())?;
        Ok(Affine {
            format: packed.format,
            weights,
            bias,
            requant: self.push_requant(r)?,
        })
    }

    /// Appends the multipliers of an output stage and returns its record.
    fn push_requant(&mut self, r: &Requant) -> Result<RequantRecord, BuildError> {
        let bytes: Vec<u8> = r.multipliers.iter().flat_map(|m| m.to_le_bytes()).collect();
        Ok(RequantRecord {
            multipliers: self.push_blob(&bytes)?,
            count: r.multipliers.len() as u32,
            lo: r.lo,
            hi: r.hi,
        })
    }

    /// Appends the op and its output tensor.
    fn push_op(
        &mut self,
        input: TensorId,
        shape: Shape,
        quant: TensorQuant,
        body: OpBody,
        report: OpReport,
    ) -> Result<TensorId, BuildError> {
        if self.ops.len() >= usize::from(u16::MAX) {
            return Err(BuildError::TooLarge("more than 65 535 ops"));
        }
        let output = self.new_tensor(shape, quant, None)?;
        self.ops.push(OpDef {
            input,
            output,
            body,
            report,
        });
        Ok(output)
    }

    /// Adds a convolution (ONNX `Conv` with `QLinearConv` requantization).
    ///
    /// The zero-point correction is folded into the stored bias
    /// (`bias - zx · Σ w`, kept modulo 2^32) and padding reads as `zx`.
    pub fn conv(&mut self, input: TensorId, p: ConvParams) -> Result<TensorId, BuildError> {
        let kind = OpKind::Conv;
        let x = self.tensor(input)?.clone();
        let [c, h, w] = self.spatial(kind, &x.shape)?;
        let (window, geometry) = self.window(kind, p.kernel, p.stride, p.dilation, p.pads, [0, 0])?;
        let (o, g) = (p.out_channels, p.groups);
        self.ensure(
            o > 0 && g > 0 && c % g == 0 && o % g == 0,
            kind,
            "groups must divide input and output channels",
        )?;
        let [oh, ow] = geometry
            .conv_output([h, w])
            .ok_or_else(|| self.invalid(kind, "the kernel is larger than the padded input"))?;
        let shape = self.spatial_output(kind, &x.shape, [o, oh, ow])?;
        let taps = (c / g)
            .checked_mul(p.kernel[0] * p.kernel[1])
            .filter(|t| t.checked_mul(o).is_some());
        let taps = taps.ok_or_else(|| self.invalid(kind, "too many weights"))?;
        self.ensure(
            p.weights.len() == o * taps,
            kind,
            &format!("expected {} weights (O,C/g,kH,kW)", o * taps),
        )?;
        let bias = self.bias(kind, &p.bias, o)?;
        self.check_requant(kind, &p.requant, o, "per tensor or per output channel")?;
        let packed = self.pack(kind, &p.weights, &p.weights, p.weight_format)?;
        self.check_accumulators(&x.quant, p.weights.chunks(taps), &bias)?;
        let folded = fold_zero_point(&bias, p.weights.chunks(taps), x.quant.zero_point);
        let affine = self.push_affine(&packed, &folded, &p.requant)?;
        let macs = (p.weights.len() as u64).saturating_mul((oh * ow) as u64);
        let report = weighted_report(kind, shape, &packed, &p.requant, macs);
        let body = OpBody::Conv {
            window,
            groups: g as u32,
            affine,
        };
        self.push_op(input, shape, p.requant.output, body, report)
    }

    /// Adds a transposed convolution (ONNX `ConvTranspose`), requantized like
    /// [`ProgramBuilder::conv`]. Weights are reordered to `[O][C/g][kH][kW]`.
    pub fn conv_transpose(&mut self, input: TensorId, p: ConvTransposeParams) -> Result<TensorId, BuildError> {
        let kind = OpKind::ConvTranspose;
        let x = self.tensor(input)?.clone();
        let [c, h, w] = self.spatial(kind, &x.shape)?;
        let (window, geometry) = self.window(kind, p.kernel, p.stride, p.dilation, p.pads, p.output_padding)?;
        let (o, g) = (p.out_channels, p.groups);
        self.ensure(
            o > 0 && g > 0 && c % g == 0 && o % g == 0,
            kind,
            "groups must divide input and output channels",
        )?;
        let small = (0..2).all(|a| p.output_padding[a] < p.stride[a].max(p.dilation[a]));
        self.ensure(small, kind, "output padding must be below the stride or the dilation")?;
        let [oh, ow] = geometry
            .conv_transpose_output([h, w])
            .ok_or_else(|| self.invalid(kind, "the pads crop the whole output"))?;
        let shape = self.spatial_output(kind, &x.shape, [o, oh, ow])?;
        let [kh, kw] = p.kernel;
        let (cig, cog) = (c / g, o / g);
        let expected = (c * cog)
            .checked_mul(kh * kw)
            .ok_or_else(|| self.invalid(kind, "too many weights"))?;
        self.ensure(
            p.weights.len() == expected,
            kind,
            &format!("expected {expected} weights (C,O/g,kH,kW)"),
        )?;
        // [C][O/g][kH][kW] → [O][C/g][kH][kW].
        let mut ordered = Vec::with_capacity(expected);
        for oc in 0..o {
            let (group, oc_in_group) = (oc / cog, oc % cog);
            for ic in group * cig..(group + 1) * cig {
                let start = (ic * cog + oc_in_group) * kh * kw;
                ordered.extend_from_slice(&p.weights[start..start + kh * kw]);
            }
        }
        let bias = self.bias(kind, &p.bias, o)?;
        self.check_requant(kind, &p.requant, o, "per tensor or per output channel")?;
        let packed = self.pack(kind, &p.weights, &ordered, p.weight_format)?;
        self.check_accumulators(&x.quant, ordered.chunks(cig * kh * kw), &bias)?;
        let affine = self.push_affine(&packed, &bias, &p.requant)?;
        let hits =
            |a: usize, n: usize, out: usize| transpose_hits(n, p.kernel[a], p.stride[a], p.dilation[a], p.pads[a], out);
        let macs = ((c * cog) as u64)
            .saturating_mul(hits(0, h, oh))
            .saturating_mul(hits(1, w, ow));
        let report = weighted_report(kind, shape, &packed, &p.requant, macs);
        let body = OpBody::ConvTranspose {
            window,
            groups: g as u32,
            affine,
        };
        self.push_op(input, shape, p.requant.output, body, report)
    }

    /// Adds a dense layer over the input's elements in `C,H,W` order (so a
    /// preceding ONNX `Flatten` needs no op and no weight permutation).
    pub fn dense(&mut self, input: TensorId, p: DenseParams) -> Result<TensorId, BuildError> {
        let kind = OpKind::Dense;
        let x = self.tensor(input)?.clone();
        let (n, o) = (x.shape.elements(), p.out_features);
        self.ensure(o > 0, kind, "at least one output feature")?;
        let shape = shape_of(&[o])?;
        self.ensure(
            o.checked_mul(n) == Some(p.weights.len()),
            kind,
            &format!("expected {} weights (out, in)", o * n),
        )?;
        let bias = self.bias(kind, &p.bias, o)?;
        self.check_requant(kind, &p.requant, o, "per tensor or per output feature")?;
        let packed = self.pack(kind, &p.weights, &p.weights, p.weight_format)?;
        self.check_accumulators(&x.quant, p.weights.chunks(n), &bias)?;
        let folded = fold_zero_point(&bias, p.weights.chunks(n), x.quant.zero_point);
        let affine = self.push_affine(&packed, &folded, &p.requant)?;
        let report = weighted_report(kind, shape, &packed, &p.requant, (o * n) as u64);
        self.push_op(input, shape, p.requant.output, OpBody::Dense { affine }, report)
    }

    /// Checks a pooling window over `input`; returns the window, the output
    /// shape and the kernel area.
    fn pool_window(&self, kind: OpKind, x: &Shape, p: &PoolParams) -> Result<(Window, Shape, usize), BuildError> {
        let [c, h, w] = self.spatial(kind, x)?;
        let (window, geometry) = self.window(kind, p.kernel, p.stride, p.dilation, p.pads, [0, 0])?;
        self.ensure(
            geometry.pads_smaller_than_kernel(),
            kind,
            "pads must be smaller than the kernel",
        )?;
        let [oh, ow] = geometry
            .conv_output([h, w])
            .ok_or_else(|| self.invalid(kind, "the kernel is larger than the padded input"))?;
        let never_empty = geometry.windows_never_empty([h, w]);
        self.ensure(
            never_empty,
            kind,
            "a window (stepping over the input with its dilation) sees only padding",
        )?;
        Ok((
            window,
            self.spatial_output(kind, x, [c, oh, ow])?,
            p.kernel[0] * p.kernel[1],
        ))
    }

    /// Adds ONNX `MaxPool` (floor mode); the output keeps the input's
    /// quantization.
    pub fn max_pool(&mut self, input: TensorId, p: PoolParams) -> Result<TensorId, BuildError> {
        let x = self.tensor(input)?.clone();
        let (window, shape, _) = self.pool_window(OpKind::MaxPool, &x.shape, &p)?;
        let report = plain_report(OpKind::MaxPool, shape, 0);
        self.push_op(input, shape, x.quant, OpBody::MaxPool { window }, report)
    }

    /// Adds average pooling (see [`AvgPoolParams`]).
    pub fn avg_pool(&mut self, input: TensorId, p: AvgPoolParams) -> Result<TensorId, BuildError> {
        let kind = OpKind::AvgPool;
        let x = self.tensor(input)?.clone();
        let (window, shape, area) = self.pool_window(kind, &x.shape, &p.pool)?;
        self.check_requant(kind, &p.requant, area, "one per window size 1..=kH·kW")?;
        if area as i64 * max_deviation(&x.quant) > i64::from(i32::MAX) {
            return Err(BuildError::AccumulatorOverflow {
                op: self.ops.len(),
                channel: 0,
            });
        }
        let requant = self.push_requant(&p.requant)?;
        let report = plain_report(kind, shape, 4 * p.requant.multipliers.len());
        let body = OpBody::AvgPool {
            window,
            count_include_pad: p.count_include_pad,
            requant,
        };
        self.push_op(input, shape, p.requant.output, body, report)
    }

    /// Adds an elementwise `Add` of two tensors of the same shape.
    pub fn add(&mut self, a: TensorId, b: TensorId, p: AddParams) -> Result<TensorId, BuildError> {
        let kind = OpKind::Add;
        let (xa, xb) = (self.tensor(a)?.clone(), self.tensor(b)?.clone());
        self.ensure(
            xa.shape == xb.shape,
            kind,
            "both inputs must have the same shape (no broadcasting)",
        )?;
        if !p.output.is_valid() {
            return Err(BuildError::InvalidQuant(p.output));
        }
        self.check_clamp(kind, &p.output, p.lo, p.hi)?;
        let body = OpBody::Add {
            input_b: b.0,
            lo: p.lo,
            hi: p.hi,
        };
        self.push_op(a, xa.shape, p.output, body, plain_report(kind, xa.shape, 0))
    }

    /// Adds an elementwise lookup table. `table[b]` is the output value for
    /// the stored input byte `b` (two's complement for signed inputs: entry
    /// `0x80` is for the value -128; see [`lut_from_fn`]); every entry must
    /// lie in `output.range()`.
    pub fn lut(&mut self, input: TensorId, table: &[i32; 256], output: TensorQuant) -> Result<TensorId, BuildError> {
        let kind = OpKind::Lut;
        let x = self.tensor(input)?.clone();
        if !output.is_valid() {
            return Err(BuildError::InvalidQuant(output));
        }
        let (lo, hi) = output.range();
        self.ensure(
            table.iter().all(|v| (lo..=hi).contains(v)),
            kind,
            "table entry outside the output range",
        )?;
        let bytes: Vec<u8> = table.iter().map(|&v| v as u8).collect();
        let body = OpBody::Lut {
            table: self.push_blob(&bytes)?,
        };
        self.push_op(input, x.shape, output, body, plain_report(kind, x.shape, 256))
    }

    /// Reinterprets a tensor with another shape of the same element count
    /// (ONNX `Reshape`/`Flatten`): a view, no op and no copy.
    pub fn reshape(&mut self, input: TensorId, shape: &[usize]) -> Result<TensorId, BuildError> {
        let x = self.tensor(input)?.clone();
        let new = shape_of(shape)?;
        if new.elements() != x.shape.elements() {
            return Err(BuildError::InvalidShape(shape.to_vec()));
        }
        self.new_tensor(new, x.quant, Some(input))
    }
}

/// A lookup table for [`ProgramBuilder::lut`] from a function of the input
/// value: entry `b` is `f(value of byte b)`, reading `b` as `i8` if
/// `input_signed`.
pub fn lut_from_fn(input_signed: bool, f: impl Fn(i32) -> i32) -> [i32; 256] {
    let values = Values::new(input_signed);
    std::array::from_fn(|b| f(values.get(b as u8)))
}

/// The largest `|x - zx|` over the input's declared range.
fn max_deviation(q: &TensorQuant) -> i64 {
    let (lo, hi) = q.range();
    let zx = i64::from(q.zero_point);
    (i64::from(lo) - zx).abs().max((i64::from(hi) - zx).abs())
}

/// `bias - zx · Σ w` per channel, kept modulo 2^32 (the kernels add the
/// rest with wrapping arithmetic, and the exact total fits an `i32`).
fn fold_zero_point<'w>(bias: &[i32], rows: impl Iterator<Item = &'w [i32]>, zx: i32) -> Vec<i32> {
    bias.iter()
        .zip(rows)
        .map(|(&b, row)| {
            let sum: i64 = row.iter().map(|&w| i64::from(w)).sum();
            (i64::from(b) - i64::from(zx) * sum) as i32
        })
        .collect()
}

/// Number of `(input, tap)` pairs along one axis of a transposed
/// convolution that land inside the (cropped) output.
fn transpose_hits(n: usize, k: usize, s: usize, d: usize, pad: usize, out: usize) -> u64 {
    let mut hits = 0;
    for i in 0..n {
        for t in 0..k {
            let pos = (i * s + t * d) as i64 - pad as i64;
            hits += u64::from((0..out as i64).contains(&pos));
        }
    }
    hits
}

/// The report of a weighted op (arena filled in by `finish`).
fn weighted_report(kind: OpKind, shape: Shape, packed: &Packed, r: &Requant, macs: u64) -> OpReport {
    let channels = shape.dims().first().copied().unwrap_or(0) as usize;
    OpReport {
        kind,
        output_shape: shape,
        weight_count: packed.count,
        weight_bits: packed.format.bits(),
        weight_bytes: packed.bytes.len(),
        param_bytes: 4 * channels + 4 * r.multipliers.len(),
        arena_bytes: 0,
        macs,
    }
}

/// The report of an op without weights (arena filled in by `finish`).
fn plain_report(kind: OpKind, output_shape: Shape, param_bytes: usize) -> OpReport {
    OpReport {
        kind,
        output_shape,
        weight_count: 0,
        weight_bits: 0,
        weight_bytes: 0,
        param_bytes,
        arena_bytes: 0,
        macs: 0,
    }
}

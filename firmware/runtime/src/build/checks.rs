//! Argument checks, weight packing and constant emission shared by the op
//! methods of [`ProgramBuilder`].

use super::params::{PoolParams, Requant};
use super::select::Choice;
use super::{BuildError, OpDef, OpReport, ProgramBuilder, TensorId, shape_of};
use crate::format::{
    Affine, BLOB_ALIGN, Blob, Kernel, OpBody, OpKind, Requant as RequantRecord, Shape, TensorQuant, WeightFormat,
    Window, pack,
};
use crate::kernels::Geometry;

/// A layer's weights, checked and packed.
pub(super) struct Packed {
    /// The bitstream.
    pub(super) bytes: Vec<u8>,
    /// Number of weights.
    pub(super) count: u64,
    /// Their format.
    pub(super) format: WeightFormat,
}

impl ProgramBuilder {
    /// `InvalidParams` for the op about to be added.
    pub(super) fn invalid(&self, kind: OpKind, reason: impl Into<String>) -> BuildError {
        BuildError::InvalidParams {
            op: self.ops.len(),
            kind,
            reason: reason.into(),
        }
    }

    /// Fails unless `ok`.
    pub(super) fn ensure(&self, ok: bool, kind: OpKind, reason: &str) -> Result<(), BuildError> {
        if ok { Ok(()) } else { Err(self.invalid(kind, reason)) }
    }

    /// Checks and narrows a window geometry to the record's `u16` fields.
    pub(super) fn window(
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
    pub(super) fn spatial(&self, kind: OpKind, shape: &Shape) -> Result<[usize; 3], BuildError> {
        shape
            .chw()
            .ok_or_else(|| self.invalid(kind, "the input must have rank 2 (C,L) or 3 (C,H,W)"))
    }

    /// The output shape `[C, H, W]`, written with the input's rank.
    pub(super) fn spatial_output(
        &self,
        kind: OpKind,
        input: &Shape,
        [c, h, w]: [usize; 3],
    ) -> Result<Shape, BuildError> {
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
    pub(super) fn check_requant(
        &self,
        kind: OpKind,
        r: &Requant,
        channels: usize,
        what: &str,
    ) -> Result<(), BuildError> {
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
    pub(super) fn check_clamp(&self, kind: OpKind, output: &TensorQuant, lo: i32, hi: i32) -> Result<(), BuildError> {
        let (min, max) = output.range();
        let ok = min <= lo && lo <= hi && hi <= max;
        self.ensure(
            ok,
            kind,
            &format!("clamp [{lo}, {hi}] is empty or outside the output range [{min}, {max}]"),
        )
    }

    /// Checks a bias vector (empty means zeros).
    pub(super) fn bias(&self, kind: OpKind, bias: &[i32], channels: usize) -> Result<Vec<i32>, BuildError> {
        match bias.len() {
            0 => Ok(vec![0; channels]),
            n if n == channels => Ok(bias.to_vec()),
            n => Err(self.invalid(kind, format!("expected {channels} biases, got {n}"))),
        }
    }

    /// Checks that every weight fits `format` and packs `ordered` (the same
    /// values in the kernel's order).
    pub(super) fn pack(
        &self,
        kind: OpKind,
        onnx: &[i32],
        ordered: &[i32],
        format: WeightFormat,
    ) -> Result<Packed, BuildError> {
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
    pub(super) fn check_accumulators<'w>(
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
    pub(super) fn push_blob(&mut self, bytes: &[u8]) -> Result<u32, BuildError> {
        let offset = self.data.len().next_multiple_of(BLOB_ALIGN);
        self.data.resize(offset, 0);
        self.data.extend_from_slice(bytes);
        u32::try_from(self.data.len())
            .ok()
            .and(u32::try_from(offset).ok())
            .ok_or(BuildError::TooLarge("more than 4 GiB of constants"))
    }

    /// Appends the constants of a weighted op and returns its [`Affine`].
    pub(super) fn push_affine(&mut self, packed: &Packed, bias: &[i32], r: &Requant) -> Result<Affine, BuildError> {
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
    pub(super) fn push_requant(&mut self, r: &Requant) -> Result<RequantRecord, BuildError> {
        let bytes: Vec<u8> = r.multipliers.iter().flat_map(|m| m.to_le_bytes()).collect();
        Ok(RequantRecord {
            multipliers: self.push_blob(&bytes)?,
            count: r.multipliers.len() as u32,
            lo: r.lo,
            hi: r.hi,
        })
    }

    /// Appends the op, run by `choice`, and its output tensor.
    pub(super) fn push_op(
        &mut self,
        input: TensorId,
        (shape, quant): (Shape, TensorQuant),
        body: OpBody,
        choice: Choice,
        mut report: OpReport,
    ) -> Result<TensorId, BuildError> {
        if self.ops.len() >= usize::from(u16::MAX) {
            return Err(BuildError::TooLarge("more than 65 535 ops"));
        }
        if u32::try_from(choice.scratch).is_err() {
            return Err(BuildError::TooLarge("scratch memory above 4 GiB"));
        }
        let output = self.new_tensor(shape, quant, None)?;
        report.kernel = choice.kernel;
        report.scratch_bytes = choice.scratch;
        self.ops.push(OpDef {
            input,
            output,
            body,
            kernel: choice.kernel,
            scratch: choice.scratch,
            report,
        });
        Ok(output)
    }

    /// Checks a pooling window over `input`; returns the window, the output
    /// shape and the kernel area.
    pub(super) fn pool_window(
        &self,
        kind: OpKind,
        x: &Shape,
        p: &PoolParams,
    ) -> Result<(Window, Shape, usize), BuildError> {
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
}

/// The largest `|x - zx|` over the input's declared range.
pub(super) fn max_deviation(q: &TensorQuant) -> i64 {
    let (lo, hi) = q.range();
    let zx = i64::from(q.zero_point);
    (i64::from(lo) - zx).abs().max((i64::from(hi) - zx).abs())
}

/// `bias - zx · Σ w` per channel, kept modulo 2^32 (the kernels add the
/// rest with wrapping arithmetic, and the exact total fits an `i32`).
pub(super) fn fold_zero_point<'w>(bias: &[i32], rows: impl Iterator<Item = &'w [i32]>, zx: i32) -> Vec<i32> {
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
pub(super) fn transpose_hits(n: usize, k: usize, s: usize, d: usize, pad: usize, out: usize) -> u64 {
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
pub(super) fn weighted_report(
    kind: OpKind,
    shape: Shape,
    packed: &Packed,
    declared: WeightFormat,
    r: &Requant,
    macs: u64,
) -> OpReport {
    let channels = shape.dims().first().copied().unwrap_or(0) as usize;
    OpReport {
        kind,
        output_shape: shape,
        weight_count: packed.count,
        weight_bits: declared.bits(),
        stored_bits: packed.format.bits(),
        weight_bytes: packed.bytes.len(),
        param_bytes: 4 * channels + 4 * r.multipliers.len(),
        arena_bytes: 0,
        macs,
        kernel: Kernel::Reference,
        scratch_bytes: 0,
    }
}

/// The report of an op without weights (arena filled in by `finish`).
pub(super) fn plain_report(kind: OpKind, output_shape: Shape, param_bytes: usize) -> OpReport {
    OpReport {
        kind,
        output_shape,
        weight_count: 0,
        weight_bits: 0,
        stored_bits: 0,
        weight_bytes: 0,
        param_bytes,
        arena_bytes: 0,
        macs: 0,
        kernel: Kernel::Reference,
        scratch_bytes: 0,
    }
}

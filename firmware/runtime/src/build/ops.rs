//! The op methods of [`ProgramBuilder`]: shape inference, build-time
//! folding and layout reordering; the checks and packing are in `checks`.

use super::checks::{fold_zero_point, max_deviation, plain_report, transpose_hits, weighted_report};
use super::params::{AddParams, AvgPoolParams, ConvParams, ConvTransposeParams, DenseParams, PoolParams};
use super::select::{self, Choice, ConvShape};
use super::{BuildError, ProgramBuilder, TensorId, shape_of};
use crate::format::{Kernel, OpBody, OpKind, TensorQuant, WeightFormat};
use crate::kernels::{self, Values};

impl ProgramBuilder {
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
        let declared = self.pack(kind, &p.weights, &p.weights, p.weight_format)?;
        self.check_accumulators(&x.quant, p.weights.chunks(taps), &bias)?;
        let folded = fold_zero_point(&bias, p.weights.chunks(taps), x.quant.zero_point);
        let mut conv_shape = ConvShape {
            input: [c, h, w],
            geometry,
            groups: g,
            weights: &p.weights,
            format: p.weight_format,
        };
        let mut choice = select::conv(self.policy, &x, &conv_shape);
        if choice.kernel == Kernel::Gemm {
            conv_shape.format = select::stored_format(self.policy, kind, p.weight_format, &p.weights, taps);
            choice = select::conv(self.policy, &x, &conv_shape);
        }
        let packed = match conv_shape.format {
            f if f == p.weight_format => declared,
            f => self.pack(kind, &p.weights, &p.weights, f)?,
        };
        let affine = self.push_affine(&packed, &folded, &p.requant)?;
        let macs = (p.weights.len() as u64).saturating_mul((oh * ow) as u64);
        let report = weighted_report(kind, shape, &packed, p.weight_format, &p.requant, macs);
        let body = OpBody::Conv {
            window,
            groups: g as u32,
            affine,
        };
        self.push_op(input, (shape, p.requant.output), body, choice, report)
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
        let report = weighted_report(kind, shape, &packed, p.weight_format, &p.requant, macs);
        let body = OpBody::ConvTranspose {
            window,
            groups: g as u32,
            affine,
        };
        self.push_op(input, (shape, p.requant.output), body, Choice::REFERENCE, report)
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
        let declared = self.pack(kind, &p.weights, &p.weights, p.weight_format)?;
        self.check_accumulators(&x.quant, p.weights.chunks(n), &bias)?;
        let folded = fold_zero_point(&bias, p.weights.chunks(n), x.quant.zero_point);
        let binary = p.weight_format == WeightFormat::Bipolar && kernels::binary::two_level(&x.quant, x.bipolar);
        let format = match binary {
            true => p.weight_format,
            false => select::stored_format(self.policy, kind, p.weight_format, &p.weights, n),
        };
        let choice = select::dense(self.policy, &x, n, &p.weights, format);
        let mut packed = match format {
            f if f == p.weight_format => declared,
            f => self.pack(kind, &p.weights, &p.weights, f)?,
        };
        // The same weights (checked above) in the kernel's layout.
        if choice.kernel == Kernel::Nibbles {
            packed.bytes = kernels::nibbles::pack(&p.weights, n);
        } else if choice.kernel == Kernel::Binary && kernels::binary::columns(n, o) {
            packed.bytes = kernels::binary::pack_columns(&p.weights, n);
            let levels = kernels::binary::Levels::of(&x.quant, x.bipolar);
            let r = &p.requant;
            let stage = levels.and_then(|levels| {
                let output = (r.output.zero_point, r.lo, r.hi);
                kernels::binary::pack_stage(&p.weights, n, levels, &folded, &r.multipliers, output)
            });
            packed.bytes.extend(stage.unwrap_or_default());
        }
        let affine = self.push_affine(&packed, &folded, &p.requant)?;
        let report = weighted_report(kind, shape, &packed, p.weight_format, &p.requant, (o * n) as u64);
        let body = OpBody::Dense { affine };
        self.push_op(input, (shape, p.requant.output), body, choice, report)
    }

    /// Adds ONNX `MaxPool` (floor mode); the output keeps the input's
    /// quantization.
    pub fn max_pool(&mut self, input: TensorId, p: PoolParams) -> Result<TensorId, BuildError> {
        let x = self.tensor(input)?.clone();
        let (window, shape, _) = self.pool_window(OpKind::MaxPool, &x.shape, &p)?;
        let report = plain_report(OpKind::MaxPool, shape, 0);
        let body = OpBody::MaxPool { window };
        let y = self.push_op(input, (shape, x.quant), body, Choice::REFERENCE, report)?;
        // The largest of values that are all -1 or +1 is -1 or +1.
        self.tensors[y.index()].bipolar = x.bipolar;
        Ok(y)
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
        self.push_op(input, (shape, p.requant.output), body, Choice::REFERENCE, report)
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
        let report = plain_report(kind, xa.shape, 0);
        self.push_op(a, (xa.shape, p.output), body, Choice::REFERENCE, report)
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
        let report = plain_report(kind, x.shape, 256);
        self.push_op(input, (x.shape, output), body, Choice::REFERENCE, report)
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

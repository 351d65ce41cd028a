//! Quantization operators: QuantizeLinear, DequantizeLinear, Clip on
//! integers, QLinearConv, QLinearMatMul, and QONNX Quant/BipolarQuant/Trunc.

use super::ImportError;
use super::context::Importer;
use crate::ir::{
    DType, Op, QuantParams, QuantizeAttrs, Tensor, TruncAttrs, ValueId, fitting_bits, parse_rounding, range_to_bits,
};
use crate::onnx::proto;
use lowbit_runtime::arith::Rounding;

/// How the bit width of a value that gets its scale is decided.
#[derive(Clone, Copy, PartialEq)]
enum Bits {
    /// From the storage type, or a Clip that narrowed it.
    Declared,
    /// The narrowest range holding a constant's values (QOp weights).
    Fitting,
}

/// Per-tensor or per-channel scale and zero point read from constants.
struct ScaleZp {
    scale: Vec<f32>,
    zero_point: Vec<i64>,
    axis: Option<usize>,
}

impl Importer<'_> {
    /// Scale and zero point inputs `s`, `z` of an ONNX Q/DQ-style node reading a rank-`rank` tensor.
    fn onnx_scale_zp(
        &self,
        node: &proto::NodeProto,
        s: usize,
        z: usize,
        axis_attr: Option<i64>,
        rank: Option<usize>,
    ) -> Result<(ScaleZp, Option<DType>), ImportError> {
        let scale_t = self
            .constant_input(node, s)?
            .ok_or_else(|| ImportError::node(node, format!("input {s} (scale) is required")))?;
        let scale =
            scale_t.as_f32().ok_or_else(|| ImportError::node(node, "the scale must be a float32 tensor"))?.to_vec();
        let zp_t = self.constant_input(node, z)?;
        let zp_dtype = zp_t.map(|t| t.dtype);
        let zero_point = match zp_t {
            None => vec![0],
            Some(t) => {
                t.as_int().ok_or_else(|| ImportError::node(node, "the zero point must be an integer tensor"))?.to_vec()
            }
        };
        if scale_t.shape.len() > 1 {
            return Err(ImportError::node(
                node,
                "the scale must be a scalar or 1-D (blocked quantization is not supported)",
            ));
        }
        let axis = if scale.len() > 1 || zero_point.len() > 1 {
            let rank =
                rank.ok_or_else(|| ImportError::node(node, "per-channel parameters need the input's rank"))? as i64;
            let a = axis_attr.unwrap_or(1);
            let a = if a < 0 { a + rank } else { a };
            if !(0..rank).contains(&a) {
                return Err(ImportError::node(node, format!("axis {a} is outside the input's rank {rank}")));
            }
            Some(a as usize)
        } else {
            None
        };
        if zero_point.len() != scale.len() && zero_point.len() != 1 {
            return Err(ImportError::node(node, "scale and zero point differ in length"));
        }
        Ok((ScaleZp { scale, zero_point, axis }, zp_dtype))
    }

    /// Validates parameters, naming the node on failure.
    fn checked(&self, node: &proto::NodeProto, what: &str, p: QuantParams) -> Result<QuantParams, ImportError> {
        p.validate().map_err(|e| {
            ImportError::node(node, format!("{what}: {e}; re-export the model with valid quantizer parameters"))
        })?;
        Ok(p)
    }

    /// If the sole reader of ONNX tensor `name` is a Clip with constant
    /// bounds, returns the bounds and marks the Clip folded.
    fn take_following_clip(&mut self, name: &str) -> Result<Option<(i64, i64, String)>, ImportError> {
        let consumers = self.consumers_of(name);
        if consumers.len() != 1 || self.is_graph_output(name) {
            return Ok(None);
        }
        let index = consumers[0];
        let clip = self.onnx_node(index);
        if clip.op_type() != "Clip" || !(clip.domain().is_empty() || clip.domain() == "ai.onnx") {
            return Ok(None);
        }
        let (lo, hi) = match self.clip_bounds(clip)? {
            (Some(lo), Some(hi)) => (lo, hi),
            _ => return Ok(None),
        };
        if lo.fract() != 0.0 || hi.fract() != 0.0 {
            return Err(ImportError::node(clip, format!("bounds [{lo}, {hi}] on integers must be integers")));
        }
        self.folded.insert(index);
        let out = clip.output.first().cloned().unwrap_or_default();
        Ok(Some((lo as i64, hi as i64, out)))
    }

    /// Bit width, signedness and narrowness of an integer range stated by a Clip.
    fn clip_range(node: &proto::NodeProto, lo: i64, hi: i64, dtype: DType) -> Result<(u32, bool, bool), ImportError> {
        let (tmin, tmax) = dtype.int_range().unwrap_or((i64::MIN, i64::MAX));
        match range_to_bits(lo, hi) {
            Some(r) if tmin <= lo && hi <= tmax => Ok(r),
            _ => Err(ImportError::node(
                node,
                format!(
                    "Clip bounds [{lo}, {hi}] on {dtype} fit no integer range (signed [-2^(b-1), 2^(b-1)-1], \
                     narrow [-(2^(b-1)-1), 2^(b-1)-1], unsigned [0, 2^b-1]); lowbit reads bit widths from these bounds"
                ),
            )),
        }
    }

    /// Gives integer value `x` the scale and zero point a consumer reads it
    /// with, or checks that it already has them. Returns the value to use
    /// (a re-tagged copy for a constant read with other parameters).
    fn bind_params(
        &mut self,
        node: &proto::NodeProto,
        x: ValueId,
        sz: &ScaleZp,
        bits: Bits,
    ) -> Result<ValueId, ImportError> {
        let v = self.graph.value(x).clone();
        if !v.dtype.is_int() {
            return Err(ImportError::node(
                node,
                format!("input '{}' must be an integer tensor, not {}", v.name, v.dtype),
            ));
        }
        if let Some(q) = &v.quant {
            let same = q.scale == sz.scale && q.zero_point == sz.zero_point && q.axis == sz.axis;
            if same {
                return Ok(x);
            }
            if v.constant.is_none() {
                return Err(ImportError::node(
                    node,
                    format!(
                        "reads '{}' with scale {:?} / zero point {:?}, but it was quantized with {}; lowbit needs one quantization per tensor",
                        v.name, sz.scale, sz.zero_point, q
                    ),
                ));
            }
        }
        let (bits, signed, narrow) = match (self.pending_range.get(&x), &v.constant, bits) {
            (Some(&(lo, hi)), ..) => Self::clip_range(node, lo, hi, v.dtype)?,
            (None, Some(t), Bits::Fitting) => {
                let signed = v.dtype.int_bits().is_some_and(|(_, s)| s);
                let (b, n) = fitting_bits(t.as_int().unwrap_or_default(), signed);
                (b, signed, n)
            }
            _ => {
                let (b, s) = v.dtype.int_bits().unwrap_or((32, true));
                (b.min(32), s, false)
            }
        };
        let params = QuantParams {
            scale: sz.scale.clone(),
            zero_point: sz.zero_point.clone(),
            axis: sz.axis,
            bits,
            signed,
            narrow,
            bipolar: false,
        };
        let params = self.checked(node, &format!("quantization of '{}'", v.name), params)?;
        if let Some(t) = &v.constant {
            let (lo, hi) = params.range();
            if let Some(bad) = t.as_int().unwrap_or_default().iter().find(|&&q| q < lo || q > hi) {
                return Err(ImportError::node(
                    node,
                    format!("constant '{}' holds {bad}, outside its {} range", v.name, params.describe()),
                ));
            }
            if v.quant.is_some() {
                return Ok(self.add_constant_value(&v.name, t.clone(), Some(params)));
            }
        }
        self.graph.values[x.0].quant = Some(params);
        Ok(x)
    }

    /// Quantizes a float constant at import time (weights given in float).
    fn fold_quantize(&mut self, name: &str, t: &Tensor, params: QuantParams, attrs: QuantizeAttrs) -> ValueId {
        let range = params.range();
        let values = t.as_f32().unwrap_or_default();
        let ints = values
            .iter()
            .zip(params.channels(&t.shape))
            .map(|(&x, c)| attrs.apply(x, params.scale_at(c), params.zero_point_at(c), range, params.bipolar))
            .collect();
        let dtype = DType::storage_for(params.bits, params.signed || params.bipolar);
        self.add_constant_value(name, Tensor::int(dtype, t.shape.clone(), ints), Some(params))
    }

    pub(super) fn quantize_linear(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let x = self.required(node, 0)?;
        self.expect_float(node, x)?;
        let rank = self.shape_of(x).map(|s| s.len());
        let axis = self.attrs(node).int("axis")?;
        let (sz, zp_dtype) = self.onnx_scale_zp(node, 1, 2, axis, rank)?;
        let dtype = match (zp_dtype, self.attrs(node).int("output_dtype")?) {
            (Some(d), _) => d,
            (None, Some(code)) => crate::onnx::dtype_from_onnx(code as i32)
                .ok_or_else(|| ImportError::node(node, format!("output_dtype {code} is not supported")))?,
            (None, None) => DType::U8,
        };
        let (mut bits, signed) =
            dtype.int_bits().ok_or_else(|| ImportError::node(node, "the zero point must be an integer"))?;
        let mut narrow = false;
        let out_name = node.output.first().cloned().unwrap_or_default();
        let clip = self.take_following_clip(&out_name)?;
        let mut alias = None;
        if let Some((lo, hi, clip_out)) = clip {
            let clip_node = self.onnx_node(self.consumers_of(&out_name)[0]);
            let (b, s, n) = Self::clip_range(clip_node, lo, hi, dtype)?;
            if s != signed {
                return Err(ImportError::node(
                    clip_node,
                    format!("bounds [{lo}, {hi}] do not match the {dtype} quantizer"),
                ));
            }
            (bits, narrow) = (b, n);
            alias = Some(clip_out);
        }
        let params = QuantParams {
            scale: sz.scale,
            zero_point: sz.zero_point,
            axis: sz.axis,
            bits,
            signed,
            narrow,
            bipolar: false,
        };
        let params = self.checked(node, "output quantization", params)?;
        let id = match self.graph.constant(x).cloned() {
            Some(t) => {
                let id = self.fold_quantize(&out_name, &t, params, QuantizeAttrs::ONNX);
                self.alias(&out_name, id);
                id
            }
            None => self.add_node(node, Op::Quantize(QuantizeAttrs::ONNX), vec![x], dtype, Some(params))?,
        };
        if let Some(name) = alias {
            self.alias(&name, id);
        }
        Ok(())
    }

    pub(super) fn dequantize_linear(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let x = self.required(node, 0)?;
        let rank = self.shape_of(x).map(|s| s.len());
        let axis = self.attrs(node).int("axis")?;
        let (sz, _) = self.onnx_scale_zp(node, 1, 2, axis, rank)?;
        let x = self.bind_params(node, x, &sz, Bits::Declared)?;
        self.add_node(node, Op::Dequantize, vec![x], DType::F32, None)?;
        Ok(())
    }

    /// Clip: float values (HardTanh) or integers (a bit width narrowing).
    pub(super) fn clip(&mut self, _index: usize, node: &proto::NodeProto) -> Result<(), ImportError> {
        let x = self.required(node, 0)?;
        let v = self.graph.value(x).clone();
        if !v.dtype.is_int() {
            return self.float_clip(node, x);
        }
        let (Some(lo), Some(hi)) = self.clip_bounds(node)? else {
            return Err(ImportError::node(node, "a Clip on integers needs both bounds"));
        };
        let (lo, hi) = (lo as i64, hi as i64);
        let (bits, signed, narrow) = Self::clip_range(node, lo, hi, v.dtype)?;
        let out = node.output.first().cloned().unwrap_or_default();
        if let Some(t) = &v.constant {
            let ints = t.as_int().unwrap_or_default().iter().map(|q| (*q).clamp(lo, hi)).collect();
            let id = self.add_constant_value(&out, Tensor::int(t.dtype, t.shape.clone(), ints), None);
            self.pending_range.insert(id, (lo, hi));
            self.alias(&out, id);
            return Ok(());
        }
        let quant = v.quant.as_ref().map(|q| q.with_range(bits, signed, narrow));
        let attrs = crate::ir::ClipAttrs { min: Some(lo as f64), max: Some(hi as f64) };
        let id = self.add_node(node, Op::Clip(attrs), vec![x], v.dtype, quant)?;
        if v.quant.is_none() {
            self.pending_range.insert(id, (lo, hi));
        }
        Ok(())
    }

    /// The output parameters of an integer operator: `(y_scale, y_zero_point)`
    /// at inputs `s`, `z`, narrowed by a following Clip.
    fn integer_op_output(
        &mut self,
        node: &proto::NodeProto,
        s: usize,
        z: usize,
    ) -> Result<(DType, QuantParams, Option<String>), ImportError> {
        let (sz, zp_dtype) = self.onnx_scale_zp(node, s, z, None, None)?;
        if sz.axis.is_some() {
            return Err(ImportError::node(node, "per-channel output quantization is not supported"));
        }
        let dtype = zp_dtype.unwrap_or(DType::U8);
        let (mut bits, signed) =
            dtype.int_bits().ok_or_else(|| ImportError::node(node, "the output zero point must be an integer"))?;
        let mut narrow = false;
        let out_name = node.output.first().cloned().unwrap_or_default();
        let mut alias = None;
        if let Some((lo, hi, clip_out)) = self.take_following_clip(&out_name)? {
            let clip_node = self.onnx_node(self.consumers_of(&out_name)[0]);
            let (b, _, n) = Self::clip_range(clip_node, lo, hi, dtype)?;
            (bits, narrow) = (b, n);
            alias = Some(clip_out);
        }
        let params = QuantParams {
            scale: sz.scale,
            zero_point: sz.zero_point,
            axis: None,
            bits,
            signed,
            narrow,
            bipolar: false,
        };
        Ok((dtype, self.checked(node, "output quantization", params)?, alias))
    }

    /// An int32 bias constant given the accumulator scale `sx * sw[c]`.
    fn bind_bias(
        &mut self,
        node: &proto::NodeProto,
        b: ValueId,
        sx: f32,
        w: &QuantParams,
    ) -> Result<ValueId, ImportError> {
        let v = self.graph.value(b);
        if v.constant.is_none() || v.dtype != DType::I32 {
            return Err(ImportError::node(node, format!("bias '{}' must be an int32 constant", v.name)));
        }
        let scale: Vec<f32> = w.scale.iter().map(|&s| sx * s).collect();
        let axis = (scale.len() > 1).then_some(0);
        let sz = ScaleZp { zero_point: vec![0; scale.len()], scale, axis };
        self.bind_params(node, b, &sz, Bits::Declared)
    }

    pub(super) fn qlinear_conv(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let x = self.required(node, 0)?;
        let w = self.required(node, 3)?;
        if self.graph.constant(w).is_none() {
            return Err(ImportError::node(node, "the weights (input 3) must be a constant"));
        }
        let x_rank = self.shape_of(x).map(|s| s.len());
        let w_rank = self.shape_of(w).map(|s| s.len());
        let (sx, _) = self.onnx_scale_zp(node, 1, 2, None, x_rank)?;
        if sx.axis.is_some() {
            return Err(ImportError::node(node, "per-channel input quantization is not supported"));
        }
        let (sw, _) = self.onnx_scale_zp(node, 4, 5, Some(0), w_rank)?;
        let x = self.bind_params(node, x, &sx, Bits::Declared)?;
        let w = self.bind_params(node, w, &sw, Bits::Fitting)?;
        let mut inputs = vec![x, w];
        if let Some(b) = self.input(node, 8)? {
            let wq = self
                .graph
                .quant(w)
                .cloned()
                .ok_or_else(|| ImportError::node(node, "weights lost their quantization"))?;
            inputs.push(self.bind_bias(node, b, sx.scale[0], &wq)?);
        }
        let attrs = self.conv_attrs(node, x, w)?;
        let (dtype, params, alias) = self.integer_op_output(node, 6, 7)?;
        let id = self.add_node(node, Op::QLinearConv(attrs), inputs, dtype, Some(params))?;
        if let Some(name) = alias {
            self.alias(&name, id);
        }
        Ok(())
    }

    pub(super) fn qlinear_matmul(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let a = self.required(node, 0)?;
        let b = self.required(node, 3)?;
        if self.graph.constant(b).is_none() {
            return Err(ImportError::node(node, "the second operand (input 3) must be a constant"));
        }
        let (sa, _) = self.onnx_scale_zp(node, 1, 2, None, None)?;
        let (sb, _) = self.onnx_scale_zp(node, 4, 5, Some(1), Some(2))?;
        if sa.axis.is_some() {
            return Err(ImportError::node(node, "per-row quantization of the first operand is not supported"));
        }
        let a = self.bind_params(node, a, &sa, Bits::Declared)?;
        let b = self.bind_params(node, b, &sb, Bits::Fitting)?;
        let (dtype, params, alias) = self.integer_op_output(node, 6, 7)?;
        let id = self.add_node(node, Op::QLinearMatMul, vec![a, b], dtype, Some(params))?;
        if let Some(name) = alias {
            self.alias(&name, id);
        }
        Ok(())
    }

    /// Imports a QONNX node; `Ok(false)` when the op is unknown.
    pub(super) fn qonnx_op(&mut self, node: &proto::NodeProto) -> Result<bool, ImportError> {
        match node.op_type() {
            "Quant" => self.qonnx_quant(node, false)?,
            "BipolarQuant" => self.qonnx_quant(node, true)?,
            "Trunc" => self.qonnx_trunc(node)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A scalar QONNX parameter that must hold an integer (bit widths).
    fn integer_scalar(&self, node: &proto::NodeProto, k: usize, what: &str) -> Result<i64, ImportError> {
        let t = self
            .constant_input(node, k)?
            .ok_or_else(|| ImportError::node(node, format!("{what} (input {k}) is required")))?;
        let v = t.scalar_f64().ok_or_else(|| ImportError::node(node, format!("{what} must be a scalar")))?;
        if v.fract() != 0.0 || !v.is_finite() {
            return Err(ImportError::node(node, format!("{what} {v} is not an integer")));
        }
        Ok(v as i64)
    }

    /// QONNX scale / zero point tensors broadcast against a rank-`rank` input.
    fn qonnx_scale_zp(
        &self,
        node: &proto::NodeProto,
        s: usize,
        z: Option<usize>,
        rank: usize,
    ) -> Result<ScaleZp, ImportError> {
        let st = self.constant_input(node, s)?.ok_or_else(|| ImportError::node(node, "the scale is required"))?;
        let scale = st.as_f32().ok_or_else(|| ImportError::node(node, "the scale must be float32"))?.to_vec();
        let zt = match z {
            Some(z) => self.constant_input(node, z)?,
            None => None,
        };
        let zero_point = match zt {
            None => vec![0],
            Some(t) => t
                .to_f64_vec()
                .iter()
                .map(|&v| {
                    if v.fract() == 0.0 && v.is_finite() {
                        Ok(v as i64)
                    } else {
                        Err(ImportError::node(
                            node,
                            format!("zero point {v} is not an integer; lowbit needs integer zero points"),
                        ))
                    }
                })
                .collect::<Result<_, _>>()?,
        };
        let axis_of = |t: &Tensor| -> Result<Option<usize>, ImportError> {
            if t.len() <= 1 {
                return Ok(None);
            }
            let off = rank
                .checked_sub(t.shape.len())
                .ok_or_else(|| ImportError::node(node, "parameter rank exceeds the input's"))?;
            let big: Vec<usize> = t.shape.iter().enumerate().filter(|(_, d)| **d > 1).map(|(i, _)| i + off).collect();
            match big.as_slice() {
                [a] => Ok(Some(*a)),
                _ => Err(ImportError::node(
                    node,
                    format!("parameters of shape {:?} vary along more than one axis", t.shape),
                )),
            }
        };
        let axis = match (axis_of(st)?, zt.map(axis_of).transpose()?.flatten()) {
            (a, None) | (None, a) => a,
            (Some(a), Some(b)) if a == b => Some(a),
            _ => return Err(ImportError::node(node, "scale and zero point vary along different axes")),
        };
        Ok(ScaleZp { scale, zero_point, axis })
    }

    fn qonnx_quant(&mut self, node: &proto::NodeProto, bipolar_op: bool) -> Result<(), ImportError> {
        let x = self.required(node, 0)?;
        self.expect_float(node, x)?;
        let rank = self.rank_of(node, x)?;
        let a = self.attrs(node);
        let (sz, bits, signed, narrow, rounding) = if bipolar_op {
            (self.qonnx_scale_zp(node, 1, None, rank)?, 1, true, false, Rounding::HalfEven)
        } else {
            let bits = self.integer_scalar(node, 3, "bit width")?;
            if !(1..=32).contains(&bits) {
                return Err(ImportError::node(node, format!("bit width {bits} is outside 1..=32")));
            }
            let mode = a.string("rounding_mode")?.unwrap_or_else(|| "ROUND".into());
            let rounding = parse_rounding(&mode)
                .ok_or_else(|| ImportError::node(node, format!("rounding_mode '{mode}' is not a QONNX mode")))?;
            (
                self.qonnx_scale_zp(node, 1, Some(2), rank)?,
                bits as u32,
                a.flag("signed", true)?,
                a.flag("narrow", false)?,
                rounding,
            )
        };
        // QONNX evaluates a 1-bit signed Quant as bipolar.
        let bipolar = bipolar_op || (bits == 1 && signed);
        let params = QuantParams {
            scale: sz.scale,
            zero_point: sz.zero_point,
            axis: sz.axis,
            bits,
            signed,
            narrow: narrow && !bipolar,
            bipolar,
        };
        let params = self.checked(node, "quantizer", params)?;
        let attrs = QuantizeAttrs { rounding, zero_point_first: true };
        let out = node.output.first().cloned().unwrap_or_default();
        let q = match self.graph.constant(x).cloned() {
            Some(t) => self.fold_quantize(&format!("{out}_int"), &t, params, attrs),
            None => {
                let dtype = DType::storage_for(bits, signed || bipolar);
                let q = self.add_node(node, Op::Quantize(attrs), vec![x], dtype, Some(params))?;
                self.graph.values[q.0].name = format!("{out}_int");
                q
            }
        };
        self.add_node(node, Op::Dequantize, vec![q], DType::F32, None)?;
        Ok(())
    }

    fn qonnx_trunc(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        if node.input.len() < 6 {
            return Err(ImportError::node(
                node,
                "this is Trunc v1 (5 inputs, no output scale); lowbit reads Trunc v2 (6 inputs) as exported by Brevitas ≥ 0.11 / qonnx ≥ 0.4",
            ));
        }
        let x = self.required(node, 0)?;
        self.expect_float(node, x)?;
        let rank = self.rank_of(node, x)?;
        let input = self.qonnx_scale_zp(node, 1, Some(2), rank)?;
        let output = self.qonnx_scale_zp(node, 4, None, rank)?;
        if input.scale.len() != 1 || input.zero_point.len() != 1 || output.scale.len() != 1 {
            return Err(ImportError::node(node, "per-channel Trunc is not supported"));
        }
        let in_bits = self.integer_scalar(node, 3, "input bit width")?;
        let out_bits = self.integer_scalar(node, 5, "output bit width")?;
        if !(1..=32).contains(&in_bits) || !(1..=32).contains(&out_bits) {
            return Err(ImportError::node(node, format!("bit widths {in_bits} → {out_bits} must lie in 1..=32")));
        }
        let (s_in, s_out) = (input.scale[0], output.scale[0]);
        if !(s_in > 0.0 && s_out > 0.0 && s_in.is_finite() && s_out.is_finite()) {
            return Err(ImportError::node(node, format!("scales {s_in} → {s_out} must be positive and finite")));
        }
        // qonnx: trunc_scale = 2^round(log2(s_out / s_in)).
        let shift = ((s_out / s_in) as f64).log2().round() as i32;
        let trunc_scale = 2f64.powi(shift);
        let zp_out = input.zero_point[0] as f64 / trunc_scale;
        if zp_out.fract() != 0.0 {
            return Err(ImportError::node(node, format!("the output zero point {zp_out} is not an integer")));
        }
        let a = self.attrs(node);
        let mode = a.string("rounding_mode")?.unwrap_or_else(|| "FLOOR".into());
        let rounding = parse_rounding(&mode)
            .ok_or_else(|| ImportError::node(node, format!("rounding_mode '{mode}' is not a QONNX mode")))?;
        let signed = a.flag("signed", true)?;
        let params = QuantParams::per_tensor(s_out, zp_out as i64, out_bits as u32, signed, a.flag("narrow", false)?);
        let params = self.checked(node, "output quantization", params)?;
        let attrs = TruncAttrs {
            in_scale: s_in,
            in_zero_point: input.zero_point[0] as f32,
            in_bits: in_bits as u32,
            shift,
            rounding,
        };
        let out = node.output.first().cloned().unwrap_or_default();
        let q =
            self.add_node(node, Op::Trunc(attrs), vec![x], DType::storage_for(out_bits as u32, signed), Some(params))?;
        self.graph.values[q.0].name = format!("{out}_int");
        self.add_node(node, Op::Dequantize, vec![q], DType::F32, None)?;
        Ok(())
    }
}

//! Standard ONNX operators (float compute, shape ops, constants).

use super::ImportError;
use super::context::Importer;
use crate::ir::Tensor;
use crate::ir::{AvgPoolAttrs, ClipAttrs, ConvAttrs, ConvTransposeAttrs, DType, GemmAttrs, Op, PoolAttrs, SliceAttrs};
use crate::onnx::{proto, tensor_from_proto};

/// Strides, pads (begins then ends) and dilations of a windowed op.
type Window = (Vec<usize>, Vec<usize>, Vec<usize>);

impl Importer<'_> {
    /// Imports a default-domain node; `Ok(false)` when the op is unknown.
    pub(super) fn onnx_op(&mut self, index: usize, node: &proto::NodeProto) -> Result<bool, ImportError> {
        match node.op_type() {
            "Constant" => self.constant_node(node)?,
            "Identity" | "Dropout" => {
                let x = self.required(node, 0)?;
                self.alias(&node.output[0], x);
            }
            "QuantizeLinear" => self.quantize_linear(node)?,
            "DequantizeLinear" => self.dequantize_linear(node)?,
            "Clip" => self.clip(index, node)?,
            "QLinearConv" => self.qlinear_conv(node)?,
            "QLinearMatMul" => self.qlinear_matmul(node)?,
            "Conv" => self.conv(node)?,
            "ConvTranspose" => self.conv_transpose(node)?,
            "Gemm" => self.gemm(node)?,
            "MatMul" => self.float_op(node, Op::MatMul, 2)?,
            "Relu" => self.relu(node)?,
            "Add" => self.float_op(node, Op::Add, 2)?,
            "MaxPool" => self.max_pool(node)?,
            "AveragePool" => self.average_pool(node)?,
            "BatchNormalization" => self.batch_norm(node)?,
            "Flatten" => self.flatten(node)?,
            "Reshape" => self.reshape(node)?,
            "Slice" => self.slice(node)?,
            "Shape" | "Gather" | "Unsqueeze" | "Squeeze" | "Concat" | "Cast" => return self.shape_op(node),
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn constant_node(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let a = self.attrs(node);
        let t = if let Some(t) = a.tensor("value")? {
            tensor_from_proto(t)?
        } else if let Some(f) = a.float("value_float")? {
            Tensor::f32(vec![], vec![f])
        } else if let Some(i) = a.int("value_int")? {
            Tensor::int(DType::I64, vec![], vec![i])
        } else if let Some(v) = a.floats("value_floats")? {
            Tensor::f32(vec![v.len()], v)
        } else if let Some(v) = a.ints("value_ints")? {
            Tensor::int(DType::I64, vec![v.len()], v)
        } else {
            return Err(ImportError::node(
                node,
                "has no supported value attribute (value, value_float(s), value_int(s))",
            ));
        };
        self.add_constant(&node.output[0], t);
        Ok(())
    }

    /// A float op over the first `arity` inputs (all required, all float).
    fn float_op(&mut self, node: &proto::NodeProto, op: Op, arity: usize) -> Result<(), ImportError> {
        let inputs = (0..arity).map(|k| self.required(node, k)).collect::<Result<Vec<_>, _>>()?;
        for &i in &inputs {
            self.expect_float(node, i)?;
        }
        self.add_node(node, op, inputs, DType::F32, None)?;
        Ok(())
    }

    /// Inputs `x, w, [b]` of a convolution-like op, all float.
    fn float_operands(&self, node: &proto::NodeProto) -> Result<Vec<crate::ir::ValueId>, ImportError> {
        let mut inputs = vec![self.required(node, 0)?, self.required(node, 1)?];
        inputs.extend(self.input(node, 2)?);
        for &i in &inputs {
            self.expect_float(node, i)?;
        }
        Ok(inputs)
    }

    fn conv(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let inputs = self.float_operands(node)?;
        let attrs = self.conv_attrs(node, inputs[0], inputs[1])?;
        self.add_node(node, Op::Conv(attrs), inputs, DType::F32, None)?;
        Ok(())
    }

    fn conv_transpose(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let inputs = self.float_operands(node)?;
        let conv = self.conv_attrs(node, inputs[0], inputs[1])?;
        let a = self.attrs(node);
        if a.ints("output_shape")?.is_some() {
            return Err(ImportError::node(
                node,
                "attribute 'output_shape' is not supported; give pads and output_padding instead",
            ));
        }
        let output_padding = a.sizes("output_padding")?.unwrap_or_else(|| vec![0; conv.kernel.len()]);
        if output_padding.len() != conv.kernel.len() {
            return Err(ImportError::node(node, "output_padding needs one value per spatial axis"));
        }
        self.add_node(node, Op::ConvTranspose(ConvTransposeAttrs { conv, output_padding }), inputs, DType::F32, None)?;
        Ok(())
    }

    /// Reads Conv-style attributes, defaulting from the weight shape.
    pub(super) fn conv_attrs(
        &self,
        node: &proto::NodeProto,
        x: crate::ir::ValueId,
        w: crate::ir::ValueId,
    ) -> Result<ConvAttrs, ImportError> {
        let a = self.attrs(node);
        let kernel =
            match a.sizes("kernel_shape")? {
                Some(k) => k,
                None => self.shape_of(w).filter(|s| s.len() > 2).map(|s| s[2..].to_vec()).ok_or_else(|| {
                    ImportError::node(node, "kernel_shape is missing and the weight shape is unknown")
                })?,
            };
        let r = kernel.len();
        if !(1..=2).contains(&r) {
            return Err(ImportError::node(node, format!("{r}-D convolution is not supported (1-D and 2-D are)")));
        }
        let group = a.int("group")?.unwrap_or(1);
        if group < 1 {
            return Err(ImportError::node(node, format!("group {group} must be at least 1")));
        }
        let (strides, pads, dilations) = self.window_attrs(node, x, &kernel)?;
        Ok(ConvAttrs { kernel, strides, pads, dilations, group: group as usize })
    }

    /// Strides, pads (resolving `auto_pad`) and dilations of a windowed op.
    fn window_attrs(
        &self,
        node: &proto::NodeProto,
        x: crate::ir::ValueId,
        kernel: &[usize],
    ) -> Result<Window, ImportError> {
        let a = self.attrs(node);
        let r = kernel.len();
        let strides = a.sizes("strides")?.unwrap_or_else(|| vec![1; r]);
        let dilations = a.sizes("dilations")?.unwrap_or_else(|| vec![1; r]);
        let mut pads = a.sizes("pads")?.unwrap_or_else(|| vec![0; 2 * r]);
        if strides.len() != r || dilations.len() != r || pads.len() != 2 * r {
            return Err(ImportError::node(node, "strides, dilations and pads must match the kernel's rank"));
        }
        if strides.contains(&0) || dilations.contains(&0) || kernel.contains(&0) {
            return Err(ImportError::node(node, "kernel sizes, strides and dilations must be positive"));
        }
        match a.string("auto_pad")?.as_deref() {
            None | Some("NOTSET") => {}
            Some("VALID") => pads = vec![0; 2 * r],
            Some(mode @ ("SAME_UPPER" | "SAME_LOWER")) => {
                let shape = self.shape_of(x).filter(|s| s.len() == r + 2).ok_or_else(|| {
                    ImportError::node(node, "auto_pad SAME needs a known input shape; declare the graph input shape")
                })?;
                for i in 0..r {
                    let out = shape[2 + i].div_ceil(strides[i]);
                    let span = dilations[i] * (kernel[i] - 1) + 1;
                    let total = ((out - 1) * strides[i] + span).saturating_sub(shape[2 + i]);
                    let (small, big) = (total / 2, total - total / 2);
                    (pads[i], pads[r + i]) = if mode == "SAME_UPPER" { (small, big) } else { (big, small) };
                }
            }
            Some(other) => return Err(ImportError::node(node, format!("auto_pad '{other}' is not an ONNX mode"))),
        }
        Ok((strides, pads, dilations))
    }

    fn gemm(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let inputs = self.float_operands(node)?;
        let a = self.attrs(node);
        let attrs = GemmAttrs {
            alpha: a.float("alpha")?.unwrap_or(1.0),
            beta: a.float("beta")?.unwrap_or(1.0),
            trans_a: a.flag("transA", false)?,
            trans_b: a.flag("transB", false)?,
        };
        self.add_node(node, Op::Gemm(attrs), inputs, DType::F32, None)?;
        Ok(())
    }

    fn relu(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let x = self.required(node, 0)?;
        let v = self.graph.value(x);
        let (dtype, quant) = (v.dtype, v.quant.clone());
        self.add_node(node, Op::Relu, vec![x], dtype, quant)?;
        Ok(())
    }

    /// Clip on float values (HardTanh); Clip on integers is in `quant.rs`.
    pub(super) fn float_clip(&mut self, node: &proto::NodeProto, x: crate::ir::ValueId) -> Result<(), ImportError> {
        let (min, max) = self.clip_bounds(node)?;
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            return Err(ImportError::node(node, format!("min {lo} is above max {hi}")));
        }
        self.add_node(node, Op::Clip(ClipAttrs { min, max }), vec![x], DType::F32, None)?;
        Ok(())
    }

    /// The bounds of a Clip, from inputs (opset ≥ 11) or attributes.
    pub(super) fn clip_bounds(&self, node: &proto::NodeProto) -> Result<(Option<f64>, Option<f64>), ImportError> {
        if self.opset < 11 {
            let a = self.attrs(node);
            return Ok((a.float("min")?.map(f64::from), a.float("max")?.map(f64::from)));
        }
        let bound = |k: usize| -> Result<Option<f64>, ImportError> {
            match self.constant_input(node, k)? {
                None => Ok(None),
                Some(t) => t
                    .scalar_f64()
                    .map(Some)
                    .ok_or_else(|| ImportError::node(node, format!("bound {k} must be a scalar"))),
            }
        };
        Ok((bound(1)?, bound(2)?))
    }

    fn pool_attrs(&self, node: &proto::NodeProto, x: crate::ir::ValueId) -> Result<PoolAttrs, ImportError> {
        let a = self.attrs(node);
        let kernel = a.sizes("kernel_shape")?.ok_or_else(|| ImportError::node(node, "kernel_shape is required"))?;
        if !(1..=2).contains(&kernel.len()) {
            return Err(ImportError::node(node, "only 1-D and 2-D pooling is supported"));
        }
        let (strides, pads, dilations) = self.window_attrs(node, x, &kernel)?;
        Ok(PoolAttrs { kernel, strides, pads, dilations, ceil_mode: a.flag("ceil_mode", false)? })
    }

    fn max_pool(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let x = self.required(node, 0)?;
        if node.output.get(1).is_some_and(|o| !o.is_empty()) {
            return Err(ImportError::node(node, "the Indices output is not supported"));
        }
        if self.attrs(node).int("storage_order")?.unwrap_or(0) != 0 {
            return Err(ImportError::node(node, "storage_order 1 is not supported"));
        }
        let attrs = self.pool_attrs(node, x)?;
        let v = self.graph.value(x);
        let (dtype, quant) = (v.dtype, v.quant.clone());
        self.add_node(node, Op::MaxPool(attrs), vec![x], dtype, quant)?;
        Ok(())
    }

    fn average_pool(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let x = self.required(node, 0)?;
        self.expect_float(node, x)?;
        let pool = self.pool_attrs(node, x)?;
        let count_include_pad = self.attrs(node).flag("count_include_pad", false)?;
        self.add_node(node, Op::AveragePool(AvgPoolAttrs { pool, count_include_pad }), vec![x], DType::F32, None)?;
        Ok(())
    }

    fn batch_norm(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let a = self.attrs(node);
        if a.flag("training_mode", false)? || node.output.len() > 1 {
            return Err(ImportError::node(
                node,
                "training-mode BatchNormalization is not supported; export in eval mode",
            ));
        }
        let epsilon = a.float("epsilon")?.unwrap_or(1e-5);
        let inputs = (0..5).map(|k| self.required(node, k)).collect::<Result<Vec<_>, _>>()?;
        for &i in &inputs {
            self.expect_float(node, i)?;
        }
        self.add_node(node, Op::BatchNorm { epsilon }, inputs, DType::F32, None)?;
        Ok(())
    }

    /// Adds a data-movement op whose output keeps the input's type and quantization.
    fn passthrough(&mut self, node: &proto::NodeProto, op: Op, x: crate::ir::ValueId) -> Result<(), ImportError> {
        let v = self.graph.value(x);
        let (dtype, quant) = (v.dtype, v.quant.clone());
        if let Some(q) = &quant
            && q.axis.is_some()
            && q.is_per_channel()
        {
            return Err(ImportError::node(node, "reshaping a per-channel quantized tensor is not supported"));
        }
        self.add_node(node, op, vec![x], dtype, quant)?;
        Ok(())
    }

    fn flatten(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let x = self.required(node, 0)?;
        let axis = self.attrs(node).int("axis")?.unwrap_or(1);
        let rank = self.rank_of(node, x)? as i64;
        let axis = if axis < 0 { axis + rank } else { axis };
        if !(0..=rank).contains(&axis) {
            return Err(ImportError::node(node, format!("axis {axis} outside rank {rank}")));
        }
        self.passthrough(node, Op::Flatten { axis: axis as usize }, x)
    }

    fn reshape(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let x = self.required(node, 0)?;
        if self.attrs(node).flag("allowzero", false)? {
            return Err(ImportError::node(node, "allowzero = 1 is not supported"));
        }
        let shape = self.reshape_target(node, x)?;
        self.passthrough(node, Op::Reshape { shape }, x)
    }

    fn slice(&mut self, node: &proto::NodeProto) -> Result<(), ImportError> {
        let x = self.required(node, 0)?;
        let ints = |t: Option<&Tensor>| t.and_then(|t| t.as_int().map(|v| v.to_vec()));
        let (starts, ends, axes, steps) = if self.opset < 10 {
            let a = self.attrs(node);
            (a.ints("starts")?, a.ints("ends")?, a.ints("axes")?, None)
        } else {
            (
                ints(self.constant_input(node, 1)?),
                ints(self.constant_input(node, 2)?),
                ints(self.constant_input(node, 3)?),
                ints(self.constant_input(node, 4)?),
            )
        };
        let (Some(starts), Some(ends)) = (starts, ends) else {
            return Err(ImportError::node(node, "starts and ends must be constant integer tensors"));
        };
        let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
        let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
        if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
            return Err(ImportError::node(node, "starts, ends, axes and steps differ in length"));
        }
        self.passthrough(node, Op::Slice(SliceAttrs { starts, ends, axes, steps }), x)
    }
}

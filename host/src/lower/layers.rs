//! Lowering of the ops with weights, pooling, activations and reshapes.

use super::emit::{Lowerer, Res, err, pool_params, tensor_quant};
use super::pending::{Acc, AccOp, Base, IntTensor, Lv, Post, Real};
use crate::ir::{ConvAttrs, ConvTransposeAttrs, Node, PoolAttrs, QuantParams, Tensor, TruncAttrs, ValueId, shape};
use lowbit_runtime::WeightFormat;
use lowbit_runtime::build::{ConvParams, ConvTransposeParams, DenseParams, Requant};

/// Quantized weights ready for the builder.
pub(super) struct Weights {
    /// `w - zw` in the constant's layout.
    pub(super) values: Vec<i32>,
    /// The constant's shape.
    pub(super) shape: Vec<usize>,
    /// Scale per output channel (one when per tensor).
    pub(super) scale: Vec<f32>,
    /// The narrowest packing that holds `values`.
    pub(super) format: WeightFormat,
}

/// The requantization placeholder of a pending accumulator.
fn placeholder() -> Requant {
    Requant::new(vec![1.0], lowbit_runtime::TensorQuant { scale: 1.0, zero_point: 0, bits: 8, signed: true })
}

/// `[h, w]` pairs and `[top, left, bottom, right]` pads of a 1-D or 2-D op.
fn geometry(a: &ConvAttrs) -> ([usize; 2], [usize; 2], [usize; 4], [usize; 2]) {
    if a.kernel.len() == 2 {
        (
            [a.kernel[0], a.kernel[1]],
            [a.strides[0], a.strides[1]],
            [a.pads[0], a.pads[1], a.pads[2], a.pads[3]],
            [a.dilations[0], a.dilations[1]],
        )
    } else {
        ([1, a.kernel[0]], [1, a.strides[0]], [0, a.pads[0], 0, a.pads[1]], [1, a.dilations[0]])
    }
}

impl Lowerer<'_> {
    /// The quantized constant behind a weight operand.
    fn quantized_const(&self, node: &Node, id: ValueId) -> Res<(&Tensor, &QuantParams)> {
        let cid = match self.vals.get(&id) {
            Some(Lv::Const(c)) => *c,
            _ => id,
        };
        let t = self.g.constant(cid).ok_or_else(|| err(node, "weights must be constant"))?;
        let q = self.g.quant(cid).ok_or_else(|| {
            err(node, "float weights do not lower: the layer needs a weight quantizer (e.g. Int8WeightPerTensorFloat)")
        })?;
        Ok((t, q))
    }

    /// Weights with their zero points removed; per-channel scales must lie along `axis`.
    fn weights(&self, node: &Node, id: ValueId, axis: usize) -> Res<Weights> {
        let (t, q) = self.quantized_const(node, id)?;
        if q.is_per_channel() && q.axis != Some(axis) {
            return Err(err(node, format!("weights are quantized per channel along axis {:?}, not {axis}", q.axis)));
        }
        let ints = t.as_int().unwrap_or_default();
        let values: Vec<i32> =
            ints.iter().zip(q.channels(&t.shape)).map(|(&w, c)| (w - q.zero_point_at(c)) as i32).collect();
        let (min, max) = values.iter().fold((0, 0), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let format = if q.bipolar && values.iter().all(|&v| v == 1 || v == -1) {
            WeightFormat::Bipolar
        } else {
            let fits = |b: u32, signed: bool| {
                if signed { min >= -(1 << (b - 1)) && max < (1 << (b - 1)) } else { min >= 0 && max < (1 << b) }
            };
            let signed = min < 0;
            let bits = (1..=8).find(|&b| fits(b, signed)).ok_or_else(|| {
                err(
                    node,
                    format!("weights span [{min}, {max}]: wider than 8 bits, which the integer kernels do not hold"),
                )
            })?;
            if signed { WeightFormat::Signed(bits as u8) } else { WeightFormat::Unsigned(bits as u8) }
        };
        Ok(Weights { values, shape: t.shape.clone(), scale: q.scale.clone(), format })
    }

    /// The int32 bias of an accumulator whose real scale is `acc_scale[c]`.
    fn bias(&mut self, node: &Node, id: Option<ValueId>, acc_scale: &[f32], channels: usize) -> Res<Vec<i32>> {
        let Some(id) = id else { return Ok(vec![]) };
        let cid = match self.vals.get(&id) {
            Some(Lv::Const(c)) => *c,
            _ => id,
        };
        let t = self.g.constant(cid).ok_or_else(|| err(node, "the bias must be constant"))?;
        if t.len() != channels && t.len() != 1 {
            return Err(err(node, format!("{} biases for {channels} channels", t.len())));
        }
        let q = self.g.quant(cid);
        let real: Vec<f64> = (0..channels)
            .map(|c| {
                let i = if t.len() == 1 { 0 } else { c };
                match (t.as_int(), q) {
                    (Some(v), Some(q)) => (v[i] - q.zero_point_at(i)) as f64 * q.scale_at(i) as f64,
                    _ => t.to_f64_vec()[i],
                }
            })
            .collect();
        let exact = match (t.as_int(), q) {
            (Some(v), Some(q)) if (0..channels).all(|c| q.scale_at(c) == acc_scale[c.min(acc_scale.len() - 1)]) => {
                Some((0..channels).map(|c| (v[if t.len() == 1 { 0 } else { c }] - q.zero_point_at(c)) as i32).collect())
            }
            _ => None,
        };
        Ok(exact.unwrap_or_else(|| {
            self.notes.push(format!(
                "'{}': the bias is not on the accumulator's scale (input × weight scale); it was rounded onto it",
                node.name
            ));
            real.iter()
                .enumerate()
                .map(|(c, &b)| (b / acc_scale[c.min(acc_scale.len() - 1)] as f64).round() as i32)
                .collect()
        }))
    }

    /// The accumulator scale `f32(s_x · s_w[c])` per channel.
    fn acc_scale(sx: f32, sw: &[f32]) -> Vec<f32> {
        sw.iter().map(|&s| sx * s).collect()
    }

    pub(super) fn conv(&mut self, node: &Node, a: &ConvAttrs) -> Res<Lv> {
        let x = self.grid(node, node.inputs[0])?;
        let acc = self.conv_acc(node, a, &x)?;
        Ok(Lv::Real(Real { base: Base::Acc(Box::new(acc)), post: vec![] }))
    }

    /// The pending accumulator of a convolution (float `Conv` or `QLinearConv`) reading `x`.
    fn conv_acc(&mut self, node: &Node, a: &ConvAttrs, x: &IntTensor) -> Res<Acc> {
        let w = self.weights(node, node.inputs[1], 0)?;
        let bias =
            self.bias(node, node.inputs.get(2).copied(), &Self::acc_scale(x.q.scale[0], &w.scale), w.shape[0])?;
        let op = self.conv_op(node, a, w.values, w.shape[0], w.format, bias)?;
        let input = self.conv_input(node, &op, x.t)?;
        Ok(Acc { input, op, input_scale: x.q.scale[0], weight_scale: w.scale, affine: None })
    }

    /// The tensor a convolution reads, viewed with its C,H,W / C,L shape (a
    /// dense layer reads the elements whatever the shape).
    fn conv_input(
        &mut self,
        node: &Node,
        op: &AccOp,
        t: lowbit_runtime::build::TensorId,
    ) -> Res<lowbit_runtime::build::TensorId> {
        match op {
            AccOp::Dense(_) => Ok(t),
            _ => self.viewed(node, t, node.inputs[0]),
        }
    }

    /// A convolution; the 1-wide convolution Brevitas exports for Linear
    /// layers becomes a dense layer.
    fn conv_op(
        &mut self,
        node: &Node,
        a: &ConvAttrs,
        weights: Vec<i32>,
        out_channels: usize,
        weight_format: WeightFormat,
        bias: Vec<i32>,
    ) -> Res<AccOp> {
        let in_shape = self.sample_shape(node, node.inputs[0])?;
        let (kernel, stride, pads, dilation) = geometry(a);
        let one_wide = a.kernel == [1] && in_shape.len() == 2 && in_shape[1] == 1 && a.group == 1 && pads == [0; 4];
        if one_wide {
            return Ok(AccOp::Dense(DenseParams {
                out_features: out_channels,
                weights,
                weight_format,
                bias,
                requant: placeholder(),
            }));
        }
        Ok(AccOp::Conv(ConvParams {
            out_channels,
            kernel,
            stride,
            pads,
            dilation,
            groups: a.group,
            weights,
            weight_format,
            bias,
            requant: placeholder(),
        }))
    }

    pub(super) fn conv_transpose(&mut self, node: &Node, a: &ConvTransposeAttrs) -> Res<Lv> {
        let x = self.grid(node, node.inputs[0])?;
        let w = self.weights(node, node.inputs[1], 1)?;
        let out_channels = w.shape[1] * a.conv.group;
        if w.scale.len() > 1 && a.conv.group != 1 {
            return Err(err(node, "per-channel weights of a grouped transposed convolution do not lower"));
        }
        let bias =
            self.bias(node, node.inputs.get(2).copied(), &Self::acc_scale(x.q.scale[0], &w.scale), out_channels)?;
        let (kernel, stride, pads, dilation) = geometry(&a.conv);
        let output_padding = if a.output_padding.len() == 2 {
            [a.output_padding[0], a.output_padding[1]]
        } else {
            [0, a.output_padding.first().copied().unwrap_or(0)]
        };
        let op = AccOp::ConvTranspose(ConvTransposeParams {
            out_channels,
            kernel,
            stride,
            pads,
            dilation,
            output_padding,
            groups: a.conv.group,
            weights: w.values,
            weight_format: w.format,
            bias,
            requant: placeholder(),
        });
        let input = self.viewed(node, x.t, node.inputs[0])?;
        let acc = Acc { input, op, input_scale: x.q.scale[0], weight_scale: w.scale, affine: None };
        Ok(Lv::Real(Real { base: Base::Acc(Box::new(acc)), post: vec![] }))
    }

    pub(super) fn qlinear_conv(&mut self, node: &Node, a: &ConvAttrs) -> Res<Lv> {
        let x = self.int(node, node.inputs[0])?;
        let acc = self.conv_acc(node, a, &x)?;
        self.integer_output(node, acc)
    }

    /// Emits an integer operator's accumulator into its output quantization.
    fn integer_output(&mut self, node: &Node, acc: Acc) -> Res<Lv> {
        let q = self.g.quant(node.output).ok_or_else(|| err(node, "output has no quantization"))?.clone();
        let out_tq = tensor_quant(node, &q)?;
        let (lo, hi) = q.range();
        let t = self.emit_acc(node, acc, out_tq, lo as i32, hi as i32)?;
        Ok(Lv::Int(IntTensor { t, q }))
    }

    /// Gemm/MatMul with constant weights: `[N, K]` (`trans_b`) or `[K, N]`.
    pub(super) fn dense(&mut self, node: &Node, trans_b: bool) -> Res<Lv> {
        let x = self.grid(node, node.inputs[0])?;
        let (op, weight_scale) = self.dense_op(node, &x, trans_b)?;
        let acc = Acc { input: x.t, op, input_scale: x.q.scale[0], weight_scale, affine: None };
        Ok(Lv::Real(Real { base: Base::Acc(Box::new(acc)), post: vec![] }))
    }

    fn dense_op(&mut self, node: &Node, x: &IntTensor, trans_b: bool) -> Res<(AccOp, Vec<f32>)> {
        let in_shape = self.sample_shape(node, node.inputs[0])?;
        if in_shape.len() != 1 {
            return Err(err(
                node,
                format!("dense layers take a vector per sample, got shape {in_shape:?}; flatten first"),
            ));
        }
        let w = self.weights(node, node.inputs[1], if trans_b { 0 } else { 1 })?;
        let [rows, cols] = w.shape[..] else { return Err(err(node, "weights must be a matrix")) };
        let (n, k) = if trans_b { (rows, cols) } else { (cols, rows) };
        if k != in_shape[0] {
            return Err(err(node, format!("weights {:?} do not take {} inputs", w.shape, in_shape[0])));
        }
        let weights = if trans_b { w.values } else { (0..n * k).map(|i| w.values[(i % k) * n + i / k]).collect() };
        let bias = self.bias(node, node.inputs.get(2).copied(), &Self::acc_scale(x.q.scale[0], &w.scale), n)?;
        let op = AccOp::Dense(DenseParams {
            out_features: n,
            weights,
            weight_format: w.format,
            bias,
            requant: placeholder(),
        });
        Ok((op, w.scale))
    }

    pub(super) fn qlinear_matmul(&mut self, node: &Node) -> Res<Lv> {
        let x = self.int(node, node.inputs[0])?;
        let (op, weight_scale) = self.dense_op(node, &x, false)?;
        let acc = Acc { input: x.t, op, input_scale: x.q.scale[0], weight_scale, affine: None };
        self.integer_output(node, acc)
    }

    /// ReLU/Clip: folded into the next quantizer, or a table on integers.
    pub(super) fn post(&mut self, node: &Node, p: Post) -> Res<Lv> {
        match self.lv(node, node.inputs[0])? {
            Lv::Real(mut r) => {
                r.post.push(p);
                Ok(Lv::Real(r))
            }
            Lv::Int(it) => {
                let q = self.g.quant(node.output).cloned().unwrap_or_else(|| it.q.clone());
                let f = move |v: i32| match p {
                    Post::Relu => v.max(0),
                    Post::Clip(lo, hi) => v.clamp(lo.map_or(i32::MIN, |l| l as i32), hi.map_or(i32::MAX, |h| h as i32)),
                };
                let table = lowbit_runtime::build::lut_from_fn(tensor_quant(node, &it.q)?.signed, f);
                let r = self.b.lut(it.t, &table, tensor_quant(node, &q)?);
                Ok(Lv::Int(IntTensor { t: self.build(node, r)?, q }))
            }
            Lv::Const(_) => Err(err(node, "activation of a constant")),
        }
    }

    /// Pooling in ceil mode lowers only where it adds no partial window.
    pub(super) fn check_floor_mode(&self, node: &Node, p: &PoolAttrs) -> Res<()> {
        if !p.ceil_mode {
            return Ok(());
        }
        let mut with_batch = vec![1];
        with_batch.extend(self.sample_shape(node, node.inputs[0])?);
        let floor = shape::pool_output_shape(&PoolAttrs { ceil_mode: false, ..p.clone() }, &with_batch);
        if floor.ok().map(|s| s[1..].to_vec()) != Some(self.sample_shape(node, node.output)?) {
            return Err(err(node, "ceil_mode pooling that adds a partial window does not lower"));
        }
        Ok(())
    }

    pub(super) fn max_pool(&mut self, node: &Node, p: &PoolAttrs) -> Res<Lv> {
        self.check_floor_mode(node, p)?;
        let params = pool_params(node, p)?;
        match self.lv(node, node.inputs[0])? {
            Lv::Int(it) => {
                let t = self.viewed(node, it.t, node.inputs[0])?;
                let r = self.b.max_pool(t, params);
                Ok(Lv::Int(IntTensor { t: self.build(node, r)?, q: it.q }))
            }
            // max commutes with the monotonic dequantization, ReLU and Clip.
            Lv::Real(Real { base: Base::Grid(it), post }) => {
                let t = self.viewed(node, it.t, node.inputs[0])?;
                let r = self.b.max_pool(t, params);
                Ok(Lv::Real(Real { base: Base::Grid(IntTensor { t: self.build(node, r)?, q: it.q }), post }))
            }
            _ => Err(err(node, "max pooling needs quantized input")),
        }
    }

    /// Folds inference BatchNormalization into the pending accumulator.
    pub(super) fn batch_norm(&mut self, node: &Node, epsilon: f32) -> Res<Lv> {
        let Lv::Real(Real { base: Base::Acc(mut acc), post }) = self.lv(node, node.inputs[0])? else {
            return Err(err(
                node,
                "only BatchNormalization right after a convolution or dense layer lowers (it is folded)",
            ));
        };
        if !post.is_empty() {
            return Err(err(node, "BatchNormalization after an activation does not fold"));
        }
        let param = |k: usize| -> Res<Vec<f32>> {
            self.g
                .constant(node.inputs[k])
                .and_then(|t| t.as_f32().map(<[f32]>::to_vec))
                .ok_or_else(|| err(node, "parameters must be float constants"))
        };
        let (scale, bias, mean, var) = (param(1)?, param(2)?, param(3)?, param(4)?);
        let gain: Vec<f64> = scale.iter().zip(&var).map(|(&s, &v)| s as f64 / ((v + epsilon) as f64).sqrt()).collect();
        let offset: Vec<f64> =
            bias.iter().zip(&mean).zip(&gain).map(|((&b, &m), &g)| b as f64 - m as f64 * g).collect();
        acc.affine = Some(match acc.affine.take() {
            None => (gain, offset),
            Some((g0, o0)) => (
                g0.iter().zip(&gain).map(|(a, b)| a * b).collect(),
                o0.iter().zip(&gain).zip(&offset).map(|((o, g), b)| o * g + b).collect(),
            ),
        });
        if acc.weight_scale.len() == 1 {
            let n = acc.affine.as_ref().map_or(1, |(g, _)| g.len());
            acc.weight_scale = vec![acc.weight_scale[0]; n];
        }
        Ok(Lv::Real(Real { base: Base::Acc(acc), post }))
    }

    /// Flatten/Reshape: the same bytes; a view is made only where a later op
    /// or the output needs the new shape (see [`Lowerer::viewed`]).
    pub(super) fn reshape(&mut self, node: &Node) -> Res<Lv> {
        self.sample_shape(node, node.output)?;
        match self.lv(node, node.inputs[0])? {
            lv @ (Lv::Int(_) | Lv::Real(Real { base: Base::Grid(_), .. })) => Ok(lv),
            _ => Err(err(node, "reshaping an unquantized value does not lower")),
        }
    }

    /// QONNX Trunc: after an average pool, the rounded window average then a
    /// table for the shift; on a dequantized tensor, one table.
    pub(super) fn trunc(&mut self, node: &Node, a: &TruncAttrs) -> Res<Lv> {
        let q = self.g.quant(node.output).ok_or_else(|| err(node, "output has no quantization"))?.clone();
        let range = q.range();
        let Lv::Real(real) = self.lv(node, node.inputs[0])? else { return Err(err(node, "Trunc reads a float value")) };
        if !real.post.is_empty() {
            return Err(err(node, "Trunc after an activation does not lower"));
        }
        let input = match real.base {
            Base::Grid(it) => it,
            Base::Avg { input, pool, count_include_pad, window } => {
                // Stage 1: rne(Σ x·s_x / n / s_in) + z_in, the integer qonnx's Trunc starts from.
                if a.in_bits > 8 {
                    return Err(err(
                        node,
                        format!("the {}-bit window sum does not fit the 8-bit activations", a.in_bits),
                    ));
                }
                let sum_q =
                    QuantParams::per_tensor(a.in_scale, a.in_zero_point as i64, a.in_bits, input.q.signed, false);
                let sx = input.q.scale[0] as f64;
                let multipliers = (1..=window).map(|n| (sx / (n as f64 * a.in_scale as f64)) as f32).collect();
                let requant = Requant::new(multipliers, tensor_quant(node, &sum_q)?);
                let r =
                    self.b.avg_pool(input.t, lowbit_runtime::build::AvgPoolParams { pool, count_include_pad, requant });
                IntTensor { t: self.build(node, r)?, q: sum_q }
            }
            _ => return Err(err(node, "Trunc lowers after an average pool or a quantizer")),
        };
        let a = a.clone();
        let t = self.table(node, &input, &q, move |x| a.apply(x, range))?;
        Ok(Lv::Int(IntTensor { t, q }))
    }
}

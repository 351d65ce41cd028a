//! The lowering pass: IR nodes → builder calls.

use super::pending::{Acc, AccOp, Base, IntTensor, Lv, Post, Real};
use super::{LowerError, Lowered};
use crate::ir::{Graph, Node, Op, PoolAttrs, QuantParams, QuantizeAttrs, ValueId, infer_shapes};
use lowbit_runtime::TensorQuant;
use lowbit_runtime::arith::{self, Rounding};
use lowbit_runtime::build::{
    AddParams, AvgPoolParams, KernelPolicy, PoolParams, ProgramBuilder, Requant, TensorId, lut_from_fn,
};
use std::collections::HashMap;

/// Lowering state.
pub(super) struct Lowerer<'g> {
    pub(super) g: &'g Graph,
    pub(super) b: ProgramBuilder,
    /// The batch the model declares (1 when symbolic).
    batch: usize,
    /// Shapes at that batch.
    shapes: Vec<Option<Vec<usize>>>,
    /// Shapes at batch + 1, when the graph allows another batch.
    other: Option<Vec<Option<Vec<usize>>>>,
    pub(super) vals: HashMap<ValueId, Lv>,
    pub(super) notes: Vec<String>,
    /// Whether the program input exists.
    has_input: bool,
}

/// Result of a lowering step.
pub(super) type Res<T> = Result<T, LowerError>;

/// An error about `node`.
pub(super) fn err(node: &Node, reason: impl Into<String>) -> LowerError {
    LowerError::Node { node: node.name.clone(), op: node.op.name(), reason: reason.into() }
}

impl<'g> Lowerer<'g> {
    pub(super) fn new(g: &'g Graph, policy: KernelPolicy) -> Res<Self> {
        if g.inputs.len() != 1 {
            return Err(LowerError::Graph(format!(
                "the model has {} inputs; lowbit programs take one",
                g.inputs.len()
            )));
        }
        let declared = g
            .declared_input_shapes(1)
            .filter(|s| !s[0].is_empty())
            .ok_or_else(|| LowerError::Graph("the model input declares no shape; lowering needs one".into()))?;
        let batch = declared[0][0];
        let shapes = infer_shapes(g, &declared).map_err(|e| LowerError::Graph(e.to_string()))?;
        // A second batch size shows which axis is the batch; exporters that
        // fix the batch inside Reshape targets make this fail, and then the
        // first axis is taken as the batch.
        let other = g.input_shapes_with_batch(batch + 1).and_then(|s| infer_shapes(g, &s).ok());
        let input = Lv::Real(Real { base: Base::Input(g.inputs[0]), post: vec![] });
        let vals = HashMap::from([(g.inputs[0], input)]);
        let mut b = ProgramBuilder::new();
        b.set_kernel_policy(policy);
        Ok(Lowerer { g, b, batch, shapes, other, vals, notes: vec![], has_input: false })
    }

    pub(super) fn run(mut self) -> Res<Lowered> {
        for node in &self.g.nodes {
            self.node(node)?;
        }
        let out = self.g.outputs[0];
        let last = self.g.producer(out).ok_or_else(|| LowerError::Graph("output 0 has no producer".into()))?;
        let t = match self.vals.get(&out).cloned() {
            Some(Lv::Int(it)) => self.viewed(last, it.t, out)?,
            Some(Lv::Real(r)) if matches!(r.base, Base::Grid(_)) => {
                let t = self.materialize(last, r)?.t;
                self.viewed(last, t, out)?
            }
            _ => {
                return Err(LowerError::Graph(format!(
                    "output 0 ('{}') is a float value with no quantizer; lowbit programs produce integers (add an output quantizer)",
                    self.g.value(out).name
                )));
            }
        };
        if self.g.outputs.len() > 1 {
            self.notes.push(format!(
                "only output 0 is lowered; {} further output(s) (quantization metadata) are left out",
                self.g.outputs.len() - 1
            ));
        }
        self.b.output(t).map_err(|source| LowerError::Build { node: "output".into(), source })?;
        let built = self.b.finish().map_err(|source| LowerError::Build { node: "model".into(), source })?;
        Ok(Lowered { bytes: built.bytes, report: built.report, notes: self.notes })
    }

    /// The shape of a value for one sample (batch axis dropped).
    pub(super) fn sample_shape(&self, node: &Node, id: ValueId) -> Res<Vec<usize>> {
        let a = self.shapes[id.0].as_ref().filter(|a| a.first() == Some(&self.batch));
        let b = self.other.as_ref().map(|o| o[id.0].as_ref());
        match (a, b) {
            (Some(a), None) => Ok(a[1..].to_vec()),
            (Some(a), Some(Some(b))) if b[0] == self.batch + 1 && a[1..] == b[1..] => Ok(a[1..].to_vec()),
            _ => Err(err(node, format!("'{}' does not keep the batch as its first axis", self.g.value(id).name))),
        }
    }

    /// `t` with the shape of graph value `id` (Reshape/Flatten are lowered
    /// lazily: a view is made only where an op or the output needs the shape).
    pub(super) fn viewed(&mut self, node: &Node, t: TensorId, id: ValueId) -> Res<TensorId> {
        let want = self.sample_shape(node, id)?;
        let have = self.build(node, self.b.shape(t))?;
        if have.dims().iter().map(|&d| d as usize).eq(want.iter().copied()) {
            return Ok(t);
        }
        let r = self.b.reshape(t, &want);
        self.build(node, r)
    }

    pub(super) fn build<T>(&self, node: &Node, r: Result<T, lowbit_runtime::build::BuildError>) -> Res<T> {
        r.map_err(|source| LowerError::Build { node: node.name.clone(), source })
    }

    fn node(&mut self, node: &Node) -> Res<()> {
        let x = node.inputs[0];
        let lv = match &node.op {
            Op::Quantize(a) => self.quantize(node, *a)?,
            Op::Dequantize => match self.g.constant(x) {
                Some(_) => Lv::Const(x),
                None => Lv::Real(Real { base: Base::Grid(self.int(node, x)?), post: vec![] }),
            },
            Op::Trunc(a) => self.trunc(node, a)?,
            Op::Conv(a) => self.conv(node, a)?,
            Op::ConvTranspose(a) => self.conv_transpose(node, a)?,
            Op::QLinearConv(a) => self.qlinear_conv(node, a)?,
            Op::Gemm(a) => {
                if a.alpha != 1.0 || a.beta != 1.0 || a.trans_a {
                    return Err(err(node, "only Gemm with alpha = beta = 1 and no transposed input lowers"));
                }
                self.dense(node, a.trans_b)?
            }
            Op::MatMul => self.dense(node, false)?,
            Op::QLinearMatMul => self.qlinear_matmul(node)?,
            Op::Relu => self.post(node, Post::Relu)?,
            Op::Clip(c) => self.post(node, Post::Clip(c.min, c.max))?,
            Op::MaxPool(p) => self.max_pool(node, p)?,
            Op::AveragePool(a) => {
                self.check_floor_mode(node, &a.pool)?;
                let mut input = self.grid(node, x)?;
                input.t = self.viewed(node, input.t, x)?;
                let pool = pool_params(node, &a.pool)?;
                let window = pool.kernel[0] * pool.kernel[1];
                let count_include_pad = a.count_include_pad;
                Lv::Real(Real { base: Base::Avg { input, pool, count_include_pad, window }, post: vec![] })
            }
            Op::Add => {
                let (mut a, mut b) = (self.grid(node, node.inputs[0])?, self.grid(node, node.inputs[1])?);
                if self.sample_shape(node, node.inputs[0])? != self.sample_shape(node, node.inputs[1])? {
                    return Err(err(node, "Add with broadcasting does not lower; both operands need the same shape"));
                }
                a.t = self.viewed(node, a.t, node.inputs[0])?;
                b.t = self.viewed(node, b.t, node.inputs[1])?;
                Lv::Real(Real { base: Base::Sum(a, b), post: vec![] })
            }
            Op::BatchNorm { epsilon } => self.batch_norm(node, *epsilon)?,
            Op::Flatten { .. } | Op::Reshape { .. } => self.reshape(node)?,
            Op::Slice(_) => {
                return Err(err(node, "Slice does not lower: lowbit programs take the model input whole"));
            }
        };
        self.vals.insert(node.output, lv);
        Ok(())
    }

    /// The lowered form of a value, or an error naming it.
    pub(super) fn lv(&self, node: &Node, id: ValueId) -> Res<Lv> {
        self.vals.get(&id).cloned().ok_or_else(|| {
            err(
                node,
                format!("input '{}' is not quantized; lowbit programs compute on integers", self.g.value(id).name),
            )
        })
    }

    /// The integers behind a value: a program tensor, or a dequantized one
    /// (materialising ReLU/Clip applied on top).
    pub(super) fn int(&mut self, node: &Node, id: ValueId) -> Res<IntTensor> {
        match self.lv(node, id)? {
            Lv::Int(it) => Ok(it),
            Lv::Real(r) if matches!(r.base, Base::Grid(_)) => self.materialize(node, r),
            Lv::Real(Real { base: Base::Input(_), .. }) => Err(err(
                node,
                format!(
                    "input '{}' is the model input, not quantized; the integer program needs an input quantizer (e.g. QuantIdentity) before this layer",
                    self.g.value(id).name
                ),
            )),
            _ => Err(err(node, format!("input '{}' needs a quantizer before this op", self.g.value(id).name))),
        }
    }

    /// Like [`Lowerer::int`], for ops reading a float that must be a plain dequantized tensor.
    pub(super) fn grid(&mut self, node: &Node, id: ValueId) -> Res<IntTensor> {
        match self.lv(node, id)? {
            Lv::Int(_) => Err(err(node, "reads integers where a float is expected")),
            _ => self.int(node, id),
        }
    }

    /// A dequantized tensor with ReLU/Clip on top → a table into the same quantization.
    fn materialize(&mut self, node: &Node, r: Real) -> Res<IntTensor> {
        let Base::Grid(it) = r.base else { return Err(err(node, "internal: not a grid")) };
        if r.post.is_empty() {
            return Ok(it);
        }
        let q = it.q.clone();
        let t = self.table(node, &it, &q, |x| {
            let y = r.post.iter().fold(x, |v, p| p.apply(v));
            QuantizeAttrs::ONNX.apply(y, q.scale[0], q.zero_point[0], q.range(), q.bipolar)
        })?;
        Ok(IntTensor { t, q })
    }

    /// A 256-entry table from `input`'s dequantized values to `out`'s integers.
    pub(super) fn table(
        &mut self,
        node: &Node,
        input: &IntTensor,
        out: &QuantParams,
        f: impl Fn(f32) -> i64,
    ) -> Res<TensorId> {
        let q = &input.q;
        let tq = tensor_quant(node, q)?;
        let table = lut_from_fn(tq.signed, |v| {
            let x = arith::dequantize(v, q.scale[0], q.zero_point[0] as i32);
            f(x) as i32
        });
        let out_tq = tensor_quant(node, out)?;
        let r = self.b.lut(input.t, &table, out_tq);
        self.build(node, r)
    }

    fn quantize(&mut self, node: &Node, attrs: QuantizeAttrs) -> Res<Lv> {
        let q = self.g.quant(node.output).ok_or_else(|| err(node, "output has no quantization"))?.clone();
        let Lv::Real(real) = self.lv(node, node.inputs[0])? else { return Err(err(node, "quantizes integers")) };
        self.requantize(node, real, &q, attrs).map(Lv::Int)
    }

    /// The program input: the model input quantized by its first quantizer.
    fn program_input(&mut self, node: &Node, input: ValueId, q: &QuantParams) -> Res<IntTensor> {
        if self.has_input {
            return Err(err(node, "the model input is quantized twice; lowbit programs take one quantized input"));
        }
        self.has_input = true;
        if q.bipolar {
            // The host quantizes program inputs with QuantizeLinear, not the sign.
            return Err(err(node, "a bipolar model input does not lower; quantize the input to 8 bits first"));
        }
        let shape = self.sample_shape(node, input)?;
        let r = self.b.input(&shape, tensor_quant(node, q)?);
        Ok(IntTensor { t: self.build(node, r)?, q: q.clone() })
    }

    /// The clamp that ReLU/Clip after the base impose on `q`'s integers.
    fn clamp(&self, q: &QuantParams, attrs: QuantizeAttrs, post: &[Post]) -> (i32, i32) {
        let (mut lo, mut hi) = q.range();
        let quant = |v: f64| attrs.apply(v as f32, q.scale[0], q.zero_point[0], q.range(), false);
        for p in post {
            match *p {
                Post::Relu => lo = lo.max(quant(0.0)),
                Post::Clip(a, b) => {
                    if let Some(a) = a {
                        lo = lo.max(quant(a));
                    }
                    if let Some(b) = b {
                        hi = hi.min(quant(b));
                    }
                }
            }
        }
        (lo as i32, hi.max(lo) as i32)
    }

    fn requantize(&mut self, node: &Node, real: Real, q: &QuantParams, attrs: QuantizeAttrs) -> Res<IntTensor> {
        let out_tq = tensor_quant(node, q)?;
        if !matches!(real.base, Base::Grid(_)) && attrs.rounding != Rounding::HalfEven {
            return Err(err(node, "integer requantization rounds half to even; this quantizer rounds otherwise"));
        }
        if attrs.zero_point_first && !matches!(real.base, Base::Grid(_)) && q.zero_point[0] != 0 {
            self.notes.push(format!(
                "'{}': QONNX adds the zero point before rounding; the integer program adds it after (may differ by 1 on ties)",
                node.name
            ));
        }
        let (lo, hi) = self.clamp(q, attrs, &real.post);
        let t = match real.base {
            Base::Input(id) => {
                // quantize(ReLU/Clip(x)) = clamp(quantize(x)): quantizers are monotonic.
                let input = self.program_input(node, id, q)?;
                if (lo, hi) == tensor_quant(node, q)?.range() {
                    return Ok(input);
                }
                let table = lut_from_fn(tensor_quant(node, q)?.signed, |v| v.clamp(lo, hi));
                let r = self.b.lut(input.t, &table, tensor_quant(node, q)?);
                self.build(node, r)?
            }
            Base::Grid(input) => {
                if input.q == *q && real.post.is_empty() {
                    return Ok(IntTensor { t: input.t, q: q.clone() });
                }
                let post = real.post.clone();
                let t = self.table(node, &input, q, |x| {
                    let y = post.iter().fold(x, |v, p| p.apply(v));
                    attrs.apply(y, q.scale[0], q.zero_point[0], q.range(), q.bipolar)
                })?;
                if q.bipolar {
                    // ±1 table outputs let bipolar-weight Dense layers use XNOR + popcount.
                    let r = self.b.declare_bipolar(t);
                    self.build(node, r)?;
                }
                t
            }
            Base::Acc(acc) => self.emit_acc(node, *acc, out_tq, lo, hi)?,
            Base::Avg { input, pool, count_include_pad, window } => {
                let (sx, sy) = (input.q.scale[0] as f64, q.scale[0] as f64);
                // ONNX Runtime: rne((Σ x·s_x / n) / s_y); here rne(Σx · f32(s_x / (n·s_y))).
                let multipliers = (1..=window).map(|n| (sx / (n as f64 * sy)) as f32).collect();
                let requant = Requant { multipliers, output: out_tq, lo, hi };
                let r = self.b.avg_pool(input.t, AvgPoolParams { pool, count_include_pad, requant });
                self.build(node, r)?
            }
            Base::Sum(a, b) => {
                if attrs.rounding != Rounding::HalfEven || attrs.zero_point_first {
                    return Err(err(node, "Add lowers with ONNX QuantizeLinear rounding only"));
                }
                let r = self.b.add(a.t, b.t, AddParams { output: out_tq, lo, hi });
                self.build(node, r)?
            }
        };
        Ok(IntTensor { t, q: q.clone() })
    }

    /// Emits a Conv/ConvTranspose/Dense with its output stage.
    pub(super) fn emit_acc(&mut self, node: &Node, acc: Acc, output: TensorQuant, lo: i32, hi: i32) -> Res<TensorId> {
        let channels = acc.weight_scale.len();
        let mut offsets = vec![0f64; channels];
        let multipliers: Vec<f32> = (0..channels)
            .map(|c| {
                let s = acc.input_scale * acc.weight_scale[c];
                match &acc.affine {
                    None => arith::requant_multiplier(acc.input_scale, acc.weight_scale[c], output.scale),
                    Some((gain, offset)) => {
                        let g = gain[c.min(gain.len() - 1)];
                        offsets[c] = offset[c.min(offset.len() - 1)] / (s as f64 * g);
                        ((s as f64 * g) as f32) / output.scale
                    }
                }
            })
            .collect();
        let requant = Requant { multipliers, output, lo, hi };
        let fold = |bias: &mut Vec<i32>, n: usize| {
            if acc.affine.is_some() {
                bias.resize(n, 0);
                for (c, b) in bias.iter_mut().enumerate() {
                    *b = b.saturating_add(offsets[c.min(channels - 1)].round() as i32);
                }
            }
        };
        let r = match acc.op {
            AccOp::Conv(mut p) => {
                fold(&mut p.bias, p.out_channels);
                p.requant = requant;
                self.b.conv(acc.input, p)
            }
            AccOp::ConvTranspose(mut p) => {
                fold(&mut p.bias, p.out_channels);
                p.requant = requant;
                self.b.conv_transpose(acc.input, p)
            }
            AccOp::Dense(mut p) => {
                fold(&mut p.bias, p.out_features);
                p.requant = requant;
                self.b.dense(acc.input, p)
            }
        };
        self.build(node, r)
    }
}

/// The program quantization of an activation: per tensor, at most 8 bits.
pub(super) fn tensor_quant(node: &Node, q: &QuantParams) -> Res<TensorQuant> {
    if q.is_per_channel() {
        return Err(err(node, "per-channel activation quantization does not lower"));
    }
    if q.bits > 8 {
        return Err(err(node, format!("{}-bit activations do not lower: activations are at most 8 bits", q.bits)));
    }
    let tq = TensorQuant {
        scale: q.scale[0],
        zero_point: q.zero_point[0] as i32,
        // Bipolar ±1 values need two's complement room for +1.
        bits: if q.bipolar { 2 } else { q.bits as u8 },
        signed: q.signed || q.bipolar,
    };
    Ok(tq)
}

/// The builder's window of a 1-D or 2-D pooling op.
pub(super) fn pool_params(node: &Node, p: &PoolAttrs) -> Res<PoolParams> {
    Ok(match p.kernel.len() {
        2 => PoolParams {
            kernel: [p.kernel[0], p.kernel[1]],
            stride: [p.strides[0], p.strides[1]],
            pads: [p.pads[0], p.pads[1], p.pads[2], p.pads[3]],
            dilation: [p.dilations[0], p.dilations[1]],
        },
        1 => PoolParams {
            kernel: [1, p.kernel[0]],
            stride: [1, p.strides[0]],
            pads: [0, p.pads[0], 0, p.pads[1]],
            dilation: [1, p.dilations[0]],
        },
        _ => return Err(err(node, "only 1-D and 2-D pooling lowers")),
    })
}

//! `Dequantize → Conv/Gemm → Quantize` → `QLinearConv` (QOp form).

use super::TransformError;
use super::graph_edit::{constant, is_layout, node, remove_dead, sole_reader};
use crate::ir::{ConvAttrs, DType, Format, Graph, Node, Op, QuantParams, Tensor, ValueId};
use lowbit_runtime::arith::Rounding;
use std::collections::HashSet;

/// Fuses every quantized convolution and linear layer into `QLinearConv`,
/// as Brevitas's QOp export does. Layers QOp cannot express (a float or
/// missing quantizer, a transposed convolution, …) are errors naming the node.
pub fn to_qop(graph: &Graph) -> Result<Graph, TransformError> {
    let mut g = graph.clone();
    let old = g.nodes.clone();
    let mut out = Vec::with_capacity(old.len());
    let mut skip = HashSet::new();
    for (i, n) in old.iter().enumerate() {
        if skip.contains(&i) {
            continue;
        }
        match &n.op {
            Op::Conv(_) | Op::Gemm(_) => {
                let layer = Layer::match_at(&g, &old, n)?;
                skip.insert(layer.quantize);
                layer.emit(&mut g, &mut out, n)?;
            }
            Op::ConvTranspose(_) => {
                return Err(TransformError::at(
                    n,
                    "ONNX has no integer transposed convolution (QLinearConvTranspose); export as QCDQ or QONNX",
                ));
            }
            Op::MatMul => {
                return Err(TransformError::at(n, "a float MatMul has no QOp form in lowbit; export as QCDQ or QONNX"));
            }
            _ => out.push(n.clone()),
        }
    }
    g.nodes = out;
    remove_dead(&mut g);
    g.source.format = Format::Qop;
    Ok(g)
}

/// A quantized layer ready to fuse.
struct Layer {
    /// The integer input and the float layout ops between it and the layer.
    x: ValueId,
    layout: Vec<Node>,
    /// Integer weights and bias.
    w: ValueId,
    b: Option<ValueId>,
    /// The `Quantize` reading the layer's output (its node index and output).
    quantize: usize,
    y: ValueId,
}

/// The integer constant read through `Dequantize` node `id`'s producer.
fn dequantized_constant(g: &Graph, nodes: &[Node], id: ValueId) -> Option<ValueId> {
    let p = nodes.iter().find(|p| p.output == id && p.op == Op::Dequantize)?;
    g.constant(p.inputs[0]).is_some().then_some(p.inputs[0])
}

impl Layer {
    fn match_at(g: &Graph, nodes: &[Node], n: &Node) -> Result<Layer, TransformError> {
        let err = |r: &str| TransformError::at(n, r.to_string());
        // The input: Dequantize of integers, possibly through layout ops.
        let mut layout = Vec::new();
        let mut cur = n.inputs[0];
        let x = loop {
            let p = nodes.iter().find(|p| p.output == cur).ok_or_else(|| {
                err("the input is not quantized; QOp needs an input quantizer (input_quant, or a quantized previous layer)")
            })?;
            match &p.op {
                Op::Dequantize if g.constant(p.inputs[0]).is_none() => break p.inputs[0],
                op if is_layout(op) => {
                    layout.push(p.clone());
                    cur = p.inputs[0];
                }
                _ => {
                    return Err(err(
                        "the input is not quantized; QOp needs an input quantizer (input_quant, or a quantized previous layer)",
                    ));
                }
            }
        };
        layout.reverse();
        let w = dequantized_constant(g, nodes, n.inputs[1])
            .ok_or_else(|| err("the weights are not quantized; QOp needs a weight quantizer"))?;
        let b =
            match n.inputs.get(2) {
                None => None,
                Some(&b) => Some(dequantized_constant(g, nodes, b).ok_or_else(|| {
                    err("the bias is not quantized; QOp needs an integer bias (bias_quant = Int32Bias)")
                })?),
            };
        let quantize = sole_reader(g, n.output)
            .filter(|&k| matches!(&g.nodes[k].op, Op::Quantize(q) if q.rounding == Rounding::HalfEven))
            .ok_or_else(|| err("the output is not quantized; QOp needs an output quantizer (output_quant)"))?;
        let layer = Layer { x, layout, w, b, quantize, y: g.nodes[quantize].output };
        layer.check(g, n)?;
        Ok(layer)
    }

    /// Brevitas's QOp constraints, and ONNX Runtime's.
    fn check(&self, g: &Graph, n: &Node) -> Result<(), TransformError> {
        let err = |r: String| TransformError::at(n, r);
        let q = |id: ValueId| g.quant(id).cloned().ok_or_else(|| err("an operand has no quantization".into()));
        let (qx, qw, qy) = (q(self.x)?, q(self.w)?, q(self.y)?);
        for (what, p) in [("input", &qx), ("output", &qy)] {
            if p.narrow {
                return Err(err(format!(
                    "the {what} is narrow-range ({}); QOp activations use the full integer range",
                    p.describe()
                )));
            }
            if p.is_per_channel() {
                return Err(err(format!("the {what} is quantized per channel; QLinearConv takes one {what} scale")));
            }
        }
        for (what, p) in [("input", &qx), ("weight", &qw), ("output", &qy)] {
            if p.bits > 8 || p.bipolar {
                return Err(err(format!("the {what} has {} bits; QOp carries 2 to 8 bits", p.bits)));
            }
        }
        let (dx, dy) = (g.value(self.x).dtype, g.value(self.y).dtype);
        if dx != dy {
            return Err(err(format!(
                "the input is {dx} and the output {dy}; ONNX Runtime's QLinearConv needs one type for both (make both signed or both unsigned)"
            )));
        }
        if let Some(b) = self.b {
            let qb = q(b)?;
            let expected: Vec<f32> = (0..qb.scale.len()).map(|c| qx.scale[0] * qw.scale_at(c)).collect();
            let same = qb.scale.len() == expected.len()
                && qb.scale.iter().zip(&expected).all(|(a, e)| (a - e).abs() <= 1e-6 * e.abs())
                && qb.is_symmetric();
            if !same || g.value(b).dtype != DType::I32 {
                return Err(err(
                    "the bias is not an int32 at scale input × weight scale with zero point 0 (Int32Bias)".into(),
                ));
            }
        }
        Ok(())
    }

    /// Writes the integer layout ops and the `QLinearConv` (between Reshapes for a Gemm).
    fn emit(self, g: &mut Graph, out: &mut Vec<Node>, n: &Node) -> Result<(), TransformError> {
        let (dtype, quant) = (g.value(self.x).dtype, g.value(self.x).quant.clone());
        let mut x = self.x;
        for l in &self.layout {
            x = node(g, out, &l.name, l.op.clone(), vec![x], dtype, quant.clone());
        }
        let y_dtype = g.value(self.y).dtype;
        match &n.op {
            Op::Conv(a) => {
                let inputs = [vec![x, self.w], self.b.into_iter().collect()].concat();
                out.push(Node { name: n.name.clone(), op: Op::QLinearConv(a.clone()), inputs, output: self.y });
            }
            Op::Gemm(a) => {
                if a.trans_a || a.alpha != 1.0 || (self.b.is_some() && a.beta != 1.0) {
                    return Err(TransformError::at(
                        n,
                        "only Gemm with alpha = beta = 1 and no transposed input has a QOp form",
                    ));
                }
                let w = conv_weights(g, self.w, a.trans_b);
                x = node(
                    g,
                    out,
                    &format!("{}/Reshape", n.name),
                    Op::Reshape { shape: vec![0, -1, 1] },
                    vec![x],
                    dtype,
                    quant,
                );
                let conv =
                    ConvAttrs { kernel: vec![1], strides: vec![1], pads: vec![0, 0], dilations: vec![1], group: 1 };
                let inputs = [vec![x, w], self.b.into_iter().collect()].concat();
                let qy: Option<QuantParams> = g.quant(self.y).cloned();
                let y3 = node(g, out, &n.name, Op::QLinearConv(conv), inputs, y_dtype, qy);
                out.push(Node {
                    name: format!("{}/Reshape_1", n.name),
                    op: Op::Reshape { shape: vec![0, -1] },
                    inputs: vec![y3],
                    output: self.y,
                });
            }
            _ => unreachable!("matched Conv or Gemm"),
        }
        Ok(())
    }
}

/// Gemm weights (`[O, I]`, or `[I, O]` without transB) as `[O, I, 1]` convolution weights.
fn conv_weights(g: &mut Graph, w: ValueId, trans_b: bool) -> ValueId {
    let v = g.value(w).clone();
    let t = v.constant.expect("matched a constant");
    let (r, c) = (t.shape[0], t.shape[1]);
    let mut quant = v.quant;
    let ints = t.as_int().unwrap_or_default();
    let (o, i, data) = if trans_b {
        (r, c, ints.to_vec())
    } else {
        if let Some(q) = &mut quant {
            q.axis = q.axis.map(|_| 0);
        }
        (c, r, (0..r * c).map(|k| ints[(k % r) * c + k / r]).collect())
    };
    constant(g, &v.name, Tensor::int(t.dtype, vec![o, i, 1], data), quant)
}

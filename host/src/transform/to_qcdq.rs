//! Integer operators → `Dequantize → float op → Quantize` (QCDQ form).

use super::TransformError;
use super::graph_edit::{constant, node, sole_reader};
use crate::ir::{ConvAttrs, DType, Format, GemmAttrs, Graph, Node, Op, QuantizeAttrs, ValueId, shape::infer_shapes};
use lowbit_runtime::arith::Rounding;
use std::collections::HashSet;

/// Rewrites `QLinearConv`/`QLinearMatMul` as float ops between quantizers
/// (a Linear layer written as `Reshape → 1-wide QLinearConv → Reshape`
/// becomes a `Gemm` again) and `Trunc` as `Quantize`.
pub fn to_qcdq(graph: &Graph) -> Result<Graph, TransformError> {
    onnx_quantizers(&float_ops(&lower_trunc(graph)?)?)
}

/// Integer operators as float ops between quantizers (`Trunc` kept).
pub(crate) fn float_ops(graph: &Graph) -> Result<Graph, TransformError> {
    let mut g = graph.clone();
    let shapes = g.declared_input_shapes(1).and_then(|s| infer_shapes(&g, &s).ok());
    let old = std::mem::take(&mut g.nodes);
    g.nodes = old.clone();
    let mut out = Vec::with_capacity(old.len());
    let mut skip = HashSet::new();
    for (i, n) in old.iter().enumerate() {
        if skip.contains(&i) {
            continue;
        }
        match &n.op {
            Op::QLinearConv(a) => match linear_pattern(&g, &old, i, a, shapes.as_deref()) {
                Some((x2d, post)) => {
                    skip.insert(post);
                    // The pre-Reshape is dropped by `remove_dead` once nothing reads it.
                    let w = weights_2d(&mut g, n.inputs[1]);
                    float_layer(&mut g, &mut out, n, x2d, w, old[post].output, Op::Gemm(GEMM))?;
                }
                None => float_layer(&mut g, &mut out, n, n.inputs[0], n.inputs[1], n.output, Op::Conv(a.clone()))?,
            },
            Op::QLinearMatMul => float_layer(&mut g, &mut out, n, n.inputs[0], n.inputs[1], n.output, Op::MatMul)?,
            _ => out.push(n.clone()),
        }
    }
    g.nodes = out;
    super::graph_edit::remove_dead(&mut g);
    g.source.format = Format::Qcdq;
    Ok(g)
}

const GEMM: GemmAttrs = GemmAttrs { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: true };

/// `Trunc` nodes that round half to even as `Quantize` (exact for inputs on
/// the incoming grid: `rne(q / 2^shift)` either way).
pub(crate) fn lower_trunc(graph: &Graph) -> Result<Graph, TransformError> {
    let mut g = graph.clone();
    for n in &mut g.nodes {
        let Op::Trunc(t) = &n.op else { continue };
        let q = graph.quant(n.output).ok_or_else(|| TransformError::at(n, "output has no quantization"))?;
        if t.rounding != Rounding::HalfEven {
            return Err(TransformError::at(
                n,
                format!(
                    "Trunc rounding {} has no QuantizeLinear form (it rounds half to even); keep QONNX",
                    crate::ir::rounding_name(t.rounding)
                ),
            ));
        }
        if t.in_zero_point != 0.0 || (t.shift > 0 && !q.is_symmetric()) {
            return Err(TransformError::at(n, "a Trunc with a zero point has no QuantizeLinear form; keep QONNX"));
        }
        n.op = Op::Quantize(QuantizeAttrs::ONNX);
    }
    Ok(g)
}

/// Every `Quantize` as `QuantizeLinear` computes it: QONNX's
/// zero-point-first order becomes ONNX's (they differ only on exact ties);
/// other rounding modes and bipolar values are errors.
pub(crate) fn onnx_quantizers(graph: &Graph) -> Result<Graph, TransformError> {
    let mut g = graph.clone();
    for n in &mut g.nodes {
        if let Op::Quantize(q) = &n.op {
            check_onnx_quantize(graph, n, q)?;
            n.op = Op::Quantize(QuantizeAttrs::ONNX);
        }
    }
    Ok(g)
}

fn check_onnx_quantize(g: &Graph, n: &Node, q: &QuantizeAttrs) -> Result<(), TransformError> {
    if q.rounding != Rounding::HalfEven {
        return Err(TransformError::at(
            n,
            format!(
                "rounding {} has no QuantizeLinear form (it rounds half to even); keep QONNX",
                crate::ir::rounding_name(q.rounding)
            ),
        ));
    }
    if g.quant(n.output).is_some_and(|p| p.bipolar) {
        return Err(TransformError::at(n, "bipolar (1-bit) values have no QuantizeLinear form; keep QONNX"));
    }
    Ok(())
}

/// For a 1-wide `QLinearConv` between two `Reshape`s that turn `[N, K]`
/// into `[N, K, 1]` and back: the 2-D input and the index of the second Reshape.
fn linear_pattern(
    g: &Graph,
    nodes: &[Node],
    i: usize,
    a: &ConvAttrs,
    shapes: Option<&[Option<Vec<usize>>]>,
) -> Option<(ValueId, usize)> {
    let n = &nodes[i];
    let one_wide = a.kernel == [1] && a.strides == [1] && a.pads == [0, 0] && a.dilations == [1] && a.group == 1;
    let shapes = shapes?;
    let pre = nodes.iter().find(|p| p.output == n.inputs[0] && matches!(p.op, Op::Reshape { .. }))?;
    let post = sole_reader(g, n.output).filter(|&k| matches!(nodes[k].op, Op::Reshape { .. }))?;
    let rank = |id: ValueId| shapes.get(id.0)?.as_ref().map(|s| s.len());
    let fits = one_wide
        && sole_reader(g, pre.output) == Some(i)
        && rank(pre.inputs[0]) == Some(2)
        && rank(nodes[post].output) == Some(2);
    fits.then_some((pre.inputs[0], post))
}

/// The `[O, I, 1]` weights of a 1-wide convolution as `[O, I]`.
fn weights_2d(g: &mut Graph, w: ValueId) -> ValueId {
    let v = g.value(w).clone();
    let t = v.constant.expect("QLinearConv weights are constant");
    let shape = t.shape[..2].to_vec();
    constant(g, &v.name, t.reshaped(shape), v.quant)
}

/// `Dequantize(x) → op(Dequantize(w), Dequantize(b)) → Quantize` writing `y`.
fn float_layer(
    g: &mut Graph,
    out: &mut Vec<Node>,
    n: &Node,
    x: ValueId,
    w: ValueId,
    y: ValueId,
    op: Op,
) -> Result<(), TransformError> {
    let dq = |g: &mut Graph, out: &mut Vec<Node>, id: ValueId, tag: &str| {
        node(g, out, &format!("{}/{tag}/Dequantize", n.name), Op::Dequantize, vec![id], DType::F32, None)
    };
    let mut inputs = vec![dq(g, out, x, "input"), dq(g, out, w, "weight")];
    if let Some(&b) = n.inputs.get(2) {
        inputs.push(dq(g, out, b, "bias"));
    }
    if g.quant(y).is_none() {
        return Err(TransformError::at(n, "output has no quantization"));
    }
    let acc = node(g, out, &format!("{}/{}", n.name, op.name()), op, inputs, DType::F32, None);
    out.push(Node {
        name: format!("{}/output_quant/Quantize", n.name),
        op: Op::Quantize(QuantizeAttrs::ONNX),
        inputs: vec![acc],
        output: y,
    });
    Ok(())
}

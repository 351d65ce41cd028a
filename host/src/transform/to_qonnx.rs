//! QCDQ form with integers read only through `Dequantize` (QONNX form).

use super::TransformError;
use super::graph_edit::{is_layout, readers, remove_dead, replace_uses, value};
use crate::ir::{DType, Format, Graph, Node, Op};

/// Moves integer layout ops (Flatten, Reshape, MaxPool, Slice) after their
/// `Dequantize`, since QONNX has no integer tensors: each `Quantize`
/// (or `Trunc`) must be read by `Dequantize` nodes only, which the writer
/// turns into one `Quant`.
pub fn to_qonnx(graph: &Graph) -> Result<Graph, TransformError> {
    let mut g = graph.clone();
    // Last first, so a chain of layout ops moves one op at a time.
    for i in (0..g.nodes.len()).rev() {
        let n = g.nodes[i].clone();
        if is_layout(&n.op) && g.value(n.output).dtype.is_int() {
            float_layout(&mut g, i, &n)?;
        }
    }
    remove_dead(&mut g);
    for n in &g.nodes {
        let int_out = g.value(n.output).dtype.is_int();
        let only_dq = readers(&g, n.output).iter().all(|&k| g.nodes[k].op == Op::Dequantize);
        if int_out && (!only_dq || g.outputs.contains(&n.output)) {
            return Err(TransformError::at(
                n,
                "QONNX has no integer tensors, and these integers are used as such (an integer output or operator)",
            ));
        }
        if matches!(n.op, Op::QLinearConv(_) | Op::QLinearMatMul | Op::Clip(_)) && int_out {
            return Err(TransformError::at(n, "QONNX has no integer operators"));
        }
    }
    g.source.format = Format::Qonnx;
    Ok(g)
}

/// Rewrites layout node `n` (at `index`) over integers as the same op over
/// its dequantized input; `Dequantize` nodes reading it are bypassed.
fn float_layout(g: &mut Graph, index: usize, n: &Node) -> Result<(), TransformError> {
    let readers_of = readers(g, n.output);
    if g.outputs.contains(&n.output) || readers_of.iter().any(|&k| g.nodes[k].op != Op::Dequantize) {
        return Err(TransformError::at(n, "QONNX has no integer tensors, and this op's integers are used directly"));
    }
    let dq_out = value(g, &format!("{}/input_dequantized", n.name), DType::F32, None);
    let float_out = value(g, &format!("{}_float", n.name), DType::F32, None);
    let dq =
        Node { name: format!("{}/Dequantize", n.name), op: Op::Dequantize, inputs: vec![n.inputs[0]], output: dq_out };
    let op = Node { name: n.name.clone(), op: n.op.clone(), inputs: vec![dq_out], output: float_out };
    for k in readers_of {
        let old = g.nodes[k].output;
        replace_uses(g, old, float_out);
    }
    g.nodes.splice(index..=index, [dq, op]);
    Ok(())
}

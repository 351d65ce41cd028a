//! Small graph-editing helpers shared by the passes.

use crate::ir::{DType, Graph, Node, Op, QuantParams, Tensor, Value, ValueId};

/// Adds a computed value.
pub(super) fn value(g: &mut Graph, name: &str, dtype: DType, quant: Option<QuantParams>) -> ValueId {
    g.add_value(Value { name: name.to_string(), dtype, quant, constant: None, declared_shape: None })
}

/// Adds a constant value.
pub(super) fn constant(g: &mut Graph, name: &str, t: Tensor, quant: Option<QuantParams>) -> ValueId {
    g.add_value(Value { name: name.to_string(), dtype: t.dtype, quant, constant: Some(t), declared_shape: None })
}

/// A node whose output is a fresh value.
pub(super) fn node(
    g: &mut Graph,
    out: &mut Vec<Node>,
    name: &str,
    op: Op,
    inputs: Vec<ValueId>,
    dtype: DType,
    quant: Option<QuantParams>,
) -> ValueId {
    let output = value(g, &format!("{name}_output"), dtype, quant);
    out.push(Node { name: name.to_string(), op, inputs, output });
    output
}

/// The nodes reading `id`.
pub(super) fn readers(g: &Graph, id: ValueId) -> Vec<usize> {
    g.nodes.iter().enumerate().filter(|(_, n)| n.inputs.contains(&id)).map(|(i, _)| i).collect()
}

/// Whether `id` has exactly one reader and is not a graph output; returns that reader.
pub(super) fn sole_reader(g: &Graph, id: ValueId) -> Option<usize> {
    match readers(g, id).as_slice() {
        [i] if !g.outputs.contains(&id) => Some(*i),
        _ => None,
    }
}

/// Replaces every use of `from` (node inputs, graph outputs) by `to`.
pub(super) fn replace_uses(g: &mut Graph, from: ValueId, to: ValueId) {
    for n in &mut g.nodes {
        for i in &mut n.inputs {
            if *i == from {
                *i = to;
            }
        }
    }
    for o in &mut g.outputs {
        if *o == from {
            *o = to;
        }
    }
}

/// Removes nodes whose outputs nothing reads.
pub(super) fn remove_dead(g: &mut Graph) {
    loop {
        let used: std::collections::HashSet<ValueId> =
            g.nodes.iter().flat_map(|n| n.inputs.iter().copied()).chain(g.outputs.iter().copied()).collect();
        let before = g.nodes.len();
        g.nodes.retain(|n| used.contains(&n.output));
        if g.nodes.len() == before {
            return;
        }
    }
}

/// Whether an op only moves elements around (or picks among them), so it
/// commutes with dequantization of per-tensor values.
pub(super) fn is_layout(op: &Op) -> bool {
    matches!(op, Op::Flatten { .. } | Op::Reshape { .. } | Op::Slice(_) | Op::MaxPool(_))
}

//! The reference executor: runs a [`Graph`] on the host with ONNX semantics.
//!
//! Float ops compute in float32 (sums are accumulated in float64 and
//! rounded once, the closest any float32 implementation can get);
//! quantization follows ONNX Runtime bit for bit through
//! [`lowbit_runtime::arith`]; integer operators (`QLinearConv`,
//! `QLinearMatMul`) accumulate exactly and requantize like ONNX Runtime.

mod conv;
mod elementwise;
mod layout;
mod linear;
mod pool;

use crate::ir::{DType, Dim, Graph, Node, Op, Tensor, ValueId, fmt_shape};
use std::borrow::Cow;

/// A failure while running a graph.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecError {
    /// The inputs do not match the graph's.
    #[error("input {index} ('{name}'): {reason}")]
    Input {
        /// Input position.
        index: usize,
        /// Input name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// An op could not be evaluated.
    #[error("node '{node}' ({op}): {reason}")]
    Node {
        /// Node name.
        node: String,
        /// Op name.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Runs `graph` on `inputs` (one tensor per graph input) and returns every graph output.
pub fn run(graph: &Graph, inputs: &[Tensor]) -> Result<Vec<Tensor>, ExecError> {
    check_inputs(graph, inputs)?;
    let mut values: Vec<Option<Cow<'_, Tensor>>> =
        graph.values.iter().map(|v| v.constant.as_ref().map(Cow::Borrowed)).collect();
    for (&id, t) in graph.inputs.iter().zip(inputs) {
        values[id.0] = Some(Cow::Borrowed(t));
    }
    for node in &graph.nodes {
        let err = |reason: String| ExecError::Node { node: node.name.clone(), op: node.op.name(), reason };
        let ins: Vec<&Tensor> = node
            .inputs
            .iter()
            .map(|i| {
                values[i.0].as_deref().ok_or_else(|| err(format!("input '{}' was not computed", graph.value(*i).name)))
            })
            .collect::<Result<_, _>>()?;
        let out = eval(graph, node, &ins).map_err(err)?;
        values[node.output.0] = Some(Cow::Owned(out));
    }
    graph
        .outputs
        .iter()
        .map(|&id| {
            values[id.0].as_deref().cloned().ok_or_else(|| ExecError::Node {
                node: graph.value(id).name.clone(),
                op: "output",
                reason: "was not computed".into(),
            })
        })
        .collect()
}

fn check_inputs(graph: &Graph, inputs: &[Tensor]) -> Result<(), ExecError> {
    if inputs.len() != graph.inputs.len() {
        return Err(ExecError::Input {
            index: inputs.len().min(graph.inputs.len()),
            name: String::new(),
            reason: format!("the graph takes {} input(s), {} given", graph.inputs.len(), inputs.len()),
        });
    }
    for (index, (&id, t)) in graph.inputs.iter().zip(inputs).enumerate() {
        let v = graph.value(id);
        let bad = |reason: String| ExecError::Input { index, name: v.name.clone(), reason };
        if v.dtype.is_int() != t.dtype.is_int() {
            return Err(bad(format!("expects {} data, got {}", v.dtype, t.dtype)));
        }
        if let Some(dims) = &v.declared_shape {
            let fits = dims.len() == t.shape.len()
                && dims.iter().zip(&t.shape).all(|(d, &n)| matches!(d, Dim::Symbolic(_)) || *d == Dim::Fixed(n));
            // A fixed batch of 1 may be given as any batch: every op handles batches.
            let batch_ok = dims.len() == t.shape.len()
                && dims
                    .iter()
                    .zip(&t.shape)
                    .skip(1)
                    .all(|(d, &n)| matches!(d, Dim::Symbolic(_)) || *d == Dim::Fixed(n));
            if !fits && !batch_ok {
                let want: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
                return Err(bad(format!("expects shape [{}], got {}", want.join(", "), fmt_shape(&t.shape))));
            }
        }
    }
    Ok(())
}

/// Evaluates one node.
fn eval(graph: &Graph, node: &Node, ins: &[&Tensor]) -> Result<Tensor, String> {
    let out_value = graph.value(node.output);
    let q = |id: ValueId| graph.quant(id).ok_or_else(|| format!("'{}' has no quantization", graph.value(id).name));
    let x = ins[0];
    match &node.op {
        Op::Quantize(a) => elementwise::quantize(a, x, q(node.output)?, out_value.dtype),
        Op::Dequantize => elementwise::dequantize(x, q(node.inputs[0])?),
        Op::Trunc(a) => elementwise::trunc(a, x, q(node.output)?, out_value.dtype),
        Op::Conv(a) => conv::conv(a, x, ins[1], ins.get(2).copied()),
        Op::ConvTranspose(a) => conv::conv_transpose(a, x, ins[1], ins.get(2).copied()),
        Op::QLinearConv(a) => {
            let bias = ins.get(2).copied();
            let qs = conv::IntQuant { x: q(node.inputs[0])?, w: q(node.inputs[1])?, y: q(node.output)? };
            conv::qlinear_conv(a, x, ins[1], bias, &qs, out_value.dtype)
        }
        Op::Gemm(a) => linear::gemm(a, x, ins[1], ins.get(2).copied()),
        Op::MatMul => linear::matmul(x, ins[1]),
        Op::QLinearMatMul => {
            let qs = conv::IntQuant { x: q(node.inputs[0])?, w: q(node.inputs[1])?, y: q(node.output)? };
            linear::qlinear_matmul(x, ins[1], &qs, out_value.dtype)
        }
        Op::Relu => Ok(elementwise::relu(x)),
        Op::Clip(a) => Ok(elementwise::clip(a, x)),
        Op::MaxPool(a) => pool::max_pool(a, x),
        Op::AveragePool(a) => pool::average_pool(a, x),
        Op::Add => elementwise::add(x, ins[1]),
        Op::BatchNorm { epsilon } => elementwise::batch_norm(*epsilon, ins),
        Op::Flatten { .. } | Op::Reshape { .. } | Op::Slice(_) => layout::reshape_like(&node.op, x),
    }
}

/// The integer elements of a tensor, or an error naming its type.
fn ints(t: &Tensor) -> Result<&[i64], String> {
    t.as_int().ok_or_else(|| format!("expected integers, got {}", t.dtype))
}

/// The float elements of a tensor, or an error naming its type.
fn floats(t: &Tensor) -> Result<&[f32], String> {
    t.as_f32().ok_or_else(|| format!("expected float32, got {}", t.dtype))
}

/// An integer tensor of `dtype` (the output value's storage type).
fn int_tensor(dtype: DType, shape: Vec<usize>, values: Vec<i64>) -> Tensor {
    Tensor::int(if dtype.is_int() { dtype } else { DType::I32 }, shape, values)
}

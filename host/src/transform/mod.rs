//! Conversions between Brevitas's ONNX styles as IR → IR passes.
//!
//! - [`to_qop`]: `Dequantize → Conv/Gemm(Dequantize(int w), Dequantize(int32 b)) → Quantize`
//!   becomes `QLinearConv` (a Linear layer as a 1-wide `QLinearConv` between
//!   `Reshape`s, as Brevitas's QOp export writes it); float ops between
//!   quantizers (`Dequantize → Relu → Quantize`) stay as they are.
//! - [`to_qcdq`]: the inverse, and `Trunc` rounding half to even as `Quantize`.
//! - [`to_qonnx`]: QCDQ form (`Trunc` kept) with every integer tensor read only through a
//!   `Dequantize` (the writer turns each pair into a QONNX `Quant`).
//!
//! [`convert`] chains them; [`check_style`] states what a style cannot
//! express before anything is written. Every error names the node and why.

mod graph_edit;
mod to_qcdq;
mod to_qonnx;
mod to_qop;

pub use to_qcdq::to_qcdq;
pub use to_qonnx::to_qonnx;
pub use to_qop::to_qop;

use crate::export::Style;
use crate::ir::{DType, Graph, Node, Op};

/// A graph the target style cannot express.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("node '{node}' ({op}): {reason}")]
pub struct TransformError {
    /// Node name.
    pub node: String,
    /// IR op.
    pub op: &'static str,
    /// Why, and what to do.
    pub reason: String,
}

impl TransformError {
    pub(crate) fn at(node: &Node, reason: impl Into<String>) -> TransformError {
        TransformError { node: node.name.clone(), op: node.op.name(), reason: reason.into() }
    }
}

/// Converts `graph` to `style` and checks that the style can express the result.
pub fn convert(graph: &Graph, style: Style) -> Result<Graph, TransformError> {
    let out = match style {
        Style::Qcdq => to_qcdq(graph)?,
        Style::Qop => to_qop(&to_qcdq::onnx_quantizers(&to_qcdq::lower_trunc(graph)?)?)?,
        Style::Qonnx => to_qonnx(&to_qcdq::float_ops(graph)?)?,
    };
    check_style(&out, style)?;
    Ok(out)
}

/// Fixes the first (batch) dimension of every graph input to `batch`, for
/// tools that need static shapes (the qonnx executor).
pub fn fix_batch(graph: &mut Graph, batch: usize) {
    for &id in &graph.inputs {
        if let Some(d) = graph.values[id.0].declared_shape.as_mut().and_then(|s| s.first_mut()) {
            *d = crate::ir::Dim::Fixed(batch);
        }
    }
}

/// Checks the limits of a style at the graph's opset: QCDQ and QOp carry
/// 2- to 8-bit activations and weights (int32 biases), per-channel
/// parameters need opset 13, integer `Clip` opset 12.
pub fn check_style(graph: &Graph, style: Style) -> Result<(), TransformError> {
    if style == Style::Qonnx {
        return Ok(());
    }
    let opset = graph.source.onnx_opset().unwrap_or(13);
    for node in &graph.nodes {
        let quantized = match node.op {
            Op::Quantize(_) | Op::QLinearConv(_) | Op::QLinearMatMul => vec![node.output],
            Op::Dequantize => vec![node.inputs[0]],
            _ => vec![],
        };
        for id in quantized {
            let v = graph.value(id);
            let Some(q) = &v.quant else { continue };
            let bias = v.constant.is_some() && v.dtype == DType::I32;
            if q.bits == 1 || q.bipolar {
                return Err(TransformError::at(
                    node,
                    "1-bit (bipolar) values have no QuantizeLinear form; export as QONNX",
                ));
            }
            if !bias && q.bits > 8 {
                return Err(TransformError::at(
                    node,
                    format!(
                        "{} bits: {style:?} carries 2- to 8-bit activations and weights (int32 biases); export as QONNX",
                        q.bits
                    ),
                ));
            }
            if q.is_per_channel() && opset < 13 {
                return Err(TransformError::at(
                    node,
                    format!("per-channel quantization needs opset 13 or later, not {opset}"),
                ));
            }
            let storage = v.dtype.int_range();
            if opset < 12 && storage.is_some() && storage != Some(q.range()) {
                return Err(TransformError::at(
                    node,
                    format!("{} needs a Clip on integers, which needs opset 12 or later, not {opset}", q.describe()),
                ));
            }
        }
    }
    Ok(())
}

//! `export_onnx_qcdq`, `export_onnx_qop`, `export_qonnx`: a model's IR graph
//! through the style's pass and the ONNX writer.

use super::{Model, NnError};
use crate::export::{Style, write};
use crate::ir::{Graph, Tensor};
use std::path::Path;

/// The graph of `model` in `style` as it will be written: shapes from
/// `example`, opset `opset`. QOp outputs integers where the model returns a
/// quantized tensor; the other styles return dequantized values.
pub fn export_graph(model: &Model, example: &Tensor, style: Style, opset: i64) -> Result<Graph, NnError> {
    if !(10..=21).contains(&opset) {
        return Err(NnError::Model(format!("opset {opset}: lowbit writes opsets 10 to 21")));
    }
    let graph = model.to_graph(std::slice::from_ref(example), opset, style == Style::Qop)?;
    Ok(crate::transform::convert(&graph, style)?)
}

fn export(model: &Model, example: &Tensor, path: &Path, opset: i64, style: Style) -> Result<Graph, NnError> {
    let graph = export_graph(model, example, style, opset)?;
    write(&graph, style, path)?;
    Ok(graph)
}

/// Writes `model` in QCDQ notation (`QuantizeLinear → [Clip] → DequantizeLinear`
/// around float ops; integer weights → `[Clip] → DequantizeLinear`); returns the written graph.
pub fn export_onnx_qcdq(model: &Model, example: &Tensor, path: &Path, opset: i64) -> Result<Graph, NnError> {
    export(model, example, path, opset, Style::Qcdq)
}

/// Writes `model` in QOp notation (`QLinearConv` with int32 bias, quantizers
/// only where float values enter or leave integer operators).
pub fn export_onnx_qop(model: &Model, example: &Tensor, path: &Path, opset: i64) -> Result<Graph, NnError> {
    export(model, example, path, opset, Style::Qop)
}

/// Writes `model` in QONNX notation (`Quant`, `BipolarQuant`, `Trunc`).
pub fn export_qonnx(model: &Model, example: &Tensor, path: &Path, opset: i64) -> Result<Graph, NnError> {
    export(model, example, path, opset, Style::Qonnx)
}

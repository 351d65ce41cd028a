//! Importers: ONNX models in Brevitas's QCDQ, QOp and QONNX styles → [`Graph`].
//!
//! One pass over the nodes handles all three styles (a model may mix them);
//! the style is detected for reporting. Quantization nodes become explicit
//! [`QuantParams`](crate::ir::QuantParams) on integer values:
//! `QuantizeLinear → Clip` folds into one [`Op::Quantize`](crate::ir::Op)
//! whose bit width comes from the Clip bounds, integer weights keep their
//! integers, and QONNX `Quant` on weights is evaluated at import time.
//! Unsupported nodes are collected and reported together.

mod attrs;
mod context;
mod ops;
mod quant;
mod shape_chain;

use crate::ir::{Format, Graph};
use crate::onnx::{self, OnnxError, proto};
use std::path::{Path, PathBuf};

/// The domains QONNX custom ops are exported under.
pub const QONNX_DOMAINS: [&str; 3] = ["qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas"];

/// Default-domain ops the importer reads.
pub const ONNX_OPS: [&str; 26] = [
    "Constant",
    "Identity",
    "Dropout",
    "QuantizeLinear",
    "DequantizeLinear",
    "Clip",
    "QLinearConv",
    "QLinearMatMul",
    "Conv",
    "ConvTranspose",
    "Gemm",
    "MatMul",
    "Relu",
    "Add",
    "MaxPool",
    "AveragePool",
    "BatchNormalization",
    "Flatten",
    "Reshape",
    "Slice",
    "Shape",
    "Gather",
    "Unsqueeze",
    "Squeeze",
    "Concat",
    "Cast",
];

/// QONNX ops the importer reads.
pub const QONNX_OPS: [&str; 3] = ["Quant", "BipolarQuant", "Trunc"];

/// Whether the importer knows a node's op (it may still reject its attributes).
pub(crate) fn is_known_op(node: &proto::NodeProto) -> bool {
    match node.domain() {
        "" | "ai.onnx" => ONNX_OPS.contains(&node.op_type()),
        d if QONNX_DOMAINS.contains(&d) => QONNX_OPS.contains(&node.op_type()),
        _ => false,
    }
}

/// An ONNX model lowbit cannot turn into its IR.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read or decoded.
    #[error(transparent)]
    Onnx(#[from] OnnxError),
    /// A node is malformed or uses something lowbit cannot represent.
    #[error("node '{node}' ({op}): {reason}")]
    Node {
        /// Node name (or its first output when unnamed).
        node: String,
        /// Op type.
        op: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// Nodes whose op lowbit does not know, all of them at once.
    #[error(
        "{} unsupported node(s): {}. lowbit imports the ops Brevitas exports (QCDQ, QOp, QONNX); \
         re-export the model without these ops or open an issue with the model attached",
        nodes.len(),
        nodes.join("; ")
    )]
    Unsupported {
        /// `'name' (domain::Op, opset N)` per node.
        nodes: Vec<String>,
    },
    /// The graph as a whole is malformed.
    #[error("{0}")]
    Graph(String),
    /// An error in a named file.
    #[error("{path}: {source}")]
    File {
        /// The model file.
        path: PathBuf,
        /// The underlying error.
        source: Box<ImportError>,
    },
}

impl ImportError {
    /// An error about one node.
    pub(crate) fn node(node: &proto::NodeProto, reason: impl Into<String>) -> ImportError {
        ImportError::Node { node: node_label(node), op: node.op_type().to_string(), reason: reason.into() }
    }
}

/// A node's name, or its first output when it has none.
pub(crate) fn node_label(node: &proto::NodeProto) -> String {
    match node.name() {
        "" => node.output.first().cloned().unwrap_or_default(),
        name => name.to_string(),
    }
}

/// Reads and imports an `.onnx` file; errors name the file.
pub fn import_file(path: &Path) -> Result<Graph, ImportError> {
    let wrap = |e: ImportError| match e {
        // OnnxError messages already carry the path.
        e @ ImportError::Onnx(_) => e,
        e => ImportError::File { path: path.into(), source: Box::new(e) },
    };
    let model = onnx::load(path).map_err(ImportError::from)?;
    import_model(&model).map_err(wrap)
}

/// Imports a decoded ONNX model.
pub fn import_model(model: &proto::ModelProto) -> Result<Graph, ImportError> {
    context::Importer::new(model)?.run()
}

/// The quantization style of a model: QONNX if it uses QONNX ops, QOp if it
/// has integer operators, QCDQ if it has Quantize/DequantizeLinear.
pub fn detect_format(model: &proto::ModelProto) -> Format {
    let nodes = model.graph.as_ref().map(|g| g.node.as_slice()).unwrap_or_default();
    if nodes.iter().any(|n| QONNX_DOMAINS.contains(&n.domain())) {
        Format::Qonnx
    } else if nodes.iter().any(|n| matches!(n.op_type(), "QLinearConv" | "QLinearMatMul")) {
        Format::Qop
    } else if nodes.iter().any(|n| matches!(n.op_type(), "QuantizeLinear" | "DequantizeLinear")) {
        Format::Qcdq
    } else {
        Format::Float
    }
}

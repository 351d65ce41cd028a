//! Reading and writing `.onnx` files.
//!
//! The protobuf types in [`proto`] are generated at build time by prost from
//! lowbit's own `proto/onnx.proto`. [`load`] resolves external tensor data
//! (`model.onnx.data`) into the model; [`save`] writes a model, optionally
//! moving large tensors to an external data file.

mod external;
mod tensor;

pub use external::{ExternalDataPolicy, save_with_external_data};
pub use tensor::{dtype_from_onnx, dtype_to_onnx, tensor_from_proto, tensor_to_proto};

use prost::Message;
use std::path::{Path, PathBuf};

/// Types generated from `proto/onnx.proto`.
#[allow(missing_docs, clippy::all)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}

/// Errors of ONNX file I/O.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not an ONNX protobuf.
    #[error("{path}: not a valid ONNX model ({source}); is the file truncated or not an .onnx file?")]
    Decode {
        /// The file.
        path: PathBuf,
        /// The protobuf error.
        source: prost::DecodeError,
    },
    /// The file parsed but holds no graph.
    #[error("{path}: the model has no graph; is this an ONNX model file?")]
    NoGraph {
        /// The file.
        path: PathBuf,
    },
    /// A tensor's external data could not be resolved.
    #[error("tensor '{tensor}': external data {reason}")]
    ExternalData {
        /// Tensor name.
        tensor: String,
        /// What went wrong.
        reason: String,
    },
    /// A tensor's payload is malformed or of an unsupported type.
    #[error("tensor '{tensor}': {reason}")]
    Tensor {
        /// Tensor name.
        tensor: String,
        /// What went wrong.
        reason: String,
    },
}

/// Reads an `.onnx` file, resolving external data relative to its directory.
pub fn load(path: &Path) -> Result<proto::ModelProto, OnnxError> {
    let bytes = std::fs::read(path).map_err(|source| OnnxError::Io { path: path.into(), source })?;
    let mut model = proto::ModelProto::decode(bytes.as_slice())
        .map_err(|source| OnnxError::Decode { path: path.into(), source })?;
    if model.graph.is_none() {
        return Err(OnnxError::NoGraph { path: path.into() });
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    external::resolve(&mut model, dir)?;
    Ok(model)
}

/// Writes a model to `path` with every tensor inline.
pub fn save(model: &proto::ModelProto, path: &Path) -> Result<(), OnnxError> {
    std::fs::write(path, model.encode_to_vec()).map_err(|source| OnnxError::Io { path: path.into(), source })
}

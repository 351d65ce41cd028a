//! The builder's error type.

use super::TensorId;
use crate::{OpKind, TensorQuant, WeightFormat};
use std::fmt;

/// Why the builder rejected a call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BuildError {
    /// The id does not name a tensor of this builder.
    UnknownTensor(TensorId),
    /// `input` was called twice, or a tensor was created before the input.
    DuplicateInput,
    /// `output` was called twice.
    DuplicateOutput,
    /// `finish` was called before `input`.
    MissingInput,
    /// `finish` was called before `output`.
    MissingOutput,
    /// A shape is empty, has more than [`MAX_RANK`](crate::MAX_RANK) axes,
    /// a zero extent or one above [`MAX_DIM`](crate::MAX_DIM).
    InvalidShape(Vec<usize>),
    /// A tensor quantization is out of range (scale not finite and
    /// positive, bits outside 1..=8, zero point outside the storage type).
    InvalidQuant(TensorQuant),
    /// The parameters of op number `op` are inconsistent.
    InvalidParams {
        /// Index the op would have had.
        op: usize,
        /// Its kind.
        kind: OpKind,
        /// What is wrong.
        reason: String,
    },
    /// A weight does not fit the requested format.
    WeightOutOfRange {
        /// Index the op would have had.
        op: usize,
        /// Position of the weight in the ONNX-layout vector.
        index: usize,
        /// The value.
        value: i32,
        /// The format it had to fit.
        format: WeightFormat,
    },
    /// The exact `i32` accumulator of an output channel could overflow for
    /// some input in the declared range, so results could not match ONNX
    /// Runtime bit for bit.
    AccumulatorOverflow {
        /// Index the op would have had.
        op: usize,
        /// The output channel.
        channel: usize,
    },
    /// The model exceeds a limit of the format (65 535 tensors or ops,
    /// 4 GiB file or arena).
    TooLarge(&'static str),
    /// The produced bytes failed the device's validation: a builder bug.
    Internal(crate::Error),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::UnknownTensor(id) => write!(f, "tensor {} does not belong to this builder", id.index()),
            BuildError::DuplicateInput => f.write_str("the model input must be defined first, and only once"),
            BuildError::DuplicateOutput => f.write_str("the model output is already defined"),
            BuildError::MissingInput => f.write_str("the model has no input"),
            BuildError::MissingOutput => f.write_str("the model has no output"),
            BuildError::InvalidShape(dims) => write!(f, "invalid tensor shape {dims:?}"),
            BuildError::InvalidQuant(q) => write!(f, "invalid tensor quantization {q:?}"),
            BuildError::InvalidParams { op, kind, reason } => write!(f, "op {op} ({kind}): {reason}"),
            BuildError::WeightOutOfRange {
                op,
                index,
                value,
                format,
            } => {
                write!(f, "op {op}: weight {index} = {value} does not fit {format:?}")
            }
            BuildError::AccumulatorOverflow { op, channel } => {
                write!(
                    f,
                    "op {op}: the int32 accumulator of output channel {channel} can overflow"
                )
            }
            BuildError::TooLarge(what) => write!(f, "model too large for the .lbm format: {what}"),
            BuildError::Internal(e) => write!(f, "internal error, the built model fails validation: {e}"),
        }
    }
}

impl std::error::Error for BuildError {}

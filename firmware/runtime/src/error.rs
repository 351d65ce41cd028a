//! The device-side error type.

use core::fmt;

/// Why a `.lbm` blob was rejected or a [`Model::run`](crate::Model::run) call
/// refused.
///
/// The variants fall into four groups, by what the caller can do:
///
/// - **Not an intact `.lbm` file** ([`BadMagic`](Error::BadMagic),
///   [`UnsupportedVersion`](Error::UnsupportedVersion),
///   [`Truncated`](Error::Truncated), [`CrcMismatch`](Error::CrcMismatch)):
///   the bytes are not a model this runtime reads, or were damaged in storage
///   or transfer. Re-flash or re-send the model (or update the firmware).
/// - **Intact but inconsistent** ([`OutOfBounds`](Error::OutOfBounds),
///   [`InvalidHeader`](Error::InvalidHeader),
///   [`InvalidTensor`](Error::InvalidTensor), [`InvalidOp`](Error::InvalidOp)):
///   the checksum matches, so the writer produced a bad file. Report it; the
///   index names the offending record.
/// - **Not in this build** ([`OpNotBuiltIn`](Error::OpNotBuiltIn)): the
///   firmware was built without a kernel family the model uses; rebuild it
///   with that `lowbit-runtime` feature.
/// - **Wrong call** ([`ArenaTooSmall`](Error::ArenaTooSmall),
///   [`BadInputLen`](Error::BadInputLen),
///   [`BadOutputLen`](Error::BadOutputLen),
///   [`InputOutOfRange`](Error::InputOutOfRange)): the model is fine; fix the
///   buffers passed to `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The blob does not start with the `.lbm` magic bytes.
    BadMagic,
    /// The blob's format version is not the one this runtime reads.
    UnsupportedVersion {
        /// Version stored in the blob.
        found: u16,
        /// Version this runtime reads ([`FORMAT_VERSION`](crate::FORMAT_VERSION)).
        supported: u16,
    },
    /// The blob is shorter than its header says (or than a header).
    Truncated {
        /// Bytes the header requires.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
    /// The CRC-32 stored in the header does not match the contents.
    CrcMismatch {
        /// Checksum stored in the header.
        stored: u32,
        /// Checksum of the bytes.
        computed: u32,
    },
    /// A section of the file (tensor table, op table, constant data) lies
    /// outside the file or out of its canonical place.
    OutOfBounds,
    /// A header field holds an impossible value (reserved bits set, counts
    /// or arena size inconsistent).
    InvalidHeader,
    /// Tensor record `index` is malformed or inconsistent.
    InvalidTensor {
        /// Index of the tensor record.
        index: u16,
    },
    /// Op record `index` is malformed or inconsistent with its tensors.
    InvalidOp {
        /// Index of the op record (execution order).
        index: u16,
    },
    /// Op record `index` is valid but needs a kernel this build of the
    /// runtime leaves out (a cargo feature of `lowbit-runtime`, such as
    /// `avg-pool` or `reference`, is off).
    OpNotBuiltIn {
        /// Index of the op record (execution order).
        index: u16,
    },
    /// The arena passed to `run` is smaller than the model's arena size.
    ArenaTooSmall {
        /// Bytes the model needs ([`Model::arena_size`](crate::Model::arena_size)).
        needed: usize,
        /// Bytes passed.
        got: usize,
    },
    /// The input buffer's length is not the input tensor's element count.
    BadInputLen {
        /// Elements the model's input has.
        expected: usize,
        /// Elements passed.
        got: usize,
    },
    /// The output buffer's length is not the output tensor's element count.
    BadOutputLen {
        /// Elements the model's output has.
        expected: usize,
        /// Elements passed.
        got: usize,
    },
    /// Input element `index` lies outside the input's declared bit range
    /// (for example 200 for a 4-bit unsigned input).
    InputOutOfRange {
        /// Position of the first offending element.
        index: usize,
    },
    /// [`Model::plan`](crate::Model::plan) was asked for a plan of fewer
    /// ops than the model has.
    PlanTooSmall {
        /// Ops the model has.
        ops: usize,
        /// Ops the plan holds.
        capacity: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::BadMagic => f.write_str("not an .lbm model (bad magic bytes)"),
            Error::UnsupportedVersion { found, supported } => {
                write!(
                    f,
                    ".lbm format version {found} is not supported (this runtime reads version {supported})"
                )
            }
            Error::Truncated { needed, got } => {
                write!(f, ".lbm model truncated: {needed} bytes needed, {got} available")
            }
            Error::CrcMismatch { stored, computed } => {
                write!(
                    f,
                    ".lbm model corrupted: CRC-32 {computed:#010x} does not match the stored {stored:#010x}"
                )
            }
            Error::OutOfBounds => f.write_str(".lbm section out of bounds"),
            Error::InvalidHeader => f.write_str(".lbm header is inconsistent"),
            Error::InvalidTensor { index } => write!(f, ".lbm tensor record {index} is invalid"),
            Error::InvalidOp { index } => write!(f, ".lbm op record {index} is invalid"),
            Error::OpNotBuiltIn { index } => {
                write!(f, ".lbm op {index} needs a kernel this runtime was built without")
            }
            Error::ArenaTooSmall { needed, got } => {
                write!(f, "arena too small: the model needs {needed} bytes, got {got}")
            }
            Error::BadInputLen { expected, got } => write!(f, "input has {got} elements, the model expects {expected}"),
            Error::BadOutputLen { expected, got } => {
                write!(f, "output has {got} elements, the model produces {expected}")
            }
            Error::InputOutOfRange { index } => {
                write!(
                    f,
                    "input element {index} is outside the input's declared quantized range"
                )
            }
            Error::PlanTooSmall { ops, capacity } => {
                write!(f, "the model has {ops} ops, the plan holds {capacity}")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

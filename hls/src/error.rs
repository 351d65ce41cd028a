//! The library's error type.

use std::path::PathBuf;

/// Why a dataflow design could not be made, folded, written or simulated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HlsError {
    /// The bytes are not a valid `.lbm` program.
    #[error("invalid .lbm program: {0}")]
    Program(lowbit_runtime::Error),
    /// An op of the program has no dataflow unit.
    #[error("{layer}: {reason}")]
    Unsupported {
        /// The op, e.g. `op 0 (ConvTranspose → 8x33)`.
        layer: String,
        /// Why, and what would work instead.
        reason: String,
    },
    /// A folding (from a file or a search) breaks a unit's constraints.
    #[error("folding of {layer}: {reason}")]
    Folding {
        /// The layer, e.g. `MVAU_hls_0`.
        layer: String,
        /// The broken constraint.
        reason: String,
    },
    /// A folding configuration file is malformed.
    #[error("folding config: {0}")]
    Config(String),
    /// No board of that name.
    #[error("unknown board {name:?}; boards: {known} (or the path of a board .toml)")]
    UnknownBoard {
        /// The requested name.
        name: String,
        /// The built-in boards.
        known: String,
    },
    /// A board description is malformed.
    #[error("board description {name}: {reason}")]
    Board {
        /// File or board name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The thresholds computed for a layer do not reproduce the program's
    /// integer activation (a lowbit bug).
    #[error(
        "{layer}: thresholds disagree with the program for channel {channel} at accumulator {acc}: {expected} expected, {got} from the thresholds"
    )]
    Thresholds {
        /// The layer.
        layer: String,
        /// Output channel.
        channel: usize,
        /// The accumulator value.
        acc: i64,
        /// The program's output.
        expected: i64,
        /// The thresholds' output.
        got: i64,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The C simulation could not be compiled or run, or gave malformed output.
    #[error("C simulation: {0}")]
    Csim(String),
    /// Inputs for the C simulation do not fit the model.
    #[error("C simulation input: {0}")]
    Input(String),
}

impl HlsError {
    /// An [`HlsError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> HlsError {
        let path = path.into();
        move |source| HlsError::Io { path, source }
    }
}

//! Lowering: an IR [`Graph`] → a packed integer program (`.lbm`) for the
//! `no_std` runtime, and running such programs on the host.
//!
//! The lowering walks the graph once. Integer values become program
//! tensors. Float values are kept *pending* until a quantizer reads them:
//! a dequantized tensor, a convolution or dense accumulator, an average
//! pool or a sum, each with the ReLU/Clip applied on top. The quantizer then
//! decides the integer op:
//!
//! - accumulator → Conv/ConvTranspose/Dense with ONNX Runtime's requantization
//!   `rne(f32(acc) · f32(f32(s_x·s_w)/s_y)) + z_y`, ReLU/Clip folded into the clamp;
//! - dequantized tensor (≤ 8 bits) → a 256-entry table computed with the exact
//!   float32 steps of the graph (requantization, ReLU, HardTanh, Trunc);
//! - average pool → a window sum requantized per window size;
//! - sum of two dequantized tensors → Add with ONNX Runtime's float steps.
//!
//! Integer operators (`QLinearConv`, `QLinearMatMul`) lower directly and are
//! bit-exact with ONNX Runtime; float operators of QCDQ/QONNX models match
//! within one output step (ONNX Runtime sums in float32 in its own order).

mod emit;
mod layers;
mod pending;
mod program;

pub use program::{LbmError, LbmRun, run_lbm};

use crate::ir::Graph;
use lowbit_runtime::build::{BuildError, KernelPolicy, Report};

/// A graph lowbit cannot lower.
#[derive(Debug, thiserror::Error)]
pub enum LowerError {
    /// A node has no integer form.
    #[error("node '{node}' ({op}): {reason}")]
    Node {
        /// Node name.
        node: String,
        /// IR op.
        op: &'static str,
        /// Why, and what to do.
        reason: String,
    },
    /// The runtime's builder rejected an op.
    #[error("node '{node}': the integer program cannot hold it: {source}")]
    Build {
        /// Node name.
        node: String,
        /// The builder's error.
        source: BuildError,
    },
    /// The graph as a whole cannot be lowered.
    #[error("{0}")]
    Graph(String),
}

/// A lowered model.
#[derive(Debug, Clone)]
pub struct Lowered {
    /// The `.lbm` file.
    pub bytes: Vec<u8>,
    /// Sizes and costs per op, with lower bounds.
    pub report: Report,
    /// Approximations and omissions worth telling the user about.
    pub notes: Vec<String>,
}

/// Lowers `graph` into an `.lbm` program with the fastest kernels
/// ([`KernelPolicy::Auto`]).
pub fn lower(graph: &Graph) -> Result<Lowered, LowerError> {
    lower_with(graph, KernelPolicy::Auto)
}

/// Lowers `graph` into an `.lbm` program, choosing kernels (and weight
/// storage) by `policy`.
pub fn lower_with(graph: &Graph, policy: KernelPolicy) -> Result<Lowered, LowerError> {
    emit::Lowerer::new(graph, policy)?.run()
}

//! The size and cost report of a built model.

use crate::{Kernel, OpKind, Shape};
use std::fmt;

/// Size and cost of one op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpReport {
    /// The op's kind.
    pub kind: OpKind,
    /// Shape of the tensor it writes.
    pub output_shape: Shape,
    /// Number of weights.
    pub weight_count: u64,
    /// Bits per weight as declared (0 for ops without weights).
    pub weight_bits: u32,
    /// Bits per weight as stored: `weight_bits`, or more where the kernel
    /// runs far faster on a wider format (see `KernelPolicy::Auto`).
    pub stored_bits: u32,
    /// Packed weight bytes in the file.
    pub weight_bytes: usize,
    /// Other constant bytes: biases and multipliers (4 bytes each) and
    /// lookup tables (256 bytes).
    pub param_bytes: usize,
    /// Arena bytes live while the op runs (its inputs, its output, its
    /// scratch memory and every tensor still needed later).
    pub arena_bytes: usize,
    /// Multiply-accumulates per run (Conv, ConvTranspose, Dense; 0 for the
    /// other ops). ConvTranspose counts only taps that hit an input value.
    pub macs: u64,
    /// The kernel family that runs it.
    pub kernel: Kernel,
    /// Scratch bytes reserved for the kernel while the op runs (part of
    /// `arena_bytes`).
    pub scratch_bytes: usize,
}

/// Sizes and costs of a built model, with lower bounds to compare against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// One entry per op, in execution order.
    pub ops: Vec<OpReport>,
    /// Packed weight bytes of all ops.
    pub weight_bytes: usize,
    /// Bias, multiplier and table bytes of all ops.
    pub param_bytes: usize,
    /// Multiply-accumulates per run.
    pub macs: u64,
    /// The arena size the model declares.
    pub arena_bytes: usize,
    /// The `.lbm` file size.
    pub file_bytes: usize,
    /// Lower bound for the weights: `ceil(Σ count × bits / 8)`.
    pub weight_bytes_lower_bound: usize,
    /// Lower bound for the arena: the largest live set of any op.
    pub arena_bytes_lower_bound: usize,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>4}  {:<14} {:<10} {:<16} {:>16} {:>10} {:>10} {:>14}",
            "#", "op", "kernel", "output", "weights", "params", "arena", "MACs"
        )?;
        for (i, op) in self.ops.iter().enumerate() {
            let shape = op
                .output_shape
                .dims()
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("x");
            let weights = if op.weight_count == 0 {
                "-".to_string()
            } else {
                match (op.weight_bits, op.stored_bits) {
                    (declared, stored) if declared == stored => format!("{} ({declared}b)", op.weight_bytes),
                    (declared, stored) => format!("{} ({declared}b as {stored}b)", op.weight_bytes),
                }
            };
            writeln!(
                f,
                "{i:>4}  {:<14} {:<10} {shape:<16} {weights:>16} {:>10} {:>10} {:>14}",
                op.kind.name(),
                op.kernel.name(),
                op.param_bytes,
                op.arena_bytes,
                op.macs
            )?;
        }
        writeln!(
            f,
            "total: weights {} B (bound {} B), params {} B, arena {} B (bound {} B), file {} B, {} MACs",
            self.weight_bytes,
            self.weight_bytes_lower_bound,
            self.param_bytes,
            self.arena_bytes,
            self.arena_bytes_lower_bound,
            self.file_bytes,
            self.macs
        )
    }
}

//! Float values waiting for the quantizer that turns them into integers.

use crate::ir::QuantParams;
use lowbit_runtime::build::{ConvParams, ConvTransposeParams, DenseParams, PoolParams, TensorId};

/// An integer tensor of the program with the IR quantization of its values.
#[derive(Debug, Clone)]
pub(super) struct IntTensor {
    /// The program tensor.
    pub(super) t: TensorId,
    /// Scale, zero point and range of its integers.
    pub(super) q: QuantParams,
}

/// An accumulating op whose output stage is not decided yet.
#[derive(Debug, Clone)]
pub(super) enum AccOp {
    Conv(ConvParams),
    ConvTranspose(ConvTransposeParams),
    Dense(DenseParams),
}

/// `acc · scale[c] · gain[c] + offset[c]`: an accumulator in real units.
#[derive(Debug, Clone)]
pub(super) struct Acc {
    /// The program tensor it reads.
    pub(super) input: TensorId,
    /// The op, with a placeholder requantization.
    pub(super) op: AccOp,
    /// Input scale (per tensor).
    pub(super) input_scale: f32,
    /// Weight scale per output channel (one entry when per tensor).
    pub(super) weight_scale: Vec<f32>,
    /// Folded per-channel affine (BatchNormalization): `(gain, offset)`.
    pub(super) affine: Option<(Vec<f64>, Vec<f64>)>,
}

/// The float computation behind a pending value.
#[derive(Debug, Clone)]
pub(super) enum Base {
    /// The float model input, before its quantizer.
    Input(crate::ir::ValueId),
    /// `dequantize(t)`.
    Grid(IntTensor),
    /// A convolution or dense layer's output.
    Acc(Box<Acc>),
    /// ONNX `AveragePool` of `dequantize(input)`.
    Avg { input: IntTensor, pool: PoolParams, count_include_pad: bool, window: usize },
    /// `dequantize(a) + dequantize(b)`.
    Sum(IntTensor, IntTensor),
}

/// An elementwise float op applied after the base.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Post {
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, lo), hi)`.
    Clip(Option<f64>, Option<f64>),
}

impl Post {
    /// Applies the op to a float32 value, as ONNX Runtime does.
    pub(super) fn apply(self, x: f32) -> f32 {
        match self {
            Post::Relu => {
                if x > 0.0 {
                    x
                } else {
                    0.0
                }
            }
            Post::Clip(lo, hi) => {
                let x = lo.map_or(x, |lo| x.max(lo as f32));
                hi.map_or(x, |hi| x.min(hi as f32))
            }
        }
    }
}

/// A float value of the graph, not yet computed by the program.
#[derive(Debug, Clone)]
pub(super) struct Real {
    /// What is computed.
    pub(super) base: Base,
    /// Then these, in order.
    pub(super) post: Vec<Post>,
}

/// What a graph value is in the program being built.
#[derive(Debug, Clone)]
pub(super) enum Lv {
    /// Integers in a program tensor.
    Int(IntTensor),
    /// A float value pending its quantizer.
    Real(Real),
    /// A constant (weights, biases), read by the op that uses it.
    Const(crate::ir::ValueId),
}

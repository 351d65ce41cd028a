//! The parameter structs of the builder's ops.
//!
//! All fields are plain data in ONNX conventions: pairs are `[height, width]`
//! (for 1d ops use height 1: `kernel: [1, k]`, `pads: [0, begin, 0, end]`),
//! pads are `[top, left, bottom, right]` (ONNX's own `pads` order), and
//! weights are `i32` values in ONNX layout that already had their zero
//! point subtracted (`w - zw`).

use crate::{TensorQuant, WeightFormat};

/// The requantizing output stage of Conv, ConvTranspose, Dense and AvgPool:
/// `y = clamp(rne(f32(acc) * m) + output.zero_point, lo, hi)`
/// (see [`arith::requantize`](crate::arith::requantize)).
#[derive(Debug, Clone, PartialEq)]
pub struct Requant {
    /// The multipliers `m`, normally
    /// [`arith::requant_multiplier`](crate::arith::requant_multiplier)`(s_x, s_w, s_y)`:
    /// one for the whole tensor, or one per output channel. (AvgPool: one,
    /// or one per window size `n = 1 ..= kH·kW`, see [`AvgPoolParams`].)
    pub multipliers: Vec<f32>,
    /// Quantization of the output tensor. Its zero point is the one added
    /// after rounding; its bits and signedness decide the storage.
    pub output: TensorQuant,
    /// Smallest output value (within `output.range()`); fused activations
    /// (ReLU, Clip, HardTanh) and narrow output ranges go here.
    pub lo: i32,
    /// Largest output value (within `output.range()`).
    pub hi: i32,
}

impl Requant {
    /// A requantization clamped to the full range of `output`.
    pub fn new(multipliers: Vec<f32>, output: TensorQuant) -> Requant {
        let (lo, hi) = output.range();
        Requant {
            multipliers,
            output,
            lo,
            hi,
        }
    }
}

/// ONNX `Conv` (`QLinearConv` semantics) over a `C,H,W` or `C,L` input.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvParams {
    /// Output channels `O`.
    pub out_channels: usize,
    /// Kernel `[kH, kW]`.
    pub kernel: [usize; 2],
    /// Strides `[sH, sW]` (at least 1).
    pub stride: [usize; 2],
    /// Pads `[top, left, bottom, right]`; padding acts as the input zero point.
    pub pads: [usize; 4],
    /// Dilations `[dH, dW]` (at least 1).
    pub dilation: [usize; 2],
    /// Groups; divides `C` and `O` (`groups == C == O` is depthwise).
    pub groups: usize,
    /// `(w - zw)` in ONNX layout `[O][C/groups][kH][kW]`.
    pub weights: Vec<i32>,
    /// How to pack the weights; every value must fit.
    pub weight_format: WeightFormat,
    /// One `i32` bias per output channel, or empty for none.
    pub bias: Vec<i32>,
    /// Output stage; multipliers per tensor or per output channel.
    pub requant: Requant,
}

/// ONNX `ConvTranspose` over a `C,H,W` or `C,L` input, requantized like
/// [`ConvParams`].
#[derive(Debug, Clone, PartialEq)]
pub struct ConvTransposeParams {
    /// Output channels `O`.
    pub out_channels: usize,
    /// Kernel `[kH, kW]`.
    pub kernel: [usize; 2],
    /// Strides `[sH, sW]` (at least 1).
    pub stride: [usize; 2],
    /// Pads `[top, left, bottom, right]` (cropped from the full output).
    pub pads: [usize; 4],
    /// Dilations `[dH, dW]` (at least 1).
    pub dilation: [usize; 2],
    /// Extra rows/columns at the bottom/right (`output_padding`), each below
    /// the stride or the dilation of its axis.
    pub output_padding: [usize; 2],
    /// Groups; divides `C` and `O`.
    pub groups: usize,
    /// `(w - zw)` in ONNX layout `[C][O/groups][kH][kW]`.
    pub weights: Vec<i32>,
    /// How to pack the weights; every value must fit.
    pub weight_format: WeightFormat,
    /// One `i32` bias per output channel, or empty for none.
    pub bias: Vec<i32>,
    /// Output stage; multipliers per tensor or per output channel.
    pub requant: Requant,
}

/// Dense (`Gemm`/`MatMul` with a constant `[out, in]` matrix) over the
/// input's elements in `C,H,W` order, i.e. after ONNX `Flatten`.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseParams {
    /// Output features.
    pub out_features: usize,
    /// `(w - zw)` in layout `[out][in]` (transpose a `MatMul` `[in, out]`
    /// matrix first).
    pub weights: Vec<i32>,
    /// How to pack the weights; every value must fit.
    pub weight_format: WeightFormat,
    /// One `i32` bias per output, or empty for none.
    pub bias: Vec<i32>,
    /// Output stage; multipliers per tensor or per output feature.
    pub requant: Requant,
}

/// Window of a pooling op (ONNX floor mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolParams {
    /// Kernel `[kH, kW]`.
    pub kernel: [usize; 2],
    /// Strides `[sH, sW]` (at least 1).
    pub stride: [usize; 2],
    /// Pads `[top, left, bottom, right]`, each smaller than the kernel
    /// along its axis (as ONNX requires).
    pub pads: [usize; 4],
    /// Dilations `[dH, dW]` (at least 1).
    pub dilation: [usize; 2],
}

impl PoolParams {
    /// A `kernel`-sized window with stride equal to the kernel, no padding
    /// and no dilation (ONNX's default for Keras-style pooling).
    pub fn new(kernel: [usize; 2]) -> PoolParams {
        PoolParams {
            kernel,
            stride: kernel,
            pads: [0; 4],
            dilation: [1, 1],
        }
    }
}

/// Average pooling: `y = requant(Σ (x - zx), m)` over each window.
///
/// The window sum skips padding (padding is the input zero point). `n`, the
/// number of values a window averages, is `kH·kW` if `count_include_pad`,
/// else the number of window taps inside the input. `requant.multipliers`
/// holds either one multiplier for every window, or `kH·kW` of them, and
/// then `multipliers[n - 1]` is used; e.g. `m[n-1] = s_x / (s_y · n)` in
/// the float expression the lowering wants to reproduce.
#[derive(Debug, Clone, PartialEq)]
pub struct AvgPoolParams {
    /// The window.
    pub pool: PoolParams,
    /// Count padding taps in `n`.
    pub count_include_pad: bool,
    /// Output stage.
    pub requant: Requant,
}

/// Elementwise `Add` of two tensors of the same shape:
/// `y = quantize(dequantize(a) + dequantize(b))` in `f32` with the tensors'
/// own quantization, as ONNX Runtime's QDQ float path computes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AddParams {
    /// Quantization of the sum.
    pub output: TensorQuant,
    /// Smallest output value (within `output.range()`).
    pub lo: i32,
    /// Largest output value (within `output.range()`).
    pub hi: i32,
}

impl AddParams {
    /// An `Add` clamped to the full range of `output`.
    pub fn new(output: TensorQuant) -> AddParams {
        let (lo, hi) = output.range();
        AddParams { output, lo, hi }
    }
}

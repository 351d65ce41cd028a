//! The operators of lowbit's IR and their attributes.
//!
//! The IR keeps ONNX's split between the float domain and the integer domain:
//! [`Op::Quantize`] and [`Op::Dequantize`] cross it, integer values carry
//! their [`QuantParams`](super::QuantParams), and integer operators
//! ([`Op::QLinearConv`], [`Op::QLinearMatMul`]) compute with ONNX Runtime's
//! integer semantics. Every importer produces these ops; every backend
//! consumes them.

use lowbit_runtime::arith::Rounding;

/// Convolution geometry shared by `Conv`, `ConvTranspose` and `QLinearConv`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ConvAttrs {
    /// Kernel size per spatial axis (1 or 2 axes).
    pub kernel: Vec<usize>,
    /// Stride per spatial axis.
    pub strides: Vec<usize>,
    /// Padding: all begins, then all ends (ONNX order).
    pub pads: Vec<usize>,
    /// Dilation per spatial axis.
    pub dilations: Vec<usize>,
    /// Number of groups (channels for depthwise).
    pub group: usize,
}

/// Transposed convolution attributes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ConvTransposeAttrs {
    /// Geometry as for `Conv`.
    pub conv: ConvAttrs,
    /// Extra size added to one side of the output per spatial axis.
    pub output_padding: Vec<usize>,
}

/// `Gemm`: `alpha * op(A) op(B) + beta * C`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GemmAttrs {
    /// Multiplier of the product.
    pub alpha: f32,
    /// Multiplier of the addend.
    pub beta: f32,
    /// Whether A is transposed.
    pub trans_a: bool,
    /// Whether B is transposed.
    pub trans_b: bool,
}

/// Window geometry of pooling ops.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct PoolAttrs {
    /// Window size per spatial axis.
    pub kernel: Vec<usize>,
    /// Stride per spatial axis.
    pub strides: Vec<usize>,
    /// Padding: all begins, then all ends.
    pub pads: Vec<usize>,
    /// Dilation per spatial axis.
    pub dilations: Vec<usize>,
    /// Round output sizes up instead of down.
    pub ceil_mode: bool,
}

/// Average pooling attributes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct AvgPoolAttrs {
    /// Window geometry.
    pub pool: PoolAttrs,
    /// Whether padded positions count in the divisor.
    pub count_include_pad: bool,
}

/// `Clip` bounds in the value's own domain (float, or integers).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClipAttrs {
    /// Lower bound, if any.
    pub min: Option<f64>,
    /// Upper bound, if any.
    pub max: Option<f64>,
}

/// Static `Slice` attributes (ONNX semantics, negative indices allowed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct SliceAttrs {
    /// Start index per sliced axis.
    pub starts: Vec<i64>,
    /// End index (exclusive) per sliced axis.
    pub ends: Vec<i64>,
    /// The sliced axes.
    pub axes: Vec<i64>,
    /// Step per sliced axis.
    pub steps: Vec<i64>,
}

/// QONNX `Trunc`: drop the low bits of a quantized value.
///
/// The float input holds `(q_in - zp_in) * in_scale` values. The op
/// recovers `q_in = rne(x / in_scale + zp_in)`, divides by `2^shift`,
/// clamps to the output range and rounds with `rounding`; the output integers
/// carry the output value's [`QuantParams`](super::QuantParams).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TruncAttrs {
    /// Scale of the incoming quantized values.
    pub in_scale: f32,
    /// Zero point of the incoming quantized values.
    pub in_zero_point: f32,
    /// Input bit width (informational; the input is assumed to fit).
    pub in_bits: u32,
    /// Number of low bits dropped (log2 of output scale / input scale).
    pub shift: i32,
    /// How the divided value becomes an integer.
    #[serde(skip)]
    pub rounding: Rounding,
}

impl TruncAttrs {
    /// Truncates one float value into `[min, max]`, in qonnx's float32 order:
    /// round to the incoming integer, divide by `2^shift`, clamp, round.
    pub fn apply(&self, x: f32, (min, max): (i64, i64)) -> i64 {
        let divisor = 2f32.powi(self.shift);
        let y = lowbit_runtime::arith::round_half_even(x / self.in_scale + self.in_zero_point) / divisor;
        self.rounding.apply(y.clamp(min as f32, max as f32)) as i64
    }
}

/// Attributes of [`Op::Quantize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QuantizeAttrs {
    /// How `x / scale` becomes an integer (ONNX: always half to even).
    pub rounding: Rounding,
    /// QONNX order: the zero point is added to `x / scale` in float32 before
    /// rounding. ONNX `QuantizeLinear` adds it to the rounded integer; the
    /// two differ when the float addition itself rounds.
    pub zero_point_first: bool,
}

impl QuantizeAttrs {
    /// ONNX `QuantizeLinear` semantics.
    pub const ONNX: QuantizeAttrs = QuantizeAttrs { rounding: Rounding::HalfEven, zero_point_first: false };

    /// Quantizes one value into `[min, max]` (`bipolar`: to `{-1, +1}`).
    pub fn apply(&self, x: f32, scale: f32, zero_point: i64, (min, max): (i64, i64), bipolar: bool) -> i64 {
        let y = x / scale;
        if bipolar {
            // QONNX BipolarQuant / 1-bit signed Quant: the sign, with 0 → +1.
            return if y + zero_point as f32 >= 0.0 { 1 } else { -1 };
        }
        if self.zero_point_first {
            let y = (y + zero_point as f32).clamp(min as f32, max as f32);
            self.rounding.apply(y) as i64
        } else {
            (self.rounding.apply(y) as i64).saturating_add(zero_point).clamp(min, max)
        }
    }
}

/// An IR operator.
///
/// Inputs are listed per variant; optional inputs may be absent from the
/// end of the node's input list.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// float `x` → integers with the output value's parameters (QuantizeLinear
    /// with its Clip, QONNX Quant/BipolarQuant).
    Quantize(QuantizeAttrs),
    /// integer `q` → float, with the input value's parameters.
    Dequantize,
    /// float `x` → integers: QONNX `Trunc`.
    Trunc(TruncAttrs),
    /// float `x, w, [b]` → float convolution.
    Conv(ConvAttrs),
    /// float `x, w, [b]` → float transposed convolution.
    ConvTranspose(ConvTransposeAttrs),
    /// integer `x, w, [b:int32]` → integers, ONNX Runtime's `QLinearConv`.
    QLinearConv(ConvAttrs),
    /// float `a, b, [c]` → float `Gemm`.
    Gemm(GemmAttrs),
    /// float `a, b` → float matrix product.
    MatMul,
    /// integer `a, b` → integers, ONNX Runtime's `QLinearMatMul`.
    QLinearMatMul,
    /// `max(x, 0)`.
    Relu,
    /// Clamp to bounds (float or integer values).
    Clip(ClipAttrs),
    /// Max pooling (float or integer values).
    MaxPool(PoolAttrs),
    /// Average pooling (float).
    AveragePool(AvgPoolAttrs),
    /// Elementwise sum with broadcasting (float).
    Add,
    /// Collapse to 2-D at `axis`.
    Flatten {
        /// Dimensions before `axis` form the first output dimension.
        axis: usize,
    },
    /// Reshape with ONNX semantics (`0` copies the input dimension, `-1` is inferred).
    Reshape {
        /// Target shape.
        shape: Vec<i64>,
    },
    /// Static slice.
    Slice(SliceAttrs),
    /// float `x, scale, bias, mean, var` → float batch normalization (inference).
    BatchNorm {
        /// Added to the variance.
        epsilon: f32,
    },
}

impl Op {
    /// The op's name as shown to users (the ONNX op it corresponds to).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Quantize(_) => "Quantize",
            Op::Dequantize => "Dequantize",
            Op::Trunc(_) => "Trunc",
            Op::Conv(_) => "Conv",
            Op::ConvTranspose(_) => "ConvTranspose",
            Op::QLinearConv(_) => "QLinearConv",
            Op::Gemm(_) => "Gemm",
            Op::MatMul => "MatMul",
            Op::QLinearMatMul => "QLinearMatMul",
            Op::Relu => "Relu",
            Op::Clip(_) => "Clip",
            Op::MaxPool(_) => "MaxPool",
            Op::AveragePool(_) => "AveragePool",
            Op::Add => "Add",
            Op::Flatten { .. } => "Flatten",
            Op::Reshape { .. } => "Reshape",
            Op::Slice(_) => "Slice",
            Op::BatchNorm { .. } => "BatchNormalization",
        }
    }

    /// Whether the op multiplies activations by weights (a "layer").
    pub fn is_linear_layer(&self) -> bool {
        matches!(
            self,
            Op::Conv(_) | Op::ConvTranspose(_) | Op::QLinearConv(_) | Op::Gemm(_) | Op::MatMul | Op::QLinearMatMul
        )
    }
}

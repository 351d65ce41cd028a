//! Kernel selection: which kernel family runs each op, and how much
//! scratch memory the memory plan reserves for it.
//!
//! Everything here is decided once, at build time, from the op's shape,
//! its weight format and its input's quantization; the device only checks
//! that the choice applies (`model::prepare`).

use super::TensorDef;
use crate::format::{Kernel, OpKind, TensorQuant, WeightFormat};
use crate::kernels::gemm::WeightPath;
use crate::kernels::{self, Geometry};

/// How the builder picks each op's kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum KernelPolicy {
    /// The fastest kernel that applies to the op's shape (the default),
    /// weights stored wider where that buys a faster kernel (4 or 8 bits
    /// instead of the bit-stream loops, and of 2-bit lanes except on
    /// convolution rows of whole 16-weight words).
    #[default]
    Auto,
    /// The fastest kernel for the weights in their declared format: the
    /// least flash, and the bit widths a hardware design (`lowbit hls`)
    /// should build.
    Compact,
    /// The portable reference kernels everywhere (no scratch memory): for
    /// comparisons and debugging.
    Reference,
}

/// Padded planes up to this many bytes go to the direct kernel; larger
/// ones would cost more scratch RAM than they save time.
const DIRECT_MAX_PLANE: usize = 4096;

/// A kernel and the scratch bytes it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Choice {
    /// The kernel family.
    pub(super) kernel: Kernel,
    /// Scratch bytes to reserve while the op runs.
    pub(super) scratch: usize,
}

impl Choice {
    /// The reference kernel (no scratch).
    pub(super) const REFERENCE: Choice = Choice {
        kernel: Kernel::Reference,
        scratch: 0,
    };
}

/// The shape facts of a convolution the selection needs.
pub(super) struct ConvShape<'w> {
    /// Input `[C, H, W]`.
    pub(super) input: [usize; 3],
    /// The window.
    pub(super) geometry: Geometry,
    /// Groups.
    pub(super) groups: usize,
    /// Weights `(w - zw)`, one row of `C/groups·kH·kW` per output channel.
    pub(super) weights: &'w [i32],
    /// Their format.
    pub(super) format: WeightFormat,
}

/// The kernel of a convolution.
pub(super) fn conv(policy: KernelPolicy, x: &TensorDef, s: &ConvShape<'_>) -> Choice {
    if policy == KernelPolicy::Reference {
        return Choice::REFERENCE;
    }
    let [c, h, w] = s.input;
    let [kh, kw] = s.geometry.kernel;
    let taps = c / s.groups * kh * kw;
    let plane = kernels::direct::plane_len(&s.geometry, [h, w]);
    if c == s.groups && kernels::direct::applies(&s.geometry) && plane <= DIRECT_MAX_PLANE {
        return Choice {
            kernel: Kernel::Direct,
            scratch: kernels::direct::scratch_len(plane),
        };
    }
    if s.groups == 1 && lanes_fit(&x.quant, s.weights, taps, s.format) {
        return Choice {
            kernel: Kernel::Gemm,
            scratch: kernels::gemm::conv_scratch_len(&s.geometry, s.input),
        };
    }
    Choice::REFERENCE
}

/// The format a Conv (on the Gemm kernel) or Dense layer stores its rows of
/// `taps` weights in: the declared `format`, or, under
/// [`KernelPolicy::Auto`] when `format` is not among the fastest for such
/// rows, the narrowest two's complement format among the fastest that holds
/// every one of `weights`. Measured on Cortex-M4 (`cargo xtask bench
/// --layers`), the fastest are:
///
/// - on Dense, 4 bits (the nibbles kernel, any row length) and 8 bits;
///   2-bit lanes run 1.6× to 1.75× slower than nibbles;
/// - on Conv, 4 bits (rows of even length) and 8 bits, and 2 bits for rows
///   of whole 16-weight words (elsewhere 2-bit lanes run 1.35× to
///   1.6× slower);
/// - never the bit-stream loops (3, 5, 6 or 7 bits, unsigned or bipolar
///   weights, other row lengths), several times slower.
///
/// The weights take more flash ([`KernelPolicy::Compact`] keeps the
/// declared format). (Bipolar Dense layers over two-level inputs keep their
/// format: the binary kernel is faster still.)
pub(super) fn stored_format(
    policy: KernelPolicy,
    kind: OpKind,
    format: WeightFormat,
    weights: &[i32],
    taps: usize,
) -> WeightFormat {
    let lanes = |f: WeightFormat| WeightPath::of(f, taps, true) != WeightPath::Other;
    let fastest = |f: WeightFormat| match f {
        WeightFormat::Signed(2) => kind == OpKind::Conv && taps.is_multiple_of(16) && lanes(f),
        WeightFormat::Signed(4) => kind == OpKind::Dense || lanes(f),
        WeightFormat::Signed(8) => lanes(f),
        _ => false,
    };
    if policy != KernelPolicy::Auto || fastest(format) {
        return format;
    }
    [
        WeightFormat::Signed(2),
        WeightFormat::Signed(4),
        WeightFormat::Signed(8),
    ]
    .into_iter()
    .find(|&f| fastest(f) && weights.iter().all(|&w| f.contains(w)))
    .unwrap_or(format)
}

/// The kernel of a dense layer over `inputs` features (the weights of
/// `outputs = weights.len() / inputs` rows).
pub(super) fn dense(
    policy: KernelPolicy,
    x: &TensorDef,
    inputs: usize,
    weights: &[i32],
    format: WeightFormat,
) -> Choice {
    let outputs = weights.len().checked_div(inputs).unwrap_or(0);
    if policy == KernelPolicy::Reference {
        return Choice::REFERENCE;
    }
    if format == WeightFormat::Bipolar && kernels::binary::two_level(&x.quant, x.bipolar) {
        return Choice {
            kernel: Kernel::Binary,
            scratch: kernels::binary::scratch_len(inputs, outputs),
        };
    }
    // Two's complement nibbles in 256-input segments: exact for every row.
    if format == WeightFormat::Signed(4) {
        return Choice {
            kernel: Kernel::Nibbles,
            scratch: kernels::nibbles::scratch_len(inputs),
        };
    }
    if lanes_fit(&x.quant, weights, inputs, format) {
        return Choice {
            kernel: Kernel::Gemm,
            scratch: kernels::gemm::dense_scratch_len(inputs),
        };
    }
    Choice::REFERENCE
}

/// Whether the packed-lane products of the DSP path stay exact: 4-bit and
/// 2-bit weights are unpacked scaled by 16 and 64, so each row's
/// `scale · Σ|w| · max|x|` must fit an `i32` (`max|x|` over the input's
/// declared range and its zero point, which padding reads). Always true for
/// every realistic layer; a row that fails keeps the reference kernel.
fn lanes_fit(x: &TensorQuant, weights: &[i32], taps: usize, format: WeightFormat) -> bool {
    let scale = kernels::gemm::lane_scale(format);
    if scale == 1 || taps == 0 {
        return true;
    }
    let (lo, hi) = x.range();
    let max_x = [lo, hi, x.zero_point]
        .iter()
        .map(|v| i64::from(*v).abs())
        .max()
        .unwrap_or(0);
    weights.chunks(taps).all(|row| {
        let sum: i64 = row.iter().map(|&w| i64::from(w).abs()).sum();
        sum * max_x * scale <= i64::from(i32::MAX)
    })
}

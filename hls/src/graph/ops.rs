//! The dataflow units, FINN's hardware ops, with their shapes and
//! parameters.

use crate::{DType, Thresholds};
use lowbit_runtime::WeightFormat;

/// Matrix-vector-activation unit: dense layers, and convolutions after a
/// sliding-window generator.
#[derive(Debug, Clone, PartialEq)]
pub struct Mvau {
    /// Matrix width: inputs per vector.
    pub mw: usize,
    /// Matrix height: outputs per vector.
    pub mh: usize,
    /// Vectors per frame (output pixels).
    pub reps: usize,
    /// Input element type.
    pub input: DType,
    /// Weight coding.
    pub weight_format: WeightFormat,
    /// `mh × mw` weights, columns in stream order.
    pub weights: Vec<i32>,
    /// Output activation.
    pub act: Thresholds,
}

/// Vector-vector-activation unit: depthwise convolutions.
#[derive(Debug, Clone, PartialEq)]
pub struct Vvau {
    /// Channels.
    pub channels: usize,
    /// Kernel `[kH, kW]`.
    pub kernel: [usize; 2],
    /// Output feature map `[H, W]`.
    pub dim: [usize; 2],
    /// Input element type.
    pub input: DType,
    /// Weight coding.
    pub weight_format: WeightFormat,
    /// `channels × kH·kW` weights.
    pub weights: Vec<i32>,
    /// Output activation.
    pub act: Thresholds,
}

/// Sliding-window input generator (FINN's `ConvolutionInputGenerator`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swg {
    /// Input channels.
    pub channels: usize,
    /// Input feature map `[H, W]` (already padded).
    pub ifm: [usize; 2],
    /// Output feature map `[H, W]`.
    pub ofm: [usize; 2],
    /// Kernel `[kH, kW]`.
    pub kernel: [usize; 2],
    /// Strides.
    pub stride: [usize; 2],
    /// Dilations.
    pub dilation: [usize; 2],
    /// Windows in (channel, kH, kW) order for a VVAU or pool, whose PE
    /// sets this unit's SIMD.
    pub depthwise: bool,
    /// Element type.
    pub dtype: DType,
}

/// Feature-map padding with a constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FmPadding {
    /// Channels.
    pub channels: usize,
    /// Input feature map `[H, W]`.
    pub dim: [usize; 2],
    /// `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// The padding value (the input zero point for convolutions, the
    /// smallest value for max pooling).
    pub value: i32,
    /// Element type.
    pub dtype: DType,
}

/// Max pooling with the window equal to the stride.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamingMaxPool {
    /// Channels.
    pub channels: usize,
    /// Input feature map `[H, W]`.
    pub dim: [usize; 2],
    /// Window `[kH, kW]`.
    pub kernel: [usize; 2],
    /// Element type.
    pub dtype: DType,
}

/// Window reduction after a depthwise sliding-window generator (FINN's
/// `Pool`): the maximum, or the sum for average pooling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// Channels.
    pub channels: usize,
    /// Window `[kH, kW]`.
    pub kernel: [usize; 2],
    /// Output feature map `[H, W]`.
    pub dim: [usize; 2],
    /// Sum (average pooling) instead of maximum.
    pub sum: bool,
    /// Input element type.
    pub input: DType,
    /// Output element type.
    pub output: DType,
}

/// A standalone multi-threshold activation.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholding {
    /// Channels.
    pub channels: usize,
    /// Pixels per frame.
    pub reps: usize,
    /// Input element type.
    pub input: DType,
    /// The thresholds.
    pub act: Thresholds,
}

/// Elementwise sum of two streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddStreams {
    /// Channels.
    pub channels: usize,
    /// Pixels per frame.
    pub reps: usize,
    /// First input type.
    pub a: DType,
    /// Second input type.
    pub b: DType,
    /// Sum type.
    pub output: DType,
}

/// A stream copied to two consumers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateStreams {
    /// Channels.
    pub channels: usize,
    /// Pixels per frame.
    pub reps: usize,
    /// Element type.
    pub dtype: DType,
}

/// Top-k label selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelSelect {
    /// Number of labels (input values).
    pub labels: usize,
    /// Indices output.
    pub k: usize,
    /// Input element type.
    pub input: DType,
    /// Index type.
    pub output: DType,
}

/// Stream width converter between differently folded units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dwc {
    /// Elements per input word.
    pub in_elems: usize,
    /// Elements per output word.
    pub out_elems: usize,
    /// Elements per frame.
    pub elements: usize,
    /// Element type.
    pub dtype: DType,
}

/// A dataflow unit.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// See [`Mvau`].
    Mvau(Mvau),
    /// See [`Vvau`].
    Vvau(Vvau),
    /// See [`Swg`].
    Swg(Swg),
    /// See [`FmPadding`].
    FmPadding(FmPadding),
    /// See [`StreamingMaxPool`].
    StreamingMaxPool(StreamingMaxPool),
    /// See [`Pool`].
    Pool(Pool),
    /// See [`Thresholding`].
    Thresholding(Thresholding),
    /// See [`AddStreams`].
    AddStreams(AddStreams),
    /// See [`DuplicateStreams`].
    DuplicateStreams(DuplicateStreams),
    /// See [`LabelSelect`].
    LabelSelect(LabelSelect),
    /// See [`Dwc`].
    Dwc(Dwc),
}

/// A folding attribute's allowed values: the divisors of `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knob {
    /// The largest value (every allowed value divides it).
    pub max: usize,
    /// The dimension it folds, for messages (`MH`, `channels`).
    pub what: &'static str,
}

impl Op {
    /// FINN's op type, e.g. `MVAU_hls`.
    pub fn op_type(&self) -> &'static str {
        match self {
            Op::Mvau(_) => "MVAU_hls",
            Op::Vvau(_) => "VVAU_hls",
            Op::Swg(_) => "ConvolutionInputGenerator_hls",
            Op::FmPadding(_) => "FMPadding_hls",
            Op::StreamingMaxPool(_) => "StreamingMaxPool_hls",
            Op::Pool(_) => "Pool_hls",
            Op::Thresholding(_) => "Thresholding_hls",
            Op::AddStreams(_) => "AddStreams_hls",
            Op::DuplicateStreams(_) => "DuplicateStreams_hls",
            Op::LabelSelect(_) => "LabelSelect_hls",
            Op::Dwc(_) => "StreamingDataWidthConverter_hls",
        }
    }

    /// The PE knob, if the unit has one to set.
    pub fn pe_knob(&self) -> Option<Knob> {
        let knob = |max, what| Some(Knob { max, what });
        match self {
            Op::Mvau(m) => knob(m.mh, "MH"),
            Op::Vvau(v) => knob(v.channels, "channels"),
            Op::StreamingMaxPool(p) if p.is_1d() => knob(p.channels, "channels"),
            Op::Pool(p) => knob(p.channels, "channels"),
            Op::Thresholding(t) => knob(t.channels, "channels"),
            Op::AddStreams(a) => knob(a.channels, "channels"),
            Op::DuplicateStreams(d) => knob(d.channels, "channels"),
            Op::LabelSelect(l) => knob(l.labels, "labels"),
            _ => None,
        }
    }

    /// The SIMD knob, if the unit has one to set (a depthwise generator's
    /// SIMD follows its consumer's PE).
    pub fn simd_knob(&self) -> Option<Knob> {
        let knob = |max, what| Some(Knob { max, what });
        match self {
            Op::Mvau(m) => knob(m.mw, "MW"),
            Op::Vvau(v) => knob(v.kernel[0] * v.kernel[1], "kernel size"),
            Op::Swg(s) if !s.depthwise => knob(s.channels, "IFMChannels"),
            Op::FmPadding(p) => knob(p.channels, "channels"),
            _ => None,
        }
    }

    /// Elements per input word (of every input) with folding `pe`, `simd`.
    pub fn in_elems(&self, pe: usize, simd: usize) -> usize {
        match self {
            Op::Mvau(_) | Op::Swg(_) | Op::FmPadding(_) => simd,
            Op::Vvau(_) => simd * pe,
            Op::Dwc(d) => d.in_elems,
            _ => pe,
        }
    }

    /// Elements per output word with folding `pe`, `simd`.
    pub fn out_elems(&self, pe: usize, simd: usize) -> usize {
        match self {
            Op::Swg(_) | Op::FmPadding(_) => simd,
            Op::LabelSelect(_) => 1,
            Op::Dwc(d) => d.out_elems,
            _ => pe,
        }
    }

    /// The type of the output elements.
    pub fn output_dtype(&self) -> DType {
        match self {
            Op::Mvau(m) => m.act.output,
            Op::Vvau(v) => v.act.output,
            Op::Thresholding(t) => t.act.output,
            Op::Swg(s) => s.dtype,
            Op::FmPadding(p) => p.dtype,
            Op::StreamingMaxPool(p) => p.dtype,
            Op::Pool(p) => p.output,
            Op::AddStreams(a) => a.output,
            Op::DuplicateStreams(d) => d.dtype,
            Op::LabelSelect(l) => l.output,
            Op::Dwc(d) => d.dtype,
        }
    }
}

impl StreamingMaxPool {
    /// One-row input and window (FINN's 1-D variant, which folds by PE).
    pub fn is_1d(&self) -> bool {
        self.dim[0] == 1 && self.kernel[0] == 1
    }
}

impl Swg {
    /// One-row input and kernel (FINN's 1-D variants).
    pub fn is_1d(&self) -> bool {
        self.ifm[0] == 1 && self.kernel[0] == 1
    }
}

/// Bits per weight and FINN's name of the weight type.
pub fn weight_type(format: WeightFormat) -> (u32, String) {
    match format {
        WeightFormat::Signed(b) => (u32::from(b), format!("INT{b}")),
        WeightFormat::Unsigned(b) => (u32::from(b), format!("UINT{b}")),
        WeightFormat::Bipolar => (1, "BIPOLAR".into()),
    }
}

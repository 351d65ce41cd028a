//! The layer shapes of `cargo xtask bench --layers` (issue #7's table) and
//! the one-op `.lbm` programs that time them.
//!
//! Every layer is built on the host with `ProgramBuilder` from seeded random
//! weights, biases, per-channel multipliers and inputs, so a run measures
//! exactly the runtime's `Plan::execute` for a one-op program. A layer
//! whose arena does not fit a board's free RAM is split into slices of its
//! output channels (depthwise: of its channels), each a program of its own;
//! their counts are summed.

use anyhow::{Context, Result, bail};
use lowbit::ir::{DType, Tensor};
use lowbit_runtime::build::{ConvParams, DenseParams, ProgramBuilder, Requant};
use lowbit_runtime::{TensorQuant, WeightFormat};

/// One layer shape.
#[derive(Debug, Clone, Copy)]
pub struct Layer {
    /// The name in the tables and in `layers.json`.
    pub name: &'static str,
    /// Its op.
    pub op: LayerOp,
}

/// The op of a layer.
#[derive(Debug, Clone, Copy)]
pub enum LayerOp {
    /// A convolution over a `C,H,W` input.
    Conv {
        /// `[C, H, W]`.
        input: [usize; 3],
        /// Output channels.
        out_channels: usize,
        /// `[kH, kW]`.
        kernel: [usize; 2],
        /// `[sH, sW]`.
        stride: [usize; 2],
        /// `[top, left, bottom, right]`.
        pads: [usize; 4],
        /// Groups (the channel count for depthwise).
        groups: usize,
    },
    /// A dense layer.
    Dense {
        /// Input features.
        inputs: usize,
        /// Output features.
        outputs: usize,
    },
}

/// The seven shapes of the issue, plus the 1-bit dense (bipolar weights and activations).
pub const LAYERS: [Layer; 8] = [
    Layer { name: "conv1", op: conv([1, 8, 8], 8, [3, 3], [1, 1], [1, 1, 1, 1], 1) },
    Layer { name: "conv2", op: conv([8, 8, 8], 16, [3, 3], [1, 1], [1, 1, 1, 1], 1) },
    Layer { name: "dense256x10", op: LayerOp::Dense { inputs: 256, outputs: 10 } },
    Layer { name: "dense64x64", op: LayerOp::Dense { inputs: 64, outputs: 64 } },
    // DS-CNN's first layer: 49×10 → 25×5, TensorFlow "same" padding.
    Layer { name: "dscnn_conv", op: conv([1, 49, 10], 64, [10, 4], [2, 2], [4, 1, 5, 1], 1) },
    Layer { name: "dw3x3", op: conv([64, 25, 5], 64, [3, 3], [1, 1], [1, 1, 1, 1], 64) },
    Layer { name: "pw1x1", op: conv([64, 25, 5], 64, [1, 1], [1, 1], [0, 0, 0, 0], 1) },
    Layer { name: XNOR_LAYER, op: LayerOp::Dense { inputs: 256, outputs: 64 } },
];

/// The layer run only with bipolar weights and bipolar activations.
pub const XNOR_LAYER: &str = "xnor256x64";

/// A convolution shape (for the table above).
const fn conv(
    input: [usize; 3],
    out_channels: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    pads: [usize; 4],
    groups: usize,
) -> LayerOp {
    LayerOp::Conv { input, out_channels, kernel, stride, pads, groups }
}

/// How the weights of a variant are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightKind {
    /// Two's complement with this many bits (8, 4 or 2).
    Signed(u8),
    /// One bit per weight, ±1.
    Bipolar,
}

impl WeightKind {
    /// The kinds every layer runs with.
    pub const ALL: [WeightKind; 4] =
        [WeightKind::Signed(8), WeightKind::Signed(4), WeightKind::Signed(2), WeightKind::Bipolar];

    /// Bits per weight.
    pub fn bits(self) -> u8 {
        match self {
            WeightKind::Signed(b) => b,
            WeightKind::Bipolar => 1,
        }
    }

    /// The builder's format.
    fn format(self) -> WeightFormat {
        match self {
            WeightKind::Signed(b) => WeightFormat::Signed(b),
            WeightKind::Bipolar => WeightFormat::Bipolar,
        }
    }

    /// A random weight.
    fn sample(self, rng: &mut Rng) -> i32 {
        match self {
            WeightKind::Signed(b) => rng.range(-(1 << (b - 1)), (1 << (b - 1)) - 1),
            WeightKind::Bipolar => {
                if rng.coin() {
                    1
                } else {
                    -1
                }
            }
        }
    }
}

/// How the activations of a variant are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActKind {
    /// `uint8`, zero point near 128.
    U8,
    /// `int8`, zero point near 0.
    I8,
    /// ±1 (stored as 2-bit signed values).
    Bipolar,
}

impl ActKind {
    /// The name in the tables and in `layers.json`.
    pub fn name(self) -> &'static str {
        match self {
            ActKind::U8 => "u8",
            ActKind::I8 => "i8",
            ActKind::Bipolar => "bipolar",
        }
    }

    /// Bits per activation value.
    pub fn bits(self) -> u8 {
        match self {
            ActKind::U8 | ActKind::I8 => 8,
            ActKind::Bipolar => 1,
        }
    }

    /// A random input quantization.
    fn quant(self, rng: &mut Rng) -> TensorQuant {
        match self {
            ActKind::U8 => TensorQuant { scale: 0.02, zero_point: rng.range(108, 148), bits: 8, signed: false },
            ActKind::I8 => TensorQuant { scale: 0.02, zero_point: rng.range(-20, 20), bits: 8, signed: true },
            ActKind::Bipolar => TensorQuant { scale: 1.0, zero_point: 0, bits: 2, signed: true },
        }
    }

    /// A random input value.
    fn sample(self, rng: &mut Rng) -> i32 {
        match self {
            ActKind::U8 => rng.range(0, 255),
            ActKind::I8 => rng.range(-128, 127),
            ActKind::Bipolar => {
                if rng.coin() {
                    1
                } else {
                    -1
                }
            }
        }
    }

    /// Typical `|x - zx|`, for multipliers that spread the outputs.
    fn spread(self) -> f32 {
        match self {
            ActKind::U8 | ActKind::I8 => 74.0,
            ActKind::Bipolar => 1.0,
        }
    }
}

/// One measurement: a layer with a weight and an activation kind.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// The layer.
    pub layer: Layer,
    /// Its weights.
    pub weights: WeightKind,
    /// Its activations.
    pub act: ActKind,
}

impl Variant {
    /// Every variant of the benchmark, in table order; `only` keeps the
    /// layers named there (all if empty).
    pub fn all(only: &[String]) -> Result<Vec<Variant>> {
        for name in only {
            if !LAYERS.iter().any(|l| l.name == name) {
                let known: Vec<&str> = LAYERS.iter().map(|l| l.name).collect();
                bail!("unknown layer {name:?}; the layers are {}", known.join(", "));
            }
        }
        let mut variants = Vec::new();
        for layer in LAYERS.iter().filter(|l| only.is_empty() || only.iter().any(|n| n == l.name)) {
            if layer.name == XNOR_LAYER {
                variants.push(Variant { layer: *layer, weights: WeightKind::Bipolar, act: ActKind::Bipolar });
                continue;
            }
            for act in [ActKind::U8, ActKind::I8] {
                for weights in WeightKind::ALL {
                    variants.push(Variant { layer: *layer, weights, act });
                }
            }
        }
        Ok(variants)
    }

    /// A short name for file names and progress lines.
    pub fn label(&self) -> String {
        format!("{}-w{}-{}", self.layer.name, self.weights.bits(), self.act.name())
    }

    /// The seed of this variant's random data (the same on every board).
    fn seed(&self) -> u64 {
        self.label().bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
    }

    /// Multiply-accumulates of the whole layer.
    pub fn macs(&self) -> u64 {
        match self.layer.op {
            LayerOp::Dense { inputs, outputs } => (inputs * outputs) as u64,
            LayerOp::Conv { input: [c, h, w], out_channels, kernel, stride, pads, groups } => {
                let [oh, ow] = out_size([h, w], kernel, stride, pads);
                (out_channels * (c / groups) * kernel[0] * kernel[1] * oh * ow) as u64
            }
        }
    }

    /// Output channels (features), the axis slices split.
    fn channels(&self) -> usize {
        match self.layer.op {
            LayerOp::Dense { outputs, .. } => outputs,
            LayerOp::Conv { out_channels, .. } => out_channels,
        }
    }

    /// The programs of this variant split into `slices` parts (1: the whole
    /// layer), or `None` if the channels do not split evenly that way.
    pub fn programs(&self, slices: usize) -> Result<Option<Vec<SliceProgram>>> {
        if slices == 0 || !self.channels().is_multiple_of(slices) {
            return Ok(None);
        }
        let mut rng = Rng::new(self.seed());
        let mut programs = Vec::with_capacity(slices);
        for index in 0..slices {
            programs.push(
                self.slice(&mut rng, slices)
                    .with_context(|| format!("building {} (slice {} of {slices})", self.label(), index + 1))?,
            );
        }
        Ok(Some(programs))
    }

    /// The next of `count` slices: a one-op program and its input.
    fn slice(&self, rng: &mut Rng, count: usize) -> Result<SliceProgram> {
        let xq = self.act.quant(rng);
        let yq = TensorQuant { scale: 0.05, zero_point: rng.range(-10, 10), bits: 8, signed: true };
        let mut b = ProgramBuilder::new();
        let (shape, op_channels, taps) = match self.layer.op {
            LayerOp::Dense { inputs, outputs } => (vec![inputs], outputs / count, inputs),
            LayerOp::Conv { input: [c, h, w], out_channels, kernel, groups, .. } => {
                // Depthwise slices take their channels' inputs only.
                let sliced = if groups > 1 { c / count } else { c };
                (vec![sliced, h, w], out_channels / count, c / groups * kernel[0] * kernel[1])
            }
        };
        let x = b.input(&shape, xq)?;
        if self.act == ActKind::Bipolar {
            b.declare_bipolar(x)?;
        }
        let weights: Vec<i32> = (0..op_channels * taps).map(|_| self.weights.sample(rng)).collect();
        let bias: Vec<i32> = (0..op_channels).map(|_| rng.range(-2000, 2000)).collect();
        let typical = (taps as f32).sqrt() * self.act.spread() * weight_spread(self.weights);
        let multipliers: Vec<f32> =
            (0..op_channels).map(|_| 40.0 / typical * (0.75 + rng.range(0, 500) as f32 / 1000.0)).collect();
        let requant = Requant::new(multipliers, yq);
        let format = self.weights.format();
        let y = match self.layer.op {
            LayerOp::Dense { .. } => {
                b.dense(x, DenseParams { out_features: op_channels, weights, weight_format: format, bias, requant })?
            }
            LayerOp::Conv { kernel, stride, pads, groups, .. } => b.conv(
                x,
                ConvParams {
                    out_channels: op_channels,
                    kernel,
                    stride,
                    pads,
                    dilation: [1, 1],
                    groups: if groups > 1 { groups / count } else { 1 },
                    weights,
                    weight_format: format,
                    bias,
                    requant,
                },
            )?,
        };
        b.output(y)?;
        let built = b.finish()?;
        let elements: usize = shape.iter().product();
        let values: Vec<i64> = (0..elements).map(|_| i64::from(self.act.sample(rng))).collect();
        Ok(SliceProgram { lbm: built.bytes, input: values, input_quant: xq, macs: built.report.macs })
    }
}

/// A one-op program (a layer or a slice of it) and one input for it.
#[derive(Debug, Clone)]
pub struct SliceProgram {
    /// The `.lbm` bytes.
    pub lbm: Vec<u8>,
    /// The input values.
    pub input: Vec<i64>,
    /// The input's quantization.
    pub input_quant: TensorQuant,
    /// Its MACs (the builder's report).
    pub macs: u64,
}

impl SliceProgram {
    /// The input `n` times, as the host reference takes it (`[n, elements]`).
    pub fn inputs(&self, n: usize) -> Tensor {
        let dtype = if self.input_quant.signed { DType::I8 } else { DType::U8 };
        Tensor::int(dtype, vec![n, self.input.len()], self.input.repeat(n))
    }

    /// The input `n` times, as the device reads it.
    pub fn input_bytes(&self, n: usize) -> Vec<u8> {
        self.input.iter().map(|&v| v as u8).collect::<Vec<_>>().repeat(n)
    }
}

/// Typical `|w|` of a weight kind.
fn weight_spread(kind: WeightKind) -> f32 {
    match kind {
        WeightKind::Signed(b) => (1 << (b - 1)) as f32 * 0.6,
        WeightKind::Bipolar => 1.0,
    }
}

/// The output `[H, W]` of a convolution (no dilation).
fn out_size([h, w]: [usize; 2], kernel: [usize; 2], stride: [usize; 2], pads: [usize; 4]) -> [usize; 2] {
    [(h + pads[0] + pads[2] - kernel[0]) / stride[0] + 1, (w + pads[1] + pads[3] - kernel[1]) / stride[1] + 1]
}

/// The benchmark's deterministic generator (xorshift64).
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// Uniform in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: i32, hi: i32) -> i32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + (self.0 % (i64::from(hi) - i64::from(lo) + 1) as u64) as i32
    }

    /// A fair coin.
    fn coin(&mut self) -> bool {
        self.range(0, 1) == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layers_have_the_issues_mac_counts() {
        let macs: Vec<(&str, u64)> = LAYERS
            .iter()
            .map(|&layer| (layer.name, Variant { layer, weights: WeightKind::Signed(8), act: ActKind::U8 }.macs()))
            .collect();
        assert_eq!(
            macs,
            [
                ("conv1", 4_608),
                ("conv2", 73_728),
                ("dense256x10", 2_560),
                ("dense64x64", 4_096),
                ("dscnn_conv", 320_000),
                ("dw3x3", 72_000),
                ("pw1x1", 512_000),
                ("xnor256x64", 16_384),
            ]
        );
    }

    #[test]
    fn slices_add_up_to_the_layer_and_builds_are_reproducible() {
        let layer = LAYERS.iter().find(|l| l.name == "dw3x3").copied().unwrap();
        let v = Variant { layer, weights: WeightKind::Signed(4), act: ActKind::I8 };
        let whole = v.programs(1).unwrap().unwrap();
        let parts = v.programs(4).unwrap().unwrap();
        assert_eq!(whole[0].macs, v.macs());
        assert_eq!(parts.iter().map(|p| p.macs).sum::<u64>(), v.macs());
        assert!(v.programs(5).unwrap().is_none());
        assert_eq!(v.programs(1).unwrap().unwrap()[0].lbm, whole[0].lbm);
    }

    #[test]
    fn only_known_layers_can_be_selected() {
        assert_eq!(Variant::all(&[]).unwrap().len(), 7 * 2 * 4 + 1);
        assert_eq!(Variant::all(&["xnor256x64".into()]).unwrap().len(), 1);
        assert!(Variant::all(&["conv3".into()]).is_err());
    }
}

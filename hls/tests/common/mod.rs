//! Programs built with the runtime's builder that exercise every dataflow
//! unit, and helpers to simulate them.

#![allow(dead_code)]

use lowbit_hls::{Board, Design, Folding, Options};
use lowbit_runtime::build::{
    AddParams, AvgPoolParams, ConvParams, DenseParams, PoolParams, ProgramBuilder, Requant, lut_from_fn,
};
use lowbit_runtime::{TensorQuant, WeightFormat};
use std::path::PathBuf;

/// A tensor quantization.
pub fn q(scale: f32, zero_point: i32, bits: u8, signed: bool) -> TensorQuant {
    TensorQuant { scale, zero_point, bits, signed }
}

/// Deterministic pseudo-random integers in `lo..=hi` (xorshift).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + (self.0 % (hi - lo + 1) as u64) as i64
    }

    pub fn ints(&mut self, n: usize, lo: i64, hi: i64) -> Vec<i32> {
        (0..n).map(|_| self.int(lo, hi) as i32).collect()
    }
}

/// A small residual CNN: grouped conv (negative multipliers) + fused ReLU
/// table, dilated depthwise conv, residual Add (the ReLU output feeds two
/// ops), padded strided max pool, average pool, flatten, bipolar dense.
pub fn residual_cnn() -> Vec<u8> {
    let mut r = Rng::new(7);
    let mut b = ProgramBuilder::new();
    let x = b.input(&[4, 6, 6], q(0.1, 0, 4, false)).unwrap();
    let mut conv_requant = Requant::new(vec![0.05, -0.04, 0.03, 0.06, -0.02, 0.045], q(0.2, 3, 5, false));
    conv_requant.lo = 3;
    let c1 = b
        .conv(
            x,
            ConvParams {
                out_channels: 6,
                kernel: [3, 3],
                stride: [1, 1],
                pads: [1, 1, 1, 1],
                dilation: [1, 1],
                groups: 2,
                weights: r.ints(6 * 2 * 9, -4, 3),
                weight_format: WeightFormat::Signed(3),
                bias: r.ints(6, -20, 20),
                requant: conv_requant,
            },
        )
        .unwrap();
    let relu = b.lut(c1, &lut_from_fn(false, |v| ((v - 3) / 2).clamp(0, 15)), q(0.25, 0, 4, false)).unwrap();
    let dw = b
        .conv(
            relu,
            ConvParams {
                out_channels: 6,
                kernel: [3, 3],
                stride: [1, 1],
                pads: [2, 2, 2, 2],
                dilation: [2, 2],
                groups: 6,
                weights: r.ints(6 * 9, -8, 7),
                weight_format: WeightFormat::Signed(4),
                bias: r.ints(6, -50, 50),
                requant: Requant::new(vec![0.04, 0.02, -0.03, 0.05, 0.01, 0.03], q(0.25, 0, 6, true)),
            },
        )
        .unwrap();
    let sum = b.add(dw, relu, AddParams::new(q(0.5, -3, 6, true))).unwrap();
    let pool = PoolParams { kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1] };
    let mp = b.max_pool(sum, pool).unwrap();
    let avg = b
        .avg_pool(
            mp,
            AvgPoolParams {
                pool: PoolParams { kernel: [2, 2], stride: [1, 1], pads: [0; 4], dilation: [1, 1] },
                count_include_pad: false,
                requant: Requant::new(vec![0.2], q(0.3, 1, 4, true)),
            },
        )
        .unwrap();
    let flat = b.reshape(avg, &[24]).unwrap();
    let logits = b
        .dense(
            flat,
            DenseParams {
                out_features: 5,
                weights: r.ints(5 * 24, 0, 1).iter().map(|&v| 2 * v - 1).collect(),
                weight_format: WeightFormat::Bipolar,
                bias: r.ints(5, -30, 30),
                requant: Requant::new(vec![0.3], q(0.1, 0, 8, true)),
            },
        )
        .unwrap();
    b.output(logits).unwrap();
    b.finish().unwrap().bytes
}

/// A 1-D network: a table on the signed input, a grouped dilated strided
/// conv with unsigned weights, a 1-D streaming max pool, a padded average
/// pool counting the padding, a pointwise conv and a dense layer.
pub fn signal_net() -> Vec<u8> {
    let mut r = Rng::new(11);
    let mut b = ProgramBuilder::new();
    let x = b.input(&[6, 20], q(0.05, 0, 5, true)).unwrap();
    let t = b.lut(x, &lut_from_fn(true, |v| (v * 3 / 4).clamp(-8, 7)), q(0.07, 0, 4, true)).unwrap();
    let c = b
        .conv(
            t,
            ConvParams {
                out_channels: 6,
                kernel: [1, 3],
                stride: [1, 2],
                pads: [0, 1, 0, 1],
                dilation: [1, 2],
                groups: 3,
                weights: r.ints(6 * 2 * 3, 0, 3),
                weight_format: WeightFormat::Unsigned(2),
                bias: r.ints(6, -10, 10),
                requant: Requant::new(vec![0.15], q(0.1, 2, 3, false)),
            },
        )
        .unwrap();
    let mp = b.max_pool(c, PoolParams::new([1, 3])).unwrap();
    let avg = b
        .avg_pool(
            mp,
            AvgPoolParams {
                pool: PoolParams { kernel: [1, 2], stride: [1, 1], pads: [0, 1, 0, 0], dilation: [1, 1] },
                count_include_pad: true,
                requant: Requant::new(vec![0.7, 0.45], q(0.1, 0, 4, false)),
            },
        )
        .unwrap();
    let pw = b
        .conv(
            avg,
            ConvParams {
                out_channels: 4,
                kernel: [1, 1],
                stride: [1, 1],
                pads: [0; 4],
                dilation: [1, 1],
                groups: 1,
                weights: r.ints(4 * 6, -2, 1),
                weight_format: WeightFormat::Signed(2),
                bias: vec![],
                requant: Requant::new(vec![0.3, 0.25, 0.2, 0.35], q(0.1, -4, 5, true)),
            },
        )
        .unwrap();
    let flat = b.reshape(pw, &[12]).unwrap();
    let out = b
        .dense(
            flat,
            DenseParams {
                out_features: 4,
                weights: r.ints(4 * 12, -128, 127),
                weight_format: WeightFormat::Signed(8),
                bias: r.ints(4, -500, 500),
                requant: Requant::new(vec![0.004], q(0.5, 0, 8, true)),
            },
        )
        .unwrap();
    b.output(out).unwrap();
    b.finish().unwrap().bytes
}

/// Options for the PYNQ-Z2 with a folding.
pub fn options(folding: Folding) -> Options {
    let mut o = Options::new(Board::find("pynq-z2").unwrap());
    o.folding = folding;
    o
}

/// `n` random input frames of a design.
pub fn frames(design: &Design, n: usize, seed: u64) -> Vec<Vec<i64>> {
    let (lo, hi) = design.input.quant.range();
    let mut r = Rng::new(seed);
    (0..n).map(|_| (0..design.input.shape.elements()).map(|_| r.int(lo.into(), hi.into())).collect()).collect()
}

/// A fresh project directory for `name`.
pub fn project_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lowbit-hls").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Writes the project of `design`, C-simulates `n` random frames and
/// asserts that every output integer equals the runtime's.
pub fn assert_csim_exact(design: &Design, name: &str, n: usize) {
    let dir = project_dir(name);
    design.write_project(&dir).unwrap();
    let report = design.csim(&dir, &frames(design, n, 3)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(report.outputs.len(), n);
    assert!(report.exact(), "{name}: {} mismatches, first {:?}", report.mismatches, report.first_mismatch);
}

//! Whole graphs: the static memory plan, views, and ops composed.

use crate::reference::{self, OutStage, Window};
use crate::{Rng, run};
use lowbit_runtime::build::{AddParams, ConvParams, DenseParams, KernelPolicy, PoolParams, ProgramBuilder, Requant};
use lowbit_runtime::{Model, OpKind, TensorQuant, WeightFormat};

/// 8-bit signed quantization with the given scale and zero point.
fn q8(scale: f32, zero_point: i32) -> TensorQuant {
    TensorQuant {
        scale,
        zero_point,
        bits: 8,
        signed: true,
    }
}

/// A 3×3 "same" convolution with random 4-bit weights.
fn conv3x3(rng: &mut Rng, c: usize, o: usize, output: TensorQuant) -> ConvParams {
    ConvParams {
        out_channels: o,
        kernel: [3, 3],
        stride: [1, 1],
        pads: [1, 1, 1, 1],
        dilation: [1, 1],
        groups: 1,
        weights: rng.weights(WeightFormat::Signed(4), o * c * 9),
        weight_format: WeightFormat::Signed(4),
        bias: rng.vec(o, -100, 100),
        requant: Requant::new(vec![0.01], output),
    }
}

#[test]
fn a_chain_needs_exactly_its_largest_adjacent_pair() {
    let mut rng = Rng::new(1);
    let mut b = ProgramBuilder::new();
    // Tensors only (the reference kernels need no scratch memory).
    b.set_kernel_policy(KernelPolicy::Reference);
    // 1×8×8 → 4×8×8 → 2×8×8 → 6×8×8: live sets 64+256, 256+128, 128+384.
    let x = b.input(&[1, 8, 8], q8(0.1, 0)).unwrap();
    let a = b.conv(x, conv3x3(&mut rng, 1, 4, q8(0.1, 0))).unwrap();
    let c = b.conv(a, conv3x3(&mut rng, 4, 2, q8(0.1, 0))).unwrap();
    let d = b.conv(c, conv3x3(&mut rng, 2, 6, q8(0.1, 0))).unwrap();
    b.output(d).unwrap();
    let built = b.finish().unwrap();
    let live: Vec<usize> = built.report.ops.iter().map(|o| o.arena_bytes).collect();
    assert_eq!(live, [320, 384, 512]);
    assert_eq!(built.report.arena_bytes_lower_bound, 512);
    assert_eq!(built.report.arena_bytes, 512);
    assert_eq!(Model::from_bytes(&built.bytes).unwrap().arena_size(), 512);
}

#[test]
fn a_residual_block_keeps_its_input_alive_and_needs_exactly_the_largest_live_set() {
    let mut rng = Rng::new(2);
    let mut b = ProgramBuilder::new();
    b.set_kernel_policy(KernelPolicy::Reference);
    // x: 4×8×8 = 256, a: 8×8×8 = 512, c: 256, y = x + c: 256.
    let x = b.input(&[4, 8, 8], q8(0.1, 0)).unwrap();
    let a = b.conv(x, conv3x3(&mut rng, 4, 8, q8(0.1, 0))).unwrap();
    let c = b.conv(a, conv3x3(&mut rng, 8, 4, q8(0.1, 0))).unwrap();
    let y = b.add(x, c, AddParams::new(q8(0.2, 0))).unwrap();
    b.output(y).unwrap();
    let built = b.finish().unwrap();
    let live: Vec<usize> = built.report.ops.iter().map(|o| o.arena_bytes).collect();
    assert_eq!(live, [768, 1024, 768]);
    assert_eq!(built.report.arena_bytes, 1024);
    assert_eq!(built.report.arena_bytes_lower_bound, 1024);
}

#[test]
fn random_chains_and_residuals_reach_the_live_set_bound_and_compute_correctly() {
    for seed in 0..60 {
        let mut rng = Rng::new(seed);
        let mut b = ProgramBuilder::new();
        let q = q8(0.05, 0);
        let c0 = 1 + rng.below(4);
        let x = b.input(&[c0, 6, 6], q).unwrap();
        let (mut t, mut c) = (x, c0);
        let mut skip = (x, c0);
        for _ in 0..1 + rng.below(5) {
            let o = 1 + rng.below(6);
            t = b.conv(t, conv3x3(&mut rng, c, o, q)).unwrap();
            c = o;
            if c == skip.1 && rng.coin() {
                t = b.add(skip.0, t, AddParams::new(q)).unwrap();
            }
            if rng.coin() {
                skip = (t, c);
            }
        }
        b.output(t).unwrap();
        let built = b.finish().unwrap();
        assert_eq!(
            built.report.arena_bytes, built.report.arena_bytes_lower_bound,
            "seed {seed}"
        );
        let input = rng.vec(c0 * 36, -128, 127);
        let model = Model::from_bytes(&built.bytes).unwrap();
        model.run_to_vec(&crate::to_bytes(&input)).unwrap();
    }
}

#[test]
fn flatten_then_dense_gives_onnx_results_on_a_chw_tensor() {
    let mut rng = Rng::new(3);
    let (c, h, w, o) = (3, 4, 5, 7);
    let xq = q8(0.02, -3);
    let weights = rng.weights(WeightFormat::Signed(5), o * c * h * w);
    let bias = rng.vec(o, -300, 300);
    let x = rng.values(&xq, c * h * w);
    let mut b = ProgramBuilder::new();
    let t = b.input(&[c, h, w], xq).unwrap();
    let flat = b.reshape(t, &[c * h * w]).unwrap();
    let requant = Requant::new(vec![0.003], q8(0.1, 5));
    let dense = DenseParams {
        out_features: o,
        weights: weights.clone(),
        weight_format: WeightFormat::Signed(5),
        bias: bias.clone(),
        requant: requant.clone(),
    };
    let y = b.dense(flat, dense).unwrap();
    b.output(y).unwrap();
    let built = b.finish().unwrap();
    // ONNX Flatten of C,H,W is row-major: exactly `x` as given.
    let out = OutStage {
        multipliers: requant.multipliers,
        zero_point: 5,
        lo: -128,
        hi: 127,
    };
    assert_eq!(run(&built.bytes, &x), reference::dense(&x, -3, &weights, &bias, &out));
    // The reshape is a view: one op, no extra arena but the kernel's scratch.
    assert_eq!(built.report.ops.len(), 1);
    let scratch = built.report.ops[0].scratch_bytes;
    assert_eq!(
        scratch,
        2 * (c * h * w).next_multiple_of(16) + 3,
        "one patch, word aligned"
    );
    assert_eq!(built.report.arena_bytes, c * h * w + o + scratch);
}

#[test]
fn models_without_ops_copy_their_input_through_views() {
    let mut b = ProgramBuilder::new();
    let x = b.input(&[2, 3], q8(1.0, 0)).unwrap();
    let y = b.reshape(x, &[3, 2]).unwrap();
    b.output(y).unwrap();
    let built = b.finish().unwrap();
    let model = Model::from_bytes(&built.bytes).unwrap();
    assert_eq!(model.op_count(), 0);
    assert_eq!(model.output().shape.dims(), [3, 2]);
    assert_eq!(model.run_to_vec(&[1, 2, 3, 4, 5, 0xfb]).unwrap(), [1, 2, 3, 4, 5, 0xfb]);
}

#[test]
fn a_larger_network_matches_the_reference_op_by_op() {
    let mut rng = Rng::new(4);
    let (c, h, w) = (3, 16, 16);
    let xq = TensorQuant {
        scale: 0.02,
        zero_point: 128,
        bits: 8,
        signed: false,
    };
    let aq = TensorQuant {
        scale: 0.05,
        zero_point: 0,
        bits: 4,
        signed: false,
    };
    let x = rng.values(&xq, c * h * w);
    let conv = ConvParams {
        stride: [2, 2],
        groups: 1,
        requant: Requant {
            multipliers: rng.multipliers(16),
            output: aq,
            lo: 0,
            hi: 15,
        },
        ..conv3x3(&mut rng, c, 16, aq)
    };
    let depthwise = ConvParams {
        groups: 16,
        weights: rng.weights(WeightFormat::Bipolar, 16 * 9),
        weight_format: WeightFormat::Bipolar,
        requant: Requant::new(vec![0.3], aq),
        ..conv3x3(&mut rng, 1, 16, aq)
    };
    let pool = PoolParams {
        kernel: [2, 2],
        stride: [2, 2],
        pads: [0; 4],
        dilation: [1, 1],
    };
    let mut b = ProgramBuilder::new();
    let t0 = b.input(&[c, h, w], xq).unwrap();
    let t1 = b.conv(t0, conv.clone()).unwrap();
    let t2 = b.conv(t1, depthwise.clone()).unwrap();
    let t3 = b.max_pool(t2, pool).unwrap();
    b.output(t3).unwrap();
    let built = b.finish().unwrap();
    let kinds: Vec<OpKind> = built.report.ops.iter().map(|o| o.kind).collect();
    assert_eq!(kinds, [OpKind::Conv, OpKind::Conv, OpKind::MaxPool]);
    assert_eq!(built.report.ops[0].macs, 16 * 8 * 8 * 27);

    let stage = |r: &Requant| OutStage {
        multipliers: r.multipliers.clone(),
        zero_point: r.output.zero_point,
        lo: r.lo,
        hi: r.hi,
    };
    let win = |p: &ConvParams| Window {
        kernel: p.kernel,
        stride: p.stride,
        dilation: p.dilation,
        pads: p.pads,
    };
    let (y1, [h1, w1]) = reference::conv(
        &x,
        [c, h, w],
        128,
        &win(&conv),
        1,
        &conv.weights,
        &conv.bias,
        16,
        &stage(&conv.requant),
    );
    let (y2, _) = reference::conv(
        &y1,
        [16, h1, w1],
        0,
        &win(&depthwise),
        16,
        &depthwise.weights,
        &depthwise.bias,
        16,
        &stage(&depthwise.requant),
    );
    let pool_win = Window {
        kernel: pool.kernel,
        stride: pool.stride,
        dilation: pool.dilation,
        pads: pool.pads,
    };
    let (y3, _) = reference::max_pool(&y2, [16, h1, w1], &pool_win);
    assert_eq!(run(&built.bytes, &x), y3);
}

#[test]
fn the_report_counts_weights_params_and_bounds() {
    // 3-bit weights have only the bit-stream loops: `Auto` stores them as
    // 4-bit lanes (rows of 18 taps), `Compact` as declared; the bound is
    // the declared bits either way.
    for (policy, stored, bytes) in [(KernelPolicy::Auto, 4, 27), (KernelPolicy::Compact, 3, 21)] {
        let mut rng = Rng::new(5);
        let mut b = ProgramBuilder::new();
        b.set_kernel_policy(policy);
        let x = b.input(&[2, 4, 4], q8(0.1, 0)).unwrap();
        let mut p = conv3x3(&mut rng, 2, 3, q8(0.1, 0));
        p.weights = rng.weights(WeightFormat::Signed(3), 3 * 2 * 9);
        p.weight_format = WeightFormat::Signed(3);
        p.requant.multipliers = vec![0.01; 3];
        let y = b.conv(x, p).unwrap();
        b.output(y).unwrap();
        let built = b.finish().unwrap();
        let op = &built.report.ops[0];
        assert_eq!((op.weight_count, op.weight_bits, op.stored_bits), (54, 3, stored));
        assert_eq!(op.weight_bytes, bytes);
        assert_eq!(op.param_bytes, 3 * 4 + 3 * 4);
        assert_eq!(op.macs, 3 * 16 * 18);
        assert_eq!(built.report.weight_bytes_lower_bound, 21);
        assert_eq!(built.report.file_bytes, built.bytes.len());
        let text = built.report.to_string();
        assert!(text.contains("Conv") && text.contains("total"), "{text}");
        assert_eq!(text.contains(&format!("{bytes} (3b as 4b)")), stored == 4, "{text}");
    }
}

//! Every op, built → serialized → parsed → run, against the reference on
//! random shapes, geometry, bit widths, zero points, multipliers and clamps.

use crate::reference::{self, OutStage, Window};
use crate::{Rng, output_dims, run};
use lowbit_runtime::build::{
    AddParams, AvgPoolParams, ConvParams, ConvTransposeParams, DenseParams, PoolParams, ProgramBuilder, Requant,
    lut_from_fn,
};
use proptest::prelude::*;

/// 1d cases use height 1 and only the width parameters.
fn one_d(
    one_d: bool,
    h: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    pads: [usize; 4],
) -> (usize, Window) {
    if one_d {
        let win = Window {
            kernel: [1, kernel[1]],
            stride: [1, stride[1]],
            dilation: [1, dilation[1]],
            pads: [0, pads[1], 0, pads[3]],
        };
        (1, win)
    } else {
        (
            h,
            Window {
                kernel,
                stride,
                dilation,
                pads,
            },
        )
    }
}

/// The input shape in ONNX order.
fn input_shape(one_d: bool, [c, h, w]: [usize; 3]) -> Vec<usize> {
    if one_d { vec![c, w] } else { vec![c, h, w] }
}

/// The expected output shape in ONNX order.
fn output_shape(one_d: bool, c: usize, [oh, ow]: [usize; 2]) -> Vec<u32> {
    if one_d {
        vec![c as u32, ow as u32]
    } else {
        vec![c as u32, oh as u32, ow as u32]
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn conv_matches_reference(
        groups in 1..=3usize, cig in 1..=3usize, cog in 1..=3usize, is_1d in any::<bool>(),
        h in 1..=6usize, w in 1..=7usize,
        kernel in [1..=3usize, 1..=3usize], stride in [1..=3usize, 1..=3usize],
        dilation in [1..=2usize, 1..=2usize], pads in [0..=2usize, 0..=2usize, 0..=2usize, 0..=2usize],
        seed in any::<u64>(),
    ) {
        let (h, win) = one_d(is_1d, h, kernel, stride, dilation, pads);
        prop_assume!(win.out(0, h).is_some() && win.out(1, w).is_some());
        let mut rng = Rng::new(seed);
        let (c, o) = (groups * cig, groups * cog);
        let (xq, yq, format) = (rng.quant(), rng.quant(), rng.format());
        let weights = rng.weights(format, o * cig * win.kernel[0] * win.kernel[1]);
        let bias = rng.vec(o, -500, 500);
        let count = if rng.coin() { 1 } else { o };
        let multipliers = rng.multipliers(count);
        let (lo, hi) = rng.clamp(&yq);
        let x = rng.values(&xq, c * h * w);

        let mut b = ProgramBuilder::new();
        let t = b.input(&input_shape(is_1d, [c, h, w]), xq).unwrap();
        let requant = Requant { multipliers: multipliers.clone(), output: yq, lo, hi };
        let params = ConvParams {
            out_channels: o, kernel: win.kernel, stride: win.stride, pads: win.pads, dilation: win.dilation, groups,
            weights: weights.clone(), weight_format: format, bias: bias.clone(), requant,
        };
        let y = b.conv(t, params).unwrap();
        b.output(y).unwrap();
        let built = b.finish().unwrap();

        let out = OutStage { multipliers, zero_point: yq.zero_point, lo, hi };
        let (want, hw) = reference::conv(&x, [c, h, w], xq.zero_point, &win, groups, &weights, &bias, o, &out);
        prop_assert_eq!(output_dims(&built.bytes), output_shape(is_1d, o, hw));
        prop_assert_eq!(run(&built.bytes, &x), want);
    }

    #[test]
    fn conv_transpose_matches_reference(
        groups in 1..=3usize, cig in 1..=3usize, cog in 1..=3usize, is_1d in any::<bool>(),
        h in 1..=5usize, w in 1..=5usize,
        kernel in [1..=3usize, 1..=3usize], stride in [1..=3usize, 1..=3usize],
        dilation in [1..=2usize, 1..=2usize], pads in [0..=2usize, 0..=2usize, 0..=2usize, 0..=2usize],
        output_padding in [0..=2usize, 0..=2usize],
        seed in any::<u64>(),
    ) {
        let (h, win) = one_d(is_1d, h, kernel, stride, dilation, pads);
        let output_padding = [0, 1].map(|a| {
            if is_1d && a == 0 { 0 } else { output_padding[a] % win.stride[a].max(win.dilation[a]) }
        });
        prop_assume!(win.out_transpose(0, h, output_padding[0]).is_some());
        prop_assume!(win.out_transpose(1, w, output_padding[1]).is_some());
        let mut rng = Rng::new(seed);
        let (c, o) = (groups * cig, groups * cog);
        let (xq, yq, format) = (rng.quant(), rng.quant(), rng.format());
        let weights = rng.weights(format, c * cog * win.kernel[0] * win.kernel[1]);
        let bias = rng.vec(o, -500, 500);
        let count = if rng.coin() { 1 } else { o };
        let multipliers = rng.multipliers(count);
        let (lo, hi) = rng.clamp(&yq);
        let x = rng.values(&xq, c * h * w);

        let mut b = ProgramBuilder::new();
        let t = b.input(&input_shape(is_1d, [c, h, w]), xq).unwrap();
        let requant = Requant { multipliers: multipliers.clone(), output: yq, lo, hi };
        let params = ConvTransposeParams {
            out_channels: o, kernel: win.kernel, stride: win.stride, pads: win.pads, dilation: win.dilation,
            output_padding, groups, weights: weights.clone(), weight_format: format, bias: bias.clone(), requant,
        };
        let y = b.conv_transpose(t, params).unwrap();
        b.output(y).unwrap();
        let built = b.finish().unwrap();

        let out = OutStage { multipliers, zero_point: yq.zero_point, lo, hi };
        let (want, hw) = reference::conv_transpose(
            &x, [c, h, w], xq.zero_point, &win, output_padding, groups, &weights, &bias, o, &out,
        );
        prop_assert_eq!(output_dims(&built.bytes), output_shape(is_1d, o, hw));
        prop_assert_eq!(run(&built.bytes, &x), want);
    }

    #[test]
    fn dense_matches_reference_after_implicit_or_explicit_flatten(
        dims in prop::collection::vec(1..=5usize, 1..=3), o in 1..=9usize, explicit_flatten in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng::new(seed);
        let n: usize = dims.iter().product();
        let (xq, yq, format) = (rng.quant(), rng.quant(), rng.format());
        let weights = rng.weights(format, o * n);
        let bias = rng.vec(o, -2000, 2000);
        let count = if rng.coin() { 1 } else { o };
        let multipliers = rng.multipliers(count);
        let (lo, hi) = rng.clamp(&yq);
        let x = rng.values(&xq, n);

        let mut b = ProgramBuilder::new();
        let mut t = b.input(&dims, xq).unwrap();
        if explicit_flatten {
            t = b.reshape(t, &[n]).unwrap();
        }
        let requant = Requant { multipliers: multipliers.clone(), output: yq, lo, hi };
        let params = DenseParams { out_features: o, weights: weights.clone(), weight_format: format, bias: bias.clone(), requant };
        let y = b.dense(t, params).unwrap();
        b.output(y).unwrap();
        let built = b.finish().unwrap();

        let out = OutStage { multipliers, zero_point: yq.zero_point, lo, hi };
        prop_assert_eq!(run(&built.bytes, &x), reference::dense(&x, xq.zero_point, &weights, &bias, &out));
    }

    #[test]
    fn max_pool_matches_reference(
        c in 1..=3usize, h in 1..=7usize, w in 1..=7usize, is_1d in any::<bool>(),
        kernel in [1..=3usize, 1..=3usize], stride in [1..=3usize, 1..=3usize],
        dilation in [1..=2usize, 1..=2usize], pads in [0..=2usize, 0..=2usize, 0..=2usize, 0..=2usize],
        seed in any::<u64>(),
    ) {
        let (h, mut win) = one_d(is_1d, h, kernel, stride, dilation, pads);
        win.pads = [0, 1, 2, 3].map(|i| win.pads[i] % win.kernel[i % 2]);
        prop_assume!(win.out(0, h).is_some() && win.out(1, w).is_some());
        prop_assume!(reference::windows_filled(&win, [h, w]));
        let mut rng = Rng::new(seed);
        let xq = rng.quant();
        let x = rng.values(&xq, c * h * w);

        let mut b = ProgramBuilder::new();
        let t = b.input(&input_shape(is_1d, [c, h, w]), xq).unwrap();
        let pool = PoolParams { kernel: win.kernel, stride: win.stride, pads: win.pads, dilation: win.dilation };
        let y = b.max_pool(t, pool).unwrap();
        b.output(y).unwrap();
        let built = b.finish().unwrap();

        let (want, hw) = reference::max_pool(&x, [c, h, w], &win);
        prop_assert_eq!(output_dims(&built.bytes), output_shape(is_1d, c, hw));
        prop_assert_eq!(run(&built.bytes, &x), want);
    }

    #[test]
    fn avg_pool_matches_reference(
        c in 1..=3usize, h in 1..=7usize, w in 1..=7usize, is_1d in any::<bool>(),
        kernel in [1..=3usize, 1..=3usize], stride in [1..=3usize, 1..=3usize],
        dilation in [1..=2usize, 1..=2usize], pads in [0..=2usize, 0..=2usize, 0..=2usize, 0..=2usize],
        count_include_pad in any::<bool>(), per_size in any::<bool>(), seed in any::<u64>(),
    ) {
        let (h, mut win) = one_d(is_1d, h, kernel, stride, dilation, pads);
        win.pads = [0, 1, 2, 3].map(|i| win.pads[i] % win.kernel[i % 2]);
        prop_assume!(win.out(0, h).is_some() && win.out(1, w).is_some());
        prop_assume!(reference::windows_filled(&win, [h, w]));
        let mut rng = Rng::new(seed);
        let (xq, yq) = (rng.quant(), rng.quant());
        let area = win.kernel[0] * win.kernel[1];
        let multipliers = rng.multipliers(if per_size { area } else { 1 });
        let (lo, hi) = rng.clamp(&yq);
        let x = rng.values(&xq, c * h * w);

        let mut b = ProgramBuilder::new();
        let t = b.input(&input_shape(is_1d, [c, h, w]), xq).unwrap();
        let pool = PoolParams { kernel: win.kernel, stride: win.stride, pads: win.pads, dilation: win.dilation };
        let requant = Requant { multipliers: multipliers.clone(), output: yq, lo, hi };
        let y = b.avg_pool(t, AvgPoolParams { pool, count_include_pad, requant }).unwrap();
        b.output(y).unwrap();
        let built = b.finish().unwrap();

        let out = OutStage { multipliers, zero_point: yq.zero_point, lo, hi };
        let (want, hw) = reference::avg_pool(&x, [c, h, w], xq.zero_point, &win, count_include_pad, &out);
        prop_assert_eq!(output_dims(&built.bytes), output_shape(is_1d, c, hw));
        prop_assert_eq!(run(&built.bytes, &x), want);
    }

    #[test]
    fn add_and_lut_match_reference(
        dims in prop::collection::vec(1..=5usize, 1..=3), same_input in any::<bool>(), seed in any::<u64>(),
    ) {
        let mut rng = Rng::new(seed);
        let n: usize = dims.iter().product();
        let (xq, bq, yq) = (rng.quant(), rng.quant(), rng.quant());
        let (blo, bhi) = bq.range();
        let table: Vec<i32> = rng.vec(256, blo, bhi);
        let (lo, hi) = rng.clamp(&yq);
        let x = rng.values(&xq, n);

        let mut b = ProgramBuilder::new();
        let t = b.input(&dims, xq).unwrap();
        let other = if same_input {
            t
        } else {
            b.lut(t, &lut_from_fn(xq.signed, |v| table[(v as u8) as usize]), bq).unwrap()
        };
        let y = b.add(t, other, AddParams { output: yq, lo, hi }).unwrap();
        b.output(y).unwrap();
        let built = b.finish().unwrap();

        let (x2, q2) = if same_input {
            (x.clone(), xq)
        } else {
            (x.iter().map(|&v| table[(v as u8) as usize]).collect(), bq)
        };
        let want = reference::add(
            &x, (xq.scale, xq.zero_point), &x2, (q2.scale, q2.zero_point), (yq.scale, yq.zero_point), lo, hi,
        );
        prop_assert_eq!(run(&built.bytes, &x), want);
    }
}

//! Every specialized kernel against the portable reference, on the host:
//! the DSP paths run with `lowbit_arch`'s portable definitions of the
//! instructions, so these tests prove the kernels' arithmetic; the board
//! runs (`cargo xtask hil`, `bench --layers`) prove the instructions.

use super::binary::{self, Levels};
use super::pool::{max_pool_2x2, max_pool_windows};
use super::{ConvArgs, DenseArgs, Geometry, MaxPoolArgs, Output, Values, Weights, conv, dense, direct, gemm, nibbles};
use crate::format::{WeightFormat, Window, pack};
use proptest::prelude::*;

/// Random bulk data for one case (proptest picks the seed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next() % (i64::from(hi) - i64::from(lo) + 1) as u64) as i32
    }

    fn weight(&mut self, format: WeightFormat) -> i32 {
        match format {
            WeightFormat::Bipolar => 1 - 2 * self.range(0, 1),
            WeightFormat::Signed(b) => self.range(-(1 << (b - 1)), (1 << (b - 1)) - 1),
            WeightFormat::Unsigned(b) => self.range(0, (1 << b) - 1),
        }
    }
}

/// Weight formats, the lane formats most often.
fn format() -> impl Strategy<Value = WeightFormat> {
    prop_oneof![
        3 => prop::sample::select(vec![WeightFormat::Signed(8), WeightFormat::Signed(4), WeightFormat::Signed(2)]),
        1 => (1u8..=8).prop_map(WeightFormat::Signed),
        1 => (1u8..=8).prop_map(WeightFormat::Unsigned),
        1 => Just(WeightFormat::Bipolar),
    ]
}

/// The constant data of one weighted op.
struct Layer {
    /// The weights before packing (`[out][in]`).
    values: Vec<i32>,
    weights: Vec<u8>,
    format: WeightFormat,
    bias: Vec<u8>,
    multipliers: Vec<u8>,
    x: Values,
    x_zero: i32,
    lo: i32,
    hi: i32,
    zero_point: i32,
}

impl Layer {
    /// Random weights for `channels` rows of `taps`, biases, per-channel
    /// multipliers and a clamp, for an input read as `signed` bytes.
    fn new(rng: &mut Rng, format: WeightFormat, channels: usize, taps: usize, signed: bool) -> Layer {
        let values: Vec<i32> = (0..channels * taps).map(|_| rng.weight(format)).collect();
        let bias: Vec<u8> = (0..channels)
            .flat_map(|_| rng.range(-3000, 3000).to_le_bytes())
            .collect();
        let multipliers: Vec<u8> = (0..channels)
            .flat_map(|_| (rng.range(-50, 400) as f32 / 4096.0).to_le_bytes())
            .collect();
        // Full ranges, general ones, and ranges up to the type's top
        // (ReLU: the output stage's floor-then-saturate loops).
        let (lo, hi) = match rng.range(0, 3) {
            0 => (-128, 127),
            1 => (rng.range(-128, 0), rng.range(1, 127)),
            2 => (rng.range(-128, 126), 127),
            _ => (rng.range(0, 254), 255),
        };
        Layer {
            weights: pack(&values, format).unwrap(),
            values,
            format,
            bias,
            multipliers,
            x: Values::new(signed),
            x_zero: if signed {
                rng.range(-128, 127)
            } else {
                rng.range(0, 255)
            },
            lo,
            hi,
            zero_point: rng.range(lo, hi),
        }
    }

    fn weights(&self) -> Weights<'_> {
        Weights {
            bytes: &self.weights,
            format: self.format,
        }
    }

    fn out(&self) -> Output<'_> {
        Output {
            multipliers: &self.multipliers,
            zero_point: self.zero_point,
            lo: self.lo,
            hi: self.hi,
        }
    }

    /// The layer as a Dense of `inputs` features to `outputs`.
    fn dense_args(&self, inputs: usize, outputs: usize) -> DenseArgs<'_> {
        DenseArgs {
            inputs,
            outputs,
            weights: self.weights(),
            bias: &self.bias,
            x: self.x,
            out: self.out(),
        }
    }
}

/// A conv's arguments over the layer's constants.
fn conv_args<'a>(l: &'a Layer, input: [usize; 3], output: [usize; 3], window: &Window, groups: usize) -> ConvArgs<'a> {
    ConvArgs {
        input,
        output,
        geometry: Geometry::from(window),
        groups,
        weights: l.weights(),
        bias: &l.bias,
        x: l.x,
        x_zero: l.x_zero,
        out: l.out(),
    }
}

/// Runs `f` on a fresh output (and scratch of `scratch` bytes, offset by
/// `skew` bytes so the word alignment varies) and returns the output.
fn output(len: usize, scratch: usize, skew: usize, f: impl FnOnce(&mut [u8], &mut [u8])) -> Vec<u8> {
    let mut y = vec![0xa5; len];
    let mut s = vec![0x5a; scratch + skew];
    f(&mut y, &mut s[skew..]);
    y
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn gemm_and_direct_convs_equal_the_reference(
        c in 1..=5usize, o in 1..=6usize, depthwise in any::<bool>(),
        // Some rows longer than the direct kernel's runs of 32 outputs.
        h in 1..=7usize, w in prop_oneof![1..=7usize, 30..=70usize],
        kernel in [1..=4usize, 1..=4usize], stride in [1..=2usize, 1..=2usize],
        dilation in [1..=2usize, 1..=2usize], pads in [0..=2usize, 0..=2usize, 0..=2usize, 0..=2usize],
        three in any::<bool>(), format in format(), signed in any::<bool>(), skew in 0..4usize, seed in any::<u64>(),
    ) {
        // Half the cases are the 3×3, stride 1 windows of the fast paths.
        let (kernel, stride, dilation) = if three { ([3, 3], [1, 1], [1, 1]) } else { (kernel, stride, dilation) };
        let window = Window {
            kernel: kernel.map(|k| k as u16),
            stride: stride.map(|s| s as u16),
            dilation: dilation.map(|d| d as u16),
            pads: pads.map(|p| p as u16),
            output_padding: [0, 0],
        };
        let geometry = Geometry::from(&window);
        let Some([oh, ow]) = geometry.conv_output([h, w]) else { return Ok(()) };
        let (groups, o) = if depthwise { (c, c * (1 + o % 2)) } else { (1, o) };
        let taps = c / groups * kernel[0] * kernel[1];
        let mut rng = Rng(seed | 1);
        let layer = Layer::new(&mut rng, format, o, taps, signed);
        let x: Vec<u8> = (0..c * h * w).map(|_| rng.range(0, 255) as u8).collect();
        let a = conv_args(&layer, [c, h, w], [o, oh, ow], &window, groups);
        let len = o * oh * ow;
        let expected = output(len, 0, 0, |y, _| conv(&a, &x, y).unwrap());
        if groups == 1 {
            let need = gemm::conv_scratch_len(&geometry, [c, h, w]);
            for dsp in [false, true] {
                let got = output(len, need, skew, |y, s| gemm::conv_with(&a, &x, y, s, dsp).unwrap());
                prop_assert_eq!(&got, &expected, "gemm, dsp {}", dsp);
            }
        }
        if groups == c && direct::applies(&geometry) {
            let need = direct::scratch_len(direct::plane_len(&geometry, [h, w]));
            for dsp in [false, true] {
                let got = output(len, need, skew, |y, s| direct::conv_with(&a, &x, y, s, dsp).unwrap());
                prop_assert_eq!(&got, &expected, "direct, dsp {}", dsp);
            }
        }
    }

    #[test]
    fn gemm_and_binary_dense_equal_the_reference(
        // Whole words of bits (the binary kernel's word rows) in a third of the cases.
        n in prop_oneof![1..=80usize, 1..=80usize, (1..=12usize).prop_map(|k| 32 * k)], o in 1..=9usize, format in format(), signed in any::<bool>(),
        levels in 0..4usize, skew in 0..4usize, seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed | 1);
        let layer = Layer::new(&mut rng, format, o, n, signed);
        // Inputs of two levels for the binary kernel, any bytes otherwise.
        let levels = [None, Some(Levels::Bipolar), Some(Levels::ZeroOne), Some(Levels::MinusOneZero)][levels];
        let x: Vec<u8> = (0..n)
            .map(|_| {
                let bit = rng.range(0, 1);
                let value = match levels {
                    None => rng.range(0, 255),
                    Some(Levels::Bipolar) => 1 - 2 * bit,
                    Some(Levels::ZeroOne) => bit,
                    Some(Levels::MinusOneZero) => -bit,
                };
                value as u8
            })
            .collect();
        let a = layer.dense_args(n, o);
        let expected = output(o, 0, 0, |y, _| dense(&a, &x, y).unwrap());
        for dsp in [false, true] {
            let got = output(o, gemm::dense_scratch_len(n), skew, |y, s| gemm::dense_with(&a, &x, y, s, dsp).unwrap());
            prop_assert_eq!(&got, &expected, "gemm, dsp {}", dsp);
        }
        if let (Some(levels), WeightFormat::Bipolar) = (levels, format) {
            let signed = levels != Levels::ZeroOne;
            let a = DenseArgs { x: Values::new(signed), ..a };
            let expected = output(o, 0, 0, |y, _| dense(&a, &x, y).unwrap());
            for dsp in [false, true] {
                let got = output(o, binary::scratch_len(n, o), skew, |y, s| binary::dense_with(&a, (levels, &binary::Layout::of(&a).unwrap()), &x, y, s, dsp).unwrap());
                prop_assert_eq!(&got, &expected, "binary, dsp {}", dsp);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn binary_dense_by_columns_equals_the_reference(
        // Up to 640 inputs: more than 480 lists more than one part of columns.
        n in prop_oneof![1..=80usize, (1..=20usize).prop_map(|k| 32 * k), 400..=640usize], o in 32..=100usize,
        levels in 0..3usize, ones in 0..=4u32, skew in 0..4usize, seed in any::<u64>(), byte_clamp in 0..3usize,
        dyadic in any::<bool>(),
    ) {
        let mut rng = Rng(seed | 1);
        let levels = [Levels::Bipolar, Levels::ZeroOne, Levels::MinusOneZero][levels];
        let mut layer = Layer::new(&mut rng, WeightFormat::Bipolar, o, n, levels != Levels::ZeroOne);
        // A byte type's clamp (a fixed-point stage may be found) in two
        // thirds of the cases.
        if let Some((lo, hi)) = [None, Some((-128, 127)), Some((0, 255))][byte_clamp] {
            (layer.lo, layer.hi, layer.zero_point) = (lo, hi, rng.range(lo, hi));
        }
        // Multipliers of few bits (`j / 4096`) put products exactly on
        // halves, which can leave no fixed-point stage; others have one.
        if !dyadic {
            layer.multipliers = (0..o).flat_map(|_| (rng.range(-50_000, 400_000) as f32 / 4_099_999.0).to_le_bytes()).collect();
        }
        // From no bit set to all of them (the selection inverts past half).
        let x: Vec<u8> = (0..n)
            .map(|_| {
                let bit = i32::from(rng.range(0, 3) < ones as i32);
                let value = match levels {
                    Levels::Bipolar => 1 - 2 * bit,
                    Levels::ZeroOne => bit,
                    Levels::MinusOneZero => -bit,
                };
                value as u8
            })
            .collect();
        let a = layer.dense_args(n, o);
        let expected = output(o, 0, 0, |y, _| dense(&a, &x, y).unwrap());
        prop_assert!(binary::columns(n, o));
        let packed = binary::pack_columns(&layer.values, n);
        prop_assert_eq!(Some(packed.len()), binary::packed_len(n, o));
        prop_assert_eq!(binary::unpack_columns(&packed, n, o), Some(layer.values.clone()));
        let a = DenseArgs { weights: Weights { bytes: &packed, format: WeightFormat::Bipolar }, ..a };
        let got = output(o, binary::scratch_len(n, o), skew, |y, s| binary::dense_with(&a, (levels, &binary::Layout::of(&a).unwrap()), &x, y, s, false).unwrap());
        prop_assert_eq!(&got, &expected);
        // With the fixed-point output stage, when there is one.
        let bias: Vec<i32> = layer.bias.as_chunks::<4>().0.iter().map(|b| i32::from_le_bytes(*b)).collect();
        let multipliers: Vec<f32> = layer.multipliers.as_chunks::<4>().0.iter().map(|m| f32::from_le_bytes(*m)).collect();
        let clamp = (layer.zero_point, layer.lo, layer.hi);
        let stage = binary::pack_stage(&layer.values, n, levels, &bias, &multipliers, clamp);
        let fits = n / 2 <= lowbit_arch::PART && byte_clamp > 0 && !dyadic;
        prop_assert!(stage.is_some() || !fits, "no stage for {} inputs, clamp {:?}", n, clamp);
        if let Some(stage) = stage {
            let staged = [packed.as_slice(), &stage].concat();
            prop_assert_eq!(binary::stored_len(n, o, staged.len(), (layer.lo, layer.hi)), Some(staged.len()));
            prop_assert_eq!(binary::unpack_columns(&staged, n, o), Some(layer.values.clone()));
            let a = DenseArgs { weights: Weights { bytes: &staged, format: WeightFormat::Bipolar }, ..a };
            let got = output(o, binary::scratch_len(n, o), skew, |y, s| binary::dense_with(&a, (levels, &binary::Layout::of(&a).unwrap()), &x, y, s, false).unwrap());
            prop_assert_eq!(got, expected, "fixed-point stage");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn nibble_dense_equals_the_reference(
        // Up to 700 inputs: several 256-input segments, the last partial.
        n in prop_oneof![1..=80usize, (1..=12usize).prop_map(|k| 32 * k), 250..=700usize], o in 1..=40usize,
        signed in any::<bool>(), skew in 0..4usize, seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed | 1);
        let layer = Layer::new(&mut rng, WeightFormat::Signed(4), o, n, signed);
        let x: Vec<u8> = (0..n).map(|_| rng.range(0, 255) as u8).collect();
        let a = layer.dense_args(n, o);
        let expected = output(o, 0, 0, |y, _| dense(&a, &x, y).unwrap());
        let packed = nibbles::pack(&layer.values, n);
        prop_assert_eq!(nibbles::unpack(&packed, n, o), Some(layer.values.clone()));
        let a = DenseArgs { weights: Weights { bytes: &packed, format: WeightFormat::Signed(4) }, ..a };
        let got = output(o, nibbles::scratch_len(n), skew, |y, s| nibbles::dense(&a, &x, y, s).unwrap());
        prop_assert_eq!(got, expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn max_pool_2x2_equals_the_window_loops(
        c in 1..=3usize, h in 2..=9usize, w in 2..=9usize, signed in any::<bool>(), seed in any::<u64>(),
    ) {
        let geometry = Geometry { kernel: [2, 2], stride: [2, 2], dilation: [1, 1], pads: [0; 4], output_padding: [0; 2] };
        let [oh, ow] = geometry.conv_output([h, w]).unwrap();
        let p = MaxPoolArgs { input: [c, h, w], output: [c, oh, ow], geometry, x: Values::new(signed) };
        let mut rng = Rng(seed | 1);
        let x: Vec<u8> = (0..c * h * w).map(|_| rng.range(0, 255) as u8).collect();
        let expected = output(c * oh * ow, 0, 0, |y, _| max_pool_windows(&p, &x, y).unwrap());
        let got = output(c * oh * ow, 0, 0, |y, _| max_pool_2x2(&p, &x, y).unwrap());
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn nibble_dense_is_exact_at_the_extremes_of_every_segment() {
    // Rows of all -8 or all 7 against inputs all at the largest magnitude:
    // each full 256-input segment's sum is as far from 0 as it can be (the
    // scaled sums must not wrap), over two full segments and a partial one.
    // A wrapped segment would be off by a multiple of 2^20, which the
    // multiplier 2^-14 turns into a change of 64 in the output.
    let n = 520;
    for signed in [false, true] {
        let mut layer = Layer::new(&mut Rng(7), WeightFormat::Signed(4), 4, n, signed);
        layer.values = [-8, 7, -8, 7].iter().flat_map(|&w| vec![w; n]).collect();
        layer.weights = pack(&layer.values, WeightFormat::Signed(4)).unwrap();
        layer.multipliers = (0..4).flat_map(|_| (1.0f32 / 16384.0).to_le_bytes()).collect();
        (layer.lo, layer.hi) = (-128, 127);
        let x = vec![if signed { 0x80 } else { 0xff }; n];
        let a = layer.dense_args(n, 4);
        let expected = output(4, 0, 0, |y, _| dense(&a, &x, y).unwrap());
        let packed = nibbles::pack(&layer.values, n);
        let a = DenseArgs {
            weights: Weights {
                bytes: &packed,
                format: WeightFormat::Signed(4),
            },
            ..a
        };
        let got = output(4, nibbles::scratch_len(n), 0, |y, s| {
            nibbles::dense(&a, &x, y, s).unwrap()
        });
        assert_eq!(got, expected, "signed {signed}");
        // The sums are far from 0: the outputs are not all clamped alike.
        assert!(expected.iter().any(|&v| v != expected[0]), "{expected:?}");
    }
}

#[test]
fn output_store_equals_arith_requantize() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut accs: Vec<i32> = vec![
        0,
        1,
        -1,
        2,
        -2,
        3,
        -3,
        i32::MAX,
        i32::MIN,
        1 << 22,
        -(1 << 22),
        1 << 24,
        12_582_912,
    ];
    let mut multipliers = vec![
        0.5f32, -0.5, 0.25, 1.0, -1.0, 3.0e-6, 1.0e-30, 1.0e30, -1.0e30, 0.0, -0.0, 1.5, 1e-45,
    ];
    for _ in 0..2000 {
        accs.push(rng.next() as i32 >> rng.range(0, 31));
        multipliers.push(f32::from_bits(rng.next() as u32) % 4.0);
        multipliers.push(rng.range(-1000, 1000) as f32 / rng.range(1, 1 << 20) as f32);
    }
    multipliers.retain(|m| m.is_finite());
    for (i, &m) in multipliers.iter().enumerate() {
        let (lo, hi, zp) = match i % 3 {
            0 => (-128, 127, rng.range(-128, 127)),
            1 => (0, 255, rng.range(0, 255)),
            _ => (rng.range(-128, 0), rng.range(0, 127), rng.range(-20, 20)),
        };
        let out = Output {
            multipliers: &[],
            zero_point: zp,
            lo,
            hi,
        };
        for &acc in &accs {
            assert_stores(&out, acc, m);
        }
    }
}

/// Both ways of [`Output::store`] (float and integer) against
/// `arith::requantize`.
fn assert_stores(out: &Output<'_>, acc: i32, m: f32) {
    let want = crate::arith::requantize(acc, m, out.zero_point, out.lo, out.hi);
    for integer in [false, true] {
        let got = i32::from(out.channel(m, 0).store_by(acc, integer));
        let got = if out.lo < 0 { i32::from(got as u8 as i8) } else { got };
        assert_eq!(got, want, "acc {acc}, m {m:e}, {out:?}, integer {integer}");
    }
}

#[test]
fn integer_requantization_rounds_twice_like_float32() {
    // Products on and next to halves, before and after the float product's
    // own rounding, and accumulators past 2^24 (rounded by the conversion
    // to float) with multipliers that bring them near small integers.
    let out = Output {
        multipliers: &[],
        zero_point: 3,
        lo: -128,
        hi: 127,
    };
    // (2k+1)/(2q) rounded to float32 makes `acc · m` for `acc` a multiple
    // of `q` land within a float32 rounding of a half.
    for q in 1..=33u32 {
        for k in 0..24u32 {
            let m = (2 * k + 1) as f32 / (2 * q) as f32;
            for m in [m, f32::from_bits(m.to_bits() + 1), f32::from_bits(m.to_bits() - 1)] {
                for i in -40..40 {
                    let acc = i * q as i32;
                    assert_stores(&out, acc, m);
                    assert_stores(&out, acc * 512, m / 512.0);
                    assert_stores(&out, acc + 1, m);
                }
            }
        }
    }
    for shift in 24..31 {
        let base = 1i32 << shift;
        let m = 1.0 / base as f32;
        for d in -70..70 {
            for scale in [1.0f32, 2.5, 3.0, 6.5, 40.5, 101.0, 0.5] {
                for acc in [base + d, base + d * 7] {
                    assert_stores(&out, acc, m * scale);
                    assert_stores(&out, -acc, m * scale);
                }
            }
        }
    }
}

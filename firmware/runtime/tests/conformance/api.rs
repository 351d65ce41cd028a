//! The API's promises: accessors, the caller errors of `run`, the file
//! errors of `from_bytes`, and the builder's rejections.

use crate::Rng;
use crate::corrupt::{reseal, samples};
use lowbit_runtime::build::{
    AddParams, AvgPoolParams, BuildError, ConvParams, DenseParams, KernelPolicy, PoolParams, ProgramBuilder, Requant,
};
use lowbit_runtime::{Error, FORMAT_VERSION, MAGIC, Model, TensorQuant, WeightFormat};

fn q(bits: u8, signed: bool) -> TensorQuant {
    TensorQuant {
        scale: 0.5,
        zero_point: 0,
        bits,
        signed,
    }
}

fn dense(o: usize, format: WeightFormat, weights: Vec<i32>, output: TensorQuant) -> DenseParams {
    DenseParams {
        out_features: o,
        weights,
        weight_format: format,
        bias: vec![],
        requant: Requant::new(vec![1.0], output),
    }
}

/// A 4-bit unsigned input of 3 values through a 2-output dense layer
/// (the `gemm` kernel: 5 bytes of tensors and 35 of scratch, a patch of
/// 16 halfwords aligned to a word), its 2-bit weights stored as declared.
fn small() -> Vec<u8> {
    let mut b = ProgramBuilder::new();
    b.set_kernel_policy(KernelPolicy::Compact);
    let x = b.input(&[3], q(4, false)).unwrap();
    let y = b
        .dense(
            x,
            dense(2, WeightFormat::Signed(2), vec![1, -1, 0, 1, 1, 1], q(8, true)),
        )
        .unwrap();
    b.output(y).unwrap();
    b.finish().unwrap().bytes
}

#[test]
fn features_name_the_optional_parts_a_model_needs() {
    use std::collections::BTreeSet;
    // Rows of 3 two-bit weights are neither whole lane words nor whole
    // chunks: the bit-stream path.
    let bytes = small();
    let m = Model::from_bytes(&bytes).unwrap();
    for dsp in [true, false] {
        assert_eq!(
            m.features(dsp).unwrap(),
            BTreeSet::from(["gemm-dense", "weights-other"])
        );
    }
    let mut b = ProgramBuilder::new();
    let x = b.input(&[8], q(8, true)).unwrap();
    let y = b
        .dense(x, dense(2, WeightFormat::Signed(8), vec![1; 16], q(8, true)))
        .unwrap();
    let z = b.lut(y, &[0; 256], q(8, true)).unwrap();
    b.output(z).unwrap();
    let bytes = b.finish().unwrap().bytes;
    let m = Model::from_bytes(&bytes).unwrap();
    for dsp in [true, false] {
        assert_eq!(
            m.features(dsp).unwrap(),
            BTreeSet::from(["gemm-dense", "lut", "weights-8"])
        );
    }
    // A depthwise 3×3 Conv runs on the Direct kernel's 3×3 path, a
    // depthwise 3×3 with stride 2 on its generic one.
    for (stride, expected) in [([1, 1], vec!["direct"]), ([2, 2], vec!["direct", "direct-generic"])] {
        let mut b = ProgramBuilder::new();
        let x = b.input(&[2, 6, 6], q(8, false)).unwrap();
        let conv = ConvParams {
            out_channels: 2,
            kernel: [3, 3],
            stride,
            pads: [0; 4],
            dilation: [1, 1],
            groups: 2,
            weights: vec![1; 2 * 9],
            weight_format: WeightFormat::Signed(8),
            bias: vec![],
            requant: Requant::new(vec![1.0], q(8, true)),
        };
        let y = b.conv(x, conv).unwrap();
        b.output(y).unwrap();
        let bytes = b.finish().unwrap().bytes;
        let m = Model::from_bytes(&bytes).unwrap();
        assert_eq!(m.features(true).unwrap(), BTreeSet::from_iter(expected));
    }
    // MaxPool: 2×2 windows with stride 2 and no padding, or any other.
    for (pool, expected) in [
        (PoolParams::new([2, 2]), vec!["max-pool"]),
        (PoolParams::new([3, 3]), vec!["max-pool", "max-pool-generic"]),
    ] {
        let mut b = ProgramBuilder::new();
        let x = b.input(&[2, 6, 6], q(8, false)).unwrap();
        let y = b.max_pool(x, pool).unwrap();
        b.output(y).unwrap();
        let bytes = b.finish().unwrap().bytes;
        let m = Model::from_bytes(&bytes).unwrap();
        assert_eq!(m.features(false).unwrap(), BTreeSet::from_iter(expected));
    }
}

#[test]
fn accessors_describe_the_model() {
    let bytes = small();
    let m = Model::from_bytes(&bytes).unwrap();
    assert_eq!(m.input().shape.dims(), [3]);
    assert_eq!(m.input().quant, q(4, false));
    assert_eq!(m.output().shape.dims(), [2]);
    assert_eq!((m.input_len(), m.output_len(), m.op_count()), (3, 2, 1));
    assert_eq!(m.arena_size(), 40);
    assert_eq!(m.file_len(), bytes.len());
    assert_eq!(m.version(), FORMAT_VERSION);
    assert_eq!(bytes[..4], MAGIC);
}

#[test]
fn run_checks_its_buffers() {
    let bytes = small();
    let m = Model::from_bytes(&bytes).unwrap();
    let mut arena = [0u8; 64];
    let mut out = [0u8; 2];
    assert_eq!(
        m.run(&mut arena[..4], &[1, 2, 3], &mut out),
        Err(Error::ArenaTooSmall { needed: 40, got: 4 })
    );
    assert_eq!(
        m.run(&mut arena, &[1, 2], &mut out),
        Err(Error::BadInputLen { expected: 3, got: 2 })
    );
    assert_eq!(
        m.run(&mut arena, &[1, 2, 3], &mut [0; 3]),
        Err(Error::BadOutputLen { expected: 2, got: 3 })
    );
    assert_eq!(
        m.run(&mut arena, &[1, 16, 3], &mut out),
        Err(Error::InputOutOfRange { index: 1 })
    );
    m.run(&mut arena, &[15, 2, 3], &mut out).unwrap();
    assert_eq!(out, [13, 20]);
    // A larger arena works, and its initial contents do not matter.
    let mut big = [0xffu8; 100];
    let mut again = [0u8; 2];
    m.run(&mut big, &[15, 2, 3], &mut again).unwrap();
    assert_eq!(again, out);
}

#[test]
fn run_i8_equals_run_on_reinterpreted_bytes() {
    let bytes = &samples()[1];
    let m = Model::from_bytes(bytes).unwrap();
    let mut rng = Rng::new(9);
    let input: Vec<i8> = (0..m.input_len()).map(|_| rng.range(-128, 127) as i8).collect();
    let mut arena = vec![0; m.arena_size()];
    let mut out = vec![0i8; m.output_len()];
    m.run_i8(&mut arena, &input, &mut out).unwrap();
    let as_bytes: Vec<u8> = input.iter().map(|&v| v as u8).collect();
    let expected: Vec<i8> = m.run_to_vec(&as_bytes).unwrap().iter().map(|&b| b as i8).collect();
    assert_eq!(out, expected);
}

#[test]
fn file_errors_name_the_problem() {
    let bytes = small();
    let mut bad = bytes.clone();
    bad[0] = b'X';
    assert_eq!(Model::from_bytes(&bad).unwrap_err(), Error::BadMagic);
    assert_eq!(Model::from_bytes(b"hello").unwrap_err(), Error::BadMagic);
    for version in [1, FORMAT_VERSION + 1] {
        let mut other = bytes.clone();
        other[4..6].copy_from_slice(&version.to_le_bytes());
        reseal(&mut other);
        assert_eq!(
            Model::from_bytes(&other).unwrap_err(),
            Error::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION
            }
        );
    }
    let mut flipped = bytes.clone();
    *flipped.last_mut().unwrap() ^= 4;
    assert!(matches!(
        Model::from_bytes(&flipped).unwrap_err(),
        Error::CrcMismatch { .. }
    ));
    let err = Model::from_bytes(&bytes[..bytes.len() - 1]).unwrap_err();
    assert_eq!(
        err,
        Error::Truncated {
            needed: bytes.len(),
            got: bytes.len() - 1
        }
    );
    assert_eq!(
        Model::from_bytes(&bytes[..10]).unwrap_err(),
        Error::Truncated { needed: 40, got: 10 }
    );
    for e in [
        err,
        Error::InvalidOp { index: 3 },
        Error::ArenaTooSmall { needed: 1, got: 0 },
    ] {
        assert!(!e.to_string().is_empty());
    }
}

/// Expects the builder call to fail with an error matching `pattern`.
macro_rules! rejects {
    ($call:expr, $pattern:pat) => {
        match $call {
            Err($pattern) => {}
            other => panic!("expected {}, got {other:?}", stringify!($pattern)),
        }
    };
}

#[test]
fn the_builder_rejects_inconsistent_graphs() {
    let mut b = ProgramBuilder::new();
    rejects!(b.finish(), BuildError::MissingInput);
    rejects!(b.input(&[0, 3], q(8, true)), BuildError::InvalidShape(_));
    rejects!(b.input(&[1, 2, 3, 4], q(8, true)), BuildError::InvalidShape(_));
    rejects!(
        b.input(&[3], TensorQuant { bits: 9, ..q(8, true) }),
        BuildError::InvalidQuant(_)
    );
    rejects!(
        b.input(
            &[3],
            TensorQuant {
                zero_point: 128,
                ..q(8, true)
            }
        ),
        BuildError::InvalidQuant(_)
    );
    let x = b.input(&[2, 4, 4], q(8, true)).unwrap();
    rejects!(b.input(&[3], q(8, true)), BuildError::DuplicateInput);
    rejects!(b.finish(), BuildError::MissingOutput);
    rejects!(b.reshape(x, &[31]), BuildError::InvalidShape(_));
    let mut other = ProgramBuilder::new();
    let foreign = {
        let t = other.input(&[1], q(8, true)).unwrap();
        other.reshape(t, &[1]).unwrap()
    };
    rejects!(b.output(foreign), BuildError::UnknownTensor(_));

    let conv = ConvParams {
        out_channels: 3,
        kernel: [3, 3],
        stride: [1, 1],
        pads: [0; 4],
        dilation: [1, 1],
        groups: 2,
        weights: vec![0; 3 * 9],
        weight_format: WeightFormat::Signed(4),
        bias: vec![],
        requant: Requant::new(vec![1.0], q(8, true)),
    };
    rejects!(b.conv(x, conv.clone()), BuildError::InvalidParams { .. });
    let ungrouped = ConvParams {
        groups: 1,
        weights: vec![0; 3 * 2 * 9],
        ..conv.clone()
    };
    b.conv(x, ungrouped.clone()).unwrap();
    rejects!(
        b.conv(
            x,
            ConvParams {
                kernel: [5, 5],
                ..ungrouped.clone()
            }
        ),
        BuildError::InvalidParams { .. }
    );
    rejects!(
        b.conv(
            x,
            ConvParams {
                weights: vec![0; 5],
                ..ungrouped.clone()
            }
        ),
        BuildError::InvalidParams { .. }
    );
    let mut big = ungrouped.clone();
    big.weights[7] = 8;
    rejects!(b.conv(x, big), BuildError::WeightOutOfRange { index: 7, value: 8, .. });
    let wrong_count = Requant::new(vec![1.0, 2.0], q(8, true));
    rejects!(
        b.conv(
            x,
            ConvParams {
                requant: wrong_count,
                ..ungrouped.clone()
            }
        ),
        BuildError::InvalidParams { .. }
    );
    let wide_clamp = Requant {
        lo: -200,
        ..ungrouped.requant.clone()
    };
    rejects!(
        b.conv(
            x,
            ConvParams {
                requant: wide_clamp,
                ..ungrouped.clone()
            }
        ),
        BuildError::InvalidParams { .. }
    );
    let nan = Requant::new(vec![f32::NAN], q(8, true));
    rejects!(
        b.conv(
            x,
            ConvParams {
                requant: nan,
                ..ungrouped.clone()
            }
        ),
        BuildError::InvalidParams { .. }
    );

    let pool = PoolParams {
        kernel: [2, 2],
        stride: [1, 1],
        pads: [2, 0, 0, 0],
        dilation: [1, 1],
    };
    rejects!(b.max_pool(x, pool), BuildError::InvalidParams { .. });
    let empty_windows = PoolParams {
        kernel: [2, 2],
        stride: [1, 1],
        pads: [1, 1, 1, 1],
        dilation: [5, 5],
    };
    rejects!(b.max_pool(x, empty_windows), BuildError::InvalidParams { .. });
    let avg = AvgPoolParams {
        pool: PoolParams::new([2, 2]),
        count_include_pad: false,
        requant: Requant::new(vec![1.0; 3], q(8, true)),
    };
    rejects!(b.avg_pool(x, avg), BuildError::InvalidParams { .. });

    let flat = b.reshape(x, &[32]).unwrap();
    rejects!(
        b.add(x, flat, AddParams::new(q(8, true))),
        BuildError::InvalidParams { .. }
    );
    rejects!(b.lut(x, &[200; 256], q(8, true)), BuildError::InvalidParams { .. });
    b.output(x).unwrap();
    rejects!(b.output(x), BuildError::DuplicateOutput);
    b.finish().unwrap();
}

#[test]
fn the_builder_rejects_layers_whose_accumulator_could_overflow() {
    let mut b = ProgramBuilder::new();
    let n = 70_000;
    let x = b.input(&[n], q(8, false)).unwrap();
    // 70 000 · 255 · 127 > 2^31 - 1.
    let p = dense(1, WeightFormat::Signed(8), vec![-128; n], q(8, true));
    rejects!(b.dense(x, p), BuildError::AccumulatorOverflow { channel: 0, .. });
    let p = dense(1, WeightFormat::Signed(2), vec![1; n], q(8, true));
    b.dense(x, p).unwrap();
}

#[test]
fn extreme_accumulators_that_fit_are_exact() {
    // Σ w·(x - zx) close to the i32 limits: the wrapping sums of the kernel
    // (with the folded bias) must equal the exact value, without an
    // overflow panic in this debug build.
    let n = 66_000;
    let xq = TensorQuant {
        scale: 1.0,
        zero_point: -128,
        bits: 8,
        signed: true,
    };
    let mut b = ProgramBuilder::new();
    let x = b.input(&[n], xq).unwrap();
    let p = DenseParams {
        out_features: 2,
        weights: [vec![-127; n], vec![127; n]].concat(),
        weight_format: WeightFormat::Signed(8),
        bias: vec![-12_345, 12_345],
        requant: Requant::new(vec![1.0 / 16_777_216.0], TensorQuant { zero_point: 0, ..xq }),
    };
    let y = b.dense(x, p).unwrap();
    b.output(y).unwrap();
    let built = b.finish().unwrap();
    let out = crate::run(&built.bytes, &vec![127; n]);
    // acc = ∓(127 · 255 · 66 000 - 12 345) = ∓2 137 387 155, near i32::MIN/MAX;
    // × 2^-24 → ∓127.4, so neither output is clamped.
    let acc = 127i64 * 255 * n as i64 - 12_345;
    assert!(acc > i32::MAX as i64 - 10_200_000);
    let want = ((acc as i32 as f32) / 16_777_216.0).round_ties_even() as i32;
    assert_eq!(out, [-want, want]);
}

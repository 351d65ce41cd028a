//! Corrupted and truncated files: `from_bytes` and `run` return errors and
//! never panic. Mutations are re-sealed with a fresh CRC so that validation
//! beyond the checksum is exercised.

use crate::Rng;
use lowbit_runtime::build::{
    AddParams, AvgPoolParams, ConvParams, ConvTransposeParams, DenseParams, PoolParams, ProgramBuilder, Requant,
    lut_from_fn,
};
use lowbit_runtime::{Error, Model, TensorQuant, WeightFormat};
use proptest::prelude::*;
use std::sync::OnceLock;

/// CRC-32/ISO-HDLC, computed independently of the runtime.
const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// Writes a fresh CRC into `bytes` (over the length its header states, or
/// everything if that is longer than the buffer).
pub fn reseal(bytes: &mut [u8]) {
    if bytes.len() < 16 {
        return;
    }
    let stated = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let len = stated.min(bytes.len());
    bytes[8..12].fill(0);
    let crc = CRC32.checksum(&bytes[..len]);
    bytes[8..12].copy_from_slice(&crc.to_le_bytes());
}

/// Small models that together use every op, record type and weight format.
pub fn samples() -> &'static [Vec<u8>] {
    static SAMPLES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SAMPLES.get_or_init(|| vec![every_op(), one_d()])
}

/// Conv → MaxPool → ConvTranspose → Add (residual) → AvgPool → Lut →
/// Reshape → Dense, on a 2×4×4 input.
fn every_op() -> Vec<u8> {
    let mut rng = Rng::new(7);
    let xq = TensorQuant {
        scale: 0.1,
        zero_point: 3,
        bits: 4,
        signed: false,
    };
    let aq = TensorQuant {
        scale: 0.05,
        zero_point: -2,
        bits: 6,
        signed: true,
    };
    let mut b = ProgramBuilder::new();
    let x = b.input(&[2, 4, 4], xq).unwrap();
    let conv = ConvParams {
        out_channels: 3,
        kernel: [3, 3],
        stride: [1, 1],
        pads: [1, 1, 1, 1],
        dilation: [1, 1],
        groups: 1,
        weights: rng.weights(WeightFormat::Signed(3), 3 * 2 * 9),
        weight_format: WeightFormat::Signed(3),
        bias: rng.vec(3, -50, 50),
        requant: Requant::new(vec![0.02, 0.03, 0.04], aq),
    };
    let t1 = b.conv(x, conv).unwrap();
    let t2 = b.max_pool(t1, PoolParams::new([2, 2])).unwrap();
    let up = ConvTransposeParams {
        out_channels: 2,
        kernel: [2, 2],
        stride: [2, 2],
        pads: [0; 4],
        dilation: [1, 1],
        output_padding: [0, 0],
        groups: 1,
        weights: rng.weights(WeightFormat::Bipolar, 3 * 2 * 4),
        weight_format: WeightFormat::Bipolar,
        bias: vec![],
        requant: Requant::new(vec![0.1], xq),
    };
    let t3 = b.conv_transpose(t2, up).unwrap();
    let t4 = b.add(x, t3, AddParams::new(aq)).unwrap();
    let pool = PoolParams {
        kernel: [3, 3],
        stride: [1, 1],
        pads: [1, 1, 1, 1],
        dilation: [1, 1],
    };
    let avg = AvgPoolParams {
        pool,
        count_include_pad: false,
        requant: Requant::new(vec![0.5; 9], aq),
    };
    let t5 = b.avg_pool(t4, avg).unwrap();
    let t6 = b.lut(t5, &lut_from_fn(true, |v| v.clamp(0, 15)), xq).unwrap();
    let t7 = b.reshape(t6, &[32]).unwrap();
    let dense = DenseParams {
        out_features: 4,
        weights: rng.weights(WeightFormat::Unsigned(2), 4 * 32),
        weight_format: WeightFormat::Unsigned(2),
        bias: rng.vec(4, -10, 10),
        requant: Requant::new(vec![0.01], aq),
    };
    let y = b.dense(t7, dense).unwrap();
    b.output(y).unwrap();
    b.finish().unwrap().bytes
}

/// A 1d model: dilated Conv over `C,L`, then Dense with 8-bit weights.
fn one_d() -> Vec<u8> {
    let mut rng = Rng::new(8);
    let q = TensorQuant {
        scale: 0.1,
        zero_point: 0,
        bits: 8,
        signed: true,
    };
    let mut b = ProgramBuilder::new();
    let x = b.input(&[3, 10], q).unwrap();
    let conv = ConvParams {
        out_channels: 2,
        kernel: [1, 3],
        stride: [1, 2],
        pads: [0, 2, 0, 2],
        dilation: [1, 2],
        groups: 1,
        weights: rng.weights(WeightFormat::Signed(8), 2 * 3 * 3),
        weight_format: WeightFormat::Signed(8),
        bias: vec![1, 2],
        requant: Requant::new(vec![0.001], q),
    };
    let t = b.conv(x, conv).unwrap();
    let n = b.shape(t).unwrap().elements();
    let dense = DenseParams {
        out_features: 3,
        weights: rng.weights(WeightFormat::Signed(8), 3 * n),
        weight_format: WeightFormat::Signed(8),
        bias: vec![],
        requant: Requant::new(vec![0.002], q),
    };
    let y = b.dense(t, dense).unwrap();
    b.output(y).unwrap();
    b.finish().unwrap().bytes
}

/// Parses `bytes` and, if that succeeds, runs the model with arbitrary
/// buffers. Panics only if the runtime does. Returns whether it parsed.
pub fn exercise(bytes: &[u8], seed: u64) -> bool {
    let Ok(model) = Model::from_bytes(bytes) else {
        return false;
    };
    const CAP: usize = 1 << 20;
    let mut rng = Rng::new(seed);
    let mut arena = vec![0xa5; model.arena_size().min(CAP)];
    let input: Vec<u8> = (0..model.input_len().min(CAP)).map(|_| rng.next_u64() as u8).collect();
    let mut output = vec![0; model.output_len().min(CAP)];
    let _ = model.run(&mut arena, &input, &mut output);
    // In-range input, so that runs get past the input check.
    let (lo, hi) = model.input().quant.range();
    let input: Vec<u8> = input.iter().map(|_| rng.range(lo, hi) as u8).collect();
    let _ = model.run(&mut arena, &input, &mut output);
    let (input, mut output): (Vec<i8>, Vec<i8>) = (
        input.iter().map(|&b| b as i8).collect(),
        output.iter().map(|&b| b as i8).collect(),
    );
    let _ = model.run_i8(&mut arena, &input, &mut output);
    true
}

#[test]
fn samples_are_valid_and_run() {
    for bytes in samples() {
        assert!(exercise(bytes, 1));
    }
}

#[test]
fn every_single_byte_change_outside_the_data_is_caught_or_harmless() {
    let mut parsed = 0;
    let mut tried = 0;
    for bytes in samples() {
        // The data section is the tail; change every byte before it.
        let data_len = u32::from_le_bytes(bytes[32..36].try_into().unwrap()) as usize;
        for pos in 0..bytes.len() - data_len {
            let original = bytes[pos];
            for value in [0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, original ^ 0x01, original ^ 0x10] {
                if value == original {
                    continue;
                }
                let mut mutated = bytes.clone();
                mutated[pos] = value;
                // Without a fresh CRC every change is caught by the checksum
                // (or by an earlier header check).
                assert!(
                    Model::from_bytes(&mutated).is_err(),
                    "unsealed change at {pos} accepted"
                );
                reseal(&mut mutated);
                tried += 1;
                parsed += usize::from(exercise(&mutated, pos as u64));
            }
        }
    }
    // Most sealed changes must still be rejected by validation.
    eprintln!("{parsed} of {tried} re-sealed single-byte changes were accepted");
    assert!(parsed * 4 < tried, "{parsed} of {tried} mutated files were accepted");
}

#[test]
fn every_truncation_is_rejected() {
    for bytes in samples() {
        for len in 0..bytes.len() {
            let err = Model::from_bytes(&bytes[..len]).unwrap_err();
            assert!(
                matches!(err, Error::Truncated { .. } | Error::BadMagic),
                "truncation to {len} gave {err:?}"
            );
        }
    }
}

/// One way to damage a file.
#[derive(Debug, Clone)]
enum Mutation {
    /// Flip one bit; no new CRC.
    FlipBit(prop::sample::Index, u8),
    /// Set a few bytes, then re-seal.
    SetBytes(Vec<(prop::sample::Index, u8)>),
    /// Overwrite an aligned `u16` with a boundary value, then re-seal.
    SetU16(prop::sample::Index, u16),
    /// Overwrite an aligned `u32` (a length or offset) with a value near a
    /// boundary or near its old value, then re-seal.
    SetU32(prop::sample::Index, u32, i8),
    /// Cut the file (possibly fixing the header's length too), then re-seal.
    Truncate(prop::sample::Index, bool),
    /// Append bytes.
    Append(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let index = any::<prop::sample::Index>();
    prop_oneof![
        (index.clone(), 0..8u8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        prop::collection::vec((index.clone(), any::<u8>()), 1..4).prop_map(Mutation::SetBytes),
        (
            index.clone(),
            prop::sample::select(vec![0u16, 1, 2, 3, 0x7fff, 0x8000, 0xfffe, 0xffff])
        )
            .prop_map(|(i, v)| Mutation::SetU16(i, v)),
        (
            index.clone(),
            prop::sample::select(vec![0u32, 1, 4, 0x7fff_ffff, 0x8000_0000, u32::MAX]),
            any::<i8>()
        )
            .prop_map(|(i, v, d)| Mutation::SetU32(i, v, d)),
        (index, any::<bool>()).prop_map(|(i, fix)| Mutation::Truncate(i, fix)),
        prop::collection::vec(any::<u8>(), 1..16).prop_map(Mutation::Append),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn mutated_files_never_panic(which in 0..2usize, m in mutation(), seed in any::<u64>()) {
        let original = &samples()[which];
        let mut bytes = original.clone();
        match &m {
            Mutation::FlipBit(i, bit) => {
                let pos = i.index(bytes.len());
                bytes[pos] ^= 1 << bit;
                prop_assert!(Model::from_bytes(&bytes).is_err());
            }
            Mutation::SetBytes(changes) => {
                for (i, v) in changes {
                    let pos = i.index(bytes.len());
                    bytes[pos] = *v;
                }
                reseal(&mut bytes);
            }
            Mutation::SetU16(i, v) => {
                let pos = i.index(bytes.len() / 2) * 2;
                bytes[pos..pos + 2].copy_from_slice(&v.to_le_bytes());
                reseal(&mut bytes);
            }
            Mutation::SetU32(i, v, delta) => {
                let pos = i.index(bytes.len() / 4) * 4;
                let old = u32::from_le_bytes(bytes[pos..pos + 4].try_into().unwrap());
                let new = if *delta == 0 { *v } else { old.wrapping_add(*delta as i32 as u32) };
                bytes[pos..pos + 4].copy_from_slice(&new.to_le_bytes());
                reseal(&mut bytes);
            }
            Mutation::Truncate(i, fix_len) => {
                bytes.truncate(i.index(bytes.len()));
                if *fix_len && bytes.len() >= 16 {
                    let len = bytes.len() as u32;
                    bytes[12..16].copy_from_slice(&len.to_le_bytes());
                }
                reseal(&mut bytes);
                prop_assert!(Model::from_bytes(&bytes).is_err());
            }
            Mutation::Append(extra) => {
                bytes.extend_from_slice(extra);
                // Bytes after the stated length are ignored.
                let run = |b: &[u8]| {
                    let model = Model::from_bytes(b).unwrap();
                    model.run_to_vec(&vec![0; model.input_len()]).unwrap()
                };
                prop_assert_eq!(run(&bytes), run(original));
            }
        }
        exercise(&bytes, seed);
    }
}

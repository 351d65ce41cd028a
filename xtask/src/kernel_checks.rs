//! Programs that reach kernel paths no example or corpus model does: 2×2
//! max pooling of odd output widths and of unsigned bytes, nibble Dense
//! rows of several 256-input segments, and binary Dense layers whose
//! weights are stored by columns (each input level, partial words of
//! outputs, inputs not a multiple of 32, several parts of columns, the
//! fixed-point output stage with and without rows left the float one, inputs
//! from none to all bits set), and the reference Conv and Dense (unsigned
//! weights), Add and AvgPool, which no model of the corpus lowers to.
//! `hil` runs them on every board beside the models (and compiled in, on
//! its compiled boards), so those paths are compared with the host runtime
//! on the devices too, not only on the host.

use anyhow::{Context, Result};
use lowbit::ir::{DType, Tensor};
use lowbit_runtime::build::{
    AddParams, AvgPoolParams, ConvParams, DenseParams, KernelPolicy, PoolParams, ProgramBuilder, Requant,
};
use lowbit_runtime::{TensorQuant, WeightFormat};

use crate::catalog::{Case, Prepared};
use crate::layers::Rng;
use crate::model::{Inputs, Program, reference};

/// An 8-bit quantization, `i8` or `u8`.
fn q8(signed: bool, zero_point: i32) -> TensorQuant {
    TensorQuant { scale: 0.05, zero_point, bits: 8, signed }
}

/// A 2×2, stride 2 max pooling of an `[c, h, w]` input.
fn max_pool(shape: [usize; 3], signed: bool) -> Result<Vec<u8>> {
    let mut b = ProgramBuilder::new();
    let x = b.input(&shape, q8(signed, 0))?;
    let pool = PoolParams { kernel: [2, 2], stride: [2, 2], pads: [0; 4], dilation: [1, 1] };
    let y = b.max_pool(x, pool)?;
    b.output(y)?;
    Ok(b.finish()?.bytes)
}

/// A Dense of `inputs` features to `outputs` with random 4-bit weights.
fn nibble_dense(inputs: usize, outputs: usize, signed: bool, seed: u64) -> Result<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let mut b = ProgramBuilder::new();
    let x = b.input(&[inputs], q8(signed, if signed { 3 } else { 120 }))?;
    let weights = (0..inputs * outputs).map(|_| rng.range(-8, 7)).collect();
    let multipliers = (0..outputs).map(|_| 0.0005 + rng.range(0, 100) as f32 * 1e-5).collect();
    let dense = DenseParams {
        out_features: outputs,
        weights,
        weight_format: WeightFormat::Signed(4),
        bias: (0..outputs).map(|_| rng.range(-3000, 3000)).collect(),
        requant: Requant::new(multipliers, q8(true, -4)),
    };
    let y = b.dense(x, dense)?;
    b.output(y)?;
    Ok(b.finish()?.bytes)
}

/// A reference Conv (3×3, unsigned 4-bit weights) whose output is added
/// to its input, a 2×2 average pooling and a reference Dense with unsigned
/// 3-bit weights.
fn reference_ops(seed: u64) -> Result<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let mut b = ProgramBuilder::new();
    b.set_kernel_policy(KernelPolicy::Reference);
    let x = b.input(&[2, 6, 6], q8(false, 10))?;
    let conv = ConvParams {
        out_channels: 2,
        kernel: [3, 3],
        stride: [1, 1],
        pads: [1; 4],
        dilation: [1, 1],
        groups: 1,
        weights: (0..2 * 2 * 9).map(|_| rng.range(0, 15)).collect(),
        weight_format: WeightFormat::Unsigned(4),
        bias: (0..2).map(|_| rng.range(-2000, 2000)).collect(),
        // A scale of its own, so that Add's inputs are told apart.
        requant: Requant::new(vec![0.0021, 0.0017], TensorQuant { scale: 0.08, ..q8(false, 5) }),
    };
    let c = b.conv(x, conv)?;
    let sum = b.add(x, c, AddParams::new(q8(true, -3)))?;
    let pool = PoolParams { kernel: [2, 2], stride: [2, 2], pads: [0; 4], dilation: [1, 1] };
    let avg = AvgPoolParams { pool, count_include_pad: false, requant: Requant::new(vec![0.25], q8(true, 2)) };
    let p = b.avg_pool(sum, avg)?;
    let dense = DenseParams {
        out_features: 32,
        weights: (0..32 * 18).map(|_| rng.range(0, 7)).collect(),
        weight_format: WeightFormat::Unsigned(3),
        bias: (0..32).map(|_| rng.range(-3000, 3000)).collect(),
        requant: Requant::new((0..32).map(|o| 0.002 + o as f32 * 0.0001).collect(), q8(true, 0)),
    };
    let y = b.dense(p, dense)?;
    b.output(y)?;
    Ok(b.finish()?.bytes)
}

/// The two levels of a binary Dense's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Levels {
    /// -1 or +1 (a bipolar tensor).
    Bipolar,
    /// 0 or 1.
    ZeroOne,
    /// -1 or 0.
    MinusOneZero,
}

impl Levels {
    /// The value of a set (`true`) or clear input bit.
    fn value(self, set: bool) -> i64 {
        match (self, set) {
            (Levels::Bipolar, true) => -1,
            (Levels::Bipolar, false) => 1,
            (Levels::ZeroOne, set) => i64::from(set),
            (Levels::MinusOneZero, set) => -i64::from(set),
        }
    }
}

/// The output stage of a binary Dense check.
#[derive(Debug, Clone, Copy)]
enum Stage {
    /// One multiplier, 0.37, to `i8`: the fixed-point stage when the
    /// columns are listed in one part.
    Int8,
    /// Multipliers `k / 8` per row to `u8`: products on exact halves leave
    /// some rows the float stage beside the fixed-point one.
    Dyadic,
    /// A clamp to `[3, 100]`, not a byte type's range: the float stage.
    Clamped,
}

/// A Dense of `inputs` features to `outputs` with random bipolar weights
/// over an input of `levels` (the binary kernel).
fn binary_dense(inputs: usize, outputs: usize, levels: Levels, stage: Stage, seed: u64) -> Result<Vec<u8>> {
    let mut rng = Rng::new(seed);
    let mut b = ProgramBuilder::new();
    let (bits, signed) = match levels {
        Levels::Bipolar => (2, true),
        Levels::ZeroOne => (1, false),
        Levels::MinusOneZero => (1, true),
    };
    let x = b.input(&[inputs], TensorQuant { scale: 1.0, zero_point: 0, bits, signed })?;
    if levels == Levels::Bipolar {
        b.declare_bipolar(x)?;
    }
    let dense = DenseParams {
        out_features: outputs,
        weights: (0..inputs * outputs).map(|_| if rng.range(0, 2) == 0 { -1 } else { 1 }).collect(),
        weight_format: WeightFormat::Bipolar,
        bias: (0..outputs).map(|_| rng.range(-20, 20)).collect(),
        requant: match stage {
            Stage::Int8 => Requant::new(vec![0.37], q8(true, 3)),
            Stage::Dyadic => Requant::new((0..outputs).map(|o| (1 + o % 7) as f32 / 8.0).collect(), q8(false, 100)),
            Stage::Clamped => Requant { lo: 3, hi: 100, ..Requant::new(vec![0.37], q8(true, 3)) },
        },
    };
    let y = b.dense(x, dense)?;
    b.output(y)?;
    Ok(b.finish()?.bytes)
}

/// Five inputs of `len` values of `levels`: no bit set, every bit, about a
/// third, about two thirds (so the kernel lists the set bits, then the
/// clear ones) and every other one.
fn binary_inputs(len: usize, levels: Levels, seed: u64) -> Tensor {
    let mut rng = Rng::new(seed);
    let values = (0..5)
        .flat_map(|k| (0..len).map(move |i| (k, i)))
        .map(|(k, i)| {
            let set = match k {
                0 => false,
                1 => true,
                2 => rng.range(0, 2) == 0,
                3 => rng.range(0, 2) != 0,
                _ => i % 2 == 0,
            };
            levels.value(set)
        })
        .collect();
    Tensor::int(DType::I8, vec![5, len], values)
}

/// A check program: its name, its `.lbm` bytes and its inputs (`None`:
/// generated from the input's range).
type Check = (&'static str, Vec<u8>, Option<Tensor>);

/// The check programs, named `check-…`.
fn programs() -> Result<Vec<Check>> {
    let binary = |inputs, outputs, levels, stage, seed| -> Result<(Vec<u8>, Option<Tensor>)> {
        Ok((binary_dense(inputs, outputs, levels, stage, seed)?, Some(binary_inputs(inputs, levels, seed + 1))))
    };
    let mut programs = vec![
        // Odd output width (the last column apart), a spare row and column.
        ("check-maxpool-u8-odd", max_pool([3, 7, 11], false)?, None),
        ("check-maxpool-i8-odd", max_pool([2, 6, 14], true)?, None),
        // Two full 256-input segments and a partial one; 18 and 20 rows.
        ("check-nibbles-u8-600", nibble_dense(600, 20, false, 11)?, None),
        ("check-nibbles-i8-520", nibble_dense(520, 18, true, 12)?, None),
        ("check-reference-add-avgpool", reference_ops(40)?, None),
    ];
    // Weights by columns: three words of outputs (the last partial), one
    // word, a partial quad, and 600 inputs (more than one part of columns),
    // with each output stage; then weights by rows.
    for (name, inputs, outputs, levels, stage, seed) in [
        ("check-binary-bipolar-100x70", 100, 70, Levels::Bipolar, Stage::Int8, 21),
        ("check-binary-01-600x33", 600, 33, Levels::ZeroOne, Stage::Int8, 22),
        ("check-binary-m10-37x32", 37, 32, Levels::MinusOneZero, Stage::Int8, 23),
        ("check-binary-bipolar-520x96", 520, 96, Levels::Bipolar, Stage::Int8, 24),
        ("check-binary-01-255x40-dyadic", 255, 40, Levels::ZeroOne, Stage::Dyadic, 28),
        ("check-binary-bipolar-256x64-dyadic", 256, 64, Levels::Bipolar, Stage::Dyadic, 29),
        ("check-binary-m10-99x32-clamped", 99, 32, Levels::MinusOneZero, Stage::Clamped, 30),
        // Weights by rows (fewer than 32 outputs): rows of exactly eight
        // words (the unrolled loop), and of other lengths.
        ("check-binary-bipolar-256x20", 256, 20, Levels::Bipolar, Stage::Int8, 25),
        ("check-binary-01-256x7", 256, 7, Levels::ZeroOne, Stage::Int8, 26),
        ("check-binary-m10-200x9", 200, 9, Levels::MinusOneZero, Stage::Int8, 27),
    ] {
        let (lbm, x) = binary(inputs, outputs, levels, stage, seed)?;
        programs.push((name, lbm, x));
    }
    Ok(programs)
}

/// The check programs as `hil` cases, with generated inputs and the host
/// runtime's outputs; only names containing `filter`.
pub fn cases(filter: Option<&str>) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    for (name, lbm, x) in programs()? {
        if filter.is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let program = Program { name: name.into(), lbm, notes: Vec::new(), macs: None };
        let facts = program.facts().map_err(|e| anyhow::anyhow!("{name}: the runtime refuses it: {e}"))?;
        let inputs = match x {
            Some(x) => Inputs::from_tensor(x, &facts)?,
            None => Inputs::generated(&facts),
        };
        let reference = reference(&program, &inputs).with_context(|| format!("{name} on the host"))?;
        cases.push(Case::Ready(Box::new(Prepared { program, facts, inputs, reference, ort_classes: None })));
    }
    Ok(cases)
}

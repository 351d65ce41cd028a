//! Programs that reach kernel paths no example or corpus model does: 2×2
//! max pooling of odd output widths and of unsigned bytes, and nibble Dense
//! rows of several 256-input segments. `hil` runs them on every board
//! beside the models, so those paths are compared with the host runtime on
//! the devices too, not only on the host.

use anyhow::{Context, Result};
use lowbit_runtime::build::{DenseParams, PoolParams, ProgramBuilder, Requant};
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

/// The check programs, named `check-…`.
fn programs() -> Result<Vec<(&'static str, Vec<u8>)>> {
    Ok(vec![
        // Odd output width (the last column apart), a spare row and column.
        ("check-maxpool-u8-odd", max_pool([3, 7, 11], false)?),
        ("check-maxpool-i8-odd", max_pool([2, 6, 14], true)?),
        // Two full 256-input segments and a partial one; 18 and 20 rows.
        ("check-nibbles-u8-600", nibble_dense(600, 20, false, 11)?),
        ("check-nibbles-i8-520", nibble_dense(520, 18, true, 12)?),
    ])
}

/// The check programs as `hil` cases, with generated inputs and the host
/// runtime's outputs; only names containing `filter`.
pub fn cases(filter: Option<&str>) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    for (name, lbm) in programs()? {
        if filter.is_some_and(|f| !name.contains(f)) {
            continue;
        }
        let program = Program { name: name.into(), lbm, notes: Vec::new(), macs: None };
        let facts = program.facts().map_err(|e| anyhow::anyhow!("{name}: the runtime refuses it: {e}"))?;
        let inputs = Inputs::generated(&facts);
        let reference = reference(&program, &inputs).with_context(|| format!("{name} on the host"))?;
        cases.push(Case::Ready(Box::new(Prepared { program, facts, inputs, reference, ort_classes: None })));
    }
    Ok(cases)
}

//! `lowbit verify`: the integer program against ONNX Runtime, element by element.

use crate::ir::{DType, Format, Graph, QuantizeAttrs, Tensor};
use crate::lower::{LbmRun, Lowered};
use rand::{RngExt, SeedableRng};
use std::path::Path;

/// Output elements by their distance from the reference, in output steps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Histogram {
    /// Identical integers.
    pub exact: usize,
    /// One step apart.
    pub off_by_one: usize,
    /// More than one step apart.
    pub worse: usize,
    /// The largest distance.
    pub max_diff: i64,
}

impl Histogram {
    /// Elements compared.
    pub fn total(&self) -> usize {
        self.exact + self.off_by_one + self.worse
    }

    /// Whether every element is within `tolerance` steps.
    pub fn within(&self, tolerance: i64) -> bool {
        self.max_diff <= tolerance
    }
}

/// What the program was compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Reference {
    /// ONNX Runtime running the `.onnx` file.
    OnnxRuntime,
    /// lowbit's reference executor (QONNX models, which ONNX Runtime cannot run).
    Executor,
}

/// Integers of a reference output on the program's output grid.
pub fn reference_ints(reference: &Tensor, run: &LbmRun) -> Vec<i64> {
    match reference.as_int() {
        Some(v) => v.to_vec(),
        None => {
            let q = &run.quant;
            // Values on the grid quantize back exactly; the range is not clamped
            // so a reference outside it shows as a difference.
            reference
                .as_f32()
                .unwrap_or_default()
                .iter()
                .map(|&x| QuantizeAttrs::ONNX.apply(x, q.scale, q.zero_point as i64, (i64::MIN, i64::MAX), false))
                .collect()
        }
    }
}

/// Compares program integers with reference integers.
pub fn histogram(program: &[i64], reference: &[i64]) -> Histogram {
    let mut h = Histogram::default();
    for (a, b) in program.iter().zip(reference) {
        let d = (a - b).abs();
        match d {
            0 => h.exact += 1,
            1 => h.off_by_one += 1,
            _ => h.worse += 1,
        }
        h.max_diff = h.max_diff.max(d);
    }
    h
}

/// `n` random samples spanning the input quantization's range and 10 % beyond it
/// (so saturation is exercised), from a seeded generator.
pub fn random_inputs(lowered: &Lowered, n: usize, seed: u64) -> Result<Tensor, crate::lower::LbmError> {
    let model = lowbit_runtime::Model::from_bytes(&lowered.bytes).map_err(crate::lower::LbmError::Model)?;
    let info = model.input();
    let q = info.quant;
    let (lo, hi) = q.range();
    let real = |v: i32| (v - q.zero_point) as f32 * q.scale;
    let (a, b) = (real(lo), real(hi));
    let margin = (b - a) * 0.1;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let per_sample = info.shape.elements();
    let values = (0..n * per_sample).map(|_| rng.random_range(a - margin..=b + margin)).collect();
    let mut shape = vec![n];
    shape.extend(info.shape.dims().iter().map(|&d| d as usize));
    Ok(Tensor::f32(shape, values))
}

/// The reference outputs for `inputs`: ONNX Runtime for QCDQ/QOp models
/// (in chunks of the model's fixed batch, if it has one), the executor for QONNX.
pub fn reference_outputs(model: &Path, graph: &Graph, inputs: &Tensor) -> Result<(Reference, Tensor), String> {
    if graph.source.format == Format::Qonnx {
        let out = crate::exec::run(graph, std::slice::from_ref(inputs)).map_err(|e| e.to_string())?;
        return Ok((Reference::Executor, out.into_iter().next().ok_or("no output")?));
    }
    let declared = graph.inputs.first().and_then(|&i| graph.value(i).declared_shape.clone()).unwrap_or_default();
    let fixed_batch = match declared.first() {
        Some(crate::ir::Dim::Fixed(b)) => Some(*b),
        _ => None,
    };
    let n = inputs.shape[0];
    let chunk = fixed_batch.unwrap_or(n).max(1);
    let per: usize = inputs.shape[1..].iter().product();
    let values = inputs.as_f32().ok_or("inputs must be float")?;
    let mut out_values: Vec<f64> = Vec::new();
    let mut out_shape = Vec::new();
    let mut dtype = DType::F32;
    for start in (0..n).step_by(chunk) {
        // Pad the last chunk by repeating its first sample; the extra rows are dropped.
        let take = chunk.min(n - start);
        let mut data = values[start * per..(start + take) * per].to_vec();
        for _ in take..chunk {
            data.extend_from_slice(&values[start * per..(start + 1) * per]);
        }
        let mut shape = inputs.shape.clone();
        shape[0] = chunk;
        let out = crate::onnxruntime::run(model, &Tensor::f32(shape, data)).map_err(|e| e.to_string())?.remove(0);
        let row: usize = out.shape[1..].iter().product();
        out_values.extend(out.to_f64_vec()[..take * row].iter());
        out_shape = out.shape.clone();
        dtype = out.dtype;
    }
    out_shape[0] = n;
    let t = match dtype {
        DType::F32 => Tensor::f32(out_shape, out_values.iter().map(|&v| v as f32).collect()),
        d => Tensor::int(d, out_shape, out_values.iter().map(|&v| v as i64).collect()),
    };
    Ok((Reference::OnnxRuntime, t))
}

//! Running `.lbm` programs on the host with the device's own runtime code.

use crate::ir::{DType, Tensor};
use lowbit_runtime::{Model, TensorQuant, arith};

/// The outputs of an `.lbm` run over a batch.
#[derive(Debug, Clone)]
pub struct LbmRun {
    /// Output integers, `[batch, ...]`.
    pub ints: Tensor,
    /// The same dequantized with the output quantization (`f32(q - z) · s`).
    pub floats: Tensor,
    /// The output quantization.
    pub quant: TensorQuant,
}

/// An `.lbm` run that could not happen.
#[derive(Debug, thiserror::Error)]
pub enum LbmError {
    /// The blob is not a valid model.
    #[error("invalid .lbm model: {0}")]
    Model(lowbit_runtime::Error),
    /// The input does not fit the model.
    #[error("input shape {got:?} does not match the model's [batch, {want}]")]
    Shape {
        /// Given shape.
        got: Vec<usize>,
        /// The model's per-sample shape.
        want: String,
    },
    /// The runtime refused to run.
    #[error("the runtime failed: {0}")]
    Run(lowbit_runtime::Error),
}

/// Runs `bytes` on every sample of `input` (`[batch, ...]`): float input is
/// quantized with the model's input quantization (ONNX `QuantizeLinear`);
/// integer input is taken as is.
pub fn run_lbm(bytes: &[u8], input: &Tensor) -> Result<LbmRun, LbmError> {
    let model = Model::from_bytes(bytes).map_err(LbmError::Model)?;
    let (i, o) = (model.input(), model.output());
    let per_sample = i.shape.elements();
    let dims = |s: &lowbit_runtime::Shape| s.dims().iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ");
    if input.shape.is_empty() || input.shape[1..].iter().product::<usize>() != per_sample {
        return Err(LbmError::Shape { got: input.shape.clone(), want: dims(&i.shape) });
    }
    let batch = input.shape[0];
    let (lo, hi) = i.quant.range();
    let quantized: Vec<i64> = match (input.as_f32(), input.as_int()) {
        (Some(v), _) => {
            v.iter().map(|&x| arith::quantize(x, i.quant.scale, i.quant.zero_point, lo, hi) as i64).collect()
        }
        (None, Some(v)) => v.to_vec(),
        _ => unreachable!("a tensor holds floats or integers"),
    };
    let mut arena = vec![0u8; model.arena_size()];
    let mut out_bytes = vec![0u8; model.output_len()];
    let mut ints = Vec::with_capacity(batch * model.output_len());
    for sample in quantized.chunks(per_sample.max(1)) {
        let bytes: Vec<u8> = sample.iter().map(|&v| v as u8).collect();
        model.run(&mut arena, &bytes, &mut out_bytes).map_err(LbmError::Run)?;
        ints.extend(out_bytes.iter().map(|&b| if o.quant.signed { b as i8 as i64 } else { b as i64 }));
    }
    let mut shape = vec![batch];
    shape.extend(o.shape.dims().iter().map(|&d| d as usize));
    let floats = ints.iter().map(|&q| arith::dequantize(q as i32, o.quant.scale, o.quant.zero_point)).collect();
    let dtype = if o.quant.signed { DType::I8 } else { DType::U8 };
    Ok(LbmRun { ints: Tensor::int(dtype, shape.clone(), ints), floats: Tensor::f32(shape, floats), quant: o.quant })
}

//! `lowbit run MODEL --input IN.npy --output OUT.npy [--int]`.

use anyhow::{Context, bail};
use lowbit::ir::{Graph, Op, QuantizeAttrs, Tensor};
use std::path::PathBuf;

/// Arguments of `lowbit run`.
#[derive(clap::Args)]
pub struct Args {
    /// The model: an .onnx file, or an .lbm program from `lowbit lower`.
    model: PathBuf,
    /// Input array (.npy); its first dimension is the batch.
    #[arg(long)]
    input: PathBuf,
    /// Where to write output 0 (.npy).
    #[arg(long)]
    output: PathBuf,
    /// Write the output's integers instead of float32 values.
    #[arg(long)]
    int: bool,
}

/// Runs the model and writes output 0.
pub fn run(args: Args) -> anyhow::Result<()> {
    let input = lowbit::npy::read(&args.input)?;
    let bytes = std::fs::read(&args.model).with_context(|| format!("reading {}", args.model.display()))?;
    if bytes.starts_with(&lowbit_runtime::MAGIC) {
        // An integer program: run it with the device's runtime code.
        let run =
            lowbit::lower::run_lbm(&bytes, &input).with_context(|| format!("running {}", args.model.display()))?;
        let out = if args.int { run.ints } else { run.floats };
        lowbit::npy::write(&args.output, &out)?;
        eprintln!("wrote {} {} to {}", out.dtype, lowbit::ir::fmt_shape(&out.shape), args.output.display());
        return Ok(());
    }
    let graph = super::import(&args.model)?;
    let outputs = lowbit::exec::run(&graph, &[input]).with_context(|| format!("running {}", args.model.display()))?;
    let out = if args.int { integers(&graph, &outputs[0])? } else { floats(&graph, &outputs[0]) };
    lowbit::npy::write(&args.output, &out)?;
    eprintln!("wrote {} {} to {}", out.dtype, lowbit::ir::fmt_shape(&out.shape), args.output.display());
    Ok(())
}

/// Output 0 as float32: integer outputs are dequantized.
fn floats(graph: &Graph, out: &Tensor) -> Tensor {
    match (out.as_int(), graph.quant(graph.outputs[0])) {
        (Some(q), Some(p)) => {
            let v = q.iter().zip(p.channels(&out.shape)).map(|(&x, c)| (x - p.zero_point_at(c)) as f32 * p.scale_at(c));
            Tensor::f32(out.shape.clone(), v.collect())
        }
        (Some(q), None) => Tensor::f32(out.shape.clone(), q.iter().map(|&x| x as f32).collect()),
        (None, _) => out.clone(),
    }
}

/// Output 0 as integers: as computed, or the grid a dequantized output lies on.
fn integers(graph: &Graph, out: &Tensor) -> anyhow::Result<Tensor> {
    if out.dtype.is_int() {
        return Ok(out.clone());
    }
    let id = graph.outputs[0];
    let Some(q) = graph.float_grid(id) else {
        bail!("output 0 is a float tensor without quantization; drop --int");
    };
    // The values are exact multiples of the scale: quantizing recovers the integers.
    let range = q.range();
    let values = out.as_f32().unwrap_or_default();
    let ints = values
        .iter()
        .zip(q.channels(&out.shape))
        .map(|(&x, c)| QuantizeAttrs::ONNX.apply(x, q.scale_at(c), q.zero_point_at(c), range, q.bipolar))
        .collect();
    let dtype = graph
        .producer(id)
        .filter(|p| p.op == Op::Dequantize)
        .map_or(lowbit::ir::DType::storage_for(q.bits, q.signed), |p| graph.value(p.inputs[0]).dtype);
    Ok(Tensor::int(dtype, out.shape.clone(), ints))
}

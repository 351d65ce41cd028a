//! `lowbit verify MODEL [--input IN.npy] [--samples N]`.

use anyhow::{Context, bail};
use lowbit::verify::{Reference, histogram, random_inputs, reference_ints, reference_outputs};
use std::path::PathBuf;

/// Arguments of `lowbit verify`.
#[derive(clap::Args)]
pub struct Args {
    /// The model (.onnx).
    model: PathBuf,
    /// Inputs (.npy, first axis the batch); random inputs when absent.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Number of random samples.
    #[arg(long, default_value_t = 64)]
    samples: usize,
    /// Seed of the random samples.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Allowed distance in output steps [default: 0 for QOp models, whose
    /// integer operators must match exactly; 1 for QCDQ/QONNX, whose float
    /// layers ONNX Runtime sums in its own order].
    #[arg(long)]
    tolerance: Option<i64>,
}

/// Lowers the model, runs program and reference on the same inputs, prints the histogram.
pub fn run(args: Args) -> anyhow::Result<()> {
    let graph = super::import(&args.model)?;
    let lowered = lowbit::lower::lower(&graph).with_context(|| format!("lowering {}", args.model.display()))?;
    let inputs = match &args.input {
        Some(p) => lowbit::npy::read(p)?,
        None => random_inputs(&lowered, args.samples, args.seed)?,
    };
    let program = lowbit::lower::run_lbm(&lowered.bytes, &inputs)?;
    let (reference, out) = reference_outputs(&args.model, &graph, &inputs).map_err(anyhow::Error::msg)?;
    let expected = reference_ints(&out, &program);
    let h = histogram(program.ints.as_int().unwrap_or_default(), &expected);
    let tolerance = args.tolerance.unwrap_or(if graph.source.format == lowbit::ir::Format::Qop { 0 } else { 1 });
    let pct = |n: usize| 100.0 * n as f64 / h.total().max(1) as f64;
    let source = match reference {
        Reference::OnnxRuntime => "ONNX Runtime",
        Reference::Executor => "lowbit's reference executor (ONNX Runtime cannot run QONNX)",
    };
    println!("{} samples, {} output values, program vs {source}:", inputs.shape[0], h.total());
    println!("  exact  {:>8}  {:6.2} %", h.exact, pct(h.exact));
    println!("  ±1     {:>8}  {:6.2} %", h.off_by_one, pct(h.off_by_one));
    println!("  worse  {:>8}  {:6.2} %  (max {} steps)", h.worse, pct(h.worse), h.max_diff);
    if !h.within(tolerance) {
        bail!(
            "{} values differ by more than {tolerance} step(s)",
            h.total() - h.exact - if tolerance >= 1 { h.off_by_one } else { 0 }
        );
    }
    println!("within tolerance ({tolerance} step(s))");
    Ok(())
}

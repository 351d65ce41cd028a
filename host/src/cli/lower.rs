//! `lowbit lower MODEL -o OUT.lbm [--report] [--compact] [--rust OUT.rs]`.

use anyhow::Context;
use lowbit_runtime::build::KernelPolicy;
use std::path::PathBuf;

/// Arguments of `lowbit lower`.
#[derive(clap::Args)]
pub struct Args {
    /// The model (.onnx).
    model: PathBuf,
    /// Where to write the integer program.
    #[arg(short, long)]
    output: PathBuf,
    /// Print sizes and costs per op, against their lower bounds.
    #[arg(long)]
    report: bool,
    /// Keep every layer's weights in their declared bit width (least
    /// flash), even where a wider one runs faster (3, 5, 6, 7 bits; 2 bits
    /// outside convolution rows of whole 16-weight words; 4-bit convolution
    /// rows of odd length).
    #[arg(long)]
    compact: bool,
    /// Also write the program as Rust source for a firmware built with the
    /// runtime feature `compiled` (`LOWBIT_COMPILED` names the file): the
    /// device then runs it without parsing or validating anything.
    #[arg(long, value_name = "FILE")]
    rust: Option<PathBuf>,
}

/// Lowers the model and writes the `.lbm` file.
pub fn run(args: Args) -> anyhow::Result<()> {
    let graph = super::import(&args.model)?;
    let policy = if args.compact { KernelPolicy::Compact } else { KernelPolicy::Auto };
    let lowered =
        lowbit::lower::lower_with(&graph, policy).with_context(|| format!("lowering {}", args.model.display()))?;
    std::fs::write(&args.output, &lowered.bytes).with_context(|| format!("writing {}", args.output.display()))?;
    if let Some(path) = &args.rust {
        let model = lowbit_runtime::Model::from_bytes(&lowered.bytes).context("reading the program back")?;
        let source = model.to_rust().context("writing the program as Rust")?;
        std::fs::write(path, source).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    let r = &lowered.report;
    if args.report {
        print!("{r}");
        let bound = r.weight_bytes_lower_bound + r.param_bytes;
        println!(
            "file {} B = weight-bits bound {} B + params {} B + {} B header, records and alignment ({:+.1} % over the bound)",
            r.file_bytes,
            r.weight_bytes_lower_bound,
            r.param_bytes,
            r.file_bytes.saturating_sub(bound),
            (r.file_bytes as f64 / bound.max(1) as f64 - 1.0) * 100.0
        );
        println!("arena {} B (live-set lower bound {} B)", r.arena_bytes, r.arena_bytes_lower_bound);
    }
    for note in &lowered.notes {
        eprintln!("note: {note}");
    }
    eprintln!(
        "wrote {} ({} B, {} ops, arena {} B, {} MACs per inference)",
        args.output.display(),
        r.file_bytes,
        r.ops.len(),
        r.arena_bytes,
        r.macs
    );
    Ok(())
}

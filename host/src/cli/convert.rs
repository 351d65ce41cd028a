//! `lowbit convert MODEL --to qcdq|qop|qonnx -o OUT.onnx [--opset N]`.

use anyhow::Context;
use lowbit::export::Style;
use std::path::PathBuf;

/// A target style on the command line.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Target {
    /// QuantizeLinear → Clip → DequantizeLinear around float ops.
    Qcdq,
    /// Integer operators (QLinearConv).
    Qop,
    /// QONNX Quant / BipolarQuant / Trunc.
    Qonnx,
}

/// Arguments of `lowbit convert`.
#[derive(clap::Args)]
pub struct Args {
    /// The model (.onnx) in any of the three styles.
    model: PathBuf,
    /// The style to write.
    #[arg(long, value_enum)]
    to: Target,
    /// Where to write the converted model.
    #[arg(short, long)]
    output: PathBuf,
    /// The ONNX opset to declare (default: the model's own, at least 13).
    #[arg(long)]
    opset: Option<i64>,
    /// Fix the batch dimension of the inputs (the qonnx executor needs static shapes).
    #[arg(long)]
    batch: Option<usize>,
}

/// Converts the model through the IR and writes it.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut graph = super::import(&args.model)?;
    let style = match args.to {
        Target::Qcdq => Style::Qcdq,
        Target::Qop => Style::Qop,
        Target::Qonnx => Style::Qonnx,
    };
    let opset = args.opset.unwrap_or_else(|| graph.source.onnx_opset().unwrap_or(13).max(13));
    graph.source.opsets.retain(|(d, _)| !(d.is_empty() || d == "ai.onnx"));
    graph.source.opsets.push((String::new(), opset));
    let mut converted = lowbit::transform::convert(&graph, style)
        .with_context(|| format!("{} cannot be written as {style:?}", args.model.display()))?;
    if let Some(batch) = args.batch {
        lowbit::transform::fix_batch(&mut converted, batch);
    }
    lowbit::export::write(&converted, style, &args.output)
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!("wrote {} ({style:?}, {} nodes)", args.output.display(), converted.nodes.len());
    Ok(())
}

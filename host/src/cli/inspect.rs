//! `lowbit inspect MODEL [--json]`.

use std::path::PathBuf;

/// Arguments of `lowbit inspect`.
#[derive(clap::Args)]
pub struct Args {
    /// The model (.onnx).
    model: PathBuf,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Imports the model and prints its report.
pub fn run(args: Args) -> anyhow::Result<()> {
    let graph = super::import(&args.model)?;
    let report = lowbit::inspect::report(&graph);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", lowbit::inspect::render(&report));
    }
    Ok(())
}

//! Command-line interface: one module per subcommand.

mod convert;
mod hls;
mod inspect;
mod lower;
mod run;
mod verify;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// lowbit: quantized neural networks from Brevitas ONNX to microcontrollers and FPGAs.
#[derive(Parser)]
#[command(name = "lowbit", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the format, opsets and a per-layer table of a model.
    Inspect(inspect::Args),
    /// Run a model (.onnx, or an .lbm program) on the host on inputs from a .npy file.
    Run(run::Args),
    /// Lower a model to a packed integer program (.lbm) for the device runtime.
    Lower(lower::Args),
    /// Lower a model and compare the integer program with ONNX Runtime.
    Verify(verify::Args),
    /// Convert a model between QCDQ, QOp and QONNX.
    Convert(convert::Args),
    /// Generate a FINN-style dataflow accelerator (HLS C++, folding, estimates) and C-simulate it.
    Hls(hls::Args),
}

/// Imports a model, with the file named in errors.
fn import(path: &std::path::Path) -> anyhow::Result<lowbit::ir::Graph> {
    use anyhow::Context;
    lowbit::import::import_file(path).with_context(|| format!("importing {}", path.display()))
}

/// Parses the command line, runs the subcommand and reports errors with their causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Run(args) => run::run(args),
        Command::Lower(args) => lower::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Hls(args) => hls::run(args),
        Command::Convert(args) => convert::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

//! Command-line interface: one module per subcommand.

mod inspect;
mod run;

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
    /// Run a model on the host on inputs from a .npy file.
    Run(run::Args),
}

/// Parses the command line, runs the subcommand and reports errors with their causes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(args),
        Command::Run(args) => run::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

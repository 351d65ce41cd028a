//! Command-line arguments.

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// lowbit's developer tasks.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
pub struct Cli {
    /// The task to run.
    #[command(subcommand)]
    pub task: Task,
}

/// One task.
#[derive(Subcommand)]
pub enum Task {
    /// Install what is missing: rustup targets, QEMU, the Python venv (no flag: all).
    Setup(SetupArgs),
    /// Setup, `cargo test`, runtime cross builds and the QEMU smoke run.
    Test(TestArgs),
    /// Build the firmware per board and run it under QEMU (probe boards: `--build-only`).
    #[command(alias = "qemu-smoke")]
    Smoke(SmokeArgs),
    /// Print the Python and ONNX Runtime paths the tests use.
    PythonEnv,
    /// List the boards with their memory maps.
    Boards,
    /// rustfmt and clippy (-D warnings) for xtask, the plugin and the firmware on every target.
    Lint,
}

/// `setup` flags.
#[derive(Args)]
pub struct SetupArgs {
    /// The Python venv with onnx, onnxruntime, numpy and qonnx.
    #[arg(long)]
    pub python: bool,
    /// QEMU 10 (qemu-system-arm, qemu-system-riscv32) from bookworm-backports.
    #[arg(long)]
    pub qemu: bool,
    /// The rustup targets of the firmware and the runtime.
    #[arg(long)]
    pub targets: bool,
}

/// A step of `setup`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SetupStep {
    /// Rustup targets.
    Targets,
    /// QEMU.
    Qemu,
    /// Python venv.
    Python,
}

impl SetupArgs {
    /// The steps asked for; all of them when no flag is given.
    pub fn steps(&self) -> Vec<SetupStep> {
        let chosen =
            [(self.targets, SetupStep::Targets), (self.qemu, SetupStep::Qemu), (self.python, SetupStep::Python)];
        let steps: Vec<_> = chosen.iter().filter(|(on, _)| *on).map(|&(_, step)| step).collect();
        if steps.is_empty() { vec![SetupStep::Targets, SetupStep::Qemu, SetupStep::Python] } else { steps }
    }
}

/// `test` flags.
#[derive(Args)]
pub struct TestArgs {
    /// Skip the setup steps (use what is installed).
    #[arg(long)]
    pub no_setup: bool,
    /// Stop at the first failing step.
    #[arg(long)]
    pub fail_fast: bool,
}

/// `smoke` flags.
#[derive(Args, Clone)]
pub struct SmokeArgs {
    /// A board name, or `qemu` (every QEMU board), `probe` or `all`.
    #[arg(long, default_value = "qemu")]
    pub board: String,
    /// Only build the firmware (the only option for probe boards today).
    #[arg(long)]
    pub build_only: bool,
    /// QEMU wall-clock timeout per run, in seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// How the image reaches the device.
    #[arg(long, value_enum, default_value_t = ModeArg::Loaded)]
    pub mode: ModeArg,
    /// Skip the negative runs (corrupted image, arena too small, embedded mode).
    #[arg(long)]
    pub no_negative: bool,
}

impl SmokeArgs {
    /// The timeout as a [`Duration`].
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }
}

/// `--mode` values.
#[derive(ValueEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModeArg {
    /// The runner writes the image into the board's image region.
    Loaded,
    /// The image is built into the firmware.
    Embedded,
}

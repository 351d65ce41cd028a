//! Command-line arguments.

use std::{path::PathBuf, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::firmware::Optimize;

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
    /// Setup, `cargo test`, runtime cross builds and `hil` on every QEMU board.
    Test(TestArgs),
    /// Lower a model, build the firmware, run it on a board, check parity with the host.
    Deploy(DeployArgs),
    /// Every board × every model that fits, bit-exact parity with the host runtime.
    #[command(alias = "smoke")]
    Hil(HilArgs),
    /// Deterministic instructions per inference, flash and RAM per model and board.
    Bench(BenchArgs),
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

/// The default board of `deploy`, `bench` and the failure-path runs.
pub const DEFAULT_BOARD: &str = "qemu-mps2-an386";
/// The bundled example model (`deploy` with no arguments).
pub const EXAMPLE_MODEL: &str = "examples/digits_cnn/model.onnx";

/// `deploy` flags.
#[derive(Args, Clone)]
pub struct DeployArgs {
    /// The board (`cargo xtask boards` lists them).
    #[arg(long, default_value = DEFAULT_BOARD)]
    pub board: String,
    /// The model: `.onnx` (lowered here) or `.lbm`; default: the bundled example.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Inputs (`.npy`, first axis = one inference each); default: the model
    /// directory's `input.npy`, else one generated input.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Write the device's outputs here (`.npy`, dequantized float32).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// How the model reaches the device.
    #[arg(long, value_enum, default_value_t = ModeArg::Embedded)]
    pub mode: ModeArg,
    /// What the compiler optimizes the firmware for: `speed` (the fastest
    /// kernels) or `size` (the smallest runtime code).
    #[arg(long, value_enum, default_value_t = Optimize::Speed)]
    pub optimize: Optimize,
    /// Only build the firmware.
    #[arg(long)]
    pub build_only: bool,
    /// Wall-clock timeout of the run, in seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// `hil` flags.
#[derive(Args, Clone)]
pub struct HilArgs {
    /// A board name, or `qemu` (every QEMU board), `probe` or `all`
    /// (probe boards are built and skipped when no probe is attached).
    #[arg(long, default_value = "qemu")]
    pub board: String,
    /// Model directories (default: `examples/` and the corpus, `$LOWBIT_CORPUS`
    /// or `tests/corpus`); each `*/model.onnx` (or `.onnx`/`.lbm` file) is a model.
    #[arg(long = "models")]
    pub models: Vec<PathBuf>,
    /// Only models whose name contains this.
    #[arg(long)]
    pub filter: Option<String>,
    /// Only build the firmware.
    #[arg(long)]
    pub build_only: bool,
    /// Skip the failure-path runs (corrupted model, arena too small, panic, fault, embedded mode).
    #[arg(long)]
    pub no_negative: bool,
    /// Wall-clock timeout per run, in seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// `bench` flags.
#[derive(Args, Clone)]
pub struct BenchArgs {
    /// A board name or `qemu` (every QEMU board); default: every QEMU board,
    /// with `--layers` the M4F, M3, M0 and RV32IMAC boards.
    #[arg(long)]
    pub board: Option<String>,
    /// Models (`.onnx`/`.lbm`); default: the corpus's digits MLP and the bundled example.
    #[arg(long = "model")]
    pub models: Vec<PathBuf>,
    /// The layer benchmark: instructions per MAC of issue #7's layer shapes
    /// per weight width and activation type, then every example and corpus model.
    #[arg(long)]
    pub layers: bool,
    /// With `--layers`: only this layer (repeatable; e.g. `conv2`, `xnor256x64`).
    #[arg(long = "layer", requires = "layers")]
    pub only: Vec<String>,
    /// With `--layers`: skip the whole-model runs.
    #[arg(long, requires = "layers")]
    pub no_models: bool,
    /// Wall-clock timeout per run, in seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

/// A timeout flag as a [`Duration`].
pub fn seconds(timeout: u64) -> Duration {
    Duration::from_secs(timeout)
}

/// `--mode` values.
#[derive(ValueEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ModeArg {
    /// The runner writes the image into the board's image region.
    Loaded,
    /// The image is built into the firmware (the production image).
    Embedded,
}

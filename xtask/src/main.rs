//! `cargo xtask`: lowbit's developer tasks.
//!
//! - `setup`: installs what is missing (rustup targets, QEMU, the Python venv).
//! - `test`: setup, the workspace tests, the runtime cross builds and `hil`
//!   on every QEMU board, with every failure reported at the end.
//! - `deploy`: lowers a model, builds the firmware for a board, runs it and
//!   checks parity with the host runtime (no arguments: the bundled example
//!   on qemu-mps2-an386).
//! - `hil` (alias `smoke`): every board × every model that fits, bit-exact
//!   parity, plus the failure paths; `bench`: instructions per inference,
//!   flash and RAM; `bench --layers`: instructions per MAC of single layers
//!   ([`layers`], [`layer_bench`]) and of every model.
//! - `python-env`: prints the Python/ONNX Runtime paths tests use.
//! - `boards`: lists the boards and their memory maps.
//! - `lint`: rustfmt and clippy over xtask, the plugin and the firmware.
//!
//! The building blocks: [`board`] files, [`model`] (lowering, inputs, host
//! reference), [`fit`], [`firmware`] builds, [`device`] runs on [`qemu`] or a
//! [`probe`], decoded [`records`], and [`report`] tables.

mod bench;
mod board;
mod catalog;
mod cli;
mod command;
mod decode;
mod deploy;
mod device;
mod elf;
mod failures;
mod firmware;
mod fit;
mod hil;
mod kernel_checks;
mod layer_bench;
mod layers;
mod lint;
mod model;
mod plugin;
mod probe;
mod pyenv;
mod qemu;
mod records;
mod report;
mod setup;
mod test;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Parser;

use crate::cli::{Cli, Task};

fn main() -> Result<()> {
    let cli = Cli::parse();
    let root = repo_root()?;
    match cli.task {
        Task::Setup(args) => setup::run(&root, &args.steps()),
        Task::Test(args) => test::run(&root, &args),
        Task::Deploy(args) => deploy::run(&root, &args).inspect_err(|error| {
            if let Some(exit) = error.downcast_ref::<device::DeviceExit>() {
                eprintln!("Error: {error:#}");
                std::process::exit(exit.status.code());
            }
        }),
        Task::Hil(args) => hil::run(&root, &args),
        Task::Bench(args) => bench::run(&root, &args),
        Task::Lint => lint::run(&root),
        Task::Boards => board::list(&board::Boards::load(&root)?),
        Task::PythonEnv => {
            let env = pyenv::PythonEnv::locate(&root);
            println!("LOWBIT_PYTHON={}", env.python.display());
            match env.ort_dylib()? {
                Some(path) => println!("ORT_DYLIB_PATH={}", path.display()),
                None => println!("# ORT_DYLIB_PATH: onnxruntime not installed (run `cargo xtask setup --python`)"),
            }
            Ok(())
        }
    }
}

/// The repository root: the parent of this crate's manifest directory.
///
/// Refuses to run from a copy whose layout is not lowbit's.
fn repo_root() -> Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().context("xtask has no parent directory")?.to_path_buf();
    for expected in ["Cargo.toml", "boards", "firmware/app/Cargo.toml"] {
        if !root.join(expected).exists() {
            bail!("{} is not lowbit's repository root (no {expected})", root.display());
        }
    }
    Ok(root)
}

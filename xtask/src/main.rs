//! `cargo xtask`: lowbit's developer tasks.
//!
//! - `setup`: installs what is missing (rustup targets, QEMU, the Python venv).
//! - `test`: setup, the workspace tests, the runtime cross builds and the
//!   QEMU smoke run, with every failure reported at the end.
//! - `smoke` (alias `qemu-smoke`): builds the firmware per board, runs it
//!   under QEMU and checks exit status, checksum and instruction counts.
//! - `python-env`: prints the Python/ONNX Runtime paths tests use.
//! - `boards`: lists the boards and their memory maps.
//! - `lint`: rustfmt and clippy over xtask, the plugin and the firmware.
//!
//! The building blocks ([`board`], [`firmware`], [`qemu`], [`elf`], …) are
//! meant to be reused by later tasks (`deploy`, `hil`, `bench`, `ci`).

mod board;
mod cli;
mod command;
mod decode;
mod elf;
mod firmware;
mod lint;
mod plugin;
mod pyenv;
mod qemu;
mod records;
mod report;
mod setup;
mod smoke;
mod test;
mod workload;

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
        Task::Smoke(args) => smoke::run(&root, &args),
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

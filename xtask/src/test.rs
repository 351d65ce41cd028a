//! `cargo xtask test`: everything a change must pass, all failures reported together.
//!
//! 1. setup (targets, QEMU, Python venv) unless `--no-setup`;
//! 2. `cargo test --workspace --exclude xtask` with `LOWBIT_PYTHON` and
//!    `ORT_DYLIB_PATH` set, then `cargo test -p xtask` on its own (so that
//!    xtask's dependency features never unify into the product crates'
//!    test build), and the `lowbit-image` tests;
//! 3. `cargo build -p lowbit-runtime` for thumbv6m, thumbv7em and riscv32imac;
//! 4. `hil` on every QEMU board (every model that fits, the failure paths),
//!    and build-only on the probe boards;
//! 5. a smoke run of `bench --layers` on the Cortex-M4F board: a few layers
//!    whose asm loops (Dense rows, depthwise windows, XNOR popcounts) must
//!    stay bit-exact, and the conv + dense + pool build.

use std::{ffi::OsString, path::Path};

use anyhow::Result;

use crate::{
    board::Target,
    cli::{BenchArgs, HilArgs, SetupStep, TestArgs},
    command::CargoCommand,
    hil, layer_bench,
    pyenv::PythonEnv,
    report::Outcomes,
    setup,
};

/// The cross builds that prove the runtime stays `no_std`.
const RUNTIME_TARGETS: [Target; 3] = [Target::Thumbv6m, Target::Thumbv7emHf, Target::Riscv32imac];

/// The board and layers of the layer-bench smoke run.
const LAYER_SMOKE_BOARD: &str = "qemu-mps2-an386";
const LAYER_SMOKE: [&str; 3] = ["dense64x64", "dw3x3", "xnor256x64"];

/// Runs the test task.
pub fn run(root: &Path, args: &TestArgs) -> Result<()> {
    let mut outcomes = Outcomes::new(args.fail_fast);
    if !args.no_setup {
        setup::run_steps(root, &[SetupStep::Python, SetupStep::Targets, SetupStep::Qemu], &mut outcomes)?;
    }
    let python = PythonEnv::locate(root);
    let mut env: Vec<(&'static str, OsString)> = vec![("LOWBIT_PYTHON", python.python.clone().into())];
    if let Ok(Some(dylib)) = python.ort_dylib() {
        env.push(("ORT_DYLIB_PATH", dylib.into()));
    }
    outcomes.step("cargo test --workspace --exclude xtask", || {
        CargoCommand::Test { selection: vec!["--workspace", "--exclude", "xtask"], env: env.clone() }.command().run()
    })?;
    outcomes.step("cargo test -p xtask", || {
        CargoCommand::Test { selection: vec!["-p", "xtask"], env: Vec::new() }.command().run()
    })?;
    outcomes.step("cargo test lowbit-image (firmware workspace)", || {
        let manifest = root.join("firmware/app/image/Cargo.toml");
        CargoCommand::TestManifest { manifest, features: "std" }.command().run()
    })?;
    for target in RUNTIME_TARGETS {
        outcomes.step(format!("cargo build -p lowbit-runtime --target {target}"), || {
            CargoCommand::CrossBuild { package: "lowbit-runtime", target: target.triple() }.command().run()
        })?;
    }
    let hil_args = |board: &str, build_only| HilArgs {
        board: board.into(),
        models: Vec::new(),
        filter: None,
        build_only,
        no_negative: false,
        timeout: 120,
    };
    outcomes.step("hil: every QEMU board", || hil::run(root, &hil_args("qemu", false)))?;
    outcomes.step("hil: probe boards, build only", || hil::run(root, &hil_args("probe", true)))?;
    outcomes.step(format!("bench --layers smoke on {LAYER_SMOKE_BOARD}"), || {
        let args = BenchArgs {
            board: Some(LAYER_SMOKE_BOARD.into()),
            models: Vec::new(),
            layers: true,
            only: LAYER_SMOKE.iter().map(|l| l.to_string()).collect(),
            no_models: true,
            timeout: 120,
        };
        layer_bench::run(root, &args)
    })?;
    outcomes.finish()
}

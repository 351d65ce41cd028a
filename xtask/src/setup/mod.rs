//! `cargo xtask setup`: install what is missing, idempotently.

mod python;
mod qemu;
mod targets;

use std::{path::Path, time::Duration};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use crate::{
    board::{Board, BoardKind},
    cli::SetupStep,
    report::Outcomes,
};

/// Runs the chosen steps, reporting each; fails if any failed.
pub fn run(root: &Path, steps: &[SetupStep]) -> Result<()> {
    let mut outcomes = Outcomes::new(false);
    run_steps(root, steps, &mut outcomes)?;
    outcomes.finish()
}

/// Runs the chosen steps into `outcomes` (shared with `test`).
pub fn run_steps(root: &Path, steps: &[SetupStep], outcomes: &mut Outcomes) -> Result<()> {
    for step in steps {
        match step {
            SetupStep::Targets => outcomes.step("setup: rustup targets", targets::ensure)?,
            SetupStep::Qemu => outcomes.step("setup: QEMU 10 (bookworm-backports)", qemu::ensure)?,
            SetupStep::Python => outcomes.step("setup: Python venv", || python::ensure(root))?,
        }
    }
    Ok(())
}

/// What running on `board` needs and is missing: its rustup target and,
/// unless `build_only`, QEMU for a QEMU board (with a progress display).
pub fn ensure_for(board: &Board, build_only: bool) -> Result<()> {
    targets::ensure_targets(&[board.target])?;
    if board.kind == BoardKind::Qemu && !build_only {
        qemu::ensure()?;
    }
    Ok(())
}

/// A spinner for a long step (hidden when stderr is not a terminal).
fn spinner(message: impl Into<String>) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("valid template"));
    bar.set_message(message.into());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

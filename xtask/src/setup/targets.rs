//! Rustup targets for the firmware and the runtime cross builds.

use anyhow::{Context, Result};

use crate::{board::Target, command::ExternalCommand};

/// Adds the targets of [`Target::ALL`] that are not installed yet.
pub fn ensure() -> Result<()> {
    ensure_targets(&Target::ALL)
}

/// Adds those of `targets` that are not installed yet.
pub fn ensure_targets(targets: &[Target]) -> Result<()> {
    let installed = ExternalCommand::new("rustup").args(["target", "list", "--installed"]).output()?;
    let installed = String::from_utf8(installed.stdout).context("rustup printed non-UTF-8")?;
    let missing: Vec<&str> =
        targets.iter().map(|t| t.triple()).filter(|t| !installed.lines().any(|l| l.trim() == *t)).collect();
    if missing.is_empty() {
        eprintln!("rustup targets installed: {}", targets.iter().map(|t| t.triple()).collect::<Vec<_>>().join(", "));
        return Ok(());
    }
    let bar = super::spinner(format!("rustup target add {}", missing.join(" ")));
    let result = ExternalCommand::new("rustup").args(["target", "add"]).args(&missing).output();
    bar.finish_and_clear();
    result.map(drop)
}

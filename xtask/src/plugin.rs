//! The instruction-count TCG plugin (`xtask/icount-plugin`): building it and
//! pointing it at a firmware's markers.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::{command::CargoCommand, elf::Elf};

/// The firmware's marker symbols.
const START: &str = "lowbit_inference_start";
const END: &str = "lowbit_inference_end";

/// The built plugin, optionally configured with marker addresses.
#[derive(Debug, Clone)]
pub struct IcountPlugin {
    library: PathBuf,
    markers: Option<(u64, u64)>,
}

impl IcountPlugin {
    /// Builds the plugin (a few seconds the first time) and returns it.
    pub fn build(root: &Path) -> Result<IcountPlugin> {
        let target_dir = root.join("target/icount-plugin");
        let manifest = root.join("xtask/icount-plugin/Cargo.toml");
        CargoCommand::BuildManifest { manifest, target_dir: target_dir.clone() }
            .command()
            .run()
            .context("building the instruction-count QEMU plugin")?;
        Ok(IcountPlugin { library: target_dir.join("release/liblowbit_icount_plugin.so"), markers: None })
    }

    /// The plugin set to count between the markers of `elf`.
    pub fn configured(&self, elf: &Elf) -> Result<IcountPlugin> {
        Ok(IcountPlugin { library: self.library.clone(), markers: Some((elf.symbol(START)?, elf.symbol(END)?)) })
    }

    /// QEMU arguments loading the plugin and logging its output to `log`.
    pub fn qemu_args(&self, log: &Path) -> Vec<String> {
        let (start, end) = self.markers.unwrap_or_default();
        vec![
            "-plugin".into(),
            format!("{},start={start},end={end}", self.library.display()),
            "-d".into(),
            "plugin".into(),
            "-D".into(),
            log.display().to_string(),
        ]
    }

    /// The counts the plugin logged, one per inference.
    pub fn read_counts(&self, log: &Path) -> Result<Vec<u64>> {
        let text = std::fs::read_to_string(log).with_context(|| format!("reading {}", log.display()))?;
        text.lines()
            .filter_map(|line| line.strip_prefix("lowbit-icount "))
            .map(|n| n.trim().parse().with_context(|| format!("bad plugin line in {}", log.display())))
            .collect()
    }
}

//! Building the board firmware (`firmware/app`, its own cargo workspace).

use std::{
    ffi::OsString,
    fmt,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result, bail};

use crate::{
    board::{Board, BoardKind},
    command::CargoCommand,
};

/// How the image reaches the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The runner writes the image into the board's image region.
    Loaded,
    /// The image file is built into the firmware.
    Embedded {
        /// The image to embed.
        image: PathBuf,
    },
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Loaded => "loaded",
            Mode::Embedded { .. } => "embedded",
        })
    }
}

/// What the compiler optimizes the firmware for: the cargo profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Optimize {
    /// `release`: `opt-level = 3`, the fastest kernels.
    #[default]
    Speed,
    /// `release-size`: `opt-level = "s"`, the smallest runtime (the example
    /// CNN's runtime code a quarter smaller on thumbv7em for 10 % more
    /// instructions; 2.4 to 4.5 times the instructions on cores without
    /// the DSP extension).
    Size,
}

impl Optimize {
    /// The cargo profile, which is also its directory under `target/<triple>`.
    fn profile(self) -> &'static str {
        match self {
            Optimize::Speed => "release",
            Optimize::Size => "release-size",
        }
    }
}

/// A built firmware ELF, copied out of cargo's target directory so that
/// later builds for other boards do not overwrite it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfPath(pub PathBuf);

/// `firmware/app` under the repository root.
pub fn firmware_dir(root: &Path) -> PathBuf {
    root.join("firmware/app")
}

/// The firmware features for `board`: logging/exit backend plus the board's own.
fn features(board: &Board, mode: &Mode) -> Result<Vec<String>> {
    let backend = match board.kind {
        BoardKind::Qemu => "semihosting",
        BoardKind::Probe => "rtt",
        BoardKind::Fpga => bail!("board {}: FPGA boards have no MCU firmware yet", board.name),
    };
    let mut features = vec![backend.to_string()];
    if matches!(mode, Mode::Embedded { .. }) {
        features.push("embedded".into());
    }
    features.extend(board.features.iter().cloned());
    Ok(features)
}

/// Builds the release firmware for `board` in `mode`; returns the ELF's path.
pub fn build_firmware(root: &Path, board: &Board, mode: &Mode) -> Result<ElfPath> {
    build_firmware_with(root, board, mode, &[])
}

/// [`build_firmware`] with extra firmware features (e.g. `selftest-panic`)
/// and every kernel family of the runtime.
pub fn build_firmware_with(root: &Path, board: &Board, mode: &Mode, extra_features: &[&str]) -> Result<ElfPath> {
    let mut features = vec!["all-ops"];
    features.extend(extra_features);
    build_firmware_kernels(root, board, mode, &features)
}

/// The runtime's optional features (kernel families, Gemm weight paths)
/// that a firmware for `board` needs to run the program `lbm`, as
/// `Model::features` names them.
pub fn model_features(board: &Board, lbm: &[u8]) -> Result<Vec<&'static str>> {
    let model = lowbit_runtime::Model::from_bytes(lbm).context("reading the program")?;
    // `lowbit-arch` takes its DSP path on Armv7E-M (`thumbv7em-*`).
    let dsp = board.target.triple().starts_with("thumbv7em");
    Ok(model.features(dsp).context("listing the program's kernels")?.into_iter().collect())
}

/// [`build_firmware`] for `mode` running the program `lbm`: an embedded
/// image gets the program compiled in (runtime feature `compiled`, the
/// source [`compile`] writes next to the image) with only the runtime
/// features it needs on `board` ([`model_features`]); if the runtime
/// refuses the program, every kernel and the parser instead, so that the
/// device reports why. A loaded-mode firmware gets every kernel.
pub fn build_firmware_for(root: &Path, board: &Board, mode: &Mode, lbm: &[u8], optimize: Optimize) -> Result<ElfPath> {
    match (mode, model_features(board, lbm)) {
        (Mode::Embedded { image }, Ok(_)) => build_compiled(root, board, image, lbm, optimize),
        _ => build(root, board, mode, &["all-ops"], None, optimize),
    }
}

/// The production firmware for `board` with the program `lbm` compiled in
/// (the source [`compile`] writes next to `image`, whose inputs it embeds)
/// and only the runtime features the program needs there.
pub fn build_compiled(root: &Path, board: &Board, image: &Path, lbm: &[u8], optimize: Optimize) -> Result<ElfPath> {
    let mut features = model_features(board, lbm)?;
    let source = compile(lbm, &image.with_extension("rs"))?;
    features.push("compiled");
    let mode = Mode::Embedded { image: image.to_path_buf() };
    build(root, board, &mode, &features, Some(&source), optimize)
}

/// Writes the program `lbm` as Rust source for the runtime feature
/// `compiled` to `path`; returns the path.
pub fn compile(lbm: &[u8], path: &Path) -> Result<PathBuf> {
    let model = lowbit_runtime::Model::from_bytes(lbm).context("reading the program")?;
    let source = model.to_rust().context("writing the program as Rust")?;
    std::fs::write(path, source).with_context(|| format!("writing {}", path.display()))?;
    std::path::absolute(path).context("resolving the compiled program's path")
}

/// [`build_firmware`] with exactly the given extra features: the runtime's
/// optional kernel families among them (`all-ops`, `lut`, ...) are the only
/// ones built in.
pub fn build_firmware_kernels(root: &Path, board: &Board, mode: &Mode, extra_features: &[&str]) -> Result<ElfPath> {
    build(root, board, mode, extra_features, None, Optimize::Speed)
}

/// [`build_firmware_kernels`] with, for the feature `compiled`, the
/// program's Rust source, optimized for `optimize`.
fn build(
    root: &Path,
    board: &Board,
    mode: &Mode,
    extra_features: &[&str],
    compiled: Option<&Path>,
    optimize: Optimize,
) -> Result<ElfPath> {
    let dir = firmware_dir(root);
    let target = board.target.triple();
    let mut env: Vec<(&'static str, OsString)> = vec![("LOWBIT_BOARD", board.file.clone().into())];
    if let Mode::Embedded { image } = mode {
        let image = std::path::absolute(image).context("resolving the image path")?;
        env.push(("LOWBIT_IMAGE", image.into()));
    }
    if let Some(source) = compiled {
        env.push(("LOWBIT_COMPILED", source.into()));
    }
    let mut features = features(board, mode)?;
    features.extend(extra_features.iter().map(|f| f.to_string()));
    let profile = optimize.profile();
    let cargo = CargoCommand::BuildFirmware { dir: &dir, target, profile, features, env };
    cargo.command().run().with_context(|| format!("building the firmware for {}", board.name))?;

    let built = dir.join("target").join(target).join(profile).join("lowbit-firmware");
    let out_dir = dir.join("target/lowbit");
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let mut suffix: String = extra_features.iter().map(|f| format!("-{f}")).collect();
    if let Mode::Embedded { image } = mode {
        suffix += &format!("-{}", image.file_stem().unwrap_or_default().to_string_lossy());
    }
    if optimize == Optimize::Size {
        suffix += "-size";
    }
    let elf = out_dir.join(format!("{}-{mode}{suffix}.elf", board.name));
    std::fs::copy(&built, &elf).with_context(|| format!("copying {} to {}", built.display(), elf.display()))?;
    Ok(ElfPath(elf))
}

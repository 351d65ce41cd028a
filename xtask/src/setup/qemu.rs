//! QEMU 10 from bookworm-backports.
//!
//! The backports source is derived at run time from the machine's own Debian
//! source entry (`/etc/apt/sources.list.d/debian.sources`, deb822): the
//! stanza that lists `bookworm` is copied with `Suites: bookworm-backports`,
//! so no mirror is ever written into the repository.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::command::ExternalCommand;

/// Debian's source list on this machine.
const DEBIAN_SOURCES: &str = "/etc/apt/sources.list.d/debian.sources";
/// The source file this step writes.
const BACKPORTS_SOURCES: &str = "/etc/apt/sources.list.d/bookworm-backports.sources";
/// The packages holding `qemu-system-arm` and `qemu-system-riscv32`.
const PACKAGES: [&str; 2] = ["qemu-system-arm", "qemu-system-riscv"];
/// The emulators the smoke runs need.
const BINARIES: [&str; 2] = ["qemu-system-arm", "qemu-system-riscv32"];
/// The oldest QEMU major version accepted.
const MIN_MAJOR: u32 = 10;

/// Installs QEMU unless both emulators of version 10+ are present.
pub fn ensure() -> Result<()> {
    if let Ok(versions) = BINARIES.iter().map(|b| version(b)).collect::<Result<Vec<_>>>()
        && versions.iter().all(|&major| major >= MIN_MAJOR)
    {
        eprintln!("QEMU {} present", versions[0]);
        return Ok(());
    }
    add_backports()?;
    let bar = super::spinner("apt-get install QEMU from bookworm-backports (about 10 s on a fast mirror)");
    let result = apt_update().and_then(|()| {
        ExternalCommand::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-q", "--no-install-recommends", "-t", "bookworm-backports"])
            .args(PACKAGES)
            .output()
    });
    bar.finish_and_clear();
    result?;
    for binary in BINARIES {
        let major = version(binary)?;
        if major < MIN_MAJOR {
            bail!("{binary} is version {major} after the install, expected {MIN_MAJOR}+");
        }
    }
    Ok(())
}

/// The major version `binary --version` reports.
fn version(binary: &str) -> Result<u32> {
    let output = ExternalCommand::new(binary).args(["--version"]).output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text
        .split_whitespace()
        .skip_while(|w| *w != "version")
        .nth(1)
        .with_context(|| format!("unexpected `{binary} --version` output: {text}"))?;
    version.split('.').next().unwrap_or_default().parse().with_context(|| format!("bad version {version}"))
}

/// `apt-get update`.
fn apt_update() -> Result<()> {
    ExternalCommand::new("apt-get").args(["update", "-q"]).output().map(drop)
}

/// Writes the backports source (once) from the machine's Debian entry.
fn add_backports() -> Result<()> {
    if Path::new(BACKPORTS_SOURCES).exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(DEBIAN_SOURCES).with_context(|| format!("reading {DEBIAN_SOURCES}"))?;
    let stanza =
        backports_stanza(&text).with_context(|| format!("{DEBIAN_SOURCES} has no stanza with `Suites: bookworm`"))?;
    std::fs::write(BACKPORTS_SOURCES, stanza).with_context(|| format!("writing {BACKPORTS_SOURCES}"))
}

/// The deb822 stanza of `sources` that lists the `bookworm` suite, with its
/// suites replaced by `bookworm-backports`.
fn backports_stanza(sources: &str) -> Option<String> {
    sources.split("\n\n").find_map(|stanza| {
        let mut found = false;
        let lines: Vec<String> = stanza
            .lines()
            .map(|line| match line.strip_prefix("Suites:") {
                Some(suites) if suites.split_whitespace().any(|s| s == "bookworm") => {
                    found = true;
                    "Suites: bookworm-backports".to_string()
                }
                _ => line.to_string(),
            })
            .collect();
        found.then(|| lines.join("\n") + "\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_the_bookworm_stanza_with_the_suite_changed() {
        let sources = "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n\
                       Components: main\n\nTypes: deb\nURIs: http://mirror.example/debian-security\n\
                       Suites: bookworm-security\nComponents: main\n";
        let stanza = backports_stanza(sources).unwrap();
        assert_eq!(
            stanza,
            "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm-backports\nComponents: main\n"
        );
        assert_eq!(backports_stanza("Suites: trixie\n"), None);
    }
}

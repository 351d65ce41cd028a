//! External commands: each is described by a value that displays as the
//! shell line it runs, so logs and error messages show what to re-run.

use std::{
    ffi::OsString,
    fmt,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use anyhow::{Context, Result, bail};

/// A program, its arguments, environment overrides and working directory.
#[derive(Debug, Clone)]
pub struct ExternalCommand {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(String, OsString)>,
    cwd: Option<PathBuf>,
}

impl ExternalCommand {
    /// `program` with no arguments.
    pub fn new(program: impl Into<OsString>) -> Self {
        ExternalCommand { program: program.into(), args: Vec::new(), env: Vec::new(), cwd: None }
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.env.push((key.to_string(), value.into()));
        self
    }

    /// Runs in `dir`.
    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    /// The `std` command.
    pub fn to_command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        cmd
    }

    /// Runs with inherited stdio; fails unless it exits with 0.
    pub fn run(&self) -> Result<()> {
        let status = self.to_command().status().with_context(|| format!("starting `{self}`"))?;
        if !status.success() {
            bail!("`{self}` failed ({status})");
        }
        Ok(())
    }

    /// Runs capturing stdout and stderr; fails unless it exits with 0.
    pub fn output(&self) -> Result<Output> {
        let output = self.to_command().stdin(Stdio::null()).output().with_context(|| format!("starting `{self}`"))?;
        if !output.status.success() {
            bail!(
                "`{self}` failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(output)
    }
}

impl fmt::Display for ExternalCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(dir) = &self.cwd {
            write!(f, "cd {} && ", dir.display())?;
        }
        for (key, value) in &self.env {
            write!(f, "{key}={} ", value.to_string_lossy())?;
        }
        write!(f, "{}", self.program.to_string_lossy())?;
        for arg in &self.args {
            write!(f, " {}", arg.to_string_lossy())?;
        }
        Ok(())
    }
}

/// The cargo invocations xtask makes.
pub enum CargoCommand<'a> {
    /// `cargo build` of the board firmware (in its own workspace).
    BuildFirmware {
        /// `firmware/app`.
        dir: &'a Path,
        /// Rust target triple.
        target: &'a str,
        /// Cargo profile (`release`, `release-size`).
        profile: &'a str,
        /// Cargo features (default features are off).
        features: Vec<String>,
        /// Environment for `build.rs` (`LOWBIT_BOARD`, `LOWBIT_IMAGE`).
        env: Vec<(&'static str, OsString)>,
    },
    /// `cargo build -p <package> --target <target>` in the root workspace.
    CrossBuild {
        /// Package.
        package: &'a str,
        /// Rust target triple.
        target: &'a str,
    },
    /// `cargo test` in the root workspace.
    Test {
        /// `--workspace --exclude xtask`, or `-p <package>`.
        selection: Vec<&'a str>,
        /// Environment (`LOWBIT_PYTHON`, `ORT_DYLIB_PATH`).
        env: Vec<(&'static str, OsString)>,
    },
    /// `cargo test` of a crate in another workspace, by manifest path.
    TestManifest {
        /// The crate's `Cargo.toml`.
        manifest: PathBuf,
        /// Features to enable.
        features: &'a str,
    },
    /// `cargo build --release` of a standalone crate by manifest path.
    BuildManifest {
        /// The crate's `Cargo.toml`.
        manifest: PathBuf,
        /// Where its build goes.
        target_dir: PathBuf,
    },
}

impl CargoCommand<'_> {
    /// The command line.
    pub fn command(&self) -> ExternalCommand {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let cmd = ExternalCommand::new(cargo);
        match self {
            CargoCommand::BuildFirmware { dir, target, profile, features, env } => {
                let mut cmd = cmd.current_dir(dir).args(["build", "--quiet", "--profile", profile, "--target", target]);
                cmd = cmd.args(["--no-default-features", "--features", &features.join(",")]);
                for (key, value) in env {
                    cmd = cmd.env(key, value.clone());
                }
                cmd
            }
            CargoCommand::CrossBuild { package, target } => cmd.args(["build", "-p", package, "--target", target]),
            CargoCommand::Test { selection, env } => {
                let mut cmd = cmd.args(["test"]).args(selection.iter().copied());
                for (key, value) in env {
                    cmd = cmd.env(key, value.clone());
                }
                cmd
            }
            CargoCommand::TestManifest { manifest, features } => {
                cmd.args(["test", "--features", features, "--manifest-path"]).args([manifest])
            }
            CargoCommand::BuildManifest { manifest, target_dir } => cmd
                .args(["build", "--quiet", "--release", "--manifest-path"])
                .args([manifest.as_os_str(), "--target-dir".as_ref(), target_dir.as_os_str()]),
        }
    }
}

impl fmt::Display for CargoCommand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.command().fmt(f)
    }
}

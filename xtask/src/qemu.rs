//! Running firmware under QEMU with deterministic instruction counting.
//!
//! QEMU runs with `-icount shift=0` (one instruction = 1 ns of virtual time),
//! semihosting on (the firmware's defmt stream arrives on QEMU's stdout and
//! its exit status becomes QEMU's), and no display, serial or monitor, so
//! stdout carries nothing but defmt frames. Every run has a wall-clock timeout.

use std::{
    fmt,
    io::Read,
    path::{Path, PathBuf},
    process::{Child, Stdio},
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, Result};

use crate::{
    board::Board,
    command::ExternalCommand,
    decode::{DecodedFrame, decode_stream},
    elf::Elf,
    firmware::ElfPath,
    plugin::IcountPlugin,
    records::{ExitStatus, Records},
};

/// A file QEMU writes into guest memory before reset (`-device loader`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoaderBlob {
    /// The file.
    pub file: PathBuf,
    /// Guest physical address.
    pub addr: u64,
}

impl LoaderBlob {
    /// QEMU's generic loader refuses files larger than the machine's RAM
    /// (16 KiB on sifive_e): bigger files are split into parts of this size.
    const PART: usize = 8 * 1024;

    /// The blobs that write `file` at `addr`: the file itself, or parts of
    /// it (`<file>.part<N>`, written next to it) at consecutive addresses.
    pub fn split(file: &Path, addr: u64) -> Result<Vec<LoaderBlob>> {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        if bytes.len() <= Self::PART {
            return Ok(vec![LoaderBlob { file: file.to_path_buf(), addr }]);
        }
        let mut blobs = Vec::new();
        for (i, part) in bytes.chunks(Self::PART).enumerate() {
            let mut name = file.as_os_str().to_owned();
            name.push(format!(".part{i}"));
            let path = PathBuf::from(name);
            std::fs::write(&path, part).with_context(|| format!("writing {}", path.display()))?;
            blobs.push(LoaderBlob { file: path, addr: addr + (i * Self::PART) as u64 });
        }
        Ok(blobs)
    }
}

/// How a QEMU run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// QEMU exited with this code (the firmware's status under semihosting).
    Exited(i32),
    /// QEMU was killed by a signal.
    Signaled,
    /// The timeout expired and QEMU was killed.
    TimedOut,
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Exited(code) => match ExitStatus::from_code(*code) {
                Some(status) => write!(f, "exit {code} ({status:?})"),
                None => write!(f, "exit {code}"),
            },
            Ending::Signaled => f.write_str("killed by a signal"),
            Ending::TimedOut => f.write_str("timed out"),
        }
    }
}

/// What one run produced.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// How QEMU ended.
    pub ending: Ending,
    /// Every decoded defmt frame.
    pub frames: Vec<DecodedFrame>,
    /// The records among them.
    pub records: Records,
    /// Exact instruction counts between the markers, one per inference (plugin).
    pub instructions: Vec<u64>,
    /// QEMU's stderr (its own diagnostics).
    pub stderr: String,
    /// The command that ran.
    pub command: String,
}

impl RunResult {
    /// The defmt frames as text lines (`LEVEL message`).
    pub fn defmt_lines(&self) -> Vec<String> {
        self.frames.iter().map(|f| format!("{:<5} {}", f.level.to_uppercase(), f.message)).collect()
    }

    /// `what`, followed by the command, the last defmt lines and the
    /// runner's stderr: an error message people can act on.
    pub fn explain(&self, what: impl fmt::Display) -> String {
        const SHOWN: usize = 12;
        let mut text = format!("{what}\n  command: {}\n  defmt:", self.command);
        let lines = self.defmt_lines();
        if lines.len() > SHOWN {
            text += &format!("\n    … {} earlier lines", lines.len() - SHOWN);
        }
        for line in &lines[lines.len().saturating_sub(SHOWN)..] {
            text += &format!("\n    {line}");
        }
        if !self.stderr.trim().is_empty() {
            text += &format!("\n  stderr: {}", self.stderr.trim());
        }
        text
    }

    /// The exit status the run ended with, if it is one the firmware defines.
    pub fn status(&self) -> Option<ExitStatus> {
        match self.ending {
            Ending::Exited(code) => ExitStatus::from_code(code),
            _ => None,
        }
    }
}

/// The QEMU command line for `board` running `elf`.
pub fn qemu_command(
    board: &Board,
    elf: &Path,
    blobs: &[LoaderBlob],
    plugin: Option<(&IcountPlugin, &Path)>,
) -> Result<ExternalCommand> {
    let qemu = board.qemu()?;
    let mut cmd = ExternalCommand::new(board.target.arch().qemu_system())
        .args(["-M", &qemu.machine, "-cpu", &qemu.cpu])
        .args(["-display", "none", "-monitor", "none", "-serial", "none"])
        .args(["-icount", "shift=0,align=off", "-semihosting-config", "enable=on,target=native"])
        .args(&qemu.extra_args)
        .args(["-kernel".into(), elf.as_os_str().to_owned()]);
    for blob in blobs {
        cmd = cmd.args(["-device".to_string(), format!("loader,file={},addr={:#x}", blob.file.display(), blob.addr)]);
    }
    if let Some((plugin, log)) = plugin {
        cmd = cmd.args(plugin.qemu_args(log));
    }
    Ok(cmd)
}

/// Runs `elf` on `board` under QEMU and decodes what it reported.
///
/// With `plugin`, the TCG plugin counts the instructions executed between the
/// firmware's markers (`lowbit_inference_start`/`_end`).
pub fn run_qemu(
    board: &Board,
    elf: &ElfPath,
    blobs: &[LoaderBlob],
    timeout: Duration,
    plugin: Option<&IcountPlugin>,
) -> Result<RunResult> {
    let elf_file = Elf::read(&elf.0)?;
    let plugin_log = elf.0.with_extension("icount.log");
    let plugin = match plugin {
        Some(p) => Some((p.configured(&elf_file)?, plugin_log.as_path())),
        None => None,
    };
    let cmd = qemu_command(board, &elf.0, blobs, plugin.as_ref().map(|(p, log)| (p, *log)))?;
    let child = cmd
        .to_command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting `{cmd}` (is QEMU installed? `cargo xtask setup --qemu`)"))?;
    let (ending, stdout, stderr) = wait_with_timeout(child, timeout)?;
    let frames = decode_stream(elf_file.bytes(), &stdout).with_context(|| format!("decoding the output of `{cmd}`"))?;
    let records = Records::parse(&frames)?;
    let instructions = match &plugin {
        Some((p, log)) => p.read_counts(log)?,
        None => Vec::new(),
    };
    Ok(RunResult {
        ending,
        frames,
        records,
        instructions,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        command: cmd.to_string(),
    })
}

/// Waits for `child`, killing it after `timeout`; returns its stdout and stderr.
fn wait_with_timeout(mut child: Child, timeout: Duration) -> Result<(Ending, Vec<u8>, Vec<u8>)> {
    let mut stdout = child.stdout.take().context("no stdout pipe")?;
    let mut stderr = child.stderr.take().context("no stderr pipe")?;
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).map(|_| buf)
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        stderr.read_to_end(&mut buf).map(|_| buf)
    });
    let deadline = Instant::now() + timeout;
    let ending = loop {
        if let Some(status) = child.try_wait().context("waiting for QEMU")? {
            break status.code().map_or(Ending::Signaled, Ending::Exited);
        }
        if Instant::now() >= deadline {
            child.kill().context("killing QEMU after the timeout")?;
            child.wait().context("reaping QEMU")?;
            break Ending::TimedOut;
        }
        thread::sleep(Duration::from_millis(5));
    };
    let stdout = out_reader.join().expect("stdout reader panicked").context("reading QEMU's stdout")?;
    let stderr = err_reader.join().expect("stderr reader panicked").context("reading QEMU's stderr")?;
    Ok((ending, stdout, stderr))
}

//! Probe boards through the probe-rs library: flash the firmware (and, in
//! loaded mode, the image into the board's image region), reset, read the
//! defmt stream over RTT until the core stops on its final breakpoint or the
//! timeout expires, and decode it like a QEMU run.
//!
//! The firmware (feature `rtt`) announces its status in `lowbit.exit` and
//! then halts on a breakpoint, so the run's ending is that record's status.

use std::{
    path::Path,
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use probe_rs::{
    Permissions,
    flashing::{FormatKind, build_loader},
    probe::{DebugProbeInfo, list::Lister},
    rtt::Rtt,
};

use crate::{
    board::Board,
    decode::decode_stream,
    elf::Elf,
    firmware::ElfPath,
    qemu::{Ending, RunResult},
    records::Records,
};

/// The RTT control block's symbol (defmt-rtt).
const RTT_SYMBOL: &str = "_SEGGER_RTT";

/// The debug probes attached to this machine.
pub fn attached() -> Vec<DebugProbeInfo> {
    Lister::new().list_all()
}

/// The error for a probe board when no probe is attached.
pub fn missing(board: &Board) -> anyhow::Error {
    anyhow::anyhow!(
        "board {} needs a debug probe, and probe-rs finds none on this machine: connect the board \
         (USB, with its on-board or an external probe) and retry, or use --build-only",
        board.name
    )
}

/// Flashes and runs `elf` (plus `image` in loaded mode) on the probe board
/// `board`, returning the decoded records.
pub fn run(board: &Board, elf: &ElfPath, image: Option<&Path>, timeout: Duration) -> Result<RunResult> {
    let chip = &board.probe.as_ref().with_context(|| format!("board {} has no [probe] section", board.name))?.chip;
    let probes = attached();
    let info = probes.first().ok_or_else(|| missing(board))?;
    let probe = info.open().with_context(|| format!("opening probe {}", info.identifier))?;
    let mut session =
        probe.attach(chip.as_str(), Permissions::default()).with_context(|| format!("attaching to {chip}"))?;
    let mut loader = build_loader(&mut session, &elf.0, FormatKind::Elf.into(), None)
        .with_context(|| format!("preparing {} for flashing", elf.0.display()))?;
    if let Some(image) = image {
        let bytes = std::fs::read(image).with_context(|| format!("reading {}", image.display()))?;
        loader.add_data(board.memory.image.origin, &bytes).context("adding the image to the flash plan")?;
    }
    loader.commit(&mut session, Default::default()).context("flashing")?;

    let elf_file = Elf::read(&elf.0)?;
    let rtt_at = elf_file.symbol(RTT_SYMBOL)?;
    let mut core = session.core(0).context("opening core 0")?;
    core.reset().context("resetting the core")?;
    let deadline = Instant::now() + timeout;
    let mut rtt = loop {
        match Rtt::attach_at(&mut core, rtt_at) {
            Ok(rtt) => break rtt,
            Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            Err(error) => return Err(error).context("attaching to RTT"),
        }
    };
    let mut stream = Vec::new();
    let mut buf = [0u8; 4096];
    let ending = loop {
        let channel = rtt.up_channel(0).context("the firmware has no RTT up channel 0")?;
        let n = channel.read(&mut core, &mut buf).context("reading RTT")?;
        stream.extend_from_slice(&buf[..n]);
        if n == 0 && core.core_halted().context("reading the core status")? {
            break None;
        }
        if Instant::now() >= deadline {
            break Some(Ending::TimedOut);
        }
        if n == 0 {
            thread::sleep(Duration::from_millis(5));
        }
    };
    let frames = decode_stream(elf_file.bytes(), &stream).context("decoding the RTT stream")?;
    let records = Records::parse(&frames)?;
    let ending = match (ending, records.exit) {
        (Some(timed_out), _) => timed_out,
        (None, Some(status)) => Ending::Exited(i32::from(status)),
        (None, None) => bail!("the core halted without a lowbit.exit record"),
    };
    let command = format!("probe-rs: {} on {} via {}", elf.0.display(), chip, info.identifier);
    Ok(RunResult { ending, frames, records, instructions: Vec::new(), stderr: String::new(), command })
}

//! One device run of a program: the image, the run (QEMU or probe), and the
//! checks every caller shares: a clean exit, one record per input, outputs
//! consistent with their checksums, and bit-exact parity with the host.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, Result, bail, ensure};
use lowbit_image::{Image, crc32};

use crate::{
    board::{Board, BoardKind},
    firmware::{ElfPath, Mode},
    model::{Facts, Inputs, Program, output_value},
    plugin::IcountPlugin,
    probe,
    qemu::{LoaderBlob, RunResult, run_qemu},
    records::{ExitStatus, Run},
};

/// The image for `program` and `inputs` (header + `.lbm` + inputs).
pub fn image(program: &Program, inputs: &Inputs, facts: Option<&Facts>) -> Vec<u8> {
    let input_len = facts.map_or(0, |f| f.input_len) as u32;
    Image { model: &program.lbm, inputs: &inputs.bytes, input_len, input_count: inputs.count as u32 }.to_bytes()
}

/// Writes `bytes` to `dir/name`.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// How a run is carried out.
#[derive(Clone, Copy)]
pub struct Runner<'a> {
    /// The instruction-count plugin (QEMU boards).
    pub plugin: Option<&'a IcountPlugin>,
    /// Wall-clock limit of one run.
    pub timeout: Duration,
}

impl Runner<'_> {
    /// Runs `elf` on `board`; in loaded mode the image at `image` is written
    /// into the board's image region first.
    pub fn run(&self, board: &Board, elf: &ElfPath, mode: &Mode, image: &Path) -> Result<RunResult> {
        let loaded = *mode == Mode::Loaded;
        match board.kind {
            BoardKind::Qemu => {
                let blobs = if loaded { LoaderBlob::split(image, board.memory.image.origin)? } else { Vec::new() };
                run_qemu(board, elf, &blobs, self.timeout, self.plugin)
            }
            BoardKind::Probe => probe::run(board, elf, loaded.then_some(image), self.timeout),
            BoardKind::Fpga => bail!("board {}: FPGA boards run no MCU firmware", board.name),
        }
    }
}

/// A run that ended with a failure status of the firmware: `deploy` exits
/// with the same code, so scripts see the firmware's distinct statuses.
#[derive(Debug)]
pub struct DeviceExit {
    /// The firmware's exit status.
    pub status: ExitStatus,
    /// What happened, with the decoded log.
    pub message: String,
}

impl std::fmt::Display for DeviceExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeviceExit {}

/// Checks that `result` is a clean run of `inputs` inferences and returns
/// its `lowbit.run` records.
pub fn expect_success<'r>(result: &'r RunResult, facts: &Facts, inputs: usize) -> Result<&'r [Run]> {
    let explain = |what: String| result.explain(what);
    match result.status() {
        Some(ExitStatus::Success) => {}
        Some(status) => {
            let message = explain(format!("{} instead of exit 0 (Success)", result.ending));
            return Err(DeviceExit { status, message }.into());
        }
        None => bail!(explain(format!("{} instead of exit 0 (Success)", result.ending))),
    }
    let records = &result.records;
    ensure!(records.boot.is_some(), explain("no lowbit.boot record".into()));
    let runs = &records.runs;
    ensure!(runs.len() == inputs, explain(format!("{} lowbit.run records for {inputs} inputs", runs.len())));
    for (i, run) in runs.iter().enumerate() {
        ensure!(run.index as usize == i, explain(format!("record {i} has index {}", run.index)));
        ensure!(
            run.output.len() == facts.output_len,
            explain(format!("inference {i}: {} output bytes, the model has {}", run.output.len(), facts.output_len))
        );
        ensure!(
            crc32(&run.output) == run.checksum,
            explain(format!("inference {i}: the output does not match its checksum {:#010x}", run.checksum))
        );
    }
    if !result.instructions.is_empty() || result.command.contains("-plugin") {
        ensure!(
            result.instructions.len() == inputs,
            explain(format!("the plugin counted {} inferences, {inputs} ran", result.instructions.len()))
        );
    }
    Ok(runs)
}

/// Device outputs against the host runtime's, integer by integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parity {
    /// Integers compared.
    pub values: usize,
    /// Integers that differ.
    pub mismatched: usize,
    /// The first difference: inference, position, device value, host value.
    pub first: Option<(usize, usize, i64, i64)>,
}

impl Parity {
    /// Compares every output of `runs` with `reference` (`run_lbm`'s integers, input after input).
    pub fn compare(runs: &[Run], reference: &[i64], facts: &Facts) -> Parity {
        let mut parity = Parity { values: 0, mismatched: 0, first: None };
        let expected = reference.chunks(facts.output_len.max(1));
        for (i, (run, expected)) in runs.iter().zip(expected).enumerate() {
            for (j, (&byte, &host)) in run.output.iter().zip(expected).enumerate() {
                let device = output_value(byte, &facts.output_quant);
                parity.values += 1;
                if device != host {
                    parity.mismatched += 1;
                    parity.first.get_or_insert((i, j, device, host));
                }
            }
        }
        let missing = reference.len().saturating_sub(parity.values);
        parity.mismatched += missing;
        parity.values += missing;
        parity
    }

    /// Whether every integer matched.
    pub fn exact(&self) -> bool {
        self.mismatched == 0 && self.values > 0
    }

    /// `bit-exact (N values)` or the first difference.
    pub fn verdict(&self) -> String {
        match self.first {
            _ if self.exact() => format!("bit-exact ({} integers)", self.values),
            Some((i, j, d, h)) => format!(
                "MISMATCH: {} of {} integers differ (first: input {i}, output {j}: device {d}, host {h})",
                self.mismatched, self.values
            ),
            None => format!("MISMATCH: {} of {} integers missing", self.mismatched, self.values),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lowbit_runtime::TensorQuant;

    fn run(output: Vec<u8>) -> Run {
        Run { index: 0, counter_delta: 0, checksum: crc32(&output), output }
    }

    #[test]
    fn parity_reads_signed_bytes_and_names_the_first_difference() {
        let quant = TensorQuant { scale: 1.0, zero_point: 0, bits: 8, signed: true };
        let facts = Facts {
            input_len: 1,
            output_len: 2,
            arena: 4,
            input_quant: quant,
            output_quant: quant,
            output_shape: vec![2],
        };
        let same = Parity::compare(&[run(vec![255, 3])], &[-1, 3], &facts);
        assert!(same.exact(), "{}", same.verdict());
        let differ = Parity::compare(&[run(vec![255, 3]), run(vec![0, 0])], &[-1, 3, 0, 1], &facts);
        assert_eq!(differ.first, Some((1, 1, 0, 1)));
        let missing = Parity::compare(&[run(vec![255, 3])], &[-1, 3, 0, 1], &facts);
        assert!(!missing.exact() && missing.mismatched == 2);
    }
}

//! The failure paths `hil` checks: each must end with its own exit status and
//! a decoded defmt error, within the timeout.
//!
//! | run                                   | board              | status        |
//! |---------------------------------------|--------------------|---------------|
//! | `.lbm` with a flipped byte            | qemu-mps2-an386    | BadModel      |
//! | `.lbm` stating a 64 MiB arena (CRC resealed) | qemu-mps2-an386 | ArenaTooSmall |
//! | firmware built with `selftest-panic`  | qemu-mps2-an386    | Panic         |
//! | firmware built with `selftest-fault`  | qemu-mps2-an386, qemu-sifive-e | Fault |
//!
//! plus the production image (embedded mode) of the example on the smallest
//! board, which must be bit-exact like a loaded run.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use lowbit_image::crc32;

use crate::{
    board::{Board, Boards},
    catalog::{Case, Prepared},
    cli::DEFAULT_BOARD,
    device::{self, Parity, Runner},
    firmware::{Mode, Optimize, build_firmware_for, build_firmware_with},
    model::Program,
    records::ExitStatus,
    report::Outcomes,
};

/// A RISC-V board for the fault self-test (its trap handler differs).
const RISCV_BOARD: &str = "qemu-sifive-e";
/// The smallest QEMU board, for the embedded-mode run.
const SMALL_BOARD: &str = "qemu-microbit";
/// The model the failure paths use, if present (else the first prepared one).
const PREFERRED_MODEL: &str = "digits_cnn";
/// Offsets in the `.lbm` header (docs/lbm-format.md).
const LBM_CRC: usize = 8;
const LBM_ARENA: usize = 16;

/// Runs every failure path into `outcomes`.
pub fn run(root: &Path, boards: &Boards, cases: &[Case], runner: &Runner<'_>, outcomes: &mut Outcomes) -> Result<()> {
    let ready = cases.iter().filter_map(|c| match c {
        Case::Ready(p) => Some(p.as_ref()),
        Case::Skipped { .. } => None,
    });
    let preferred = ready.clone().find(|p| p.program.name == PREFERRED_MODEL);
    let Some(prepared) = preferred.or(ready.clone().next()) else {
        return outcomes.step("failure paths", || bail!("no model could be prepared"));
    };
    let (board, riscv, small) = (boards.get(DEFAULT_BOARD)?, boards.get(RISCV_BOARD)?, boards.get(SMALL_BOARD)?);
    let work = root.join("target/lowbit-hil/failures");
    let one = prepared.inputs.first(1, &prepared.facts)?;
    let image_of = |lbm: Vec<u8>| {
        let program = Program { lbm, ..prepared.program.clone() };
        device::image(&program, &one, Some(&prepared.facts))
    };
    let good = device::write(&work, "good.lbi", &image_of(prepared.program.lbm.clone()))?;
    let corrupted = device::write(&work, "corrupted.lbi", &image_of(corrupt(&prepared.program.lbm)))?;
    let huge = device::write(&work, "huge-arena.lbi", &image_of(with_arena(&prepared.program.lbm, 64 << 20)))?;
    let failures = [
        (board, &corrupted, None, ExitStatus::BadModel, "lowbit.error model"),
        (board, &huge, None, ExitStatus::ArenaTooSmall, "lowbit.error arena too small"),
        (board, &good, Some("selftest-panic"), ExitStatus::Panic, "lowbit.panic"),
        (board, &good, Some("selftest-fault"), ExitStatus::Fault, "lowbit.fault"),
        (riscv, &good, Some("selftest-fault"), ExitStatus::Fault, "lowbit.fault"),
    ];
    for (board, image, feature, status, error) in failures {
        let what = feature.map_or_else(|| image.file_name().unwrap_or_default().display().to_string(), str::to_string);
        outcomes.step(format!("{what} on {} -> {status:?}", board.name), || {
            expect_failure(root, board, image, feature, status, error, runner)
        })?;
    }
    outcomes.step(format!("embedded {} on {SMALL_BOARD}", prepared.program.name), || {
        embedded(root, small, prepared, &work, runner)
    })
}

/// `lbm` with one byte of its data flipped: the CRC no longer matches.
pub fn corrupt(lbm: &[u8]) -> Vec<u8> {
    let mut bytes = lbm.to_vec();
    let at = bytes.len().saturating_sub(5);
    if let Some(byte) = bytes.get_mut(at) {
        *byte ^= 0x5A;
    }
    bytes
}

/// `lbm` stating an arena of `arena` bytes, with its CRC recomputed.
fn with_arena(lbm: &[u8], arena: u32) -> Vec<u8> {
    let mut bytes = lbm.to_vec();
    bytes[LBM_ARENA..LBM_ARENA + 4].copy_from_slice(&arena.to_le_bytes());
    bytes[LBM_CRC..LBM_CRC + 4].fill(0);
    let crc = crc32(&bytes);
    bytes[LBM_CRC..LBM_CRC + 4].copy_from_slice(&crc.to_le_bytes());
    bytes
}

/// A loaded run (of a firmware built with `feature`) that must end with
/// `status` and log an error starting with `error`.
fn expect_failure(
    root: &Path,
    board: &Board,
    image: &Path,
    feature: Option<&str>,
    status: ExitStatus,
    error: &str,
    runner: &Runner<'_>,
) -> Result<()> {
    let elf = build_firmware_with(root, board, &Mode::Loaded, &Vec::from_iter(feature))?;
    let result = Runner { plugin: None, ..*runner }.run(board, &elf, &Mode::Loaded, image)?;
    ensure!(result.status() == Some(status), result.explain(format!("{} instead of {status:?}", result.ending)));
    let logged = result.records.errors.iter().find(|e| e.starts_with(error));
    let logged = logged.with_context(|| result.explain(format!("no decoded `{error}…` message")))?;
    eprintln!("    {} as expected: {logged}", result.ending);
    Ok(())
}

/// The production image of `prepared` on `board`: bit-exact like a loaded run.
fn embedded(root: &Path, board: &Board, prepared: &Prepared, work: &Path, runner: &Runner<'_>) -> Result<()> {
    let image = device::image(&prepared.program, &prepared.inputs, Some(&prepared.facts));
    let path = device::write(work, &format!("{}.lbi", prepared.program.name), &image)?;
    let mode = Mode::Embedded { image: path.clone() };
    let elf = build_firmware_for(root, board, &mode, &prepared.program.lbm, Optimize::Speed)?;
    let result = runner.run(board, &elf, &mode, &path)?;
    let runs = device::expect_success(&result, &prepared.facts, prepared.inputs.count)?;
    let parity = Parity::compare(runs, &prepared.reference, &prepared.facts);
    ensure!(parity.exact(), parity.verdict());
    let arena = result.records.model.map(|m| (m.arena_needed, m.arena_available));
    eprintln!("    {} (arena needed/available {arena:?})", parity.verdict());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resealed_model_states_the_new_arena_and_the_corrupted_one_fails_its_crc() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let program = Program::load(&root.join("examples/digits_cnn/model.onnx")).unwrap();
        let (huge, corrupted) = (with_arena(&program.lbm, 1 << 20), corrupt(&program.lbm));
        assert_eq!(lowbit_runtime::Model::from_bytes(&huge).unwrap().arena_size(), 1 << 20);
        let refused = lowbit_runtime::Model::from_bytes(&corrupted);
        assert!(matches!(refused, Err(lowbit_runtime::Error::CrcMismatch { .. })));
    }
}

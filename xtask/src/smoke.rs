//! `cargo xtask smoke`: build the firmware per board, run it under QEMU and
//! check it against the host (later: `hil`).

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{Context, Result, bail, ensure};

use crate::{
    board::{Board, BoardKind, Boards},
    cli::{ModeArg, SmokeArgs},
    elf::Elf,
    firmware::{ElfPath, Mode, build_firmware, build_firmware_with},
    plugin::IcountPlugin,
    qemu::{Ending, LoaderBlob, RunResult, run_qemu},
    records::ExitStatus,
    report::{Outcomes, print_table},
    workload::{self, Expected},
};

/// The board the negative runs use.
const DEFAULT_BOARD: &str = "qemu-mps2-an386";
/// A RISC-V board for the fault self-test (its trap handler differs).
const RISCV_BOARD: &str = "qemu-sifive-e";

/// Table columns.
const HEADERS: [&str; 10] =
    ["board", "mode", "result", "instructions", "counter", "flash", "RAM", "arena free", "build", "run"];

/// Runs the smoke task.
pub fn run(root: &Path, args: &SmokeArgs) -> Result<()> {
    let boards = Boards::load(root)?;
    let selected = boards.select(&args.board)?;
    let work = root.join("target/lowbit-smoke");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let image = write(&work, "smoke.lbi", &workload::image())?;
    let runs_qemu = !args.build_only && selected.iter().any(|b| b.kind == BoardKind::Qemu);
    let plugin = if runs_qemu { Some(IcountPlugin::build(root)?) } else { None };
    let ctx = Smoke { root, args, expected: workload::expected()?, plugin: plugin.as_ref() };

    let mut outcomes = Outcomes::new(false);
    let mut rows = Vec::new();
    for board in &selected {
        let mode = match args.mode {
            ModeArg::Loaded => Mode::Loaded,
            ModeArg::Embedded => Mode::Embedded { image: image.clone() },
        };
        outcomes.step(format!("smoke {} ({mode})", board.name), || {
            let row = ctx.smoke_board(board, &mode, &image);
            rows.push(row.as_ref().map_or_else(|e| failed_row(board, &mode, e), |r| r.clone()));
            row.map(drop)
        })?;
    }
    if runs_qemu && !args.no_negative {
        let board = boards.get(DEFAULT_BOARD)?;
        let corrupted = write(&work, "corrupted.lbi", &workload::corrupted_image())?;
        let huge = write(&work, "huge-arena.lbi", &workload::image_with_arena(64 << 20))?;
        let riscv = boards.get(RISCV_BOARD)?;
        let cases = [
            (board, &corrupted, None, ExitStatus::BadModel, "lowbit.error image"),
            (board, &huge, None, ExitStatus::ArenaTooSmall, "lowbit.error arena too small"),
            (board, &image, Some("selftest-panic"), ExitStatus::Panic, "lowbit.panic"),
            (board, &image, Some("selftest-fault"), ExitStatus::Fault, "lowbit.fault"),
            (riscv, &image, Some("selftest-fault"), ExitStatus::Fault, "lowbit.fault"),
        ];
        for (board, image, feature, status, error) in cases {
            let what =
                feature.map_or_else(|| image.file_name().unwrap_or_default().display().to_string(), str::to_string);
            outcomes.step(format!("{what} on {} -> {status:?}", board.name), || {
                ctx.expect_failure(board, image, feature, status, error)
            })?;
        }
        if args.mode == ModeArg::Loaded {
            let mode = Mode::Embedded { image: image.clone() };
            outcomes.step(format!("smoke {DEFAULT_BOARD} (embedded)"), || {
                let row = ctx.smoke_board(board, &mode, &image);
                rows.push(row.as_ref().map_or_else(|e| failed_row(board, &mode, e), |r| r.clone()));
                row.map(drop)
            })?;
        }
    }
    println!();
    print_table(&HEADERS, &rows);
    outcomes.finish()
}

/// Writes `bytes` to `dir/name`.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The table row of a board that failed.
fn failed_row(board: &Board, mode: &Mode, error: &anyhow::Error) -> Vec<String> {
    let mut row = vec![board.name.clone(), mode.to_string(), "FAIL".into()];
    row.push(format!("{error}").lines().next().unwrap_or_default().chars().take(60).collect());
    row.resize(HEADERS.len(), String::new());
    row
}

/// What every board's smoke run shares.
struct Smoke<'a> {
    root: &'a Path,
    args: &'a SmokeArgs,
    expected: Expected,
    plugin: Option<&'a IcountPlugin>,
}

impl Smoke<'_> {
    /// Builds for `board`; on QEMU boards runs twice and checks; returns the table row.
    fn smoke_board(&self, board: &Board, mode: &Mode, image: &Path) -> Result<Vec<String>> {
        let started = Instant::now();
        let elf = build_firmware(self.root, board, mode)?;
        let build_time = started.elapsed().as_secs_f64();
        let footprint = Elf::read(&elf.0)?.footprint(board.memory.ram);
        let mut row = vec![board.name.clone(), mode.to_string()];
        let sizes = [format!("{} B", footprint.flash), format!("{} B", footprint.ram)];
        if board.kind != BoardKind::Qemu || self.args.build_only {
            if !self.args.build_only {
                bail!(
                    "board {} ({}) needs a debug probe: running on hardware (probe-rs) is not built in yet; use --build-only",
                    board.name,
                    board.kind
                );
            }
            row.extend(["built".into(), String::new(), String::new()]);
            row.extend(sizes);
            row.extend([String::new(), format!("{build_time:.1} s"), String::new()]);
            return Ok(row);
        }
        let blobs = self.blobs(board, mode, image);
        let started = Instant::now();
        let first = self.run_checked(board, &elf, &blobs)?;
        let second = self.run_checked(board, &elf, &blobs)?;
        let run_time = started.elapsed().as_secs_f64() / 2.0;
        ensure!(first == second, "counts differ between two runs: {first:?} vs {second:?}");
        let (instructions, counter, arena) = first;
        row.extend(["ok".into(), instructions, counter]);
        row.extend(sizes);
        row.push(format!("{arena} B"));
        row.extend([format!("{build_time:.1} s"), format!("{run_time:.2} s")]);
        Ok(row)
    }

    /// The loader blobs for `mode`: the image at the board's image region.
    fn blobs(&self, board: &Board, mode: &Mode, image: &Path) -> Vec<LoaderBlob> {
        match mode {
            Mode::Loaded => vec![LoaderBlob { file: image.to_path_buf(), addr: board.memory.image.origin }],
            Mode::Embedded { .. } => Vec::new(),
        }
    }

    /// One QEMU run that must succeed with the expected outputs; returns the
    /// plugin counts and the on-chip counter deltas, formatted, and the arena
    /// the board offered.
    fn run_checked(&self, board: &Board, elf: &ElfPath, blobs: &[LoaderBlob]) -> Result<(String, String, u32)> {
        let result = run_qemu(board, elf, blobs, self.args.timeout(), self.plugin)?;
        let explain = |what: String| explain(&result, what);
        if result.ending != Ending::Exited(ExitStatus::Success.code()) {
            bail!(explain(format!("{} instead of exit 0", result.ending)));
        }
        let records = &result.records;
        let boot = records.boot.as_ref().with_context(|| explain("no lowbit.boot record".into()))?;
        ensure!(boot.board == board.name, explain(format!("firmware reports board {}", boot.board)));
        ensure!(records.runs.len() == workload::RUNS as usize, explain("wrong number of lowbit.run records".into()));
        for run in &records.runs {
            ensure!(
                run.checksum == self.expected.checksum,
                explain(format!(
                    "inference {}: checksum {:#010x}, host computed {:#010x}",
                    run.index, run.checksum, self.expected.checksum
                ))
            );
        }
        ensure!(
            records.output.as_ref() == Some(&self.expected.output),
            explain("output differs from the host's".into())
        );
        ensure!(
            result.instructions.len() == records.runs.len(),
            explain(format!(
                "plugin reported {} counts for {} inferences",
                result.instructions.len(),
                records.runs.len()
            ))
        );
        let instructions = join(result.instructions.iter());
        let deltas = join(records.runs.iter().map(|r| &r.counter_delta));
        let counter = match boot.counter.as_str() {
            // icount shift=0: 1 instruction = 1 ns, one tick = 1e9 / clock_hz ns.
            "systick" => {
                let per_tick = 1e9 / board.clock_hz as f64;
                let approx = records.runs.first().map_or(0.0, |r| r.counter_delta as f64 * per_tick);
                format!("systick {deltas} (x{per_tick:.1} = {approx:.0})")
            }
            other => format!("{other} {deltas}"),
        };
        let arena = records.model.map_or(0, |m| m.arena_available);
        Ok((instructions, counter, arena))
    }

    /// A run (of a firmware built with `feature`) that must end with
    /// `status` and log an error starting with `error`.
    fn expect_failure(
        &self,
        board: &Board,
        image: &Path,
        feature: Option<&str>,
        status: ExitStatus,
        error: &str,
    ) -> Result<()> {
        let elf = build_firmware_with(self.root, board, &Mode::Loaded, &Vec::from_iter(feature))?;
        let blobs = self.blobs(board, &Mode::Loaded, image);
        let result = run_qemu(board, &elf, &blobs, self.args.timeout(), None)?;
        let explain = |what: String| explain(&result, what);
        ensure!(
            result.ending == Ending::Exited(status.code()),
            explain(format!("{} instead of {status:?}", result.ending))
        );
        let logged = result.records.errors.iter().find(|e| e.starts_with(error));
        let logged = logged.with_context(|| explain(format!("no decoded `{error}…` message")))?;
        eprintln!("    {} as expected: {logged}", result.ending);
        Ok(())
    }
}

/// Values joined with `/`.
fn join<T: ToString>(values: impl Iterator<Item = T>) -> String {
    values.map(|v| v.to_string()).collect::<Vec<_>>().join("/")
}

/// `what`, followed by the command, its defmt log and QEMU's stderr.
fn explain(result: &RunResult, what: String) -> String {
    let mut text = format!("{what}\n  command: {}\n  defmt:", result.command);
    for line in result.defmt_lines() {
        text += &format!("\n    {line}");
    }
    if !result.stderr.trim().is_empty() {
        text += &format!("\n  qemu stderr: {}", result.stderr.trim());
    }
    text
}

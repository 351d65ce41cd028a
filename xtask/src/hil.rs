//! `cargo xtask hil`: every board × every model that fits it, with bit-exact
//! parity of every output integer between the device and the host runtime.
//!
//! Models are prepared once on the host ([`catalog`]); each board gets one
//! loaded-mode firmware build, and each model that fits (checked against the
//! firmware's exact free RAM and the image region, before running) runs in
//! one QEMU invocation over all its inputs. Models that do not lower or do
//! not fit are listed as skipped with the reason. On the boards of
//! [`COMPILED_BOARDS`], every model also runs compiled into its own
//! production firmware (rows `… (compiled)`). Then the failure paths
//! ([`failures`]) and a summary table, also written to
//! `target/lowbit-bench/hil-<board>.{md,json}`.

use std::{path::Path, time::Instant};

use anyhow::{Result, bail};
use serde::Serialize;

use crate::{
    board::{Board, BoardKind, Boards},
    catalog::{self, Case, Prepared, argmax},
    cli::{HilArgs, seconds},
    device::{self, Parity, Runner},
    elf::Elf,
    failures,
    firmware::{ElfPath, Mode, Optimize, build_compiled, build_firmware},
    fit::{self, Needs, Offer},
    kernel_checks,
    model::output_value,
    plugin::IcountPlugin,
    probe,
    report::{Outcomes, table, write_results},
};

/// Boards on which every model also runs compiled into the firmware (the
/// DSP kernels and a RISC-V core): one firmware build per model.
const COMPILED_BOARDS: [&str; 2] = ["qemu-mps2-an386", "qemu-sifive-e"];

/// Table columns.
const HEADERS: [&str; 9] =
    ["board", "model", "inputs", "result", "instructions/inference", "stack", "arena", "ORT argmax", "run"];

/// One board × model outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Board.
    pub board: String,
    /// Model.
    pub model: String,
    /// Inferences run.
    pub inputs: usize,
    /// `ok`, `MISMATCH`, `FAILED`, `skipped` or `built`.
    pub result: String,
    /// Parity verdict, skip reason or error.
    pub detail: String,
    /// Instructions per inference (plugin), min and max over the inputs.
    pub instructions: Option<(u64, u64)>,
    /// Stack high-water mark, bytes.
    pub stack: Option<u32>,
    /// Arena needed / available, bytes.
    pub arena: Option<(u32, u32)>,
    /// Inputs whose predicted class equals ONNX Runtime's, and the total.
    pub ort_agreement: Option<(usize, usize)>,
    /// Seconds the run took.
    pub seconds: f64,
}

impl Row {
    /// A row with only the identifying fields and a result.
    fn new(board: &Board, model: &str, result: &str, detail: String) -> Row {
        Row {
            board: board.name.clone(),
            model: model.into(),
            inputs: 0,
            result: result.into(),
            detail,
            instructions: None,
            stack: None,
            arena: None,
            ort_agreement: None,
            seconds: 0.0,
        }
    }

    /// The table cells.
    fn cells(&self) -> Vec<String> {
        let result = match self.result.as_str() {
            "ok" => format!("ok, {}", self.detail),
            _ => format!("{}: {}", self.result, self.detail.lines().next().unwrap_or_default()),
        };
        let instructions = match self.instructions {
            Some((lo, hi)) if lo == hi => lo.to_string(),
            Some((lo, hi)) => format!("{lo}–{hi}"),
            None => String::new(),
        };
        vec![
            self.board.clone(),
            self.model.clone(),
            if self.inputs > 0 { self.inputs.to_string() } else { String::new() },
            result,
            instructions,
            self.stack.map_or_else(String::new, |s| format!("{s} B")),
            self.arena.map_or_else(String::new, |(n, a)| format!("{n} / {a} B")),
            self.ort_agreement.map_or_else(String::new, |(same, n)| format!("{same}/{n}")),
            if self.seconds > 0.0 { format!("{:.2} s", self.seconds) } else { String::new() },
        ]
    }

    /// Whether this row is a failure.
    fn failed(&self) -> bool {
        matches!(self.result.as_str(), "MISMATCH" | "FAILED")
    }
}

/// Runs the hil task.
pub fn run(root: &Path, args: &HilArgs) -> Result<()> {
    let started = Instant::now();
    let boards = Boards::load(root)?;
    let selected = boards.select(&args.board)?;
    let dirs = if args.models.is_empty() { catalog::default_dirs(root) } else { args.models.clone() };
    let entries = catalog::discover(&dirs, args.filter.as_deref())?;
    eprintln!("preparing {} models on the host (lowering, inputs, host runtime)", entries.len());
    let mut cases: Vec<Case> = entries.iter().map(catalog::prepare).collect();
    // Kernel paths the models miss, unless other model directories were asked for.
    if args.models.is_empty() {
        cases.extend(kernel_checks::cases(args.filter.as_deref())?);
    }
    let runs_qemu = !args.build_only && selected.iter().any(|b| b.kind == BoardKind::Qemu);
    let plugin = if runs_qemu { Some(IcountPlugin::build(root)?) } else { None };
    let hil = Hil { root, args, runner: Runner { plugin: plugin.as_ref(), timeout: seconds(args.timeout) } };

    let mut outcomes = Outcomes::new(false);
    let mut rows = Vec::new();
    for board in &selected {
        outcomes.step(format!("hil {} ({} models)", board.name, cases.len()), || {
            let board_rows = hil.board(board, &cases)?;
            let failed: Vec<String> =
                board_rows.iter().filter(|r| r.failed()).map(|r| format!("{}: {}", r.model, r.detail)).collect();
            rows.extend(board_rows);
            if failed.is_empty() { Ok(()) } else { bail!("{} failed:\n{}", failed.len(), failed.join("\n")) }
        })?;
    }
    if runs_qemu && !args.no_negative {
        failures::run(root, &boards, &cases, &hil.runner, &mut outcomes)?;
    }
    let markdown = table(&HEADERS, &rows.iter().map(Row::cells).collect::<Vec<_>>());
    println!("\n{markdown}");
    let ran = rows.iter().filter(|r| r.result == "ok").count();
    let skipped = rows.iter().filter(|r| r.result == "skipped").count();
    let failed = rows.iter().filter(|r| r.failed()).count();
    let summary = format!(
        "{ran} runs bit-exact, {failed} failed, {skipped} skipped, {:.0} s in all",
        started.elapsed().as_secs_f64()
    );
    println!("{summary}");
    let name = format!("hil-{}", args.board);
    let md = write_results(
        root,
        &name,
        &format!("lowbit hil --board {}", args.board),
        &format!("{markdown}\n{summary}\n"),
        &rows,
    )?;
    eprintln!("results: {}", md.display());
    outcomes.finish()
}

/// What every board's run shares.
struct Hil<'a> {
    root: &'a Path,
    args: &'a HilArgs,
    runner: Runner<'a>,
}

impl Hil<'_> {
    /// Builds `board`'s loaded firmware and runs every case on it.
    fn board(&self, board: &Board, cases: &[Case]) -> Result<Vec<Row>> {
        let elf = build_firmware(self.root, board, &Mode::Loaded)?;
        if self.args.build_only {
            return Ok(vec![Row::new(board, "(firmware)", "built", "loaded mode, build only".into())]);
        }
        if board.kind == BoardKind::Probe && probe::attached().is_empty() {
            let why = format!("no debug probe attached ({})", probe::missing(board));
            return Ok(vec![Row::new(board, "(all)", "skipped", why)]);
        }
        let offer = Offer::from_firmware(board, &Elf::read(&elf.0)?)?;
        let compiled = board.kind == BoardKind::Qemu && COMPILED_BOARDS.contains(&board.name.as_str());
        let mut rows = Vec::new();
        for case in cases {
            let row = match case {
                Case::Skipped { name, reason } => Row::new(board, name, "skipped", reason.clone()),
                Case::Ready(prepared) => self.model(board, Some(&elf), offer, prepared),
            };
            eprintln!("  {:<34} {}", row.model, row.cells()[3]);
            rows.push(row);
            if let (true, Case::Ready(prepared)) = (compiled, case) {
                // The loaded firmware's free RAM is a lower bound of a
                // compiled one's (no parser, no plan slots).
                let row = self.model(board, None, offer, prepared);
                eprintln!("  {:<34} {}", row.model, row.cells()[3]);
                rows.push(row);
            }
        }
        Ok(rows)
    }

    /// Runs one prepared model on `board` (if it fits) and checks it: on
    /// the loaded firmware `elf`, or compiled into its own (`None`).
    fn model(&self, board: &Board, elf: Option<&ElfPath>, offer: Offer, prepared: &Prepared) -> Row {
        let name = match elf {
            Some(_) => prepared.program.name.clone(),
            None => format!("{} (compiled)", prepared.program.name),
        };
        let image = device::image(&prepared.program, &prepared.inputs, Some(&prepared.facts));
        if let Err(misfit) = fit::check(board, Needs::new(&prepared.facts, image.len()), offer) {
            return Row::new(board, &name, "skipped", misfit.to_string());
        }
        let started = Instant::now();
        let mut row = match self.run_model(board, elf, prepared, &image) {
            Ok(row) => row,
            Err(error) => Row::new(board, &name, "FAILED", format!("{error:#}")),
        };
        row.model = name;
        row.inputs = prepared.inputs.count;
        row.seconds = started.elapsed().as_secs_f64();
        row
    }

    /// Runs and checks; an `Err` is a failed run, a mismatch is in the row.
    fn run_model(&self, board: &Board, elf: Option<&ElfPath>, prepared: &Prepared, image: &[u8]) -> Result<Row> {
        let name = &prepared.program.name;
        let work = self.root.join("target/lowbit-hil").join(&board.name);
        let path = device::write(&work, &format!("{name}.lbi"), image)?;
        let (mode, built);
        let elf = match elf {
            Some(elf) => {
                mode = Mode::Loaded;
                elf
            }
            None => {
                mode = Mode::Embedded { image: path.clone() };
                built = build_compiled(self.root, board, &path, &prepared.program.lbm, Optimize::Speed)?;
                &built
            }
        };
        let result = self.runner.run(board, elf, &mode, &path)?;
        let runs = device::expect_success(&result, &prepared.facts, prepared.inputs.count)?;
        let parity = Parity::compare(runs, &prepared.reference, &prepared.facts);
        let ort_agreement = prepared.ort_classes.as_ref().map(|classes| {
            let same = runs.iter().zip(classes).filter(|(run, class)| predicted(run, prepared) == **class).count();
            (same, classes.len())
        });
        let agrees = ort_agreement.is_none_or(|(same, n)| same == n && n == runs.len());
        let mut row = Row::new(board, name, if parity.exact() && agrees { "ok" } else { "MISMATCH" }, parity.verdict());
        if !agrees {
            row.detail += "; predictions differ from ONNX Runtime's";
        }
        let counts = &result.instructions;
        row.instructions = counts.iter().min().zip(counts.iter().max()).map(|(lo, hi)| (*lo, *hi));
        row.stack = result.records.stack.map(|s| s.used);
        row.arena = result.records.model.map(|m| (m.arena_needed, m.arena_available));
        row.ort_agreement = ort_agreement;
        Ok(row)
    }
}

/// The class a device output predicts (first largest integer).
fn predicted(run: &crate::records::Run, prepared: &Prepared) -> usize {
    let values: Vec<i64> = run.output.iter().map(|&b| output_value(b, &prepared.facts.output_quant)).collect();
    argmax(&values)
}

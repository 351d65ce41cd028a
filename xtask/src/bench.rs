//! `cargo xtask bench`: deterministic instructions per inference, and flash
//! and RAM, per model and board.
//!
//! Each model is built into the production image (embedded mode: the `.lbm`
//! in `.rodata`, a static arena of exactly the model's size in `.bss`) and
//! run under QEMU (`-icount shift=0`) twice, with the same input twice per
//! run. The TCG plugin counts the instructions between the inference markers;
//! all four counts must be equal, or the bench fails. Flash is `.text` +
//! `.rodata` (+ `.data` initial values), RAM is `.data` + `.bss` + the stack
//! high-water mark. Results: printed and written to
//! `target/lowbit-bench/bench.{md,json}`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::Serialize;

use crate::{
    board::{Board, BoardKind, Boards},
    catalog::{self, Entry},
    cli::{BenchArgs, EXAMPLE_MODEL, seconds},
    device::{self, Parity, Runner},
    elf::{Elf, Sections},
    firmware::{Mode, Optimize, build_firmware_for},
    fit::{self, Needs, Offer},
    plugin::IcountPlugin,
    report::{Outcomes, table, write_results},
};

/// The corpus model benchmarked by default (relative to the corpus directory).
const DIGITS_MLP: &str = "qcdq_digits_mlp/model.onnx";
/// Inferences per run (the same input each time).
const RUNS_PER_IMAGE: usize = 2;

/// Table columns.
const HEADERS: [&str; 11] = [
    "model",
    "board",
    "instructions/inference",
    "on-chip counter",
    ".text",
    ".rodata",
    ".data",
    ".bss",
    "stack",
    "flash",
    "RAM",
];

/// One model on one board.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Model.
    pub model: String,
    /// Board.
    pub board: String,
    /// Instructions per inference (TCG plugin, exact).
    pub instructions: u64,
    /// The on-chip counter's name and delta for the first inference.
    pub counter: (String, u64),
    /// Section sizes of the production image.
    pub sections: Sections,
    /// Stack high-water mark in bytes.
    pub stack: u32,
    /// Flash bytes (`.text` + `.rodata` + `.data`).
    pub flash: u64,
    /// RAM bytes (`.data` + `.bss` + stack high-water mark).
    pub ram: u64,
}

impl Row {
    fn cells(&self) -> Vec<String> {
        let s = &self.sections;
        vec![
            self.model.clone(),
            self.board.clone(),
            self.instructions.to_string(),
            format!("{} {}", self.counter.0, self.counter.1),
            s.text.to_string(),
            s.rodata.to_string(),
            s.data.to_string(),
            s.bss.to_string(),
            self.stack.to_string(),
            self.flash.to_string(),
            self.ram.to_string(),
        ]
    }
}

/// Runs the bench task.
pub fn run(root: &Path, args: &BenchArgs) -> Result<()> {
    if args.layers {
        return crate::layer_bench::run(root, args);
    }
    let boards = Boards::load(root)?;
    let which = args.board.as_deref().unwrap_or("qemu");
    let selected: Vec<&Board> = boards.select(which)?.into_iter().filter(|b| b.kind == BoardKind::Qemu).collect();
    ensure!(!selected.is_empty(), "bench runs on QEMU boards; {which} names none");
    let models: Vec<PathBuf> = if args.models.is_empty() {
        vec![catalog::corpus_dir(root).join(DIGITS_MLP), root.join(EXAMPLE_MODEL)]
    } else {
        args.models.clone()
    };
    let plugin = IcountPlugin::build(root)?;
    let runner = Runner { plugin: Some(&plugin), timeout: seconds(args.timeout) };
    let mut outcomes = Outcomes::new(false);
    let mut rows = Vec::new();
    for model in &models {
        let prepared = catalog::prepare_entry(&Entry::for_model(model))
            .with_context(|| format!("preparing {}", model.display()))?;
        let inputs = prepared.inputs.first_repeated(RUNS_PER_IMAGE, &prepared.facts)?;
        let reference = crate::model::reference(&prepared.program, &inputs)?;
        let image = device::image(&prepared.program, &inputs, Some(&prepared.facts));
        let name = &prepared.program.name;
        for board in &selected {
            outcomes.step(format!("bench {name} on {}", board.name), || {
                fit::check(board, Needs::new(&prepared.facts, image.len()), Offer::from_board(board))?;
                let work = root.join("target/lowbit-bench/images").join(&board.name);
                let path = device::write(&work, &format!("{name}.lbi"), &image)?;
                let mode = Mode::Embedded { image: path.clone() };
                let elf = build_firmware_for(root, board, &mode, &prepared.program.lbm, Optimize::Speed)?;
                let sections = Elf::read(&elf.0)?.sections();
                let mut counts = Vec::new();
                let mut last = None;
                for _ in 0..2 {
                    let result = runner.run(board, &elf, &mode, &path)?;
                    let runs = device::expect_success(&result, &prepared.facts, inputs.count)?;
                    let parity = Parity::compare(runs, &reference, &prepared.facts);
                    ensure!(parity.exact(), parity.verdict());
                    counts.extend(result.instructions.iter().copied());
                    last = Some(result);
                }
                let result = last.context("no run")?;
                if counts.windows(2).any(|w| w[0] != w[1]) {
                    bail!("instruction counts differ between inferences or runs: {counts:?}");
                }
                let stack = result.records.stack.map_or(0, |s| s.used);
                let counter = match (&result.records.boot, result.records.runs.first()) {
                    (Some(boot), Some(run)) => (boot.counter.clone(), run.counter_delta),
                    _ => (String::new(), 0),
                };
                let row = Row {
                    model: name.clone(),
                    board: board.name.clone(),
                    instructions: counts[0],
                    counter,
                    sections,
                    stack,
                    flash: sections.flash(),
                    ram: sections.ram() + u64::from(stack),
                };
                eprintln!(
                    "    {} instructions/inference (4 equal counts), flash {} B, RAM {} B",
                    row.instructions, row.flash, row.ram
                );
                rows.push(row);
                Ok(())
            })?;
        }
    }
    let markdown = table(&HEADERS, &rows.iter().map(Row::cells).collect::<Vec<_>>());
    println!("\n{markdown}");
    let note = "Instructions: TCG plugin between the inference markers, QEMU `-icount shift=0`; equal over 2 runs × 2 \
                inferences. Sizes in bytes from the production (embedded-mode) ELF; flash = .text + .rodata + .data, \
                RAM = .data + .bss (arena included) + stack high-water mark.";
    let md = write_results(root, "bench", "lowbit bench", &format!("{markdown}\n{note}\n"), &rows)?;
    eprintln!("results: {}", md.display());
    outcomes.finish()
}

//! `cargo xtask bench --layers`: instructions per MAC of single layers on
//! the four reference cores, and of every example and corpus model.
//!
//! - **Layers** ([`layers`]): each variant (layer × weight bits ×
//!   activation type) is a one-op program run twice on the loaded-mode
//!   firmware built with `layer-bench`, whose markers enclose only
//!   `Plan::execute`. Both counts must be equal and the outputs bit-exact
//!   with the host runtime. Results: `target/lowbit-bench/layers.{md,json}`.
//! - **Models**: every example and corpus model on the normal loaded-mode
//!   firmware (markers around the whole `Plan::run`), first input twice.
//!   Results: `target/lowbit-bench/models.{md,json}`.
//! - **Runtime size**: `.text` of the `lowbit_runtime`/`lowbit_arch`
//!   functions in the layer firmware (which holds every kernel), and in two
//!   firmwares for the example CNN (conv, dense and pool layers) with only
//!   the optional runtime features it needs on that board (from
//!   `Model::features`: its kernel families and Gemm weight paths): a
//!   loaded one (parser, validator and plan on the device) and the
//!   production one with the CNN compiled in. Both run the CNN bit-exactly
//!   to prove they are complete, per board.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use serde::Serialize;

use crate::{
    board::{Board, BoardKind, Boards},
    catalog::{self, Case},
    cli::{BenchArgs, seconds},
    device::{self, Parity, Runner},
    elf::Elf,
    firmware::{
        ElfPath, Mode, Optimize, build_compiled, build_firmware, build_firmware_kernels, build_firmware_with,
        model_features,
    },
    fit::{self, Needs, Offer},
    layers::{SliceProgram, Variant, WeightKind},
    model::{Inputs, Program, reference},
    plugin::IcountPlugin,
    report::{Outcomes, table, write_results},
};

/// The boards of the layer table: Cortex-M4F, Cortex-M3, Cortex-M0, RV32IMAC.
pub const LAYER_BOARDS: [&str; 4] = ["qemu-mps2-an386", "qemu-mps2-an385", "qemu-microbit", "qemu-sifive-e"];
/// Inferences per run (the same input each time; their counts must agree).
const RUNS: usize = 2;
/// Slice counts tried, in order, until a layer fits the board's RAM.
const SLICES: [usize; 5] = [1, 2, 4, 8, 16];
/// The example model run on the conv + dense + pool build.
const CNN_EXAMPLE: &str = "digits_cnn";
/// The crates whose functions count as the runtime's code.
const RUNTIME_CRATES: [&str; 2] = ["lowbit_runtime", "lowbit_arch"];

/// One layer variant on one board (a `layers.json` entry).
#[derive(Debug, Clone, Serialize)]
pub struct LayerRow {
    /// Board.
    pub board: String,
    /// Layer name.
    pub layer: String,
    /// Bits per weight (1: bipolar).
    pub weight_bits: u8,
    /// Bits per activation value.
    pub act_bits: u8,
    /// `u8`, `i8` or `bipolar`.
    pub act_type: String,
    /// Multiply-accumulates of the layer.
    pub macs: u64,
    /// Instructions of `Plan::execute`, summed over the slices.
    pub instructions: u64,
    /// `instructions / macs`.
    pub instr_per_mac: f64,
    /// Programs the layer was split into to fit the board's RAM.
    pub slices: usize,
}

/// One model on one board (a `models.json` entry).
#[derive(Debug, Clone, Serialize)]
pub struct ModelRow {
    /// Board.
    pub board: String,
    /// Model name.
    pub model: String,
    /// Multiply-accumulates per inference (from the lowering report).
    pub macs: Option<u64>,
    /// Instructions of the whole `Plan::run`, or why it did not run.
    pub instructions: Result<u64, String>,
}

/// Code size of the runtime on one board.
#[derive(Debug, Clone, Serialize)]
pub struct SizeRow {
    /// Board.
    pub board: String,
    /// `.text` bytes of the runtime's functions (every kernel).
    pub runtime_text: u64,
    /// The loaded conv + dense + pool build.
    pub cnn: CnnBuild,
    /// The production build with the CNN compiled in.
    pub cnn_compiled: CnnBuild,
    /// The same optimized for size (`deploy --optimize size`).
    pub cnn_compiled_size: CnnBuild,
    /// `.text` of the whole layer firmware.
    pub firmware_text: u64,
}

/// A firmware for the example CNN with only the runtime features it needs.
#[derive(Debug, Clone, Serialize)]
pub struct CnnBuild {
    /// `.text` bytes of the runtime's functions.
    pub runtime_text: u64,
    /// The optional runtime features.
    pub features: Vec<&'static str>,
    /// Instructions of one inference (the markers around the whole run).
    pub instructions: u64,
}

/// Runs `bench --layers`.
pub fn run(root: &Path, args: &BenchArgs) -> Result<()> {
    let boards = Boards::load(root)?;
    let selected: Vec<&Board> = match &args.board {
        Some(which) => boards.select(which)?,
        None => LAYER_BOARDS.iter().map(|name| boards.get(name)).collect::<Result<_>>()?,
    };
    let selected: Vec<&Board> = selected.into_iter().filter(|b| b.kind == BoardKind::Qemu).collect();
    ensure!(!selected.is_empty(), "the layer bench runs on QEMU boards");
    let variants = Variant::all(&args.only)?;
    let plugin = IcountPlugin::build(root)?;
    let runner = Runner { plugin: Some(&plugin), timeout: seconds(args.timeout) };
    let mut outcomes = Outcomes::new(false);
    let (mut rows, mut sizes) = (Vec::new(), Vec::new());
    let cnn = catalog::example(root)?;
    for board in &selected {
        outcomes.step(format!("layers on {}", board.name), || {
            let [cnn_loaded, cnn_compiled, cnn_compiled_size] = cnn_builds(root, board, &cnn, &runner)?;
            let elf = build_firmware_with(root, board, &Mode::Loaded, &["layer-bench"])?;
            let file = Elf::read(&elf.0)?;
            let offer = Offer::from_firmware(board, &file)?;
            sizes.push(SizeRow {
                board: board.name.clone(),
                runtime_text: file.text_of(&RUNTIME_CRATES),
                cnn: cnn_loaded,
                cnn_compiled,
                cnn_compiled_size,
                firmware_text: file.sections().text,
            });
            let work = root.join("target/lowbit-bench/layers").join(&board.name);
            for variant in &variants {
                let row = measure(board, &elf, offer, variant, &runner, &work)
                    .with_context(|| format!("{} on {}", variant.label(), board.name))?;
                eprintln!(
                    "  {:<24} {:>9} instructions {:>7.3} /MAC{}",
                    variant.label(),
                    row.instructions,
                    row.instr_per_mac,
                    if row.slices > 1 { format!(" ({} slices)", row.slices) } else { String::new() }
                );
                rows.push(row);
            }
            Ok(())
        })?;
    }
    let mut markdown = String::new();
    for board in &selected {
        markdown += &format!("## {}\n\n{}\n", board.name, layer_table(&rows, &board.name));
    }
    markdown += &size_table(&sizes);
    markdown += "\nInstructions: TCG plugin around `Plan::execute` of a one-op program (firmware feature \
                 `layer-bench`), equal over two inferences, outputs bit-exact with the host runtime. Cells: \
                 instructions per MAC (`*`: the layer ran in channel slices to fit the board's RAM, counts \
                 summed). Runtime .text: functions of lowbit_runtime and lowbit_arch in that firmware (every \
                 kernel), and in two firmwares with only the optional runtime features the example CNN (conv + dense \
                 + pool) needs on that board (`Model::features`: kernel families and Gemm weight paths): loaded \
                 (parser, validator and plan on the device) and with the CNN compiled in (the production image), \
                 optimized for speed (opt-level 3) and for size (`deploy --optimize size`, opt-level \"s\"); all \
                 run the CNN bit-exactly.\n";
    println!("\n{markdown}");
    let md = write_results(root, "layers", "lowbit bench --layers", &markdown, &rows)?;
    eprintln!("results: {}", md.display());
    if !args.no_models {
        let models = models(root, &selected, &runner, &mut outcomes)?;
        let text = model_table(&models);
        println!("\n{text}");
        let md = write_results(root, "models", "lowbit bench --layers: whole models", &text, &models)?;
        eprintln!("results: {}", md.display());
    }
    outcomes.finish()
}

/// Builds the conv + dense + pool firmwares for `board` (the runtime
/// features the example CNN needs there): loaded, with the CNN compiled in,
/// and that optimized for size; runs the CNN on each (bit-exact, equal
/// counts).
fn cnn_builds(root: &Path, board: &Board, cnn: &catalog::Prepared, runner: &Runner<'_>) -> Result<[CnnBuild; 3]> {
    let features = model_features(board, &cnn.program.lbm)?;
    let work = root.join("target/lowbit-bench/cnn-build").join(&board.name);
    let loaded = build_firmware_kernels(root, board, &Mode::Loaded, &features)?;
    let offer = Offer::from_firmware(board, &Elf::read(&loaded.0)?)?;
    let firmwares =
        [Firmware::Loaded(&loaded), Firmware::Compiled(Optimize::Speed), Firmware::Compiled(Optimize::Size)];
    let mut builds = Vec::new();
    for firmware in firmwares {
        let (instructions, elf) = model_count(root, board, firmware, offer, cnn, runner, &work)
            .with_context(|| format!("{CNN_EXAMPLE} on the conv + dense + pool build ({firmware:?})"))?;
        let runtime_text = Elf::read(&elf.0)?.text_of(&RUNTIME_CRATES);
        builds.push(CnnBuild { runtime_text, features: features.clone(), instructions });
    }
    builds.try_into().map_err(|_| anyhow::anyhow!("three builds"))
}

/// Runs one variant on `board`, in as few slices as fit its RAM.
fn measure(
    board: &Board,
    elf: &ElfPath,
    offer: Offer,
    variant: &Variant,
    runner: &Runner<'_>,
    work: &Path,
) -> Result<LayerRow> {
    for slices in SLICES {
        let Some(programs) = variant.programs(slices)? else { continue };
        let fits = programs.iter().all(|p| {
            let program = Program { name: variant.label(), lbm: p.lbm.clone(), notes: Vec::new(), macs: None };
            program.facts().is_ok_and(|facts| {
                let image = device::image(&program, &inputs(p), Some(&facts));
                fit::check(board, Needs::new(&facts, image.len()), offer).is_ok()
            })
        });
        if !fits {
            continue;
        }
        let mut instructions = 0;
        for (i, p) in programs.iter().enumerate() {
            instructions += run_slice(board, elf, &format!("{}-{i}", variant.label()), p, runner, work)?;
        }
        let macs = variant.macs();
        ensure!(programs.iter().map(|p| p.macs).sum::<u64>() == macs, "the slices' MACs do not add up");
        return Ok(LayerRow {
            board: board.name.clone(),
            layer: variant.layer.name.into(),
            weight_bits: variant.weights.bits(),
            act_bits: variant.act.bits(),
            act_type: variant.act.name().into(),
            macs,
            instructions,
            instr_per_mac: instructions as f64 / macs as f64,
            slices,
        });
    }
    bail!("does not fit the board's free RAM ({} B) even in {} slices", offer.ram, SLICES[SLICES.len() - 1])
}

/// The device inputs of a slice program: its input, [`RUNS`] times.
fn inputs(p: &SliceProgram) -> Inputs {
    Inputs { tensor: p.inputs(RUNS), bytes: p.input_bytes(RUNS), count: RUNS }
}

/// Runs one program and checks it; returns its instruction count.
fn run_slice(
    board: &Board,
    elf: &ElfPath,
    name: &str,
    p: &SliceProgram,
    runner: &Runner<'_>,
    work: &Path,
) -> Result<u64> {
    let program = Program { name: name.into(), lbm: p.lbm.clone(), notes: Vec::new(), macs: None };
    let facts = program.facts().map_err(|e| anyhow::anyhow!("the runtime refuses the program: {e}"))?;
    let inputs = inputs(p);
    let path = device::write(work, &format!("{name}.lbi"), &device::image(&program, &inputs, Some(&facts)))?;
    let result = runner.run(board, elf, &Mode::Loaded, &path)?;
    let runs = device::expect_success(&result, &facts, RUNS)?;
    let parity = Parity::compare(runs, &reference(&program, &inputs)?, &facts);
    ensure!(parity.exact(), "{}", parity.verdict());
    let counts = &result.instructions;
    ensure!(counts.len() == RUNS && counts.windows(2).all(|w| w[0] == w[1]), "counts differ: {counts:?}");
    Ok(counts[0])
}

/// Every example and corpus model on every board (normal loaded firmware).
fn models(root: &Path, boards: &[&Board], runner: &Runner<'_>, outcomes: &mut Outcomes) -> Result<Vec<ModelRow>> {
    let entries = catalog::discover(&catalog::default_dirs(root), None)?;
    eprintln!("preparing {} models on the host", entries.len());
    let cases: Vec<Case> = entries.iter().map(catalog::prepare).collect();
    let mut rows = Vec::new();
    for board in boards {
        outcomes.step(format!("models on {}", board.name), || {
            let elf = build_firmware(root, board, &Mode::Loaded)?;
            let offer = Offer::from_firmware(board, &Elf::read(&elf.0)?)?;
            let work: PathBuf = root.join("target/lowbit-bench/models").join(&board.name);
            for case in &cases {
                let (name, macs, instructions) = match case {
                    Case::Skipped { name, reason } => (name.clone(), None, Err(reason.clone())),
                    Case::Ready(prepared) => {
                        let p = &prepared.program;
                        let counted = model_count(root, board, Firmware::Loaded(&elf), offer, prepared, runner, &work)
                            .map(|(count, _)| count);
                        (p.name.clone(), p.macs, counted.map_err(|e| format!("{e:#}")))
                    }
                };
                rows.push(ModelRow { board: board.name.clone(), model: name, macs, instructions });
            }
            Ok(())
        })?;
    }
    Ok(rows)
}

/// Where a model runs.
#[derive(Debug, Clone, Copy)]
enum Firmware<'e> {
    /// On this loaded-mode firmware.
    Loaded(&'e ElfPath),
    /// Compiled into a production firmware of its own.
    Compiled(Optimize),
}

/// Instructions of one model's first input on `board` (two equal runs), on
/// `firmware`; returns the firmware's ELF too.
fn model_count(
    root: &Path,
    board: &Board,
    firmware: Firmware<'_>,
    offer: Offer,
    prepared: &catalog::Prepared,
    runner: &Runner<'_>,
    work: &Path,
) -> Result<(u64, ElfPath)> {
    let inputs = prepared.inputs.first_repeated(RUNS, &prepared.facts)?;
    let image = device::image(&prepared.program, &inputs, Some(&prepared.facts));
    fit::check(board, Needs::new(&prepared.facts, image.len()), offer)?;
    let path = device::write(work, &format!("{}.lbi", prepared.program.name), &image)?;
    let (elf, mode) = match firmware {
        Firmware::Loaded(elf) => (elf.clone(), Mode::Loaded),
        Firmware::Compiled(optimize) => {
            let elf = build_compiled(root, board, &path, &prepared.program.lbm, optimize)?;
            (elf, Mode::Embedded { image: path.clone() })
        }
    };
    let result = runner.run(board, &elf, &mode, &path)?;
    let runs = device::expect_success(&result, &prepared.facts, RUNS)?;
    let parity = Parity::compare(runs, &reference(&prepared.program, &inputs)?, &prepared.facts);
    ensure!(parity.exact(), "{}", parity.verdict());
    let counts = &result.instructions;
    ensure!(counts.windows(2).all(|w| w[0] == w[1]), "counts differ: {counts:?}");
    Ok((*counts.first().context("no count")?, elf))
}

/// One board's layer table: a row per layer and activation type, a column per weight width.
fn layer_table(rows: &[LayerRow], board: &str) -> String {
    let headers = ["layer", "act", "MACs", "w8", "w4", "w2", "w1"];
    let mut cells = Vec::new();
    let mine: Vec<&LayerRow> = rows.iter().filter(|r| r.board == board).collect();
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for r in &mine {
        if !keys.contains(&(r.layer.as_str(), r.act_type.as_str())) {
            keys.push((&r.layer, &r.act_type));
        }
    }
    for (layer, act) in keys {
        let find = |bits: u8| {
            mine.iter()
                .find(|r| r.layer == layer && r.act_type == act && r.weight_bits == bits)
                .map_or_else(String::new, |r| format!("{:.3}{}", r.instr_per_mac, if r.slices > 1 { "*" } else { "" }))
        };
        let macs = mine.iter().find(|r| r.layer == layer).map_or(0, |r| r.macs);
        let mut row = vec![layer.to_string(), act.to_string(), macs.to_string()];
        row.extend(WeightKind::ALL.iter().map(|w| find(w.bits())));
        cells.push(row);
    }
    table(&headers, &cells)
}

/// The runtime size table.
fn size_table(sizes: &[SizeRow]) -> String {
    let cells: Vec<Vec<String>> = sizes
        .iter()
        .map(|s| {
            vec![
                s.board.clone(),
                s.runtime_text.to_string(),
                s.cnn.runtime_text.to_string(),
                s.cnn_compiled.runtime_text.to_string(),
                s.cnn_compiled_size.runtime_text.to_string(),
                s.cnn.features.join(", "),
                s.cnn.instructions.to_string(),
                s.cnn_compiled.instructions.to_string(),
                s.cnn_compiled_size.instructions.to_string(),
                s.firmware_text.to_string(),
            ]
        })
        .collect();
    let headers = [
        "board",
        "runtime .text (all kernels)",
        "runtime .text (conv+dense+pool)",
        "same, CNN compiled in",
        "compiled, --optimize size",
        "their optional features",
        "CNN instructions",
        "compiled",
        "compiled, size",
        "firmware .text (all kernels)",
    ];
    format!("## Runtime code size\n\n{}", table(&headers, &cells))
}

/// The whole-model table: a row per model, a column per board.
fn model_table(rows: &[ModelRow]) -> String {
    let mut boards: Vec<&str> = Vec::new();
    let mut models: Vec<&str> = Vec::new();
    for r in rows {
        if !boards.contains(&r.board.as_str()) {
            boards.push(&r.board);
        }
        if !models.contains(&r.model.as_str()) {
            models.push(&r.model);
        }
    }
    let mut headers = vec!["model", "MACs"];
    headers.extend(&boards);
    let cells: Vec<Vec<String>> = models
        .iter()
        .map(|&model| {
            let mine: Vec<&ModelRow> = rows.iter().filter(|r| r.model == model).collect();
            let macs = mine.iter().find_map(|r| r.macs);
            let mut row = vec![model.to_string(), macs.map_or_else(String::new, |m| m.to_string())];
            for &board in &boards {
                row.push(match mine.iter().find(|r| r.board == board).map(|r| &r.instructions) {
                    Some(Ok(n)) => match macs {
                        Some(m) if m > 0 => format!("{n} ({:.2}/MAC)", *n as f64 / m as f64),
                        _ => n.to_string(),
                    },
                    Some(Err(why)) => format!("— {}", why.split(':').next().unwrap_or_default()),
                    None => String::new(),
                });
            }
            row
        })
        .collect();
    format!(
        "{}\nInstructions per inference (the whole `Plan::run`, kernel arguments built once before the first input, or \
         `Model::run` for a model with more ops than the board's `plan_ops`; TCG plugin, loaded-mode firmware), first input; \
         in brackets per MAC of the lowering report.\n",
        table(&headers, &cells)
    )
}

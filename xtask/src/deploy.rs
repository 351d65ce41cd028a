//! `cargo xtask deploy`: lower a model, build the firmware for a board, run
//! it there, and print the outputs, the parity verdict against the host
//! runtime, the instructions (QEMU) or cycles (board) per inference, and the
//! flash and RAM the firmware uses.
//!
//! With no arguments it deploys the bundled example to qemu-mps2-an386,
//! installing the rustup target and QEMU first if they are missing. When the
//! firmware ends with a failure status, xtask exits with the same code.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use lowbit::ir::Tensor;

use crate::{
    board::{Board, BoardKind, Boards},
    cli::{DeployArgs, EXAMPLE_MODEL, ModeArg, seconds},
    device::{self, DeviceExit, Parity, Runner},
    elf::Elf,
    firmware::{Mode, build_firmware_for},
    fit::{self, Needs, Offer},
    model::{Facts, Inputs, Program, dequantize, output_value, reference},
    plugin::IcountPlugin,
    qemu::RunResult,
    records::{ExitStatus, Run},
    setup,
};

/// Inferences printed in full (all are checked).
const SHOWN: usize = 8;

/// Runs the deploy task.
pub fn run(root: &Path, args: &DeployArgs) -> Result<()> {
    let boards = Boards::load(root)?;
    let board = boards.get(&args.board)?;
    setup::ensure_for(board, args.build_only).context("installing what the board needs")?;
    let model = args.model.clone().unwrap_or_else(|| root.join(EXAMPLE_MODEL));
    let program = Program::load(&model)?;
    for note in &program.notes {
        eprintln!("note: {note}");
    }
    let facts = match program.facts() {
        Ok(facts) => Some(facts),
        Err(error) => {
            eprintln!("warning: the host runtime refuses {}: {error}; deploying it anyway", model.display());
            None
        }
    };
    let inputs = match &facts {
        Some(facts) => Some(inputs(&model, args.input.as_deref(), facts)?),
        None => None,
    };
    let image = match (&facts, &inputs) {
        (Some(facts), Some(inputs)) => device::image(&program, inputs, Some(facts)),
        _ => device::image(&program, &Inputs::empty(), None),
    };
    if let Some(facts) = &facts {
        println!(
            "model {}: {} B program, arena {} B, input {} B, output {} B; {} input(s)",
            program.name,
            program.lbm.len(),
            facts.arena,
            facts.input_len,
            facts.output_len,
            inputs.as_ref().map_or(0, |i| i.count)
        );
        fit::check(board, Needs::new(facts, image.len()), Offer::from_board(board))
            .with_context(|| format!("refusing to build {} for {}", program.name, board.name))?;
    }
    let work = root.join("target/lowbit-deploy");
    let image_path = device::write(&work, &format!("{}.lbi", program.name), &image)?;
    let mode = match args.mode {
        ModeArg::Embedded => Mode::Embedded { image: image_path.clone() },
        ModeArg::Loaded => Mode::Loaded,
    };
    let elf = build_firmware_for(root, board, &mode, &program.lbm, args.optimize)?;
    print_sizes(board, &mode, &Elf::read(&elf.0)?, facts.as_ref());
    if args.build_only {
        println!("built {} ({mode} mode); --build-only: not run", elf.0.display());
        return Ok(());
    }
    let plugin = if board.kind == BoardKind::Qemu { Some(IcountPlugin::build(root)?) } else { None };
    let runner = Runner { plugin: plugin.as_ref(), timeout: seconds(args.timeout) };
    let result = runner.run(board, &elf, &mode, &image_path)?;
    let (Some(facts), Some(inputs)) = (facts, inputs) else {
        return report_refusal(&result);
    };
    let runs = device::expect_success(&result, &facts, inputs.count)?;
    print_runs(board, &result, runs, &facts);
    let parity = Parity::compare(runs, &reference(&program, &inputs)?, &facts);
    println!("parity with the host runtime: {}", parity.verdict());
    if let Some(path) = &args.output {
        write_outputs(path, runs, &facts)?;
        println!("outputs written to {}", path.display());
    }
    if !parity.exact() {
        bail!("the device's outputs differ from the host runtime's");
    }
    Ok(())
}

/// The inputs: `--input`, else `input.npy` beside the model, else one generated input.
fn inputs(model: &Path, input: Option<&Path>, facts: &Facts) -> Result<Inputs> {
    let beside = model.parent().map(|d| d.join("input.npy")).filter(|p| p.exists());
    match input.map(PathBuf::from).or(beside) {
        Some(path) => Inputs::from_npy(&path, facts),
        None => Ok(Inputs::generated(facts)),
    }
}

/// The run of a model the host refused: print what the device said.
fn report_refusal(result: &RunResult) -> Result<()> {
    for error in &result.records.errors {
        println!("device: {error}");
    }
    match result.status() {
        Some(ExitStatus::Success) => bail!("the device ran a model the host runtime refuses"),
        Some(status) => {
            let message = result.explain(format!("the device refused the model: {}", result.ending));
            Err(DeviceExit { status, message }.into())
        }
        None => bail!(result.explain(format!("the device refused the model: {}", result.ending))),
    }
}

/// Flash and static RAM of the firmware.
fn print_sizes(board: &Board, mode: &Mode, elf: &Elf, facts: Option<&Facts>) {
    let s = elf.sections();
    println!(
        "firmware for {} ({mode} mode): flash {} B (.text {}, .rodata {}, .data {}), static RAM {} B (.data {}, .bss {})",
        board.name,
        s.flash(),
        s.text,
        s.rodata,
        s.data,
        s.ram(),
        s.data,
        s.bss
    );
    if let (Mode::Loaded, Some(facts)) = (mode, facts) {
        println!("  plus, from free RAM: arena {} B + output {} B", facts.arena, facts.output_len);
    }
}

/// Outputs, top classes and counts per inference, then the stack.
fn print_runs(board: &Board, result: &RunResult, runs: &[Run], facts: &Facts) {
    let counter = result.records.boot.as_ref().map_or("counter", |b| b.counter.as_str());
    for run in runs.iter().take(SHOWN) {
        let i = run.index as usize;
        let values: Vec<i64> = run.output.iter().map(|&b| output_value(b, &facts.output_quant)).collect();
        let mut line = format!("inference {i}: output {values:?}, crc32 {:#010x}", run.checksum);
        if let Some(n) = result.instructions.get(i) {
            line += &format!(", {n} instructions");
        }
        line += &format!(", {counter} {}", run.counter_delta);
        if counter == "systick" {
            line += &format!(" (≈{:.0} instructions)", run.counter_delta as f64 * 1e9 / board.clock_hz as f64);
        }
        println!("{line}");
        let tops: Vec<String> = result
            .records
            .tops
            .iter()
            .filter(|t| t.index == run.index)
            .map(|t| format!("class {} (score {:.3}, p {:.3})", t.class, t.score, t.probability))
            .collect();
        if !tops.is_empty() {
            println!("  top: {}", tops.join(", "));
        }
    }
    if runs.len() > SHOWN {
        println!("… {} more inferences (all checked)", runs.len() - SHOWN);
    }
    if let Some(stack) = result.records.stack {
        println!("stack high-water mark {} B of {} B reserved", stack.used, stack.reserved);
    }
}

/// Writes the device's outputs, dequantized, as float32 `[inferences, ...]`.
fn write_outputs(path: &Path, runs: &[Run], facts: &Facts) -> Result<()> {
    let values = runs
        .iter()
        .flat_map(|r| r.output.iter().map(|&b| dequantize(output_value(b, &facts.output_quant), &facts.output_quant)))
        .collect();
    let mut shape = vec![runs.len()];
    shape.extend(&facts.output_shape);
    lowbit::npy::write(path, &Tensor::f32(shape, values)).with_context(|| format!("writing {}", path.display()))
}

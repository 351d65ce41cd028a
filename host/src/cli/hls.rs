//! `lowbit hls MODEL --board B [--target-fps N | --folding FILE] -o DIR [--csim ...]`.

use anyhow::{Context, bail};
use lowbit::ir::{DType, Tensor};
use lowbit_hls::{Board, Design, Folding, Options};
use lowbit_runtime::arith;
use lowbit_runtime::build::KernelPolicy;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `lowbit hls`.
#[derive(clap::Args)]
pub struct Args {
    /// The model: an .onnx file (lowered first) or an .lbm program.
    model: PathBuf,
    /// Target board (pynq-z1, pynq-z2, ultra96-v2, zcu104, kv260) or a board .toml.
    #[arg(long)]
    board: String,
    /// Fold for this many frames per second at the board clock (FINN's SetFolding).
    #[arg(long, conflicts_with = "folding")]
    target_fps: Option<f64>,
    /// Apply a FINN folding configuration (folding_config.json) instead.
    #[arg(long)]
    folding: Option<PathBuf>,
    /// Clock in MHz [default: the board's].
    #[arg(long)]
    clock_mhz: Option<f64>,
    /// Append a label selection of the top K outputs.
    #[arg(long)]
    topk: Option<usize>,
    /// Output directory of the HLS project.
    #[arg(short, long)]
    output_dir: PathBuf,
    /// Compile and run the C simulation and compare it with the .lbm program.
    #[arg(long)]
    csim: bool,
    /// C-simulation inputs (.npy, first axis the batch) [default: random integers].
    #[arg(long, requires = "csim")]
    input: Option<PathBuf>,
    /// Number of random frames when no --input is given.
    #[arg(long, default_value_t = 4)]
    frames: usize,
    /// Where to write the C-simulation outputs (.npy).
    #[arg(long, requires = "csim")]
    output: Option<PathBuf>,
    /// Write the output integers instead of float32 values.
    #[arg(long)]
    int: bool,
}

/// Generates the project, prints the estimates and runs the C simulation.
pub fn run(args: Args) -> anyhow::Result<()> {
    let start = Instant::now();
    let lbm = load(&args.model)?;
    let mut options = Options::new(Board::find(&args.board)?);
    options.clock_mhz = args.clock_mhz;
    options.top_k = args.topk;
    options.folding = match (&args.target_fps, &args.folding) {
        (Some(fps), _) => Folding::TargetFps(*fps),
        (None, Some(path)) => {
            Folding::Config(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?)
        }
        (None, None) => Folding::Unfolded,
    };
    let design =
        Design::new(&lbm, &options).with_context(|| format!("mapping {} to a dataflow", args.model.display()))?;
    design.write_project(&args.output_dir)?;
    let lbm_path = args.output_dir.join("model.lbm");
    std::fs::write(&lbm_path, &lbm).with_context(|| format!("writing {}", lbm_path.display()))?;
    let generated = start.elapsed();
    print!("{}", design.estimate);
    for note in &design.notes {
        eprintln!("note: {note}");
    }
    eprintln!(
        "wrote {} ({} layers; folding_config.json, estimates.json, hls.tcl) in {:.2} s",
        args.output_dir.display(),
        design.dataflow.layers.len(),
        generated.as_secs_f64()
    );
    if !args.csim {
        return Ok(());
    }
    let frames = match &args.input {
        Some(path) => frames_from(&design, &lowbit::npy::read(path)?)?,
        None => random_frames(&design, args.frames),
    };
    let report = design.csim(&args.output_dir, &frames)?;
    println!(
        "C simulation: {} frames, {} output values, {} differ from the .lbm program (compile {:.2} s, run {:.3} s)",
        frames.len(),
        report.values(),
        report.mismatches,
        report.compile_time.as_secs_f64(),
        report.run_time.as_secs_f64()
    );
    if let Some(path) = &args.output {
        let out = outputs(&design, &report.outputs, args.int);
        lowbit::npy::write(path, &out)?;
        eprintln!("wrote {} {} to {}", out.dtype, lowbit::ir::fmt_shape(&out.shape), path.display());
    }
    if let Some((frame, index, want, got)) = report.first_mismatch {
        bail!("the C simulation is not bit-exact: frame {frame}, output {index}: {got} instead of {want}");
    }
    println!("bit-exact with the .lbm program");
    Ok(())
}

/// The `.lbm` program: read as is, or imported and lowered from ONNX with
/// every layer's weights in their declared bit width (the widths the
/// hardware is built for).
fn load(path: &Path) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if bytes.starts_with(&lowbit_runtime::MAGIC) {
        return Ok(bytes);
    }
    let graph = super::import(path)?;
    let lowered = lowbit::lower::lower_with(&graph, KernelPolicy::Compact)
        .with_context(|| format!("lowering {}", path.display()))?;
    for note in &lowered.notes {
        eprintln!("note: {note}");
    }
    Ok(lowered.bytes)
}

/// Input frames from a tensor: float values quantized with the model's
/// input quantization (as `lowbit run` does), integers as they are.
fn frames_from(design: &Design, t: &Tensor) -> anyhow::Result<Vec<Vec<i64>>> {
    let n = design.input.shape.elements();
    if t.shape.is_empty() || t.shape[1..].iter().product::<usize>() != n {
        bail!("input shape {:?} does not match the model's [batch, {n} values]", t.shape);
    }
    let q = design.input.quant;
    let (lo, hi) = q.range();
    let values: Vec<i64> = match (t.as_f32(), t.as_int()) {
        (Some(v), _) => v.iter().map(|&x| i64::from(arith::quantize(x, q.scale, q.zero_point, lo, hi))).collect(),
        (None, Some(v)) => v.to_vec(),
        _ => bail!("the input holds neither floats nor integers"),
    };
    Ok(values.chunks(n.max(1)).map(<[i64]>::to_vec).collect())
}

/// `count` frames of integers spread over the input range (xorshift, fixed seed).
fn random_frames(design: &Design, count: usize) -> Vec<Vec<i64>> {
    let (lo, hi) = design.input.quant.range();
    let span = (i64::from(hi) - i64::from(lo) + 1) as u64;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        i64::from(lo) + (state % span) as i64
    };
    (0..count).map(|_| (0..design.input.shape.elements()).map(|_| next()).collect()).collect()
}

/// The C-simulation outputs as a tensor `[frames, ...]`: dequantized with
/// the output quantization, integers with `--int`; label indices as int64.
fn outputs(design: &Design, frames: &[Vec<i64>], int: bool) -> Tensor {
    let values: Vec<i64> = frames.concat();
    let mut shape = vec![frames.len()];
    if design.top_k.is_some() {
        shape.push(design.output_values());
        return Tensor::int(DType::I64, shape, values);
    }
    shape.extend(design.output.shape.dims().iter().map(|&d| d as usize));
    let q = design.output.quant;
    if int {
        return Tensor::int(if q.signed { DType::I8 } else { DType::U8 }, shape, values);
    }
    let floats = values.iter().map(|&v| arith::dequantize(v as i32, q.scale, q.zero_point)).collect();
    Tensor::f32(shape, floats)
}

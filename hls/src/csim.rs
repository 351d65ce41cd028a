//! C simulation with the host C++ compiler, compared value by value with
//! the `.lbm` program run by lowbit's runtime.

use crate::HlsError;
use lowbit_runtime::Model;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The outcome of a C simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct CsimReport {
    /// The accelerator's outputs, one vector per frame (ONNX order, or the
    /// top-k label indices).
    pub outputs: Vec<Vec<i64>>,
    /// The same computed by the runtime from the `.lbm` program.
    pub expected: Vec<Vec<i64>>,
    /// Output values that differ.
    pub mismatches: usize,
    /// The first difference: `(frame, index, expected, got)`.
    pub first_mismatch: Option<(usize, usize, i64, i64)>,
    /// Time spent compiling the testbench.
    pub compile_time: Duration,
    /// Time spent running it.
    pub run_time: Duration,
}

impl CsimReport {
    /// Whether every output integer equals the program's.
    pub fn exact(&self) -> bool {
        self.mismatches == 0
    }

    /// Output values compared.
    pub fn values(&self) -> usize {
        self.outputs.iter().map(Vec::len).sum()
    }
}

/// The C++ compiler: `$CXX`, else `g++`.
fn compiler() -> String {
    std::env::var("CXX").ok().filter(|c| !c.is_empty()).unwrap_or_else(|| "g++".into())
}

/// Compiles the project's testbench to `DIR/csim/lowbit_csim`.
pub(crate) fn compile(dir: &Path) -> Result<PathBuf, HlsError> {
    let out_dir = dir.join("csim");
    std::fs::create_dir_all(&out_dir).map_err(HlsError::io(&out_dir))?;
    let exe = out_dir.join("lowbit_csim");
    let cxx = compiler();
    let output = Command::new(&cxx)
        .current_dir(dir)
        .args(["-std=c++17", "-O2", "-Wno-unknown-pragmas", "-Itemplates", "-Isrc", "-Itb"])
        .args(["src/top.cpp", "tb/testbench.cpp", "-o", "csim/lowbit_csim"])
        .output()
        .map_err(|e| HlsError::Csim(format!("cannot run the C++ compiler {cxx:?}: {e} (set CXX)")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let head: Vec<&str> = stderr.lines().take(30).collect();
        return Err(HlsError::Csim(format!("{cxx} failed:\n{}", head.join("\n"))));
    }
    Ok(exe)
}

/// Runs the compiled testbench on `frames` (ONNX order) and reads its
/// outputs.
pub(crate) fn run(dir: &Path, exe: &Path, frames: &[Vec<i64>], values_out: usize) -> Result<Vec<Vec<i64>>, HlsError> {
    let input = dir.join("csim/input.txt");
    let output = dir.join("csim/output.txt");
    let mut text = format!("{} {}\n", frames.len(), frames.first().map_or(0, Vec::len));
    for f in frames {
        let line: Vec<String> = f.iter().map(i64::to_string).collect();
        text += &line.join(" ");
        text.push('\n');
    }
    std::fs::write(&input, text).map_err(HlsError::io(&input))?;
    let status = Command::new(exe)
        .arg(&input)
        .arg(&output)
        .output()
        .map_err(|e| HlsError::Csim(format!("cannot run {}: {e}", exe.display())))?;
    if !status.status.success() {
        return Err(HlsError::Csim(format!(
            "the testbench failed ({}): {}",
            status.status,
            String::from_utf8_lossy(&status.stderr).trim()
        )));
    }
    let text = std::fs::read_to_string(&output).map_err(HlsError::io(&output))?;
    let mut numbers = text.split_whitespace().map(str::parse::<i64>);
    let mut next = || -> Result<i64, HlsError> {
        numbers
            .next()
            .and_then(Result::ok)
            .ok_or_else(|| HlsError::Csim(format!("{} is truncated or malformed", output.display())))
    };
    let (n, v) = (next()?, next()?);
    if n != frames.len() as i64 || v != values_out as i64 {
        return Err(HlsError::Csim(format!("{} has {n} frames of {v} values", output.display())));
    }
    (0..frames.len()).map(|_| (0..values_out).map(|_| next()).collect()).collect()
}

/// The program's outputs for `frames`, by lowbit's runtime (the top `k`
/// label indices if `top_k`).
pub(crate) fn reference(program: &[u8], frames: &[Vec<i64>], top_k: Option<usize>) -> Result<Vec<Vec<i64>>, HlsError> {
    let model = Model::from_bytes(program).map_err(HlsError::Program)?;
    let signed = model.output().quant.signed;
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let bytes: Vec<u8> = f.iter().map(|&v| v as u8).collect();
            let out = model
                .run_to_vec(&bytes)
                .map_err(|e| HlsError::Input(format!("frame {i}: the runtime refused it: {e}")))?;
            let values: Vec<i64> =
                out.iter().map(|&b| if signed { i64::from(b as i8) } else { i64::from(b) }).collect();
            Ok(match top_k {
                Some(k) => top_indices(&values, k),
                None => values,
            })
        })
        .collect()
}

/// Indices of the `k` largest values, largest first, ties by lower index
/// (the order the label-select unit produces).
pub fn top_indices(values: &[i64], k: usize) -> Vec<i64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].cmp(&values[a]).then(a.cmp(&b)));
    order.into_iter().take(k).map(|i| i as i64).collect()
}

/// Compiles, runs and compares; `values_out` is the testbench's output
/// length per frame.
pub(crate) fn simulate(
    dir: &Path,
    program: &[u8],
    frames: &[Vec<i64>],
    values_out: usize,
    top_k: Option<usize>,
) -> Result<CsimReport, HlsError> {
    let expected = reference(program, frames, top_k)?;
    let start = Instant::now();
    let exe = compile(dir)?;
    let compile_time = start.elapsed();
    let start = Instant::now();
    let outputs = run(dir, &exe, frames, values_out)?;
    let run_time = start.elapsed();
    let mut mismatches = 0;
    let mut first_mismatch = None;
    for (frame, (got, want)) in outputs.iter().zip(&expected).enumerate() {
        for (index, (&g, &w)) in got.iter().zip(want).enumerate() {
            if g != w {
                mismatches += 1;
                first_mismatch.get_or_insert((frame, index, w, g));
            }
        }
    }
    Ok(CsimReport { outputs, expected, mismatches, first_mismatch, compile_time, run_time })
}

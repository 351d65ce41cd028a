//! Shared helpers for lowbit's workspace-level tests: where the Brevitas
//! corpus and the Python/ONNX Runtime tools are, and how outputs compare.

pub mod ort_runner;

use lowbit::ir::{Graph, Tensor};
use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// The Brevitas conformance corpus: `$LOWBIT_CORPUS`, else `../shared/corpus`
/// beside the workspace, else the copy vendored in `tests/corpus`.
pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("LOWBIT_CORPUS") {
        return PathBuf::from(dir);
    }
    let root = workspace_root();
    let shared = root.join("../shared/corpus");
    if shared.join("index.json").is_file() { shared } else { root.join("tests/corpus") }
}

/// One corpus case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Folder name, e.g. `qop_conv1d_w3_s2p1`.
    pub name: String,
    /// Its directory.
    pub dir: PathBuf,
    /// `qcdq`, `qop` or `qonnx`.
    pub format: String,
}

impl Case {
    /// `model.onnx` of the case.
    pub fn model(&self) -> PathBuf {
        self.dir.join("model.onnx")
    }

    /// Reads one of the case's `.npy` files, if present.
    pub fn npy(&self, file: &str) -> Option<Tensor> {
        let p = self.dir.join(file);
        p.is_file().then(|| lowbit::npy::read(&p).unwrap_or_else(|e| panic!("{e}")))
    }

    /// The reference output: ONNX Runtime's, or the qonnx executor's for QONNX models.
    pub fn expected(&self) -> (Tensor, &'static str) {
        if let Some(t) = self.npy("expected_ort.npy") {
            (t, "expected_ort.npy")
        } else {
            (self.npy("expected_qonnx_exec.npy").expect("a reference output"), "expected_qonnx_exec.npy")
        }
    }
}

/// Every case listed in the corpus's `index.json`.
pub fn cases() -> Vec<Case> {
    let dir = corpus_dir();
    let index = std::fs::read_to_string(dir.join("index.json"))
        .unwrap_or_else(|e| panic!("corpus index at {}: {e}; set LOWBIT_CORPUS", dir.display()));
    let index: serde_json::Value = serde_json::from_str(&index).expect("index.json is JSON");
    index
        .as_array()
        .expect("index.json is a list")
        .iter()
        .map(|c| {
            let name = c["case"].as_str().expect("case name").to_string();
            Case { dir: dir.join(&name), format: c["format"].as_str().unwrap_or_default().to_string(), name }
        })
        .collect()
}

/// How far an output is from a reference, in units of the output's quantization step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Diff {
    /// Largest difference in LSBs (or absolute, for unquantized float outputs).
    pub max_lsb: f64,
    /// Elements that differ at all.
    pub differing: usize,
    /// Elements compared.
    pub total: usize,
}

impl Diff {
    /// Whether every element is identical.
    pub fn exact(&self) -> bool {
        self.differing == 0
    }
}

/// Compares `actual` with `expected`. Integer outputs compare as integers;
/// float outputs are divided by `lsb` (the output's scale) when known.
pub fn diff(actual: &Tensor, expected: &Tensor, lsb: Option<f64>) -> Diff {
    assert_eq!(actual.shape, expected.shape, "output shapes differ");
    let (a, e) = (actual.to_f64_vec(), expected.to_f64_vec());
    let step = lsb.unwrap_or(1.0);
    let mut d = Diff { max_lsb: 0.0, differing: 0, total: a.len() };
    for (x, y) in a.iter().zip(&e) {
        if x != y {
            d.differing += 1;
            d.max_lsb = d.max_lsb.max((x - y).abs() / step);
        }
    }
    d
}

/// The LSB (scale) of a graph's output 0, when it is a quantized or dequantized value.
pub fn output_lsb(graph: &Graph) -> Option<f64> {
    let out = graph.outputs[0];
    if graph.value(out).dtype.is_int() {
        return Some(1.0);
    }
    let q = graph.float_grid(out)?;
    (!q.is_per_channel()).then(|| q.scale[0] as f64)
}

/// Accuracy of `logits` (`[n, classes]`) against integer labels.
pub fn accuracy(logits: &Tensor, labels: &Tensor) -> (f64, Vec<usize>) {
    let classes = logits.shape[1];
    let v = logits.to_f64_vec();
    let preds: Vec<usize> = v
        .chunks(classes)
        .map(|row| row.iter().enumerate().fold(0, |best, (i, &x)| if x > row[best] { i } else { best }))
        .collect();
    let labels = labels.to_f64_vec();
    let correct = preds.iter().zip(&labels).filter(|(p, l)| **p as f64 == **l).count();
    (correct as f64 / labels.len() as f64, preds)
}

/// The Python interpreter with onnx/onnxruntime/qonnx: `$LOWBIT_PYTHON`, else
/// the venv `cargo xtask setup` creates in `target/lowbit-venv`.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("LOWBIT_PYTHON") {
        return PathBuf::from(p);
    }
    let p = workspace_root().join("target/lowbit-venv/bin/python");
    assert!(p.is_file(), "no Python venv at {}: run `cargo xtask setup --python` or set LOWBIT_PYTHON", p.display());
    p
}

/// Runs a Python snippet with the test venv and returns its stdout; panics with stderr on failure.
pub fn run_python(script: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = std::process::Command::new(python()).arg("-c").arg(script).args(args).output().expect("python runs");
    assert!(out.status.success(), "python failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

//! The models `hil` and `bench` run: discovery in model directories and the
//! host-side preparation (lowering, inputs, host-runtime reference), done
//! once per model for every board.
//!
//! A model is a `*/model.onnx` in a models directory (next to it: the
//! inputs `test_x.npy` or else `input.npy`, and optionally
//! `ort_test_logits.npy` with ONNX Runtime's outputs for `test_x.npy`), or an
//! `.onnx`/`.lbm` file directly in the directory (one generated input).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::model::{Facts, Inputs, Program, reference};

/// The corpus directory: `$LOWBIT_CORPUS`, else `tests/corpus`.
pub fn corpus_dir(root: &Path) -> PathBuf {
    std::env::var_os("LOWBIT_CORPUS").map_or_else(|| root.join("tests/corpus"), PathBuf::from)
}

/// The default model directories: `examples/` and the corpus.
pub fn default_dirs(root: &Path) -> Vec<PathBuf> {
    vec![root.join("examples"), corpus_dir(root)]
}

/// A model file and the files that come with it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The `.onnx` or `.lbm` file.
    pub model: PathBuf,
    /// The inputs (`.npy`), if any.
    pub inputs: Option<PathBuf>,
    /// ONNX Runtime's outputs for those inputs (`ort_test_logits.npy`).
    pub ort_outputs: Option<PathBuf>,
}

impl Entry {
    /// The entry for a model file, with the inputs found beside it.
    pub fn for_model(model: &Path) -> Entry {
        let dir = model.parent().unwrap_or(Path::new("."));
        let test_x = dir.join("test_x.npy");
        let (inputs, ort_outputs) = if test_x.exists() {
            let ort = dir.join("ort_test_logits.npy");
            (Some(test_x), ort.exists().then_some(ort))
        } else {
            let input = dir.join("input.npy");
            (input.exists().then_some(input), None)
        };
        Entry { model: model.to_path_buf(), inputs, ort_outputs }
    }
}

/// Every model in `dirs`, sorted by path; only names containing `filter`.
pub fn discover(dirs: &[PathBuf], filter: Option<&str>) -> Result<Vec<Entry>> {
    let mut models = Vec::new();
    for dir in dirs {
        let listing = std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
        for item in listing {
            let path = item.with_context(|| format!("listing {}", dir.display()))?.path();
            let nested = path.join("model.onnx");
            if nested.is_file() {
                models.push(nested);
            } else if path.is_file() && path.extension().is_some_and(|e| e == "onnx" || e == "lbm") {
                models.push(path);
            }
        }
    }
    models.sort();
    let entries = models.iter().map(|m| Entry::for_model(m));
    Ok(entries.filter(|e| filter.is_none_or(|f| e.model.to_string_lossy().contains(f))).collect())
}

/// The bundled example model ([`EXAMPLE_MODEL`](crate::cli::EXAMPLE_MODEL)),
/// prepared.
pub fn example(root: &Path) -> Result<Prepared> {
    prepare_entry(&Entry::for_model(&root.join(crate::cli::EXAMPLE_MODEL)))
}

/// A model ready for devices: program, inputs and the host's outputs.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The lowered program.
    pub program: Program,
    /// Its facts.
    pub facts: Facts,
    /// The inputs.
    pub inputs: Inputs,
    /// `run_lbm`'s integers for every input.
    pub reference: Vec<i64>,
    /// ONNX Runtime's predicted class per input, when known.
    pub ort_classes: Option<Vec<usize>>,
}

/// A model as `hil` sees it: ready, or skipped for a reason.
#[derive(Debug, Clone)]
pub enum Case {
    /// Ready to run.
    Ready(Box<Prepared>),
    /// Not runnable on any board (does not lower, no valid program).
    Skipped {
        /// The model's name.
        name: String,
        /// Why.
        reason: String,
    },
}

/// Prepares `entry`; a model that cannot be prepared becomes [`Case::Skipped`].
pub fn prepare(entry: &Entry) -> Case {
    match prepare_entry(entry) {
        Ok(prepared) => Case::Ready(Box::new(prepared)),
        Err(error) => {
            let name = Program::name_of(&entry.model);
            // "lowering <path>: <why>" → "lowering: <why>" (the table names the model).
            let stage = error.to_string().split_whitespace().next().unwrap_or_default().to_string();
            let reason = format!("{stage}: {}", error.root_cause()).replace('\n', " ");
            Case::Skipped { name, reason }
        }
    }
}

/// Lowers, reads the inputs, runs the host reference.
pub fn prepare_entry(entry: &Entry) -> Result<Prepared> {
    let program = Program::load(&entry.model)?;
    let facts = program.facts().map_err(|e| anyhow::anyhow!("the runtime refuses the program: {e}"))?;
    let inputs = match &entry.inputs {
        Some(path) => Inputs::from_npy(path, &facts)?,
        None => Inputs::generated(&facts),
    };
    let reference = reference(&program, &inputs)?;
    let ort_classes = match &entry.ort_outputs {
        Some(path) => Some(argmax_rows(path)?),
        None => None,
    };
    Ok(Prepared { program, facts, inputs, reference, ort_classes })
}

/// The index of the first largest value of each row of a 2-D `.npy` file.
fn argmax_rows(path: &Path) -> Result<Vec<usize>> {
    let tensor = lowbit::npy::read(path).with_context(|| format!("reading {}", path.display()))?;
    let width = tensor.shape.last().copied().unwrap_or(1).max(1);
    Ok(tensor.to_f64_vec().chunks(width).map(argmax).collect())
}

/// The index of the first largest value.
pub fn argmax<T: PartialOrd + Copy>(values: &[T]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

//! Models on the host: lowering (`.onnx` → `.lbm`), the inputs a device
//! runs (quantized exactly as `lowbit::lower::run_lbm` quantizes them) and
//! the host runtime's reference outputs.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use lowbit::ir::Tensor;
use lowbit_runtime::{Model, TensorQuant, arith};

/// An `.lbm` program and where it came from.
#[derive(Debug, Clone)]
pub struct Program {
    /// Short name for tables (`qcdq_digits_mlp`, `digits_cnn`, a file stem).
    pub name: String,
    /// The `.lbm` bytes.
    pub lbm: Vec<u8>,
    /// What lowering had to say (approximations, omissions).
    pub notes: Vec<String>,
    /// Multiply-accumulates per inference (the lowering report; unknown for `.lbm` files).
    pub macs: Option<u64>,
}

/// The facts about a valid program that deploy, fit checks and parity need.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// Bytes of one input.
    pub input_len: usize,
    /// Bytes of one output.
    pub output_len: usize,
    /// Arena bytes a run needs.
    pub arena: usize,
    /// Input quantization.
    pub input_quant: TensorQuant,
    /// Output quantization.
    pub output_quant: TensorQuant,
    /// Output shape without the batch axis.
    pub output_shape: Vec<usize>,
}

impl Program {
    /// Lowers an `.onnx` file or reads an `.lbm` file; `name` defaults to the
    /// file stem (the directory name for `model.onnx`).
    pub fn load(path: &Path) -> Result<Program> {
        let name = Program::name_of(path);
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
        match ext {
            "lbm" => {
                let lbm = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                Ok(Program { name, lbm, notes: Vec::new(), macs: None })
            }
            "onnx" => {
                let graph =
                    lowbit::import::import_file(path).with_context(|| format!("importing {}", path.display()))?;
                let lowered = lowbit::lower::lower(&graph).with_context(|| format!("lowering {}", path.display()))?;
                Ok(Program { name, lbm: lowered.bytes, notes: lowered.notes, macs: Some(lowered.report.macs) })
            }
            _ => bail!("{}: expected an .onnx or .lbm file", path.display()),
        }
    }

    /// The name of the model at `path`: the directory for `dir/model.onnx`,
    /// else the file stem.
    pub fn name_of(path: &Path) -> String {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        match path.parent().and_then(|d| d.file_name()) {
            Some(dir) if stem == "model" => dir.to_string_lossy().into_owned(),
            _ => stem,
        }
    }

    /// The program's facts, or the runtime's reason for refusing it.
    pub fn facts(&self) -> Result<Facts, lowbit_runtime::Error> {
        let model = Model::from_bytes(&self.lbm)?;
        Ok(Facts {
            input_len: model.input_len(),
            output_len: model.output_len(),
            arena: model.arena_size(),
            input_quant: model.input().quant,
            output_quant: model.output().quant,
            output_shape: model.output().shape.dims().iter().map(|&d| d as usize).collect(),
        })
    }
}

/// The inputs of one device run: the tensor (for the host reference) and
/// the bytes the device reads, one input after the other.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// `[count, ...]`, float or integer.
    pub tensor: Tensor,
    /// `count × len` bytes in the model's input quantization.
    pub bytes: Vec<u8>,
    /// Number of inputs.
    pub count: usize,
}

impl Inputs {
    /// Reads an `.npy` file (first axis: the inputs) and quantizes it for `facts`.
    pub fn from_npy(path: &Path, facts: &Facts) -> Result<Inputs> {
        let tensor = lowbit::npy::read(path).with_context(|| format!("reading {}", path.display()))?;
        Inputs::from_tensor(tensor, facts).with_context(|| format!("inputs from {}", path.display()))
    }

    /// Quantizes `tensor` (`[count, ...]`) like `run_lbm`: floats with the
    /// model's input quantization (ONNX `QuantizeLinear`), integers as they are.
    pub fn from_tensor(tensor: Tensor, facts: &Facts) -> Result<Inputs> {
        ensure!(!tensor.shape.is_empty(), "a scalar is not a batch of inputs");
        let per_input: usize = tensor.shape[1..].iter().product();
        ensure!(
            per_input == facts.input_len,
            "each input has {per_input} values (shape {:?}), the model takes {}",
            tensor.shape,
            facts.input_len
        );
        let q = facts.input_quant;
        let (lo, hi) = q.range();
        let bytes = match (tensor.as_f32(), tensor.as_int()) {
            (Some(values), _) => {
                values.iter().map(|&x| arith::quantize(x, q.scale, q.zero_point, lo, hi) as u8).collect()
            }
            (None, Some(values)) => values.iter().map(|&v| v as u8).collect(),
            (None, None) => bail!("the tensor holds neither floats nor integers"),
        };
        Ok(Inputs { count: tensor.shape[0], tensor, bytes })
    }

    /// One deterministic input spanning the model's input range (when a model
    /// comes without inputs).
    pub fn generated(facts: &Facts) -> Inputs {
        let (lo, hi) = facts.input_quant.range();
        let span = (hi - lo + 1) as u32;
        let mut x = 0x9E37_79B9u32;
        let values: Vec<i64> = (0..facts.input_len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                i64::from(lo) + i64::from(x % span)
            })
            .collect();
        let dtype = lowbit::ir::DType::storage_for(u32::from(facts.input_quant.bits), facts.input_quant.signed);
        let tensor = Tensor::int(dtype, vec![1, facts.input_len], values.clone());
        Inputs { count: 1, bytes: values.iter().map(|&v| v as u8).collect(), tensor }
    }

    /// No input at all (for a model the host cannot read: the device refuses
    /// it before looking at inputs).
    pub fn empty() -> Inputs {
        Inputs { tensor: Tensor::f32(vec![1, 0], Vec::new()), bytes: Vec::new(), count: 1 }
    }

    /// The first input, `n` times.
    pub fn first_repeated(&self, n: usize, facts: &Facts) -> Result<Inputs> {
        let one = self.first(1, facts)?;
        let mut shape = one.tensor.shape.clone();
        shape[0] = n;
        let tensor = match (one.tensor.as_f32(), one.tensor.as_int()) {
            (Some(v), _) => Tensor::f32(shape, v.repeat(n)),
            (None, Some(v)) => Tensor::int(one.tensor.dtype, shape, v.repeat(n)),
            (None, None) => bail!("the tensor holds neither floats nor integers"),
        };
        Ok(Inputs { tensor, bytes: one.bytes.repeat(n), count: n })
    }

    /// The first `n` inputs.
    pub fn first(&self, n: usize, facts: &Facts) -> Result<Inputs> {
        let n = n.min(self.count);
        let mut shape = self.tensor.shape.clone();
        shape[0] = n;
        let len = n * facts.input_len;
        let tensor = match (self.tensor.as_f32(), self.tensor.as_int()) {
            (Some(v), _) => Tensor::f32(shape, v[..len].to_vec()),
            (None, Some(v)) => Tensor::int(self.tensor.dtype, shape, v[..len].to_vec()),
            (None, None) => bail!("the tensor holds neither floats nor integers"),
        };
        Ok(Inputs { tensor, bytes: self.bytes[..len].to_vec(), count: n })
    }
}

/// The host runtime's output integers for every input, in order
/// (`lowbit::lower::run_lbm`, the same runtime code the device runs).
pub fn reference(program: &Program, inputs: &Inputs) -> Result<Vec<i64>> {
    let run = lowbit::lower::run_lbm(&program.lbm, &inputs.tensor).context("host runtime")?;
    Ok(run.ints.as_int().context("run_lbm returned no integers")?.to_vec())
}

/// The integer value of an output byte.
pub fn output_value(byte: u8, quant: &TensorQuant) -> i64 {
    if quant.signed { i64::from(byte as i8) } else { i64::from(byte) }
}

/// `(q - zero_point) × scale`, as the runtime dequantizes.
pub fn dequantize(value: i64, quant: &TensorQuant) -> f32 {
    arith::dequantize(value as i32, quant.scale, quant.zero_point)
}

//! ONNX Runtime as the reference lowbit checks itself against.
//!
//! The library is loaded at run time (`ort` with `load-dynamic`) from the
//! `onnxruntime` Python wheel: `$ORT_DYLIB_PATH`, else the venv `cargo xtask
//! setup` creates in `target/lowbit-venv` of the enclosing workspace, else wherever the `python3` on the
//! `PATH` (or `$LOWBIT_PYTHON`) imports `onnxruntime` from.

use crate::ir::{DType, Tensor};
use ort::environment::Environment;
use ort::session::Session;
use ort::value::{DynValue, Tensor as OrtTensor};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// ONNX Runtime could not be found, loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum OrtError {
    /// No shared library was found.
    #[error(
        "ONNX Runtime not found: set ORT_DYLIB_PATH to libonnxruntime.so, or `pip install onnxruntime` \
         (cargo xtask setup --python does it in target/lowbit-venv)"
    )]
    NotFound,
    /// Loading or running failed.
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
}

/// The ONNX Runtime shared library to load.
pub fn locate() -> Result<PathBuf, OrtError> {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        return Ok(PathBuf::from(p));
    }
    let in_capi = |dir: &Path| -> Option<PathBuf> {
        std::fs::read_dir(dir.join("capi"))
            .ok()?
            .flatten()
            .map(|f| f.path())
            .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("libonnxruntime.so")))
    };
    // The workspace's venv, from anywhere inside the workspace.
    let cwd = std::env::current_dir().unwrap_or_default();
    for dir in cwd.ancestors() {
        let venv_lib = dir.join("target/lowbit-venv/lib");
        let found = std::fs::read_dir(&venv_lib)
            .into_iter()
            .flatten()
            .flatten()
            .find_map(|py| in_capi(&py.path().join("site-packages/onnxruntime")));
        if let Some(found) = found {
            return Ok(found);
        }
    }
    let python = std::env::var_os("LOWBIT_PYTHON").unwrap_or_else(|| "python3".into());
    let out = std::process::Command::new(python)
        .args(["-c", "import os, onnxruntime; print(os.path.dirname(onnxruntime.__file__))"])
        .output()
        .map_err(|_| OrtError::NotFound)?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !dir.is_empty()).then(|| in_capi(Path::new(&dir))).flatten().ok_or(OrtError::NotFound)
}

fn environment() -> Result<&'static Environment, OrtError> {
    static ENV: OnceLock<Result<Environment, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let path = locate().map_err(|e| e.to_string())?;
        let builder = ort::init_from(&path).map_err(|e| format!("loading {}: {e}", path.display()))?;
        builder.build().map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| OrtError::Runtime(e.clone()))
}

/// Runs `model` in ONNX Runtime on one float input and returns every output.
pub fn run(model: &Path, input: &Tensor) -> Result<Vec<Tensor>, OrtError> {
    let rt = |e: ort::Error| OrtError::Runtime(format!("{}: {e}", model.display()));
    let mut session = Session::builder(environment()?).and_then(|mut b| b.commit_from_file(model)).map_err(rt)?;
    let shape: Vec<i64> = input.shape.iter().map(|&d| d as i64).collect();
    let data = input.as_f32().ok_or_else(|| OrtError::Runtime("only float inputs are supported".into()))?.to_vec();
    let value: DynValue = OrtTensor::from_array((shape, data)).map_err(rt)?.into_dyn();
    let outputs = session.run(ort::inputs![value]).map_err(rt)?;
    outputs.iter().map(|(_, v)| to_tensor(&v)).collect()
}

fn to_tensor(v: &ort::value::DynValueRef<'_>) -> Result<Tensor, OrtError> {
    let dims = |s: &ort::value::Shape| s.iter().map(|&d| d as usize).collect::<Vec<_>>();
    if let Ok((shape, data)) = v.try_extract_tensor::<f32>() {
        return Ok(Tensor::f32(dims(shape), data.to_vec()));
    }
    macro_rules! int {
        ($ty:ty, $dtype:expr) => {
            if let Ok((shape, data)) = v.try_extract_tensor::<$ty>() {
                return Ok(Tensor::int($dtype, dims(shape), data.iter().map(|&x| x as i64).collect()));
            }
        };
    }
    int!(i8, DType::I8);
    int!(u8, DType::U8);
    int!(i16, DType::I16);
    int!(u16, DType::U16);
    int!(i32, DType::I32);
    int!(i64, DType::I64);
    if let Ok((shape, data)) = v.try_extract_tensor::<bool>() {
        return Ok(Tensor::int(DType::Bool, dims(shape), data.iter().map(|&b| b as i64).collect()));
    }
    Err(OrtError::Runtime(format!("unsupported output type {:?}", v.dtype())))
}

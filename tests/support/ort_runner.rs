//! Running models in ONNX Runtime through the `ort` crate (load-dynamic).

use lowbit::ir::{DType, Tensor};
use ort::environment::Environment;
use ort::session::Session;
use ort::value::{DynValue, Tensor as OrtTensor};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// ONNX Runtime's shared library: `$ORT_DYLIB_PATH`, else the one in the
/// test venv's `onnxruntime` wheel.
pub fn ort_dylib() -> PathBuf {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        return PathBuf::from(p);
    }
    let lib = crate::workspace_root().join("target/lowbit-venv/lib");
    let found =
        std::fs::read_dir(&lib).ok().and_then(|dirs| {
            dirs.flatten().find_map(|py| {
                let capi = py.path().join("site-packages/onnxruntime/capi");
                std::fs::read_dir(capi).ok()?.flatten().map(|f| f.path()).find(|p| {
                    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("libonnxruntime.so"))
                })
            })
        });
    found.unwrap_or_else(|| {
        panic!("ONNX Runtime not found in {}: run `cargo xtask setup --python` or set ORT_DYLIB_PATH", lib.display())
    })
}

fn environment() -> &'static Environment {
    static ENV: OnceLock<Environment> = OnceLock::new();
    ENV.get_or_init(|| {
        let builder = ort::init_from(ort_dylib()).unwrap_or_else(|e| panic!("loading ONNX Runtime: {e}"));
        builder.build().unwrap_or_else(|e| panic!("creating the ONNX Runtime environment: {e}"))
    })
}

/// Runs `model` in ONNX Runtime on one input and returns every output.
pub fn run_ort(model: &Path, input: &Tensor) -> Vec<Tensor> {
    let mut session = Session::builder(environment())
        .and_then(|mut b| b.commit_from_file(model))
        .unwrap_or_else(|e| panic!("ONNX Runtime cannot load {}: {e}", model.display()));
    let shape: Vec<i64> = input.shape.iter().map(|&d| d as i64).collect();
    let value: DynValue = match input.dtype {
        DType::F32 => {
            OrtTensor::from_array((shape, input.as_f32().expect("float input").to_vec())).map(|t| t.into_dyn())
        }
        other => panic!("run_ort: {other} inputs are not supported"),
    }
    .expect("input tensor");
    let outputs = session.run(ort::inputs![value]).unwrap_or_else(|e| panic!("ONNX Runtime run: {e}"));
    outputs.iter().map(|(_, v)| to_tensor(&v)).collect()
}

fn to_tensor(v: &ort::value::DynValueRef<'_>) -> Tensor {
    macro_rules! try_int {
        ($ty:ty, $dtype:expr) => {
            if let Ok((shape, data)) = v.try_extract_tensor::<$ty>() {
                let shape = shape.iter().map(|&d| d as usize).collect();
                return Tensor::int($dtype, shape, data.iter().map(|&x| x as i64).collect());
            }
        };
    }
    if let Ok((shape, data)) = v.try_extract_tensor::<f32>() {
        return Tensor::f32(shape.iter().map(|&d| d as usize).collect(), data.to_vec());
    }
    try_int!(i8, DType::I8);
    try_int!(u8, DType::U8);
    try_int!(i32, DType::I32);
    try_int!(i64, DType::I64);
    if let Ok((shape, data)) = v.try_extract_tensor::<bool>() {
        return Tensor::int(
            DType::Bool,
            shape.iter().map(|&d| d as usize).collect(),
            data.iter().map(|&b| b as i64).collect(),
        );
    }
    panic!("unsupported ONNX Runtime output type {:?}", v.dtype())
}

/// Checks a model with `onnx.checker.check_model(full_check=True)` in the test venv.
pub fn onnx_check(model: &Path) {
    crate::run_python(
        "import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)",
        &[model.as_os_str()],
    );
}

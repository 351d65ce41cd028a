//! ONNX Runtime and `onnx.checker` for the tests.

use lowbit::ir::Tensor;
use std::path::Path;

/// Runs `model` in ONNX Runtime on one input and returns every output.
pub fn run_ort(model: &Path, input: &Tensor) -> Vec<Tensor> {
    lowbit::onnxruntime::run(model, input).unwrap_or_else(|e| panic!("{e}"))
}

/// Checks a model with `onnx.checker.check_model(full_check=True)` in the test venv.
pub fn onnx_check(model: &Path) {
    crate::run_python(
        "import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)",
        &[model.as_os_str()],
    );
}

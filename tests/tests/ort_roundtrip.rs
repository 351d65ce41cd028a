//! A model written back by lowbit (import, then write in the same style)
//! passes `onnx.checker` and runs in ONNX Runtime with the original outputs.

use lowbit::export::{Style, write};
use lowbit_tests::ort_runner::{onnx_check, run_ort};
use lowbit_tests::{cases, diff};

#[test]
fn rewritten_models_run_in_onnx_runtime_with_identical_outputs() {
    let dir = std::env::temp_dir().join(format!("lowbit-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for case in cases().into_iter().filter(|c| c.format != "qonnx") {
        let graph = lowbit::import::import_file(&case.model()).unwrap();
        let out = dir.join(format!("{}.onnx", case.name));
        write(&graph, Style::of(&graph), &out).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        onnx_check(&out);
        let input = case.npy("input.npy").unwrap();
        let original = run_ort(&case.model(), &input);
        let rewritten = run_ort(&out, &input);
        let d = diff(&rewritten[0], &original[0], None);
        println!("{:<34} differing {}/{}", case.name, d.differing, d.total);
        if !d.exact() {
            failures.push(format!("{}: {} of {} outputs differ", case.name, d.differing, d.total));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// QONNX models written back by lowbit run in the `qonnx` executor with
/// the outputs the corpus recorded for the originals.
#[test]
fn rewritten_qonnx_models_run_in_the_qonnx_executor() {
    let dir = std::env::temp_dir().join(format!("lowbit-qonnx-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = lowbit_tests::workspace_root().join("tests/python/qonnx_exec.py");
    for case in cases().into_iter().filter(|c| c.format == "qonnx") {
        let graph = lowbit::import::import_file(&case.model()).unwrap();
        let out = dir.join(format!("{}.onnx", case.name));
        write(&graph, Style::Qonnx, &out).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let result = dir.join(format!("{}.npy", case.name));
        let status = std::process::Command::new(lowbit_tests::python())
            .arg(&script)
            .arg(&out)
            .arg(case.dir.join("input.npy"))
            .arg(&result)
            .status()
            .unwrap();
        assert!(status.success(), "{}: qonnx executor failed", case.name);
        let (expected, _) = case.expected();
        let d = diff(&lowbit::npy::read(&result).unwrap(), &expected, None);
        println!("{:<34} differing {}/{}", case.name, d.differing, d.total);
        assert!(d.exact(), "{}: {} of {} outputs differ", case.name, d.differing, d.total);
    }
    std::fs::remove_dir_all(&dir).ok();
}

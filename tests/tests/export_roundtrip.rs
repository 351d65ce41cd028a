//! Round trips: every corpus layer configuration built with `lowbit::nn`,
//! written in each style and imported back, computes exactly what the
//! exported graph computes; and lowbit's executor (the second reference)
//! agrees with the nn forward pass.

#[allow(dead_code)] // each test crate uses part of the shared support
mod export_support;

use export_support::{configs, randn};
use lowbit::export::{Style, write};
use lowbit::nn::export_graph;
use lowbit_tests::ort_runner::run_ort;
use lowbit_tests::{diff, output_lsb};

#[test]
fn import_of_export_reproduces_the_outputs_exactly() {
    let dir = std::env::temp_dir().join(format!("lowbit-nn-roundtrip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for config in configs().unwrap() {
        let input = randn(&config.shape, 1234);
        for style in [Style::Qcdq, Style::Qop, Style::Qonnx] {
            // Configurations QOp cannot express are refused (export_errors.rs checks the reasons).
            let Ok(graph) = export_graph(&config.model, &input, style, 13) else { continue };
            let path = dir.join(format!("{}.{style:?}.onnx", config.case));
            write(&graph, style, &path).unwrap();
            let back = lowbit::import::import_file(&path).unwrap();
            let a = lowbit::exec::run(&graph, std::slice::from_ref(&input)).unwrap();
            let b = lowbit::exec::run(&back, std::slice::from_ref(&input)).unwrap();
            if a[0] != b[0] {
                failures.push(format!("{} {style:?}: import(export) changed the outputs", config.case));
            }
            if style != Style::Qonnx {
                // ONNX Runtime vs nn forward: QCDQ the same float steps (≤ 1 LSB
                // from summation order), QOp integer requantization (≤ 1 LSB).
                let reference = config.model.forward(std::slice::from_ref(&input)).unwrap();
                let expected = match (style, reference.quant()) {
                    (Style::Qop, Some(q)) => q.int(),
                    _ => reference.value().clone(),
                };
                let lsb = if expected.dtype.is_int() { Some(1.0) } else { output_lsb(&graph) };
                let d = diff(&run_ort(&path, &input).remove(0), &expected, lsb);
                println!(
                    "{:<28} {style:?} ORT vs nn: max {:.3} LSB, {} of {} differ",
                    config.case, d.max_lsb, d.differing, d.total
                );
                if d.max_lsb > if lsb.is_some() { 1.0 } else { 1e-5 } {
                    failures.push(format!(
                        "{} {style:?}: ONNX Runtime and nn forward {} LSB apart",
                        config.case, d.max_lsb
                    ));
                }
            }
            if style == Style::Qcdq {
                // Executor vs nn forward: the same float32 steps, summed in
                // another order, so a value may cross a rounding boundary: ≤ 1 LSB.
                let reference = config.model.forward(std::slice::from_ref(&input)).unwrap();
                let d = diff(&a[0], reference.value(), output_lsb(&graph));
                println!(
                    "{:<28} exec vs nn: max {:.3} LSB, {} of {} differ",
                    config.case, d.max_lsb, d.differing, d.total
                );
                if d.max_lsb > 1.0 {
                    failures.push(format!("{}: executor and nn forward {} LSB apart", config.case, d.max_lsb));
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

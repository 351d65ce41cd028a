//! lowbit's export of each corpus layer configuration has Brevitas's
//! structure: the same op types in the same order (constants aside), the
//! same Clip bounds and the same quantizer axes, in every format the
//! corpus has the configuration in.

#[allow(dead_code)] // each test crate uses part of the shared support
mod export_support;

use export_support::{configs, structure};
use lowbit::export::{Style, to_model};
use lowbit::nn::export_graph;

/// Brevitas's QOp export keeps a dynamic batch with these shape
/// computations; lowbit writes `Reshape` targets with `0` (copy the batch).
const SHAPE_CHAIN: [&str; 4] = ["Shape", "Gather", "Unsqueeze", "Concat"];

#[test]
fn exports_have_the_structure_of_brevitas_exports() {
    let mut failures = Vec::new();
    let mut compared = 0;
    for config in configs().unwrap() {
        for (prefix, style) in [("qcdq", Style::Qcdq), ("qop", Style::Qop), ("qonnx", Style::Qonnx)] {
            let dir = lowbit_tests::corpus_dir().join(format!("{prefix}_{}", config.case));
            if !dir.is_dir() {
                continue;
            }
            let brevitas = lowbit::onnx::load(&dir.join("model.onnx")).unwrap();
            let example = export_support::randn(&config.shape, 99);
            let graph = export_graph(&config.model, &example, style, 13)
                .unwrap_or_else(|e| panic!("{prefix}_{}: {e}", config.case));
            let ours = structure(&to_model(&graph, style).unwrap(), &[]);
            let theirs = structure(&brevitas, &SHAPE_CHAIN);
            compared += 1;
            println!("{prefix}_{:<28} {}", config.case, ours.ops.join(" "));
            if ours != theirs {
                failures.push(format!("{prefix}_{}:\n  lowbit   {ours:?}\n  brevitas {theirs:?}", config.case));
            }
        }
    }
    assert_eq!(compared, 35, "every corpus case has a configuration");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

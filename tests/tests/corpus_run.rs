//! Every corpus model imports and `lowbit::exec` reproduces ONNX Runtime's output
//! (or the qonnx executor's, for QONNX models).

use lowbit_tests::{cases, diff, output_lsb};

#[test]
fn every_corpus_case_matches_its_reference() {
    let mut failures = Vec::new();
    println!("{:<34} {:<6} {:>10} {:>8} {:>9}  reference", "case", "format", "max LSB", "differ", "elements");
    for case in cases() {
        let graph = match lowbit::import::import_file(&case.model()) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{}: import failed: {e}", case.name));
                continue;
            }
        };
        let input = case.npy("input.npy").expect("input.npy");
        let outputs = match lowbit::exec::run(&graph, &[input]) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{}: run failed: {e}", case.name));
                continue;
            }
        };
        let (expected, reference) = case.expected();
        let d = diff(&outputs[0], &expected, output_lsb(&graph));
        println!(
            "{:<34} {:<6} {:>10.3e} {:>8} {:>9}  {reference}{}",
            case.name,
            case.format,
            d.max_lsb,
            d.differing,
            d.total,
            if d.exact() { "  exact" } else { "" }
        );
        // QOp models are integer arithmetic end to end: lowbit must be bit-exact.
        // QCDQ/QONNX run float ops that ONNX Runtime (or numpy) may sum in another
        // order, which can move a value across a rounding boundary: 1 LSB allowed.
        // An unquantized float output (a Gemm with float bias) is compared in
        // absolute terms: summation order moves it by a few float32 ulps.
        let tolerance = match (case.format.as_str(), output_lsb(&graph)) {
            ("qop", _) => 0.0,
            (_, Some(_)) => 1.0,
            (_, None) => 1e-5,
        };
        if d.max_lsb > tolerance {
            failures.push(format!("{}: max diff {} LSB > {tolerance}", case.name, d.max_lsb));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

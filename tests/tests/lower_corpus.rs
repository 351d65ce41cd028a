//! Every corpus model lowers to an `.lbm` program (or fails with a named
//! reason from a short, explicit list), and the program run by the runtime
//! crate on the host matches the reference output.

use lowbit_tests::{cases, diff};

/// Models that do not lower, with the reason the lowering gives.
const NOT_LOWERED: [(&str, &str); 3] = [
    // The float input is sliced in two and each half quantized with its own
    // scale: a program takes one quantized input.
    ("qcdq_eltwise_add", "Slice"),
    // No input or output quantizer: a float Gemm with a float bias.
    ("qcdq_linear_w8_default", "not quantized"),
    // QuantLinear without an input quantizer: the layer reads float input.
    ("qcdq_linear_w4pc_relu4", "not quantized"),
];

#[test]
fn corpus_models_lower_and_match_their_reference() {
    let mut failures = Vec::new();
    println!("{:<34} {:>8} {:>9} {:>7}  {:>8} {:>8}", "case", "max LSB", "differing", "total", "file B", "arena B");
    for case in cases() {
        let graph = lowbit::import::import_file(&case.model()).unwrap();
        let lowered = match lowbit::lower::lower(&graph) {
            Ok(l) => l,
            Err(e) => {
                let msg = e.to_string();
                match NOT_LOWERED.iter().find(|(n, _)| *n == case.name) {
                    Some((_, why)) if msg.contains(why) => println!("{:<34} not lowered: {msg}", case.name),
                    _ => failures.push(format!("{}: lowering failed: {msg}", case.name)),
                }
                continue;
            }
        };
        if NOT_LOWERED.iter().any(|(n, _)| *n == case.name) {
            failures.push(format!("{}: now lowers; remove it from NOT_LOWERED", case.name));
        }
        let run = lowbit::lower::run_lbm(&lowered.bytes, &case.npy("input.npy").unwrap()).unwrap();
        let (expected, _) = case.expected();
        // Integer references compare as integers; float references as steps of the output scale.
        let d = if expected.dtype.is_int() {
            diff(&run.ints, &expected, None)
        } else {
            diff(&run.floats, &expected, Some(run.quant.scale as f64))
        };
        println!(
            "{:<34} {:>8.3} {:>9} {:>7}  {:>8} {:>8}{}",
            case.name,
            d.max_lsb,
            d.differing,
            d.total,
            lowered.report.file_bytes,
            lowered.report.arena_bytes,
            if d.exact() { "  exact" } else { "" }
        );
        // QOp graphs are integer arithmetic end to end: bit-exact. QCDQ/QONNX
        // layers compute in float in ONNX Runtime / numpy, whose summation order
        // can move a value across a rounding boundary: at most 1 LSB.
        let tolerance = if case.format == "qop" { 0.0 } else { 1.0 };
        // (1e-6: dividing a float difference by the scale is itself rounded.)
        if d.max_lsb > tolerance + 1e-6 {
            failures.push(format!("{}: {} of {} differ, max {} LSB", case.name, d.differing, d.total, d.max_lsb));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The integer programs of the digits MLP classify the 360 test images
/// exactly as ONNX Runtime does (same logits, same argmax, accuracy 0.9667).
#[test]
fn digits_programs_match_onnx_runtime_on_all_360_images() {
    for case in cases().into_iter().filter(|c| c.name.ends_with("digits_mlp") && c.format != "qonnx") {
        let graph = lowbit::import::import_file(&case.model()).unwrap();
        let lowered = lowbit::lower::lower(&graph).unwrap();
        let run = lowbit::lower::run_lbm(&lowered.bytes, &case.npy("test_x.npy").unwrap()).unwrap();
        let labels = case.npy("test_y.npy").unwrap();
        let ort = case.npy("ort_test_logits.npy").unwrap();
        let (acc, preds) = lowbit_tests::accuracy(&run.floats, &labels);
        let (_, ort_preds) = lowbit_tests::accuracy(&ort, &labels);
        let d = diff(&run.floats, &ort, Some(run.quant.scale as f64));
        println!("{}: accuracy {acc:.4}, logits differing from ORT {}/{}", case.name, d.differing, d.total);
        assert_eq!(format!("{acc:.4}"), "0.9667", "{}", case.name);
        assert_eq!(preds, ort_preds, "{}", case.name);
        assert!(d.exact(), "{}", case.name);
    }
}

/// The digits MLP's `.lbm` is within 10 % of its information content (the
/// weights packed at their bit widths plus biases, multipliers and tables),
/// and its arena is the largest live set.
#[test]
fn digits_program_size_and_arena_meet_their_lower_bounds() {
    for case in cases().into_iter().filter(|c| c.name.ends_with("digits_mlp")) {
        let graph = lowbit::import::import_file(&case.model()).unwrap();
        let r = lowbit::lower::lower(&graph).unwrap().report;
        let bound = r.weight_bytes_lower_bound + r.param_bytes;
        let over = r.file_bytes as f64 / bound as f64 - 1.0;
        println!(
            "{}: file {} B, bound {} B ({:+.2} %), arena {} B",
            case.name,
            r.file_bytes,
            bound,
            over * 100.0,
            r.arena_bytes
        );
        assert_eq!(r.weight_bytes, r.weight_bytes_lower_bound, "{}: weights are packed at their bit widths", case.name);
        assert!(over <= 0.10, "{}: {} B is {:.1} % over {bound} B", case.name, r.file_bytes, over * 100.0);
        assert_eq!(r.arena_bytes, r.arena_bytes_lower_bound, "{}", case.name);
    }
}

//! `lowbit hls` on real models, as a new user tries it: the digits MLPs,
//! a corpus convolution and the example CNN, lowered, mapped to a FINN-style
//! dataflow for the PYNQ-Z2 with a target FPS, written as an HLS project and
//! C-simulated with g++; every output integer must equal the `.lbm`
//! program's as `lowbit run` computes it (`lowbit::lower::run_lbm`).

use lowbit::ir::Tensor;
use lowbit_hls::{Board, Design, Folding, Options};
use lowbit_runtime::arith;
use lowbit_runtime::build::KernelPolicy;
use lowbit_tests::{corpus_dir, workspace_root};
use std::path::Path;

/// The input integers `run_lbm` feeds the program (float input quantized
/// with the model's input quantization), one frame per sample.
fn frames(design: &Design, input: &Tensor) -> Vec<Vec<i64>> {
    let q = design.input.quant;
    let (lo, hi) = q.range();
    let values: Vec<i64> = input
        .as_f32()
        .expect("float input")
        .iter()
        .map(|&x| i64::from(arith::quantize(x, q.scale, q.zero_point, lo, hi)))
        .collect();
    values.chunks(design.input.shape.elements()).map(<[i64]>::to_vec).collect()
}

/// Lowers `model`, generates the project for `fps` and checks the C
/// simulation against `run_lbm` on `input`; returns the design.
fn check(name: &str, model: &Path, input: &Path, fps: f64) -> Design {
    let graph = lowbit::import::import_file(model).unwrap();
    let lbm = lowbit::lower::lower_with(&graph, KernelPolicy::Compact).unwrap().bytes;
    let mut options = Options::new(Board::find("pynq-z2").unwrap());
    options.folding = Folding::TargetFps(fps);
    let design = Design::new(&lbm, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hls_corpus").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    design.write_project(&dir).unwrap();
    let tcl = std::fs::read_to_string(dir.join("hls.tcl")).unwrap();
    assert!(tcl.contains("set_part {xc7z020clg400-1}") && tcl.contains("create_clock -period 10.000"), "{tcl}");
    let folding: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("folding_config.json")).unwrap()).unwrap();
    assert!(folding["MVAU_hls_0"]["PE"].is_u64(), "{folding}");
    let estimates: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("estimates.json")).unwrap()).unwrap();
    assert_eq!(estimates["max_cycles"], design.estimate.max_cycles);

    let input = lowbit::npy::read(input).unwrap();
    let expected = lowbit::lower::run_lbm(&lbm, &input).unwrap().ints;
    let report = design.csim(&dir, &frames(&design, &input)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let got: Vec<i64> = report.outputs.concat();
    assert_eq!(got, expected.as_int().unwrap(), "{name}: C simulation differs from run_lbm");
    assert!(report.exact());
    println!(
        "{name}: {} layers, {} cycles/frame ({}), {:.0} FPS, {} LUT, {} BRAM18; C-sim of {} frames exact \
         (compile {:.2} s, run {:.3} s)",
        design.dataflow.layers.len(),
        design.estimate.max_cycles,
        design.estimate.bottleneck,
        design.estimate.fps,
        design.estimate.total.lut,
        design.estimate.total.bram18,
        report.outputs.len(),
        report.compile_time.as_secs_f64(),
        report.run_time.as_secs_f64()
    );
    design
}

#[test]
fn digits_mlps_are_bit_exact_in_c_simulation() {
    for case in ["qop_digits_mlp", "qcdq_digits_mlp"] {
        let dir = corpus_dir().join(case);
        let d = check(case, &dir.join("model.onnx"), &dir.join("input.npy"), 100_000.0);
        // 1 000 cycles per frame at 100 MHz: every layer folds below it.
        assert_eq!(d.estimate.target_cycles, Some(1_000));
        assert!(d.estimate.max_cycles < 1_000 && d.estimate.fits);
    }
}

#[test]
fn convolutions_are_bit_exact_in_c_simulation() {
    let dir = corpus_dir().join("qop_conv2d_w4pc_s2p1_relu4");
    let d = check("qop_conv2d_w4pc_s2p1_relu4", &dir.join("model.onnx"), &dir.join("input.npy"), 20_000.0);
    let types: Vec<&str> = d.dataflow.layers.iter().map(|l| l.op.op_type()).collect();
    assert!(types.starts_with(&["FMPadding_hls", "ConvolutionInputGenerator_hls"]), "{types:?}");
    let cnn = workspace_root().join("examples/digits_cnn");
    let d = check("digits_cnn", &cnn.join("model.onnx"), &cnn.join("input.npy"), 100_000.0);
    assert!(d.dataflow.layers.iter().any(|l| l.op.op_type() == "StreamingMaxPool_hls"));
}

#[test]
fn transposed_convolutions_fail_with_the_layer_named() {
    let model = corpus_dir().join("qcdq_convT1d_w4_int32bias/model.onnx");
    let graph = lowbit::import::import_file(&model).unwrap();
    let lbm = lowbit::lower::lower_with(&graph, KernelPolicy::Compact).unwrap().bytes;
    let err = Design::new(&lbm, &Options::new(Board::find("pynq-z2").unwrap())).unwrap_err().to_string();
    assert!(
        err.starts_with("op 0 (ConvTranspose → 8x33): transposed convolutions have no FINN dataflow unit"),
        "{err}"
    );
}

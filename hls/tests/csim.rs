//! C simulation of generated projects against lowbit's runtime: every unit
//! (MVAU, VVAU, sliding windows, padding, streaming and window max pools,
//! sum pools, thresholds, stream adders and duplicators, width converters,
//! label selection) on programs built with the runtime's builder, unfolded,
//! folded for a target and folded from a configuration file. Needs g++ (or
//! `$CXX`).

mod common;

use common::{assert_csim_exact, options, residual_cnn, signal_net};
use lowbit_hls::graph::Op;
use lowbit_hls::{Design, Folding};

#[test]
fn residual_cnn_is_exact_unfolded_and_fully_folded() {
    let lbm = residual_cnn();
    let unfolded = Design::new(&lbm, &options(Folding::Unfolded)).unwrap();
    let types: Vec<&str> = unfolded.dataflow.layers.iter().map(|l| l.op.op_type()).collect();
    for expected in [
        "FMPadding_hls",
        "ConvolutionInputGenerator_hls",
        "MVAU_hls",
        "VVAU_hls",
        "DuplicateStreams_hls",
        "AddStreams_hls",
        "Thresholding_hls",
        "Pool_hls",
    ] {
        assert!(types.contains(&expected), "no {expected} in {types:?}");
    }
    // The ReLU table after the first convolution is fused into its thresholds.
    assert_eq!(types.iter().filter(|t| **t == "Thresholding_hls").count(), 2, "{types:?}");
    assert_csim_exact(&unfolded, "residual_unfolded", 6);

    let fast = Design::new(&lbm, &options(Folding::TargetFps(1e9))).unwrap();
    assert!(fast.dataflow.layers.iter().any(|l| l.fold.pe > 1 && l.fold.simd > 1));
    assert!(fast.dataflow.layers.iter().any(|l| matches!(l.op, Op::Dwc(_))));
    assert_csim_exact(&fast, "residual_fast", 6);
}

#[test]
fn a_folding_file_with_vvau_simd_and_odd_widths_is_exact() {
    let lbm = residual_cnn();
    let config = r#"{
        "Defaults": {"ram_style": ["block", ["MVAU_hls"]]},
        "MVAU_hls_0": {"PE": 3, "SIMD": 4, "resType": "dsp"},
        "VVAU_hls_0": {"PE": 2, "SIMD": 3},
        "ConvolutionInputGenerator_hls_0": {"SIMD": 2},
        "FMPadding_hls_0": {"SIMD": 4},
        "Thresholding_hls_0": {"PE": 3},
        "AddStreams_hls_0": {"PE": 6},
        "DuplicateStreams_hls_0": {"PE": 2},
        "Pool_hls_0": {"PE": 3},
        "MVAU_hls_1": {"PE": 5, "SIMD": 8, "inFIFODepths": [2]}
    }"#;
    let design = Design::new(&lbm, &options(Folding::Config(config.into()))).unwrap();
    let layer = |name: &str| design.dataflow.layer(name).unwrap();
    assert_eq!((layer("MVAU_hls_0").fold.pe, layer("MVAU_hls_0").fold.simd), (3, 4));
    assert_eq!(layer("VVAU_hls_0").fold.simd, 3);
    // The depthwise generators follow their consumers' PE.
    assert_eq!(layer("ConvolutionInputGenerator_hls_1").fold.simd, 2);
    assert_eq!(layer("ConvolutionInputGenerator_hls_2").fold.simd, 3);
    assert!(design.estimate.total.dsp > 0);
    assert!(design.notes.iter().any(|n| n.contains("inFIFODepths")), "{:?}", design.notes);
    assert_csim_exact(&design, "residual_config", 4);
}

#[test]
fn one_dimensional_network_is_exact() {
    let lbm = signal_net();
    for (name, folding) in [("signal_slow", Folding::TargetFps(2e5)), ("signal_fast", Folding::TargetFps(1e9))] {
        let design = Design::new(&lbm, &options(folding)).unwrap();
        let types: Vec<&str> = design.dataflow.layers.iter().map(|l| l.op.op_type()).collect();
        assert!(types.contains(&"StreamingMaxPool_hls"), "{types:?}");
        assert_eq!(types.first(), Some(&"Thresholding_hls"), "the input table is a standalone threshold unit");
        assert_csim_exact(&design, name, 5);
    }
}

#[test]
fn label_selection_returns_the_runtime_top_k() {
    let lbm = residual_cnn();
    let mut o = options(Folding::TargetFps(1e6));
    o.top_k = Some(3);
    let design = Design::new(&lbm, &o).unwrap();
    assert_eq!(design.dataflow.layers.last().unwrap().op.op_type(), "LabelSelect_hls");
    assert_eq!(design.output_values(), 3);
    assert_csim_exact(&design, "residual_top3", 6);
}

//! Folding search (FINN's SetFolding), folding files and estimates against
//! the board.

mod common;

use common::{options, q, residual_cnn, signal_net};
use lowbit_hls::graph::Op;
use lowbit_hls::{Board, Design, Folding, HlsError, Options};
use lowbit_runtime::WeightFormat;
use lowbit_runtime::build::{DenseParams, ProgramBuilder, Requant};
use std::collections::HashMap;

/// A 256 → 256 → 10 MLP with 8-bit weights.
fn wide_mlp() -> Vec<u8> {
    let mut r = common::Rng::new(5);
    let mut b = ProgramBuilder::new();
    let x = b.input(&[256], q(0.1, 0, 8, false)).unwrap();
    let h = b
        .dense(
            x,
            DenseParams {
                out_features: 256,
                weights: r.ints(256 * 256, -128, 127),
                weight_format: WeightFormat::Signed(8),
                bias: vec![],
                requant: Requant::new(vec![1e-4], q(0.1, 0, 4, false)),
            },
        )
        .unwrap();
    let y = b
        .dense(
            h,
            DenseParams {
                out_features: 10,
                weights: r.ints(2560, -128, 127),
                weight_format: WeightFormat::Signed(8),
                bias: vec![],
                requant: Requant::new(vec![1e-3], q(0.1, 0, 8, true)),
            },
        )
        .unwrap();
    b.output(y).unwrap();
    b.finish().unwrap().bytes
}

/// PE × SIMD of every folded unit (width converters excluded).
fn parallelism(d: &Design) -> HashMap<String, usize> {
    d.dataflow
        .layers
        .iter()
        .filter(|l| !matches!(l.op, Op::Dwc(_)))
        .map(|l| (l.name.clone(), l.fold.pe * l.fold.simd))
        .collect()
}

#[test]
fn raising_the_target_fps_never_lowers_any_layers_parallelism() {
    for lbm in [residual_cnn(), signal_net(), wide_mlp()] {
        let mut previous: Option<HashMap<String, usize>> = None;
        let mut fps = 10.0;
        while fps < 1e10 {
            let d = Design::new(&lbm, &options(Folding::TargetFps(fps))).unwrap();
            let now = parallelism(&d);
            if let Some(prev) = &previous {
                for (name, p) in prev {
                    assert!(now[name] >= *p, "{name}: PE·SIMD {} at {fps} FPS < {p} at {} FPS", now[name], fps / 3.0);
                }
            }
            // The search meets the budget when it can: the estimate is the bottleneck's.
            let target = d.estimate.target_cycles.unwrap();
            assert!(d.estimate.max_cycles < target || d.estimate.layers.iter().any(|l| l.cycles >= target));
            previous = Some(now);
            fps *= 3.0;
        }
    }
}

#[test]
fn set_folding_raises_simd_to_the_weight_width_bound_then_pe() {
    let lbm = wide_mlp();
    // 100 MHz / 20 000 FPS = 5 000 cycles: the 256x256 layer needs
    // PE·SIMD > 13; SIMD stops at 4 (8-bit weights × 4 = 32 ≤ 36 < 40),
    // then PE = 4 gives (256/4)·(256/4) = 4096 < 5000.
    let d = Design::new(&lbm, &options(Folding::TargetFps(20_000.0))).unwrap();
    let l = d.dataflow.layer("MVAU_hls_0").unwrap();
    assert_eq!((l.fold.simd, l.fold.pe), (4, 4));
    assert_eq!(d.estimate.target_cycles, Some(5_000));
    // The small layer meets the budget with SIMD alone: 10 · 256/1 = 2560 < 5000.
    let l = d.dataflow.layer("MVAU_hls_1").unwrap();
    assert_eq!((l.fold.simd, l.fold.pe), (1, 1));
    assert_eq!(d.estimate.max_cycles, 4096);
    assert_eq!(d.estimate.bottleneck, "MVAU_hls_0");
    assert!((d.estimate.fps - 1e8 / 4096.0).abs() < 1e-6);
}

#[test]
fn the_second_pass_balances_to_the_achieved_bottleneck() {
    // At 1e9 FPS nothing meets a 1-cycle budget. In the wide MLP the first
    // pass stops SIMD at the weight-width bound (4 × 8 bits ≤ 36) and
    // unrolls PE fully: (256/256)·(256/4) = 64 cycles.
    let d = Design::new(&wide_mlp(), &options(Folding::TargetFps(1e9))).unwrap();
    let first = d.dataflow.layer("MVAU_hls_0").unwrap();
    assert_eq!((first.fold.pe, first.fold.simd), (256, 4));
    assert_eq!((d.estimate.max_cycles, d.estimate.bottleneck.as_str()), (64, "MVAU_hls_0"));
    // In the residual CNN the depthwise window generator (SIMD tied to the
    // VVAU's 6 channels) cannot go below 384 cycles; the second pass folds
    // everything else for 384 only, so the thresholds after the Add keep
    // PE = 1 (216 cycles) instead of unrolling to 6 channels.
    let d = Design::new(&residual_cnn(), &options(Folding::TargetFps(1e9))).unwrap();
    assert_eq!(d.estimate.bottleneck, "ConvolutionInputGenerator_hls_1");
    assert_eq!(d.estimate.max_cycles, 384);
    let thresholds = d.estimate.layers.iter().find(|l| l.name == "Thresholding_hls_0").unwrap();
    assert_eq!((thresholds.pe, thresholds.cycles), (1, 216));
    assert!(d.estimate.layers.iter().all(|l| l.cycles <= 384));
}

#[test]
fn a_written_folding_config_reads_back_to_the_same_folding() {
    for lbm in [residual_cnn(), signal_net()] {
        let d = Design::new(&lbm, &options(Folding::TargetFps(3e6))).unwrap();
        let json = d.folding_config();
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["Defaults"], serde_json::json!({}));
        let mvau = &parsed["MVAU_hls_0"];
        assert_eq!(mvau["mem_mode"], "internal_embedded");
        assert!(mvau["PE"].is_u64() && mvau["SIMD"].is_u64() && mvau["ram_style"].is_string());
        let again = Design::new(&lbm, &options(Folding::Config(json))).unwrap();
        assert_eq!(parallelism(&again), parallelism(&d));
        assert_eq!(again.estimate.layers, d.estimate.layers);
    }
}

#[test]
fn folding_files_that_break_constraints_name_the_layer() {
    let lbm = residual_cnn();
    let err = |config: &str| Design::new(&lbm, &options(Folding::Config(config.into()))).unwrap_err().to_string();
    let e = err(r#"{"MVAU_hls_0": {"PE": 4}}"#);
    assert!(e.contains("MVAU_hls_0") && e.contains("PE = 4 must divide MH = 6"), "{e}");
    let e = err(r#"{"ConvolutionInputGenerator_hls_0": {"SIMD": 3}}"#);
    assert!(e.contains("ConvolutionInputGenerator_hls_0") && e.contains("IFMChannels = 4"), "{e}");
    let e = err(r#"{"ConvolutionInputGenerator_hls_1": {"SIMD": 2}}"#);
    assert!(e.contains("must equal its consumer's PE"), "{e}");
    let e = err(r#"{"MVAU_hls_9": {"PE": 1}}"#);
    assert!(e.contains("no layer \"MVAU_hls_9\"") && e.contains("VVAU_hls_0"), "{e}");
    let e = err(r#"{"Pool_hls_0": {"SIMD": 2}}"#);
    assert!(e.contains("Pool_hls has no SIMD"), "{e}");
    let e = err(r#"{"MVAU_hls_0": {"ram_style": "magnetic"}}"#);
    assert!(e.contains("expected one of auto, block, distributed, ultra"), "{e}");
}

#[test]
fn a_design_over_budget_is_reported_with_the_numbers() {
    let lbm = wide_mlp();
    let mut o = Options::new(Board::find("pynq-z1").unwrap());
    o.folding = Folding::TargetFps(1e9);
    let d = Design::new(&lbm, &o).unwrap();
    assert!(!d.estimate.fits);
    let lut = d.estimate.utilisation.iter().find(|u| u.resource == "LUT").unwrap();
    assert_eq!(lut.available, 53_200);
    assert!(lut.used > lut.available && lut.percent > 100.0);
    let table = d.estimate.to_string();
    assert!(table.contains("DOES NOT FIT") && table.contains(&format!("LUT {}/53200", lut.used)), "{table}");
    // Folded for 1 000 FPS it fits.
    o.folding = Folding::TargetFps(1_000.0);
    assert!(Design::new(&lbm, &o).unwrap().estimate.fits);
}

#[test]
fn estimates_sum_the_layers_and_follow_the_clock() {
    let lbm = residual_cnn();
    let mut o = options(Folding::TargetFps(1e5));
    o.clock_mhz = Some(250.0);
    let d = Design::new(&lbm, &o).unwrap();
    let e = &d.estimate;
    assert_eq!(e.total.lut, e.layers.iter().map(|l| l.resources.lut).sum::<u64>());
    assert_eq!(e.total.bram18, e.layers.iter().map(|l| l.resources.bram18).sum::<u64>());
    assert_eq!(e.max_cycles, e.layers.iter().map(|l| l.cycles).max().unwrap());
    assert_eq!(e.target_cycles, Some(2_500));
    assert!((e.fps - 250e6 / e.max_cycles as f64).abs() < 1e-6);
    assert!(e.critical_path_cycles >= e.max_cycles);
    let err = Design::new(&lbm, &options(Folding::TargetFps(0.0))).unwrap_err();
    assert!(matches!(err, HlsError::Config(_)), "{err}");
}

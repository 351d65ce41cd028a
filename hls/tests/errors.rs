//! Programs the dataflow path cannot map fail with an error naming the
//! layer, before anything is written.

mod common;

use common::{options, q};
use lowbit_hls::{Board, Design, Folding, HlsError};
use lowbit_runtime::WeightFormat;
use lowbit_runtime::build::{
    AddParams, AvgPoolParams, ConvParams, ConvTransposeParams, PoolParams, ProgramBuilder, Requant, TensorId,
    lut_from_fn,
};

/// Builds a program from `body` (input `[2, 6, 6]`, unsigned 4-bit).
fn program(body: impl FnOnce(&mut ProgramBuilder, TensorId) -> TensorId) -> Vec<u8> {
    let mut b = ProgramBuilder::new();
    let x = b.input(&[2, 6, 6], q(0.1, 0, 4, false)).unwrap();
    let conv = ConvParams {
        out_channels: 2,
        kernel: [1, 1],
        stride: [1, 1],
        pads: [0; 4],
        dilation: [1, 1],
        groups: 1,
        weights: vec![1, 2, -1, 3],
        weight_format: WeightFormat::Signed(3),
        bias: vec![],
        requant: Requant::new(vec![0.5], q(0.1, 0, 4, false)),
    };
    let y = b.conv(x, conv).unwrap();
    let y = body(&mut b, y);
    b.output(y).unwrap();
    b.finish().unwrap().bytes
}

fn unsupported(lbm: &[u8]) -> String {
    let err = Design::new(lbm, &options(Folding::Unfolded)).unwrap_err();
    assert!(matches!(err, HlsError::Unsupported { .. }), "{err}");
    err.to_string()
}

#[test]
fn transposed_convolutions_are_refused_by_name() {
    let lbm = program(|b, y| {
        let p = ConvTransposeParams {
            out_channels: 2,
            kernel: [2, 2],
            stride: [2, 2],
            pads: [0; 4],
            dilation: [1, 1],
            output_padding: [0, 0],
            groups: 1,
            weights: vec![1; 16],
            weight_format: WeightFormat::Signed(2),
            bias: vec![],
            requant: Requant::new(vec![0.1], q(0.1, 0, 8, true)),
        };
        b.conv_transpose(y, p).unwrap()
    });
    let e = unsupported(&lbm);
    assert!(e.starts_with("op 1 (ConvTranspose → 2x12x12): transposed convolutions"), "{e}");
}

#[test]
fn average_pools_that_exclude_padding_are_refused() {
    let lbm = program(|b, y| {
        let p = AvgPoolParams {
            pool: PoolParams { kernel: [3, 3], stride: [1, 1], pads: [1, 1, 1, 1], dilation: [1, 1] },
            count_include_pad: false,
            requant: Requant::new(vec![0.2; 9], q(0.1, 0, 4, false)),
        };
        b.avg_pool(y, p).unwrap()
    });
    let e = unsupported(&lbm);
    assert!(e.starts_with("op 1 (AvgPool → 2x6x6)") && e.contains("position-dependent"), "{e}");
}

#[test]
fn sums_of_differently_scaled_inputs_are_refused() {
    let lbm = program(|b, y| {
        let z = b.lut(y, &lut_from_fn(false, |v| v.clamp(0, 15)), q(0.37, 0, 4, false)).unwrap();
        b.add(y, z, AddParams::new(q(0.2, 0, 8, true))).unwrap()
    });
    let e = unsupported(&lbm);
    assert!(e.starts_with("op 2 (Add → 2x6x6)") && e.contains("not a function of the integer sum"), "{e}");
}

#[test]
fn non_monotonic_activations_are_refused() {
    let lbm = program(|b, y| b.lut(y, &lut_from_fn(false, |v| (v % 4).min(15)), q(0.1, 0, 4, false)).unwrap());
    let e = unsupported(&lbm);
    assert!(e.starts_with("op 0 (Conv → 2x6x6): the table of op 1 (Lut → 2x6x6) is not monotonic"), "{e}");
}

#[test]
fn programs_without_ops_and_unknown_boards_are_refused() {
    let mut b = ProgramBuilder::new();
    let x = b.input(&[4], q(0.1, 0, 8, true)).unwrap();
    b.output(x).unwrap();
    let e = unsupported(&b.finish().unwrap().bytes);
    assert!(e.contains("no ops"), "{e}");
    let e = Board::find("de10-nano").unwrap_err().to_string();
    assert!(e.contains("unknown board \"de10-nano\"") && e.contains("pynq-z2"), "{e}");
    let e = Design::new(&[0, 1, 2], &options(Folding::Unfolded)).unwrap_err();
    assert!(matches!(e, HlsError::Program(_)), "{e}");
}

//! What each format cannot express is an error naming the node and why.

use lowbit::export::Style;
use lowbit::ir::Tensor;
use lowbit::nn::Preset::{Int8ActPerTensorFloat, Int32Bias};
use lowbit::nn::{Model, NnError, QuantIdentity, QuantLinear, QuantReLU, export_graph};

fn input() -> Tensor {
    Tensor::f32(vec![4, 8], (0..32).map(|i| (i as f32 * 0.37).sin()).collect())
}

/// A calibrated model with one QuantLinear configured by `f`, behind a QuantIdentity.
fn linear(f: impl Fn(lowbit::nn::WeightLayer) -> lowbit::nn::WeightLayer) -> Model {
    let base = QuantLinear::new(8, 4, true).bias_quant(Int32Bias).output_quant(Int8ActPerTensorFloat);
    let mut m = Model::sequential("m", [QuantIdentity::new().into(), f(base).into()]).unwrap();
    m.calibrate(&[vec![input()]]).unwrap();
    m
}

fn error(model: &Model, style: Style, opset: i64) -> String {
    export_graph(model, &input(), style, opset).expect_err("the export must fail").to_string()
}

#[test]
fn qop_states_brevitas_constraints() {
    let cases: [(&str, Model, &str); 5] = [
        ("no weight quantizer", linear(|l| l.weight_quant(None).bias_quant(None)), "weights are not quantized"),
        ("no output quantizer", linear(|l| l.output_quant(None)), "output is not quantized"),
        ("float bias", linear(|l| l.bias_quant(None)), "bias is not quantized"),
        ("16-bit output", linear(|l| l.output_bit_width(16)), "16 bits"),
        (
            "input of another type",
            linear(|l| l.output_quant(lowbit::nn::Preset::Uint8ActPerTensorFloat)),
            "one type for both",
        ),
    ];
    for (what, model, reason) in cases {
        let e = error(&model, Style::Qop, 13);
        assert!(e.contains("node '1/Gemm' (Gemm)") && e.contains(reason), "{what}: {e}");
    }
    let mut narrow = Model::sequential(
        "m",
        [
            QuantIdentity::new().narrow_range(true).into(),
            QuantLinear::new(8, 4, true).bias_quant(Int32Bias).output_quant(Int8ActPerTensorFloat).into(),
        ],
    )
    .unwrap();
    narrow.calibrate(&[vec![input()]]).unwrap();
    assert!(error(&narrow, Style::Qop, 13).contains("narrow-range"));
}

#[test]
fn qcdq_states_bit_width_and_opset_limits() {
    let one_bit = linear(|l| l.weight_bit_width(1));
    let e = error(&one_bit, Style::Qcdq, 13);
    assert!(e.contains("1-bit") && e.contains("QONNX"), "{e}");
    // QONNX writes 1-bit weights as BipolarQuant.
    let g = export_graph(&one_bit, &input(), Style::Qonnx, 13).unwrap();
    let model = lowbit::export::to_model(&g, Style::Qonnx).unwrap();
    assert!(model.graph.unwrap().node.iter().any(|n| n.op_type() == "BipolarQuant"));

    let per_channel = linear(|l| l.weight_scaling_per_output_channel(true));
    let e = error(&per_channel, Style::Qcdq, 11);
    assert!(e.contains("per-channel") && e.contains("opset 13"), "{e}");
    assert!(export_graph(&per_channel, &input(), Style::Qcdq, 13).is_ok());
    let e = error(&linear(|l| l.output_bit_width(12)), Style::Qcdq, 13);
    assert!(e.contains("12 bits"), "{e}");
}

#[test]
fn models_explain_missing_calibration_and_input_quantization() {
    let m = Model::sequential("m", [QuantReLU::new().into()]).unwrap();
    assert!(matches!(m.forward(&[input()]), Err(NnError::Uncalibrated { .. })));
    let mut m = Model::sequential("m", [QuantLinear::new(8, 4, true).bias_quant(Int32Bias).into()]).unwrap();
    m.calibrate(&[vec![input()]]).unwrap();
    let e = m.forward(&[input()]).unwrap_err().to_string();
    assert!(e.contains("layer '0'") && e.contains("needs a quantized input"), "{e}");
}

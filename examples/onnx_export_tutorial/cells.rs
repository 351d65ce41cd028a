//! The cells of Brevitas's ONNX export tutorial, in Rust.
//!
//! Each cell builds a model, calibrates it on seeded random batches shaped
//! like the tutorial's input, and names the format it is exported in. The
//! example binary writes them; the tests in `tests/tests/export_tutorial.rs`
//! check each against ONNX Runtime (or the qonnx executor).

use lowbit::export::Style;
use lowbit::ir::Tensor;
use lowbit::nn::{
    Model, NnError,
    Preset::{Int8ActPerTensorFloat, Int32Bias},
    QuantConv2d, QuantIdentity, QuantLinear, QuantReLU,
};

/// One tutorial cell.
pub struct Cell {
    /// File stem of the exported model.
    pub name: &'static str,
    /// What the tutorial shows with it.
    pub title: &'static str,
    /// The calibrated model.
    pub model: Model,
    /// The example input (the tutorial's `torch.randn` shape).
    pub input: Tensor,
    /// The export format.
    pub style: Style,
}

const IN_CH: usize = 3;
const OUT_CH: usize = 128;

/// Standard-normal values from a seed (Box–Muller over SplitMix64).
pub fn randn(shape: &[usize], seed: u64) -> Tensor {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let n: usize = shape.iter().product();
    let v = (0..n)
        .map(|_| {
            let (u, w) = (next().max(f64::MIN_POSITIVE), next());
            ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * w).cos()) as f32
        })
        .collect();
    Tensor::f32(shape.to_vec(), v)
}

/// Calibrates `model` on eight N(0, 1) batches shaped like `input`; images
/// as 32×32 crops (the statistics do not depend on the image size).
fn calibrated(mut model: Model, input: &Tensor) -> Result<Model, NnError> {
    let mut shape = input.shape.clone();
    if shape.len() == 4 {
        shape[2..].copy_from_slice(&[32, 32]);
    }
    let batches: Vec<Vec<Tensor>> = (1..=8).map(|s| vec![randn(&shape, 100 + s)]).collect();
    model.calibrate(&batches)?;
    Ok(model)
}

/// Every cell, in the tutorial's order.
pub fn cells() -> Result<Vec<Cell>, NnError> {
    let linear_in = randn(&[1, IN_CH], 1);
    let image = randn(&[1, IN_CH, 128, 128], 2);
    let mut cells = Vec::new();

    // QCDQ: a QuantLinear with Brevitas's defaults (8-bit narrow per-tensor
    // weights, float input and bias).
    let model = Model::sequential("quant_linear", [QuantLinear::new(IN_CH, OUT_CH, true).into()])?;
    cells.push(Cell {
        name: "qcdq_quant_linear",
        title: "QCDQ: QuantLinear 3→128, default weights",
        model,
        input: linear_in.clone(),
        style: Style::Qcdq,
    });

    // QCDQ: per-channel weight scales and a QuantReLU.
    let model = Model::sequential(
        "per_channel_relu",
        [QuantLinear::new(IN_CH, OUT_CH, true).weight_scaling_per_output_channel(true).into(), QuantReLU::new().into()],
    )?;
    cells.push(Cell {
        name: "qcdq_per_channel_relu",
        title: "QCDQ: per-channel QuantLinear + QuantReLU",
        model: calibrated(model, &linear_in)?,
        input: linear_in.clone(),
        style: Style::Qcdq,
    });

    // QCDQ: 3-bit weights and a 4-bit ReLU: Clip −3..3 and 0..15.
    let low_bits = || -> Result<Model, NnError> {
        let model = Model::sequential(
            "low_bit",
            [QuantLinear::new(IN_CH, OUT_CH, true).weight_bit_width(3).into(), QuantReLU::new().bit_width(4).into()],
        )?;
        calibrated(model, &linear_in)
    };
    cells.push(Cell {
        name: "qcdq_w3_relu4",
        title: "QCDQ: 3-bit weights + 4-bit QuantReLU",
        model: low_bits()?,
        input: linear_in.clone(),
        style: Style::Qcdq,
    });

    // QOp: QuantIdentity + QuantConv2d with Int32Bias and an Int8 output.
    let model = Model::sequential(
        "qop_conv",
        [
            QuantIdentity::new().return_quant_tensor(true).into(),
            QuantConv2d::new(IN_CH, OUT_CH, 3).bias_quant(Int32Bias).output_quant(Int8ActPerTensorFloat).into(),
        ],
    )?;
    cells.push(Cell {
        name: "qop_conv_int32bias",
        title: "QOp: QuantIdentity + QuantConv2d, Int32Bias, Int8 output",
        model: calibrated(model, &image)?,
        input: image.clone(),
        style: Style::Qop,
    });

    // QOp: 4-bit weights and a 4-bit output, returned as a quantized tensor.
    let model = Model::sequential(
        "qop_conv_4bit",
        [
            QuantIdentity::new().return_quant_tensor(true).into(),
            QuantConv2d::new(IN_CH, OUT_CH, 3)
                .bias(false)
                .weight_bit_width(4)
                .output_quant(Int8ActPerTensorFloat)
                .output_bit_width(4)
                .return_quant_tensor(true)
                .into(),
        ],
    )?;
    cells.push(Cell {
        name: "qop_conv_w4_o4",
        title: "QOp: 4-bit weights, 4-bit output, return_quant_tensor",
        model: calibrated(model, &image)?,
        input: image,
        style: Style::Qop,
    });

    // QCDQ: a QuantLinear ONNX Runtime can run as QGemm.
    let model = Model::sequential(
        "qgemm_linear",
        [QuantLinear::new(IN_CH, OUT_CH, true)
            .weight_bit_width(5)
            .input_quant(Int8ActPerTensorFloat)
            .output_quant(Int8ActPerTensorFloat)
            .bias_quant(Int32Bias)
            .into()],
    )?;
    cells.push(Cell {
        name: "qcdq_qgemm_linear",
        title: "QCDQ: QGEMM-eligible QuantLinear, 5-bit weights",
        model: calibrated(model, &linear_in)?,
        input: linear_in.clone(),
        style: Style::Qcdq,
    });

    // QONNX: the low-bit model again, as Quant nodes.
    cells.push(Cell {
        name: "qonnx_w3_relu4",
        title: "QONNX: 3-bit weights + 4-bit QuantReLU",
        model: low_bits()?,
        input: linear_in,
        style: Style::Qonnx,
    });
    Ok(cells)
}

//! Shared by the export tests: the corpus's layer configurations rebuilt
//! with `lowbit::nn`, and what to compare in an ONNX model's structure.

use lowbit::ir::Tensor;
use lowbit::nn::Preset::{Int8ActPerTensorFloat, Int32Bias, ShiftedUint8ActPerTensorFloat, Uint8ActPerTensorFloat};
use lowbit::nn::{
    Flatten, Model, NnError, QuantAvgPool2d, QuantConv1d, QuantConv2d, QuantConvTranspose1d, QuantEltwiseAdd,
    QuantHardTanh, QuantIdentity, QuantLinear, QuantMaxPool2d, QuantReLU, Slice,
};
use lowbit::onnx::proto;

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
        .map(|_| ((-2.0 * next().max(1e-300).ln()).sqrt() * (std::f64::consts::TAU * next()).cos()) as f32)
        .collect();
    Tensor::f32(shape.to_vec(), v)
}

/// A corpus case's layers (the `layers` line of its `case.json`) and input shape.
pub struct Config {
    /// The case name without the format prefix.
    pub case: &'static str,
    /// The model, calibrated on 8 batches of N(0, 1) inputs like the corpus.
    pub model: Model,
    /// The corpus's input shape.
    pub shape: Vec<usize>,
}

fn seq(name: &str, layers: Vec<lowbit::nn::Layer>) -> Result<Model, NnError> {
    Model::sequential(name, layers)
}

fn id8() -> lowbit::nn::Layer {
    QuantIdentity::new().return_quant_tensor(true).into()
}

/// Every layer configuration of the corpus.
pub fn configs() -> Result<Vec<Config>, NnError> {
    let int8 = Int8ActPerTensorFloat;
    let mut out = vec![
        (
            "conv1d_w3_s2p1",
            vec![2, 4, 32],
            seq(
                "m",
                vec![
                    id8(),
                    QuantConv1d::new(4, 8, 3)
                        .stride(2)
                        .padding(1)
                        .weight_bit_width(3)
                        .bias_quant(Int32Bias)
                        .output_quant(int8)
                        .into(),
                ],
            )?,
        ),
        (
            "conv2d_dw_w8pc_int",
            vec![2, 8, 12, 12],
            seq(
                "m",
                vec![
                    id8(),
                    QuantConv2d::new(8, 8, 3)
                        .groups(8)
                        .padding(1)
                        .weight_scaling_per_output_channel(true)
                        .bias_quant(Int32Bias)
                        .output_quant(int8)
                        .return_quant_tensor(true)
                        .into(),
                ],
            )?,
        ),
        (
            "conv2d_w4_o4_int",
            vec![1, 3, 16, 16],
            seq(
                "m",
                vec![
                    id8(),
                    QuantConv2d::new(3, 16, 3)
                        .bias(false)
                        .weight_bit_width(4)
                        .output_quant(int8)
                        .output_bit_width(4)
                        .return_quant_tensor(true)
                        .into(),
                ],
            )?,
        ),
        (
            "conv2d_w4pc_s2p1_relu4",
            vec![2, 3, 16, 16],
            seq(
                "m",
                vec![
                    id8(),
                    QuantConv2d::new(3, 8, 3)
                        .stride(2)
                        .padding(1)
                        .weight_bit_width(4)
                        .weight_scaling_per_output_channel(true)
                        .bias_quant(Int32Bias)
                        .output_quant(int8)
                        .into(),
                    QuantReLU::new().bit_width(4).into(),
                ],
            )?,
        ),
        (
            "convT1d_w4_int32bias",
            vec![2, 4, 16],
            seq(
                "m",
                vec![
                    id8(),
                    QuantConvTranspose1d::new(4, 8, 3)
                        .stride(2)
                        .weight_bit_width(4)
                        .bias_quant(Int32Bias)
                        .output_quant(int8)
                        .into(),
                    QuantReLU::new().into(),
                ],
            )?,
        ),
        ("digits_mlp", vec![8, 64], {
            let fc = |i, o| {
                QuantLinear::new(i, o, true)
                    .weight_bit_width(4)
                    .bias_quant(Int32Bias)
                    .output_quant(Uint8ActPerTensorFloat)
            };
            seq(
                "m",
                vec![
                    QuantIdentity::new().act_quant(Uint8ActPerTensorFloat).return_quant_tensor(true).into(),
                    fc(64, 64).into(),
                    QuantReLU::new().bit_width(4).return_quant_tensor(true).into(),
                    fc(64, 32).into(),
                    QuantReLU::new().bit_width(4).return_quant_tensor(true).into(),
                    fc(32, 10).output_quant(ShiftedUint8ActPerTensorFloat).into(),
                ],
            )?
        }),
        ("eltwise_add", vec![2, 16], {
            let mut m = Model::new("m");
            let x = m.input("x");
            let a = m.add("a", Slice::new(1, 0, 8), &[x])?;
            let b = m.add("b", Slice::new(1, 8, i64::MAX), &[x])?;
            let qa = m.add("qa", QuantIdentity::new(), &[a])?;
            let qb = m.add("qb", QuantIdentity::new().bit_width(4), &[b])?;
            let sum = m.add("add", QuantEltwiseAdd::new().input_quant(None).output_quant(None), &[qa, qb])?;
            m.add("qo", QuantIdentity::new(), &[sum])?;
            m
        }),
        (
            "flatten_linear",
            vec![2, 1, 8, 8],
            seq(
                "m",
                vec![
                    id8(),
                    QuantConv2d::new(1, 4, 3).weight_bit_width(4).bias_quant(Int32Bias).output_quant(int8).into(),
                    QuantReLU::new().bit_width(4).return_quant_tensor(true).into(),
                    Flatten.into(),
                    QuantLinear::new(144, 10, true)
                        .weight_bit_width(4)
                        .bias_quant(Int32Bias)
                        .output_quant(ShiftedUint8ActPerTensorFloat)
                        .into(),
                ],
            )?,
        ),
        (
            "hardtanh_a4",
            vec![2, 32],
            seq("m", vec![QuantIdentity::new().into(), QuantHardTanh::new(-1.0, 1.0).bit_width(4).into()])?,
        ),
        ("identity_a4_signed", vec![2, 32], seq("m", vec![QuantIdentity::new().bit_width(4).into()])?),
        ("identity_a8_narrow", vec![2, 32], seq("m", vec![QuantIdentity::new().narrow_range(true).into()])?),
        ("identity_u8", vec![2, 32], seq("m", vec![QuantIdentity::new().act_quant(Uint8ActPerTensorFloat).into()])?),
        (
            "linear_w3_relu2",
            vec![2, 16],
            seq(
                "m",
                vec![
                    id8(),
                    QuantLinear::new(16, 32, true).weight_bit_width(3).bias_quant(Int32Bias).output_quant(int8).into(),
                    QuantReLU::new().bit_width(2).into(),
                ],
            )?,
        ),
        (
            "linear_w4pc_relu4",
            vec![2, 16],
            seq(
                "m",
                vec![
                    QuantLinear::new(16, 32, true).weight_bit_width(4).weight_scaling_per_output_channel(true).into(),
                    QuantReLU::new().bit_width(4).into(),
                ],
            )?,
        ),
        (
            "linear_w5_io8_int32bias",
            vec![2, 16],
            seq(
                "m",
                vec![
                    QuantLinear::new(16, 32, true)
                        .weight_bit_width(5)
                        .input_quant(int8)
                        .output_quant(int8)
                        .bias_quant(Int32Bias)
                        .into(),
                ],
            )?,
        ),
        ("linear_w8_default", vec![2, 16], seq("m", vec![QuantLinear::new(16, 32, true).into()])?),
        (
            "maxpool2d",
            vec![2, 4, 8, 8],
            seq("m", vec![id8(), QuantMaxPool2d::new(2).return_quant_tensor(true).into()])?,
        ),
        ("relu_a2", vec![2, 32], seq("m", vec![QuantReLU::new().bit_width(2).into()])?),
        (
            "relu_a4_qin",
            vec![2, 32],
            seq("m", vec![QuantIdentity::new().into(), QuantReLU::new().bit_width(4).into()])?,
        ),
        (
            "truncavgpool2d",
            vec![2, 4, 8, 8],
            seq(
                "m",
                vec![
                    QuantIdentity::new()
                        .act_quant(Uint8ActPerTensorFloat)
                        .bit_width(4)
                        .return_quant_tensor(true)
                        .into(),
                    QuantAvgPool2d::new(2).return_quant_tensor(true).into(),
                ],
            )?,
        ),
    ];
    for (_, shape, model) in &mut out {
        let batches: Vec<Vec<Tensor>> = (0..8).map(|s| vec![randn(shape, s)]).collect();
        model.calibrate(&batches)?;
    }
    Ok(out.into_iter().map(|(case, shape, model)| Config { case, model, shape }).collect())
}

/// An ONNX model's structure as the tests compare it: op types (without
/// `Constant`), `Clip` bounds, and the `axis` of quantizers.
#[derive(Debug, Clone, PartialEq)]
pub struct Structure {
    /// Op types in order.
    pub ops: Vec<String>,
    /// `(min, max)` of each Clip.
    pub clips: Vec<(f64, f64)>,
    /// `axis` attribute of each Quantize/DequantizeLinear that has one.
    pub axes: Vec<i64>,
}

/// The structure of `model`; `skip` op types are left out.
pub fn structure(model: &proto::ModelProto, skip: &[&str]) -> Structure {
    let g = model.graph.as_ref().expect("a graph");
    let mut consts = std::collections::HashMap::new();
    for t in &g.initializer {
        consts.insert(t.name().to_string(), lowbit::onnx::tensor_from_proto(t).unwrap());
    }
    for n in g.node.iter().filter(|n| n.op_type() == "Constant") {
        let t = n.attribute[0].t.as_ref().expect("a tensor constant");
        consts.insert(n.output[0].clone(), lowbit::onnx::tensor_from_proto(t).unwrap());
    }
    let mut s = Structure { ops: vec![], clips: vec![], axes: vec![] };
    for n in g.node.iter().filter(|n| n.op_type() != "Constant" && !skip.contains(&n.op_type())) {
        s.ops.push(n.op_type().to_string());
        if n.op_type() == "Clip" {
            let bound = |k: usize| consts.get(&n.input[k]).and_then(|t| t.scalar_f64()).unwrap_or(f64::NAN);
            s.clips.push((bound(1), bound(2)));
        }
        if let Some(a) = n.attribute.iter().find(|a| a.name() == "axis") {
            s.axes.push(a.i());
        }
    }
    s
}

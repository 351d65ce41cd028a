//! Synthetic models shared by the benchmarks.

use lowbit::ir::{DType, Tensor};
use lowbit::onnx::{proto, tensor_to_proto};

/// A QCDQ MLP with layer widths `dims`, int8 weights and int32 biases,
/// shaped like a Brevitas export.
pub fn qcdq_mlp(dims: &[usize]) -> proto::ModelProto {
    let mut nodes = Vec::new();
    let mut inits = Vec::new();
    let mut seed = 0x2545f491u32;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let mut scalar = |name: &str, t: Tensor| {
        inits.push(tensor_to_proto(name, &t));
        name.to_string()
    };
    let node = |op: &str, inputs: Vec<String>, out: &str| proto::NodeProto {
        op_type: Some(op.into()),
        name: Some(format!("/{out}/{op}")),
        input: inputs,
        output: vec![out.into()],
        ..Default::default()
    };
    let s_act = scalar("s_act", Tensor::f32(vec![], vec![0.05]));
    let zp = scalar("zp", Tensor::int(DType::I8, vec![], vec![0]));
    nodes.push(node("QuantizeLinear", vec!["x".into(), s_act.clone(), zp.clone()], "q0"));
    nodes.push(node("DequantizeLinear", vec!["q0".into(), s_act.clone(), zp.clone()], "a0"));
    let layers = dims.len() - 1;
    for l in 0..layers {
        let (k, n) = (dims[l], dims[l + 1]);
        let w: Vec<i64> = (0..k * n).map(|_| (rand() % 255) as i64 - 127).collect();
        let b: Vec<i64> = (0..n).map(|_| (rand() % 2001) as i64 - 1000).collect();
        let wn = scalar(&format!("w{l}"), Tensor::int(DType::I8, vec![n, k], w));
        let bn = scalar(&format!("b{l}"), Tensor::int(DType::I32, vec![n], b));
        let sw = scalar(&format!("sw{l}"), Tensor::f32(vec![], vec![0.01]));
        let sb = scalar(&format!("sb{l}"), Tensor::f32(vec![], vec![0.0005]));
        let zb = scalar(&format!("zb{l}"), Tensor::int(DType::I32, vec![], vec![0]));
        nodes.push(node("DequantizeLinear", vec![wn, sw, zp.clone()], &format!("wd{l}")));
        nodes.push(node("DequantizeLinear", vec![bn, sb, zb], &format!("bd{l}")));
        let mut gemm = node("Gemm", vec![format!("a{l}"), format!("wd{l}"), format!("bd{l}")], &format!("g{l}"));
        gemm.attribute.push(proto::AttributeProto {
            name: Some("transB".into()),
            i: Some(1),
            r#type: Some(proto::attribute_proto::AttributeType::Int as i32),
            ..Default::default()
        });
        nodes.push(gemm);
        nodes.push(node("QuantizeLinear", vec![format!("g{l}"), s_act.clone(), zp.clone()], &format!("q{}", l + 1)));
        nodes.push(node(
            "DequantizeLinear",
            vec![format!("q{}", l + 1), s_act.clone(), zp.clone()],
            &format!("a{}", l + 1),
        ));
    }
    let io = |name: &str, d: usize| proto::ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(proto::TypeProto {
            value: Some(proto::type_proto::Value::TensorType(proto::type_proto::Tensor {
                elem_type: Some(1),
                shape: Some(proto::TensorShapeProto {
                    dim: [1, d]
                        .iter()
                        .map(|&v| proto::tensor_shape_proto::Dimension {
                            value: Some(proto::tensor_shape_proto::dimension::Value::DimValue(v as i64)),
                            denotation: None,
                        })
                        .collect(),
                }),
            })),
            denotation: None,
        }),
        ..Default::default()
    };
    proto::ModelProto {
        ir_version: Some(7),
        opset_import: vec![proto::OperatorSetIdProto { domain: Some(String::new()), version: Some(13) }],
        graph: Some(proto::GraphProto {
            node: nodes,
            initializer: inits,
            input: vec![io("x", dims[0])],
            output: vec![io(&format!("a{layers}"), dims[layers])],
            ..Default::default()
        }),
        ..Default::default()
    }
}

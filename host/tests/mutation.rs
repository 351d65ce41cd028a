//! Fuzz-style property test: mutated corpus models never make the importer,
//! the inspector or the executor panic. They may import fine or fail with an
//! error; either is acceptable, a panic is not.

use lowbit::onnx::proto::{self, ModelProto};
use proptest::prelude::*;
use prost::Message;
use std::path::Path;
use std::sync::OnceLock;

/// Every corpus model, decoded, with its input.
fn corpus() -> &'static [(ModelProto, lowbit::ir::Tensor)] {
    static CORPUS: OnceLock<Vec<(ModelProto, lowbit::ir::Tensor)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
        let mut cases: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().join("model.onnx").is_file())
            .map(|e| e.path())
            .collect();
        cases.sort();
        cases
            .iter()
            .map(|c| {
                (lowbit::onnx::load(&c.join("model.onnx")).unwrap(), lowbit::npy::read(&c.join("input.npy")).unwrap())
            })
            .collect()
    })
}

/// One structural change to a model, chosen by `kind` and steered by `a`, `b`.
fn mutate(m: &mut ModelProto, kind: u8, a: u32, b: u32) {
    let g = m.graph.get_or_insert_default();
    let pick = |len: usize| if len == 0 { None } else { Some(a as usize % len) };
    match kind % 10 {
        // Change a dimension of an initializer.
        0 => {
            if let Some(i) = pick(g.initializer.len()) {
                let t = &mut g.initializer[i];
                let k = b as usize % t.dims.len().max(1);
                if let Some(d) = t.dims.get_mut(k) {
                    *d = (b as i64 % 7) - 1;
                } else {
                    t.dims.push(b as i64 % 5);
                }
            }
        }
        // Overwrite bytes of an initializer's payload.
        1 => {
            if let Some(i) = pick(g.initializer.len())
                && let Some(raw) = g.initializer[i].raw_data.as_mut()
                && !raw.is_empty()
            {
                let n = raw.len();
                raw[b as usize % n] = (a >> 8) as u8;
                let cut = (b as usize >> 4) % (n + 1);
                if b.is_multiple_of(3) {
                    raw.truncate(cut);
                }
            }
        }
        // Change an initializer's element type.
        2 => {
            if let Some(i) = pick(g.initializer.len()) {
                g.initializer[i].data_type = Some((b % 17) as i32);
            }
        }
        // Rewire a node input.
        3 => {
            if let Some(i) = pick(g.node.len()) {
                let names: Vec<String> = g.node.iter().flat_map(|n| n.output.clone()).collect();
                let n = &mut g.node[i];
                if let Some(k) = (!n.input.is_empty()).then(|| b as usize % n.input.len()) {
                    n.input[k] = names.get((b >> 8) as usize % names.len().max(1)).cloned().unwrap_or_default();
                }
            }
        }
        // Replace an op type with another known one.
        4 => {
            const OPS: [&str; 12] = [
                "Conv",
                "Gemm",
                "Relu",
                "Clip",
                "QuantizeLinear",
                "DequantizeLinear",
                "MaxPool",
                "AveragePool",
                "Add",
                "Flatten",
                "Reshape",
                "QLinearConv",
            ];
            if let Some(i) = pick(g.node.len()) {
                g.node[i].op_type = Some(OPS[b as usize % OPS.len()].into());
            }
        }
        // Change an integer attribute (strides, pads, group, axis …).
        5 => {
            if let Some(i) = pick(g.node.len()) {
                let k = b as usize % g.node[i].attribute.len().max(1);
                let Some(attr) = g.node[i].attribute.get_mut(k) else { return };
                let v = (b >> 4) as i64 % 9 - 2;
                let j = (b >> 8) as usize % attr.ints.len().max(1);
                if let Some(x) = attr.ints.get_mut(j) {
                    *x = v;
                } else {
                    attr.i = Some(v);
                }
            }
        }
        // Drop a node.
        6 => {
            if let Some(i) = pick(g.node.len()) {
                g.node.remove(i);
            }
        }
        // Drop an input of a node.
        7 => {
            if let Some(i) = pick(g.node.len())
                && !g.node[i].input.is_empty()
            {
                let k = b as usize % g.node[i].input.len();
                g.node[i].input.remove(k);
            }
        }
        // Change a declared input dimension.
        8 => {
            if let Some(proto::type_proto::Value::TensorType(t)) =
                g.input.first_mut().and_then(|i| i.r#type.as_mut()).and_then(|t| t.value.as_mut())
                && let Some(shape) = t.shape.as_mut()
                && let k = b as usize % shape.dim.len().max(1)
                && let Some(d) = shape.dim.get_mut(k)
            {
                d.value = Some(proto::tensor_shape_proto::dimension::Value::DimValue((a % 5) as i64));
            }
        }
        // Swap two nodes (breaks topological order).
        _ => {
            let n = g.node.len();
            if n > 1 {
                g.node.swap(a as usize % n, b as usize % n);
            }
        }
    }
}

/// Imports, inspects and runs a model; only a panic fails.
fn exercise(m: &ModelProto, input: &lowbit::ir::Tensor) {
    if let Ok(graph) = lowbit::import::import_model(m) {
        let _ = lowbit::inspect::render(&lowbit::inspect::report(&graph));
        let _ = lowbit::exec::run(&graph, std::slice::from_ref(input));
        let _ = lowbit::export::to_model(&graph, lowbit::export::Style::of(&graph));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_models_never_panic(case in 0usize..64, edits in prop::collection::vec((any::<u8>(), any::<u32>(), any::<u32>()), 1..4)) {
        let (model, input) = &corpus()[case % corpus().len()];
        let mut m = model.clone();
        for (kind, a, b) in edits {
            mutate(&mut m, kind, a, b);
        }
        exercise(&m, input);
    }

    #[test]
    fn corrupted_bytes_never_panic(case in 0usize..64, flips in prop::collection::vec((any::<u32>(), any::<u8>()), 1..8), cut in any::<u32>()) {
        let (model, input) = &corpus()[case % corpus().len()];
        let mut bytes = model.encode_to_vec();
        for (pos, v) in flips {
            let n = bytes.len();
            bytes[pos as usize % n] ^= v;
        }
        bytes.truncate(bytes.len() - cut as usize % (bytes.len() / 8 + 1));
        if let Ok(m) = ModelProto::decode(bytes.as_slice()) {
            exercise(&m, input);
        }
    }
}

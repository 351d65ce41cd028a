//! Bad input gets a clear error naming the file and node, never a panic.

use lowbit::import::{ImportError, import_file};
use lowbit::onnx::proto::{ModelProto, TensorProto};
use prost::Message;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus").join(case).join("model.onnx")
}

fn load(case: &str) -> ModelProto {
    lowbit::onnx::load(&corpus(case)).unwrap()
}

/// Writes a model to a fresh temporary file.
fn save(model: &ModelProto, tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lowbit-bad-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{tag}.onnx"));
    std::fs::write(&path, model.encode_to_vec()).unwrap();
    path
}

fn initializer<'a>(m: &'a mut ModelProto, name_part: &str) -> &'a mut TensorProto {
    let g = m.graph.as_mut().unwrap();
    g.initializer
        .iter_mut()
        .find(|t| t.name().contains(name_part))
        .unwrap_or_else(|| panic!("no initializer {name_part}"))
}

/// Imports `path` through the library and the CLI; both must fail with every `needles` in the message.
fn assert_rejected(path: &Path, needles: &[&str]) -> String {
    let err = import_file(path).expect_err("import should fail");
    let msg = err.to_string();
    for n in needles {
        assert!(msg.contains(n), "error {msg:?} does not mention {n:?}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_lowbit")).arg("inspect").arg(path).output().unwrap();
    assert!(!out.status.success(), "lowbit inspect succeeded on {}", path.display());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&path.display().to_string()), "CLI error does not name the file: {stderr}");
    assert!(!stderr.contains("panicked"), "CLI panicked: {stderr}");
    msg
}

#[test]
fn truncated_model_is_rejected() {
    let bytes = std::fs::read(corpus("qcdq_linear_w3_relu2")).unwrap();
    let dir = std::env::temp_dir().join(format!("lowbit-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("truncated.onnx");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert_rejected(&path, &["truncated.onnx", "not a valid ONNX model"]);
}

#[test]
fn text_file_is_rejected() {
    let dir = std::env::temp_dir().join(format!("lowbit-text-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("notes.onnx");
    std::fs::write(&path, "these are not the weights you are looking for\n").unwrap();
    let err = import_file(&path).unwrap_err();
    assert!(matches!(err, ImportError::Onnx(_)), "{err}");
    assert_rejected(&path, &["notes.onnx"]);
}

#[test]
fn missing_initializer_names_the_node_and_input() {
    let mut m = load("qcdq_linear_w3_relu2");
    let g = m.graph.as_mut().unwrap();
    let victim = g.initializer.iter().position(|t| t.data_type == Some(3) && t.dims.len() == 2).unwrap();
    let name = g.initializer.remove(victim).name().to_string();
    let msg = assert_rejected(&save(&m, "missing"), &["weight_quant", &name, "missing initializer"]);
    assert!(msg.contains("node '"), "{msg}");
}

#[test]
fn unknown_ops_are_listed_together() {
    let mut m = load("qcdq_flatten_linear");
    for n in &mut m.graph.as_mut().unwrap().node {
        match n.op_type() {
            "Conv" => n.op_type = Some("FancyConv".into()),
            "Gemm" => n.op_type = Some("FancyGemm".into()),
            _ => {}
        }
    }
    assert_rejected(
        &save(&m, "unknown"),
        &["2 unsupported node(s)", "'/mods.1/Conv' (ai.onnx::FancyConv, opset 13)", "FancyGemm"],
    );
}

#[test]
fn impossible_scales_are_rejected() {
    for (tag, scale) in [("zero", 0.0f32), ("negative", -0.5), ("nan", f32::NAN)] {
        let mut m = load("qcdq_identity_a4_signed");
        let t = initializer(&mut m, "act_quant/export_handler/Constant_output_0");
        t.raw_data = Some(scale.to_le_bytes().to_vec());
        assert_rejected(&save(&m, tag), &["QuantizeLinear", "scale", "not a positive finite number"]);
    }
}

#[test]
fn impossible_bit_widths_are_rejected() {
    for (tag, bits) in [("zero", 0.0f32), ("huge", 33.0), ("fraction", 4.5)] {
        let mut m = load("qonnx_linear_w3_relu2");
        for t in &mut m.graph.as_mut().unwrap().initializer {
            if t.dims.is_empty() && t.raw_data.as_deref() == Some(&3.0f32.to_le_bytes()[..]) {
                t.raw_data = Some(bits.to_le_bytes().to_vec());
            }
        }
        assert_rejected(&save(&m, &format!("bits_{tag}")), &["Quant", "bit width"]);
    }
}

#[test]
fn clip_bounds_that_fit_no_integer_range_are_rejected() {
    let mut m = load("qcdq_identity_a4_signed");
    initializer(&mut m, "Constant_2_output_0").raw_data = Some(vec![(-3i8) as u8]);
    initializer(&mut m, "Constant_3_output_0").raw_data = Some(vec![5]);
    assert_rejected(&save(&m, "clip"), &["Clip", "[-3, 5]", "fit no integer range"]);
}

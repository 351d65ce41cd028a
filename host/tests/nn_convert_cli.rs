//! `lowbit convert` on corpus models: a conversion that works, and one the
//! target format cannot express, reported with the node and the reason.

use std::path::PathBuf;
use std::process::Command;

fn corpus(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus").join(case).join("model.onnx")
}

#[test]
fn convert_writes_the_target_style_or_explains_why_not() {
    let out = std::env::temp_dir().join(format!("lowbit-cli-convert-{}.onnx", std::process::id()));
    let run = |case: &str, to: &str| {
        Command::new(env!("CARGO_BIN_EXE_lowbit"))
            .args(["convert"])
            .arg(corpus(case))
            .args(["--to", to, "-o"])
            .arg(&out)
            .output()
            .unwrap()
    };
    let ok = run("qcdq_linear_w3_relu2", "qop");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let graph = lowbit::import::import_file(&out).unwrap();
    assert_eq!(graph.source.format, lowbit::ir::Format::Qop);
    assert!(graph.nodes.iter().any(|n| n.op.name() == "QLinearConv"));

    let refused = run("qcdq_convT1d_w4_int32bias", "qop");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("node '/mods.1/ConvTranspose' (ConvTranspose)") && stderr.contains("QLinearConvTranspose"),
        "{stderr}"
    );
    std::fs::remove_file(&out).ok();
}

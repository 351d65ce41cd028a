//! Lowering cases the corpus does not cover, and the `lower`/`verify`/`run` CLI.

use lowbit::ir::{
    ConvAttrs, DType, Dim, Format, Graph, Node, Op, QuantParams, QuantizeAttrs, Source, Tensor, Value, ValueId,
};
use std::path::Path;
use std::process::Command;

/// Adds a value to `g`.
fn value(g: &mut Graph, name: &str, dtype: DType, quant: Option<QuantParams>, constant: Option<Tensor>) -> ValueId {
    g.add_value(Value { name: name.into(), dtype, quant, constant, declared_shape: None })
}

fn node(g: &mut Graph, op: Op, inputs: Vec<ValueId>, output: ValueId) {
    let name = format!("n{}", g.nodes.len());
    g.nodes.push(Node { name, op, inputs, output });
}

/// `Quantize → Dequantize → Conv(int4 weights, int32 bias) → BatchNorm → ReLU → Quantize → Dequantize`.
fn conv_bn_relu() -> Graph {
    let mut g = Graph {
        name: "conv_bn".into(),
        values: vec![],
        nodes: vec![],
        inputs: vec![],
        outputs: vec![],
        source: Source { format: Format::Qcdq, opsets: vec![(String::new(), 13)], producer: String::new() },
    };
    let x = value(&mut g, "x", DType::F32, None, None);
    g.values[x.0].declared_shape =
        Some(vec![Dim::Symbolic("batch".into()), Dim::Fixed(2), Dim::Fixed(6), Dim::Fixed(6)]);
    g.inputs.push(x);
    let qx = QuantParams::per_tensor(0.05, 0, 8, true, false);
    let xq = value(&mut g, "xq", DType::I8, Some(qx), None);
    node(&mut g, Op::Quantize(QuantizeAttrs::ONNX), vec![x], xq);
    let xd = value(&mut g, "xd", DType::F32, None, None);
    node(&mut g, Op::Dequantize, vec![xq], xd);
    let wq = QuantParams::per_tensor(0.1, 0, 4, true, true);
    let wv: Vec<i64> = (0..3 * 2 * 9).map(|i| (i * 5 % 15) - 7).collect();
    let w = value(&mut g, "w", DType::I8, Some(wq), Some(Tensor::int(DType::I8, vec![3, 2, 3, 3], wv)));
    let wd = value(&mut g, "wd", DType::F32, None, None);
    node(&mut g, Op::Dequantize, vec![w], wd);
    let bq = QuantParams::per_tensor(0.05 * 0.1, 0, 32, true, false);
    let b = value(&mut g, "b", DType::I32, Some(bq), Some(Tensor::int(DType::I32, vec![3], vec![40, -7, 300])));
    let bd = value(&mut g, "bd", DType::F32, None, None);
    node(&mut g, Op::Dequantize, vec![b], bd);
    let conv =
        ConvAttrs { kernel: vec![3, 3], strides: vec![1, 1], pads: vec![1, 1, 1, 1], dilations: vec![1, 1], group: 1 };
    let c = value(&mut g, "c", DType::F32, None, None);
    node(&mut g, Op::Conv(conv), vec![xd, wd, bd], c);
    let consts = [vec![1.5f32, 0.5, -0.8], vec![0.1, -0.2, 0.05], vec![0.3, 0.0, -0.1], vec![0.9, 1.1, 0.4]];
    let mut bn_inputs = vec![c];
    for (k, v) in consts.into_iter().enumerate() {
        bn_inputs.push(value(&mut g, &format!("bn{k}"), DType::F32, None, Some(Tensor::f32(vec![3], v))));
    }
    let bn = value(&mut g, "bn", DType::F32, None, None);
    node(&mut g, Op::BatchNorm { epsilon: 1e-5 }, bn_inputs, bn);
    let r = value(&mut g, "r", DType::F32, None, None);
    node(&mut g, Op::Relu, vec![bn], r);
    let yq = value(&mut g, "yq", DType::U8, Some(QuantParams::per_tensor(0.02, 0, 8, false, false)), None);
    node(&mut g, Op::Quantize(QuantizeAttrs::ONNX), vec![r], yq);
    let y = value(&mut g, "y", DType::F32, None, None);
    node(&mut g, Op::Dequantize, vec![yq], y);
    g.outputs.push(y);
    g
}

#[test]
fn batch_norm_folds_into_the_convolution() {
    let g = conv_bn_relu();
    let lowered = lowbit::lower::lower(&g).unwrap();
    // BatchNorm and ReLU leave no op of their own: one Conv.
    assert_eq!(lowered.report.ops.len(), 1, "{}", lowered.report);
    let input: Vec<f32> = (0..4 * 72).map(|i| ((i * 37 % 101) as f32 - 50.0) / 12.0).collect();
    let input = Tensor::f32(vec![4, 2, 6, 6], input);
    let reference = lowbit::exec::run(&g, std::slice::from_ref(&input)).unwrap().remove(0);
    let program = lowbit::lower::run_lbm(&lowered.bytes, &input).unwrap();
    let expected = lowbit::verify::reference_ints(&reference, &program);
    let h = lowbit::verify::histogram(program.ints.as_int().unwrap(), &expected);
    // The folded bias is rounded onto the accumulator grid and the float
    // reference sums in another order: at most one step apart.
    assert!(h.within(1), "{h:?}");
    assert!(h.exact as f64 >= 0.95 * h.total() as f64, "{h:?}");
}

fn corpus(case: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus").join(case)
}

#[test]
fn lower_then_run_the_program_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("lowbit-cli-lower-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lbm = dir.join("digits.lbm");
    let out = Command::new(env!("CARGO_BIN_EXE_lowbit"))
        .arg("lower")
        .arg(corpus("qop_digits_mlp/model.onnx"))
        .arg("-o")
        .arg(&lbm)
        .arg("--report")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("Dense"), "{report}");
    // The arena line states the plan and its lower bound; they must agree.
    let arena = report.lines().find(|l| l.starts_with("arena ")).expect("an arena line");
    let numbers: Vec<&str> = arena.split_whitespace().filter(|w| w.chars().all(|c| c.is_ascii_digit())).collect();
    assert_eq!(numbers.len(), 2, "{arena}");
    assert_eq!(numbers[0], numbers[1], "arena above its live-set bound: {arena}");
    let ints = dir.join("ints.npy");
    let out = Command::new(env!("CARGO_BIN_EXE_lowbit"))
        .arg("run")
        .arg(&lbm)
        .arg("--input")
        .arg(corpus("qop_digits_mlp/input.npy"))
        .arg("--output")
        .arg(&ints)
        .arg("--int")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = lowbit::npy::read(&ints).unwrap();
    let expected = lowbit::npy::read(&corpus("qop_digits_mlp/expected_ort.npy")).unwrap();
    // ORT's dequantized logits, back on their integer grid (scale 0.12175035, zero point 135).
    let expected: Vec<i64> =
        expected.as_f32().unwrap().iter().map(|&v| (v / 0.121_750_35).round() as i64 + 135).collect();
    assert_eq!(got.as_int().unwrap(), expected.as_slice());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_corrupt_program_is_refused_with_an_error() {
    let dir = std::env::temp_dir().join(format!("lowbit-cli-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let graph = lowbit::import::import_file(&corpus("qop_digits_mlp/model.onnx")).unwrap();
    let mut bytes = lowbit::lower::lower(&graph).unwrap().bytes;
    let n = bytes.len();
    bytes[n / 2] ^= 0x5a;
    let lbm = dir.join("corrupt.lbm");
    std::fs::write(&lbm, &bytes).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lowbit"))
        .arg("run")
        .arg(&lbm)
        .arg("--input")
        .arg(corpus("qop_digits_mlp/input.npy"))
        .arg("--output")
        .arg(dir.join("o.npy"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("corrupt.lbm") && err.contains("invalid .lbm model"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn verify_reports_the_histogram_and_fails_outside_the_tolerance() {
    let out = Command::new(env!("CARGO_BIN_EXE_lowbit"))
        .arg("verify")
        .arg(corpus("qop_conv2d_w4pc_s2p1_relu4/model.onnx"))
        .args(["--samples", "16"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("16 samples, 8192 output values, program vs ONNX Runtime"), "{text}");
    assert!(text.contains("exact      8192  100.00 %"), "{text}");

    // The Conv → BatchNorm graph written as QCDQ: the folded bias is rounded, so
    // with no tolerance at all some values are one step off and verify fails.
    let dir = std::env::temp_dir().join(format!("lowbit-cli-verify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("conv_bn.onnx");
    lowbit::export::write(&conv_bn_relu(), lowbit::export::Style::Qcdq, &model).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lowbit"))
        .arg("verify")
        .arg(&model)
        .args(["--samples", "32", "--tolerance", "0"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    println!("{text}{err}");
    assert!(!out.status.success(), "{text}");
    assert!(err.contains("differ by more than 0 step(s)"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// `Quantize(int8) → BipolarQuant → Gemm(bipolar weights) → Quantize`, as a
/// QONNX binary network: the dense layer uses the XNOR/popcount kernel and
/// agrees with the executor.
#[test]
fn binary_dense_uses_the_xnor_kernel() {
    use lowbit::ir::GemmAttrs;
    let mut g = Graph {
        name: "binary".into(),
        values: vec![],
        nodes: vec![],
        inputs: vec![],
        outputs: vec![],
        source: Source { format: Format::Qonnx, opsets: vec![(String::new(), 13)], producer: String::new() },
    };
    let x = value(&mut g, "x", DType::F32, None, None);
    g.values[x.0].declared_shape = Some(vec![Dim::Symbolic("batch".into()), Dim::Fixed(256)]);
    g.inputs.push(x);
    let xq = value(&mut g, "xq", DType::I8, Some(QuantParams::per_tensor(0.05, 0, 8, true, false)), None);
    node(&mut g, Op::Quantize(QuantizeAttrs::ONNX), vec![x], xq);
    let xd = value(&mut g, "xd", DType::F32, None, None);
    node(&mut g, Op::Dequantize, vec![xq], xd);
    let bipolar = QuantParams { bipolar: true, ..QuantParams::per_tensor(1.0, 0, 1, true, false) };
    let bq = value(&mut g, "bq", DType::I8, Some(bipolar.clone()), None);
    node(&mut g, Op::Quantize(QuantizeAttrs::ONNX), vec![xd], bq);
    let bd = value(&mut g, "bd", DType::F32, None, None);
    node(&mut g, Op::Dequantize, vec![bq], bd);
    let wv: Vec<i64> = (0..64 * 256).map(|i| if (i * 7 + i / 5) % 3 == 0 { -1 } else { 1 }).collect();
    let w = value(&mut g, "w", DType::I8, Some(bipolar), Some(Tensor::int(DType::I8, vec![64, 256], wv)));
    let wd = value(&mut g, "wd", DType::F32, None, None);
    node(&mut g, Op::Dequantize, vec![w], wd);
    let gemm = value(&mut g, "gemm", DType::F32, None, None);
    let attrs = GemmAttrs { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: true };
    node(&mut g, Op::Gemm(attrs), vec![bd, wd], gemm);
    let yq = value(&mut g, "yq", DType::I8, Some(QuantParams::per_tensor(0.5, 0, 8, true, false)), None);
    node(&mut g, Op::Quantize(QuantizeAttrs::ONNX), vec![gemm], yq);
    let y = value(&mut g, "y", DType::F32, None, None);
    node(&mut g, Op::Dequantize, vec![yq], y);
    g.outputs.push(y);

    let lowered = lowbit::lower::lower(&g).unwrap();
    let dense = lowered.report.ops.iter().find(|o| o.kind == lowbit_runtime::OpKind::Dense).unwrap();
    assert_eq!(dense.kernel, lowbit_runtime::Kernel::Binary, "{}", lowered.report);
    let input: Vec<f32> = (0..3 * 256).map(|i| ((i * 53 % 97) as f32 - 48.0) / 10.0).collect();
    let input = Tensor::f32(vec![3, 256], input);
    let reference = lowbit::exec::run(&g, std::slice::from_ref(&input)).unwrap().remove(0);
    let program = lowbit::lower::run_lbm(&lowered.bytes, &input).unwrap();
    // ±1 products sum exactly in float too: the program must match exactly.
    let h = lowbit::verify::histogram(
        program.ints.as_int().unwrap(),
        &lowbit::verify::reference_ints(&reference, &program),
    );
    assert_eq!(h.exact, h.total(), "{h:?}");
}

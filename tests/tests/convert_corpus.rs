//! `lowbit convert` through the IR on the whole corpus: every QCDQ model to
//! QOp (where QOp can express it) and to QONNX, every QOp model to QCDQ,
//! every QONNX model to QCDQ and QOp. The converted models' outputs on `input.npy`
//! agree with the corpus references within 1 LSB (ONNX Runtime runs QCDQ and
//! QOp, the qonnx executor runs QONNX).

use lowbit::export::{Style, write};
use lowbit::ir::Tensor;
use lowbit::transform::convert;
use lowbit_tests::ort_runner::run_ort;
use lowbit_tests::{Case, cases, diff, output_lsb};
use std::path::PathBuf;

/// Corpus QCDQ models QOp cannot express, with the node and reason lowbit must give.
const NOT_QOP: [(&str, &str, &str); 3] = [
    ("qcdq_convT1d_w4_int32bias", "ConvTranspose", "no integer transposed convolution"),
    ("qcdq_linear_w4pc_relu4", "Gemm", "the input is not quantized"),
    ("qcdq_linear_w8_default", "Gemm", "the input is not quantized"),
];

struct Converted {
    case: Case,
    to: Style,
    path: PathBuf,
    lsb: Option<f64>,
}

#[test]
fn corpus_conversions_agree_with_the_references() {
    let dir = std::env::temp_dir().join(format!("lowbit-convert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut done = Vec::new();
    for case in cases() {
        let graph = lowbit::import::import_file(&case.model()).unwrap();
        let targets: &[Style] = match case.format.as_str() {
            "qcdq" => &[Style::Qop, Style::Qonnx],
            "qonnx" => &[Style::Qcdq, Style::Qop],
            _ => &[Style::Qcdq],
        };
        for &to in targets {
            let result = convert(&graph, to);
            if let Some((_, op, reason)) = NOT_QOP.iter().find(|(c, ..)| *c == case.name).filter(|_| to == Style::Qop) {
                let e = result.expect_err(&case.name);
                assert!(e.op == *op && e.reason.contains(reason), "{}: unexpected error {e}", case.name);
                println!("{:<34} → {to:?}: refused: {e}", case.name);
                continue;
            }
            let mut converted = result.unwrap_or_else(|e| panic!("{} → {to:?}: {e}", case.name));
            if to == Style::Qonnx {
                // The qonnx executor needs fixed input shapes (`lowbit convert --batch`).
                let batch = case.npy("input.npy").unwrap().shape[0];
                lowbit::transform::fix_batch(&mut converted, batch);
            }
            let path = dir.join(format!("{}.{to:?}.onnx", case.name));
            write(&converted, to, &path).unwrap();
            let lsb = output_lsb(&graph);
            done.push(Converted { case: case.clone(), to, path, lsb });
        }
    }
    let qonnx: Vec<&Converted> = done.iter().filter(|c| c.to == Style::Qonnx).collect();
    let qonnx_out = run_qonnx(&qonnx, &dir);
    let mut failures = Vec::new();
    let mut qonnx_results = qonnx_out.into_iter();
    println!("{:<34} {:<6} {:>8} {:>12}", "case", "to", "max LSB", "mismatch");
    for c in &done {
        let input = c.case.npy("input.npy").unwrap();
        let actual = match c.to {
            Style::Qonnx => qonnx_results.next().expect("one result per QONNX model"),
            _ => run_ort(&c.path, &input).remove(0),
        };
        let (expected, _) = c.case.expected();
        let d = diff(&actual, &expected, c.lsb);
        println!(
            "{:<34} {:<6} {:>8.3} {:>6}/{:<6}",
            c.case.name,
            format!("{:?}", c.to),
            d.max_lsb,
            d.differing,
            d.total
        );
        // Integer and float arithmetic round differently (ONNX Runtime's
        // requantization multiplier vs float sums): at most 1 LSB apart.
        let tolerance = if c.lsb.is_some() { 1.0 } else { 1e-5 };
        if d.max_lsb > tolerance {
            failures.push(format!("{} → {:?}: {} LSB", c.case.name, c.to, d.max_lsb));
        }
    }
    assert_eq!(done.len() + NOT_QOP.len(), 19 * 2 + 12 + 4 * 2, "every case converted or refused");
    std::fs::remove_dir_all(&dir).ok();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs QONNX models in the qonnx executor, all in one Python process.
fn run_qonnx(models: &[&Converted], dir: &std::path::Path) -> Vec<Tensor> {
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    for (i, c) in models.iter().enumerate() {
        let out = dir.join(format!("qonnx_{i}.npy"));
        args.extend([
            c.path.clone().into_os_string(),
            c.case.dir.join("input.npy").into_os_string(),
            out.into_os_string(),
        ]);
    }
    let script = "import sys, numpy as np\n\
        from qonnx.core.modelwrapper import ModelWrapper\n\
        from qonnx.core.onnx_exec import execute_onnx\n\
        a = sys.argv[1:]\n\
        for m, x, o in zip(a[0::3], a[1::3], a[2::3]):\n\
        \x20   model = ModelWrapper(m)\n\
        \x20   out = execute_onnx(model, {model.graph.input[0].name: np.load(x)})[model.graph.output[0].name]\n\
        \x20   np.save(o, np.asarray(out, dtype=np.float32))\n";
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    lowbit_tests::run_python(script, &refs);
    (0..models.len()).map(|i| lowbit::npy::read(&dir.join(format!("qonnx_{i}.npy"))).unwrap()).collect()
}

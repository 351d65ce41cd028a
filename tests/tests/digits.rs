//! The digits MLP classifies the 360 held-out images exactly as ONNX Runtime does.

use lowbit_tests::{accuracy, cases, diff, output_lsb};

#[test]
fn digits_mlp_matches_onnx_runtime_on_all_360_images() {
    for case in cases().into_iter().filter(|c| c.name.ends_with("digits_mlp") && c.format != "qonnx") {
        let graph = lowbit::import::import_file(&case.model()).unwrap();
        let x = case.npy("test_x.npy").unwrap();
        let y = case.npy("test_y.npy").unwrap();
        let logits = lowbit::exec::run(&graph, &[x]).unwrap().remove(0);
        assert_eq!(logits.shape, vec![360, 10]);
        let ort = case.npy("ort_test_logits.npy").expect("ONNX Runtime's recorded test logits");
        let (acc, preds) = accuracy(&logits, &y);
        let (ort_acc, ort_preds) = accuracy(&ort, &y);
        let d = diff(&logits, &ort, output_lsb(&graph));
        println!("{}: accuracy {acc:.4} (ORT {ort_acc:.4}), logits differing {}/{}", case.name, d.differing, d.total);
        assert_eq!(format!("{acc:.4}"), "0.9667", "{}", case.name);
        assert_eq!(preds, ort_preds, "{}: argmax differs from ONNX Runtime", case.name);
        assert!(d.exact(), "{}: {} logits differ from ONNX Runtime", case.name, d.differing);
    }
}

#[test]
fn qonnx_digits_mlp_matches_the_qonnx_executor_on_all_360_images() {
    let case = cases().into_iter().find(|c| c.name == "qonnx_digits_mlp").unwrap();
    let graph = lowbit::import::import_file(&case.model()).unwrap();
    let logits = lowbit::exec::run(&graph, &[case.npy("test_x.npy").unwrap()]).unwrap().remove(0);
    let reference = case.npy("qonnx_exec_test_logits.npy").unwrap();
    let (acc, preds) = accuracy(&logits, &case.npy("test_y.npy").unwrap());
    let (_, ref_preds) = accuracy(&reference, &case.npy("test_y.npy").unwrap());
    assert_eq!(format!("{acc:.4}"), "0.9667");
    assert_eq!(preds, ref_preds);
    assert!(diff(&logits, &reference, output_lsb(&graph)).exact());
}

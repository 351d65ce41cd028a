//! Weights from `.safetensors` files reach the right layers; mismatches are errors.

use lowbit::ir::Tensor;
use lowbit::nn::{Layer, Model, QuantLinear, QuantReLU};

fn model() -> Model {
    Model::sequential("m", [QuantLinear::new(2, 3, true).into(), QuantReLU::new().into()]).unwrap()
}

fn write_safetensors(path: &std::path::Path, tensors: &[(&str, Vec<usize>, Vec<f32>)]) {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(n, s, v)| (n.to_string(), v.iter().flat_map(|x| x.to_le_bytes()).collect(), s.clone()))
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(n, b, s)| {
            (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b).unwrap())
        })
        .collect();
    safetensors::serialize_to_file(views, None, path).unwrap();
}

#[test]
fn safetensors_weights_load_by_state_dict_name() {
    let dir = std::env::temp_dir().join(format!("lowbit-nn-weights-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.safetensors");
    let w = vec![0.5, -0.25, 1.0, 0.0, -1.0, 0.75];
    write_safetensors(&path, &[("0.weight", vec![3, 2], w.clone()), ("0.bias", vec![3], vec![0.1, 0.2, 0.3])]);
    let mut m = model();
    m.load_safetensors(&path).unwrap();
    let Some(Layer::Weight(l)) = m.layer("0") else { panic!("layer 0 is a QuantLinear") };
    assert_eq!(l.weight, Some(Tensor::f32(vec![3, 2], w)));
    assert_eq!(l.bias, Some(vec![0.1, 0.2, 0.3]));

    write_safetensors(&path, &[("0.weight", vec![2, 3], vec![0.0; 6])]);
    let e = model().load_safetensors(&path).unwrap_err().to_string();
    assert!(e.contains("'0.weight' has shape [2, 3], the layer needs [3, 2]"), "{e}");
    write_safetensors(&path, &[("fc.weight", vec![3, 2], vec![0.0; 6])]);
    let e = model().load_safetensors(&path).unwrap_err().to_string();
    assert!(e.contains("'fc.weight' matches no layer"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn random_init_is_seeded() {
    let (mut a, mut b) = (model(), model());
    a.init_random(3);
    b.init_random(3);
    assert_eq!(a, b);
    b.init_random(4);
    assert_ne!(a.layer("0"), b.layer("0"));
}

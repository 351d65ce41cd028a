//! Weights saved by `numpy.savez` (a PyTorch state dict) load into a
//! `lowbit::nn` model by name.

use lowbit::nn::{Layer, Model, QuantConv2d, QuantLinear};

#[test]
fn npz_state_dicts_load_by_name() {
    let dir = std::env::temp_dir().join(format!("lowbit-npz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.npz");
    lowbit_tests::run_python(
        "import sys, numpy as np\n\
         w = np.arange(2 * 1 * 3 * 3, dtype=np.float32).reshape(2, 1, 3, 3) / 100\n\
         np.savez(sys.argv[1], **{'conv.weight': w, 'conv.bias': np.array([0.5, -0.5], np.float32),\n\
         \x20   'fc.weight': np.ones((4, 2), np.float64)})",
        &[path.as_os_str()],
    );
    let mut m = Model::new("m");
    let x = m.input("x");
    let c = m.add("conv", QuantConv2d::new(1, 2, 3), &[x]).unwrap();
    let f = m.add("flatten", lowbit::nn::Flatten, &[c]).unwrap();
    m.add("fc", QuantLinear::new(2, 4, false), &[f]).unwrap();
    m.load_npz(&path).unwrap();
    let Some(Layer::Weight(conv)) = m.layer("conv") else { panic!("conv is a QuantConv2d") };
    let w = conv.weight.as_ref().unwrap();
    assert_eq!(w.shape, vec![2, 1, 3, 3]);
    assert_eq!(w.as_f32().unwrap()[17], 0.17);
    assert_eq!(conv.bias, Some(vec![0.5, -0.5]));
    let Some(Layer::Weight(fc)) = m.layer("fc") else { panic!("fc is a QuantLinear") };
    assert_eq!(fc.weight.as_ref().unwrap().as_f32().unwrap(), &[1.0; 8], "float64 weights narrowed to float32");
    std::fs::remove_dir_all(&dir).ok();
}

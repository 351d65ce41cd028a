//! Host speed of the integer path: lowering a 1.06M-parameter model, and the
//! runtime classifying the 360 digits test images.
//!
//! Run with `cargo bench -p lowbit --bench lower`.

#[path = "support/models.rs"]
mod models;

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::Path;

fn bench(c: &mut Criterion) {
    let model = models::qcdq_mlp(&[1024, 1024, 10]);
    let graph = lowbit::import::import_model(&model).unwrap();
    let params = lowbit::inspect::report(&graph).totals.params;
    eprintln!("model: {params} parameters");
    c.bench_function("lower 1.06M-parameter QCDQ MLP", |b| b.iter(|| lowbit::lower::lower(&graph).unwrap()));

    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/qop_digits_mlp");
    let digits = lowbit::import::import_file(&case.join("model.onnx")).unwrap();
    let lbm = lowbit::lower::lower(&digits).unwrap().bytes;
    let images = lowbit::npy::read(&case.join("test_x.npy")).unwrap();
    c.bench_function("runtime: digits MLP on 360 images", |b| {
        b.iter(|| lowbit::lower::run_lbm(&lbm, &images).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);

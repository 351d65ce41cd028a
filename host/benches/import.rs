//! Host speed: importing and inspecting a QCDQ MLP of 3.1 million parameters.
//!
//! Run with `cargo bench -p lowbit --bench import`.

#[path = "support/models.rs"]
mod models;

use criterion::{Criterion, criterion_group, criterion_main};
use prost::Message;

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("lowbit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mlp3m.onnx");
    std::fs::write(&path, models::qcdq_mlp(&[1024, 2048, 512, 10]).encode_to_vec()).unwrap();
    let graph = lowbit::import::import_file(&path).unwrap();
    let report = lowbit::inspect::report(&graph);
    eprintln!("model: {} parameters, {} bytes", report.totals.params, std::fs::metadata(&path).unwrap().len());
    c.bench_function("import 3.1M-parameter QCDQ MLP", |b| b.iter(|| lowbit::import::import_file(&path).unwrap()));
    c.bench_function("import + inspect 3.1M-parameter QCDQ MLP", |b| {
        b.iter(|| lowbit::inspect::render(&lowbit::inspect::report(&lowbit::import::import_file(&path).unwrap())))
    });
    std::fs::remove_dir_all(&dir).ok();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);

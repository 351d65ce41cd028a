//! Host timing of a ~1M-parameter model: how long `ProgramBuilder::finish`
//! takes and how long one `Model::run` takes, for 8-bit and 4-bit weights.
//!
//! `cargo run --release -p lowbit-runtime --example dense_1m`

use lowbit_runtime::build::{DenseParams, ProgramBuilder, Requant};
use lowbit_runtime::{Model, TensorQuant, WeightFormat};
use std::time::Instant;

fn main() {
    let (n, o) = (1024, 1024);
    let q = TensorQuant {
        scale: 0.02,
        zero_point: 3,
        bits: 8,
        signed: true,
    };
    for format in [WeightFormat::Signed(8), WeightFormat::Signed(4), WeightFormat::Bipolar] {
        let (lo, hi) = match format {
            WeightFormat::Bipolar => (-1, 1),
            f => (-(1 << (f.bits() - 1)), (1 << (f.bits() - 1)) - 1),
        };
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let weights: Vec<i32> = (0..n * o)
            .map(|_| {
                let v = lo + (next() % (hi - lo + 1) as u64) as i32;
                if format == WeightFormat::Bipolar && v == 0 {
                    1
                } else {
                    v
                }
            })
            .collect();
        let input: Vec<u8> = (0..n).map(|_| next() as u8).collect();

        let start = Instant::now();
        let mut b = ProgramBuilder::new();
        let x = b.input(&[n], q).unwrap();
        let params = DenseParams {
            out_features: o,
            weights,
            weight_format: format,
            bias: vec![100; o],
            requant: Requant::new(vec![0.0005; o], q),
        };
        let y = b.dense(x, params).unwrap();
        b.output(y).unwrap();
        let add_time = start.elapsed();
        let start = Instant::now();
        let built = b.finish().unwrap();
        let finish_time = start.elapsed();

        let model = Model::from_bytes(&built.bytes).unwrap();
        let parse_time = {
            let start = Instant::now();
            for _ in 0..10 {
                Model::from_bytes(&built.bytes).unwrap();
            }
            start.elapsed() / 10
        };
        let mut arena = vec![0; model.arena_size()];
        let mut output = vec![0; model.output_len()];
        let runs = 50;
        let start = Instant::now();
        for _ in 0..runs {
            model.run(&mut arena, &input, &mut output).unwrap();
        }
        let run_time = start.elapsed() / runs;
        println!(
            "{format:?}: {} params, file {} B; dense() {:.1} ms, finish() {:.1} ms; from_bytes {:.2} ms; \
             run {:.3} ms ({:.2} GMAC/s)",
            n * o,
            built.bytes.len(),
            add_time.as_secs_f64() * 1e3,
            finish_time.as_secs_f64() * 1e3,
            parse_time.as_secs_f64() * 1e3,
            run_time.as_secs_f64() * 1e3,
            (n * o) as f64 / run_time.as_secs_f64() / 1e9,
        );
    }
}

//! The top-k report of a classifier's output: dequantized scores and softmax
//! probabilities, computed on the device with `micromath`.
//!
//! It is for people reading the log; parity with the host is judged on the
//! output integers of `lowbit.run`, never on these floats (`micromath`'s
//! `exp` is an approximation).

use heapless::Vec;
use lowbit_runtime::TensorInfo;
use micromath::F32Ext;

/// Classes reported per inference.
pub const K: usize = 3;
/// Outputs longer than this are not treated as class scores.
const MAX_CLASSES: usize = 1024;

/// One of the best classes.
#[derive(Clone, Copy)]
pub struct Top {
    /// Class index (position in the output).
    pub class: u32,
    /// Dequantized score, `(q - zero_point) × scale`.
    pub score: f32,
    /// Softmax probability over all classes.
    pub probability: f32,
}

/// Whether `output` looks like class scores: a vector of 2 to 1024 values.
pub fn is_classifier(output: &TensorInfo) -> bool {
    output.shape.rank() == 1 && (2..=MAX_CLASSES).contains(&output.shape.elements())
}

/// The `K` best classes of `output` (bytes as `run` wrote them), best first;
/// ties keep the lower class first.
pub fn top_k(output: &[u8], info: &TensorInfo) -> Vec<Top, K> {
    let q = info.quant;
    let score = |byte: u8| {
        let value = if q.signed { i32::from(byte as i8) } else { i32::from(byte) };
        (value - q.zero_point) as f32 * q.scale
    };
    let mut best: Vec<(u32, f32), K> = Vec::new();
    for (class, &byte) in output.iter().enumerate() {
        let s = score(byte);
        let at = best.iter().position(|&(_, t)| s > t).unwrap_or(best.len());
        if at < K {
            if best.is_full() {
                best.pop();
            }
            // Cannot fail: one slot is free after the pop.
            let _ = best.insert(at, (class as u32, s));
        }
    }
    let max = best.first().map_or(0.0, |&(_, s)| s);
    let sum: f32 = output.iter().map(|&b| (score(b) - max).exp()).sum();
    best.iter().map(|&(class, s)| Top { class, score: s, probability: (s - max).exp() / sum }).collect()
}

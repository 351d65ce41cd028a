//! Dense (fully connected): matrix × vector.

use super::{Fault, Output, Values, Weights};
use crate::format::{WeightFormat, WeightStream, i32_at};

/// Arguments of [`dense`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct DenseArgs<'a> {
    /// Input features (the input tensor's element count; any rank, read in
    /// `C,H,W` order, which is ONNX's `Flatten` order).
    pub(crate) inputs: usize,
    /// Output features.
    pub(crate) outputs: usize,
    /// Weights in ONNX `[out, in]` order.
    pub(crate) weights: Weights<'a>,
    /// One little-endian `i32` bias per output, with the zero-point
    /// correction folded in: `bias - x_zero · Σ_i w[o, i]`.
    pub(crate) bias: &'a [u8],
    /// How input bytes are read.
    pub(crate) x: Values,
    /// Requantization.
    pub(crate) out: Output<'a>,
}

/// `y[o] = requant(bias'[o] + Σ_i w[o, i] · x[i])`.
#[inline(never)]
pub(crate) fn dense(a: &DenseArgs<'_>, x: &[u8], y: &mut [u8]) -> Result<(), Fault> {
    if x.len() != a.inputs || y.len() != a.outputs {
        return Err(Fault);
    }
    for (o, out) in y.iter_mut().enumerate() {
        let mut acc = i32_at(a.bias, o).ok_or(Fault)?;
        if a.weights.format == WeightFormat::Signed(8) {
            // Byte-aligned rows: read the weights in place, no bit unpacking.
            let row = a.weights.bytes.get(o * a.inputs..(o + 1) * a.inputs).ok_or(Fault)?;
            for (&wb, &xb) in row.iter().zip(x) {
                acc = acc.wrapping_add(i32::from(wb as i8).wrapping_mul(a.x.get(xb)));
            }
        } else {
            let mut weights = WeightStream::at(a.weights.bytes, a.weights.format, o * a.inputs);
            for &xb in x {
                acc = acc.wrapping_add(weights.next_weight().wrapping_mul(a.x.get(xb)));
            }
        }
        *out = a.out.store(acc, a.out.multiplier(o)?);
    }
    Ok(())
}

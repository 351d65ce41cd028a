//! Elementwise addition of two quantized tensors.

use super::{Fault, Values};
use crate::arith;
use crate::format::TensorQuant;

/// Arguments of [`add`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct AddArgs {
    /// Quantization of the first input.
    pub(crate) a: TensorQuant,
    /// Quantization of the second input.
    pub(crate) b: TensorQuant,
    /// Quantization of the output.
    pub(crate) y: TensorQuant,
    /// Smallest output value.
    pub(crate) lo: i32,
    /// Largest output value.
    pub(crate) hi: i32,
}

/// ONNX Runtime's float path for `DequantizeLinear → Add → QuantizeLinear`:
/// `y = quantize(dequantize(a) + dequantize(b))` in `f32`.
#[inline(never)]
pub(crate) fn add(p: &AddArgs, a: &[u8], b: &[u8], y: &mut [u8]) -> Result<(), Fault> {
    if a.len() != y.len() || b.len() != y.len() {
        return Err(Fault);
    }
    let (va, vb) = (Values::new(p.a.signed), Values::new(p.b.signed));
    for ((out, &xa), &xb) in y.iter_mut().zip(a).zip(b) {
        let da = arith::dequantize(va.get(xa), p.a.scale, p.a.zero_point);
        let db = arith::dequantize(vb.get(xb), p.b.scale, p.b.zero_point);
        *out = arith::quantize(da + db, p.y.scale, p.y.zero_point, p.lo, p.hi) as u8;
    }
    Ok(())
}

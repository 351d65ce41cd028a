//! Values of the reference forward pass: quantized tensors and outputs.

use super::quant::quantize;
use crate::ir::{QuantParams, Tensor};

/// A float tensor whose values lie on a quantization grid, as Brevitas's
/// `QuantTensor`: `value = (int - zero_point) · scale`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantTensor {
    /// The dequantized float32 values.
    pub value: Tensor,
    /// Scale, zero point, bit width and signedness of the grid.
    pub params: QuantParams,
}

impl QuantTensor {
    /// The integers behind the values, in their ONNX storage type.
    pub fn int(&self) -> Tensor {
        quantize(&self.value, &self.params)
    }

    /// The scale(s).
    pub fn scale(&self) -> &[f32] {
        &self.params.scale
    }

    /// The zero point(s).
    pub fn zero_point(&self) -> &[i64] {
        &self.params.zero_point
    }

    /// The bit width.
    pub fn bit_width(&self) -> u32 {
        self.params.bits
    }

    /// Whether the integers are signed.
    pub fn signed(&self) -> bool {
        self.params.signed
    }
}

/// A model's result: a plain float tensor, or a [`QuantTensor`] when the
/// last layer has `return_quant_tensor` set.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Float values.
    Float(Tensor),
    /// Values on a quantization grid.
    Quant(QuantTensor),
}

impl Output {
    /// The float values either way.
    pub fn value(&self) -> &Tensor {
        match self {
            Output::Float(t) => t,
            Output::Quant(q) => &q.value,
        }
    }

    /// The quantized tensor, if the output is one.
    pub fn quant(&self) -> Option<&QuantTensor> {
        match self {
            Output::Float(_) => None,
            Output::Quant(q) => Some(q),
        }
    }
}

/// A value flowing through the reference forward pass: float values and,
/// when they lie on a quantization grid, its parameters.
#[derive(Debug, Clone)]
pub(crate) struct Act {
    /// Float32 values.
    pub value: Tensor,
    /// The grid, when the values were quantized.
    pub grid: Option<QuantParams>,
}

impl Act {
    /// Float values off any grid.
    pub fn float(value: Tensor) -> Act {
        Act { value, grid: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_recovers_the_integers() {
        let params = QuantParams::per_tensor(0.5, 1, 4, false, false);
        let q = QuantTensor { value: Tensor::f32(vec![3], vec![-0.5, 0.0, 2.0]), params };
        let i = q.int();
        assert_eq!(i.dtype, crate::ir::DType::U8);
        assert_eq!(i.as_int().unwrap(), &[0, 1, 5]);
    }
}

//! Dense tensors: constants in the graph and values in the executor.

use std::fmt;

/// Element type of a tensor, as stored in ONNX.
///
/// Integer tensors keep their storage type so that exporters can write them
/// back unchanged, but their values are held widened to `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// IEEE float32.
    F32,
    /// Signed 8-bit integer.
    I8,
    /// Unsigned 8-bit integer.
    U8,
    /// Signed 16-bit integer.
    I16,
    /// Unsigned 16-bit integer.
    U16,
    /// Signed 32-bit integer.
    I32,
    /// Signed 64-bit integer (shapes, indices).
    I64,
    /// Boolean, held as 0 or 1 (flags some exporters append as outputs).
    Bool,
}

impl DType {
    /// Whether the type is an integer type.
    pub fn is_int(self) -> bool {
        self != DType::F32
    }

    /// The representable range of an integer type (`None` for float).
    pub fn int_range(self) -> Option<(i64, i64)> {
        Some(match self {
            DType::F32 => return None,
            DType::I8 => (i8::MIN as i64, i8::MAX as i64),
            DType::U8 => (0, u8::MAX as i64),
            DType::I16 => (i16::MIN as i64, i16::MAX as i64),
            DType::U16 => (0, u16::MAX as i64),
            DType::I32 => (i32::MIN as i64, i32::MAX as i64),
            DType::I64 => (i64::MIN, i64::MAX),
            DType::Bool => (0, 1),
        })
    }

    /// Bit width and signedness of an integer type.
    pub fn int_bits(self) -> Option<(u32, bool)> {
        Some(match self {
            DType::F32 => return None,
            DType::I8 => (8, true),
            DType::U8 => (8, false),
            DType::I16 => (16, true),
            DType::U16 => (16, false),
            DType::I32 => (32, true),
            DType::I64 => (64, true),
            DType::Bool => (1, false),
        })
    }

    /// The smallest ONNX storage type for `bits`-wide values.
    pub fn storage_for(bits: u32, signed: bool) -> DType {
        match (bits, signed) {
            (0..=8, true) => DType::I8,
            (0..=8, false) => DType::U8,
            (9..=16, true) => DType::I16,
            (9..=16, false) => DType::U16,
            (_, true) => DType::I32,
            // ONNX has no uint32 quantized type lowbit writes; int64 holds it.
            (_, false) => DType::I64,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            DType::F32 => "float32",
            DType::I8 => "int8",
            DType::U8 => "uint8",
            DType::I16 => "int16",
            DType::U16 => "uint16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::Bool => "bool",
        };
        f.write_str(s)
    }
}

/// The elements of a tensor.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    /// Float32 elements.
    F32(Vec<f32>),
    /// Integer elements of any integer [`DType`], widened.
    Int(Vec<i64>),
}

/// A dense row-major tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Storage type.
    pub dtype: DType,
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Elements in row-major order; the length is the product of `shape`.
    pub data: TensorData,
}

impl Tensor {
    /// A float32 tensor.
    pub fn f32(shape: Vec<usize>, values: Vec<f32>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        Tensor { dtype: DType::F32, shape, data: TensorData::F32(values) }
    }

    /// An integer tensor of the given storage type.
    pub fn int(dtype: DType, shape: Vec<usize>, values: Vec<i64>) -> Tensor {
        debug_assert!(dtype.is_int());
        debug_assert_eq!(shape.iter().product::<usize>(), values.len());
        Tensor { dtype, shape, data: TensorData::Int(values) }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.data {
            TensorData::F32(v) => v.len(),
            TensorData::Int(v) => v.len(),
        }
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The float elements, if this is a float tensor.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            TensorData::F32(v) => Some(v),
            TensorData::Int(_) => None,
        }
    }

    /// The integer elements, if this is an integer tensor.
    pub fn as_int(&self) -> Option<&[i64]> {
        match &self.data {
            TensorData::Int(v) => Some(v),
            TensorData::F32(_) => None,
        }
    }

    /// Every element converted to `f64` (integers exactly up to 2^53).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match &self.data {
            TensorData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::Int(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }

    /// The single element of a one-element tensor, as `f64`.
    pub fn scalar_f64(&self) -> Option<f64> {
        (self.len() == 1).then(|| self.to_f64_vec()[0])
    }

    /// The same data viewed with another shape of equal element count.
    pub fn reshaped(mut self, shape: Vec<usize>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), self.len());
        self.shape = shape;
        self
    }
}

/// A dimension of a declared shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dim {
    /// A known size.
    Fixed(usize),
    /// A named, run-time size such as a dynamic batch.
    Symbolic(String),
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Symbolic(s) => f.write_str(s),
        }
    }
}

/// Formats a concrete shape as `[2, 3, 16, 16]`.
pub fn fmt_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", dims.join(", "))
}

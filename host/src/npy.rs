//! NumPy `.npy` files as IR tensors.

use crate::ir::{DType, Tensor, TensorData};
use npyz::{DType as NpyDType, NpyFile, TypeChar, WriterBuilder};
use std::path::{Path, PathBuf};

/// An `.npy` file that could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct NpyError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub reason: String,
}

/// Reads an `.npy` file. Float64 arrays become float32; integer arrays keep their type
/// (64-bit and unsigned 32-bit integers are read as int64).
pub fn read(path: &Path) -> Result<Tensor, NpyError> {
    let err = |reason: String| NpyError { path: path.into(), reason };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let npy = NpyFile::new(bytes.as_slice()).map_err(|e| err(format!("not a valid .npy file: {e}")))?;
    if npy.order() != npyz::Order::C {
        return Err(err("Fortran-ordered arrays are not supported; save with np.ascontiguousarray".into()));
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let NpyDType::Plain(ts) = npy.dtype() else {
        return Err(err("structured arrays are not supported".into()));
    };
    let size = ts.size_field();
    let decode = |e: std::io::Error| err(format!("cannot decode the data: {e}"));
    let (dtype, data) = match (ts.type_char(), size) {
        (TypeChar::Float, 4) => (DType::F32, TensorData::F32(npy.into_vec::<f32>().map_err(decode)?)),
        (TypeChar::Float, 8) => (
            DType::F32,
            TensorData::F32(npy.into_vec::<f64>().map_err(decode)?.into_iter().map(|v| v as f32).collect()),
        ),
        (TypeChar::Int, 1) => (DType::I8, ints(npy.into_vec::<i8>().map_err(decode)?)),
        (TypeChar::Uint, 1) => (DType::U8, ints(npy.into_vec::<u8>().map_err(decode)?)),
        (TypeChar::Int, 2) => (DType::I16, ints(npy.into_vec::<i16>().map_err(decode)?)),
        (TypeChar::Uint, 2) => (DType::U16, ints(npy.into_vec::<u16>().map_err(decode)?)),
        (TypeChar::Int, 4) => (DType::I32, ints(npy.into_vec::<i32>().map_err(decode)?)),
        (TypeChar::Uint, 4) => (DType::I64, ints(npy.into_vec::<u32>().map_err(decode)?)),
        (TypeChar::Int, 8) => (DType::I64, ints(npy.into_vec::<i64>().map_err(decode)?)),
        (c, s) => return Err(err(format!("element type {c:?}{s} is not supported (use float32/64 or integers)"))),
    };
    let t = Tensor { dtype, shape, data };
    if t.len() != t.shape.iter().product::<usize>() {
        return Err(err("the data does not match the shape".into()));
    }
    Ok(t)
}

fn ints<T: Into<i64>>(v: Vec<T>) -> TensorData {
    TensorData::Int(v.into_iter().map(Into::into).collect())
}

/// Writes a tensor as `.npy` in its own element type.
pub fn write(path: &Path, t: &Tensor) -> Result<(), NpyError> {
    let err = |reason: String| NpyError { path: path.into(), reason };
    let file = std::fs::File::create(path).map_err(|e| err(e.to_string()))?;
    let shape: Vec<u64> = t.shape.iter().map(|&d| d as u64).collect();
    let io = |e: std::io::Error| err(e.to_string());
    let mut w = std::io::BufWriter::new(file);
    macro_rules! put {
        ($ty:ty, $iter:expr) => {{
            let mut writer =
                npyz::WriteOptions::<$ty>::new().default_dtype().shape(&shape).writer(&mut w).begin_nd().map_err(io)?;
            writer.extend($iter).map_err(io)?;
            writer.finish().map_err(io)?;
        }};
    }
    match (&t.data, t.dtype) {
        (TensorData::F32(v), _) => put!(f32, v.iter().copied()),
        (TensorData::Int(v), DType::I8) => put!(i8, v.iter().map(|&x| x as i8)),
        (TensorData::Int(v), DType::U8 | DType::Bool) => put!(u8, v.iter().map(|&x| x as u8)),
        (TensorData::Int(v), DType::I16) => put!(i16, v.iter().map(|&x| x as i16)),
        (TensorData::Int(v), DType::U16) => put!(u16, v.iter().map(|&x| x as u16)),
        (TensorData::Int(v), DType::I32) => put!(i32, v.iter().map(|&x| x as i32)),
        (TensorData::Int(v), _) => put!(i64, v.iter().copied()),
    }
    Ok(())
}

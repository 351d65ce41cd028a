//! Conversion between ONNX `TensorProto` and IR [`Tensor`]s.

use super::{OnnxError, proto};
use crate::ir::{DType, Tensor, TensorData};
use proto::tensor_proto::DataType as Dt;

/// The IR type of an ONNX element type code, if lowbit supports it.
pub fn dtype_from_onnx(code: i32) -> Option<DType> {
    Some(match Dt::try_from(code).ok()? {
        Dt::Float => DType::F32,
        Dt::Int8 => DType::I8,
        Dt::Uint8 => DType::U8,
        Dt::Int16 => DType::I16,
        Dt::Uint16 => DType::U16,
        Dt::Int32 => DType::I32,
        Dt::Int64 => DType::I64,
        Dt::Bool => DType::Bool,
        _ => return None,
    })
}

/// The ONNX element type code of an IR type.
pub fn dtype_to_onnx(dtype: DType) -> i32 {
    (match dtype {
        DType::F32 => Dt::Float,
        DType::I8 => Dt::Int8,
        DType::U8 => Dt::Uint8,
        DType::I16 => Dt::Int16,
        DType::U16 => Dt::Uint16,
        DType::I32 => Dt::Int32,
        DType::I64 => Dt::Int64,
        DType::Bool => Dt::Bool,
    }) as i32
}

/// Decodes a `TensorProto` (inline typed fields or `raw_data`).
///
/// Float64 tensors are narrowed to float32, which is what every consumer
/// of lowbit's models computes in.
pub fn tensor_from_proto(t: &proto::TensorProto) -> Result<Tensor, OnnxError> {
    let err = |reason: String| OnnxError::Tensor { tensor: t.name().to_string(), reason };
    let code = t.data_type();
    let shape: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| err(format!("negative dimension {d}"))))
        .collect::<Result<_, _>>()?;
    let count =
        shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| err("too many elements".into()))?;
    if t.data_location == Some(proto::tensor_proto::DataLocation::External as i32) {
        return Err(err("refers to external data that was not loaded".into()));
    }
    let is_f64 = code == Dt::Double as i32;
    let dtype = if is_f64 { Some(DType::F32) } else { dtype_from_onnx(code) };
    let dtype = dtype.ok_or_else(|| {
        let name = Dt::try_from(code).map(|d| d.as_str_name()).unwrap_or("unknown");
        err(format!("element type {name} ({code}) is not supported; lowbit reads float32/64 and 8 to 64-bit integers"))
    })?;
    let data = match &t.raw_data {
        Some(raw) => decode_raw(raw, code, count).map_err(err)?,
        None => decode_typed(t, dtype, is_f64),
    };
    let len = match &data {
        TensorData::F32(v) => v.len(),
        TensorData::Int(v) => v.len(),
    };
    if len != count {
        return Err(err(format!("holds {len} elements but its shape {shape:?} needs {count}")));
    }
    Ok(Tensor { dtype, shape, data })
}

fn decode_raw(raw: &[u8], code: i32, count: usize) -> Result<TensorData, String> {
    let width = match Dt::try_from(code) {
        Ok(Dt::Int8 | Dt::Uint8 | Dt::Bool) => 1,
        Ok(Dt::Int16 | Dt::Uint16) => 2,
        Ok(Dt::Float | Dt::Int32) => 4,
        Ok(Dt::Int64 | Dt::Double) => 8,
        _ => return Err(format!("raw data of element type {code} is not supported")),
    };
    if raw.len() != count * width {
        return Err(format!("raw data has {} bytes, its shape needs {}", raw.len(), count * width));
    }
    let chunks = raw.chunks_exact(width);
    Ok(match Dt::try_from(code) {
        Ok(Dt::Float) => TensorData::F32(chunks.map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()),
        Ok(Dt::Double) => {
            TensorData::F32(chunks.map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f32).collect())
        }
        Ok(Dt::Int8) => TensorData::Int(chunks.map(|c| c[0] as i8 as i64).collect()),
        Ok(Dt::Uint8 | Dt::Bool) => TensorData::Int(chunks.map(|c| c[0] as i64).collect()),
        Ok(Dt::Int16) => TensorData::Int(chunks.map(|c| i16::from_le_bytes([c[0], c[1]]) as i64).collect()),
        Ok(Dt::Uint16) => TensorData::Int(chunks.map(|c| u16::from_le_bytes([c[0], c[1]]) as i64).collect()),
        Ok(Dt::Int32) => TensorData::Int(chunks.map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64).collect()),
        _ => TensorData::Int(chunks.map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect()),
    })
}

fn decode_typed(t: &proto::TensorProto, dtype: DType, is_f64: bool) -> TensorData {
    match dtype {
        DType::F32 if is_f64 => TensorData::F32(t.double_data.iter().map(|&x| x as f32).collect()),
        DType::F32 => TensorData::F32(t.float_data.clone()),
        DType::I64 => TensorData::Int(t.int64_data.clone()),
        // int8/uint8/int16/uint16/int32 are stored widened in int32_data.
        _ => TensorData::Int(t.int32_data.iter().map(|&x| x as i64).collect()),
    }
}

/// Encodes a tensor as a `TensorProto` with little-endian `raw_data`.
pub fn tensor_to_proto(name: &str, tensor: &Tensor) -> proto::TensorProto {
    let mut raw = Vec::new();
    match &tensor.data {
        TensorData::F32(v) => v.iter().for_each(|x| raw.extend_from_slice(&x.to_le_bytes())),
        TensorData::Int(v) => {
            for &x in v {
                match tensor.dtype {
                    DType::I8 | DType::U8 | DType::Bool => raw.push(x as u8),
                    DType::I16 | DType::U16 => raw.extend_from_slice(&(x as u16).to_le_bytes()),
                    DType::I32 => raw.extend_from_slice(&(x as i32).to_le_bytes()),
                    DType::I64 | DType::F32 => raw.extend_from_slice(&x.to_le_bytes()),
                }
            }
        }
    }
    proto::TensorProto {
        name: Some(name.to_string()),
        dims: tensor.shape.iter().map(|&d| d as i64).collect(),
        data_type: Some(dtype_to_onnx(tensor.dtype)),
        raw_data: Some(raw),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trip_for_every_type() {
        let cases = [
            Tensor::f32(vec![2, 2], vec![1.5, -2.0, 0.0, 3.25]),
            Tensor::int(DType::I8, vec![3], vec![-128, 0, 127]),
            Tensor::int(DType::U8, vec![3], vec![0, 1, 255]),
            Tensor::int(DType::I16, vec![2], vec![-32768, 32767]),
            Tensor::int(DType::U16, vec![2], vec![0, 65535]),
            Tensor::int(DType::I32, vec![2], vec![i32::MIN as i64, i32::MAX as i64]),
            Tensor::int(DType::I64, vec![1], vec![i64::MAX]),
            Tensor::int(DType::Bool, vec![2], vec![0, 1]),
        ];
        for t in cases {
            assert_eq!(tensor_from_proto(&tensor_to_proto("t", &t)).unwrap(), t);
        }
    }

    #[test]
    fn typed_fields_are_read() {
        let p = proto::TensorProto {
            dims: vec![2],
            data_type: Some(Dt::Int8 as i32),
            int32_data: vec![-3, 7],
            ..Default::default()
        };
        assert_eq!(tensor_from_proto(&p).unwrap(), Tensor::int(DType::I8, vec![2], vec![-3, 7]));
    }

    #[test]
    fn inconsistent_payloads_are_errors() {
        let p = proto::TensorProto {
            name: Some("w".into()),
            dims: vec![4],
            data_type: Some(Dt::Float as i32),
            raw_data: Some(vec![0; 12]),
            ..Default::default()
        };
        let e = tensor_from_proto(&p).unwrap_err().to_string();
        assert!(e.contains("'w'") && e.contains("12 bytes"), "{e}");
        let neg = proto::TensorProto { dims: vec![-1], data_type: Some(1), ..Default::default() };
        assert!(tensor_from_proto(&neg).is_err());
        let strings = proto::TensorProto { dims: vec![1], data_type: Some(Dt::String as i32), ..Default::default() };
        assert!(tensor_from_proto(&strings).unwrap_err().to_string().contains("STRING"));
    }
}

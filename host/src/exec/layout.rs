//! Data movement: Flatten, Reshape, Slice.

use crate::ir::{Op, Tensor, TensorData, shape};

pub(super) fn reshape_like(op: &Op, x: &Tensor) -> Result<Tensor, String> {
    let out_shape = shape::output_shape(op, &[&x.shape])?;
    match op {
        Op::Slice(s) => {
            let ranges = shape::slice_ranges(s, &x.shape)?;
            let total: usize = out_shape.iter().product();
            let mut strides = vec![1usize; x.shape.len()];
            for i in (0..x.shape.len().saturating_sub(1)).rev() {
                strides[i] = strides[i + 1] * x.shape[i + 1];
            }
            let index = |mut o: usize| {
                let mut flat = 0i64;
                for (axis, &(start, step, count)) in ranges.iter().enumerate().rev() {
                    let k = (o % count.max(1)) as i64;
                    o /= count.max(1);
                    flat += (start as i64 + k * step) * strides[axis] as i64;
                }
                flat as usize
            };
            let data = match &x.data {
                TensorData::F32(v) => TensorData::F32((0..total).map(|o| v[index(o)]).collect()),
                TensorData::Int(v) => TensorData::Int((0..total).map(|o| v[index(o)]).collect()),
            };
            Ok(Tensor { dtype: x.dtype, shape: out_shape, data })
        }
        _ => Ok(x.clone().reshaped(out_shape)),
    }
}

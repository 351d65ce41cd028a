//! Elementwise ops: quantization, activations, addition, batch norm.

use super::{floats, int_tensor, ints};
use crate::ir::{ClipAttrs, DType, QuantParams, QuantizeAttrs, Tensor, TensorData, TruncAttrs, shape::broadcast_shape};

pub(super) fn quantize(a: &QuantizeAttrs, x: &Tensor, q: &QuantParams, dtype: DType) -> Result<Tensor, String> {
    let range = q.range();
    let out = floats(x)?
        .iter()
        .zip(q.channels(&x.shape))
        .map(|(&v, c)| a.apply(v, q.scale_at(c), q.zero_point_at(c), range, q.bipolar))
        .collect();
    Ok(int_tensor(dtype, x.shape.clone(), out))
}

pub(super) fn dequantize(x: &Tensor, q: &QuantParams) -> Result<Tensor, String> {
    let out = ints(x)?
        .iter()
        .zip(q.channels(&x.shape))
        .map(|(&v, c)| (v - q.zero_point_at(c)) as f32 * q.scale_at(c))
        .collect();
    Ok(Tensor::f32(x.shape.clone(), out))
}

/// QONNX `Trunc` (v2), see [`TruncAttrs::apply`].
pub(super) fn trunc(a: &TruncAttrs, x: &Tensor, q: &QuantParams, dtype: DType) -> Result<Tensor, String> {
    let range = q.range();
    let out = floats(x)?.iter().map(|&v| a.apply(v, range)).collect();
    Ok(int_tensor(dtype, x.shape.clone(), out))
}

pub(super) fn relu(x: &Tensor) -> Tensor {
    let data = match &x.data {
        TensorData::F32(v) => TensorData::F32(v.iter().map(|&a| if a > 0.0 { a } else { 0.0 }).collect()),
        TensorData::Int(v) => TensorData::Int(v.iter().map(|&a| a.max(0)).collect()),
    };
    Tensor { data, ..x.clone() }
}

pub(super) fn clip(a: &ClipAttrs, x: &Tensor) -> Tensor {
    let data = match &x.data {
        TensorData::F32(v) => {
            let (lo, hi) = (a.min.map_or(f32::NEG_INFINITY, |m| m as f32), a.max.map_or(f32::INFINITY, |m| m as f32));
            TensorData::F32(v.iter().map(|&e| e.max(lo).min(hi)).collect())
        }
        TensorData::Int(v) => {
            let (lo, hi) = (a.min.map_or(i64::MIN, |m| m as i64), a.max.map_or(i64::MAX, |m| m as i64));
            TensorData::Int(v.iter().map(|&e| e.clamp(lo, hi)).collect())
        }
    };
    Tensor { data, ..x.clone() }
}

/// The flat index into a tensor of shape `from` for output position `pos`
/// under numpy broadcasting to `to`.
fn broadcast_index(pos: &[usize], from: &[usize], to: &[usize]) -> usize {
    let off = to.len() - from.len();
    from.iter().enumerate().fold(0, |acc, (i, &d)| acc * d + if d == 1 { 0 } else { pos[off + i] })
}

/// Visits every position of `shape` in row-major order.
fn positions(shape: &[usize]) -> impl Iterator<Item = Vec<usize>> + '_ {
    let total: usize = shape.iter().product();
    (0..total).map(move |mut i| {
        let mut pos = vec![0; shape.len()];
        for (p, &d) in pos.iter_mut().zip(shape).rev() {
            *p = i % d;
            i /= d;
        }
        pos
    })
}

pub(super) fn add(a: &Tensor, b: &Tensor) -> Result<Tensor, String> {
    let (va, vb) = (floats(a)?, floats(b)?);
    let shape = broadcast_shape(&a.shape, &b.shape)?;
    if a.shape == b.shape {
        return Ok(Tensor::f32(shape, va.iter().zip(vb).map(|(x, y)| x + y).collect()));
    }
    let out = positions(&shape)
        .map(|p| va[broadcast_index(&p, &a.shape, &shape)] + vb[broadcast_index(&p, &b.shape, &shape)])
        .collect();
    Ok(Tensor::f32(shape, out))
}

/// Inference batch normalization over axis 1.
pub(super) fn batch_norm(epsilon: f32, ins: &[&Tensor]) -> Result<Tensor, String> {
    let x = ins[0];
    let [scale, bias, mean, var] = [1, 2, 3, 4].map(|k| floats(ins[k]));
    let (scale, bias, mean, var) = (scale?, bias?, mean?, var?);
    let c = *x.shape.get(1).ok_or("input needs a channel axis")?;
    if [scale.len(), bias.len(), mean.len(), var.len()].iter().any(|&n| n != c) {
        return Err(format!("parameters must have {c} entries"));
    }
    let inner: usize = x.shape[2..].iter().product();
    let out = floats(x)?
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let ch = (i / inner.max(1)) % c;
            (v - mean[ch]) / (var[ch] + epsilon).sqrt() * scale[ch] + bias[ch]
        })
        .collect();
    Ok(Tensor::f32(x.shape.clone(), out))
}

//! Matrix products: float `Gemm`/`MatMul` and integer `QLinearMatMul`.

use super::conv::IntQuant;
use super::{floats, int_tensor, ints};
use crate::ir::{DType, GemmAttrs, Tensor, shape};
use lowbit_runtime::arith;

/// `A[m×k] · B[k×n]` with strided access so transposes cost nothing.
fn product<T: Copy + Default + std::ops::Add<Output = T> + std::ops::Mul<Output = T>>(
    (m, k, n): (usize, usize, usize),
    a: impl Fn(usize, usize) -> T,
    b: impl Fn(usize, usize) -> T,
) -> Vec<T> {
    let mut out = Vec::with_capacity(m * n);
    for i in 0..m {
        for j in 0..n {
            out.push((0..k).fold(T::default(), |acc, p| acc + a(i, p) * b(p, j)));
        }
    }
    out
}

pub(super) fn gemm(g: &GemmAttrs, a: &Tensor, b: &Tensor, c: Option<&Tensor>) -> Result<Tensor, String> {
    let shape = shape::output_shape(&crate::ir::Op::Gemm(g.clone()), &[&a.shape, &b.shape])?;
    let (m, n) = (shape[0], shape[1]);
    let k = if g.trans_a { a.shape[0] } else { a.shape[1] };
    let (va, vb) = (floats(a)?, floats(b)?);
    let at = |i: usize, p: usize| (if g.trans_a { va[p * m + i] } else { va[i * k + p] }) as f64;
    let bt = |p: usize, j: usize| (if g.trans_b { vb[j * k + p] } else { vb[p * n + j] }) as f64;
    let prod = product((m, k, n), at, bt);
    let cv = c.map(floats).transpose()?;
    let c_shape = c.map(|t| t.shape.clone()).unwrap_or_default();
    shape::broadcast_shape(&c_shape, &[m, n]).map_err(|e| format!("C: {e}"))?;
    let (cr, cc) = match c_shape.as_slice() {
        [] => (1, 1),
        [cols] => (1, *cols),
        [rows, cols, ..] => (*rows, *cols),
    };
    let c_at = |i: usize, j: usize| -> f64 {
        cv.map_or(0.0, |cv| cv[(if cr == 1 { 0 } else { i }) * cc + if cc == 1 { 0 } else { j }] as f64)
    };
    let out = prod
        .into_iter()
        .enumerate()
        .map(|(idx, v)| (g.alpha as f64 * v + g.beta as f64 * c_at(idx / n, idx % n)) as f32)
        .collect();
    Ok(Tensor::f32(vec![m, n], out))
}

/// Splits `a` (`[..., m, k]`) × `b` (`[k, n]`) into rows.
fn matmul_dims(a: &Tensor, b: &Tensor) -> Result<(Vec<usize>, usize, usize, usize), String> {
    let shape = shape::output_shape(&crate::ir::Op::MatMul, &[&a.shape, &b.shape])?;
    let k = b.shape[0];
    let n = b.shape[1];
    let m = a.len() / k.max(1);
    Ok((shape, m, k, n))
}

pub(super) fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor, String> {
    let (shape, m, k, n) = matmul_dims(a, b)?;
    let (va, vb) = (floats(a)?, floats(b)?);
    let out = product((m, k, n), |i, p| va[i * k + p] as f64, |p, j| vb[p * n + j] as f64);
    Ok(Tensor::f32(shape, out.into_iter().map(|v| v as f32).collect()))
}

pub(super) fn qlinear_matmul(a: &Tensor, b: &Tensor, q: &IntQuant<'_>, dtype: DType) -> Result<Tensor, String> {
    let (shape, m, k, n) = matmul_dims(a, b)?;
    let (va, vb) = (ints(a)?, ints(b)?);
    let za = q.x.zero_point_at(0);
    let out = product((m, k, n), |i, p| va[i * k + p] - za, |p, j| vb[p * n + j] - q.w.zero_point_at(j));
    let (lo, hi) = q.y.range();
    let (lo, hi) = (lo.max(i32::MIN as i64) as i32, hi.min(i32::MAX as i64) as i32);
    let zy = q.y.zero_point_at(0) as i32;
    let out = out
        .into_iter()
        .enumerate()
        .map(|(idx, acc)| {
            let mult = arith::requant_multiplier(q.x.scale_at(0), q.w.scale_at(idx % n), q.y.scale_at(0));
            arith::requantize(acc as i32, mult, zy, lo, hi) as i64
        })
        .collect();
    Ok(int_tensor(dtype, shape, out))
}

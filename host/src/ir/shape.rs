//! Shape inference: output shapes from input shapes and attributes.

use super::{ConvAttrs, Dim, Graph, Op, PoolAttrs, SliceAttrs, fmt_shape};

/// A shape that does not fit an op's attributes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("node '{node}' ({op}): {reason}")]
pub struct ShapeError {
    /// Node name.
    pub node: String,
    /// Op name.
    pub op: &'static str,
    /// What is wrong.
    pub reason: String,
}

/// Infers the shape of every value from concrete graph input shapes.
///
/// Returns one entry per value (`None` for values nothing computes).
pub fn infer_shapes(graph: &Graph, input_shapes: &[Vec<usize>]) -> Result<Vec<Option<Vec<usize>>>, ShapeError> {
    let mut shapes: Vec<Option<Vec<usize>>> =
        graph.values.iter().map(|v| v.constant.as_ref().map(|t| t.shape.clone())).collect();
    for (&id, shape) in graph.inputs.iter().zip(input_shapes) {
        shapes[id.0] = Some(shape.clone());
    }
    for node in &graph.nodes {
        let err = |reason: String| ShapeError { node: node.name.clone(), op: node.op.name(), reason };
        let ins: Vec<&[usize]> = node
            .inputs
            .iter()
            .map(|i| {
                shapes[i.0].as_deref().ok_or_else(|| err(format!("input '{}' has no shape", graph.value(*i).name)))
            })
            .collect::<Result<_, _>>()?;
        shapes[node.output.0] = Some(output_shape(&node.op, &ins).map_err(err)?);
    }
    Ok(shapes)
}

/// The output shape of `op` applied to inputs of the given shapes.
pub fn output_shape(op: &Op, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
    let x = *inputs.first().ok_or("no inputs")?;
    match op {
        Op::Quantize(_) | Op::Dequantize | Op::Trunc(_) | Op::Relu | Op::Clip(_) | Op::BatchNorm { .. } => {
            Ok(x.to_vec())
        }
        Op::Conv(a) | Op::QLinearConv(a) => {
            let w = inputs.get(1).ok_or("missing weights")?;
            conv_output_shape(a, x, w)
        }
        Op::ConvTranspose(a) => {
            let w = inputs.get(1).ok_or("missing weights")?;
            conv_transpose_output_shape(&a.conv, &a.output_padding, x, w)
        }
        Op::Gemm(a) => {
            let b = inputs.get(1).ok_or("missing B")?;
            if x.len() != 2 || b.len() != 2 {
                return Err(format!("Gemm needs 2-D operands, got {} and {}", fmt_shape(x), fmt_shape(b)));
            }
            let (m, k) = if a.trans_a { (x[1], x[0]) } else { (x[0], x[1]) };
            let (kb, n) = if a.trans_b { (b[1], b[0]) } else { (b[0], b[1]) };
            if k != kb {
                return Err(format!("inner dimensions differ: {k} vs {kb}"));
            }
            Ok(vec![m, n])
        }
        Op::MatMul | Op::QLinearMatMul => {
            let b = inputs.get(1).ok_or("missing B")?;
            matmul_output_shape(x, b)
        }
        Op::MaxPool(p) => pool_output_shape(p, x),
        Op::AveragePool(a) => pool_output_shape(&a.pool, x),
        Op::Add => {
            let b = inputs.get(1).ok_or("missing second operand")?;
            broadcast_shape(x, b)
        }
        Op::Flatten { axis } => {
            if *axis > x.len() {
                return Err(format!("axis {axis} beyond rank {}", x.len()));
            }
            Ok(vec![x[..*axis].iter().product(), x[*axis..].iter().product()])
        }
        Op::Reshape { shape } => reshape_output_shape(x, shape),
        Op::Slice(s) => slice_output_shape(s, x),
    }
}

/// Output size of one spatial axis of a convolution or pooling window.
fn window_out(
    input: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
    dilation: usize,
    ceil: bool,
) -> Result<usize, String> {
    let span = dilation * (kernel.max(1) - 1) + 1;
    let padded = input + pad;
    if padded < span || stride == 0 {
        return Err(format!("window {span} (stride {stride}) does not fit input {input} with padding {pad}"));
    }
    let n = padded - span;
    Ok(if ceil { n.div_ceil(stride) } else { n / stride } + 1)
}

fn check_spatial(kind: &str, rank: usize, x: &[usize]) -> Result<(), String> {
    if x.len() != rank + 2 {
        return Err(format!("{kind} over {rank} spatial axes needs a rank-{} input, got {}", rank + 2, fmt_shape(x)));
    }
    Ok(())
}

/// Output shape of `Conv`/`QLinearConv` for input `x` `[N, C, *S]` and weights `w` `[M, C/g, *K]`.
pub fn conv_output_shape(a: &ConvAttrs, x: &[usize], w: &[usize]) -> Result<Vec<usize>, String> {
    let r = a.kernel.len();
    check_spatial("convolution", r, x)?;
    if w.len() != r + 2 || w[2..] != a.kernel[..] {
        return Err(format!("weights {} do not match kernel {:?}", fmt_shape(w), a.kernel));
    }
    if a.group == 0 || x[1] != w[1] * a.group || !w[0].is_multiple_of(a.group) {
        return Err(format!("{} input channels do not match weights {} with {} groups", x[1], fmt_shape(w), a.group));
    }
    let mut out = vec![x[0], w[0]];
    for i in 0..r {
        out.push(window_out(x[2 + i], a.kernel[i], a.strides[i], a.pads[i] + a.pads[r + i], a.dilations[i], false)?);
    }
    Ok(out)
}

/// Output shape of `ConvTranspose` for input `[N, C, *S]` and weights `[C, M/g, *K]`.
pub fn conv_transpose_output_shape(
    a: &ConvAttrs,
    output_padding: &[usize],
    x: &[usize],
    w: &[usize],
) -> Result<Vec<usize>, String> {
    let r = a.kernel.len();
    check_spatial("transposed convolution", r, x)?;
    if w.len() != r + 2 || w[2..] != a.kernel[..] || w[0] != x[1] || a.group == 0 || !x[1].is_multiple_of(a.group) {
        return Err(format!(
            "weights {} do not match input {} and kernel {:?} with {} groups",
            fmt_shape(w),
            fmt_shape(x),
            a.kernel,
            a.group
        ));
    }
    let mut out = vec![x[0], w[1] * a.group];
    for i in 0..r {
        let full = a.strides[i] * (x[2 + i].max(1) - 1)
            + output_padding.get(i).copied().unwrap_or(0)
            + a.dilations[i] * (a.kernel[i] - 1)
            + 1;
        let pads = a.pads[i] + a.pads[r + i];
        if full <= pads {
            return Err(format!("padding {pads} consumes the whole output on axis {i}"));
        }
        out.push(full - pads);
    }
    Ok(out)
}

/// Output shape of max/average pooling.
pub fn pool_output_shape(p: &PoolAttrs, x: &[usize]) -> Result<Vec<usize>, String> {
    let r = p.kernel.len();
    check_spatial("pooling", r, x)?;
    let mut out = x[..2].to_vec();
    for i in 0..r {
        out.push(window_out(
            x[2 + i],
            p.kernel[i],
            p.strides[i],
            p.pads[i] + p.pads[r + i],
            p.dilations[i],
            p.ceil_mode,
        )?);
    }
    Ok(out)
}

fn matmul_output_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    if a.len() < 2 || b.len() != 2 || a[a.len() - 1] != b[0] {
        return Err(format!("cannot multiply {} by {}", fmt_shape(a), fmt_shape(b)));
    }
    let mut out = a.to_vec();
    *out.last_mut().unwrap_or(&mut 0) = b[1];
    Ok(out)
}

/// Numpy-style broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, String> {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| {
            let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
            let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
            match (da, db) {
                _ if da == db => Ok(da),
                (1, d) | (d, 1) => Ok(d),
                _ => Err(format!("shapes {} and {} do not broadcast", fmt_shape(a), fmt_shape(b))),
            }
        })
        .collect()
}

/// ONNX `Reshape` (`allowzero = 0`): `0` copies the input dimension, one `-1` is inferred.
pub fn reshape_output_shape(x: &[usize], shape: &[i64]) -> Result<Vec<usize>, String> {
    let total: usize = x.iter().product();
    let mut out = Vec::with_capacity(shape.len());
    let mut infer = None;
    for (i, &d) in shape.iter().enumerate() {
        match d {
            0 => out.push(*x.get(i).ok_or(format!("dimension 0 at {i} copies beyond input rank {}", x.len()))?),
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            d if d > 0 => out.push(d as usize),
            _ => return Err(format!("invalid target shape {shape:?}")),
        }
    }
    let known: usize = out.iter().product();
    if let Some(i) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(format!("cannot reshape {} to {shape:?}", fmt_shape(x)));
        }
        out[i] = total / known;
    }
    if out.iter().product::<usize>() != total {
        return Err(format!("cannot reshape {} ({total} elements) to {shape:?}", fmt_shape(x)));
    }
    Ok(out)
}

/// Normalized `(start, step, count)` of a slice along each input axis.
pub fn slice_ranges(s: &SliceAttrs, x: &[usize]) -> Result<Vec<(usize, i64, usize)>, String> {
    let mut ranges: Vec<(usize, i64, usize)> = x.iter().map(|&d| (0, 1, d)).collect();
    for (k, &axis) in s.axes.iter().enumerate() {
        let rank = x.len() as i64;
        let axis = if axis < 0 { axis + rank } else { axis };
        if !(0..rank).contains(&axis) {
            return Err(format!("axis {axis} outside rank {rank}"));
        }
        let dim = x[axis as usize] as i64;
        let step = s.steps.get(k).copied().unwrap_or(1);
        if step == 0 {
            return Err("slice step 0".into());
        }
        let norm = |v: i64| if v < 0 { v.saturating_add(dim) } else { v };
        let (start, end) = (norm(s.starts[k]), norm(s.ends[k]));
        let (start, count) = if step > 0 {
            let (a, b) = (start.clamp(0, dim), end.clamp(0, dim));
            (a, if b > a { (b - a + step - 1) / step } else { 0 })
        } else {
            let (a, b) = (start.clamp(0, dim - 1), end.clamp(-1, dim - 1));
            (a, if a > b { (a - b - step - 1) / -step } else { 0 })
        };
        ranges[axis as usize] = (start as usize, step, count as usize);
    }
    Ok(ranges)
}

fn slice_output_shape(s: &SliceAttrs, x: &[usize]) -> Result<Vec<usize>, String> {
    Ok(slice_ranges(s, x)?.into_iter().map(|(_, _, n)| n).collect())
}

/// The shape of every value with a symbolic batch: inferred with batch sizes 1
/// and 2; a dimension that follows the batch is written symbolically.
pub fn symbolic_shapes(graph: &Graph) -> Vec<Option<Vec<Dim>>> {
    let infer = |batch| graph.declared_input_shapes(batch).and_then(|s| infer_shapes(graph, &s).ok());
    let (Some(one), Some(two)) = (infer(1), infer(2)) else { return vec![None; graph.values.len()] };
    let symbol = graph
        .inputs
        .iter()
        .flat_map(|&i| graph.value(i).declared_shape.iter().flatten())
        .find_map(|d| match d {
            Dim::Symbolic(s) => Some(s.clone()),
            Dim::Fixed(_) => None,
        })
        .unwrap_or_else(|| "batch".into());
    one.iter()
        .zip(&two)
        .map(|(a, b)| {
            let (a, b) = (a.as_ref()?, b.as_ref()?);
            Some(
                a.iter()
                    .zip(b)
                    .map(|(&x, &y)| if x == y { Dim::Fixed(x) } else { Dim::Symbolic(symbol.clone()) })
                    .collect(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(kernel: Vec<usize>, strides: Vec<usize>, pads: Vec<usize>, group: usize) -> ConvAttrs {
        let n = kernel.len();
        ConvAttrs { kernel, strides, pads, dilations: vec![1; n], group }
    }

    #[test]
    fn conv_shapes() {
        let a = conv(vec![3, 3], vec![2, 2], vec![1, 1, 1, 1], 1);
        assert_eq!(conv_output_shape(&a, &[2, 3, 16, 16], &[8, 3, 3, 3]), Ok(vec![2, 8, 8, 8]));
        let dw = conv(vec![3, 3], vec![1, 1], vec![1, 1, 1, 1], 8);
        assert_eq!(conv_output_shape(&dw, &[2, 8, 12, 12], &[8, 1, 3, 3]), Ok(vec![2, 8, 12, 12]));
        let c1 = conv(vec![3], vec![2], vec![1, 1], 1);
        assert_eq!(conv_output_shape(&c1, &[2, 4, 32], &[8, 4, 3]), Ok(vec![2, 8, 16]));
        assert!(conv_output_shape(&a, &[2, 4, 16, 16], &[8, 3, 3, 3]).is_err());
    }

    #[test]
    fn conv_transpose_shape_matches_corpus() {
        let a = conv(vec![3], vec![2], vec![0, 0], 1);
        assert_eq!(conv_transpose_output_shape(&a, &[0], &[2, 4, 16], &[4, 8, 3]), Ok(vec![2, 8, 33]));
    }

    #[test]
    fn reshape_and_slice() {
        assert_eq!(reshape_output_shape(&[8, 64], &[0, -1, 1]), Ok(vec![8, 64, 1]));
        assert_eq!(reshape_output_shape(&[8, 10, 1], &[0, -1]), Ok(vec![8, 10]));
        assert!(reshape_output_shape(&[8, 10], &[3, -1]).is_err());
        let s = SliceAttrs { starts: vec![8], ends: vec![i64::MAX], axes: vec![1], steps: vec![1] };
        assert_eq!(slice_output_shape(&s, &[2, 16]), Ok(vec![2, 8]));
        let rev = SliceAttrs { starts: vec![-1], ends: vec![i64::MIN], axes: vec![0], steps: vec![-1] };
        assert_eq!(slice_ranges(&rev, &[5]), Ok(vec![(4, -1, 5)]));
    }

    #[test]
    fn broadcasting() {
        assert_eq!(broadcast_shape(&[2, 8], &[8]), Ok(vec![2, 8]));
        assert_eq!(broadcast_shape(&[2, 1, 4], &[3, 1]), Ok(vec![2, 3, 4]));
        assert!(broadcast_shape(&[2, 3], &[4]).is_err());
    }
}

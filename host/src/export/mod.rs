//! Writing the IR back to ONNX in one of Brevitas's three styles.
//!
//! Each IR op maps to the ONNX nodes that express it in the chosen style:
//! - **QCDQ** and **QOp**: `Quantize` → `QuantizeLinear` + `Clip` when the bit
//!   width is below the storage type's; integer weights → initializer +
//!   `Clip` + `DequantizeLinear`; `QLinearConv`/`QLinearMatMul` as themselves.
//! - **QONNX**: `Quantize → Dequantize` pairs and quantized weights →
//!   `Quant` (or `BipolarQuant`), `Trunc` as itself.
//!
//! The graph is written as it is; converting between styles (fusing
//! `DequantizeLinear → Conv → QuantizeLinear` into `QLinearConv` and back)
//! happens on the IR before writing, in [`crate::transform`].

mod builder;

use crate::ir::{DType, Graph, Node, Op, QuantParams, Tensor, ValueId, rounding_name};
use crate::onnx::{self, OnnxError, proto};
use builder::{Attr, OnnxBuilder, value_info};
use lowbit_runtime::arith::Rounding;
use std::collections::HashMap;
use std::path::Path;

/// The ONNX style to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// QuantizeLinear → Clip → DequantizeLinear around float ops.
    Qcdq,
    /// Integer operators (QLinearConv, QLinearMatMul).
    Qop,
    /// QONNX custom ops (Quant, BipolarQuant, Trunc).
    Qonnx,
}

impl Style {
    /// The style a graph was imported from (QCDQ for float models).
    pub fn of(graph: &Graph) -> Style {
        match graph.source.format {
            crate::ir::Format::Qop => Style::Qop,
            crate::ir::Format::Qonnx => Style::Qonnx,
            _ => Style::Qcdq,
        }
    }
}

/// The QONNX custom-op domain lowbit writes.
pub const QONNX_DOMAIN: &str = "qonnx.custom_op.general";

/// A graph the chosen style cannot express.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A node has no representation in the style.
    #[error("node '{node}' ({op}): {reason}")]
    Node {
        /// Node name.
        node: String,
        /// IR op.
        op: &'static str,
        /// Why, and what to do.
        reason: String,
    },
    /// Writing the file failed.
    #[error(transparent)]
    Onnx(#[from] OnnxError),
}

/// Writes `graph` to `path` in `style`.
pub fn write(graph: &Graph, style: Style, path: &Path) -> Result<(), ExportError> {
    let model = to_model(graph, style)?;
    Ok(onnx::save(&model, path)?)
}

/// Builds the ONNX model of `graph` in `style`.
pub fn to_model(graph: &Graph, style: Style) -> Result<proto::ModelProto, ExportError> {
    // The graph's own opset (10 or later: QuantizeLinear); `transform::check_style`
    // says what a lower opset cannot carry.
    let opset = graph.source.onnx_opset().unwrap_or(13).max(10);
    let mut w = Writer { g: graph, b: OnnxBuilder::default(), names: HashMap::new(), style };
    for &id in graph.inputs.iter().chain(&graph.outputs) {
        w.b.reserve(&graph.value(id).name);
    }
    for &id in &graph.inputs {
        w.names.insert(id, graph.value(id).name.clone());
    }
    for node in &graph.nodes {
        w.node(node)?;
    }
    let shapes = crate::ir::shape::symbolic_shapes(graph);
    let mut outputs = Vec::new();
    for &id in &graph.outputs {
        let name = w.value(id)?;
        let wanted = &graph.value(id).name;
        let name = if &name != wanted {
            // A graph output that is an input or constant: expose it under its own name.
            w.b.node("Identity", "", "output", vec![name], wanted, vec![]);
            wanted.clone()
        } else {
            name
        };
        outputs.push(value_info(&name, graph.value(id).dtype, shapes[id.0].as_deref()));
    }
    // Intermediate shapes, which tools such as the qonnx executor require.
    let intermediate: Vec<proto::ValueInfoProto> = graph
        .nodes
        .iter()
        .filter(|n| !graph.outputs.contains(&n.output))
        // QONNX has no integer tensors: a quantizer's integers are never written.
        .filter(|n| style != Style::Qonnx || !graph.value(n.output).dtype.is_int())
        .filter_map(|n| {
            Some(value_info(w.names.get(&n.output)?, graph.value(n.output).dtype, shapes[n.output.0].as_deref()))
        })
        .collect();
    let inputs = graph.inputs.iter().map(|&id| {
        let v = graph.value(id);
        value_info(&v.name, v.dtype, v.declared_shape.as_deref())
    });
    let mut opset_import = vec![proto::OperatorSetIdProto { domain: Some(String::new()), version: Some(opset) }];
    if w.b.nodes.iter().any(|n| n.domain() == QONNX_DOMAIN) {
        opset_import.push(proto::OperatorSetIdProto { domain: Some(QONNX_DOMAIN.into()), version: Some(2) });
    }
    Ok(proto::ModelProto {
        ir_version: Some(ir_version(opset)),
        opset_import,
        producer_name: Some("lowbit".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        graph: Some(proto::GraphProto {
            node: w.b.nodes,
            name: Some(if graph.name.is_empty() { "lowbit".into() } else { graph.name.clone() }),
            initializer: w.b.initializers,
            input: inputs.collect(),
            output: outputs,
            value_info: intermediate,
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The IR version ONNX pairs with an opset.
fn ir_version(opset: i64) -> i64 {
    match opset {
        ..=14 => 7,
        15..=18 => 8,
        19..=20 => 9,
        _ => 10,
    }
}

struct Writer<'g> {
    g: &'g Graph,
    b: OnnxBuilder,
    names: HashMap<ValueId, String>,
    style: Style,
}

impl Writer<'_> {
    fn err(node: &Node, reason: impl Into<String>) -> ExportError {
        ExportError::Node { node: node.name.clone(), op: node.op.name(), reason: reason.into() }
    }

    /// The ONNX name of a value, writing constants on first use.
    fn value(&mut self, id: ValueId) -> Result<String, ExportError> {
        if let Some(n) = self.names.get(&id) {
            return Ok(n.clone());
        }
        let v = self.g.value(id);
        let t = v.constant.as_ref().ok_or_else(|| ExportError::Node {
            node: v.name.clone(),
            op: "value",
            reason: "is used before it is computed".into(),
        })?;
        let name = self.b.constant(&v.name, t);
        self.names.insert(id, name.clone());
        Ok(name)
    }

    /// The name for a node's output: its own name if it is a graph output.
    fn output_name(&mut self, id: ValueId) -> String {
        let v = self.g.value(id);
        let name = if self.g.outputs.contains(&id) { v.name.clone() } else { self.b.fresh(&v.name) };
        self.names.insert(id, name.clone());
        name
    }

    /// Scale and zero point initializers of `q` (zero point stored as `dtype`).
    fn scale_zp(&mut self, base: &str, q: &QuantParams, dtype: DType) -> (String, String) {
        let vector = q.is_per_channel();
        let scale = self.b.floats(&format!("{base}_scale"), &q.scale, vector);
        let zps: Vec<i64> =
            if vector && q.zero_point.len() == 1 { vec![q.zero_point[0]; q.scale.len()] } else { q.zero_point.clone() };
        let zp = self.b.ints(&format!("{base}_zero_point"), dtype, &zps, vector);
        (scale, zp)
    }

    /// `Clip` to the parameters' range when it is narrower than the storage type's.
    fn clip_to_range(&mut self, name: &str, input: String, output: &str, q: &QuantParams, dtype: DType) -> String {
        let (lo, hi) = q.range();
        if dtype.int_range() == Some((lo, hi)) {
            return input;
        }
        let lo_name = self.b.ints(&format!("{name}_min"), dtype, &[lo], false);
        let hi_name = self.b.ints(&format!("{name}_max"), dtype, &[hi], false);
        self.b.node("Clip", "", &format!("{name}/Clip"), vec![input, lo_name, hi_name], output, vec![]);
        output.to_string()
    }

    fn axis_attr(q: &QuantParams) -> Vec<(&'static str, Attr)> {
        match (q.is_per_channel(), q.axis) {
            (true, Some(a)) => vec![("axis", Attr::Int(a as i64))],
            _ => vec![],
        }
    }

    fn node(&mut self, node: &Node) -> Result<(), ExportError> {
        let g = self.g;
        let out_value = g.value(node.output);
        match &node.op {
            Op::Quantize(a) => self.quantize(node, a.rounding),
            Op::Dequantize => self.dequantize(node),
            Op::Trunc(_) => self.trunc(node),
            Op::QLinearConv(a) => {
                let conv = conv_attrs(a);
                self.integer_op(node, "QLinearConv", conv)
            }
            Op::QLinearMatMul => self.integer_op(node, "QLinearMatMul", vec![]),
            op => {
                if out_value.dtype.is_int()
                    && !matches!(
                        op,
                        Op::MaxPool(_)
                            | Op::Flatten { .. }
                            | Op::Reshape { .. }
                            | Op::Slice(_)
                            | Op::Relu
                            | Op::Clip(_)
                    )
                {
                    return Err(Self::err(node, "integer outputs of this op have no ONNX form"));
                }
                self.plain(node)
            }
        }
    }

    fn quantize(&mut self, node: &Node, rounding: Rounding) -> Result<(), ExportError> {
        let q = self.g.quant(node.output).ok_or_else(|| Self::err(node, "output has no quantization"))?.clone();
        if self.style == Style::Qonnx {
            // Written as a Quant together with the Dequantize that reads it.
            if self.g.consumers(node.output).any(|c| c.op != Op::Dequantize) || self.g.outputs.contains(&node.output) {
                return Err(Self::err(
                    node,
                    "QONNX has no integer tensors: this value is used as integers; export as QOp or QCDQ",
                ));
            }
            return Ok(());
        }
        if rounding != Rounding::HalfEven {
            return Err(Self::err(
                node,
                format!(
                    "rounding mode {} has no QuantizeLinear form (it always rounds half to even); export as QONNX",
                    rounding_name(rounding)
                ),
            ));
        }
        if q.bipolar {
            return Err(Self::err(node, "bipolar values have no QuantizeLinear form; export as QONNX"));
        }
        let dtype = self.g.value(node.output).dtype;
        let x = self.value(node.inputs[0])?;
        let (scale, zp) = self.scale_zp(&node.name, &q, dtype);
        let out = self.output_name(node.output);
        let needs_clip = dtype.int_range() != Some(q.range());
        let q_out = if needs_clip { self.b.fresh(&format!("{}_q", node.name)) } else { out.clone() };
        self.b.node("QuantizeLinear", "", &node.name, vec![x, scale, zp], &q_out, Self::axis_attr(&q));
        self.clip_to_range(&node.name, q_out, &out, &q, dtype);
        Ok(())
    }

    fn dequantize(&mut self, node: &Node) -> Result<(), ExportError> {
        let src = node.inputs[0];
        let q = self.g.quant(src).ok_or_else(|| Self::err(node, "input has no quantization"))?.clone();
        if self.style == Style::Qonnx {
            return self.qonnx_quant(node, &q);
        }
        let dtype = self.g.value(src).dtype;
        let input = match self.g.constant(src) {
            // Integer weights: initializer → Clip (narrow range or < 8 bits) → DequantizeLinear.
            Some(_) => {
                let raw = self.value(src)?;
                let clipped = self.b.fresh(&format!("{}_clipped", self.g.value(src).name));
                self.clip_to_range(&node.name, raw, &clipped, &q, dtype)
            }
            None => self.value(src)?,
        };
        let (scale, zp) = self.scale_zp(&node.name, &q, dtype);
        let out = self.output_name(node.output);
        self.b.node("DequantizeLinear", "", &node.name, vec![input, scale, zp], &out, Self::axis_attr(&q));
        Ok(())
    }

    /// QONNX: a Dequantize becomes `Quant`/`BipolarQuant` over the float
    /// input of its Quantize (or over the dequantized weights).
    fn qonnx_quant(&mut self, node: &Node, q: &QuantParams) -> Result<(), ExportError> {
        let src = node.inputs[0];
        let producer = self.g.producer(src);
        let (x, rounding, x_shape_rank) = match (self.g.constant(src), producer) {
            (Some(t), _) => {
                let floats: Vec<f32> = t
                    .as_int()
                    .unwrap_or_default()
                    .iter()
                    .zip(q.channels(&t.shape))
                    .map(|(&v, c)| (v - q.zero_point_at(c)) as f32 * q.scale_at(c))
                    .collect();
                let name = self.b.constant(&self.g.value(src).name, &Tensor::f32(t.shape.clone(), floats));
                (name, Rounding::HalfEven, t.shape.len())
            }
            (None, Some(p)) if matches!(p.op, Op::Quantize(_)) => {
                let Op::Quantize(a) = p.op else { unreachable!("matched above") };
                (self.value(p.inputs[0])?, a.rounding, rank_hint(q))
            }
            (None, Some(p)) if matches!(p.op, Op::Trunc(_)) => {
                let Op::Trunc(a) = &p.op else { unreachable!("matched above") };
                return self.qonnx_trunc(node, p, a);
            }
            _ => return Err(Self::err(node, "QONNX can only dequantize values produced by a quantizer")),
        };
        let out = self.output_name(node.output);
        let scale = self.qonnx_param(&format!("{}_scale", node.name), &q.scale, q, x_shape_rank);
        if q.bipolar {
            self.b.node("BipolarQuant", QONNX_DOMAIN, &node.name, vec![x, scale], &out, vec![]);
            return Ok(());
        }
        let zps: Vec<f32> = q.zero_point.iter().map(|&z| z as f32).collect();
        let zp = self.qonnx_param(&format!("{}_zero_point", node.name), &zps, q, x_shape_rank);
        let bits = self.b.floats(&format!("{}_bit_width", node.name), &[q.bits as f32], false);
        let attrs = vec![
            ("signed", Attr::Int(q.signed as i64)),
            ("narrow", Attr::Int(q.narrow as i64)),
            ("rounding_mode", Attr::Str(rounding_name(rounding))),
        ];
        self.b.node("Quant", QONNX_DOMAIN, &node.name, vec![x, scale, zp, bits], &out, attrs);
        Ok(())
    }

    /// A QONNX parameter tensor broadcastable along the channel axis (`[C,1,1,1]`).
    fn qonnx_param(&mut self, base: &str, values: &[f32], q: &QuantParams, rank: usize) -> String {
        if values.len() == 1 {
            return self.b.floats(base, values, false);
        }
        let axis = q.axis.unwrap_or(0);
        let mut shape = vec![1; rank.max(axis + 1) - axis];
        shape[0] = values.len();
        self.b.constant(base, &Tensor::f32(shape, values.to_vec()))
    }

    /// QONNX `Trunc` outputs float: it is written together with the
    /// Dequantize that reads it (see [`Writer::qonnx_trunc`]).
    fn trunc(&mut self, node: &Node) -> Result<(), ExportError> {
        if self.style != Style::Qonnx {
            return Err(Self::err(node, "Trunc has no QCDQ/QOp form with the same rounding; export as QONNX"));
        }
        if self.g.consumers(node.output).any(|c| c.op != Op::Dequantize) || self.g.outputs.contains(&node.output) {
            return Err(Self::err(node, "QONNX Trunc outputs float; its integers cannot be used directly"));
        }
        Ok(())
    }

    /// Writes the `Trunc` node `trunc` under the name of the Dequantize `dq` reading it.
    fn qonnx_trunc(&mut self, dq: &Node, trunc: &Node, a: &crate::ir::TruncAttrs) -> Result<(), ExportError> {
        let q = self.g.quant(trunc.output).ok_or_else(|| Self::err(trunc, "output has no quantization"))?.clone();
        let x = self.value(trunc.inputs[0])?;
        let name = &trunc.name;
        let in_scale = self.b.floats(&format!("{name}_scale"), &[a.in_scale], false);
        let in_zp = self.b.floats(&format!("{name}_zero_point"), &[a.in_zero_point], false);
        let in_bits = self.b.floats(&format!("{name}_in_bits"), &[a.in_bits as f32], false);
        let out_scale = self.b.floats(&format!("{name}_out_scale"), &[q.scale[0]], false);
        let out_bits = self.b.floats(&format!("{name}_out_bits"), &[q.bits as f32], false);
        let out = self.output_name(dq.output);
        let attrs = vec![
            ("rounding_mode", Attr::Str(rounding_name(a.rounding))),
            ("signed", Attr::Int(q.signed as i64)),
            ("narrow", Attr::Int(q.narrow as i64)),
        ];
        self.b.node("Trunc", QONNX_DOMAIN, name, vec![x, in_scale, in_zp, in_bits, out_scale, out_bits], &out, attrs);
        Ok(())
    }

    fn integer_op(&mut self, node: &Node, op: &str, attrs: Vec<(&'static str, Attr)>) -> Result<(), ExportError> {
        if self.style == Style::Qonnx {
            return Err(Self::err(
                node,
                "QONNX has no integer operators; convert to float ops first (lowbit convert --to qonnx)",
            ));
        }
        let quant =
            |id: ValueId| self.g.quant(id).cloned().ok_or_else(|| Self::err(node, "operand has no quantization"));
        let (qx, qw, qy) = (quant(node.inputs[0])?, quant(node.inputs[1])?, quant(node.output)?);
        let x = self.value(node.inputs[0])?;
        let w = self.value(node.inputs[1])?;
        let (sx, zx) = self.scale_zp(&format!("{}_x", node.name), &qx, self.g.value(node.inputs[0]).dtype);
        let (sw, zw) = self.scale_zp(&format!("{}_w", node.name), &qw, self.g.value(node.inputs[1]).dtype);
        let dtype = self.g.value(node.output).dtype;
        let (sy, zy) = self.scale_zp(&format!("{}_y", node.name), &qy, dtype);
        let mut inputs = vec![x, sx, zx, w, sw, zw, sy, zy];
        if let Some(&b) = node.inputs.get(2) {
            inputs.push(self.value(b)?);
        }
        let out = self.output_name(node.output);
        let needs_clip = dtype.int_range() != Some(qy.range());
        let raw = if needs_clip { self.b.fresh(&format!("{}_out", node.name)) } else { out.clone() };
        self.b.node(op, "", &node.name, inputs, &raw, attrs);
        self.clip_to_range(&node.name, raw, &out, &qy, dtype);
        Ok(())
    }

    /// Ops written as the ONNX op of the same name.
    fn plain(&mut self, node: &Node) -> Result<(), ExportError> {
        let mut inputs = node.inputs.iter().map(|&i| self.value(i)).collect::<Result<Vec<_>, _>>()?;
        let mut attrs = vec![];
        let op = match &node.op {
            Op::Conv(a) => {
                attrs = conv_attrs(a);
                "Conv"
            }
            Op::ConvTranspose(a) => {
                attrs = conv_attrs(&a.conv);
                attrs.push(("output_padding", Attr::Ints(a.output_padding.iter().map(|&v| v as i64).collect())));
                "ConvTranspose"
            }
            Op::Gemm(a) => {
                attrs = vec![
                    ("alpha", Attr::Float(a.alpha)),
                    ("beta", Attr::Float(a.beta)),
                    ("transA", Attr::Int(a.trans_a as i64)),
                    ("transB", Attr::Int(a.trans_b as i64)),
                ];
                "Gemm"
            }
            Op::MatMul => "MatMul",
            Op::Relu => "Relu",
            Op::Add => "Add",
            Op::Clip(c) => {
                let dtype = self.g.value(node.inputs[0]).dtype;
                for (bound, tag) in [(c.min, "min"), (c.max, "max")] {
                    let name = match bound {
                        None => String::new(),
                        Some(v) if dtype.is_int() => {
                            self.b.ints(&format!("{}_{tag}", node.name), dtype, &[v as i64], false)
                        }
                        Some(v) => self.b.floats(&format!("{}_{tag}", node.name), &[v as f32], false),
                    };
                    inputs.push(name);
                }
                "Clip"
            }
            Op::MaxPool(p) => {
                attrs = pool_attrs(p);
                "MaxPool"
            }
            Op::AveragePool(a) => {
                attrs = pool_attrs(&a.pool);
                attrs.push(("count_include_pad", Attr::Int(a.count_include_pad as i64)));
                "AveragePool"
            }
            Op::BatchNorm { epsilon } => {
                attrs = vec![("epsilon", Attr::Float(*epsilon))];
                "BatchNormalization"
            }
            Op::Flatten { axis } => {
                attrs = vec![("axis", Attr::Int(*axis as i64))];
                "Flatten"
            }
            Op::Reshape { shape } => {
                inputs.push(self.b.ints(&format!("{}_shape", node.name), DType::I64, shape, true));
                "Reshape"
            }
            Op::Slice(s) => {
                for (tag, v) in [("starts", &s.starts), ("ends", &s.ends), ("axes", &s.axes), ("steps", &s.steps)] {
                    inputs.push(self.b.ints(&format!("{}_{tag}", node.name), DType::I64, v, true));
                }
                "Slice"
            }
            other => return Err(Self::err(node, format!("{} has no plain ONNX form", other.name()))),
        };
        let out = self.output_name(node.output);
        self.b.node(op, "", &node.name, inputs, &out, attrs);
        Ok(())
    }
}

/// A rank for QONNX parameter shapes when only the quantizer is known.
fn rank_hint(q: &QuantParams) -> usize {
    q.axis.map_or(1, |a| a + 1)
}

fn conv_attrs(a: &crate::ir::ConvAttrs) -> Vec<(&'static str, Attr)> {
    let ints = |v: &[usize]| Attr::Ints(v.iter().map(|&x| x as i64).collect());
    vec![
        ("kernel_shape", ints(&a.kernel)),
        ("strides", ints(&a.strides)),
        ("pads", ints(&a.pads)),
        ("dilations", ints(&a.dilations)),
        ("group", Attr::Int(a.group as i64)),
    ]
}

fn pool_attrs(p: &crate::ir::PoolAttrs) -> Vec<(&'static str, Attr)> {
    let ints = |v: &[usize]| Attr::Ints(v.iter().map(|&x| x as i64).collect());
    let mut attrs = vec![("kernel_shape", ints(&p.kernel)), ("strides", ints(&p.strides)), ("pads", ints(&p.pads))];
    if p.dilations.iter().any(|&d| d != 1) {
        attrs.push(("dilations", ints(&p.dilations)));
    }
    if p.ceil_mode {
        attrs.push(("ceil_mode", Attr::Int(1)));
    }
    attrs
}

//! `lowbit inspect`: what is in a model, layer by layer.
//!
//! A *layer* is every IR node except the quantizers that only describe its
//! operands: a `Dequantize` feeding a layer becomes the layer's input bit
//! width, a `Quantize` after it the layer's output bit width, and a
//! dequantized constant the layer's weights. Quantizers that stand on their
//! own (input quantization, requantization between two scales) are rows.

use crate::ir::{Graph, Node, Op, QuantParams, ValueId, fmt_shape, infer_shapes};

/// The quantizer of a layer's weights.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WeightInfo {
    /// Bit width (32 for float weights).
    pub bits: u32,
    /// Whether the integers are signed.
    pub signed: bool,
    /// Narrow range.
    pub narrow: bool,
    /// Per-output-channel scales.
    pub per_channel: bool,
    /// Float weights (no quantizer).
    pub float: bool,
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Layer {
    /// Node name.
    pub name: String,
    /// IR op.
    pub op: &'static str,
    /// Shape of the main input (batch 1).
    pub input_shape: Option<Vec<usize>>,
    /// Shape of the output (batch 1).
    pub output_shape: Option<Vec<usize>>,
    /// Weight quantization, for layers with weights.
    pub weights: Option<WeightInfo>,
    /// Quantization of the values the layer reads (e.g. `uint8`).
    pub input_quant: Option<String>,
    /// Quantization of the values the layer produces, after its output quantizer.
    pub output_quant: Option<String>,
    /// Number of weights.
    pub weight_count: usize,
    /// Weights plus biases.
    pub params: usize,
    /// Multiply-accumulates per inference (batch 1).
    pub macs: u64,
    /// Bytes the weights take packed at their bit width.
    pub packed_weight_bytes: usize,
}

/// Sums over all layers.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Totals {
    /// Parameters.
    pub params: usize,
    /// Multiply-accumulates per inference.
    pub macs: u64,
    /// Packed weight bytes.
    pub packed_weight_bytes: usize,
    /// The same weights as float32.
    pub float_weight_bytes: usize,
}

/// A model's summary.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// Detected style.
    pub format: crate::ir::Format,
    /// Opsets by domain.
    pub opsets: Vec<(String, i64)>,
    /// Producer recorded in the file.
    pub producer: String,
    /// Graph inputs: name, shape, quantization.
    pub inputs: Vec<(String, String, String)>,
    /// Graph outputs: name, shape, quantization.
    pub outputs: Vec<(String, String, String)>,
    /// One row per layer.
    pub layers: Vec<Layer>,
    /// Totals.
    pub totals: Totals,
}

/// Builds the report of `graph` (shapes for batch 1).
pub fn report(graph: &Graph) -> Report {
    let shapes = graph.declared_input_shapes(1).and_then(|s| infer_shapes(graph, &s).ok());
    let shape = |id: ValueId| shapes.as_ref().and_then(|s| s[id.0].clone());
    let layers: Vec<Layer> = graph.nodes.iter().filter(|n| is_row(graph, n)).map(|n| layer(graph, n, &shape)).collect();
    let mut totals = Totals::default();
    for l in &layers {
        totals.params += l.params;
        totals.macs += l.macs;
        totals.packed_weight_bytes += l.packed_weight_bytes;
        totals.float_weight_bytes += l.weight_count * 4;
    }
    let symbolic = crate::ir::shape::symbolic_shapes(graph);
    let describe = |id: ValueId| {
        let v = graph.value(id);
        let dims = match symbolic[id.0].as_ref().or(v.declared_shape.as_ref()) {
            Some(d) => format!("[{}]", d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")),
            None => "[?]".into(),
        };
        let q = graph.float_grid(id).map(|q| q.to_string()).unwrap_or_else(|| v.dtype.to_string());
        (v.name.clone(), dims, q)
    };
    Report {
        format: graph.source.format,
        opsets: graph.source.opsets.clone(),
        producer: graph.source.producer.clone(),
        inputs: graph.inputs.iter().map(|&i| describe(i)).collect(),
        outputs: graph.outputs.iter().map(|&i| describe(i)).collect(),
        layers,
        totals,
    }
}

/// Whether a node is shown as its own row.
fn is_row(graph: &Graph, node: &Node) -> bool {
    match node.op {
        Op::Dequantize => false,
        // A quantizer directly after a layer is that layer's output quantization.
        Op::Quantize(_) | Op::Trunc(_) => {
            graph.producer(node.inputs[0]).is_none_or(|p| matches!(p.op, Op::Dequantize | Op::Quantize(_)))
        }
        _ => true,
    }
}

/// The quantized constant behind a weight operand, looking through its Dequantize.
fn weight_quant(graph: &Graph, id: ValueId) -> Option<(Option<&QuantParams>, usize)> {
    let src = match graph.producer(id) {
        Some(p) if p.op == Op::Dequantize => p.inputs[0],
        Some(_) => return None,
        None => id,
    };
    let t = graph.constant(src)?;
    Some((graph.quant(src), t.len()))
}

/// The quantization a value is read with, as text.
fn quant_of(graph: &Graph, id: ValueId) -> Option<String> {
    graph.float_grid(id).map(|q| q.describe())
}

/// The quantization applied to a layer's output: its own (integer ops), or
/// that of the single Quantize reading it.
fn output_quant(graph: &Graph, node: &Node) -> Option<String> {
    if let Some(q) = graph.quant(node.output) {
        return Some(q.describe());
    }
    let mut readers = graph.consumers(node.output);
    match (readers.next(), readers.next()) {
        (Some(r), None) if matches!(r.op, Op::Quantize(_) | Op::Trunc(_)) => {
            graph.quant(r.output).map(|q| q.describe())
        }
        _ => quant_of(graph, node.output),
    }
}

fn layer(graph: &Graph, node: &Node, shape: &dyn Fn(ValueId) -> Option<Vec<usize>>) -> Layer {
    let input = node.inputs[0];
    let out_shape = shape(node.output);
    let mut l = Layer {
        name: node.name.clone(),
        op: node.op.name(),
        input_shape: shape(input),
        output_shape: out_shape.clone(),
        weights: None,
        input_quant: quant_of(graph, input).or_else(|| Some(graph.value(input).dtype.to_string())),
        output_quant: output_quant(graph, node),
        weight_count: 0,
        params: 0,
        macs: 0,
        packed_weight_bytes: 0,
    };
    if !node.op.is_linear_layer() {
        return l;
    }
    let Some((wq, count)) = weight_quant(graph, node.inputs[1]) else { return l };
    let bias = node.inputs.get(2).and_then(|&b| weight_quant(graph, b)).map_or(0, |(_, n)| n);
    l.weights = Some(match wq {
        Some(q) => WeightInfo {
            bits: q.bits,
            signed: q.signed || q.bipolar,
            narrow: q.narrow,
            per_channel: q.is_per_channel(),
            float: false,
        },
        None => WeightInfo { bits: 32, signed: true, narrow: false, per_channel: false, float: true },
    });
    l.weight_count = count;
    l.params = count + bias;
    l.packed_weight_bytes = (count * l.weights.as_ref().map_or(32, |w| w.bits) as usize).div_ceil(8);
    let w_shape = shape(node.inputs[1]).unwrap_or_default();
    let per_output: usize = w_shape.iter().skip(1).product();
    let in_elems = l.input_shape.as_ref().map_or(0, |s| s.iter().product::<usize>());
    let out_elems = out_shape.as_ref().map_or(0, |s| s.iter().product::<usize>());
    let macs = match (&node.op, w_shape.as_slice()) {
        // Each output sums C_in/g × kernel products: the weights of one output channel.
        (Op::Conv(_) | Op::QLinearConv(_), _) => out_elems * per_output,
        // Each input scatters into C_out/g × kernel outputs.
        (Op::ConvTranspose(_), _) => in_elems * per_output,
        (Op::Gemm(g), [k0, k1]) => out_elems * if g.trans_b { *k1 } else { *k0 },
        (Op::MatMul | Op::QLinearMatMul, [k, _]) => out_elems * k,
        _ => 0,
    };
    l.macs = macs as u64;
    l
}

/// Renders the report as an aligned text table.
pub fn render(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let opsets: Vec<String> =
        r.opsets.iter().map(|(d, v)| format!("{}={v}", if d.is_empty() { "ai.onnx" } else { d })).collect();
    let _ = writeln!(s, "format   {}   opsets {}   producer {}", r.format, opsets.join(", "), r.producer);
    for (kind, list) in [("input ", &r.inputs), ("output", &r.outputs)] {
        for (name, shape, q) in list.iter() {
            let _ = writeln!(s, "{kind}   {name} {shape} {q}");
        }
    }
    let header =
        ["#", "layer", "op", "input", "output", "weights", "in quant", "out quant", "params", "MACs", "packed B"];
    let opt = |v: &Option<Vec<usize>>| v.as_ref().map_or("?".into(), |s| fmt_shape(s));
    let rows: Vec<[String; 11]> = r
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let w = l.weights.as_ref().map_or("-".into(), |w| {
                if w.float {
                    "float32".into()
                } else {
                    let mut t = format!("{}{}", if w.signed { "int" } else { "uint" }, w.bits);
                    if w.narrow {
                        t.push_str(" narrow");
                    }
                    if w.per_channel {
                        t.push_str(" per-ch");
                    }
                    t
                }
            });
            [
                i.to_string(),
                l.name.clone(),
                l.op.to_string(),
                opt(&l.input_shape),
                opt(&l.output_shape),
                w,
                l.input_quant.clone().unwrap_or("-".into()),
                l.output_quant.clone().unwrap_or("-".into()),
                l.params.to_string(),
                l.macs.to_string(),
                l.packed_weight_bytes.to_string(),
            ]
        })
        .collect();
    let total = [
        String::new(),
        "total".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        r.totals.params.to_string(),
        r.totals.macs.to_string(),
        r.totals.packed_weight_bytes.to_string(),
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows.iter().chain(std::iter::once(&total)) {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String], s: &mut String| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, &w))| if i >= 8 { format!("{c:>w$}") } else { format!("{c:<w$}") })
            .collect();
        let _ = writeln!(s, "{}", parts.join("  ").trim_end());
    };
    let _ = writeln!(s);
    line(&header.map(String::from), &mut s);
    for row in &rows {
        line(row, &mut s);
    }
    line(&total, &mut s);
    let _ = writeln!(
        s,
        "\nweights: {} B packed at their bit widths, {} B as float32",
        r.totals.packed_weight_bytes, r.totals.float_weight_bytes
    );
    s
}

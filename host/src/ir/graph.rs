//! The graph: values, nodes in topological order, inputs and outputs.

use super::{DType, Dim, Op, QuantParams, Tensor};
use std::fmt;

/// Index of a value in [`Graph::values`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub usize);

/// A tensor flowing through the graph: a graph input, a node output or a constant.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// Name (the ONNX tensor name it came from).
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Quantization of integer values that represent real numbers.
    pub quant: Option<QuantParams>,
    /// The data of a constant (weights, biases).
    pub constant: Option<Tensor>,
    /// Declared shape, where the source model stated one (graph inputs).
    pub declared_shape: Option<Vec<Dim>>,
}

/// One operator application with a single output.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Name (the ONNX node name it came from).
    pub name: String,
    /// The operator.
    pub op: Op,
    /// Operand values, in the op's order.
    pub inputs: Vec<ValueId>,
    /// The produced value.
    pub output: ValueId,
}

/// The quantization style a model was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `QuantizeLinear → [Clip] → DequantizeLinear` around float ops.
    Qcdq,
    /// Integer operators (`QLinearConv`, `QLinearMatMul`).
    Qop,
    /// QONNX custom ops (`Quant`, `BipolarQuant`, `Trunc`).
    Qonnx,
    /// No quantization at all.
    Float,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Qcdq => "QCDQ",
            Format::Qop => "QOp",
            Format::Qonnx => "QONNX",
            Format::Float => "float",
        })
    }
}

/// Where a graph came from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Source {
    /// The detected quantization style.
    pub format: Format,
    /// Opset versions by domain (`""` is the default ONNX domain).
    pub opsets: Vec<(String, i64)>,
    /// Producer name and version recorded in the file.
    pub producer: String,
}

impl Source {
    /// The default-domain ONNX opset.
    pub fn onnx_opset(&self) -> Option<i64> {
        self.opsets.iter().find(|(d, _)| d.is_empty() || d == "ai.onnx").map(|(_, v)| *v)
    }
}

/// A quantized network: lowbit's single intermediate representation.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// Graph name.
    pub name: String,
    /// Every value; [`ValueId`]s index this.
    pub values: Vec<Value>,
    /// Nodes in topological order.
    pub nodes: Vec<Node>,
    /// Run-time inputs.
    pub inputs: Vec<ValueId>,
    /// Outputs; output 0 is the model's result.
    pub outputs: Vec<ValueId>,
    /// Provenance.
    pub source: Source,
}

impl Graph {
    /// The value with this id.
    pub fn value(&self, id: ValueId) -> &Value {
        &self.values[id.0]
    }

    /// Adds a value and returns its id.
    pub fn add_value(&mut self, value: Value) -> ValueId {
        self.values.push(value);
        ValueId(self.values.len() - 1)
    }

    /// The node producing `id`, if it is not an input or constant.
    pub fn producer(&self, id: ValueId) -> Option<&Node> {
        self.nodes.iter().find(|n| n.output == id)
    }

    /// The nodes reading `id`.
    pub fn consumers(&self, id: ValueId) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(move |n| n.inputs.contains(&id))
    }

    /// The constant data of `id`, if it is a constant.
    pub fn constant(&self, id: ValueId) -> Option<&Tensor> {
        self.values[id.0].constant.as_ref()
    }

    /// The quantization of `id`, if it holds quantized integers.
    pub fn quant(&self, id: ValueId) -> Option<&QuantParams> {
        self.values[id.0].quant.as_ref()
    }

    /// The quantization behind a float value: the parameters of the
    /// integers it was dequantized from, looking through ops that keep the
    /// grid (reshapes, max pooling, slicing).
    pub fn float_grid(&self, id: ValueId) -> Option<&QuantParams> {
        if let Some(q) = self.quant(id) {
            return Some(q);
        }
        let node = self.producer(id)?;
        match node.op {
            Op::Dequantize | Op::MaxPool(_) | Op::Flatten { .. } | Op::Reshape { .. } | Op::Slice(_) | Op::Relu => {
                self.float_grid(*node.inputs.first()?)
            }
            _ => None,
        }
    }

    /// The declared input shapes with the first dimension, the batch,
    /// replaced by `batch` whether it was symbolic or fixed (exporters often
    /// fix the batch of their example input).
    pub fn input_shapes_with_batch(&self, batch: usize) -> Option<Vec<Vec<usize>>> {
        let mut shapes = self.declared_input_shapes(batch)?;
        for s in &mut shapes {
            if let Some(d) = s.first_mut() {
                *d = batch;
            }
        }
        Some(shapes)
    }

    /// The concrete input shapes the graph declares, with symbolic
    /// dimensions (a dynamic batch) set to `batch`.
    pub fn declared_input_shapes(&self, batch: usize) -> Option<Vec<Vec<usize>>> {
        self.inputs
            .iter()
            .map(|&id| {
                let dims = self.value(id).declared_shape.as_ref()?;
                Some(
                    dims.iter()
                        .map(|d| match d {
                            Dim::Fixed(n) => *n,
                            Dim::Symbolic(_) => batch,
                        })
                        .collect(),
                )
            })
            .collect()
    }
}

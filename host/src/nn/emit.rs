//! Building the IR graph of a model: QCDQ-shaped, the canonical form every
//! export starts from (`Quantize → Dequantize` around float ops, integer
//! weights and biases read through `Dequantize`).

use super::quant::{quantize, storage};
use crate::ir::{DType, Dim, Format, Graph, Node, Op, QuantParams, QuantizeAttrs, Source, Tensor, Value, ValueId};

/// A value of the graph under construction, with the integers and grid
/// behind it when it is a dequantized value.
#[derive(Debug, Clone)]
pub(crate) struct Port {
    /// The float value.
    pub float: ValueId,
    /// The integers it was dequantized from, if any.
    pub int: Option<ValueId>,
    /// The grid its values lie on, if any.
    pub grid: Option<QuantParams>,
}

impl Port {
    /// A float value off any grid.
    pub fn float(id: ValueId) -> Port {
        Port { float: id, int: None, grid: None }
    }
}

/// Accumulates values and nodes.
pub(crate) struct Emitter {
    /// The graph so far.
    pub graph: Graph,
}

impl Emitter {
    /// An empty graph named `name`, declaring opset `opset`.
    pub fn new(name: &str, opset: i64) -> Emitter {
        Emitter {
            graph: Graph {
                name: name.to_string(),
                values: Vec::new(),
                nodes: Vec::new(),
                inputs: Vec::new(),
                outputs: Vec::new(),
                source: Source {
                    format: Format::Qcdq,
                    opsets: vec![(String::new(), opset)],
                    producer: format!("lowbit {}", env!("CARGO_PKG_VERSION")),
                },
            },
        }
    }

    /// Adds a float graph input of a fixed shape.
    pub fn input(&mut self, name: &str, shape: &[usize]) -> ValueId {
        let id = self.graph.add_value(Value {
            name: name.to_string(),
            dtype: DType::F32,
            quant: None,
            constant: None,
            declared_shape: Some(shape.iter().map(|&d| Dim::Fixed(d)).collect()),
        });
        self.graph.inputs.push(id);
        id
    }

    /// Adds a constant.
    pub fn constant(&mut self, name: &str, t: Tensor, quant: Option<QuantParams>) -> ValueId {
        self.graph.add_value(Value {
            name: name.to_string(),
            dtype: t.dtype,
            quant,
            constant: Some(t),
            declared_shape: None,
        })
    }

    /// Adds node `name` computing `op`; its output value is named `name` too.
    pub fn node(
        &mut self,
        name: &str,
        op: Op,
        inputs: Vec<ValueId>,
        dtype: DType,
        quant: Option<QuantParams>,
    ) -> ValueId {
        let output = self.graph.add_value(Value {
            name: format!("{name}_output"),
            dtype,
            quant,
            constant: None,
            declared_shape: None,
        });
        self.graph.nodes.push(Node { name: name.to_string(), op, inputs, output });
        output
    }

    /// `Quantize → Dequantize` of `x` with `params`.
    pub fn quant_dequant(&mut self, name: &str, x: &Port, params: QuantParams) -> Port {
        let q = self.node(
            &format!("{name}/Quantize"),
            Op::Quantize(QuantizeAttrs::ONNX),
            vec![x.float],
            storage(&params),
            Some(params.clone()),
        );
        let d = self.node(&format!("{name}/Dequantize"), Op::Dequantize, vec![q], DType::F32, None);
        Port { float: d, int: Some(q), grid: Some(params) }
    }

    /// Integer constant `name` quantized from float `t` with `params`,
    /// stored as `dtype`, read through a `Dequantize`.
    pub fn int_constant(&mut self, name: &str, t: &Tensor, params: QuantParams, dtype: DType) -> ValueId {
        let mut ints = quantize(t, &params);
        ints.dtype = dtype;
        let c = self.constant(name, ints, Some(params));
        self.node(&format!("{name}_quant/Dequantize"), Op::Dequantize, vec![c], DType::F32, None)
    }
}

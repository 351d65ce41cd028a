//! The importer's state: ONNX names → IR values, and the node loop.

use super::shape_chain::SymShape;
use super::{ImportError, QONNX_DOMAINS, attrs::Attrs, detect_format, node_label};
use crate::ir::{DType, Dim, Graph, Node, Op, QuantParams, Source, Tensor, Value, ValueId, shape};
use crate::onnx::{dtype_from_onnx, proto, tensor_from_proto};
use std::collections::{HashMap, HashSet};

/// Import state for one model.
pub(super) struct Importer<'m> {
    pub(super) model: &'m proto::ModelProto,
    pub(super) graph: Graph,
    /// ONNX tensor name → IR value.
    names: HashMap<String, ValueId>,
    /// Concrete shapes known at import time (symbolic batch taken as 1).
    shapes: HashMap<ValueId, Vec<usize>>,
    /// Integer ranges stated by a `Clip` on integers not yet given a scale.
    pub(super) pending_range: HashMap<ValueId, (i64, i64)>,
    /// Shape-computation values (`Shape → Gather → Concat …`), by ONNX name.
    pub(super) shape_values: HashMap<String, SymShape>,
    /// ONNX name → indices of the nodes reading it.
    consumers: HashMap<&'m str, Vec<usize>>,
    /// Nodes already folded into an earlier one.
    pub(super) folded: HashSet<usize>,
    /// Default-domain opset.
    pub(super) opset: i64,
    unsupported: Vec<String>,
}

impl<'m> Importer<'m> {
    pub(super) fn new(model: &'m proto::ModelProto) -> Result<Self, ImportError> {
        let g = model.graph.as_ref().ok_or_else(|| ImportError::Graph("the model has no graph".into()))?;
        let opsets: Vec<(String, i64)> =
            model.opset_import.iter().map(|o| (o.domain().to_string(), o.version())).collect();
        let opset = opsets.iter().find(|(d, _)| d.is_empty() || d == "ai.onnx").map(|(_, v)| *v).unwrap_or(1);
        let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, n) in g.node.iter().enumerate() {
            for input in &n.input {
                consumers.entry(input.as_str()).or_default().push(i);
            }
        }
        let producer = match (model.producer_name(), model.producer_version()) {
            ("", _) => String::new(),
            (n, "") => n.to_string(),
            (n, v) => format!("{n} {v}"),
        };
        let graph = Graph {
            name: g.name().to_string(),
            values: Vec::new(),
            nodes: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            source: Source { format: detect_format(model), opsets, producer },
        };
        Ok(Importer {
            model,
            graph,
            names: HashMap::new(),
            shapes: HashMap::new(),
            pending_range: HashMap::new(),
            shape_values: HashMap::new(),
            consumers,
            folded: HashSet::new(),
            opset,
            unsupported: Vec::new(),
        })
    }

    fn onnx_graph(&self) -> &'m proto::GraphProto {
        // `new` checked that the graph exists.
        self.model.graph.as_ref().expect("graph checked in Importer::new")
    }

    pub(super) fn run(mut self) -> Result<Graph, ImportError> {
        let g = self.onnx_graph();
        for init in &g.initializer {
            let t = tensor_from_proto(init)?;
            self.add_constant(init.name(), t);
        }
        for input in &g.input {
            if self.names.contains_key(input.name()) {
                continue; // an initializer listed as an input: a constant
            }
            self.add_graph_input(input)?;
        }
        // Constant nodes have no inputs: define them all first so folding
        // lookahead (QuantizeLinear → Clip) can read bounds defined later.
        for (i, node) in g.node.iter().enumerate() {
            if node.op_type() == "Constant" && (node.domain().is_empty() || node.domain() == "ai.onnx") {
                self.onnx_op(i, node)?;
                self.folded.insert(i);
            }
        }
        // Outputs of unsupported nodes, and of everything computed from them:
        // skipped, so every unsupported node is found in one pass.
        let mut poisoned: HashSet<&str> = HashSet::new();
        for (i, node) in g.node.iter().enumerate() {
            if self.folded.contains(&i) {
                continue;
            }
            if node.input.iter().any(|n| poisoned.contains(n.as_str())) {
                poisoned.extend(node.output.iter().map(String::as_str));
                if !super::is_known_op(node) {
                    self.unsupported(node);
                }
                continue;
            }
            let before = self.unsupported.len();
            let domain = node.domain();
            if domain.is_empty() || domain == "ai.onnx" {
                if !self.onnx_op(i, node)? {
                    self.unsupported(node);
                }
            } else if QONNX_DOMAINS.contains(&domain) {
                if !self.qonnx_op(node)? {
                    self.unsupported(node);
                }
            } else {
                self.unsupported(node);
            }
            if self.unsupported.len() > before {
                poisoned.extend(node.output.iter().map(String::as_str));
            }
        }
        if !self.unsupported.is_empty() {
            return Err(ImportError::Unsupported { nodes: self.unsupported });
        }
        for out in &g.output {
            let id = *self.names.get(out.name()).ok_or_else(|| {
                ImportError::Graph(format!("graph output '{}' is not produced by any node or initializer", out.name()))
            })?;
            self.graph.outputs.push(id);
        }
        if self.graph.outputs.is_empty() {
            return Err(ImportError::Graph("the graph has no outputs".into()));
        }
        Ok(self.graph)
    }

    fn unsupported(&mut self, node: &proto::NodeProto) {
        let domain = match node.domain() {
            "" => "ai.onnx",
            d => d,
        };
        let opset = self
            .model
            .opset_import
            .iter()
            .find(|o| o.domain() == node.domain() || (node.domain().is_empty() && o.domain() == "ai.onnx"))
            .map(|o| o.version())
            .unwrap_or(0);
        self.unsupported.push(format!("'{}' ({domain}::{}, opset {opset})", node_label(node), node.op_type()));
    }

    fn add_graph_input(&mut self, input: &proto::ValueInfoProto) -> Result<(), ImportError> {
        let bad = |reason: String| ImportError::Graph(format!("graph input '{}': {reason}", input.name()));
        let tensor_type = match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
            Some(proto::type_proto::Value::TensorType(t)) => t,
            _ => return Err(bad("is not a tensor".into())),
        };
        let dtype = dtype_from_onnx(tensor_type.elem_type())
            .ok_or_else(|| bad(format!("element type {} is not supported", tensor_type.elem_type())))?;
        let dims: Option<Vec<Dim>> = tensor_type.shape.as_ref().map(|s| {
            s.dim
                .iter()
                .map(|d| match &d.value {
                    Some(proto::tensor_shape_proto::dimension::Value::DimValue(v)) if *v >= 0 => {
                        Dim::Fixed(*v as usize)
                    }
                    Some(proto::tensor_shape_proto::dimension::Value::DimParam(p)) => Dim::Symbolic(p.clone()),
                    _ => Dim::Symbolic("?".into()),
                })
                .collect()
        });
        let id = self.graph.add_value(Value {
            name: input.name().to_string(),
            dtype,
            quant: None,
            constant: None,
            declared_shape: dims.clone(),
        });
        if let Some(dims) = dims {
            let concrete = dims
                .iter()
                .map(|d| match d {
                    Dim::Fixed(n) => *n,
                    Dim::Symbolic(_) => 1,
                })
                .collect();
            self.shapes.insert(id, concrete);
        }
        self.names.insert(input.name().to_string(), id);
        self.graph.inputs.push(id);
        Ok(())
    }

    /// Adds a constant value under `name`.
    pub(super) fn add_constant(&mut self, name: &str, t: Tensor) -> ValueId {
        let id = self.add_constant_value(name, t, None);
        self.names.insert(name.to_string(), id);
        id
    }

    /// Adds a constant value without binding an ONNX name to it.
    pub(super) fn add_constant_value(&mut self, name: &str, t: Tensor, quant: Option<QuantParams>) -> ValueId {
        let shape = t.shape.clone();
        let id = self.graph.add_value(Value {
            name: name.to_string(),
            dtype: t.dtype,
            quant,
            constant: Some(t),
            declared_shape: None,
        });
        self.shapes.insert(id, shape);
        id
    }

    /// Binds an ONNX name to an existing value (Identity, folded Clip).
    pub(super) fn alias(&mut self, name: &str, id: ValueId) {
        self.names.insert(name.to_string(), id);
    }

    /// Appends a node computing `op` over `inputs` into a new value named `out`.
    pub(super) fn add_node(
        &mut self,
        node: &proto::NodeProto,
        op: Op,
        inputs: Vec<ValueId>,
        dtype: DType,
        quant: Option<QuantParams>,
    ) -> Result<ValueId, ImportError> {
        let out = node.output.first().ok_or_else(|| ImportError::node(node, "has no output"))?;
        let in_shapes: Option<Vec<&[usize]>> =
            inputs.iter().map(|i| self.shapes.get(i).map(|s| s.as_slice())).collect();
        let out_shape = match in_shapes {
            Some(s) => Some(shape::output_shape(&op, &s).map_err(|e| ImportError::node(node, e))?),
            None => None,
        };
        let id = self.graph.add_value(Value { name: out.clone(), dtype, quant, constant: None, declared_shape: None });
        if let Some(s) = out_shape {
            self.shapes.insert(id, s);
        }
        self.graph.nodes.push(Node { name: node_label(node), op, inputs, output: id });
        self.names.insert(out.clone(), id);
        Ok(id)
    }

    /// The value behind input `k` of `node`, if the input is present.
    pub(super) fn input(&self, node: &proto::NodeProto, k: usize) -> Result<Option<ValueId>, ImportError> {
        let Some(name) = node.input.get(k).filter(|n| !n.is_empty()) else { return Ok(None) };
        if self.shape_values.contains_key(name) {
            return Err(ImportError::node(
                node,
                format!("input '{name}' is a shape computation; lowbit only folds those into Reshape"),
            ));
        }
        match self.names.get(name) {
            Some(&id) => Ok(Some(id)),
            None => Err(ImportError::node(
                node,
                format!(
                    "input '{name}' is not produced by any earlier node, initializer or graph input (missing initializer, or nodes out of order)"
                ),
            )),
        }
    }

    /// The value behind required input `k`.
    pub(super) fn required(&self, node: &proto::NodeProto, k: usize) -> Result<ValueId, ImportError> {
        self.input(node, k)?.ok_or_else(|| ImportError::node(node, format!("input {k} is required")))
    }

    /// The constant behind input `k` (parameters such as scales must be constants).
    pub(super) fn constant_input(&self, node: &proto::NodeProto, k: usize) -> Result<Option<&Tensor>, ImportError> {
        match self.input(node, k)? {
            None => Ok(None),
            Some(id) => match self.graph.constant(id) {
                Some(t) => Ok(Some(t)),
                None => Err(ImportError::node(
                    node,
                    format!(
                        "input {k} ('{}') must be a constant (initializer or Constant node); lowbit needs static quantization parameters",
                        self.graph.value(id).name
                    ),
                )),
            },
        }
    }

    /// The known shape of a value.
    pub(super) fn shape_of(&self, id: ValueId) -> Option<&[usize]> {
        self.shapes.get(&id).map(|s| s.as_slice())
    }

    /// The rank of a value, required for axis normalisation.
    pub(super) fn rank_of(&self, node: &proto::NodeProto, id: ValueId) -> Result<usize, ImportError> {
        self.shape_of(id).map(|s| s.len()).ok_or_else(|| {
            ImportError::node(
                node,
                format!("the rank of '{}' is unknown (declare the graph input shapes)", self.graph.value(id).name),
            )
        })
    }

    /// The indices of nodes reading ONNX tensor `name`.
    pub(super) fn consumers_of(&self, name: &str) -> &[usize] {
        self.consumers.get(name).map(|v| v.as_slice()).unwrap_or_default()
    }

    /// The ONNX node at index `i`.
    pub(super) fn onnx_node(&self, i: usize) -> &'m proto::NodeProto {
        &self.onnx_graph().node[i]
    }

    /// Whether ONNX tensor `name` is a graph output.
    pub(super) fn is_graph_output(&self, name: &str) -> bool {
        self.onnx_graph().output.iter().any(|o| o.name() == name)
    }

    /// Attribute reader for `node`.
    pub(super) fn attrs<'n>(&self, node: &'n proto::NodeProto) -> Attrs<'n> {
        Attrs::new(node)
    }

    /// Checks that a value is float, for ops that compute in float.
    pub(super) fn expect_float(&self, node: &proto::NodeProto, id: ValueId) -> Result<(), ImportError> {
        let v = self.graph.value(id);
        if v.dtype != DType::F32 {
            return Err(ImportError::node(
                node,
                format!(
                    "input '{}' is {} but this op computes in float32; is a DequantizeLinear missing before it?",
                    v.name, v.dtype
                ),
            ));
        }
        Ok(())
    }
}

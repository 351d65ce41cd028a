//! A small builder for ONNX graphs: unique names, initializers, nodes.

use crate::ir::{DType, Tensor};
use crate::onnx::{dtype_to_onnx, proto, tensor_to_proto};
use proto::attribute_proto::AttributeType;

/// Accumulates the nodes and initializers of an ONNX graph.
#[derive(Default)]
pub(super) struct OnnxBuilder {
    pub(super) nodes: Vec<proto::NodeProto>,
    pub(super) initializers: Vec<proto::TensorProto>,
    used: std::collections::HashSet<String>,
}

/// An attribute value.
pub(super) enum Attr {
    Int(i64),
    Float(f32),
    Ints(Vec<i64>),
    Str(&'static str),
}

impl OnnxBuilder {
    /// A name not used yet, derived from `base`.
    pub(super) fn fresh(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut k = 1;
        while !self.used.insert(name.clone()) {
            name = format!("{base}_{k}");
            k += 1;
        }
        name
    }

    /// Reserves an exact name (graph inputs and outputs keep theirs).
    pub(super) fn reserve(&mut self, name: &str) {
        self.used.insert(name.to_string());
    }

    /// Adds an initializer and returns its name.
    pub(super) fn constant(&mut self, base: &str, t: &Tensor) -> String {
        let name = self.fresh(base);
        self.initializers.push(tensor_to_proto(&name, t));
        name
    }

    /// A scalar or 1-D float32 initializer.
    pub(super) fn floats(&mut self, base: &str, values: &[f32], vector: bool) -> String {
        let shape = if vector { vec![values.len()] } else { vec![] };
        self.constant(base, &Tensor::f32(shape, values.to_vec()))
    }

    /// A scalar or 1-D integer initializer of `dtype`.
    pub(super) fn ints(&mut self, base: &str, dtype: DType, values: &[i64], vector: bool) -> String {
        let shape = if vector { vec![values.len()] } else { vec![] };
        self.constant(base, &Tensor::int(dtype, shape, values.to_vec()))
    }

    /// Appends a node with one output named `output`.
    pub(super) fn node(
        &mut self,
        op: &str,
        domain: &str,
        name: &str,
        inputs: Vec<String>,
        output: &str,
        attrs: Vec<(&str, Attr)>,
    ) {
        let node_name = self.fresh(name);
        let attribute = attrs
            .into_iter()
            .map(|(n, a)| {
                let mut p = proto::AttributeProto { name: Some(n.to_string()), ..Default::default() };
                match a {
                    Attr::Int(i) => {
                        p.i = Some(i);
                        p.r#type = Some(AttributeType::Int as i32);
                    }
                    Attr::Float(f) => {
                        p.f = Some(f);
                        p.r#type = Some(AttributeType::Float as i32);
                    }
                    Attr::Ints(v) => {
                        p.ints = v;
                        p.r#type = Some(AttributeType::Ints as i32);
                    }
                    Attr::Str(s) => {
                        p.s = Some(s.as_bytes().to_vec());
                        p.r#type = Some(AttributeType::String as i32);
                    }
                }
                p
            })
            .collect();
        self.nodes.push(proto::NodeProto {
            input: inputs,
            output: vec![output.to_string()],
            name: Some(node_name),
            op_type: Some(op.to_string()),
            domain: (!domain.is_empty()).then(|| domain.to_string()),
            attribute,
            ..Default::default()
        });
    }
}

/// A `ValueInfoProto` for a tensor of `dtype` with an optional shape.
pub(super) fn value_info(name: &str, dtype: DType, shape: Option<&[crate::ir::Dim]>) -> proto::ValueInfoProto {
    use proto::tensor_shape_proto::{Dimension, dimension::Value as DimValue};
    let shape = shape.map(|dims| proto::TensorShapeProto {
        dim: dims
            .iter()
            .map(|d| Dimension {
                value: Some(match d {
                    crate::ir::Dim::Fixed(n) => DimValue::DimValue(*n as i64),
                    crate::ir::Dim::Symbolic(s) => DimValue::DimParam(s.clone()),
                }),
                denotation: None,
            })
            .collect(),
    });
    proto::ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(proto::TypeProto {
            value: Some(proto::type_proto::Value::TensorType(proto::type_proto::Tensor {
                elem_type: Some(dtype_to_onnx(dtype)),
                shape,
            })),
            denotation: None,
        }),
        ..Default::default()
    }
}

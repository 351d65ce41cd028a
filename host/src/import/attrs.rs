//! Typed access to node attributes, with errors that name the node.

use super::ImportError;
use crate::onnx::proto::{AttributeProto, NodeProto, attribute_proto::AttributeType};

/// Attribute reader for one node.
pub(super) struct Attrs<'a> {
    node: &'a NodeProto,
}

impl<'a> Attrs<'a> {
    pub(super) fn new(node: &'a NodeProto) -> Self {
        Attrs { node }
    }

    fn get(&self, name: &str) -> Option<&'a AttributeProto> {
        self.node.attribute.iter().find(|a| a.name() == name)
    }

    fn bad(&self, name: &str, expected: &str) -> ImportError {
        ImportError::node(self.node, format!("attribute '{name}' should be {expected}"))
    }

    fn typed(&self, name: &str, ty: AttributeType, expected: &str) -> Result<Option<&'a AttributeProto>, ImportError> {
        match self.get(name) {
            None => Ok(None),
            // Old exporters leave `type` unset; accept the payload then.
            Some(a) if a.r#type.is_none() || a.r#type() == ty => Ok(Some(a)),
            Some(_) => Err(self.bad(name, expected)),
        }
    }

    /// An integer attribute.
    pub(super) fn int(&self, name: &str) -> Result<Option<i64>, ImportError> {
        Ok(self.typed(name, AttributeType::Int, "an integer")?.map(|a| a.i()))
    }

    /// A float attribute.
    pub(super) fn float(&self, name: &str) -> Result<Option<f32>, ImportError> {
        Ok(self.typed(name, AttributeType::Float, "a float")?.map(|a| a.f()))
    }

    /// A list-of-integers attribute.
    pub(super) fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, ImportError> {
        Ok(self.typed(name, AttributeType::Ints, "a list of integers")?.map(|a| a.ints.clone()))
    }

    /// A list-of-floats attribute.
    pub(super) fn floats(&self, name: &str) -> Result<Option<Vec<f32>>, ImportError> {
        Ok(self.typed(name, AttributeType::Floats, "a list of floats")?.map(|a| a.floats.clone()))
    }

    /// A string attribute.
    pub(super) fn string(&self, name: &str) -> Result<Option<String>, ImportError> {
        self.typed(name, AttributeType::String, "a string")?
            .map(|a| String::from_utf8(a.s().to_vec()).map_err(|_| self.bad(name, "UTF-8 text")))
            .transpose()
    }

    /// A tensor attribute.
    pub(super) fn tensor(&self, name: &str) -> Result<Option<&'a crate::onnx::proto::TensorProto>, ImportError> {
        Ok(self.typed(name, AttributeType::Tensor, "a tensor")?.and_then(|a| a.t.as_ref()))
    }

    /// A boolean stored as an integer (0 or 1), with a default.
    pub(super) fn flag(&self, name: &str, default: bool) -> Result<bool, ImportError> {
        match self.int(name)? {
            None => Ok(default),
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            Some(_) => Err(self.bad(name, "0 or 1")),
        }
    }

    /// A list of non-negative sizes.
    pub(super) fn sizes(&self, name: &str) -> Result<Option<Vec<usize>>, ImportError> {
        self.ints(name)?
            .map(|v| v.iter().map(|&x| usize::try_from(x).map_err(|_| self.bad(name, "non-negative"))).collect())
            .transpose()
    }
}

//! Folding of shape computations (`Shape → Gather → Unsqueeze → Concat → Reshape`).
//!
//! Exporters emit these chains to keep a batch dimension dynamic. lowbit
//! evaluates them at import time into a static Reshape target in which a
//! dimension copied from the reshaped tensor at the same position becomes
//! ONNX's `0` ("copy this dimension"), so the batch stays dynamic.

use super::ImportError;
use super::context::Importer;
use crate::ir::ValueId;
use crate::onnx::proto;

/// One entry of a shape computed at import time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SymDim {
    /// A known integer.
    Known(i64),
    /// Dimension `axis` of a value, known only at run time.
    DimOf(ValueId, usize),
}

/// A 0-D or 1-D integer tensor built from [`SymDim`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SymShape {
    /// The entries.
    pub(super) dims: Vec<SymDim>,
    /// Whether the tensor is a scalar (rank 0).
    pub(super) scalar: bool,
}

impl Importer<'_> {
    /// The shape-like value behind input `k`: a folded shape computation or an integer constant.
    fn sym_input(&self, node: &proto::NodeProto, k: usize) -> Result<SymShape, ImportError> {
        let name = node.input.get(k).map(String::as_str).unwrap_or_default();
        if let Some(s) = self.shape_values.get(name) {
            return Ok(s.clone());
        }
        let t =
            self.constant_input(node, k)?.ok_or_else(|| ImportError::node(node, format!("input {k} is required")))?;
        let v = t.as_int().ok_or_else(|| ImportError::node(node, format!("input {k} must be an integer tensor")))?;
        if t.shape.len() > 1 {
            return Err(ImportError::node(node, format!("input {k} must be 0-D or 1-D")));
        }
        Ok(SymShape { dims: v.iter().map(|&x| SymDim::Known(x)).collect(), scalar: t.shape.is_empty() })
    }

    fn ints_input_or_attr(&self, node: &proto::NodeProto, k: usize, attr: &str) -> Result<Vec<i64>, ImportError> {
        if let Some(v) = self.attrs(node).ints(attr)? {
            return Ok(v);
        }
        let s = self.sym_input(node, k)?;
        s.dims
            .iter()
            .map(|d| match d {
                SymDim::Known(v) => Ok(*v),
                SymDim::DimOf(..) => Err(ImportError::node(node, format!("'{attr}' must be static"))),
            })
            .collect()
    }

    /// Imports a shape-computation node; `Ok(false)` if it is not one lowbit folds.
    pub(super) fn shape_op(&mut self, node: &proto::NodeProto) -> Result<bool, ImportError> {
        let out = match node.op_type() {
            "Shape" => {
                let x = self.required(node, 0)?;
                let rank = self.rank_of(node, x)? as i64;
                let a = self.attrs(node);
                let norm = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
                let start = norm(a.int("start")?.unwrap_or(0));
                let end = norm(a.int("end")?.unwrap_or(rank));
                SymShape { dims: (start..end.max(start)).map(|i| SymDim::DimOf(x, i)).collect(), scalar: false }
            }
            "Gather" => {
                let data = self.sym_input(node, 0)?;
                let idx = self.sym_input(node, 1)?;
                if self.attrs(node).int("axis")?.unwrap_or(0) != 0 || data.scalar {
                    return Ok(false);
                }
                let n = data.dims.len() as i64;
                let dims = idx
                    .dims
                    .iter()
                    .map(|d| match *d {
                        SymDim::Known(i) if (-n..n).contains(&i) => {
                            Ok(data.dims[(if i < 0 { i + n } else { i }) as usize])
                        }
                        _ => Err(ImportError::node(node, "indices must be constant and in range")),
                    })
                    .collect::<Result<_, _>>()?;
                SymShape { dims, scalar: idx.scalar }
            }
            "Unsqueeze" => {
                let x = self.sym_input(node, 0)?;
                let axes = self.ints_input_or_attr(node, 1, "axes")?;
                if !x.scalar || axes != [0] {
                    return Ok(false);
                }
                SymShape { dims: x.dims, scalar: false }
            }
            "Squeeze" => {
                let x = self.sym_input(node, 0)?;
                if x.scalar || x.dims.len() != 1 {
                    return Ok(false);
                }
                SymShape { dims: x.dims, scalar: true }
            }
            "Concat" => {
                let mut dims = Vec::new();
                for k in 0..node.input.len() {
                    let s = self.sym_input(node, k)?;
                    if s.scalar {
                        return Ok(false);
                    }
                    dims.extend(s.dims);
                }
                SymShape { dims, scalar: false }
            }
            "Cast" => self.sym_input(node, 0)?,
            _ => return Ok(false),
        };
        let name = node.output.first().ok_or_else(|| ImportError::node(node, "has no output"))?;
        self.shape_values.insert(name.clone(), out);
        Ok(true)
    }

    /// The static target shape of a Reshape of `x`.
    pub(super) fn reshape_target(&self, node: &proto::NodeProto, x: ValueId) -> Result<Vec<i64>, ImportError> {
        let s = self.sym_input(node, 1)?;
        s.dims
            .iter()
            .enumerate()
            .map(|(i, d)| match *d {
                SymDim::Known(v) => Ok(v),
                SymDim::DimOf(v, axis) if v == x && axis == i => Ok(0),
                SymDim::DimOf(v, axis) => match self.shape_of(v) {
                    // Only a dimension that cannot vary may be copied from elsewhere.
                    Some(shape) if self.graph.value(v).declared_shape.is_none() && axis != 0 => Ok(shape[axis] as i64),
                    _ => Err(ImportError::node(
                        node,
                        format!(
                            "target dimension {i} is dimension {axis} of '{}', known only at run time; lowbit supports dynamic dimensions copied at the same position",
                            self.graph.value(v).name
                        ),
                    )),
                },
            })
            .collect()
    }
}

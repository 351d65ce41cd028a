//! Host-side builder (feature `std`): a graph of quantized ops → `.lbm`
//! bytes plus a size and cost report.
//!
//! ```
//! use lowbit_runtime::build::{DenseParams, ProgramBuilder, Requant};
//! use lowbit_runtime::{Model, TensorQuant, WeightFormat};
//!
//! let q = |scale| TensorQuant { scale, zero_point: 0, bits: 8, signed: true };
//! let mut b = ProgramBuilder::new();
//! let x = b.input(&[3], q(0.5))?;
//! let y = b.dense(x, DenseParams {
//!     out_features: 2,
//!     weights: vec![1, -1, 0, 2, 2, 2],
//!     weight_format: WeightFormat::Signed(4),
//!     bias: vec![0, 1],
//!     requant: Requant::new(vec![0.25], q(0.125)),
//! })?;
//! b.output(y)?;
//! let built = b.finish()?;
//! let model = Model::from_bytes(&built.bytes)?;
//! // acc = bias + w·x = [2, 11]; ×0.25 rounds half to even to [0, 3].
//! assert_eq!(model.run_to_vec(&[4, 2, 0xff])?, [0, 3]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod checks;
mod decode;
mod encode;
mod error;
mod ops;
mod params;
mod report;

pub use decode::{DecodedOp, DecodedTensor, OpParams, Program, decode};
pub use error::BuildError;
pub use ops::lut_from_fn;
pub use params::{AddParams, AvgPoolParams, ConvParams, ConvTransposeParams, DenseParams, PoolParams, Requant};
pub use report::{OpReport, Report};

use crate::format::{OpBody, Shape, TensorQuant};

/// A tensor of a [`ProgramBuilder`]. Ids are numbered in creation order and
/// are the tensor numbers of the `.lbm` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(u16);

impl TensorId {
    /// The tensor's number (0 is the model input).
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// A tensor under construction.
#[derive(Debug, Clone)]
struct TensorDef {
    shape: Shape,
    quant: TensorQuant,
    /// The tensor whose bytes this one reinterprets.
    view_of: Option<TensorId>,
}

/// An op under construction; its constants are already in the data section.
#[derive(Debug, Clone)]
struct OpDef {
    input: TensorId,
    output: TensorId,
    body: OpBody,
    /// Filled in except for `arena_bytes`, which needs the memory plan.
    report: OpReport,
}

/// Builds an `.lbm` model op by op.
///
/// Every method checks its arguments completely and returns the new tensor
/// (whose shape follows ONNX's rules); a failed call leaves the builder as it
/// was. [`ProgramBuilder::finish`] plans the memory and serializes.
#[derive(Debug, Clone, Default)]
pub struct ProgramBuilder {
    tensors: Vec<TensorDef>,
    ops: Vec<OpDef>,
    /// The constant data section, growing as ops are added.
    data: Vec<u8>,
    output: Option<TensorId>,
}

/// A finished model.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// The `.lbm` file.
    pub bytes: Vec<u8>,
    /// Its sizes and costs.
    pub report: Report,
}

impl ProgramBuilder {
    /// An empty builder.
    pub fn new() -> ProgramBuilder {
        ProgramBuilder::default()
    }

    /// Defines the model input (must be the first tensor, and only one):
    /// `shape` in ONNX order without the batch axis (`C,H,W`, `C,L` or
    /// `features`).
    pub fn input(&mut self, shape: &[usize], quant: TensorQuant) -> Result<TensorId, BuildError> {
        if !self.tensors.is_empty() {
            return Err(BuildError::DuplicateInput);
        }
        let shape = shape_of(shape)?;
        self.new_tensor(shape, quant, None)
    }

    /// Marks `tensor` as the model output (once).
    pub fn output(&mut self, tensor: TensorId) -> Result<(), BuildError> {
        self.tensor(tensor)?;
        if self.output.is_some() {
            return Err(BuildError::DuplicateOutput);
        }
        self.output = Some(tensor);
        Ok(())
    }

    /// The shape of a tensor.
    pub fn shape(&self, tensor: TensorId) -> Result<Shape, BuildError> {
        Ok(self.tensor(tensor)?.shape)
    }

    /// The quantization of a tensor.
    pub fn quant(&self, tensor: TensorId) -> Result<TensorQuant, BuildError> {
        Ok(self.tensor(tensor)?.quant)
    }

    /// Plans the arena and serializes the model; the bytes are checked with
    /// [`Model::from_bytes`](crate::Model::from_bytes) before they are
    /// returned.
    pub fn finish(&self) -> Result<Built, BuildError> {
        encode::finish(self)
    }

    /// The definition of `id`.
    fn tensor(&self, id: TensorId) -> Result<&TensorDef, BuildError> {
        self.tensors.get(id.index()).ok_or(BuildError::UnknownTensor(id))
    }

    /// Appends a tensor.
    fn new_tensor(
        &mut self,
        shape: Shape,
        quant: TensorQuant,
        view_of: Option<TensorId>,
    ) -> Result<TensorId, BuildError> {
        if !quant.is_valid() {
            return Err(BuildError::InvalidQuant(quant));
        }
        let id = u16::try_from(self.tensors.len())
            .ok()
            .filter(|&id| id < u16::MAX)
            .ok_or(BuildError::TooLarge("more than 65 535 tensors"))?;
        self.tensors.push(TensorDef { shape, quant, view_of });
        Ok(TensorId(id))
    }
}

/// A [`Shape`] from `usize` extents.
fn shape_of(dims: &[usize]) -> Result<Shape, BuildError> {
    let narrow: Option<Vec<u32>> = dims.iter().map(|&d| u32::try_from(d).ok()).collect();
    narrow
        .as_deref()
        .and_then(Shape::new)
        .ok_or_else(|| BuildError::InvalidShape(dims.to_vec()))
}

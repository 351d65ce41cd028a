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
mod select;

pub use decode::{DecodedOp, DecodedTensor, OpParams, Program, decode};
pub use error::BuildError;
pub use ops::lut_from_fn;
pub use params::{AddParams, AvgPoolParams, ConvParams, ConvTransposeParams, DenseParams, PoolParams, Requant};
pub use report::{OpReport, Report};
pub use select::KernelPolicy;

use crate::format::{Kernel, OpBody, OpKind, Shape, TensorQuant};

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
    /// Every value is -1 or +1.
    bipolar: bool,
}

/// An op under construction; its constants are already in the data section.
#[derive(Debug, Clone)]
struct OpDef {
    input: TensorId,
    output: TensorId,
    body: OpBody,
    /// The kernel family that runs it.
    kernel: Kernel,
    /// Scratch bytes the kernel needs while the op runs.
    scratch: usize,
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
    /// How kernels are chosen for the ops added from now on.
    policy: KernelPolicy,
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

    /// How kernels are chosen for the ops added from now on
    /// ([`KernelPolicy::Auto`] unless changed).
    pub fn set_kernel_policy(&mut self, policy: KernelPolicy) {
        self.policy = policy;
    }

    /// Declares that every value of `tensor` is -1 or +1 (a bipolar
    /// activation), which lets a following Dense with bipolar weights run
    /// as XNOR and popcount ([`Kernel::Binary`]). Declare it before adding
    /// the ops that read it.
    ///
    /// The quantization must hold -1 and +1 (signed, at least 2 bits), and
    /// the values must be guaranteed: `tensor` is the model input (`run`
    /// then rejects other values), the output of a `lut` whose entries are
    /// all -1 or +1, or a view of a bipolar tensor. (`max_pool` and
    /// `reshape` of a bipolar tensor are bipolar without a declaration.)
    pub fn declare_bipolar(&mut self, tensor: TensorId) -> Result<(), BuildError> {
        let t = self.tensor(tensor)?;
        let kind = OpKind::Lut;
        if !t.quant.can_be_bipolar() {
            return Err(self.invalid(kind, "a bipolar tensor needs a signed range of at least 2 bits"));
        }
        let guaranteed = t.bipolar
            || tensor.0 == 0
            || t.view_of.is_some_and(|base| self.tensors[base.index()].bipolar)
            || self.ops.iter().any(|op| {
                op.output == tensor && matches!(op.body, OpBody::Lut { table } if self.lut_is_bipolar(table))
            });
        if !guaranteed {
            return Err(self.invalid(
                kind,
                "only the model input, a table with entries -1 and +1 or a view of a bipolar tensor can be declared bipolar",
            ));
        }
        self.tensors[tensor.index()].bipolar = true;
        Ok(())
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
        let bipolar = view_of.is_some_and(|base| self.tensors[base.index()].bipolar);
        self.tensors.push(TensorDef {
            shape,
            quant,
            view_of,
            bipolar,
        });
        Ok(TensorId(id))
    }

    /// Whether the 256-byte table at `offset` of the data section holds
    /// only -1 and +1 (as stored bytes).
    fn lut_is_bipolar(&self, offset: u32) -> bool {
        let start = offset as usize;
        self.data
            .get(start..start + 256)
            .is_some_and(|t| t.iter().all(|&b| b == 1 || b == 0xff))
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

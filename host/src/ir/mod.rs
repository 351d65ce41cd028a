//! lowbit's quantized intermediate representation.
//!
//! A [`Graph`] of [`Node`]s over [`Value`]s. Integer values carry explicit
//! [`QuantParams`] (scale per tensor or per channel, zero point, bit width,
//! signedness, narrow range); constants stay integers. Importers build it,
//! the executor runs it, exporters and the lowering read it. The IR knows
//! nothing of ONNX files or of the device format.

mod graph;
mod op;
mod quant;
pub mod shape;
mod tensor;

pub use graph::{Format, Graph, Node, Source, Value, ValueId};
pub use op::{
    AvgPoolAttrs, ClipAttrs, ConvAttrs, ConvTransposeAttrs, GemmAttrs, Op, PoolAttrs, QuantizeAttrs, SliceAttrs,
    TruncAttrs,
};
pub use quant::{QuantParams, QuantParamsError, fitting_bits, int_range, parse_rounding, range_to_bits, rounding_name};
pub use shape::{ShapeError, infer_shapes};
pub use tensor::{DType, Dim, Tensor, TensorData, fmt_shape};

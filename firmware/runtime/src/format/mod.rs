//! The `.lbm` binary model format (specified byte by byte in
//! `docs/lbm-format.md`): header, tensor records, op records and weight
//! packing. Each record's decoder and encoder live side by side.

mod cursor;
mod header;
mod op;
mod pack;
mod tensor;

pub(crate) use cursor::{f32_at, i32_at};
pub(crate) use header::{BLOB_ALIGN, Header};
#[cfg(feature = "std")]
pub(crate) use header::{CRC_OFFSET, Layout, checksum};
pub use header::{FORMAT_VERSION, MAGIC};
#[cfg(feature = "std")]
pub(crate) use op::Blob;
#[cfg(feature = "std")]
pub(crate) use op::SCRATCH_ALIGN;
pub(crate) use op::{Affine, Head, OpBody, OpRecord, Requant, Window};
pub use op::{Kernel, OpKind};
pub use pack::WeightFormat;
pub(crate) use pack::WeightStream;
#[cfg(feature = "std")]
pub(crate) use pack::pack;
pub use tensor::{MAX_DIM, MAX_RANK, Shape, TensorQuant};
pub(crate) use tensor::{TENSOR_RECORD_LEN, TensorRecord};

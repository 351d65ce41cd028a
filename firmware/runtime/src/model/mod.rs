//! The device API: parse and validate an `.lbm` blob in place, then run it.

mod compiled;
#[cfg(feature = "std")]
mod emit;
mod ends;
#[cfg(feature = "std")]
mod features;
mod plan;
mod prepare;
#[cfg(test)]
mod tests;
mod validate;

use crate::Error;
use crate::format::{Head, Header, OpRecord, Shape, TENSOR_RECORD_LEN, TensorQuant, TensorRecord};
#[cfg(feature = "compiled")]
pub use compiled::COMPILED;
pub use compiled::Compiled;
use ends::Ends;
pub use plan::{Plan, PlanSlot};
use prepare::Step;

/// Shape and quantization of a model input or output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorInfo {
    /// Shape in ONNX order without the batch axis (`C,H,W`, `C,L` or
    /// `features`); the buffers passed to [`Model::run`] hold the values in
    /// this order.
    pub shape: Shape,
    /// Quantization; values are `i8` if `quant.signed`, else `u8`.
    pub quant: TensorQuant,
}

/// A validated `.lbm` model, borrowing its bytes (weights are read in place).
///
/// ```
/// # fn demo(blob: &[u8]) -> Result<(), lowbit_runtime::Error> {
/// use lowbit_runtime::Model;
/// let model = Model::from_bytes(blob)?;
/// let mut arena = [0u8; 4096]; // at least model.arena_size()
/// let input = [0u8; 3];        // model.input().shape.elements() values
/// let mut output = [0u8; 2];   // model.output().shape.elements() values
/// model.run(&mut arena, &input, &mut output)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Model<'a> {
    header: Header,
    tensors: &'a [u8],
    ops: &'a [u8],
    data: &'a [u8],
    ends: Ends,
}

/// Decodes tensor record `id` and checks that its bytes lie in the arena.
fn tensor_at(tensors: &[u8], arena_size: u32, id: u16) -> Result<TensorRecord, Error> {
    let start = usize::from(id) * TENSOR_RECORD_LEN;
    let err = Error::InvalidTensor { index: id };
    let bytes = tensors.get(start..start + TENSOR_RECORD_LEN).ok_or(err)?;
    let record = TensorRecord::decode(bytes).map_err(|()| err)?;
    if record.span().end > arena_size as usize {
        return Err(err);
    }
    Ok(record)
}

impl<'a> Model<'a> {
    /// Parses `bytes` in place and validates everything a run relies on:
    /// magic, version, CRC, section bounds, every tensor and op record,
    /// shapes between ops, weight sizes against shapes and bit widths, and
    /// that every tensor fits the arena. Bytes after the file length stored
    /// in the header are ignored (so a whole flash partition may be passed).
    ///
    /// Never panics, whatever `bytes` holds. For the fastest weight access,
    /// place the blob at a 16-byte aligned address.
    #[inline(never)]
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Model<'a>, Error> {
        let (header, layout) = Header::parse(bytes)?;
        let section = |range| bytes.get(range).ok_or(Error::OutOfBounds);
        let tensors = section(layout.tensors)?;
        let model = Model {
            header,
            tensors,
            ops: section(layout.ops)?,
            data: section(layout.data)?,
            ends: Ends {
                input: tensor_at(tensors, header.arena_size, 0)?,
                output: tensor_at(tensors, header.arena_size, header.output_tensor)?,
                output_tensor: header.output_tensor,
                arena_size: header.arena_size as usize,
            },
        };
        validate::validate(&model)?;
        Ok(model)
    }

    /// The model input: the buffer passed to [`Model::run`] holds
    /// `input().shape.elements()` values in ONNX order.
    pub fn input(&self) -> TensorInfo {
        self.ends.input_info()
    }

    /// The model output, in ONNX order.
    pub fn output(&self) -> TensorInfo {
        self.ends.output_info()
    }

    /// Number of input values (= bytes) `run` expects.
    pub fn input_len(&self) -> usize {
        self.ends.input.shape.elements()
    }

    /// Number of output values (= bytes) `run` produces.
    pub fn output_len(&self) -> usize {
        self.ends.output.shape.elements()
    }

    /// Bytes of scratch memory [`Model::run`] needs.
    pub fn arena_size(&self) -> usize {
        self.ends.arena_size
    }

    /// Number of ops executed per run.
    pub fn op_count(&self) -> usize {
        usize::from(self.header.op_count)
    }

    /// Length of the model file in bytes.
    pub fn file_len(&self) -> usize {
        self.header.file_len as usize
    }

    /// The format version of the blob.
    pub fn version(&self) -> u16 {
        crate::FORMAT_VERSION
    }

    /// Tensor record `id`.
    fn tensor(&self, id: u16) -> Result<TensorRecord, Error> {
        if id >= self.header.tensor_count {
            return Err(Error::InvalidTensor { index: id });
        }
        tensor_at(self.tensors, self.header.arena_size, id)
    }

    /// Tensor record `id` read without checks, for [`Model::execute`]:
    /// [`Model::from_bytes`] validated every record of these bytes (which
    /// cannot have changed since, they are borrowed immutably).
    #[inline]
    fn validated_tensor(&self, id: u16) -> Result<TensorRecord, Error> {
        let start = usize::from(id) * TENSOR_RECORD_LEN;
        let bytes = self.tensors.get(start..).and_then(|b| b.first_chunk());
        bytes.map(TensorRecord::read).ok_or(Error::InvalidTensor { index: id })
    }

    /// Calls `f(index, record)` for every op record in execution order.
    fn for_each_op(&self, mut f: impl FnMut(u16, &OpRecord) -> Result<(), Error>) -> Result<(), Error> {
        self.for_each_record(|index, head, bytes| {
            // Matched by reference: the record is used where it was decoded.
            let decoded = OpRecord::with_head(head, bytes);
            let Ok(record) = &decoded else {
                return Err(Error::InvalidOp { index });
            };
            f(index, record)
        })
    }

    /// Calls `f(index, head, bytes)` for every op record in execution order,
    /// with its checked [`Head`] and the bytes from its start on.
    fn for_each_record(&self, mut f: impl FnMut(u16, &Head, &[u8]) -> Result<(), Error>) -> Result<(), Error> {
        let mut pos = 0;
        for index in 0..self.header.op_count {
            let rest = self.ops.get(pos..).ok_or(Error::InvalidOp { index })?;
            let head = Head::read(rest).map_err(|()| Error::InvalidOp { index })?;
            f(index, &head, rest)?;
            pos += head.len;
        }
        if pos == self.ops.len() {
            Ok(())
        } else {
            Err(Error::OutOfBounds)
        }
    }

    /// Runs the model once (batch 1): [`Model::write_input`],
    /// [`Model::execute`], [`Model::read_output`].
    ///
    /// `input` and `output` hold one value per byte in ONNX order: `i8`
    /// reinterpreted as `u8` (two's complement) if the tensor is signed, else
    /// `u8`. `arena` needs at least [`Model::arena_size`] bytes; its contents
    /// on entry do not matter. Input values outside the input's declared bit
    /// range (or other than -1 and +1 for a bipolar input) are rejected,
    /// because the integers computed from them could not be guaranteed to
    /// match the host's.
    #[inline(never)]
    pub fn run(&self, arena: &mut [u8], input: &[u8], output: &mut [u8]) -> Result<(), Error> {
        self.ends.run_with(arena, input, output, |arena| self.execute(arena))
    }

    /// [`Model::run`] for signed input and output given as `i8`.
    #[inline(never)]
    pub fn run_i8(&self, arena: &mut [u8], input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        self.ends.check_output_len(output.len())?;
        self.ends.write_input_with(arena, input, |v| v as u8)?;
        self.execute(arena)?;
        self.ends.read_output_with(arena, output, |b| b as i8)
    }

    /// [`Model::run`] with a fresh arena and output vector (host convenience).
    #[cfg(feature = "std")]
    pub fn run_to_vec(&self, input: &[u8]) -> Result<std::vec::Vec<u8>, Error> {
        let mut arena = std::vec![0; self.arena_size()];
        let mut output = std::vec![0; self.ends.output.shape.elements()];
        self.run(&mut arena, input, &mut output)?;
        Ok(output)
    }

    /// The first step of [`Model::run`]: checks `input` (length, declared
    /// range) and copies it into the input tensor's bytes of `arena`.
    #[inline]
    pub fn write_input(&self, arena: &mut [u8], input: &[u8]) -> Result<(), Error> {
        self.ends.write_input(arena, input)
    }

    /// The second step of [`Model::run`]: executes every op on an arena
    /// that holds the input (see [`Model::write_input`]). Only the op
    /// records and the arena are read, so a caller that fills the input
    /// bytes itself can time the ops alone.
    #[inline(never)]
    pub fn execute(&self, arena: &mut [u8]) -> Result<(), Error> {
        let arena = self.ends.arena(arena)?;
        // `from_bytes` checked every op, so only the arguments are built
        // again.
        self.for_each_record(|index, head, bytes| Step::run(self, index, head, bytes, arena))
    }

    /// The last step of [`Model::run`]: copies the output tensor out of
    /// `arena` after [`Model::execute`].
    #[inline]
    pub fn read_output(&self, arena: &[u8], output: &mut [u8]) -> Result<(), Error> {
        self.ends.read_output(arena, output)
    }
}

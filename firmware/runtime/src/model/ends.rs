//! The two ends of a run, shared by [`Model`](super::Model) and
//! [`Compiled`](super::Compiled): the input checked and copied into the
//! arena, the output copied out, and the arena's size.

use super::TensorInfo;
use crate::Error;
use crate::format::TensorRecord;
use crate::kernels::Values;

/// A model's input and output tensors and its arena size: all a run needs
/// besides its ops.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ends {
    /// The input tensor (number 0).
    pub(super) input: TensorRecord,
    /// The output tensor.
    pub(super) output: TensorRecord,
    /// The output tensor's number (for errors).
    pub(super) output_tensor: u16,
    /// Bytes of arena a run needs.
    pub(super) arena_size: usize,
}

impl Ends {
    /// Shape and quantization of the input.
    pub(super) fn input_info(&self) -> TensorInfo {
        TensorInfo {
            shape: self.input.shape,
            quant: self.input.quant,
        }
    }

    /// Shape and quantization of the output.
    pub(super) fn output_info(&self) -> TensorInfo {
        TensorInfo {
            shape: self.output.shape,
            quant: self.output.quant,
        }
    }

    /// A whole run with `ops` run on the arena between the input and
    /// output copies, so that every way to run a model makes the same
    /// checks.
    #[inline(always)]
    pub(super) fn run_with(
        &self,
        arena: &mut [u8],
        input: &[u8],
        output: &mut [u8],
        ops: impl FnOnce(&mut [u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.check_output_len(output.len())?;
        self.write_input(arena, input)?;
        ops(arena)?;
        self.read_output(arena, output)
    }

    /// Checks `input` (length, declared range) and copies it into the
    /// input tensor's bytes of `arena`. Out of line: every way to run a
    /// model shares this one copy.
    #[inline(never)]
    pub(super) fn write_input(&self, arena: &mut [u8], input: &[u8]) -> Result<(), Error> {
        self.write_input_with(arena, input, |b| b)
    }

    /// Copies the output tensor out of `arena` (one shared copy too).
    #[inline(never)]
    pub(super) fn read_output(&self, arena: &[u8], output: &mut [u8]) -> Result<(), Error> {
        self.read_output_with(arena, output, |b| b)
    }

    /// The first [`Ends::arena_size`] bytes of `arena`.
    pub(super) fn arena<'b>(&self, arena: &'b mut [u8]) -> Result<&'b mut [u8], Error> {
        let (needed, got) = (self.arena_size, arena.len());
        arena.get_mut(..needed).ok_or(Error::ArenaTooSmall { needed, got })
    }

    /// Checks and copies the input in, converting each value to its byte.
    pub(super) fn write_input_with<T: Copy>(
        &self,
        arena: &mut [u8],
        input: &[T],
        to_byte: impl Fn(T) -> u8,
    ) -> Result<(), Error> {
        let arena = self.arena(arena)?;
        let span = self.input.span();
        if input.len() != span.len() {
            return Err(Error::BadInputLen {
                expected: span.len(),
                got: input.len(),
            });
        }
        let values = Values::new(self.input.quant.signed);
        let (lo, hi) = self.input.quant.range();
        let bipolar = self.input.bipolar;
        let dst = arena.get_mut(span).ok_or(Error::InvalidTensor { index: 0 })?;
        for (index, (d, &v)) in dst.iter_mut().zip(input).enumerate() {
            *d = to_byte(v);
            let value = values.get(*d);
            if !(lo..=hi).contains(&value) || (bipolar && value.abs() != 1) {
                return Err(Error::InputOutOfRange { index });
            }
        }
        Ok(())
    }

    /// Fails unless an output buffer of `len` values fits the output tensor.
    pub(super) fn check_output_len(&self, len: usize) -> Result<(), Error> {
        let expected = self.output.span().len();
        if len == expected {
            Ok(())
        } else {
            Err(Error::BadOutputLen { expected, got: len })
        }
    }

    /// Copies the output tensor out, converting each byte.
    pub(super) fn read_output_with<T>(
        &self,
        arena: &[u8],
        output: &mut [T],
        from_byte: impl Fn(u8) -> T,
    ) -> Result<(), Error> {
        self.check_output_len(output.len())?;
        let (needed, got) = (self.arena_size, arena.len());
        let src = arena
            .get(..needed)
            .ok_or(Error::ArenaTooSmall { needed, got })?
            .get(self.output.span())
            .ok_or(Error::InvalidTensor {
                index: self.output_tensor,
            })?;
        for (o, &b) in output.iter_mut().zip(src) {
            *o = from_byte(b);
        }
        Ok(())
    }
}

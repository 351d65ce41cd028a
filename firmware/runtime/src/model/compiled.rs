//! A model compiled into the firmware: its kernel arguments written out as
//! Rust statics on the host, so the device has no parser, validator or
//! argument builder.
//!
//! [`Model::to_rust`](super::Model::to_rust) (feature `std`) validates a
//! model with the same code the device would run and writes every op's
//! kernel arguments, the ends of a run and the data section's bytes as Rust
//! source. A firmware built with the feature `compiled` and the environment
//! variable `LOWBIT_COMPILED` naming that file includes it here and gets
//! `COMPILED`; the linker then keeps only the kernels and the run loop
//! (the example CNN's runtime code shrinks from 32,666 B to 16,050 B on a
//! Cortex-M4: no parsing, validation or planning). The arguments live in
//! flash, so no RAM holds them either.

use super::ends::Ends;
use super::prepare::Step;
use super::{Error, TensorInfo};

/// A model whose kernel arguments were built on the host (see the module
/// docs): runs exactly as [`Plan::run`](super::Plan::run) runs the same
/// `.lbm` file, with the same checks of input, output and arena.
pub struct Compiled {
    /// Input, output and arena size.
    ends: Ends,
    /// The ops in execution order.
    steps: &'static [Step<'static>],
    /// Length of the `.lbm` file it was compiled from.
    file_len: usize,
}

impl Compiled {
    /// [`Model::run`](super::Model::run) of the model it was compiled from.
    #[inline(never)]
    pub fn run(&self, arena: &mut [u8], input: &[u8], output: &mut [u8]) -> Result<(), Error> {
        self.ends.run_with(arena, input, output, |arena| self.execute(arena))
    }

    /// [`Model::execute`](super::Model::execute): runs every op's kernel on
    /// an arena that holds the input.
    #[inline(never)]
    pub fn execute(&self, arena: &mut [u8]) -> Result<(), Error> {
        let arena = self.ends.arena(arena)?;
        for (index, step) in (0..).zip(self.steps) {
            step.execute(index, arena)?;
        }
        Ok(())
    }

    /// [`Model::write_input`](super::Model::write_input): checks `input`
    /// and copies it into the arena.
    #[inline]
    pub fn write_input(&self, arena: &mut [u8], input: &[u8]) -> Result<(), Error> {
        self.ends.write_input(arena, input)
    }

    /// [`Model::read_output`](super::Model::read_output): copies the output
    /// out of the arena after [`Compiled::execute`].
    #[inline]
    pub fn read_output(&self, arena: &[u8], output: &mut [u8]) -> Result<(), Error> {
        self.ends.read_output(arena, output)
    }

    /// The model input (see [`Model::input`](super::Model::input)).
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

    /// Bytes of scratch memory [`Compiled::run`] needs.
    pub fn arena_size(&self) -> usize {
        self.ends.arena_size
    }

    /// Number of ops executed per run.
    pub fn op_count(&self) -> usize {
        self.steps.len()
    }

    /// Length of the `.lbm` file the model was compiled from.
    pub fn file_len(&self) -> usize {
        self.file_len
    }
}

/// The data section, 16-byte aligned like a blob's (the kernels read
/// multipliers and weights in words where they are aligned).
#[cfg(feature = "compiled")]
#[repr(C, align(16))]
struct Aligned<T: ?Sized>(T);

/// The generated source (`Model::to_rust`): the statics `DATA`, `STEPS`
/// and `MODEL`, with names from here.
#[cfg(feature = "compiled")]
mod generated {
    // A model uses some of the kernel families only.
    #![allow(unused_imports)]
    use super::super::prepare::{Call, Step};
    use super::{Aligned, Compiled, Ends};
    use crate::WeightFormat;
    use crate::format::{Shape, TensorQuant, TensorRecord};
    use crate::kernels::binary::{Layout, Levels, Stage};
    use crate::kernels::{AddArgs, AvgPoolArgs, ConvArgs, DenseArgs, Geometry, MaxPoolArgs, Output, Values, Weights};

    include!(env!("LOWBIT_COMPILED"));
}

/// The model the firmware was compiled with (feature `compiled`).
#[cfg(feature = "compiled")]
pub static COMPILED: &Compiled = &generated::MODEL;

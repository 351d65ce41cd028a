//! The model the inferences run, in one of two forms:
//!
//! - the image's `.lbm` file, parsed and validated on the device, with the
//!   kernel arguments of up to the board's `plan_ops` ops built once
//!   (`lowbit_runtime::Plan`); a model with more ops builds each op's
//!   arguments before running it (`Model::run`);
//! - feature `compiled`: the model compiled into the firmware on the host
//!   (`lowbit_runtime::COMPILED`), so the device carries no parser,
//!   validator or argument builder, and the image holds only the inputs.
//!
//! Either way, one inference lies between the instruction-count markers:
//! the whole run (input check and copy, every op, output copy); with the
//! feature `layer-bench`, only the ops, since the layer benchmark times
//! single-op programs without the input and output copies.

use lowbit_runtime::Error;

use crate::sys;

#[cfg(not(feature = "compiled"))]
pub use parsed::{PLAN_OPS, Program};

#[cfg(feature = "compiled")]
pub use compiled::Program;

/// Whether the markers enclose only the ops.
const LAYER: bool = cfg!(feature = "layer-bench");

/// The image's model, parsed on the device.
#[cfg(not(feature = "compiled"))]
mod parsed {
    use lowbit_runtime::{Model, Plan};

    use super::*;

    /// The board's `plan_ops`.
    mod board {
        include!(concat!(env!("OUT_DIR"), "/plan.rs"));
    }
    pub use board::PLAN_OPS;

    /// A validated model (of the image, so `'static`) and, if it has at
    /// most `plan_ops` ops, its plan.
    pub struct Program<'p> {
        model: &'p Model<'static>,
        plan: Option<Plan<'p, 'static>>,
    }

    impl<'p> Program<'p> {
        /// Plans `model` in the board's static slots (once).
        pub fn new(model: &'p Model<'static>) -> Self {
            Program { model, plan: model.plan(sys::take_plan_slots()).ok() }
        }

        /// The model, for its sizes and tensors.
        pub fn model(&self) -> &Model<'static> {
            self.model
        }

        /// One inference between the markers (see the module docs).
        pub fn infer(&self, arena: &mut [u8], input: &[u8], output: &mut [u8]) -> Result<(), Error> {
            let model = self.model;
            if LAYER {
                model.write_input(arena, input)?;
            }
            sys::inference_start();
            let result = match (&self.plan, LAYER) {
                (Some(plan), false) => plan.run(arena, input, output),
                (None, false) => model.run(arena, input, output),
                (Some(plan), true) => plan.execute(arena),
                (None, true) => model.execute(arena),
            };
            sys::inference_end();
            result?;
            if LAYER {
                model.read_output(arena, output)?;
            }
            Ok(())
        }
    }
}

/// The model compiled into the firmware.
#[cfg(feature = "compiled")]
mod compiled {
    use lowbit_runtime::{COMPILED, Compiled};

    use super::*;

    /// [`COMPILED`].
    pub struct Program;

    impl Program {
        /// The model, for its sizes and tensors.
        pub fn model(&self) -> &'static Compiled {
            COMPILED
        }

        /// One inference between the markers (see the module docs).
        pub fn infer(&self, arena: &mut [u8], input: &[u8], output: &mut [u8]) -> Result<(), Error> {
            let model = COMPILED;
            if LAYER {
                model.write_input(arena, input)?;
            }
            sys::inference_start();
            let result = if LAYER { model.execute(arena) } else { model.run(arena, input, output) };
            sys::inference_end();
            result?;
            if LAYER {
                model.read_output(arena, output)?;
            }
            Ok(())
        }
    }
}

//! Kernel arguments built once, ahead of the inferences.
//!
//! [`Model::execute`] reads every op record and builds its kernel's
//! arguments before calling the kernel, on every inference: a few hundred
//! instructions an op, which a small model's whole inference feels (about
//! 8 % of the example CNN on a Cortex-M4). A [`Plan`] builds them once,
//! when it is made, and keeps them in slots its caller provides (as
//! TensorFlow Lite Micro's `Prepare` keeps per-op data), at the price of
//! the RAM that holds them; its inferences only call the kernels.

use super::Model;
use super::prepare::Step;
use crate::Error;

/// Room for one op's kernel arguments in a [`Plan`]: 164 bytes on 32-bit
/// targets.
pub struct PlanSlot<'a>(Option<Step<'a>>);

impl PlanSlot<'_> {
    /// A slot that holds nothing yet, to fill arrays with
    /// (`[PlanSlot::EMPTY; N]`).
    pub const EMPTY: Self = PlanSlot(None);
}

/// A validated model with the kernel arguments of each of its ops built
/// once (see the module docs).
///
/// ```
/// # fn demo(blob: &[u8]) -> Result<(), lowbit_runtime::Error> {
/// use lowbit_runtime::{Model, PlanSlot};
/// let model = Model::from_bytes(blob)?;
/// let mut slots = [PlanSlot::EMPTY; 16]; // one per op
/// let plan = model.plan(&mut slots)?; // PlanTooSmall if the model has more ops
/// let mut arena = [0u8; 4096];
/// let (input, mut output) = ([0u8; 3], [0u8; 2]);
/// plan.run(&mut arena, &input, &mut output)?; // as Model::run computes it
/// # Ok(()) }
/// ```
pub struct Plan<'p, 'a> {
    model: &'p Model<'a>,
    /// The ops in execution order.
    steps: &'p [PlanSlot<'a>],
}

impl<'a> Model<'a> {
    /// Builds the kernel arguments of every op once, into `slots` (see
    /// [`Plan`]). [`Error::PlanTooSmall`] if the model has more ops than
    /// there are slots.
    #[inline(never)]
    pub fn plan<'p>(&'p self, slots: &'p mut [PlanSlot<'a>]) -> Result<Plan<'p, 'a>, Error> {
        let (ops, capacity) = (self.op_count(), slots.len());
        let steps = slots.get_mut(..ops).ok_or(Error::PlanTooSmall { ops, capacity })?;
        let mut next = steps.iter_mut();
        // `from_bytes` checked every op, so only the arguments are built.
        self.for_each_op(|index, record| {
            let slot = next.next().ok_or(Error::InvalidOp { index })?;
            slot.0 = Some(Step::prepare(self, index, record, false)?);
            Ok(())
        })?;
        Ok(Plan { model: self, steps })
    }
}

impl Plan<'_, '_> {
    /// [`Model::run`] with the arguments built: the same checks and the
    /// same output.
    #[inline(never)]
    pub fn run(&self, arena: &mut [u8], input: &[u8], output: &mut [u8]) -> Result<(), Error> {
        self.model
            .ends
            .run_with(arena, input, output, |arena| self.execute(arena))
    }

    /// [`Model::execute`] with the arguments built: runs every op's kernel
    /// on an arena that holds the input.
    #[inline(never)]
    pub fn execute(&self, arena: &mut [u8]) -> Result<(), Error> {
        let arena = self.model.ends.arena(arena)?;
        for (index, slot) in (0..).zip(self.steps) {
            let step = slot.0.as_ref().ok_or(Error::InvalidOp { index })?;
            step.execute(index, arena)?;
        }
        Ok(())
    }
}

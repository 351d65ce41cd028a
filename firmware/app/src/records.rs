//! The records the host decodes: fixed defmt messages with typed fields.
//!
//! The host matches each frame's format string exactly (placeholders and
//! their types included), so changing a message here is a format change:
//! bump `v2` and update `xtask`'s decoder together.
//!
//! | record          | fields                                                    |
//! |-----------------|-----------------------------------------------------------|
//! | `lowbit.boot`   | board (str), mode (str), counter (str)                    |
//! | `lowbit.model`  | model_len, input_len, inputs, output_len, arena_needed, arena_available (u32) |
//! | `lowbit.run`    | index (u32), counter_delta (u64), checksum (u32, CRC-32 of the output), output ([u8]) |
//! | `lowbit.top`    | index (u32), class (u32), score (f32), probability (f32); best first, classifiers only |
//! | `lowbit.stack`  | used, reserved (u32): stack high-water mark and reservation |
//! | `lowbit.exit`   | status (u8)                                               |
//!
//! Errors are `error`-level messages starting with `lowbit.error`,
//! `lowbit.panic` or `lowbit.fault`; they are for people, not parsed.

use crate::{exit::ExitStatus, scores::Top};

/// First record: who is running what.
pub fn boot(board: &str, mode: &str, counter: &str) {
    defmt::info!("lowbit.boot v2 board={=str} mode={=str} counter={=str}", board, mode, counter);
}

/// The model's sizes, the number of inputs and the arena the board offers.
pub fn model(
    model_len: usize,
    input_len: usize,
    inputs: u32,
    output_len: usize,
    arena_needed: usize,
    arena_available: usize,
) {
    defmt::info!(
        "lowbit.model model_len={=u32} input_len={=u32} inputs={=u32} output_len={=u32} arena_needed={=u32} arena_available={=u32}",
        model_len as u32,
        input_len as u32,
        inputs,
        output_len as u32,
        arena_needed as u32,
        arena_available as u32
    );
}

/// One inference: the counter delta between the markers, the output and its checksum.
pub fn run(index: u32, counter_delta: u64, checksum: u32, output: &[u8]) {
    defmt::info!(
        "lowbit.run index={=u32} counter_delta={=u64} checksum={=u32} output={=[u8]}",
        index,
        counter_delta,
        checksum,
        output
    );
}

/// One of the best classes of inference `index`.
pub fn top(index: u32, top: &Top) {
    defmt::info!(
        "lowbit.top index={=u32} class={=u32} score={=f32} probability={=f32}",
        index,
        top.class,
        top.score,
        top.probability
    );
}

/// The deepest the stack reached, and its reservation.
pub fn stack(used: u32, reserved: u32) {
    defmt::info!("lowbit.stack used={=u32} reserved={=u32}", used, reserved);
}

/// Last record before the exit.
pub fn exit(status: ExitStatus) {
    defmt::info!("lowbit.exit status={=u8}", status as u8);
}

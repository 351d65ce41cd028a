//! The records the host decodes: fixed defmt messages with typed fields.
//!
//! The host matches each frame's format string exactly (placeholders and
//! their types included), so changing a message here is a format change:
//! bump `v1` and update `xtask`'s decoder together.
//!
//! | record          | fields                                                    |
//! |-----------------|-----------------------------------------------------------|
//! | `lowbit.boot`   | board (str), mode (str), counter (str)                    |
//! | `lowbit.model`  | model_len, input_len, output_len, arena_needed, arena_available (u32) |
//! | `lowbit.run`    | index (u32), counter_delta (u64), checksum (u32, CRC-32 of the output) |
//! | `lowbit.output` | bytes ([u8], the last inference's output)                 |
//! | `lowbit.exit`   | status (u8)                                               |
//!
//! Errors are `error`-level messages starting with `lowbit.error`,
//! `lowbit.panic` or `lowbit.fault`; they are for people, not parsed.

use crate::exit::ExitStatus;

/// First record: who is running what.
pub fn boot(board: &str, mode: &str, counter: &str) {
    defmt::info!("lowbit.boot v1 board={=str} mode={=str} counter={=str}", board, mode, counter);
}

/// The model's sizes and the arena the board offers.
pub fn model(model_len: usize, input_len: usize, output_len: usize, arena_needed: usize, arena_available: usize) {
    defmt::info!(
        "lowbit.model model_len={=u32} input_len={=u32} output_len={=u32} arena_needed={=u32} arena_available={=u32}",
        model_len as u32,
        input_len as u32,
        output_len as u32,
        arena_needed as u32,
        arena_available as u32
    );
}

/// One inference: the counter delta between the markers and the output checksum.
pub fn run(index: u32, counter_delta: u64, checksum: u32) {
    defmt::info!("lowbit.run index={=u32} counter_delta={=u64} checksum={=u32}", index, counter_delta, checksum);
}

/// The output of the last inference.
pub fn output(bytes: &[u8]) {
    defmt::info!("lowbit.output bytes={=[u8]}", bytes);
}

/// Last record before the exit.
pub fn exit(status: ExitStatus) {
    defmt::info!("lowbit.exit status={=u8}", status as u8);
}

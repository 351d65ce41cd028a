//! QEMU TCG plugin: exact instruction counts between two addresses.
//!
//! Arguments: `start=<decimal address>,end=<decimal address>` (the firmware's
//! `lowbit_inference_start` and `lowbit_inference_end`). Every executed
//! translation block adds its instruction count; reaching `start` snapshots
//! the total and reaching `end` prints `lowbit-icount <n>`, where `n` counts
//! the instructions from the first of `start` up to (excluding) the first of
//! `end`. The markers are call targets, so each begins a translation block and
//! the count is exact. Output goes to QEMU's log (`-d plugin -D <file>`).

use std::sync::{Arc, Mutex};

use qemu_plugin::{Args, HasCallbacks, Info, PluginId, Register, TranslationBlock, qemu_plugin_outs, register};

/// Counting state shared by the execution callbacks.
#[derive(Default)]
struct Counter {
    /// Instructions executed so far.
    total: u64,
    /// `total` when `start` was reached, until `end` is.
    started_at: Option<u64>,
}

/// The plugin: marker addresses and the shared counter.
#[derive(Default)]
struct Icount {
    start: u64,
    end: u64,
    counter: Arc<Mutex<Counter>>,
}

/// Parses `name=<decimal>` from the raw plugin arguments.
fn address(args: &Args, name: &str) -> qemu_plugin::Result<u64> {
    let prefix = format!("{name}=");
    args.raw
        .iter()
        .find_map(|arg| arg.strip_prefix(&prefix))
        .and_then(|value| value.parse().ok())
        .ok_or_else(|| qemu_plugin::Error::MissingArgValue { argument: format!("{name}=<decimal address>") })
}

impl Register for Icount {
    fn register(&mut self, _id: PluginId, args: &Args, _info: &Info) -> qemu_plugin::Result<()> {
        self.start = address(args, "start")?;
        self.end = address(args, "end")?;
        Ok(())
    }
}

impl HasCallbacks for Icount {
    fn on_translation_block_translate(&mut self, _id: PluginId, tb: TranslationBlock) -> qemu_plugin::Result<()> {
        let insns = tb.size() as u64;
        let counter = Arc::clone(&self.counter);
        tb.register_execute_callback(move |_vcpu| {
            if let Ok(mut c) = counter.lock() {
                c.total += insns;
            }
        });
        for insn in tb.instructions() {
            let at = insn.vaddr();
            if at != self.start && at != self.end {
                continue;
            }
            let is_start = at == self.start;
            let counter = Arc::clone(&self.counter);
            // Runs before the instruction; the block's count was already added,
            // so subtract the instructions of the block that precede it.
            let before_in_block = tb.instructions().take_while(|i| i.vaddr() != at).count() as u64;
            let block_rest = insns - before_in_block;
            insn.register_execute_callback(move |_vcpu| {
                let Ok(mut c) = counter.lock() else { return };
                let now = c.total - block_rest;
                if is_start {
                    c.started_at = Some(now);
                } else if let Some(started) = c.started_at.take() {
                    let _ = qemu_plugin_outs(format!("lowbit-icount {}\n", now - started));
                }
            });
        }
        Ok(())
    }
}

register!(Icount::default());

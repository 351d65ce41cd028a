//! How a run ends: one exit status per outcome, panics included.
//!
//! Under QEMU the status leaves through semihosting `SYS_EXIT_EXTENDED`, so
//! QEMU's own exit code is the status. On a real board (feature `rtt`) the
//! `lowbit.exit` record carries it and the core stops on a breakpoint.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::records;

/// The firmware's exit statuses (the host's table must match).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    /// Every inference ran.
    Success = 0,
    /// The image or the model blob was refused.
    BadModel = 2,
    /// The model needs more RAM than the board leaves free.
    ArenaTooSmall = 3,
    /// An inference returned an error.
    RunFailed = 4,
    /// The input does not have the model's input length.
    BadInput = 5,
    /// A panic.
    Panic = 101,
    /// A HardFault, another exception or an unexpected interrupt.
    Fault = 102,
}

/// Set once the firmware started to exit: a fault or panic from then on
/// exits at once instead of logging again.
static EXITING: AtomicBool = AtomicBool::new(false);

/// Logs the exit record and ends the run.
pub fn exit(status: ExitStatus) -> ! {
    if !EXITING.load(Ordering::Relaxed) {
        EXITING.store(true, Ordering::Relaxed);
        records::exit(status);
    }
    leave(status)
}

/// Whether logging is still safe (no exit, panic or fault in progress).
pub fn may_log() -> bool {
    !EXITING.load(Ordering::Relaxed)
}

/// Ends the run without logging.
#[cfg(feature = "semihosting")]
pub fn leave(status: ExitStatus) -> ! {
    semihosting::process::exit(status as i32)
}

/// Ends the run without logging.
#[cfg(feature = "rtt")]
pub fn leave(_status: ExitStatus) -> ! {
    loop {
        crate::sys::breakpoint();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    if may_log() {
        // A panic while logging would re-enter the logger: mark first.
        EXITING.store(true, Ordering::Relaxed);
        defmt::error!("lowbit.panic {}", defmt::Display2Format(info));
        records::exit(ExitStatus::Panic);
    }
    leave(ExitStatus::Panic)
}

//! lowbit's board firmware: runs one model on its inputs and reports the results.
//!
//! The firmware finds an [image](lowbit_image) (an `.lbm` model and its
//! inputs), checks it, runs the model ([`program`]) on each input between two
//! instruction-count markers and reports everything as [`records`] over
//! defmt (with a top-k [`scores`] report for classifiers and the stack
//! high-water mark), then ends with an [`ExitStatus`](exit::ExitStatus).
//!
//! - Logging and exit: feature `semihosting` (QEMU; default) or `rtt` (boards).
//! - Image: loaded mode (default; the runner writes it into the board's image
//!   region) or feature `embedded` (`LOWBIT_IMAGE` built in); with feature
//!   `compiled` the model is code (`LOWBIT_COMPILED`) and the image holds
//!   only the inputs (see [`program`]).
//! - Board: `LOWBIT_BOARD` names the board file `build.rs` turns into `memory.x`.
//!
//! All `unsafe` code is in [`sys`]; everything else is safe Rust.
#![no_std]
#![no_main]

mod app;
mod counter;
mod exit;
mod memory;
mod program;
mod records;
mod scores;
mod sys;

#[cfg(all(feature = "semihosting", feature = "rtt"))]
compile_error!("enable exactly one of the features `semihosting` (QEMU) and `rtt` (real boards)");
#[cfg(not(any(feature = "semihosting", feature = "rtt")))]
compile_error!("enable one of the features `semihosting` (QEMU) or `rtt` (real boards)");

#[cfg(feature = "rtt")]
use defmt_rtt as _;
#[cfg(feature = "semihosting")]
use defmt_semihosting as _;

/// The reset entry point (after the runtime initialized RAM).
#[cfg_attr(target_arch = "arm", cortex_m_rt::entry)]
#[cfg_attr(target_arch = "riscv32", riscv_rt::entry)]
fn main() -> ! {
    sys::paint_stack();
    let status = app::run();
    let (used, reserved) = sys::stack_high_water();
    records::stack(used, reserved);
    exit::exit(status)
}

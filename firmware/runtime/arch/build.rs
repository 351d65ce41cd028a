//! Selects the instruction-set path from the target triple: stable Rust
//! exposes no `target_feature` cfg for Arm's DSP extension, so the triple
//! decides.
//!
//! - `lowbit_dsp`: Armv7E-M (`thumbv7em-*`: Cortex-M4/M7), which has the DSP
//!   extension (SMLAD, SXTB16, UXTB16, PKHBT, ...).

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(lowbit_dsp)");
    println!("cargo::rerun-if-changed=build.rs");
    let target = env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em") {
        println!("cargo::rustc-cfg=lowbit_dsp");
    }
}

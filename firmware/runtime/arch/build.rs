//! Selects the instruction-set path from the target triple: stable Rust
//! exposes no `target_feature` cfg for Arm's DSP extension, so the triple
//! decides.
//!
//! - `lowbit_dsp`: Armv7E-M (`thumbv7em-*`: Cortex-M4/M7), which has the DSP
//!   extension (SMLAD, SXTB16, UXTB16, PKHBT, ...).
//! - `lowbit_v7m`: Armv7-M or Armv7E-M (`thumbv7m-*`, `thumbv7em-*`:
//!   Cortex-M3/M4/M7), whose base instructions (CLZ, RBIT, UMULL, BFI, LDM
//!   with register offsets) the bit-counting loops use.
//! - `lowbit_soft_float`: targets whose float operations are library calls:
//!   Arm without the hard-float ABI (`thumbv6m-none-eabi`, `thumbv7m-none-eabi`,
//!   ...) and RISC-V without the F extension (`riscv32imac-*`).

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(lowbit_dsp)");
    println!("cargo::rustc-check-cfg=cfg(lowbit_v7m)");
    println!("cargo::rustc-check-cfg=cfg(lowbit_soft_float)");
    println!("cargo::rerun-if-changed=build.rs");
    let target = env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em") {
        println!("cargo::rustc-cfg=lowbit_dsp");
    }
    if target.starts_with("thumbv7m") || target.starts_with("thumbv7em") {
        println!("cargo::rustc-cfg=lowbit_v7m");
    }
    let arm_soft = target.starts_with("thumb") && !target.ends_with("eabihf");
    let riscv_soft = target
        .strip_prefix("riscv32")
        .or_else(|| target.strip_prefix("riscv64"))
        .and_then(|rest| rest.split('-').next())
        .is_some_and(|isa| !isa.contains(['f', 'g']));
    if arm_soft || riscv_soft {
        println!("cargo::rustc-cfg=lowbit_soft_float");
    }
}

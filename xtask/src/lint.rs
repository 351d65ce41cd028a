//! `cargo xtask lint`: rustfmt and clippy (`-D warnings`) over what xtask owns:
//! xtask, the instruction-count plugin, `lowbit-image` on the host, and the
//! firmware for every target (one board per target) and backend, and the
//! firmware with the example CNN compiled in (which also lints the
//! runtime's generated module).

use std::path::Path;

use anyhow::Result;

use crate::{catalog, command::ExternalCommand, device, firmware, report::Outcomes};

/// The board and features of the compiled-model check.
const COMPILED: (&str, &str, &str) = ("qemu-mps2-an386", "thumbv7em-none-eabihf", "semihosting,compiled,lut,weights-4");

/// Firmware clippy matrix: board (sets target and memory map) and features.
const FIRMWARE: [(&str, &str, &str); 7] = [
    ("qemu-microbit", "thumbv6m-none-eabi", "semihosting"),
    ("qemu-mps2-an385", "thumbv7m-none-eabi", "semihosting"),
    ("qemu-mps2-an386", "thumbv7em-none-eabihf", "semihosting,selftest-panic,selftest-fault,layer-bench"),
    ("qemu-sifive-e", "riscv32imac-unknown-none-elf", "semihosting"),
    ("rp-pico", "thumbv6m-none-eabi", "rtt,rp2040-boot2"),
    ("stm32f4-discovery", "thumbv7em-none-eabihf", "rtt"),
    ("esp32-c3", "riscv32imc-unknown-none-elf", "rtt"),
];

/// `cargo` in `dir`.
fn cargo(dir: &Path) -> ExternalCommand {
    ExternalCommand::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())).current_dir(dir)
}

/// Runs every check, reporting all failures at the end.
pub fn run(root: &Path) -> Result<()> {
    let firmware = root.join("firmware/app");
    let plugin = root.join("xtask/icount-plugin");
    let plugin_target = root.join("target/icount-plugin");
    let mut outcomes = Outcomes::new(false);
    let checks = [
        cargo(root).args(["fmt", "--check", "-p", "xtask"]),
        cargo(&firmware).args(["fmt", "--check", "-p", "lowbit-firmware", "-p", "lowbit-image"]),
        cargo(&plugin).args(["fmt", "--check"]),
        cargo(root).args(["clippy", "-p", "xtask", "--no-deps", "--all-targets", "--", "-D", "warnings"]),
        cargo(&plugin)
            .args(["clippy", "--no-deps", "--target-dir"])
            .args([&plugin_target])
            .args(["--", "-D", "warnings"]),
        cargo(&firmware)
            .args(["clippy", "-p", "lowbit-image", "--no-deps", "--all-targets", "--features", "std"])
            .args(["--target", host_triple()?.as_str(), "--", "-D", "warnings"]),
    ];
    for check in checks {
        outcomes.step(check.to_string(), || check.run())?;
    }
    for (board, target, features) in FIRMWARE {
        let check = cargo(&firmware)
            .env("LOWBIT_BOARD", board)
            .args(["clippy", "-p", "lowbit-firmware", "--no-deps", "--target", target, "--no-default-features"])
            .args(["--features", features, "--", "-D", "warnings"]);
        outcomes.step(check.to_string(), || check.run())?;
    }
    outcomes.step("clippy: the example CNN compiled into the firmware".to_string(), || {
        let (image, source) = example_compiled(root)?;
        let (board, target, features) = COMPILED;
        cargo(&firmware)
            .env("LOWBIT_BOARD", board)
            .env("LOWBIT_IMAGE", image)
            .env("LOWBIT_COMPILED", source)
            .args(["clippy", "-p", "lowbit-firmware", "--target", target, "--no-default-features"])
            .args(["--features", features, "--", "-D", "warnings"])
            .run()
    })?;
    outcomes.finish()
}

/// The example CNN's image and compiled source, under `target/lowbit-lint`.
fn example_compiled(root: &Path) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let prepared = catalog::example(root)?;
    let bytes = device::image(&prepared.program, &prepared.inputs, Some(&prepared.facts));
    let image = device::write(&root.join("target/lowbit-lint"), "digits_cnn.lbi", &bytes)?;
    let source = firmware::compile(&prepared.program.lbm, &image.with_extension("rs"))?;
    Ok((std::path::absolute(image)?, source))
}

/// The host's target triple (`rustc -vV`).
fn host_triple() -> Result<String> {
    let output = ExternalCommand::new("rustc").args(["-vV"]).output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let host = text.lines().find_map(|l| l.strip_prefix("host: ")).unwrap_or("x86_64-unknown-linux-gnu");
    Ok(host.to_string())
}

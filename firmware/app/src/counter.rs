//! The on-chip counter read around each inference.
//!
//! | build                      | counter  | unit                                   |
//! |----------------------------|----------|----------------------------------------|
//! | RISC-V, QEMU               | `minstret` | retired instructions (exact under `-icount`) |
//! | RISC-V, board (`rtt`)      | `mcycle` | core cycles                            |
//! | Cortex-M3/M4/M7, board     | DWT `CYCCNT` | core cycles                        |
//! | Cortex-M, QEMU; Cortex-M0 board | SysTick | core clock ticks (24 bits)          |
//!
//! Under QEMU `-icount shift=0` one instruction takes 1 ns of virtual time,
//! so one SysTick tick is `1e9 / clock_hz` instructions (40 on MPS2):
//! deterministic but coarse. QEMU's DWT `CYCCNT` reads 0, hence SysTick
//! there; the host's TCG plugin gives the exact instruction counts.

/// A started counter.
pub struct Counter;

#[cfg(all(target_arch = "arm", any(feature = "semihosting", lowbit_armv6m)))]
impl Counter {
    /// The counter's name in the boot record.
    pub const KIND: &'static str = "systick";

    /// Starts SysTick free-running from its maximum reload value.
    pub fn start() -> Self {
        use cortex_m::peripheral::syst::SystClkSource;
        if let Some(mut peripherals) = cortex_m::Peripherals::take() {
            let syst = &mut peripherals.SYST;
            syst.set_clock_source(SystClkSource::Core);
            syst.set_reload(0x00FF_FFFF);
            syst.clear_current();
            syst.enable_counter();
        }
        Counter
    }

    /// The current value (SysTick counts down).
    pub fn now(&self) -> u64 {
        cortex_m::peripheral::SYST::get_current() as u64
    }

    /// Ticks from `before` to `after`, modulo the 24-bit wrap.
    pub fn delta(before: u64, after: u64) -> u64 {
        before.wrapping_sub(after) & 0x00FF_FFFF
    }
}

#[cfg(all(target_arch = "arm", not(feature = "semihosting"), not(lowbit_armv6m)))]
impl Counter {
    /// The counter's name in the boot record.
    pub const KIND: &'static str = "dwt-cycles";

    /// Enables the trace unit and the DWT cycle counter.
    pub fn start() -> Self {
        if let Some(mut peripherals) = cortex_m::Peripherals::take() {
            peripherals.DCB.enable_trace();
            peripherals.DWT.enable_cycle_counter();
        }
        Counter
    }

    /// Cycles so far (32 bits).
    pub fn now(&self) -> u64 {
        u64::from(cortex_m::peripheral::DWT::cycle_count())
    }

    /// Cycles from `before` to `after`, modulo the 32-bit wrap.
    pub fn delta(before: u64, after: u64) -> u64 {
        after.wrapping_sub(before) & 0xFFFF_FFFF
    }
}

#[cfg(all(target_arch = "riscv32", feature = "semihosting"))]
impl Counter {
    /// The counter's name in the boot record.
    pub const KIND: &'static str = "minstret";

    /// `minstret` always runs.
    pub fn start() -> Self {
        Counter
    }

    /// Instructions retired so far.
    pub fn now(&self) -> u64 {
        riscv::register::minstret::read64()
    }

    /// Instructions from `before` to `after`.
    pub fn delta(before: u64, after: u64) -> u64 {
        after.wrapping_sub(before)
    }
}

#[cfg(all(target_arch = "riscv32", not(feature = "semihosting")))]
impl Counter {
    /// The counter's name in the boot record.
    pub const KIND: &'static str = "mcycle";

    /// `mcycle` always runs.
    pub fn start() -> Self {
        Counter
    }

    /// Cycles so far.
    pub fn now(&self) -> u64 {
        riscv::register::mcycle::read64()
    }

    /// Cycles from `before` to `after`.
    pub fn delta(before: u64, after: u64) -> u64 {
        after.wrapping_sub(before)
    }
}

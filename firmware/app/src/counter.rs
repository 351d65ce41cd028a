//! The on-chip instruction/cycle counter read around each inference.
//!
//! - RISC-V: `minstret`, 64 bits. Under QEMU `-icount shift=0` it is the
//!   exact retired-instruction count.
//! - Cortex-M: SysTick, 24 bits, clocked by the core clock. Under QEMU
//!   `-icount shift=0` one instruction takes 1 ns of virtual time, so one tick
//!   is `1e9 / clock_hz` instructions (40 on MPS2): deterministic but coarse,
//!   and it wraps after 2^24 ticks. The host's TCG plugin gives exact counts.

/// A started counter.
pub struct Counter;

#[cfg(target_arch = "arm")]
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

#[cfg(target_arch = "riscv32")]
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

//! The audited module: every `unsafe` operation of the firmware lives here.
//!
//! - Turning linker-symbol addresses (image region, free RAM) into slices.
//! - Handing out the embedded-mode static buffers and the plan's slots once.
//! - Painting the stack at boot and measuring how deep it was used.
//! - Symbols the host looks up by name (`no_mangle` markers, trap handlers,
//!   the RP2040 boot loader section).
//!
//! Every `unsafe` block states why it is sound in a `// SAFETY:` comment
//! (`clippy::undocumented_unsafe_blocks` is denied).
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicBool, Ordering};

use crate::exit::{self, ExitStatus};

/// Set when the mutable buffers have been handed out.
static BUFFERS_TAKEN: AtomicBool = AtomicBool::new(false);

/// Marks the buffers taken; panics on a second call.
fn claim_buffers() {
    claim(&BUFFERS_TAKEN, "buffers taken twice");
}

/// Sets `taken`; panics with `twice` if it was set already.
fn claim(taken: &AtomicBool, twice: &str) {
    // Single core and only called from thread mode, so load+store cannot race
    // (thumbv6m has no compare-and-swap).
    assert!(!taken.load(Ordering::Relaxed), "{twice}");
    taken.store(true, Ordering::Relaxed);
}

unsafe extern "C" {
    static __lowbit_stack_bottom: u32;
    static __lowbit_stack_top: u32;
}

/// The word the unused stack is painted with.
const STACK_PAINT: u32 = 0x5AC3_5AC3;
/// Bytes below the painting function's own frame left unpainted.
const STACK_PAINT_MARGIN: usize = 64;

/// Paints the stack reservation, from its bottom up to just below the
/// caller's frame, so that [`stack_high_water`] can find the deepest use.
#[inline(never)]
pub fn paint_stack() {
    let bottom = (&raw const __lowbit_stack_bottom).cast_mut();
    let here = core::hint::black_box(0u32);
    let limit = (&raw const here as usize).saturating_sub(STACK_PAINT_MARGIN) & !3;
    let mut at = bottom;
    while (at as usize) < limit {
        // SAFETY: memory.x places __lowbit_stack_bottom at the (word-aligned)
        // bottom of the stack reservation, and `limit` lies below this
        // function's live frame: the words written belong to no live object,
        // and no interrupt is enabled that could be using them.
        unsafe {
            at.write_volatile(STACK_PAINT);
            at = at.add(1);
        }
    }
}

/// The stack's high-water mark and its reservation, in bytes: the distance
/// from the top to the lowest word that no longer holds the paint.
pub fn stack_high_water() -> (u32, u32) {
    let bottom = &raw const __lowbit_stack_bottom;
    let top = &raw const __lowbit_stack_top;
    let mut at = bottom;
    while at < top {
        // SAFETY: `at` walks the stack reservation between the two memory.x
        // symbols word by word; reading a u32 there is always valid.
        if unsafe { at.read_volatile() } != STACK_PAINT {
            break;
        }
        // SAFETY: `at < top`, so one word further is still in (or one past) the reservation.
        at = unsafe { at.add(1) };
    }
    ((top as usize - at as usize) as u32, (top as usize - bottom as usize) as u32)
}

#[cfg(not(feature = "embedded"))]
unsafe extern "C" {
    static __lowbit_image_start: u8;
    static __lowbit_image_end: u8;
    static __lowbit_arena_start: u8;
    static __lowbit_arena_end: u8;
}

/// The whole reserved image region (the runner writes the image there).
#[cfg(not(feature = "embedded"))]
pub fn image_region() -> &'static [u8] {
    let start = &raw const __lowbit_image_start;
    let end = &raw const __lowbit_image_end;
    let len = end as usize - start as usize;
    // SAFETY: memory.x places both symbols at the bounds of the IMAGE region,
    // which is mapped memory (flash or RAM) that no Rust object occupies and
    // nothing writes while the firmware runs; u8 has no alignment or validity
    // requirements.
    unsafe { core::slice::from_raw_parts(start, len) }
}

/// The RAM between the end of `.bss`/`.uninit` and the stack reservation.
///
/// Panics if called twice (the slice is handed out as `&'static mut`).
#[cfg(not(feature = "embedded"))]
pub fn take_free_ram() -> &'static mut [u8] {
    claim_buffers();
    let start = (&raw const __lowbit_arena_start).cast_mut();
    let end = &raw const __lowbit_arena_end;
    let len = end as usize - start as usize;
    // SAFETY: memory.x defines the symbols as the bounds of RAM that no
    // section occupies and the stack does not reach (its reservation lies
    // above, and the link fails if they overlap); claim_buffers makes this the
    // only reference ever created to it.
    unsafe { core::slice::from_raw_parts_mut(start, len) }
}

/// Hands out the embedded-mode arena and output statics (once).
#[cfg(feature = "embedded")]
pub fn take_static_buffers() -> (&'static mut [u8], &'static mut [u8]) {
    use crate::memory::embedded::{ARENA_SIZE, Aligned, OUTPUT_LEN};
    static mut ARENA: Aligned<[u8; ARENA_SIZE]> = Aligned([0; ARENA_SIZE]);
    static mut OUTPUT: [u8; OUTPUT_LEN] = [0; OUTPUT_LEN];
    claim_buffers();
    let arena = &raw mut ARENA;
    let output = &raw mut OUTPUT;
    // SAFETY: claim_buffers guarantees this runs once, so these are the only
    // references to the two statics for the rest of the program.
    unsafe { (&mut (*arena).0, &mut *output) }
}

/// Set when the plan's slots have been handed out.
#[cfg(not(feature = "compiled"))]
static SLOTS_TAKEN: AtomicBool = AtomicBool::new(false);

/// The board's `plan_ops` slots for a `lowbit_runtime::Plan`, a static in
/// `.uninit` (the linker places it, the arena is what RAM has left, and
/// unlike `.data` it takes no flash: an empty slot is not all zeros, so it
/// could not live in `.bss`), emptied here.
///
/// Panics if called twice (the slots are handed out as `&'static mut`).
#[cfg(not(feature = "compiled"))]
pub fn take_plan_slots() -> &'static mut [lowbit_runtime::PlanSlot<'static>] {
    use crate::program::PLAN_OPS;
    use core::mem::MaybeUninit;
    use lowbit_runtime::PlanSlot;
    #[unsafe(link_section = ".uninit.lowbit_plan")]
    static mut SLOTS: MaybeUninit<[PlanSlot<'static>; PLAN_OPS]> = MaybeUninit::uninit();
    claim(&SLOTS_TAKEN, "plan slots taken twice");
    let slots = &raw mut SLOTS;
    // SAFETY: `claim` makes this the only reference ever created to
    // the static for the rest of the program; `MaybeUninit` may hold any
    // bytes, and `write` initializes every slot before it is handed out.
    unsafe { (*slots).write([PlanSlot::EMPTY; PLAN_OPS]) }
}

/// Marker the host's instruction-count plugin starts counting at.
#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn lowbit_inference_start() {
    // Distinct bodies keep the two markers at distinct addresses.
    core::hint::black_box(0x5A);
}

/// Marker the host's instruction-count plugin stops counting at.
#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn lowbit_inference_end() {
    core::hint::black_box(0xA5);
}

/// Calls the start marker.
pub fn inference_start() {
    lowbit_inference_start();
}

/// Calls the end marker.
pub fn inference_end() {
    lowbit_inference_end();
}

/// Stops at a breakpoint (a probe halts the core there).
#[cfg(feature = "rtt")]
pub fn breakpoint() {
    #[cfg(target_arch = "arm")]
    cortex_m::asm::bkpt();
    // SAFETY: ebreak only traps to the debugger (or the exception handler).
    #[cfg(target_arch = "riscv32")]
    unsafe {
        riscv::asm::ebreak()
    };
}

/// Executes an undefined instruction (the `selftest-fault` feature).
pub fn undefined_instruction() -> ! {
    #[cfg(target_arch = "arm")]
    cortex_m::asm::udf();
    // SAFETY: `unimp` raises an illegal-instruction exception, which
    // ExceptionHandler turns into an exit; it touches no memory or register.
    #[cfg(target_arch = "riscv32")]
    unsafe {
        core::arch::asm!("unimp", options(noreturn, nomem, nostack))
    }
}

/// Logs a fault (unless an exit is under way) and exits with [`ExitStatus::Fault`].
fn fault(what: &str, pc: u32, detail: u32) -> ! {
    if exit::may_log() {
        defmt::error!("lowbit.fault {=str} pc={=u32:#010x} detail={=u32:#010x}", what, pc, detail);
    }
    exit::exit(ExitStatus::Fault)
}

/// HardFault: log the faulting PC and the fault status, exit.
#[cfg(target_arch = "arm")]
#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    fault("HardFault", frame.pc(), frame.lr())
}

/// Any other exception or interrupt: nothing here expects one.
#[cfg(target_arch = "arm")]
#[cortex_m_rt::exception]
unsafe fn DefaultHandler(irqn: i16) -> ! {
    fault("exception", cortex_m::register::pc::read(), irqn as u32)
}

/// RISC-V synchronous exceptions (illegal instruction, access fault, …).
#[cfg(target_arch = "riscv32")]
#[unsafe(export_name = "ExceptionHandler")]
fn exception_handler(frame: &riscv_rt::TrapFrame) -> ! {
    let _ = frame;
    fault("exception", riscv::register::mepc::read() as u32, riscv::register::mcause::read().bits() as u32)
}

/// RISC-V interrupts: none is enabled, so any is unexpected.
#[cfg(target_arch = "riscv32")]
#[unsafe(export_name = "DefaultHandler")]
fn default_handler() -> ! {
    fault("interrupt", riscv::register::mepc::read() as u32, riscv::register::mcause::read().bits() as u32)
}

/// riscv-rt's last resort (traps before `main`, and its default handlers):
/// RAM may not be initialized, so exit without logging.
#[cfg(target_arch = "riscv32")]
#[unsafe(no_mangle)]
extern "C" fn abort() -> ! {
    exit::leave(ExitStatus::Fault)
}

/// The RP2040 second-stage boot loader, placed at the start of flash.
#[cfg(feature = "rp2040-boot2")]
#[unsafe(link_section = ".boot2")]
#[used]
static BOOT2: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

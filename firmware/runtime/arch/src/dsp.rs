//! Armv7E-M DSP instructions, one `asm!` each.
//!
//! Every block only reads its input registers and writes its output
//! register: no memory, no stack. `SMLAD`/`SMLAxy` may set the sticky Q
//! flag on signed overflow (the result still wraps, as the portable
//! definitions do) and `SSAT`/`USAT` when they saturate, so those blocks do
//! not claim `preserves_flags`; no Rust code reads Q.
#![allow(unsafe_code)]

use core::arch::asm;

/// See [`crate::smlad`].
#[inline(always)]
pub(crate) fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let r: i32;
    // SAFETY: register-only instruction (see the module docs).
    unsafe {
        asm!("smlad {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc,
             options(pure, nomem, nostack));
    }
    r
}

/// See [`crate::smlabb`].
#[inline(always)]
pub(crate) fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
    let r: i32;
    // SAFETY: register-only instruction (see the module docs).
    unsafe {
        asm!("smlabb {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc,
             options(pure, nomem, nostack));
    }
    r
}

/// See [`crate::smlabt`].
#[inline(always)]
pub(crate) fn smlabt(a: u32, b: u32, acc: i32) -> i32 {
    let r: i32;
    // SAFETY: register-only instruction (see the module docs).
    unsafe {
        asm!("smlabt {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc,
             options(pure, nomem, nostack));
    }
    r
}

/// See [`crate::sxtb16`].
#[inline(always)]
pub(crate) fn sxtb16(x: u32) -> u32 {
    let r: u32;
    // SAFETY: register-only instruction (see the module docs); no flags.
    unsafe {
        asm!("sxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// See [`crate::sxtb16_ror8`].
#[inline(always)]
pub(crate) fn sxtb16_ror8(x: u32) -> u32 {
    let r: u32;
    // SAFETY: register-only instruction (see the module docs); no flags.
    unsafe {
        asm!("sxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x,
             options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// See [`crate::uxtb16`].
#[inline(always)]
pub(crate) fn uxtb16(x: u32) -> u32 {
    let r: u32;
    // SAFETY: register-only instruction (see the module docs); no flags.
    unsafe {
        asm!("uxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// See [`crate::uxtb16_ror8`].
#[inline(always)]
pub(crate) fn uxtb16_ror8(x: u32) -> u32 {
    let r: u32;
    // SAFETY: register-only instruction (see the module docs); no flags.
    unsafe {
        asm!("uxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x,
             options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// See [`crate::ssat8`].
#[inline(always)]
pub(crate) fn ssat8(x: i32) -> i32 {
    let r: i32;
    // SAFETY: register-only instruction (see the module docs); it may set Q.
    unsafe {
        asm!("ssat {r}, #8, {x}", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack));
    }
    r
}

/// See [`crate::usat8`].
#[inline(always)]
pub(crate) fn usat8(x: i32) -> i32 {
    let r: i32;
    // SAFETY: register-only instruction (see the module docs); it may set Q.
    unsafe {
        asm!("usat {r}, #8, {x}", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack));
    }
    r
}

/// See [`crate::pkhbt`].
#[inline(always)]
pub(crate) fn pkhbt(lo: u32, hi: u32) -> u32 {
    let r: u32;
    // SAFETY: register-only instruction (see the module docs); no flags.
    unsafe {
        asm!("pkhbt {r}, {lo}, {hi}, lsl #16", r = lateout(reg) r, lo = in(reg) lo, hi = in(reg) hi,
             options(pure, nomem, nostack, preserves_flags));
    }
    r
}

/// See [`crate::pkhtb`].
#[inline(always)]
pub(crate) fn pkhtb(hi: u32, lo: u32) -> u32 {
    let r: u32;
    // SAFETY: register-only instruction (see the module docs); no flags.
    unsafe {
        asm!("pkhtb {r}, {hi}, {lo}, asr #16", r = lateout(reg) r, hi = in(reg) hi, lo = in(reg) lo,
             options(pure, nomem, nostack, preserves_flags));
    }
    r
}

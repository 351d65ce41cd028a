//! The portable definitions: exactly what each instruction computes.
#![cfg_attr(lowbit_dsp, allow(dead_code))]

/// Lane `lo` as `i16`, widened.
#[inline(always)]
fn lo(x: u32) -> i32 {
    i32::from(x as i16)
}

/// Lane `hi` as `i16`, widened.
#[inline(always)]
fn hi(x: u32) -> i32 {
    i32::from((x >> 16) as i16)
}

/// See [`crate::smlad`].
#[inline(always)]
pub(crate) fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    acc.wrapping_add(lo(a) * lo(b)).wrapping_add(hi(a) * hi(b))
}

/// See [`crate::smlabb`].
#[inline(always)]
pub(crate) fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
    acc.wrapping_add(lo(a) * lo(b))
}

/// See [`crate::smlabt`].
#[inline(always)]
pub(crate) fn smlabt(a: u32, b: u32, acc: i32) -> i32 {
    acc.wrapping_add(lo(a) * hi(b))
}

/// See [`crate::sxtb16`].
#[inline(always)]
pub(crate) fn sxtb16(x: u32) -> u32 {
    let b0 = u32::from(x as u8 as i8 as u16);
    let b2 = u32::from((x >> 16) as u8 as i8 as u16);
    b0 | b2 << 16
}

/// See [`crate::sxtb16_ror8`].
#[inline(always)]
pub(crate) fn sxtb16_ror8(x: u32) -> u32 {
    sxtb16(x.rotate_right(8))
}

/// See [`crate::uxtb16`].
#[inline(always)]
pub(crate) fn uxtb16(x: u32) -> u32 {
    x & 0x00ff_00ff
}

/// See [`crate::uxtb16_ror8`].
#[inline(always)]
pub(crate) fn uxtb16_ror8(x: u32) -> u32 {
    (x >> 8) & 0x00ff_00ff
}

/// See [`crate::ssat8`].
#[inline(always)]
pub(crate) fn ssat8(x: i32) -> i32 {
    x.clamp(-128, 127)
}

/// See [`crate::usat8`].
#[inline(always)]
pub(crate) fn usat8(x: i32) -> i32 {
    x.clamp(0, 255)
}

/// See [`crate::pkhbt`].
#[inline(always)]
pub(crate) fn pkhbt(lo: u32, hi: u32) -> u32 {
    (lo & 0xffff) | hi << 16
}

/// See [`crate::pkhtb`].
#[inline(always)]
pub(crate) fn pkhtb(hi: u32, lo: u32) -> u32 {
    (hi & 0xffff_0000) | lo >> 16
}

//! Packing the bytes of a two-level input into bits, one per byte: the
//! first step of binary (XNOR) dense layers, as an `asm!` loop on
//! Armv7-M and portably elsewhere. Both compute the same words; the
//! portable definition is the specification.
//!
//! The portable loop gathers eight bytes' bits with one 32-bit
//! multiplication ([`gather8`]); the Armv7-M loop with one `UMULL`, whose
//! high word holds them without a shift (see `v7m_bits`).

#![cfg_attr(lowbit_v7m, allow(dead_code))]

/// Bits 0, 8, 16 and 24 of `lo`, then of `hi`, as bits 0 to 7. With `x`
/// holding bit `k` of the result at bit `8k` (`k < 4`, from `lo`) or
/// `8(k - 4) + 4` (from `hi`), `x · 0x0102_0408` (`2^(24 - 7j)` for `j`
/// from 0 to 3) puts each of them at bit `24 + k`; every other product
/// lands at or above bit 32 (dropped) or below bit 24 without carries
/// into it (checked for all 256 bytes by a test).
#[inline(always)]
pub(crate) fn gather8(lo: u32, hi: u32) -> u32 {
    ((lo & 0x0101_0101) | (hi & 0x0101_0101) << 4).wrapping_mul(0x0102_0408) >> 24
}

/// Portable: the bits of `x` (bit `shift` of each byte) into `bits`, 32
/// bytes a word, eight by one multiplication, the last bytes one by one.
fn pack_portable(x: &[u8], shift: u32, bits: &mut [u32]) {
    for (word, chunk) in bits.iter_mut().zip(x.chunks(32)) {
        *word = match chunk.as_chunks::<8>() {
            (eights @ [_, _, _, _], []) => eights.iter().enumerate().fold(0, |word, (i, b)| {
                let [l0, l1, l2, l3, h0, h1, h2, h3] = *b;
                let (lo, hi) = (
                    u32::from_le_bytes([l0, l1, l2, l3]),
                    u32::from_le_bytes([h0, h1, h2, h3]),
                );
                word | gather8(lo >> shift, hi >> shift) << (8 * i)
            }),
            _ => chunk.iter().rev().fold(0, |w, &b| w << 1 | u32::from(b >> shift & 1)),
        };
    }
}

/// Bit `shift` (0 or 7: anything else counts as 7) of each byte of `x`
/// into `bits`, the first byte's in bit 0 of the first word, the bits
/// past the last byte 0. Returns `false`, packing nothing, unless `bits`
/// has exactly `⌈x.len() / 32⌉` words.
#[inline]
pub fn pack_bits(x: &[u8], shift: u32, bits: &mut [u32]) -> bool {
    if bits.len() != x.len().div_ceil(32) {
        return false;
    }
    let shift = if shift == 0 { 0 } else { 7 };
    #[cfg(lowbit_v7m)]
    {
        let whole = x.len() / 32;
        let (x_whole, x_rest) = x.split_at(32 * whole);
        let (bits_whole, bits_rest) = bits.split_at_mut(whole);
        crate::v7m_bits::pack_words(x_whole, shift, bits_whole);
        pack_portable(x_rest, shift, bits_rest);
    }
    #[cfg(not(lowbit_v7m))]
    pack_portable(x, shift, bits);
    true
}

//! Aligned word views of byte buffers, for kernels whose scratch memory is
//! read and written a word (or two, `LDRD`) at a time, and the halfword view
//! of words (lane `lo` of word `i` is halfword `2i` on little-endian
//! targets, the only ones lowbit supports).
#![allow(unsafe_code)]

#[cfg(target_endian = "big")]
compile_error!("lowbit-arch assumes little-endian targets: halfword 2i is lane lo of word i");

/// The bytes to skip from `addr` to the next 4-byte boundary (at most `len`).
fn pad(addr: usize, len: usize) -> usize {
    (addr.wrapping_neg() % 4).min(len)
}

/// The longest run of whole, 4-byte aligned `u32` words inside `bytes`
/// (from its first aligned byte): at least `(bytes.len() - 3) / 4` words.
pub fn words(bytes: &[u8]) -> &[u32] {
    let pad = pad(bytes.as_ptr().addr(), bytes.len());
    let n = (bytes.len() - pad) / 4;
    if n == 0 {
        return &[];
    }
    // SAFETY: `pad ≤ len`, so the pointer stays inside (or one past) `bytes`,
    // and `pad + 4n ≤ len`, so the `n` words lie inside `bytes`; the address
    // is a multiple of 4 (that is what `pad` reaches), the alignment of
    // `u32`; every bit pattern is a valid `u32`; the returned slice borrows
    // `bytes` immutably for its whole life.
    unsafe { core::slice::from_raw_parts(bytes.as_ptr().add(pad).cast::<u32>(), n) }
}

/// [`words`] for a mutable buffer.
pub fn words_mut(bytes: &mut [u8]) -> &mut [u32] {
    let pad = pad(bytes.as_ptr().addr(), bytes.len());
    let n = (bytes.len() - pad) / 4;
    if n == 0 {
        return &mut [];
    }
    // SAFETY: as in `words`; the returned slice takes over the exclusive
    // borrow of `bytes`, so nothing else can reach those bytes meanwhile.
    unsafe { core::slice::from_raw_parts_mut(bytes.as_mut_ptr().add(pad).cast::<u32>(), n) }
}

/// The halfwords of `words`: halfword `2i` is lane `lo` (bits 0..16) of
/// word `i`, halfword `2i + 1` its lane `hi`.
pub fn halves_mut(words: &mut [u32]) -> &mut [u16] {
    let n = words.len() * 2;
    // SAFETY: the `2n` halfwords cover exactly the bytes of the `n` words,
    // whose alignment (4) satisfies `u16`'s (2); every bit pattern is a
    // valid `u16`; the returned slice takes over the exclusive borrow.
    unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u16>(), n) }
}

/// The bytes of `words`, in memory order.
pub fn bytes_mut(words: &mut [u32]) -> &mut [u8] {
    let n = words.len() * 4;
    // SAFETY: the `4n` bytes are exactly those of the `n` words; `u8` has
    // no alignment requirement and every bit pattern is valid both ways;
    // the returned slice takes over the exclusive borrow.
    unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), n) }
}

/// The words of `words` as `i32` values (two's complement, the same bits).
pub fn ints_mut(words: &mut [u32]) -> &mut [i32] {
    let n = words.len();
    // SAFETY: `i32` has the size and alignment of `u32` and every bit
    // pattern is valid both ways; the returned slice covers exactly the `n`
    // words and takes over the exclusive borrow.
    unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<i32>(), n) }
}

//! 2×2 max pooling with stride 2 over one plane: the inner loops of the
//! most common pooling layer, as one `asm!` loop nest on Armv7E-M (two
//! outputs per turn, all rows in one call) and portably elsewhere. Both
//! compute the same bytes; the portable definition is the specification.
//!
//! The Armv7E-M loop takes the byte-wise maximum of a word of each row
//! (`USUB8`/`SSUB8`, whose per-byte `GE` flags `SEL` reads), then of each
//! byte and its right neighbour, and stores bytes 0 and 2 (`UXTB16`, `ORR
//! … LSR #8`, `STRH`) as two outputs.

/// Portable: output row `oy`, column `ox` is the largest of the 2×2 window
/// at row `2·oy`, column `2·ox` (bytes read as `i8` if `signed`, else as
/// `u8`), for the columns from `from` on.
fn plane_portable(plane: &[u8], w: usize, signed: bool, out: &mut [u8], ow: usize, from: usize) {
    // Bytes with the sign bit flipped compare like the `i8` they store.
    let flip = if signed { 0x80 } else { 0 };
    for (rows, out_row) in plane.chunks_exact(2 * w).zip(out.chunks_exact_mut(ow)) {
        let (r0, r1) = rows.split_at(w);
        let pairs = r0.as_chunks::<2>().0.iter().zip(r1.as_chunks::<2>().0);
        for (o, (a, b)) in out_row.iter_mut().zip(pairs).skip(from) {
            *o = (a[0] ^ flip).max(a[1] ^ flip).max(b[0] ^ flip).max(b[1] ^ flip) ^ flip;
        }
    }
}

/// The 2×2, stride 2 max pooling of an `[h, w]` plane into `out`, an
/// `[oh, ow]` plane with `oh = out.len() / ow`: output `(oy, ox)` is the
/// largest of input `(2oy, 2ox)`, `(2oy, 2ox + 1)`, `(2oy + 1, 2ox)` and
/// `(2oy + 1, 2ox + 1)`, the bytes read as `i8` if `signed`, else as `u8`.
/// Returns `false`, writing nothing, unless `ow > 0`, `2·ow ≤ w`,
/// `out.len()` is a multiple of `ow` and `plane` holds the `2·oh` rows of
/// `w` bytes.
#[inline]
pub fn max_2x2_plane(plane: &[u8], w: usize, signed: bool, out: &mut [u8], ow: usize) -> bool {
    let fits = ow > 0
        && 2 * ow <= w
        && out.len().is_multiple_of(ow)
        && (out.len() / ow).checked_mul(2 * w).is_some_and(|n| n <= plane.len());
    if !fits {
        return false;
    }
    #[cfg(lowbit_dsp)]
    {
        crate::dsp_pool::max_2x2_pairs(plane, w, signed, out, ow);
        // The last column of odd-width outputs.
        if !ow.is_multiple_of(2) {
            plane_portable(plane, w, signed, out, ow, ow - 1);
        }
    }
    #[cfg(not(lowbit_dsp))]
    {
        plane_portable(plane, w, signed, out, ow, 0);
    }
    true
}

//! Gathering convolution patches through a table of input offsets (the
//! `im2col` step of the Gemm convolutions): one `LDM` of four offsets, four
//! byte loads and two `PKHBT`s per four values on Armv7E-M, a loop
//! elsewhere. Both write the same halfwords; the portable definition is
//! the specification.

/// A table of input offsets with its largest entry, so that one comparison
/// per gathered patch proves every read inside the input.
#[derive(Debug, Clone, Copy)]
pub struct GatherTable<'a> {
    offsets: &'a [u32],
    /// One past the largest offset (0 for an empty table).
    end: usize,
}

impl<'a> GatherTable<'a> {
    /// The table `offsets` (scanned once for its largest entry).
    pub fn new(offsets: &'a [u32]) -> GatherTable<'a> {
        let end = offsets.iter().map(|&o| o as usize + 1).max().unwrap_or(0);
        GatherTable { offsets, end }
    }

    /// Gathers the patch of pixel `q` of a block of `pixels` patches: value
    /// `s` is `input[offsets[s]]` (as `i8` if `signed`, else as `u8`,
    /// widened to `i16`) and goes to halfword `(s / g)·g·pixels + q·g +
    /// s % g` of `block`, for groups of `g` values. Returns `false`,
    /// writing nothing, unless every offset lies inside `input`, the table
    /// holds whole groups, `q < pixels` and `block` holds them all.
    #[inline]
    pub fn gather(&self, input: &[u8], signed: bool, g: usize, q: usize, pixels: usize, block: &mut [u16]) -> bool {
        let groups = self.offsets.len().checked_div(g).unwrap_or(0);
        let fits = g > 0
            && self.offsets.len().is_multiple_of(g)
            && q < pixels
            && self.end <= input.len()
            && groups.checked_mul(g * pixels).is_some_and(|n| n <= block.len());
        if !fits {
            return false;
        }
        #[cfg(lowbit_dsp)]
        {
            // `STRD` needs a word-aligned block (a `u32` buffer's halves).
            if g == 4 && block.as_ptr().addr().is_multiple_of(4) {
                crate::dsp_gather::gather4(self.offsets, input, signed, q, pixels, block);
                return true;
            }
        }
        if signed {
            self.gather_portable::<true>(input, g, q, pixels, block);
        } else {
            self.gather_portable::<false>(input, g, q, pixels, block);
        }
        true
    }

    /// Portable: [`GatherTable::gather`] for `i8` (`SIGNED`) or `u8` input,
    /// after its checks.
    #[inline(always)]
    fn gather_portable<const SIGNED: bool>(&self, input: &[u8], g: usize, q: usize, pixels: usize, block: &mut [u16]) {
        for (dst, offsets) in block.chunks_exact_mut(g * pixels).zip(self.offsets.chunks_exact(g)) {
            let Some(dst) = dst.get_mut(q * g..(q + 1) * g) else {
                return;
            };
            for (d, &o) in dst.iter_mut().zip(offsets) {
                let Some(&b) = input.get(o as usize) else {
                    return;
                };
                *d = if SIGNED { b as i8 as u16 } else { u16::from(b) };
            }
        }
    }
}

//! Sliding-window geometry shared by convolutions and pools.

use crate::format::Window;

/// A [`Window`] widened to `usize`. Pairs are `[height, width]`, pads
/// `[top, left, bottom, right]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub(crate) kernel: [usize; 2],
    pub(crate) stride: [usize; 2],
    pub(crate) dilation: [usize; 2],
    pub(crate) pads: [usize; 4],
    pub(crate) output_padding: [usize; 2],
}

impl From<&Window> for Geometry {
    fn from(w: &Window) -> Geometry {
        let pair = |p: [u16; 2]| p.map(usize::from);
        Geometry {
            kernel: pair(w.kernel),
            stride: pair(w.stride),
            dilation: pair(w.dilation),
            pads: w.pads.map(usize::from),
            output_padding: pair(w.output_padding),
        }
    }
}

/// `a == b` without a library call: LLVM compiles comparisons of these
/// small arrays to `memcmp` calls on Thumb (the 2×2 max pooling test cost
/// 125 instructions per op on Cortex-M4 that way).
#[inline(always)]
fn same<const N: usize>(a: [usize; N], b: [usize; N]) -> bool {
    a.iter().zip(b).fold(0, |d, (&x, y)| d | (x ^ y)) == 0
}

impl Geometry {
    /// Whether the window has this kernel, stride and dilation.
    #[inline]
    pub(crate) fn has(&self, kernel: [usize; 2], stride: [usize; 2], dilation: [usize; 2]) -> bool {
        same(self.kernel, kernel) & same(self.stride, stride) & same(self.dilation, dilation)
    }

    /// Whether no side is padded.
    #[inline]
    pub(crate) fn unpadded(&self) -> bool {
        same(self.pads, [0; 4])
    }

    /// Kernel, stride and dilation are all at least 1.
    pub(crate) fn is_valid(&self) -> bool {
        self.kernel
            .iter()
            .chain(&self.stride)
            .chain(&self.dilation)
            .all(|&v| v > 0)
    }

    /// Kernel extent along `axis` including dilation: `(k - 1) * d + 1`.
    fn extent(&self, axis: usize) -> Option<usize> {
        let k = *self.kernel.get(axis)?;
        k.checked_sub(1)?.checked_mul(*self.dilation.get(axis)?)?.checked_add(1)
    }

    /// Output `[H, W]` of a convolution or pool over an `[H, W]` input
    /// (ONNX, floor mode): `(H + pads - extent) / stride + 1`. `None` if the
    /// padded input is smaller than the kernel.
    pub(crate) fn conv_output(&self, input: [usize; 2]) -> Option<[usize; 2]> {
        if !self.is_valid() {
            return None;
        }
        let axis = |a: usize| -> Option<usize> {
            let padded = input
                .get(a)?
                .checked_add(*self.pads.get(a)?)?
                .checked_add(*self.pads.get(a + 2)?)?;
            Some(padded.checked_sub(self.extent(a)?)? / self.stride.get(a)? + 1)
        };
        Some([axis(0)?, axis(1)?])
    }

    /// Output `[H, W]` of a transposed convolution (ONNX):
    /// `stride * (H - 1) + output_padding + extent - pads`. `None` if that is
    /// not positive.
    pub(crate) fn conv_transpose_output(&self, input: [usize; 2]) -> Option<[usize; 2]> {
        if !self.is_valid() {
            return None;
        }
        let axis = |a: usize| -> Option<usize> {
            let full = self
                .stride
                .get(a)?
                .checked_mul(input.get(a)?.checked_sub(1)?)?
                .checked_add(*self.output_padding.get(a)?)?
                .checked_add(self.extent(a)?)?;
            let pads = self.pads.get(a)?.checked_add(*self.pads.get(a + 2)?)?;
            full.checked_sub(pads).filter(|&n| n > 0)
        };
        Some([axis(0)?, axis(1)?])
    }

    /// Whether every pad is smaller than the kernel along its axis (ONNX's
    /// rule for pools).
    pub(crate) fn pads_smaller_than_kernel(&self) -> bool {
        self.pads.iter().enumerate().all(|(i, &p)| p < self.kernel[i % 2])
    }

    /// Whether every pooling window over an `[H, W]` input holds at least
    /// one input value. Small pads do not guarantee it: with dilation the
    /// taps can step over the whole input (kernel 2, dilation 2, pads 1 on a
    /// width-1 input). O(output) per axis.
    pub(crate) fn windows_never_empty(&self, input: [usize; 2]) -> bool {
        let Some(output) = self.conv_output(input) else {
            return false;
        };
        (0..2).all(|a| {
            (0..output[a]).all(|o| {
                let origin = (o * self.stride[a]) as isize - self.pads[a] as isize;
                !inside(origin, self.dilation[a], self.kernel[a], input[a]).is_empty()
            })
        })
    }

    /// Calls `f` with every input byte under the window whose top-left tap
    /// is at `origin` (may be negative: padding). Returns how many taps
    /// fell inside the input; taps in the padding are skipped.
    #[inline]
    pub(crate) fn for_each_tap(
        &self,
        plane: &[u8],
        [h, w]: [usize; 2],
        origin: [isize; 2],
        mut f: impl FnMut(u8),
    ) -> usize {
        let mut count = 0;
        for ky in 0..self.kernel[0] {
            let Some(line) = row(plane, h, w, origin[0] + (ky * self.dilation[0]) as isize) else {
                continue;
            };
            for kx in 0..self.kernel[1] {
                if let Some(&b) = at(line, origin[1] + (kx * self.dilation[1]) as isize) {
                    f(b);
                    count += 1;
                }
            }
        }
        count
    }
}

/// Copies an `[H, W]` plane into the interior of the padded plane `out`
/// (rows `W + pads[1] + pads[3]` bytes, the first `pads[0]` rows and
/// `pads[1]` columns being padding), each byte XOR-ed with `flip`; the
/// padding is left as it is, so filling it once serves every channel.
pub(crate) fn copy_interior(input: &[u8], [h, w]: [usize; 2], g: &Geometry, flip: u8, out: &mut [u8]) {
    let wp = w + g.pads[1] + g.pads[3];
    let first = g.pads[0] * wp + g.pads[1];
    for (y, src) in input.chunks_exact(w).take(h).enumerate() {
        let start = first + y * wp;
        if let Some(dst) = out.get_mut(start..start + w) {
            copy_flipped(src, dst, flip);
        }
    }
}

/// `dst[i] = src[i] ^ flip`, a word at a time (no `memcpy` call per row):
/// whole words from the start, then the last four bytes as one word
/// (overlapping the whole words), or bytes if there are fewer than four.
#[inline]
fn copy_flipped(src: &[u8], dst: &mut [u8], flip: u8) {
    let n = src.len().min(dst.len());
    let (src, dst) = (&src[..n], &mut dst[..n]);
    let mask = u32::from_ne_bytes([flip; 4]);
    let word = |s: &[u8; 4]| (u32::from_ne_bytes(*s) ^ mask).to_ne_bytes();
    if n < 4 {
        dst.iter_mut().zip(src).for_each(|(d, s)| *d = s ^ flip);
        return;
    }
    let (s4, d4) = (src.as_chunks::<4>().0, dst.as_chunks_mut::<4>().0);
    d4.iter_mut().zip(s4).for_each(|(d, s)| *d = word(s));
    if let (Some(d), Some(s)) = (dst.last_chunk_mut::<4>(), src.last_chunk::<4>()) {
        *d = word(s);
    }
}

/// The taps `t` of a `kernel`-tap window starting at `origin` with the given
/// dilation for which `origin + t · dilation` lies in `0..n`.
#[inline]
fn inside(origin: isize, dilation: usize, kernel: usize, n: usize) -> core::ops::Range<usize> {
    let d = dilation.max(1);
    let first = if origin >= 0 {
        0
    } else {
        origin.unsigned_abs().div_ceil(d)
    };
    let end = match (n as isize - 1).checked_sub(origin) {
        Some(room) if room >= 0 => (room as usize / d + 1).min(kernel),
        _ => 0,
    };
    first..end.max(first)
}

/// Row `y` of an `h × w` plane, or `None` if `y` is outside `0..h`.
#[inline]
pub(crate) fn row(plane: &[u8], h: usize, w: usize, y: isize) -> Option<&[u8]> {
    let y = usize::try_from(y).ok().filter(|&y| y < h)?;
    plane.get(y * w..y * w + w)
}

/// Element `x` of a row, or `None` if `x` is outside it.
#[inline]
pub(crate) fn at(line: &[u8], x: isize) -> Option<&u8> {
    line.get(usize::try_from(x).ok()?)
}

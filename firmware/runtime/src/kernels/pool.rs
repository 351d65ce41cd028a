//! Max and average pooling (1d and 2d, pads, dilation).

use super::{Fault, Geometry, Output, Values};

/// Arguments of [`max_pool`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct MaxPoolArgs {
    /// Input `[C, H, W]`.
    pub(crate) input: [usize; 3],
    /// Output `[C, H, W]` (same `C`).
    pub(crate) output: [usize; 3],
    /// Window geometry (pads smaller than the kernel).
    pub(crate) geometry: Geometry,
    /// How bytes are read (the output is stored the same way).
    pub(crate) x: Values,
}

/// Arguments of [`avg_pool`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct AvgPoolArgs<'a> {
    /// Shapes, geometry and input reading, as for max pooling.
    pub(crate) pool: MaxPoolArgs,
    /// Divide by the full kernel area even where the window overlaps padding.
    pub(crate) count_include_pad: bool,
    /// The input zero point.
    pub(crate) x_zero: i32,
    /// Requantization; multiplier `n - 1` is used for a window of `n` values
    /// (or the single multiplier if there is one).
    pub(crate) out: Output<'a>,
}

/// Runs `f(channel plane, output byte, window origin)` for every output.
fn for_each_window(
    p: &MaxPoolArgs,
    x: &[u8],
    y: &mut [u8],
    mut f: impl FnMut(&[u8], &mut u8, [isize; 2]) -> Result<(), Fault>,
) -> Result<(), Fault> {
    let [c, h, w] = p.input;
    let [oc, oh, ow] = p.output;
    let all_positive = [c, h, w, oh, ow].iter().all(|&d| d > 0);
    if !all_positive || oc != c || x.len() != c * h * w || y.len() != c * oh * ow || !p.geometry.is_valid() {
        return Err(Fault);
    }
    let g = &p.geometry;
    for (plane, out_plane) in x.chunks_exact(h * w).zip(y.chunks_exact_mut(oh * ow)) {
        for (oy, out_row) in out_plane.chunks_exact_mut(ow).enumerate() {
            for (ox, out) in out_row.iter_mut().enumerate() {
                let origin = [
                    (oy * g.stride[0]) as isize - g.pads[0] as isize,
                    (ox * g.stride[1]) as isize - g.pads[1] as isize,
                ];
                f(plane, out, origin)?;
            }
        }
    }
    Ok(())
}

/// ONNX `MaxPool`: the largest input value under each window; padding never
/// wins (it is skipped, not read as a value). 2×2 windows with stride 2
/// and no padding, the common case, go a plane at a time through
/// `lowbit_arch::max_2x2_plane` ([`max_pool_2x2`]); every other geometry
/// tap by tap ([`max_pool_windows`], feature `max-pool-generic`).
#[inline(never)]
pub(crate) fn max_pool(p: &MaxPoolArgs, x: &[u8], y: &mut [u8]) -> Result<(), Fault> {
    if !generic(&p.geometry) {
        max_pool_2x2(p, x, y)
    } else if cfg!(feature = "max-pool-generic") {
        max_pool_windows(p, x, y)
    } else {
        Err(Fault)
    }
}

/// Whether a MaxPool window takes the generic path (anything but 2×2 with
/// stride 2 and no padding).
pub(crate) fn generic(g: &Geometry) -> bool {
    !(g.has([2, 2], [2, 2], [1, 1]) && g.unpadded())
}

/// [`max_pool`] window by window through `Geometry::for_each_tap`, which
/// skips the taps on padding.
pub(crate) fn max_pool_windows(p: &MaxPoolArgs, x: &[u8], y: &mut [u8]) -> Result<(), Fault> {
    let [_, h, w] = p.input;
    // Bytes with the sign bit flipped compare like the values they store;
    // -1 stands for a window without a value.
    let flip = if p.x.signed() { 0x80 } else { 0 };
    for_each_window(p, x, y, |plane, out, origin| {
        let mut best = -1i32;
        p.geometry
            .for_each_tap(plane, [h, w], origin, |b| best = best.max(i32::from(b ^ flip)));
        *out = u8::try_from(best).map_err(|_| Fault)? ^ flip;
        Ok(())
    })
}

/// [`max_pool`] of 2×2 windows with stride 2 and no padding, a plane at a
/// time (the output's floor mode leaves out a last odd row or column).
pub(crate) fn max_pool_2x2(p: &MaxPoolArgs, x: &[u8], y: &mut [u8]) -> Result<(), Fault> {
    let [c, h, w] = p.input;
    let [oc, oh, ow] = p.output;
    let fits = oc == c && 2 * oh <= h && 2 * ow <= w && [c, oh, ow].iter().all(|&d| d > 0);
    if !fits || x.len() != c * h * w || y.len() != c * oh * ow {
        return Err(Fault);
    }
    for (plane, out_plane) in x.chunks_exact(h * w).zip(y.chunks_exact_mut(oh * ow)) {
        if !lowbit_arch::max_2x2_plane(plane, w, p.x.signed(), out_plane, ow) {
            return Err(Fault);
        }
    }
    Ok(())
}

/// Average pooling: `y = requant(Σ (x - x_zero), m[n - 1])` over the `n`
/// values the window averages (padding contributes 0 to the sum).
#[inline(never)]
pub(crate) fn avg_pool(a: &AvgPoolArgs<'_>, x: &[u8], y: &mut [u8]) -> Result<(), Fault> {
    let [_, h, w] = a.pool.input;
    let area = a.pool.geometry.kernel[0] * a.pool.geometry.kernel[1];
    for_each_window(&a.pool, x, y, |plane, out, origin| {
        let mut sum = 0i32;
        let valid = a.pool.geometry.for_each_tap(plane, [h, w], origin, |b| {
            sum = sum.wrapping_add(a.pool.x.get(b).wrapping_sub(a.x_zero));
        });
        let n = if a.count_include_pad { area } else { valid };
        let m = a.out.multiplier(n.checked_sub(1).ok_or(Fault)?)?;
        *out = a.out.store(sum, m);
        Ok(())
    })
}

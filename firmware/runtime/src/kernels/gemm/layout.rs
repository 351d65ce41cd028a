//! Patches: where the values of each output pixel's receptive field go.
//!
//! A pixel's patch is cut into chunks of as many values as one weight word
//! holds (`C`); inside a chunk the values follow the lane order of the
//! weights (or natural order on the scalar path), and the slots past the
//! patch's last value (which meet zero weights or none) hold any value. The
//! [`PIXELS`] patches of a block are interleaved in
//! groups of `G` halfwords (a pair of lane words on the lane path, a whole
//! chunk on the scalar path): halfword `s` of pixel `q` goes to
//! `(s / G)·G·PIXELS + q·G + s % G`, so the dot products walk one pointer.
//!
//! A Conv block is gathered through a table, built once per run, of each
//! halfword's offset in the (zero-point padded) input relative to the
//! pixel's window origin: one load, one store per value.

use super::super::geometry::copy_interior;
use super::super::{Fault, Values};
use super::PIXELS;
use super::lanes::Lanes;
use crate::WeightFormat;
use crate::kernels::Geometry;
use lowbit_arch::{GatherTable, pkhbt, pkhtb, sxtb16, sxtb16_ror8, uxtb16, uxtb16_ror8};

/// How patches are laid out for one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// The lane path: chunks of one weight word, in lane order.
    Lanes(Lanes),
    /// The scalar path: chunks of eight values in natural order.
    Scalar,
}

impl Layout {
    /// The layout for weights of `format` in rows of `taps`, on the DSP path
    /// if `dsp` and the format has one in this build.
    pub(super) fn of(format: WeightFormat, taps: usize, dsp: bool) -> Layout {
        match Lanes::of(format, taps) {
            Some(lanes) if dsp && lanes.built_in() => Layout::Lanes(lanes),
            _ => Layout::Scalar,
        }
    }

    /// The lane path, if this layout is one.
    pub(super) fn lanes(self) -> Option<Lanes> {
        match self {
            Layout::Lanes(l) => Some(l),
            Layout::Scalar => None,
        }
    }

    /// Values per chunk (`C`).
    fn chunk(self) -> usize {
        match self {
            Layout::Lanes(l) => l.per_word(),
            Layout::Scalar => 8,
        }
    }

    /// Halfwords per interleaving group (`G`).
    fn group(self) -> usize {
        match self {
            Layout::Lanes(_) => 4,
            Layout::Scalar => 8,
        }
    }

    /// Halfwords of one pixel's patch of `taps` values (whole chunks).
    pub(super) fn slots(self, taps: usize) -> usize {
        taps.div_ceil(self.chunk()) * self.chunk()
    }

    /// The natural index of slot `s` (at or past `taps` for the padding of
    /// the last chunk, whose weights are zero on the lane path).
    fn natural(self, s: usize) -> usize {
        let c = self.chunk();
        match self {
            Layout::Lanes(l) => s / c * c + l.order(s % c),
            Layout::Scalar => s,
        }
    }

    /// Fills `table` with the input offset of every slot of a Conv patch
    /// (relative to the window origin in the input `padded` bytes wide and
    /// `plane` bytes per channel); slots past the patch get 0 (never read).
    pub(super) fn table(
        self,
        g: &Geometry,
        channels: usize,
        [plane, padded]: [usize; 2],
        table: &mut [u32],
    ) -> Result<(), Fault> {
        let [kh, kw] = g.kernel;
        let taps = channels * kh * kw;
        let table = table.get_mut(..self.slots(taps)).ok_or(Fault)?;
        for (s, t) in table.iter_mut().enumerate() {
            let k = self.natural(s);
            let (c, ky, kx) = (k / (kh * kw), k / kw % kh, k % kw);
            let offset = c * plane + ky * g.dilation[0] * padded + kx * g.dilation[1];
            *t = if k < taps {
                u32::try_from(offset).map_err(|_| Fault)?
            } else {
                0
            };
        }
        Ok(())
    }

    /// Gathers pixel `q` of a block from `input` at window origin `origin`
    /// through `table` (kept out of line: inlined, it crowds the registers
    /// of the scalar dot loops around it).
    #[inline(never)]
    pub(super) fn gather(
        self,
        input: &[u8],
        origin: usize,
        table: &GatherTable<'_>,
        values: Values,
        q: usize,
        block: &mut [u16],
    ) -> Result<(), Fault> {
        let input = input.get(origin..).ok_or(Fault)?;
        if table.gather(input, values.signed(), self.group(), q, PIXELS, block) {
            Ok(())
        } else {
            Err(Fault)
        }
    }

    /// Writes a Dense's input `x` as its single patch (slots past `x` are
    /// zero).
    pub(super) fn widen(self, x: &[u8], values: Values, patch: &mut [u32]) -> Result<(), Fault> {
        let patch = patch.get_mut(..self.slots(x.len()) / 2).ok_or(Fault)?;
        match self {
            Layout::Lanes(l) => {
                let whole = x.len() / l.per_word() * l.per_word();
                let (full, partial) = patch.split_at_mut_checked(whole / 2).ok_or(Fault)?;
                l.widen(x, values.signed(), full);
                let rest = x.get(whole..).unwrap_or_default();
                if rest.is_empty() {
                    return Ok(());
                }
                // The partial last chunk, padded with zero bytes (value 0).
                let mut last = [0u8; 16];
                last.get_mut(..rest.len()).ok_or(Fault)?.copy_from_slice(rest);
                l.widen(last.get(..l.per_word()).ok_or(Fault)?, values.signed(), partial);
            }
            Layout::Scalar => {
                patch.fill(0);
                for (d, &b) in lowbit_arch::halves_mut(patch).iter_mut().zip(x) {
                    *d = values.get(b) as u16;
                }
            }
        }
        Ok(())
    }
}

/// The input of a Conv with its padding: `x` itself without padding, else
/// a copy of each channel with its padding (the zero point's byte) in
/// `scratch`. Returns the bytes, the bytes per channel and per row.
pub(super) fn padded<'a>(
    x: &'a [u8],
    [c, h, w]: [usize; 3],
    g: &Geometry,
    zero: u8,
    scratch: &'a mut [u8],
) -> Result<(&'a [u8], [usize; 2]), Fault> {
    if g.pads == [0; 4] {
        return Ok((x, [h * w, w]));
    }
    let (hp, wp) = (h + g.pads[0] + g.pads[2], w + g.pads[1] + g.pads[3]);
    let copy = scratch.get_mut(..c * hp * wp).ok_or(Fault)?;
    copy.fill(zero);
    for (src, dst) in x.chunks_exact(h * w).zip(copy.chunks_exact_mut(hp * wp)) {
        copy_interior(src, [h, w], g, 0, dst);
    }
    Ok((copy, [hp * wp, wp]))
}

impl Lanes {
    /// Writes the whole chunks of `x` into `patch` in lane order with word
    /// operations (`SXTB16`/`UXTB16` and `PKHBT`/`PKHTB`).
    fn widen(self, x: &[u8], signed: bool, patch: &mut [u32]) {
        if signed {
            self.widen_with(x, signed, patch, |w| (sxtb16(w), sxtb16_ror8(w)));
        } else {
            self.widen_with(x, signed, patch, |w| (uxtb16(w), uxtb16_ror8(w)));
        }
    }

    /// [`Lanes::widen`] with the byte extension `lanes` (8-bit lanes through
    /// [`lowbit_arch::widen_bytes`], which extends as `signed` says).
    #[inline(always)]
    fn widen_with(self, x: &[u8], signed: bool, patch: &mut [u32], lanes: impl Fn(u32) -> (u32, u32)) {
        let lanes = |bytes: &[u8; 4]| lanes(u32::from_le_bytes(*bytes));
        let (words, _) = x.as_chunks::<4>();
        match self {
            Lanes::S8 => lowbit_arch::widen_bytes(words, signed, patch.as_chunks_mut().0),
            Lanes::S4 => {
                let (pairs, _) = words.as_chunks::<2>();
                for (d, [a, b]) in patch.as_chunks_mut::<4>().0.iter_mut().zip(pairs) {
                    let ((ea, oa), (eb, ob)) = (lanes(a), lanes(b));
                    *d = [pkhbt(ea, eb), pkhtb(eb, ea), pkhbt(oa, ob), pkhtb(ob, oa)];
                }
            }
            Lanes::S2 => {
                let (quads, _) = words.as_chunks::<4>();
                for (d, [a, b, c, e]) in patch.as_chunks_mut::<8>().0.iter_mut().zip(quads) {
                    let ((e0, o0), (e1, o1), (e2, o2), (e3, o3)) = (lanes(a), lanes(b), lanes(c), lanes(e));
                    *d = [
                        pkhbt(e0, e2),
                        pkhbt(e1, e3),
                        pkhbt(o0, o2),
                        pkhbt(o1, o3),
                        pkhtb(e2, e0),
                        pkhtb(e3, e1),
                        pkhtb(o2, o0),
                        pkhtb(o3, o1),
                    ];
                }
            }
        }
    }
}

//! The DSP path: 8-, 4- and 2-bit two's complement weights unpacked into
//! 16-bit lanes in registers, multiplied with `SMLAD` (two MACs per
//! instruction); the loops are `lowbit_arch::dot_*`.
//!
//! A 32-bit word of weights unpacks with `SXTB16` (bytes 0 and 2, or with
//! `ROR #8` bytes 1 and 3) into lane pairs in a fixed order, which each
//! patch chunk is gathered in ([`Lanes::order`]), so the weights stay in
//! the file's plain order:
//!
//! | weights | per word | lane pairs, in order                                   | scale |
//! |---------|---------:|--------------------------------------------------------|------:|
//! | 8-bit   | 4        | `(0,2) (1,3)`                                          | 1     |
//! | 4-bit   | 8        | `(0,4) (2,6)` from `(W << 4) & 0xF0F0F0F0`, `(1,5) (3,7)` from `W & 0xF0F0F0F0` | 16 |
//! | 2-bit   | 16       | for field `f` of each byte, from `(W << (6-2f)) & 0xC0C0C0C0`: `(f, 8+f) (4+f, 12+f)` | 64 |
//!
//! Sub-byte fields are moved to the top of their byte and sign-extended
//! there, which multiplies them by the scale; the sums are shifted back at
//! the end. The builder keeps this path only where the scaled sums fit an
//! `i32` (`build::select`). A row whose length is not a whole number of
//! words ends with a partial word: its bytes, zero-extended, make a last
//! word whose missing weights are 0, multiplied with the (lane-ordered)
//! last chunk.

use super::super::Fault;
use super::{Outputs, Rows};
use crate::WeightFormat;
use lowbit_arch::{smlad, sxtb16, sxtb16_ror8};

/// A weight format with a lane path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lanes {
    /// 8-bit two's complement.
    S8,
    /// 4-bit two's complement.
    S4,
    /// 2-bit two's complement.
    S2,
}

/// A block loop of `lowbit_arch`: rows (back to back, `words` words each)
/// times four patches of `M`-word chunks, sums stored per row; `false` if
/// the slices do not fit.
type BlockLoop<const M: usize> = fn(&[u8], usize, &[[u32; M]], &mut [[i32; 4]]) -> bool;

/// Rows multiplied per call of the block loop (their sums live on the
/// stack).
const ROWS: usize = 16;

impl Lanes {
    /// The lane path of `format` for rows of `taps` weights, if it has one
    /// and every row starts on a byte.
    pub(super) fn of(format: WeightFormat, taps: usize) -> Option<Lanes> {
        match format {
            WeightFormat::Signed(8) => Some(Lanes::S8),
            WeightFormat::Signed(4) if taps.is_multiple_of(2) => Some(Lanes::S4),
            WeightFormat::Signed(2) if taps.is_multiple_of(4) => Some(Lanes::S2),
            _ => None,
        }
    }

    /// Whether this build has the lane loops of this width (cargo features
    /// `weights-8`, `weights-4`, `weights-2`).
    pub(super) fn built_in(self) -> bool {
        match self {
            Lanes::S8 => cfg!(feature = "weights-8"),
            Lanes::S4 => cfg!(feature = "weights-4"),
            Lanes::S2 => cfg!(feature = "weights-2"),
        }
    }

    /// `log2` of the factor the weights unpack with.
    pub(super) fn shift(self) -> u32 {
        match self {
            Lanes::S8 => 0,
            Lanes::S4 => 4,
            Lanes::S2 => 6,
        }
    }

    /// Weights per 32-bit word (the chunk length).
    pub(super) fn per_word(self) -> usize {
        match self {
            Lanes::S8 => 4,
            Lanes::S4 => 8,
            Lanes::S2 => 16,
        }
    }

    /// The natural position (within its chunk) of the value at position
    /// `i` of a chunk in lane order (see the module docs).
    pub(super) fn order(self, i: usize) -> usize {
        /// Lane pairs `(0,2) (1,3)`.
        const S8: [u8; 4] = [0, 2, 1, 3];
        /// Lane pairs `(0,4) (2,6) (1,5) (3,7)`.
        const S4: [u8; 8] = [0, 4, 2, 6, 1, 5, 3, 7];
        /// Lane pairs `(f, 8+f) (4+f, 12+f)` for `f = 0..4`.
        const S2: [u8; 16] = [0, 8, 4, 12, 1, 9, 5, 13, 2, 10, 6, 14, 3, 11, 7, 15];
        let table: &[u8] = match self {
            Lanes::S8 => &S8,
            Lanes::S4 => &S4,
            Lanes::S2 => &S2,
        };
        table.get(i).map_or(i, |&k| usize::from(k))
    }

    /// Row length in bytes, whole words and the bytes of a partial last
    /// word of rows of `taps` weights.
    fn row(self, rows: &Rows<'_>) -> (usize, usize, usize) {
        let row_bytes = rows.taps * rows.format.bits() as usize / 8;
        (row_bytes, row_bytes / 4, row_bytes % 4)
    }

    /// Multiplies every output channel's row with the [`PIXELS`](super::PIXELS)
    /// interleaved patches of `block` and stores the results into the
    /// channels' planes.
    pub(super) fn pixels(self, rows: Rows<'_>, block: &[u32], outputs: &mut Outputs<'_, '_>) -> Result<(), Fault> {
        match self {
            Lanes::S8 if cfg!(feature = "weights-8") => {
                self.pixels_with(rows, block, outputs, lowbit_arch::dot_rows_1x4_s8)
            }
            Lanes::S4 if cfg!(feature = "weights-4") => {
                self.pixels_with(rows, block, outputs, lowbit_arch::dot_rows_1x4_s4)
            }
            Lanes::S2 if cfg!(feature = "weights-2") => {
                self.pixels_with(rows, block, outputs, lowbit_arch::dot_rows_1x4_s2)
            }
            // Left out of this build (see `Lanes::built_in`).
            _ => Err(Fault),
        }
    }

    /// [`Lanes::pixels`] with the block loop of this width: [`ROWS`] rows
    /// per call when rows are whole words, else one row per call plus its
    /// partial last word; the sums of [`ROWS`] rows stored together.
    #[inline(always)]
    fn pixels_with<const M: usize>(
        self,
        rows: Rows<'_>,
        block: &[u32],
        outputs: &mut Outputs<'_, '_>,
        dot: BlockLoop<M>,
    ) -> Result<(), Fault> {
        let (row_bytes, words, partial) = self.row(&rows);
        let chunks = block
            .get(..(words + usize::from(partial > 0)) * M)
            .ok_or(Fault)?
            .as_chunks::<M>()
            .0;
        let (whole, last) = chunks.split_at_checked(words).ok_or(Fault)?;
        let mut sums = [[0i32; 4]; ROWS];
        let row_bytes = row_bytes.max(1);
        for w in rows.bytes.chunks(ROWS * row_bytes) {
            let count = w.len() / row_bytes;
            let sums = sums.get_mut(..count).ok_or(Fault)?;
            if partial == 0 {
                if !dot(w, words, whole, sums) {
                    return Err(Fault);
                }
            } else {
                // Rows with a partial last word one by one, stored together.
                for (row, s) in w.chunks(row_bytes).zip(sums.iter_mut()) {
                    if !dot(row, words, whole, core::slice::from_mut(s)) {
                        return Err(Fault);
                    }
                    let (tail, chunk) = (row.get(4 * words..).ok_or(Fault)?, last.first().ok_or(Fault)?);
                    let extra = dot_last(tail, chunk, dot)?;
                    *s = core::array::from_fn(|q| s[q].wrapping_add(extra[q]));
                }
            }
            outputs.store(sums, self.shift())?;
        }
        Ok(())
    }

    /// How many rows the next Dense block takes when `left` rows remain:
    /// the widest row kernel of this width that leaves no odd row behind.
    pub(super) fn block_rows(self, left: usize) -> usize {
        match self {
            Lanes::S8 if left >= 4 => 4,
            Lanes::S4 if left >= 3 && left != 4 => 3,
            _ => 2,
        }
    }

    /// `Σ w·x` of `count` (1 to 4, see [`Lanes::block_rows`]) consecutive
    /// output channels from `first` with one patch.
    pub(super) fn channels(self, rows: Rows<'_>, first: usize, count: usize, patch: &[u32]) -> Result<[i32; 4], Fault> {
        let (row_bytes, words, partial) = self.row(&rows);
        let start = first.checked_mul(row_bytes).ok_or(Fault)?;
        let w = rows.bytes.get(start..).ok_or(Fault)?;
        // A lone last row reads itself twice (stride 0).
        let stride = if count == 1 { 0 } else { row_bytes };
        let width = self.per_word() / 2;
        let p = patch.get(..words * width).ok_or(Fault)?;
        let (s8, s4, s2) = (
            cfg!(feature = "weights-8"),
            cfg!(feature = "weights-4"),
            cfg!(feature = "weights-2"),
        );
        let sums = match (self, count.max(2)) {
            (Lanes::S8, 4) if s8 => lowbit_arch::dot_4x1_s8(w, stride, p.as_chunks().0),
            (Lanes::S8, _) if s8 => lowbit_arch::dot_2x1_s8(w, stride, p.as_chunks().0).map(|[a, b]| [a, b, 0, 0]),
            (Lanes::S4, 3) if s4 => lowbit_arch::dot_3x1_s4(w, stride, p.as_chunks().0).map(|[a, b, c]| [a, b, c, 0]),
            (Lanes::S4, _) if s4 => lowbit_arch::dot_2x1_s4(w, stride, p.as_chunks().0).map(|[a, b]| [a, b, 0, 0]),
            (Lanes::S2, _) if s2 => lowbit_arch::dot_2x1_s2(w, stride, p.as_chunks().0).map(|[a, b]| [a, b, 0, 0]),
            // Left out of this build (see `Lanes::built_in`).
            _ => None,
        };
        let mut sums = sums.ok_or(Fault)?;
        if partial > 0 {
            let chunk = patch.get(words * width..(words + 1) * width).ok_or(Fault)?;
            for (r, s) in sums.iter_mut().enumerate().take(count) {
                let tail = w.get(r * row_bytes + 4 * words..(r + 1) * row_bytes).ok_or(Fault)?;
                *s = s.wrapping_add(self.last_word(tail, chunk));
            }
        }
        Ok(sums.map(|s| s >> self.shift()))
    }

    /// The partial last word `tail` (1 to 3 bytes) of a row times the last
    /// chunk of one patch (scaled like the whole words).
    fn last_word(self, tail: &[u8], chunk: &[u32]) -> i32 {
        let word = last_word(tail);
        let mut acc = 0;
        for (f, pair) in chunk.chunks_exact(2).enumerate() {
            let field = match self {
                Lanes::S8 => word,
                Lanes::S4 => (word << (4 - 4 * f as u32)) & 0xf0f0_f0f0,
                Lanes::S2 => (word << (6 - 2 * f as u32)) & 0xc0c0_c0c0,
            };
            acc = smlad(sxtb16_ror8(field), pair[1], smlad(sxtb16(field), pair[0], acc));
        }
        acc
    }
}

/// `tail` (at most 4 bytes) as a little-endian word, zero-extended.
fn last_word(tail: &[u8]) -> u32 {
    tail.iter().rev().fold(0, |w, &b| w << 8 | u32::from(b))
}

/// The products of a row's partial last word (the bytes `tail`) with the
/// last chunk of each of the [`PIXELS`](super::PIXELS) patches, through the block loop on
/// a one-word row.
fn dot_last<const M: usize>(tail: &[u8], chunk: &[u32; M], dot: BlockLoop<M>) -> Result<[i32; 4], Fault> {
    let bytes = last_word(tail.get(..4).unwrap_or(tail)).to_le_bytes();
    let mut sums = [[0i32; 4]; 1];
    if dot(&bytes, 1, core::slice::from_ref(chunk), &mut sums) {
        Ok(sums[0])
    } else {
        Err(Fault)
    }
}

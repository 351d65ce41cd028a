//! Column sums of a bit matrix stored by columns: the inner loops of binary
//! (XNOR) dense layers with many outputs, as `asm!` loops on Armv7-M and
//! portably elsewhere. Both compute the same values; the portable
//! definitions are the specification.
//!
//! The matrix has `limit + 1` columns (one per input, the last one all
//! zeros) of `stride` little-endian words each, column `i` at word
//! `stride · i`; lane `L` of word `g` of a column is one bit of the matrix.
//! [`select`] picks the inputs whose bit is set in a packed input (or,
//! when more than half are set, those whose bit is clear) and lists their
//! columns; [`sum_columns`] then counts, for each of the 32 lanes of one
//! word `g`, the listed columns that have the lane set. It sums the
//! columns sixteen at a time with a tree of carry-save adders (Harley and
//! Seal's), four by four, so the list is padded with the zero column to a
//! multiple of 4.
//! The counts, at most [`PART`] columns at a time so that they fit a byte,
//! come out of the adders as eight bit planes (plane `k` holds bit `k` of
//! every lane's count), which [`planes_to_bytes`] transposes into bytes.
//!
//! [`column_sums`] then turns the counts of 32 outputs into affine sums
//! with a per-output term.
//!
//! Each listed column is stored as the byte offset `4 · stride · (i + 1)`
//! (one column past it: that is where the Armv7-M selection loop stands
//! after shifting the input bit out).

#![cfg_attr(lowbit_v7m, allow(dead_code))]

/// The most columns [`sum_columns`] adds at once: a multiple of 4 whose
/// counts fit in eight bit planes.
pub const PART: usize = 240;

/// Columns of a packed input's set (or clear) bits, listed by [`select`].
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    /// `4 · stride · (i + 1)` for each picked input `i` in increasing
    /// order, then for `i = limit` (the zero column) up to a multiple of 4.
    offsets: &'a [u32],
    /// Inputs (columns before the zero column).
    limit: usize,
    /// Words per column.
    stride: usize,
    /// Bits set among the first `limit` of the input.
    set: usize,
    /// Whether the clear bits were picked.
    inverted: bool,
}

impl<'a> Selection<'a> {
    /// Bits set among the packed input's first `limit`.
    pub fn set(&self) -> usize {
        self.set
    }

    /// Whether the columns listed are those of the clear bits (more than
    /// half the bits were set).
    pub fn inverted(&self) -> bool {
        self.inverted
    }

    /// The selection in parts of at most [`PART`] listed columns.
    pub fn parts(&self) -> impl Iterator<Item = Selection<'a>> + 'a {
        let Selection {
            offsets,
            limit,
            stride,
            set,
            inverted,
        } = *self;
        offsets.chunks(PART).map(move |offsets| Selection {
            offsets,
            limit,
            stride,
            set,
            inverted,
        })
    }
}

/// Lists in `list` the columns (of `stride` words) of the inputs among the
/// first `limit` bits of `bits` that are set, or of those that are clear if
/// more than half are set; `bits` is left holding the picked polarity
/// (inverted then), with every bit from `limit` on cleared. `None`, listing
/// nothing, unless `bits` has `limit` bits, `list` room for `limit / 2`
/// columns rounded up to a multiple of 4, and the offsets fit a `u32`.
pub fn select<'a>(bits: &mut [u32], limit: usize, stride: usize, list: &'a mut [u32]) -> Option<Selection<'a>> {
    let bits = bits.get_mut(..limit.div_ceil(32))?;
    let column = u32::try_from(stride.checked_mul(4)?).ok()?;
    column.checked_mul(u32::try_from(limit).ok()?.checked_add(1)?)?;
    // The bits of the last word from `limit` on cleared.
    let tail = |bits: &mut [u32]| {
        if let (Some(last), 1..) = (bits.last_mut(), limit % 32) {
            *last &= (1 << (limit % 32)) - 1;
        }
    };
    tail(bits);
    let set = bits.iter().map(|w| w.count_ones() as usize).sum::<usize>();
    let inverted = 2 * set > limit;
    if inverted {
        bits.iter_mut().for_each(|w| *w = !*w);
        tail(bits);
    }
    let picked = if inverted { limit - set } else { set };
    let padded = picked.next_multiple_of(4);
    let list = list.get_mut(..padded)?;
    let (listed, padding) = list.split_at_mut(picked);
    #[cfg(lowbit_v7m)]
    crate::v7m_columns::list_columns(bits, column, listed);
    #[cfg(not(lowbit_v7m))]
    list_portable(bits, column, listed);
    padding.fill(column * (limit as u32 + 1));
    Some(Selection {
        offsets: list,
        limit,
        stride,
        set,
        inverted,
    })
}

/// Portable: `4 · stride · (i + 1)` (`column = 4 · stride`) for every set
/// bit `i` of `bits`, in order, into `list` (which has exactly one entry
/// per set bit).
fn list_portable(bits: &[u32], column: u32, list: &mut [u32]) {
    let mut entries = list.iter_mut();
    for (k, &w) in bits.iter().enumerate() {
        let mut w = w;
        while w != 0 {
            let i = 32 * k as u32 + w.trailing_zeros();
            if let Some(e) = entries.next() {
                *e = column.wrapping_mul(i + 1);
            }
            w &= w - 1;
        }
    }
}

/// A carry-save adder: `l + a + b` as the new `l` plus twice the carries
/// returned, lane by lane.
#[inline(always)]
fn csa(l: &mut u32, a: u32, b: u32) -> u32 {
    let u = *l ^ a;
    let carry = (*l & a) | (u & b);
    *l = u ^ b;
    carry
}

/// Portable: the per-lane counts of the columns listed, as bytes (the
/// words read as `u32`s when `cols` is aligned, byte by byte otherwise).
fn sum_portable(cols: &[u8], sel: &Selection<'_>, group: usize, planes: &mut [u32; 8]) {
    let first = group.wrapping_sub(sel.stride);
    let at = |off: u32| (off as usize / 4).wrapping_add(first);
    *planes = if cols.as_ptr().addr().is_multiple_of(4) {
        let words = crate::words(cols);
        sum_with(|off| words.get(at(off)).copied().unwrap_or(0), sel.offsets)
    } else {
        let words = cols.as_chunks::<4>().0;
        sum_with(
            |off| words.get(at(off)).map_or(0, |w| u32::from_le_bytes(*w)),
            sel.offsets,
        )
    };
}

/// The byte counts of the words `word(offset)` over `offsets`, sixteen at a
/// time (the last ones padded with zeros).
#[inline(always)]
fn sum_with(word: impl Fn(u32) -> u32, offsets: &[u32]) -> [u32; 8] {
    let mut state = [0u32; 8];
    let (blocks, rest) = offsets.as_chunks::<16>();
    for block in blocks {
        add16(&mut state, block.map(&word));
    }
    if !rest.is_empty() {
        add16(
            &mut state,
            core::array::from_fn(|j| rest.get(j).map_or(0, |&off| word(off))),
        );
    }
    planes_to_bytes(state)
}

/// Adds sixteen words to the bit planes `state` (ones, twos, fours, eights
/// through carry-save adders, the sixteens rippled into the four others).
#[inline(always)]
fn add16(state: &mut [u32; 8], v: [u32; 16]) {
    let [ones, twos, fours, eights, high @ ..] = state;
    let mut pair = |j: usize| csa(ones, v[j], v[j + 1]);
    let (t0, t1, t2, t3) = (pair(0), pair(2), pair(4), pair(6));
    let (t4, t5, t6, t7) = (pair(8), pair(10), pair(12), pair(14));
    let mut twos_of = |a, b| csa(twos, a, b);
    let (f0, f1, f2, f3) = (twos_of(t0, t1), twos_of(t2, t3), twos_of(t4, t5), twos_of(t6, t7));
    let (e0, e1) = (csa(fours, f0, f1), csa(fours, f2, f3));
    let mut carry = csa(eights, e0, e1);
    for plane in high {
        let next = *plane & carry;
        *plane ^= carry;
        carry = next;
    }
}

/// The counts of eight bit planes (bit `8c + q` of plane `k` is bit `k`
/// of the count of lane `8c + q`) as bytes: byte `c` of word `q` is the
/// count of lane `8c + q`. Each byte column is an 8×8 bit matrix,
/// transposed by swapping its off-diagonal blocks of 4, 2 and 1.
pub(crate) fn planes_to_bytes(planes: [u32; 8]) -> [u32; 8] {
    /// Swaps the bits of `a` under `mask << s` with those of `b` under `mask`.
    fn swap(a: &mut u32, b: &mut u32, s: u32, mask: u32) {
        let t = ((*a >> s) ^ *b) & mask;
        *b ^= t;
        *a ^= t << s;
    }
    let [mut p0, mut p1, mut p2, mut p3, mut p4, mut p5, mut p6, mut p7] = planes;
    const FOURS: u32 = 0x0f0f_0f0f;
    const TWOS: u32 = 0x3333_3333;
    const ONES: u32 = 0x5555_5555;
    swap(&mut p0, &mut p4, 4, FOURS);
    swap(&mut p1, &mut p5, 4, FOURS);
    swap(&mut p2, &mut p6, 4, FOURS);
    swap(&mut p3, &mut p7, 4, FOURS);
    swap(&mut p0, &mut p2, 2, TWOS);
    swap(&mut p1, &mut p3, 2, TWOS);
    swap(&mut p4, &mut p6, 2, TWOS);
    swap(&mut p5, &mut p7, 2, TWOS);
    swap(&mut p0, &mut p1, 1, ONES);
    swap(&mut p2, &mut p3, 1, ONES);
    swap(&mut p4, &mut p5, 1, ONES);
    swap(&mut p6, &mut p7, 1, ONES);
    [p0, p1, p2, p3, p4, p5, p6, p7]
}

/// For each lane `L = 8c + q` of word `group` of the columns, the number of
/// listed columns that have the lane set, as byte `c` of `counts[q]` (see
/// the module docs). Returns `false`, computing nothing, unless
/// `group < stride`, `cols` holds the `limit + 1` columns (little-endian
/// words from any address) and `sel` lists at most [`PART`] of them.
#[inline]
pub fn sum_columns(cols: &[u8], sel: &Selection<'_>, group: usize, counts: &mut [u32; 8]) -> bool {
    let fits = group < sel.stride
        && sel.offsets.len() <= PART
        && sel
            .stride
            .checked_mul(sel.limit + 1)
            .and_then(|words| words.checked_mul(4))
            .is_some_and(|bytes| bytes <= cols.len());
    if !fits {
        return false;
    }
    #[cfg(lowbit_v7m)]
    {
        *counts = crate::v7m_columns::sum_columns(cols, sel.offsets, sel.stride, group);
    }
    #[cfg(not(lowbit_v7m))]
    sum_portable(cols, sel, group, counts);
    true
}

/// The offsets listed, for the tests.
#[cfg(test)]
pub(crate) fn offsets<'a>(sel: &Selection<'a>) -> &'a [u32] {
    sel.offsets
}

/// `sums[4q + c] = base + with_b · b + with_x · x` for each output `4q + c`
/// of `sums` (at most 32): `x` byte `c` of `counts[q]` (as
/// [`sum_columns`] returns them), `b` the little-endian `i16` of `terms`
/// at halfword `4q + [0, 2, 1, 3][c]` (each quad of outputs in the order
/// 0, 2, 1, 3). Returns `false`, computing nothing, unless `terms` has
/// those halfwords (`8 · ⌈sums.len() / 4⌉` bytes).
pub fn column_sums(counts: &[u32; 8], terms: &[u8], base: i32, with: (i16, i16), sums: &mut [i32]) -> bool {
    let quads = sums.len().div_ceil(4);
    if sums.len() > 32 || terms.len() < 8 * quads {
        return false;
    }
    #[cfg(lowbit_dsp)]
    if let Ok(sums) = <&mut [i32; 32]>::try_from(&mut *sums) {
        crate::v7m_columns::column_sums(counts, terms, base, with, sums);
        return true;
    }
    let (with_b, with_x) = (i32::from(with.0), i32::from(with.1));
    // One quad: its terms (outputs 0 and 2, then 1 and 3), its counts' word.
    let quad = |sums: &mut [i32], terms: &[u8; 8], x: u32| {
        let [a0, a1, a2, a3, b0, b1, b2, b3] = *terms;
        let (even, odd) = (
            u32::from_le_bytes([a0, a1, a2, a3]),
            u32::from_le_bytes([b0, b1, b2, b3]),
        );
        let b = [even, odd, even >> 16, odd >> 16].map(|t| i32::from(t as i16));
        for ((c, s), b) in sums.iter_mut().enumerate().zip(b) {
            let x = (x >> (8 * c) & 0xff) as i32;
            *s = base.wrapping_add(with_b * b).wrapping_add(with_x * x);
        }
    };
    let terms = terms.as_chunks::<8>().0;
    match (<&mut [i32; 32]>::try_from(&mut *sums), terms.first_chunk::<8>()) {
        // A whole word of outputs, unrolled.
        (Ok(sums), Some(terms)) => {
            for ((sums, terms), &x) in sums.as_chunks_mut::<4>().0.iter_mut().zip(terms).zip(counts) {
                quad(sums, terms, x);
            }
        }
        _ => {
            for ((sums, terms), &x) in sums.chunks_mut(4).zip(terms).zip(counts) {
                quad(sums, terms, x);
            }
        }
    }
    true
}

/// A fixed-point output stage of a layer by columns (see [`fixed_dense`]).
#[derive(Debug, Clone, Copy)]
pub struct Fixed<'a> {
    /// `M_o`: a little-endian `i32` per output, from any address.
    pub multipliers: &'a [u8],
    /// `P_o`: a little-endian `i32` per output, from any address.
    pub offsets: &'a [u8],
    /// `(base, with_x)`: `v = base + with_x · X_o`.
    pub terms: (i32, i32),
    /// `k`, below 32.
    pub shift: u32,
    /// Whether the outputs saturate to `i8` (`SSAT #8`) rather than `u8`
    /// (`USAT #8`).
    pub signed: bool,
}

/// A whole binary Dense by columns through a fixed-point stage: for each
/// group `g` of 32 outputs of `out`, the counts `X_o` of the columns `sel`
/// lists (as [`sum_columns`] computes them), then
/// `out[o] = sat((v · M_o + P_o) >> k)` with `v = base + with_x · X_o` (the
/// arithmetic `i32` wrapping, `sat` `SSAT #8` or `USAT #8`), then
/// `then(g, counts, out)`, which returns `false` to stop. The checks are
/// made once, before the first group. Returns `false` unless `sel` is one
/// part, `cols` holds `sel`'s columns with a word per group and `stage` a
/// multiplier and offset per output and a shift below 32 (computing
/// nothing), or if `then` stopped.
#[inline(always)]
pub fn fixed_dense(
    cols: &[u8],
    sel: &Selection<'_>,
    stage: &Fixed<'_>,
    out: &mut [u8],
    mut then: impl FnMut(usize, &[u32; 8], &mut [u8]) -> bool,
) -> bool {
    let n = out.len();
    let fits = n.div_ceil(32) <= sel.stride
        && sel.offsets.len() <= PART
        && sel
            .stride
            .checked_mul(sel.limit + 1)
            .and_then(|words| words.checked_mul(4))
            .is_some_and(|bytes| bytes <= cols.len())
        && stage.multipliers.len() >= 4 * n
        && stage.offsets.len() >= 4 * n
        && stage.shift < 32;
    if !fits {
        return false;
    }
    for (g, out) in out.chunks_mut(32).enumerate() {
        // The stage of this group's outputs.
        let (Some(multipliers), Some(offsets)) = (stage.multipliers.get(128 * g..), stage.offsets.get(128 * g..))
        else {
            return false;
        };
        let group = Fixed {
            multipliers,
            offsets,
            ..*stage
        };
        #[cfg(lowbit_v7m)]
        let counts = crate::v7m_columns::sum_columns(cols, sel.offsets, sel.stride, g);
        #[cfg(not(lowbit_v7m))]
        let counts = {
            let mut counts = [0; 8];
            sum_portable(cols, sel, g, &mut counts);
            counts
        };
        #[cfg(lowbit_v7m)]
        let done = <&mut [u8; 32]>::try_from(&mut *out)
            .is_ok_and(|out| crate::v7m_columns::fixed_outputs(&counts, &group, out));
        #[cfg(not(lowbit_v7m))]
        let done = false;
        if !done {
            fixed_outputs(&counts, &group, out);
        }
        if !then(g, &counts, out) {
            return false;
        }
    }
    true
}

/// Portable: the outputs of [`fixed_dense`] for one group of at most 32
/// `out` from their `counts`, through `stage`, the stage of these outputs
/// (its multipliers and offsets hold a word per output, checked by the
/// caller).
pub(crate) fn fixed_outputs(counts: &[u32; 8], stage: &Fixed<'_>, out: &mut [u8]) {
    let word = |bytes: &[u8], o: usize| {
        i32::from_le_bytes([bytes[4 * o], bytes[4 * o + 1], bytes[4 * o + 2], bytes[4 * o + 3]])
    };
    let (base, with_x) = stage.terms;
    for (o, y) in out.iter_mut().enumerate() {
        let x = (counts[o / 4] >> (8 * (o % 4)) & 0xff) as i32;
        let v = base.wrapping_add(with_x.wrapping_mul(x));
        let t = v
            .wrapping_mul(word(stage.multipliers, o))
            .wrapping_add(word(stage.offsets, o))
            >> stage.shift;
        *y = if stage.signed {
            t.clamp(-128, 127)
        } else {
            t.clamp(0, 255)
        } as u8;
    }
}

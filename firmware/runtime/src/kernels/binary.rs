//! [`Kernel::Binary`](crate::Kernel::Binary): Dense with bipolar (±1)
//! weights over an input of two levels, 32 products per word with
//! logic operations and a popcount.
//!
//! The input is packed once into bits `s` (one per feature, in the
//! scratch memory) and every weight row is a bit string `b` (`1` is `-1`).
//! With `n` features:
//!
//! | input values            | `s` is set for | `Σ w·x`                      |
//! |-------------------------|----------------|------------------------------|
//! | bipolar `{-1, +1}`      | `-1`           | `n - 2·popcount(b XOR s)`    |
//! | 1-bit unsigned `{0, 1}` | `1`            | `popcount(s) - 2·popcount(b AND s)` |
//! | 1-bit signed `{-1, 0}`  | `-1`           | `2·popcount(b AND s) - popcount(s)` |
//!
//! which is exactly the integer the reference kernel sums (the stored bias
//! already holds the zero-point correction).
//!
//! Layers of at least 32 outputs store their weights by columns (see
//! [`columns`]) and count the other way round: with `A_o` the number of
//! set input bits whose weight bit is set, `B_o` the weight bits set in
//! row `o` (stored after the columns) and `n1 = popcount(s)`,
//! `popcount(b XOR s) = n1 + B_o - 2·A_o` and `popcount(b AND s) = A_o`.
//! `lowbit_arch::select` lists the columns of the set bits of `s`, or of
//! the clear ones when more than half are set (their counts `C_o` give
//! `A_o = B_o - C_o`), so at most `n / 2` columns are added, 32 outputs
//! at a time, by `lowbit_arch::sum_columns`.
//!
//! When the builder finds a [`fixed`](super::fixed) output stage for the
//! layer (every row's accumulators `bias_o + [-n, n]` checked), it stores it
//! after the counts and the kernel requantizes the counts directly:
//! `Σ w·x + bias_o = v + c_o` with `v = base + with_x · X_o` and a per-row
//! constant `c_o = with_b · B_o + bias_o`, so
//! `acc · M_o + R_o = v · M_o + P_o` with `P_o = c_o · M_o + R_o` stored
//! (modulo 2^32: the result is in `i32`) for each polarity of the list.

use super::{Clamp, DenseArgs, Fault};
use crate::format::{TensorQuant, WeightFormat};
use lowbit_arch::BitOp;

/// The input values of a binary Dense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Levels {
    /// `-1` or `+1` (a bipolar tensor).
    Bipolar,
    /// `0` or `1` (1-bit unsigned).
    ZeroOne,
    /// `-1` or `0` (1-bit signed).
    MinusOneZero,
}

impl Levels {
    /// The levels of an input with quantization `q`, declared bipolar or
    /// not; `None` for more than two levels.
    pub(crate) fn of(q: &TensorQuant, bipolar: bool) -> Option<Levels> {
        match (bipolar, q.bits, q.signed) {
            (true, _, _) => Some(Levels::Bipolar),
            (false, 1, false) => Some(Levels::ZeroOne),
            (false, 1, true) => Some(Levels::MinusOneZero),
            _ => None,
        }
    }

    /// Where an input byte keeps its bit: the sign bit, or bit 0 for
    /// `ZeroOne`.
    #[inline]
    fn shift(self) -> u32 {
        match self {
            Levels::ZeroOne => 0,
            Levels::Bipolar | Levels::MinusOneZero => 7,
        }
    }
}

/// Whether an input with quantization `q` (declared bipolar or not) has two
/// levels.
#[cfg(feature = "std")]
pub(crate) fn two_level(q: &TensorQuant, bipolar: bool) -> bool {
    Levels::of(q, bipolar).is_some()
}

/// Scratch bytes for `inputs` packed bits, aligned to a word, and with
/// weights by columns ([`columns`]) 32 sums and the list of up to
/// `inputs / 2` columns (padded to a multiple of 4).
#[inline(always)]
pub(crate) fn scratch_len(inputs: usize, outputs: usize) -> usize {
    let list = if columns(inputs, outputs) {
        4 * (32 + (inputs / 2).next_multiple_of(4))
    } else {
        0
    };
    4 * inputs.div_ceil(32) + list + 3
}

/// Whether a layer of `inputs` features and `outputs` outputs stores its
/// weights by columns: at least 32 outputs (a whole word of lanes) and
/// row counts that fit an `i16`.
#[inline]
pub(crate) fn columns(inputs: usize, outputs: usize) -> bool {
    outputs >= 32 && (1..=i16::MAX as usize).contains(&inputs)
}

/// Where the count of row `o` is stored among the counts: each quad of
/// rows in the order 0, 2, 1, 3 (as `lowbit_arch::column_sums` reads them).
fn count_slot(o: usize) -> usize {
    4 * (o / 4) + [0, 2, 1, 3][o % 4]
}

/// The lane of output `o` (`o < 32`) in its column word: `8·(o % 4) + o / 4`,
/// so that `lowbit_arch::sum_columns` returns the counts as bytes in
/// output order.
#[cfg(feature = "std")]
fn lane(o: usize) -> usize {
    8 * (o % 4) + o / 4
}

/// Bytes of the weights of a Dense over `inputs` features with `outputs`
/// outputs: by columns, `⌈outputs / 32⌉` words for each input and for one
/// zero column, then an `i16` count per row and quad (`⌈outputs / 4⌉`
/// quads); otherwise the bit stream (`None` if that overflows).
pub(crate) fn packed_len(inputs: usize, outputs: usize) -> Option<usize> {
    if columns(inputs, outputs) {
        let column = 4 * outputs.div_ceil(32);
        column.checked_mul(inputs + 1)?.checked_add(8 * outputs.div_ceil(4))
    } else {
        WeightFormat::Bipolar.packed_len(inputs as u64 * outputs as u64)
    }
}

/// Bytes of the fixed-point output stage of `outputs` rows stored after
/// the counts: the shift `k` (`u32`), then `outputs` little-endian `i32`
/// multipliers `M_o`, the offsets `P_o` with set bits listed, those with
/// clear bits listed, and a bit per row, 32 rows a word, set for the rows
/// that keep the float output stage (their `M_o` and `P_o` are 0).
pub(crate) fn stage_len(outputs: usize) -> usize {
    4 + 12 * outputs + 4 * outputs.div_ceil(32)
}

/// The expected weight bytes of a binary Dense stored in `len` bytes with
/// the clamp `(lo, hi)`: [`packed_len`], plus [`stage_len`] if `len` holds
/// a fixed-point stage where one may be (weights by columns listed in one
/// part, a byte type's clamp).
pub(crate) fn stored_len(inputs: usize, outputs: usize, len: usize, (lo, hi): (i32, i32)) -> Option<usize> {
    let packed = packed_len(inputs, outputs)?;
    let staged = columns(inputs, outputs) && one_part(inputs) && !matches!(Clamp::of(lo, hi), Clamp::Range(..));
    match packed.checked_add(stage_len(outputs)) {
        Some(with_stage) if staged && len == with_stage => Some(with_stage),
        _ => Some(packed),
    }
}

/// Whether a layer by columns always lists its columns in one part (so its
/// counts fit the bytes the fixed-point stage reads).
#[inline]
fn one_part(inputs: usize) -> bool {
    inputs / 2 <= lowbit_arch::PART
}

/// `(base, with_b, with_x)` of `Σ w·x = base + with_b · B_o + with_x · X_o`
/// for `n` inputs of `levels` with `set` bits set, `X_o` the counts of the
/// listed columns (of the clear bits when `inverted`; see the module docs).
#[inline]
fn terms(levels: Levels, inverted: bool, n: i32, set: i32) -> (i32, i16, i16) {
    match (levels, inverted) {
        (Levels::Bipolar, false) => (n - 2 * set, -2, 4),
        (Levels::Bipolar, true) => (n - 2 * set, 2, -4),
        (Levels::ZeroOne, false) => (set, 0, -2),
        (Levels::ZeroOne, true) => (set, -2, 2),
        (Levels::MinusOneZero, false) => (-set, 0, 2),
        (Levels::MinusOneZero, true) => (-set, 2, -2),
    }
}

/// The fixed-point output stage (see [`stage_len`]) of a layer by columns
/// with `weights` (`[out][in]`, ±1) over `inputs` features of `levels`, the
/// stored (folded) `bias`, `multipliers` (one or one per row), output zero
/// point and clamp; `None` when the layer keeps the float output stage
/// (more than one part of columns, a clamp that is not a byte type's range,
/// or no stage found).
#[cfg(feature = "std")]
pub(crate) fn pack_stage(
    weights: &[i32],
    inputs: usize,
    levels: Levels,
    bias: &[i32],
    multipliers: &[f32],
    (zero_point, lo, hi): (i32, i32, i32),
) -> Option<std::vec::Vec<u8>> {
    let n = i32::try_from(inputs).ok()?;
    if !one_part(inputs) || !columns(inputs, bias.len()) {
        return None;
    }
    let ranges: std::vec::Vec<(i32, i32)> = bias
        .iter()
        .map(|&b| Some((b.checked_sub(n)?, b.checked_add(n)?)))
        .collect::<Option<_>>()?;
    // Bipolar sums have the parity of `n`.
    let step = if levels == Levels::Bipolar { 2 } else { 1 };
    let (shift, rows) = super::fixed::fit((&ranges, step), multipliers, zero_point, Clamp::of(lo, hi))?;
    let mut bytes = shift.to_le_bytes().to_vec();
    bytes.extend(rows.iter().flat_map(|row| row.map_or(0, |(m, _)| m).to_le_bytes()));
    for inverted in [false, true] {
        let (_, with_b, _) = terms(levels, inverted, n, 0);
        for ((row, weights), &b) in rows.iter().zip(weights.chunks(inputs)).zip(bias) {
            let minus = weights.iter().filter(|w| **w < 0).count() as i64;
            let c = i64::from(with_b) * minus + i64::from(b);
            // Modulo 2^32, as the device adds it.
            let p = row.map_or(0, |(m, r)| (c * i64::from(m) + r) as i32);
            bytes.extend(p.to_le_bytes());
        }
    }
    for rows in rows.chunks(32) {
        let floats = rows.iter().enumerate().filter(|(_, row)| row.is_none());
        bytes.extend(floats.fold(0u32, |mask, (o, _)| mask | 1 << o).to_le_bytes());
    }
    Some(bytes)
}

/// Packs bipolar `weights` (`[out][in]`, each -1 or +1) by columns: bit
/// [`lane`]`(o % 32)` of word `⌈out/32⌉ · i + o / 32` is set when the
/// weight of input `i` in row `o` is -1; the words of input `inputs` (the
/// zero column) are 0; then, per row, the number of its -1 weights as a
/// little-endian `i16`, at [`count_slot`] (0 for the rows past `outputs`
/// in the last quad).
#[cfg(feature = "std")]
pub(crate) fn pack_columns(weights: &[i32], inputs: usize) -> std::vec::Vec<u8> {
    let outputs = weights.len().checked_div(inputs).unwrap_or(0);
    let groups = outputs.div_ceil(32);
    let mut bytes = std::vec![0u8; packed_len(inputs, outputs).unwrap_or(0)];
    let counts_at = 4 * groups * (inputs + 1);
    for (o, row) in weights.chunks(inputs.max(1)).enumerate() {
        let lane = lane(o % 32);
        for (i, _) in row.iter().enumerate().filter(|(_, w)| **w < 0) {
            bytes[4 * (groups * i + o / 32) + lane / 8] |= 1 << (lane % 8);
        }
        let count = row.iter().filter(|w| **w < 0).count() as i16;
        let at = counts_at + 2 * count_slot(o);
        bytes[at..at + 2].copy_from_slice(&count.to_le_bytes());
    }
    bytes
}

/// The weights (`[out][in]`) of `bytes` packed by [`pack_columns`], or
/// `None` if the length, the zero column or a row count does not match.
#[cfg(feature = "std")]
pub(crate) fn unpack_columns(bytes: &[u8], inputs: usize, outputs: usize) -> Option<std::vec::Vec<i32>> {
    // A fixed-point stage after the counts is derived data: the builder
    // computes it again from the weights, bias and requantization.
    let len = packed_len(inputs, outputs)?;
    if bytes.len() != len && bytes.len() != len + stage_len(outputs) {
        return None;
    }
    let bytes = &bytes[..len];
    let groups = outputs.div_ceil(32);
    let counts_at = 4 * groups * (inputs + 1);
    if bytes[counts_at - 4 * groups..counts_at].iter().any(|&b| b != 0) {
        return None;
    }
    let mut weights = std::vec::Vec::with_capacity(inputs * outputs);
    for o in 0..outputs {
        let lane = lane(o % 32);
        let row = (0..inputs).map(|i| 1 - 2 * i32::from(bytes[4 * (groups * i + o / 32) + lane / 8] >> (lane % 8) & 1));
        let start = weights.len();
        weights.extend(row);
        let count = weights[start..].iter().filter(|w| **w < 0).count();
        let at = counts_at + 2 * count_slot(o);
        if usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]])) != count {
            return None;
        }
    }
    // The slots of the rows past `outputs` hold 0.
    let mut padding = (outputs..outputs.next_multiple_of(4)).map(|o| counts_at + 2 * count_slot(o));
    if padding.any(|at| bytes[at] != 0 || bytes[at + 1] != 0) {
        return None;
    }
    Some(weights)
}

/// Output channels whose counts are collected before they are
/// requantized together.
const ROWS: usize = 32;

/// Where the parts of a binary Dense's weights are, located once by
/// [`Layout::of`] (a [`Plan`](crate::Plan) keeps them with the op's
/// arguments).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Layout<'a> {
    /// A bit string per row.
    Rows,
    /// By columns (see [`columns`]).
    Columns {
        /// The column words, the zero column's last.
        cols: &'a [u8],
        /// `B_o`, an `i16` per row at [`count_slot`].
        row_counts: &'a [u8],
        /// The fixed-point output stage, if the builder found one.
        stage: Option<Stage<'a>>,
    },
}

/// A stored fixed-point output stage (see [`stage_len`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stage<'a> {
    /// `k`, below 32.
    pub(crate) shift: u32,
    /// `SSAT` (`i8` outputs) or `USAT` (`u8`).
    pub(crate) signed: bool,
    /// `M_o` of every row.
    pub(crate) multipliers: &'a [u8],
    /// `P_o` of every row with the set bits listed, then with the clear
    /// ones.
    pub(crate) offsets: [&'a [u8]; 2],
    /// The rows that keep the float stage, a bit each, 32 rows a word.
    pub(crate) floats: &'a [[u8; 4]],
    /// Whether any row keeps the float stage.
    pub(crate) any_float: bool,
}

impl<'a> Layout<'a> {
    /// The layout of the weights of the layer `a`.
    pub(crate) fn of(a: &DenseArgs<'a>) -> Result<Layout<'a>, Fault> {
        let (n, o) = (a.inputs, a.outputs);
        if a.weights.format != WeightFormat::Bipolar {
            return Err(Fault);
        }
        if !columns(n, o) {
            return Ok(Layout::Rows);
        }
        let (cols, rest) = a
            .weights
            .bytes
            .split_at_checked(4 * o.div_ceil(32) * (n + 1))
            .ok_or(Fault)?;
        let (row_counts, stage) = rest.split_at_checked(8 * o.div_ceil(4)).ok_or(Fault)?;
        let stage = match stage {
            [] => None,
            bytes => Some(Stage::read(bytes, a)?),
        };
        Ok(Layout::Columns {
            cols,
            row_counts,
            stage,
        })
    }
}

impl<'a> Stage<'a> {
    /// The stage of the layer `a` stored in `bytes`.
    fn read(bytes: &'a [u8], a: &DenseArgs<'_>) -> Result<Stage<'a>, Fault> {
        let o = 4 * a.outputs;
        let (shift, rows) = bytes.split_first_chunk::<4>().ok_or(Fault)?;
        let shift = u32::from_le_bytes(*shift);
        if bytes.len() != stage_len(a.outputs) || shift >= 32 {
            return Err(Fault);
        }
        let (multipliers, rest) = rows.split_at_checked(o).ok_or(Fault)?;
        let (set, rest) = rest.split_at_checked(o).ok_or(Fault)?;
        let (clear, floats) = rest.split_at_checked(o).ok_or(Fault)?;
        let floats = floats.as_chunks::<4>().0;
        Ok(Stage {
            shift,
            signed: match a.out.clamp() {
                Clamp::I8 => true,
                Clamp::U8 => false,
                Clamp::Range(..) => return Err(Fault),
            },
            multipliers,
            offsets: [set, clear],
            floats,
            any_float: floats.iter().any(|w| *w != [0; 4]),
        })
    }
}

/// Runs a [`Kernel::Binary`](crate::Kernel::Binary) Dense over an input of
/// the given levels, its weights laid out as `layout` says, on the fastest
/// path of this target.
#[inline(never)]
pub(crate) fn dense(
    a: &DenseArgs<'_>,
    (levels, layout): (Levels, &Layout<'_>),
    x: &[u8],
    y: &mut [u8],
    scratch: &mut [u8],
) -> Result<(), Fault> {
    dense_with(a, (levels, layout), x, y, scratch, lowbit_arch::DSP)
}

/// [`dense`] with rows of whole words counted by
/// `lowbit_arch::popcount_rows` (`dsp`) or portably.
pub(crate) fn dense_with(
    a: &DenseArgs<'_>,
    (levels, layout): (Levels, &Layout<'_>),
    x: &[u8],
    y: &mut [u8],
    scratch: &mut [u8],
    dsp: bool,
) -> Result<(), Fault> {
    let n = a.inputs;
    if x.len() != n || y.len() != a.outputs {
        return Err(Fault);
    }
    if let Layout::Columns {
        cols,
        row_counts,
        stage,
    } = *layout
    {
        return dense_columns(a, levels, (cols, row_counts, stage), x, y, scratch);
    }
    let bits = lowbit_arch::words_mut(scratch).get_mut(..n.div_ceil(32)).ok_or(Fault)?;
    if !lowbit_arch::pack_bits(x, levels.shift(), bits) {
        return Err(Fault);
    }
    let bits: &[u32] = bits;
    // Only the 1-bit levels need the input's own count.
    let set = match levels {
        Levels::Bipolar => 0,
        Levels::ZeroOne | Levels::MinusOneZero => bits.iter().map(|w| w.count_ones()).sum::<u32>() as i32,
    };
    let op = match levels {
        Levels::Bipolar => BitOp::Xor,
        Levels::ZeroOne | Levels::MinusOneZero => BitOp::And,
    };
    let row_bytes = 4 * bits.len();
    // `Σ w·x = base + slope · count` (see the module docs).
    let (base, slope): (i32, i32) = match levels {
        Levels::Bipolar => (n as i32, -2),
        Levels::ZeroOne => (set, -2),
        Levels::MinusOneZero => (set.wrapping_neg(), 2),
    };
    // Cleared once: every group writes the entries it reads.
    let (mut counts, mut sums) = ([0u32; ROWS], [0i32; ROWS]);
    for (group, out) in y.chunks_mut(ROWS).enumerate() {
        let first = group * ROWS;
        let counts = counts.get_mut(..out.len()).ok_or(Fault)?;
        if !n.is_multiple_of(32) {
            for (o, c) in (first..).zip(counts.iter_mut()) {
                *c = count_bits(a.weights.bytes, o * n, n, bits, op)?;
            }
        } else if dsp {
            let rows = a.weights.bytes.get(first * row_bytes..).ok_or(Fault)?;
            if !lowbit_arch::popcount_rows(rows, bits, op, counts) {
                return Err(Fault);
            }
        } else {
            for (o, c) in (first..).zip(counts.iter_mut()) {
                let row = a.weights.bytes.get(o * row_bytes..(o + 1) * row_bytes).ok_or(Fault)?;
                *c = count_words(row.as_chunks::<4>().0, bits, op);
            }
        }
        let sums = sums.get_mut(..out.len()).ok_or(Fault)?;
        for (s, &c) in sums.iter_mut().zip(counts.iter()) {
            *s = base.wrapping_add(slope.wrapping_mul(c as i32));
        }
        a.out.store_outputs(out, sums, a.bias, first)?;
    }
    Ok(())
}

/// [`dense_with`] for weights stored by columns (see the module docs).
fn dense_columns(
    a: &DenseArgs<'_>,
    levels: Levels,
    (cols, row_counts, stage): (&[u8], &[u8], Option<Stage<'_>>),
    x: &[u8],
    y: &mut [u8],
    scratch: &mut [u8],
) -> Result<(), Fault> {
    let n = a.inputs;
    let groups = a.outputs.div_ceil(32);
    let (bits, rest) = lowbit_arch::words_mut(scratch)
        .split_at_mut_checked(n.div_ceil(32))
        .ok_or(Fault)?;
    let (sums, list) = rest.split_at_mut_checked(32).ok_or(Fault)?;
    let sums = lowbit_arch::ints_mut(sums);
    if !lowbit_arch::pack_bits(x, levels.shift(), bits) {
        return Err(Fault);
    }
    let sel = lowbit_arch::select(bits, n, groups, list).ok_or(Fault)?;
    let set = sel.set() as i32;
    // `Σ w·x = base + with_b · B_o + with_x · X_o`, `X_o` the count of the
    // listed columns (`A_o`, or `C_o` when inverted; see the module docs).
    let (base, with_b, with_x) = terms(levels, sel.inverted(), n as i32, set);
    if let Some(stage) = stage {
        let fixed = lowbit_arch::Fixed {
            multipliers: stage.multipliers,
            offsets: stage.offsets[usize::from(sel.inverted())],
            terms: (base, i32::from(with_x)),
            shift: stage.shift,
            signed: stage.signed,
        };
        // Rows on the float stage are rare: a mask word per group says
        // which, and without any the counts are not looked at again.
        let done = if stage.any_float {
            let terms = (base, i32::from(with_b), i32::from(with_x));
            let then = |g: usize, counts: &[u32; 8], out: &mut [u8]| match stage.floats.get(g) {
                Some(mask) => {
                    float_rows(a, u32::from_le_bytes(*mask), out, (counts, row_counts), 32 * g, terms).is_ok()
                }
                None => false,
            };
            lowbit_arch::fixed_dense(cols, &sel, &fixed, y, then)
        } else {
            lowbit_arch::fixed_dense(cols, &sel, &fixed, y, |_, _, _| true)
        };
        return if done { Ok(()) } else { Err(Fault) };
    }
    for ((g, out), counts) in y.chunks_mut(32).enumerate().zip(row_counts.chunks(64)) {
        let mut parts = sel.parts();
        let first = match parts.next() {
            Some(part) => column_bytes(cols, &part, g)?,
            None => [0; 8],
        };
        let sums = sums.get_mut(..out.len()).ok_or(Fault)?;
        if !lowbit_arch::column_sums(&first, counts, base, (with_b, with_x), sums) {
            return Err(Fault);
        }
        // Inputs past 480 (more than one part of columns).
        for part in parts {
            let bytes = column_bytes(cols, &part, g)?;
            for (o, s) in sums.iter_mut().enumerate() {
                *s += i32::from(with_x) * (bytes[o / 4] >> (8 * (o % 4)) & 0xff) as i32;
            }
        }
        a.out.store_outputs(out, sums, a.bias, 32 * g)?;
    }
    Ok(())
}

/// Requantizes again, from their sums, the outputs among
/// `first..first + out.len()` (at most 32) of the layer `a` set in `mask`:
/// those that keep the float stage, given their counts (bytes in output
/// order, as `lowbit_arch::sum_columns` returns them; `row_counts` holds
/// each row's `B_o`).
#[inline(never)]
#[cold]
fn float_rows(
    a: &DenseArgs<'_>,
    mut mask: u32,
    out: &mut [u8],
    (counts, row_counts): (&[u32; 8], &[u8]),
    first: usize,
    (base, with_b, with_x): (i32, i32, i32),
) -> Result<(), Fault> {
    while mask != 0 {
        let c = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        let o = first + c;
        let x = (counts.get(c / 4).ok_or(Fault)? >> (8 * (c % 4)) & 0xff) as i32;
        let at = 2 * count_slot(o);
        let b = row_counts.get(at..at + 2).ok_or(Fault)?;
        let sum = base + with_b * i32::from(i16::from_le_bytes([b[0], b[1]])) + with_x * x;
        let bias = a.bias.get(4 * o..4 * o + 4).ok_or(Fault)?;
        let channel = a.out.channel(
            a.out.multiplier(o)?,
            i32::from_le_bytes([bias[0], bias[1], bias[2], bias[3]]),
        );
        *out.get_mut(c).ok_or(Fault)? = channel.store(sum);
    }
    Ok(())
}

/// The counts of lanes of word `group` of the columns `part` lists, as
/// bytes in output order (byte `c` of word `q`: lane `8c + q`, output
/// `4q + c`).
#[inline(always)]
fn column_bytes(cols: &[u8], part: &lowbit_arch::Selection<'_>, group: usize) -> Result<[u32; 8], Fault> {
    let mut counts = [0u32; 8];
    if !lowbit_arch::sum_columns(cols, part, group, &mut counts) {
        return Err(Fault);
    }
    Ok(counts)
}

/// The count of a row of `n` bits starting at bit `start` of the stream
/// (any bit position), word by word.
fn count_bits(bytes: &[u8], start: usize, n: usize, bits: &[u32], op: BitOp) -> Result<u32, Fault> {
    let mut count = 0;
    for (j, &s) in bits.iter().enumerate() {
        let b = row_word(bytes, start + 32 * j, (n - 32 * j).min(32))?;
        count += match op {
            BitOp::Xor => (b ^ s).count_ones(),
            BitOp::And => (b & s).count_ones(),
        };
    }
    Ok(count)
}

/// `Σ_j popcount(op(row_j, bits_j))` over whole words: three words at a
/// time through a carry-save adder (`ones`, `twos`), whose 4-bit field
/// counts `ones + 2·twos` (at most 12) become byte counts (at most 24)
/// added into a byte accumulator, summed every two triples (at most 192).
#[inline(always)]
fn count_words(row: &[[u8; 4]], bits: &[u32], op: BitOp) -> u32 {
    let word = |b: &[u8; 4], s: &u32| {
        let b = u32::from_le_bytes(*b);
        match op {
            BitOp::Xor => b ^ s,
            BitOp::And => b & s,
        }
    };
    let ((row3, row1), (bits3, bits1)) = (row.as_chunks::<3>(), bits.as_chunks::<3>());
    let mut total = 0;
    for (rows, bits) in row3.chunks(2).zip(bits3.chunks(2)) {
        let mut bytes = 0u32;
        for ([r0, r1, r2], [s0, s1, s2]) in rows.iter().zip(bits) {
            let (a, b, c) = (word(r0, s0), word(r1, s1), word(r2, s2));
            let u = a ^ b;
            let (ones, twos) = (u ^ c, (a & b) | (u & c));
            bytes += byte_counts(nibble_counts(ones) + (nibble_counts(twos) << 1));
        }
        total += horizontal(bytes);
    }
    let rest = row1
        .iter()
        .zip(bits1)
        .fold(0, |n, (r, s)| n + nibble_counts(word(r, s)));
    total + horizontal(byte_counts(rest))
}

/// The popcount of each 4-bit field of `x`.
#[inline(always)]
fn nibble_counts(x: u32) -> u32 {
    let x = x - ((x >> 1) & 0x5555_5555);
    (x & 0x3333_3333) + ((x >> 2) & 0x3333_3333)
}

/// Each byte's two 4-bit fields added.
#[inline(always)]
fn byte_counts(x: u32) -> u32 {
    (x & 0x0f0f_0f0f) + ((x >> 4) & 0x0f0f_0f0f)
}

/// The sum of the four bytes of `x` (at most 255 in total).
#[inline(always)]
fn horizontal(x: u32) -> u32 {
    x.wrapping_mul(0x0101_0101) >> 24
}

/// `len` (1 to 32) bits of the stream `bytes` from bit `start`, low bits
/// first, the rest zero.
#[inline]
fn row_word(bytes: &[u8], start: usize, len: usize) -> Result<u32, Fault> {
    let (byte, shift) = (start / 8, start % 8);
    let needed = (shift + len).div_ceil(8);
    let src = bytes.get(byte..byte + needed).ok_or(Fault)?;
    let mut window = [0u8; 8];
    window[..needed].copy_from_slice(src);
    let word = (u64::from_le_bytes(window) >> shift) as u32;
    Ok(if len == 32 { word } else { word & ((1 << len) - 1) })
}

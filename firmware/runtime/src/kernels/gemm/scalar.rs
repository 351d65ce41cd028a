//! The scalar path: one multiply-accumulate per weight and patch value,
//! for targets without the DSP extension and for weight formats without a
//! lane path. Patches are chunks of eight values in natural order.
//!
//! Rows that start on a byte are decoded eight weights at a time from whole
//! bytes (8-, 4- and 2-bit two's complement and bipolar weights); the rest
//! goes through the bit-stream reader. On Armv7E-M, where only the formats
//! without lanes come here, bipolar rows are decoded by bytes and the rarer
//! formats take the bit-stream route, which keeps the code small.

use super::super::Fault;
use super::{PIXELS, Rows};
use crate::WeightFormat;
use crate::format::WeightStream;

/// Values per chunk.
pub(super) const CHUNK: usize = 8;

/// `Σ w·x` of output channel `oc` with each of the [`PIXELS`] patches of a
/// block (chunk `j` of pixel `q` at words `(j·PIXELS + q)·4`).
pub(super) fn pixels(rows: Rows<'_>, oc: usize, block: &[u32]) -> Result<[i32; PIXELS], Fault> {
    let chunk = |j: usize, q: usize| words(block, (j * PIXELS + q) * 4);
    by_format::<1, PIXELS>(rows, [oc], chunk).map(|[sums]| sums)
}

/// `Σ w·x` of the four output channels `out` with one patch.
pub(super) fn channels(rows: Rows<'_>, out: [usize; 4], patch: &[u32]) -> Result<[i32; 4], Fault> {
    let chunk = |j: usize, _: usize| words(patch, j * 4);
    by_format::<4, 1>(rows, out, chunk).map(|sums| sums.map(|[s]| s))
}

/// The four words of a chunk starting at word `start` (zeros past the end).
#[inline]
fn words(patch: &[u32], start: usize) -> [u32; 4] {
    patch
        .get(start..start + 4)
        .and_then(|c| c.try_into().ok())
        .unwrap_or([0; 4])
}

/// The eight values of a chunk.
#[inline]
fn values(words: [u32; 4]) -> [i32; CHUNK] {
    core::array::from_fn(|i| i32::from((words[i / 2] >> (16 * (i % 2))) as u16 as i16))
}

/// The products of rows `out` with `Q` patches (`chunk(j, q)`: chunk `j`
/// of patch `q`), with the decoder of the rows' format.
fn by_format<const R: usize, const Q: usize>(
    rows: Rows<'_>,
    out: [usize; R],
    chunk: impl Fn(usize, usize) -> [u32; 4],
) -> Result<[[i32; Q]; R], Fault> {
    let none = [[0; Q]; R];
    if lowbit_arch::DSP && rows.format != WeightFormat::Bipolar {
        return stream(rows, out, &chunk, 0, none);
    }
    match rows.format {
        WeightFormat::Signed(8) if cfg!(feature = "weights-8") => {
            groups::<R, Q, 8>(rows, out, &chunk, |b| b.map(|v| i32::from(v as i8)))
        }
        WeightFormat::Signed(4) if cfg!(feature = "weights-4") => groups::<R, Q, 4>(rows, out, &chunk, |b| {
            let mut w = [0; CHUNK];
            for (pair, &v) in w.as_chunks_mut::<2>().0.iter_mut().zip(b) {
                *pair = [i32::from(((v << 4) as i8) >> 4), i32::from((v as i8) >> 4)];
            }
            w
        }),
        WeightFormat::Signed(2) if cfg!(feature = "weights-2") => groups::<R, Q, 2>(rows, out, &chunk, |b| {
            let mut w = [0; CHUNK];
            for (quad, &v) in w.as_chunks_mut::<4>().0.iter_mut().zip(b) {
                *quad = [0, 1, 2, 3].map(|f| i32::from(((v << (6 - 2 * f)) as i8) >> 6));
            }
            w
        }),
        WeightFormat::Bipolar if cfg!(feature = "weights-other") => groups::<R, Q, 1>(rows, out, &chunk, |[v]| {
            core::array::from_fn(|i| 1 - 2 * i32::from((v >> i) & 1))
        }),
        _ => stream(rows, out, &chunk, 0, none),
    }
}

/// Whole chunks of weights (`B` bytes each) through `decode` where rows
/// start on a byte, the rest through [`stream`].
#[inline(always)]
fn groups<const R: usize, const Q: usize, const B: usize>(
    rows: Rows<'_>,
    out: [usize; R],
    chunk: &impl Fn(usize, usize) -> [u32; 4],
    decode: impl Fn(&[u8; B]) -> [i32; CHUNK],
) -> Result<[[i32; Q]; R], Fault> {
    let row_bits = rows.taps * B;
    let count = if row_bits.is_multiple_of(8) {
        rows.taps / CHUNK
    } else {
        0
    };
    let mut w = [&[][..]; R];
    for (w, &o) in w.iter_mut().zip(&out) {
        let start = o.checked_mul(row_bits / 8).ok_or(Fault)?;
        *w = rows
            .bytes
            .get(start..)
            .and_then(|r| r.get(..B * count))
            .ok_or(Fault)?
            .as_chunks::<B>()
            .0;
    }
    let mut acc = [[0i32; Q]; R];
    for j in 0..count {
        let xs: [[i32; CHUNK]; Q] = core::array::from_fn(|q| values(chunk(j, q)));
        for (acc, w) in acc.iter_mut().zip(&w) {
            let ws = decode(w.get(j).ok_or(Fault)?);
            for (a, xs) in acc.iter_mut().zip(&xs) {
                for (&wi, &xi) in ws.iter().zip(xs) {
                    *a = a.wrapping_add(wi.wrapping_mul(xi));
                }
            }
        }
    }
    stream(rows, out, chunk, count * CHUNK, acc)
}

/// Adds the products of weights `done..taps` of each row, read one by one
/// from the bit stream, to `acc` (a fault if there are any and the build
/// left this path out: cargo feature `weights-other`).
fn stream<const R: usize, const Q: usize>(
    rows: Rows<'_>,
    out: [usize; R],
    chunk: &impl Fn(usize, usize) -> [u32; 4],
    done: usize,
    mut acc: [[i32; Q]; R],
) -> Result<[[i32; Q]; R], Fault> {
    if !cfg!(feature = "weights-other") && done < rows.taps {
        return Err(Fault);
    }
    for (acc, &o) in acc.iter_mut().zip(&out) {
        let mut weights = WeightStream::at(
            rows.bytes,
            rows.format,
            o.saturating_mul(rows.taps).saturating_add(done),
        );
        for k in done..rows.taps {
            let w = weights.next_weight();
            for (q, a) in acc.iter_mut().enumerate() {
                let x = values(chunk(k / CHUNK, q))[k % CHUNK];
                *a = a.wrapping_add(w.wrapping_mul(x));
            }
        }
    }
    Ok(acc)
}

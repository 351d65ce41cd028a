//! The requantizing output stage, `clamp(rne(f32(f32(acc) · m)) + zp)`,
//! exactly as [`arith::requantize`](crate::arith::requantize) computes it,
//! in two equivalent ways:
//!
//! - **float** (targets with a float unit and the host): the float32
//!   product, then one float addition that rounds it to an integer (see
//!   [`Channel::store`]);
//! - **integer** (Cortex-M0/M3 and RV32IMAC, whose float operations are
//!   library calls): the same two IEEE roundings carried out on the
//!   integer significands — `f32(acc)` rounds `|acc|` to 24 significant
//!   bits, the product of the two significands is rounded to 24 significant
//!   bits, and that value is rounded to an integer, each nearest-even.
//!
//! `lowbit_arch::SOFT_FLOAT` picks the way; the tests run both on the host
//! against `arith::requantize`.

use super::Fault;
use crate::format::f32_at;

/// The requantizing output stage: `clamp(rne(f32(acc) * m) + zero_point)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output<'a> {
    /// Little-endian `f32` multipliers: one, or one per channel (or per
    /// window size for average pooling).
    pub(crate) multipliers: &'a [u8],
    /// The output zero point.
    pub(crate) zero_point: i32,
    /// Smallest output value.
    pub(crate) lo: i32,
    /// Largest output value.
    pub(crate) hi: i32,
}

impl Output<'_> {
    /// Multiplier `index`, or the single multiplier if there is only one.
    #[inline]
    pub(crate) fn multiplier(&self, index: usize) -> Result<f32, Fault> {
        let index = if self.multipliers.len() == 4 { 0 } else { index };
        f32_at(self.multipliers, index).ok_or(Fault)
    }

    /// Requantizes an accumulator to the stored output byte: exactly
    /// [`arith::requantize`](crate::arith::requantize)`(acc, multiplier,
    /// zero_point, lo, hi)` for every finite multiplier (validation
    /// guarantees finite multipliers); see [`Channel::store`].
    #[inline]
    pub(crate) fn store(&self, acc: i32, multiplier: f32) -> u8 {
        self.channel(multiplier, 0).store(acc)
    }

    /// The output stage of one channel with multiplier `multiplier` and the
    /// bias `bias` (added to every sum).
    #[inline]
    pub(crate) fn channel(&self, multiplier: f32, bias: i32) -> Channel {
        Channel {
            multiplier,
            split: Split::of(multiplier),
            zero_point: self.zero_point,
            offset: self.zero_point.wrapping_sub(MAGIC_BITS),
            bias,
            clamp: self.clamp(),
        }
    }

    /// Requantizes the sums of the channels `first..first + out.len()` into
    /// `out`, each with its own bias (from `bias`, one little-endian `i32`
    /// per channel) and multiplier.
    #[inline(never)]
    pub(crate) fn store_outputs(&self, out: &mut [u8], sums: &[i32], bias: &[u8], first: usize) -> Result<(), Fault> {
        let range = first..first + out.len();
        let bias = bias.as_chunks::<4>().0.get(range.clone()).ok_or(Fault)?;
        let each = match self.multipliers.as_chunks::<4>().0 {
            [_] => None,
            all => Some(all.get(range).ok_or(Fault)?),
        };
        // The clamp chosen once, outside the loops.
        match self.clamp() {
            Clamp::I8 => self.store_each(out, sums, bias, each, |v| lowbit_arch::ssat8(v) as u8),
            Clamp::U8 => self.store_each(out, sums, bias, each, |v| lowbit_arch::usat8(v) as u8),
            // A range up to the type's top (ReLU): its floor, then the
            // saturation does the top (`lo` within the type, so the same
            // values as the general case).
            Clamp::Range(lo, 255) if (0..=255).contains(&lo) => {
                self.store_each(out, sums, bias, each, |v| lowbit_arch::usat8(v.max(lo)) as u8)
            }
            Clamp::Range(lo, 127) if (-128..=127).contains(&lo) => {
                self.store_each(out, sums, bias, each, |v| lowbit_arch::ssat8(v.max(lo)) as u8)
            }
            Clamp::Range(lo, hi) => self.store_each(out, sums, bias, each, |v| v.max(lo).min(hi) as u8),
        }
        Ok(())
    }

    /// The loops of [`Output::store_outputs`] with the clamp `clamp`: one
    /// multiplier per channel (`each`) or the single one.
    #[inline(always)]
    fn store_each(
        &self,
        out: &mut [u8],
        sums: &[i32],
        bias: &[[u8; 4]],
        each: Option<&[[u8; 4]]>,
        clamp: impl Fn(i32) -> u8,
    ) {
        let channel = |b: &[u8; 4], m: &[u8; 4]| self.channel(f32::from_le_bytes(*m), i32::from_le_bytes(*b));
        let outputs = out.iter_mut().zip(sums).zip(bias);
        match (each, self.multipliers.as_chunks::<4>().0) {
            (Some(each), _) => outputs
                .zip(each)
                .for_each(|(((o, s), b), m)| *o = clamp(channel(b, m).rounded(*s))),
            (None, [m, ..]) => outputs.for_each(|((o, s), b)| *o = clamp(channel(b, m).rounded(*s))),
            (None, []) => {}
        }
    }

    /// How outputs are clamped.
    #[inline]
    pub(crate) fn clamp(&self) -> Clamp {
        Clamp::of(self.lo, self.hi)
    }
}

/// `1.5 · 2^23` and its bits (see [`Channel::store`]).
const MAGIC: f32 = 12_582_912.0;
const MAGIC_BITS: i32 = 0x4b40_0000;

/// Beyond this magnitude a rounded product lies outside every clamp range
/// whatever the zero point, so the integer way stops counting there.
const FAR: u32 = 1 << 22;

/// How outputs are clamped.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Clamp {
    /// To the full `i8` range (one `SSAT`).
    I8,
    /// To the full `u8` range (one `USAT`).
    U8,
    /// To `[lo, hi]`.
    Range(i32, i32),
}

impl Clamp {
    /// The clamp to `[lo, hi]`: a byte type's whole range is one
    /// saturation.
    #[inline]
    pub(crate) fn of(lo: i32, hi: i32) -> Clamp {
        match (lo, hi) {
            (-128, 127) => Clamp::I8,
            (0, 255) => Clamp::U8,
            (lo, hi) => Clamp::Range(lo, hi),
        }
    }
}

/// A finite multiplier as `±mantissa · 2^exponent` with a 24-bit integer
/// mantissa (`2^23` to `2^24 - 1`), or a zero mantissa for `±0` and the
/// subnormals (so small that every product rounds to 0).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Split {
    mantissa: u32,
    exponent: i32,
    negative: bool,
}

impl Split {
    /// The split of `m` (infinities and NaN, which validation rejects, are
    /// split like finite numbers of the same bits and give some clamped
    /// value, never a panic).
    #[inline]
    fn of(m: f32) -> Split {
        let bits = m.to_bits();
        let biased = ((bits >> 23) & 0xff) as i32;
        let mantissa = if biased == 0 { 0 } else { bits & 0x7f_ffff | 0x80_0000 };
        Split {
            mantissa,
            exponent: biased - 150,
            negative: bits >> 31 != 0,
        }
    }
}

/// `x / 2^shift` rounded to nearest, ties to even (`shift` in `1..32`):
/// the quotient plus one exactly when the remainder plus `2^(shift-1) - 1`
/// plus the quotient's low bit reaches `2^shift`.
#[inline(always)]
fn rne(x: u32, shift: u32) -> u32 {
    let q = x >> shift;
    let rest = x & ((1 << shift) - 1);
    q + ((rest + (1 << (shift - 1)) - 1 + (q & 1)) >> shift)
}

/// The requantization of one output channel: multiplier, zero point
/// (folded into the rounding offset), bias and clamp.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Channel {
    /// The multiplier.
    pub(crate) multiplier: f32,
    /// The multiplier for the integer way.
    split: Split,
    /// The zero point.
    zero_point: i32,
    /// `zero_point - 0x4b40_0000`.
    offset: i32,
    /// The bias added to every sum.
    pub(crate) bias: i32,
    clamp: Clamp,
}

impl Channel {
    /// The stored byte of sum `sum` (the bias is added first): exactly
    /// `arith::requantize(sum + bias, m, zp, lo, hi)` for a finite `m`.
    #[inline(always)]
    pub(crate) fn store(&self, sum: i32) -> u8 {
        self.clamped(self.rounded(sum))
    }

    /// `q` clamped to the output range, as the stored byte.
    #[inline(always)]
    fn clamped(&self, q: i32) -> u8 {
        (match self.clamp {
            Clamp::I8 => lowbit_arch::ssat8(q),
            Clamp::U8 => lowbit_arch::usat8(q),
            Clamp::Range(lo, hi) => q.max(lo).min(hi),
        }) as u8
    }

    /// `rne(f32(sum + bias) · m) + zp`, or a value beyond the clamp on the
    /// same side, the way this target computes it best.
    #[inline(always)]
    fn rounded(&self, sum: i32) -> i32 {
        if lowbit_arch::SOFT_FLOAT {
            self.rounded_integer(sum)
        } else {
            self.rounded_float(sum)
        }
    }

    /// The float way. `t = f32(acc) · m` is computed as `arith` does.
    /// Adding `1.5 · 2^23` puts any `|t| < 2^22` into the binade
    /// `[2^23, 2^24)`, whose spacing is 1, so the float addition itself
    /// rounds `t` to an integer, ties to even (the offset is even, so parity
    /// is kept), and the sum's bits minus those of `1.5 · 2^23`, plus the
    /// zero point, are `rne(t) + zp`. For larger `|t|` the bits still move
    /// with `t`: they exceed the offset's by at least `2^22` above it, fall
    /// at least `2^22` below it under it, and a negative sum saturates the
    /// addition at `i32::MIN`; `rne(t) + zp` is then beyond `±2^22 ∓ 255` as
    /// well. Either way the clamp to `[lo, hi]` (inside `[-128, 255]`) gives
    /// `arith`'s result.
    #[inline(always)]
    pub(crate) fn rounded_float(&self, sum: i32) -> i32 {
        let t = sum.wrapping_add(self.bias) as f32 * self.multiplier;
        ((t + MAGIC).to_bits() as i32).saturating_add(self.offset)
    }

    /// The integer way: with `A = |acc|` and `m = ±M · 2^e` (`M` of 24
    /// bits),
    ///
    /// 1. `f32(acc)`: `A` shifted to the top of a word, its top 24 bits `a`
    ///    rounded nearest-even on the 8 below (`a` ≤ `2^24`);
    /// 2. the float product: `a · M` (exact, 47 or 48 bits) rounded to 24
    ///    significant bits, `T` (at most `2^24`);
    /// 3. `rne(T · 2^f)` for the resulting exponent `f`, a right shift by
    ///    at most 31 (`T · 2^f` is below a quarter beyond 26), or at least
    ///    [`FAR`] when `f` ≥ 0 (beyond it the clamp only needs the sign).
    ///
    /// A zero or subnormal multiplier gives products far below one half
    /// (0), as does any product below the normal float range, which the
    /// float product would round more coarsely; products above it
    /// (infinity) are beyond `FAR` either way.
    #[inline(always)]
    pub(crate) fn rounded_integer(&self, sum: i32) -> i32 {
        let acc = sum.wrapping_add(self.bias);
        let Split {
            mantissa,
            exponent,
            negative,
        } = self.split;
        if acc == 0 || mantissa == 0 {
            return self.zero_point;
        }
        let magnitude = acc.unsigned_abs();
        let lz = magnitude.leading_zeros();
        let a = rne(magnitude << lz, 8);
        // `a · M` lies in [2^46, 2^48): its top 24 bits start at bit 24 or
        // 23 (both roundings are computed, one is kept).
        let p = u64::from(a) * u64::from(mantissa);
        let at = |s: u32| {
            let (q, rest) = ((p >> s) as u32, p as u32 & ((1 << s) - 1));
            q + ((rest + (1 << (s - 1)) - 1 + (q & 1)) >> s)
        };
        let (t24, t23) = (at(24), at(23));
        let wide = (p >> 47) as u32;
        let t = if wide != 0 { t24 } else { t23 };
        let f = exponent + 31 - lz as i32 + wide as i32;
        let r = if f >= 0 {
            FAR as i32
        } else {
            rne(t, f.unsigned_abs().min(31)) as i32
        };
        let sign = -i32::from((acc < 0) != negative);
        ((r ^ sign) - sign) + self.zero_point
    }

    /// [`Channel::store`] of four sums (the clamp chosen once). With a
    /// float unit, written out lane by lane: at `opt-level = "s"` the
    /// `map`s of a `[_; 4]` stay loops, which cost the size profile 9 % of
    /// the example CNN on a Cortex-M4. The integer rounding is long, so
    /// without one a single copy of it runs in a loop.
    #[inline(always)]
    pub(crate) fn store4(&self, sums: [i32; 4]) -> [u8; 4] {
        use lowbit_arch::{ssat8, usat8};
        if lowbit_arch::SOFT_FLOAT {
            let q = sums.map(|s| self.rounded(s));
            return match self.clamp {
                Clamp::I8 => q.map(|v| ssat8(v) as u8),
                Clamp::U8 => q.map(|v| usat8(v) as u8),
                Clamp::Range(lo, hi) => q.map(|v| v.max(lo).min(hi) as u8),
            };
        }
        let [a, b, c, d] = sums;
        let [a, b, c, d] = [self.rounded(a), self.rounded(b), self.rounded(c), self.rounded(d)];
        let [a, b, c, d] = match self.clamp {
            Clamp::I8 => [ssat8(a), ssat8(b), ssat8(c), ssat8(d)],
            Clamp::U8 => [usat8(a), usat8(b), usat8(c), usat8(d)],
            Clamp::Range(lo, hi) => [
                a.max(lo).min(hi),
                b.max(lo).min(hi),
                c.max(lo).min(hi),
                d.max(lo).min(hi),
            ],
        };
        [a as u8, b as u8, c as u8, d as u8]
    }

    /// [`Channel::store`] of every sum into `out` (the clamp chosen once).
    #[inline(never)]
    pub(crate) fn store_all(&self, sums: &[i32], out: &mut [u8]) {
        let pairs = out.iter_mut().zip(sums);
        match self.clamp {
            Clamp::I8 => pairs.for_each(|(o, &s)| *o = lowbit_arch::ssat8(self.rounded(s)) as u8),
            Clamp::U8 => pairs.for_each(|(o, &s)| *o = lowbit_arch::usat8(self.rounded(s)) as u8),
            Clamp::Range(lo, hi) => pairs.for_each(|(o, &s)| *o = self.rounded(s).max(lo).min(hi) as u8),
        }
    }

    /// The stored byte of `sum` the float way (`integer` false) or the
    /// integer way, for the tests that compare both with `arith`.
    #[cfg(test)]
    pub(crate) fn store_by(&self, sum: i32, integer: bool) -> u8 {
        self.clamped(if integer {
            self.rounded_integer(sum)
        } else {
            self.rounded_float(sum)
        })
    }
}

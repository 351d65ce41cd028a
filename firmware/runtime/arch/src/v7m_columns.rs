//! The `asm!` bodies of [`crate::columns`] (Armv7-M: Cortex-M3, M4, M7;
//! [`column_sums`] needs the DSP extension of Armv7E-M).
//!
//! [`list_columns`] reads the `bits.len() > 0` words of `bits` and writes
//! one `u32` to `list` per set bit among them, which the safe wrapper
//! counted: `list` has exactly that many entries. [`sum_columns`] reads the
//! `offsets.len()` (a positive multiple of 4, at most
//! [`crate::columns::PART`]) entries of `offsets` and, for each, the word at
//! byte `offset` from `base = cols + 4 · (group - stride)`: the wrapper
//! checked that every offset is `4 · stride · (i + 1)` with `i` at most the
//! last column of `cols`, so `base + offset` is the word at byte
//! `4 · (stride · i + group)` of `cols`, inside it (any address: Armv7-M
//! `LDR` reads unaligned words, and lowbit never sets the `UNALIGN_TRP`
//! trap; the offsets are a `u32` slice, so the `LDM`s that read them are
//! aligned). It keeps four bit planes of the counts in four words it
//! pushes on the stack first and pops at the end; it writes nothing else
//! but registers. It needs fourteen registers: twelve named ones, the
//! allocator's one for `base`, and `r7` (the frame pointer, which the
//! allocator may not hand out), saved on the stack first and restored at
//! the end. [`column_sums`] reads the eight words of `counts`, the 64
//! bytes of `terms` (checked by the wrapper; `LDR` takes them from any
//! address) and writes the 32 `i32` of `sums`. [`fixed_outputs`] reads the
//! eight words of `counts` and 32 words each of `multipliers` and
//! `offsets`, which it checks are word-aligned (`LDRD` needs that), and
//! writes the 32 bytes of `out`; it counts its turns in `r7`, saved and
//! restored like [`sum_columns`] does. None of the loops preserves the
//! flags.
#![allow(unsafe_code)]

use crate::columns::Fixed;
use core::arch::asm;

/// For every set bit `i` of `bits`, lowest first, `column · (i + 1)` into
/// `list` (exactly one entry per set bit): `RBIT` puts input `32k` of word
/// `k` at bit 31, `CLZ` counts the clear bits before the next set one, and
/// shifting them and it out moves the offset past it. Two bits a turn, the
/// offsets in `r2` and `r3` stored by one `STM` (a lone last bit of a word
/// by `STR`).
#[inline(never)]
pub(crate) fn list_columns(bits: &[u32], column: u32, list: &mut [u32]) {
    if bits.is_empty() || list.is_empty() {
        return;
    }
    // SAFETY: see the module docs; `bits` has `bits.len() > 0` words and
    // `list` one entry per set bit among them (the loop stores one entry per
    // set bit and no more).
    unsafe {
        asm!(
            "mov {next}, #0",
            "2:",
            "ldr {w}, [{pb}], #4",
            "mov r3, {next}",
            "add {next}, {next}, {column}, lsl #5",
            "rbit {w}, {w}",
            "cmp {w}, #0",
            "beq 4f",
            // A set bit: skip the clear ones and it (`r2`), then the next
            // one (`r3`) if the word has another.
            "3:",
            "clz {t}, {w}",
            "add {t}, {t}, #1",
            "lsls {w}, {w}, {t}",
            "mla r2, {t}, {column}, r3",
            "beq 5f",
            "clz {t}, {w}",
            "add {t}, {t}, #1",
            "lsls {w}, {w}, {t}",
            "mla r3, {t}, {column}, r2",
            "stm {pl}!, {{r2, r3}}",
            "bne 3b",
            "b 4f",
            "5:",
            "str r2, [{pl}], #4",
            "4:",
            "subs {n}, {n}, #1",
            "bne 2b",
            pb = inout(reg) bits.as_ptr() => _,
            n = inout(reg) bits.len() => _,
            pl = inout(reg) list.as_mut_ptr() => _,
            column = in(reg) column,
            next = out(reg) _,
            w = out(reg) _,
            t = out(reg) _,
            out("r2") _,
            out("r3") _,
        );
    }
}

/// `LDM` four offsets into `$a` to `$d` (ascending registers), then the
/// four column words they point at.
macro_rules! quad {
    ($a:literal, $b:literal, $c:literal, $d:literal) => {
        concat!(
            "ldm r12!, {{",
            $a,
            ", ",
            $b,
            ", ",
            $c,
            ", ",
            $d,
            "}}\n",
            "ldr ",
            $a,
            ", [{base}, ",
            $a,
            "]\n",
            "ldr ",
            $b,
            ", [{base}, ",
            $b,
            "]\n",
            "ldr ",
            $c,
            ", [{base}, ",
            $c,
            "]\n",
            "ldr ",
            $d,
            ", [{base}, ",
            $d,
            "]\n",
        )
    };
}

/// Carry-save adder: `$l + $x + $y` as the new `$l` plus twice the carries
/// left in `$x` (`r2` is the scratch register).
macro_rules! csa {
    ($x:literal, $l:literal, $y:literal) => {
        concat!(
            "eor r2, ",
            $l,
            ", ",
            $x,
            "\n",
            "and ",
            $x,
            ", ",
            $l,
            ", ",
            $x,
            "\n",
            "eor ",
            $l,
            ", r2, ",
            $y,
            "\n",
            "and r2, r2, ",
            $y,
            "\n",
            "orr ",
            $x,
            ", ",
            $x,
            ", r2\n",
        )
    };
}

/// Swaps the bits of `$a` under `$mask << $s` with those of `$b` under
/// `$mask` (`r2` is the scratch register).
macro_rules! swap {
    ($a:literal, $b:literal, $s:literal, $mask:literal) => {
        concat!(
            "eor r2, ",
            $b,
            ", ",
            $a,
            ", lsr #",
            $s,
            "\n",
            "and r2, r2, #",
            $mask,
            "\n",
            "eor ",
            $b,
            ", ",
            $b,
            ", r2\n",
            "eor ",
            $a,
            ", ",
            $a,
            ", r2, lsl #",
            $s,
            "\n",
        )
    };
}

/// The byte counts of the listed columns' lanes: sixteen columns a turn,
/// four quads, through carry-save adders into ones, twos, fours and eights
/// (`r8` to `r11`), the sixteens carried into four planes on the stack,
/// then the eight planes transposed into bytes as
/// [`crate::columns::planes_to_bytes`] does. A count of quads that is not
/// a multiple of four starts the first turn at its second, third or fourth
/// quad, as if the quads before it had added zero columns (their carries,
/// `r3` and `r4`, start at zero).
#[inline(never)]
pub(crate) fn sum_columns(cols: &[u8], offsets: &[u32], stride: usize, group: usize) -> [u32; 8] {
    if offsets.is_empty() || !offsets.len().is_multiple_of(4) {
        return [0; 8];
    }
    let base = cols.as_ptr().wrapping_add(4 * group).wrapping_sub(4 * stride);
    let end = offsets.as_ptr().wrapping_add(offsets.len());
    let first = offsets.len() / 4 % 4;
    let [mut c0, mut c1, mut c2, mut c3, mut c4, mut c5, mut c6, mut c7] = [0u32; 8];
    // SAFETY: see the module docs; `offsets` has a positive multiple of 4
    // entries (the loop reads `first` quads, then four a turn up to `end`),
    // each the offset from `base` of a word of `cols`; `r7` and the four
    // stack words pushed are popped before the end.
    unsafe {
        asm!(
            "push {{r7}}",
            "push {{r0, r1, r4, r5}}",
            "cmp r2, #2",
            "beq 13f",
            "bhi 12f",
            "cmp r2, #1",
            "beq 14f",
            "2:",
            quad!("r0", "r1", "r3", "r4"),
            csa!("r3", "r8", "r4"),
            csa!("r0", "r8", "r1"),
            csa!("r3", "r9", "r0"),
            "12:",
            quad!("r0", "r1", "r4", "r5"),
            csa!("r4", "r8", "r5"),
            csa!("r0", "r8", "r1"),
            csa!("r4", "r9", "r0"),
            csa!("r3", "r10", "r4"),
            "13:",
            quad!("r0", "r1", "r4", "r5"),
            csa!("r4", "r8", "r5"),
            csa!("r0", "r8", "r1"),
            csa!("r4", "r9", "r0"),
            "14:",
            quad!("r0", "r1", "r5", "r7"),
            csa!("r5", "r8", "r7"),
            csa!("r0", "r8", "r1"),
            csa!("r5", "r9", "r0"),
            csa!("r4", "r10", "r5"),
            csa!("r3", "r11", "r4"),
            // The sixteens (`r3`) rippled into planes 4 to 7.
            "ldm sp, {{r0, r1, r4, r5}}",
            "and r2, r0, r3",
            "eor r0, r0, r3",
            "and r3, r1, r2",
            "eor r1, r1, r2",
            "and r2, r4, r3",
            "eor r4, r4, r3",
            "eor r5, r5, r2",
            "stm sp, {{r0, r1, r4, r5}}",
            "cmp r12, lr",
            "bne 2b",
            "pop {{r0, r1, r4, r5}}",
            "pop {{r7}}",
            // The planes (`r8` to `r11`, `r0`, `r1`, `r4`, `r5`) as byte
            // counts: their off-diagonal blocks of 4, 2 and 1 swapped.
            swap!("r8", "r0", "4", "0x0f0f0f0f"),
            swap!("r9", "r1", "4", "0x0f0f0f0f"),
            swap!("r10", "r4", "4", "0x0f0f0f0f"),
            swap!("r11", "r5", "4", "0x0f0f0f0f"),
            swap!("r8", "r10", "2", "0x33333333"),
            swap!("r9", "r11", "2", "0x33333333"),
            swap!("r0", "r4", "2", "0x33333333"),
            swap!("r1", "r5", "2", "0x33333333"),
            swap!("r8", "r9", "1", "0x55555555"),
            swap!("r10", "r11", "1", "0x55555555"),
            swap!("r0", "r1", "1", "0x55555555"),
            swap!("r4", "r5", "1", "0x55555555"),
            base = in(reg) base,
            inout("r12") offsets.as_ptr() => _,
            inout("lr") end => _,
            inout("r0") c4,
            inout("r1") c5,
            inout("r2") first => _,
            inout("r3") 0u32 => _,
            inout("r4") c6,
            inout("r5") c7,
            inout("r8") c0,
            inout("r9") c1,
            inout("r10") c2,
            inout("r11") c3,
        );
    }
    [c0, c1, c2, c3, c4, c5, c6, c7]
}

/// One quad of outputs: their counts' word, their two words of terms (the
/// outputs 0 and 2, then 1 and 3), `UXTB16` pairs of counts, `PKHBT` /
/// `PKHTB` pairs `(term, count)`, `SMLAD` with `(with_b, with_x)`, and the
/// sums stored two by two.
#[cfg(lowbit_dsp)]
macro_rules! quad_sums {
    () => {
        concat!(
            "ldr {w}, [{pc}], #4\n",
            "ldr {b02}, [{pt}], #4\n",
            "ldr {b13}, [{pt}], #4\n",
            "uxtb16 {xe}, {w}\n",
            "uxtb16 {w}, {w}, ror #8\n",
            "pkhbt {t}, {b02}, {xe}, lsl #16\n",
            "smlad r0, {t}, {f}, {base}\n",
            "pkhbt {t}, {b13}, {w}, lsl #16\n",
            "smlad r1, {t}, {f}, {base}\n",
            "stm {ps}!, {{r0, r1}}\n",
            "pkhtb {t}, {xe}, {b02}, asr #16\n",
            "smlad r0, {t}, {f}, {base}\n",
            "pkhtb {t}, {w}, {b13}, asr #16\n",
            "smlad r1, {t}, {f}, {base}\n",
            "stm {ps}!, {{r0, r1}}\n",
        )
    };
}

/// See [`crate::columns::column_sums`]: the 32 outputs, a quad at a time.
#[cfg(lowbit_dsp)]
#[inline(never)]
pub(crate) fn column_sums(counts: &[u32; 8], terms: &[u8], base: i32, with: (i16, i16), sums: &mut [i32; 32]) {
    if terms.len() < 64 {
        return;
    }
    let factors = u32::from(with.0 as u16) | u32::from(with.1 as u16) << 16;
    // SAFETY: see the module docs; eight quads read two words of `terms`
    // and one of `counts` each and store four sums each.
    unsafe {
        asm!(
            quad_sums!(),
            quad_sums!(),
            quad_sums!(),
            quad_sums!(),
            quad_sums!(),
            quad_sums!(),
            quad_sums!(),
            quad_sums!(),
            pc = inout(reg) counts.as_ptr() => _,
            pt = inout(reg) terms.as_ptr() => _,
            ps = inout(reg) sums.as_mut_ptr() => _,
            f = in(reg) factors,
            base = in(reg) base,
            w = out(reg) _,
            b02 = out(reg) _,
            b13 = out(reg) _,
            xe = out(reg) _,
            t = out(reg) _,
            out("r0") _,
            out("r1") _,
        );
    }
}

/// Two outputs of [`fixed_outputs`]: `LDRD` their multipliers and
/// offsets, then each count (the `UXTB` / `LSR` that takes it out of the
/// counts word comes first) through the stage; `$sat` is `ssat` or `usat`.
macro_rules! fixed_pair {
    ($first:literal, $second:literal, $sat:literal) => {
        concat!(
            "ldrd {m0}, {m1}, [{pm}], #8\n",
            "ldrd {p0}, {p1}, [{pp}], #8\n",
            $first,
            "\n",
            "mla {x}, {x}, {wx}, {base}\n",
            "mla {x}, {x}, {m0}, {p0}\n",
            "asr {x}, {x}, {sh}\n",
            $sat,
            " {x}, #8, {x}\n",
            "strb {x}, [{po}], #1\n",
            $second,
            "\n",
            "mla {x}, {x}, {wx}, {base}\n",
            "mla {x}, {x}, {m1}, {p1}\n",
            "asr {x}, {x}, {sh}\n",
            $sat,
            " {x}, #8, {x}\n",
            "strb {x}, [{po}], #1\n",
        )
    };
}

/// The four outputs of one counts word.
macro_rules! fixed_quad {
    ($sat:literal) => {
        concat!(
            "ldr {w}, [{pc}], #4\n",
            fixed_pair!("uxtb {x}, {w}", "uxtb {x}, {w}, ror #8", $sat),
            fixed_pair!("uxtb {x}, {w}, ror #16", "lsr {x}, {w}, #24", $sat),
        )
    };
}

/// `out[o] = sat((v · M_o + P_o) >> shift)` for the 32 outputs, as
/// [`crate::columns::fixed_dense`] defines it: two counts words (eight
/// outputs) a turn, counted down in `r7` (the frame pointer, which the allocator
/// may not hand out), saved on the stack first and restored at the end.
/// The wrapper checked `shift < 32`. The stage's multipliers and offsets are read
/// two words at a time by `LDRD`, which needs word-aligned addresses:
/// returns `false`, computing nothing, unless both are aligned and hold 32
/// words (the wrapper then computes the outputs portably).
#[inline(never)]
pub(crate) fn fixed_outputs(counts: &[u32; 8], stage: &Fixed<'_>, out: &mut [u8; 32]) -> bool {
    let Fixed {
        multipliers,
        offsets,
        terms: (base, with_x),
        shift,
        signed,
    } = *stage;
    let aligned = |b: &[u8]| b.as_ptr().addr().is_multiple_of(4) && b.len() >= 128;
    if !aligned(multipliers) || !aligned(offsets) {
        return false;
    }
    macro_rules! run {
        ($sat:literal) => {
            // SAFETY: see the module docs and above: four turns read two
            // words of `counts` and eight aligned words of `multipliers` and
            // `offsets` each and store eight bytes of `out`; `r7` is pushed
            // and popped around the loop.
            unsafe {
                asm!(
                    "push {{r7}}",
                    "mov r7, #4",
                    "2:",
                    fixed_quad!($sat),
                    fixed_quad!($sat),
                    "subs r7, r7, #1",
                    "bne 2b",
                    "pop {{r7}}",
                    pc = inout(reg) counts.as_ptr() => _,
                    pm = inout(reg) multipliers.as_ptr() => _,
                    pp = inout(reg) offsets.as_ptr() => _,
                    po = inout(reg) out.as_mut_ptr() => _,
                    wx = in(reg) with_x,
                    base = in(reg) base,
                    sh = in(reg) shift,
                    w = out(reg) _,
                    x = out(reg) _,
                    m0 = out(reg) _,
                    m1 = out(reg) _,
                    p0 = out(reg) _,
                    p1 = out(reg) _,
                )
            }
        };
    }
    if signed {
        run!("ssat");
    } else {
        run!("usat");
    }
    true
}

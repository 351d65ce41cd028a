//! The `asm!` bodies of [`crate::dot`] (Armv7E-M).
//!
//! Every loop reads exactly `n` weight words (4 bytes each, from any
//! address, except the nibble loops of two and four rows, which read two
//! rows' words per `LDRD` and are only called on word-aligned weights)
//! per row and `n` patch chunks, where the safe wrappers in
//! [`crate::dot`] have checked that those bytes lie inside the slices
//! passed in, and writes only registers. The patches are `u32` slices, so
//! the `LDRD`s that read them are word aligned. The loops run at least once
//! (`n > 0` is checked first) and count `n` down to zero with `SUBS` (the
//! four-row nibble loop compares the patch pointer with its ends instead),
//! so they do not preserve the flags. Some dense loops need one register more
//! than the allocator may hand out (13: `r7` is the frame pointer): they
//! save `r7` on the stack first, use it, and restore it at the end.
#![allow(unsafe_code)]

use core::arch::asm;

/// `LDRD` the next pair of patch words of pixel `$a`'s accumulator and
/// `SMLAD` them with the lanes `e` and `o`.
macro_rules! pair {
    ($a:literal) => {
        concat!(
            "ldrd {x}, {y}, [{pp}], #8\n",
            "smlad {",
            $a,
            "}, {e}, {x}, {",
            $a,
            "}\n",
            "smlad {",
            $a,
            "}, {o}, {y}, {",
            $a,
            "}\n"
        )
    };
}

/// The lanes `e`, `o` of register `$r` with the four pixels' pairs.
macro_rules! four_pixels {
    ($r:literal) => {
        concat!(
            "sxtb16 {e}, ",
            $r,
            "\n",
            "sxtb16 {o}, ",
            $r,
            ", ror #8\n",
            pair!("a0"),
            pair!("a1"),
            pair!("a2"),
            pair!("a3")
        )
    };
}

/// Runs one of the 1×4 loops over `n` words.
macro_rules! loop_1x4 {
    ($w:expr, $p:expr, $($body:expr),+) => {{
        let n = $w.len().min($p.len());
        let [mut a0, mut a1, mut a2, mut a3] = [0i32; 4];
        if n > 0 {
            // SAFETY: see the module docs; `n` words of `$w` and `n` chunks
            // of `$p` exist.
            unsafe {
                asm!(
                    "2:",
                    "ldr {w}, [{pw}], #4",
                    $($body,)+
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    pw = inout(reg) $w.as_ptr() => _,
                    pp = inout(reg) $p.as_ptr() => _,
                    n = inout(reg) n => _,
                    a0 = inout(reg) a0,
                    a1 = inout(reg) a1,
                    a2 = inout(reg) a2,
                    a3 = inout(reg) a3,
                    w = out(reg) _,
                    e = out(reg) _,
                    o = out(reg) _,
                    x = out(reg) _,
                    y = out(reg) _,
                    options(nostack, readonly),
                );
            }
        }
        [a0, a1, a2, a3]
    }};
}

/// Runs one of the 1×4 loops over every row of a block: `rows` rows of
/// `words` words back to back, each with the same patches, the four sums
/// of each row stored to `sums` in order. The end of `sums` and the
/// patches' start live on the stack, the word count in `r7` (saved first);
/// the stack is restored before the block ends. The word counter is zero
/// after every row, so `UMULL` of it with itself clears two accumulators.
macro_rules! rows_1x4 {
    ($w:expr, $words:expr, $p:expr, $sums:expr, $($body:expr),+) => {{
        let rows = $sums.len();
        if $words > 0 && rows > 0 {
            let end = $sums.as_mut_ptr_range().end;
            // SAFETY: see the module docs; the wrapper checked that `rows`
            // rows of `words` words lie in `$w`, `$p` holds `words` chunks
            // and `$sums` has `rows` entries (`STRD` to the `i32` array is
            // word aligned); the loop stops when the output pointer reaches
            // `end`.
            unsafe {
                asm!(
                    "push {{r7}}",
                    "mov r7, {words}",
                    "push {{{end}}}",
                    "push {{{pp}}}",
                    "movs {n}, #0",
                    "3:",
                    "umull {a0}, {a1}, {n}, {n}",
                    "umull {a2}, {a3}, {n}, {n}",
                    "ldr {pp}, [sp]",
                    "mov {n}, r7",
                    "2:",
                    "ldr {w}, [{pw}], #4",
                    $($body,)+
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    "strd {a0}, {a1}, [{out}], #8",
                    "strd {a2}, {a3}, [{out}], #8",
                    "ldr {x}, [sp, #4]",
                    "cmp {out}, {x}",
                    "bne 3b",
                    "add sp, sp, #8",
                    "pop {{r7}}",
                    pw = inout(reg) $w.as_ptr() => _,
                    pp = inout(reg) $p.as_ptr() => _,
                    words = in(reg) $words,
                    end = in(reg) end,
                    out = inout(reg) $sums.as_mut_ptr() => _,
                    // Written only after `words` and `end` are read: they
                    // may share those registers.
                    n = lateout(reg) _,
                    a0 = lateout(reg) _,
                    a1 = lateout(reg) _,
                    a2 = lateout(reg) _,
                    a3 = lateout(reg) _,
                    w = lateout(reg) _,
                    e = lateout(reg) _,
                    o = lateout(reg) _,
                    x = lateout(reg) _,
                    y = lateout(reg) _,
                );
            }
        } else {
            $sums.fill([0; 4]);
        }
    }};
}

/// See [`crate::dot::dot_rows_1x4_s8`].
#[inline(never)]
pub(crate) fn dot_rows_1x4_s8(w: &[u8], words: usize, p: &[[u32; 8]], sums: &mut [[i32; 4]]) {
    rows_1x4!(w, words, p, sums, four_pixels!("{w}"))
}

/// See [`crate::dot::dot_rows_1x4_s4`].
#[inline(never)]
pub(crate) fn dot_rows_1x4_s4(w: &[u8], words: usize, p: &[[u32; 16]], sums: &mut [[i32; 4]]) {
    rows_1x4!(
        w,
        words,
        p,
        sums,
        "lsl {x}, {w}, #4",
        "and {x}, {x}, #0xf0f0f0f0",
        "and {w}, {w}, #0xf0f0f0f0",
        four_pixels!("{x}"),
        four_pixels!("{w}")
    )
}

/// See [`crate::dot::dot_rows_1x4_s2`].
#[inline(never)]
pub(crate) fn dot_rows_1x4_s2(w: &[u8], words: usize, p: &[[u32; 32]], sums: &mut [[i32; 4]]) {
    rows_1x4!(
        w,
        words,
        p,
        sums,
        "lsl {x}, {w}, #6",
        "and {x}, {x}, #0xc0c0c0c0",
        four_pixels!("{x}"),
        "lsl {x}, {w}, #4",
        "and {x}, {x}, #0xc0c0c0c0",
        four_pixels!("{x}"),
        "lsl {x}, {w}, #2",
        "and {x}, {x}, #0xc0c0c0c0",
        four_pixels!("{x}"),
        "and {w}, {w}, #0xc0c0c0c0",
        four_pixels!("{w}")
    )
}

/// See [`crate::dot::dot_1x4_s8`].
#[inline(never)]
pub(crate) fn dot_1x4_s8(w: &[[u8; 4]], p: &[[u32; 8]]) -> [i32; 4] {
    loop_1x4!(w, p, four_pixels!("{w}"))
}

/// See [`crate::dot::dot_1x4_s4`].
#[inline(never)]
pub(crate) fn dot_1x4_s4(w: &[[u8; 4]], p: &[[u32; 16]]) -> [i32; 4] {
    loop_1x4!(
        w,
        p,
        "lsl {x}, {w}, #4",
        "and {x}, {x}, #0xf0f0f0f0",
        "and {w}, {w}, #0xf0f0f0f0",
        four_pixels!("{x}"),
        four_pixels!("{w}")
    )
}

/// See [`crate::dot::dot_1x4_s2`].
#[inline(never)]
pub(crate) fn dot_1x4_s2(w: &[[u8; 4]], p: &[[u32; 32]]) -> [i32; 4] {
    loop_1x4!(
        w,
        p,
        "lsl {x}, {w}, #6",
        "and {x}, {x}, #0xc0c0c0c0",
        four_pixels!("{x}"),
        "lsl {x}, {w}, #4",
        "and {x}, {x}, #0xc0c0c0c0",
        four_pixels!("{x}"),
        "lsl {x}, {w}, #2",
        "and {x}, {x}, #0xc0c0c0c0",
        four_pixels!("{x}"),
        "and {w}, {w}, #0xc0c0c0c0",
        four_pixels!("{w}")
    )
}

/// `SMLAD` the lanes of register `$r` with the patch pair `$x`, `$y` into
/// accumulator `$a`.
macro_rules! row {
    ($a:literal, $r:literal, $x:literal, $y:literal) => {
        concat!(
            "sxtb16 {e}, ",
            $r,
            "\n",
            "sxtb16 {o}, ",
            $r,
            ", ror #8\n",
            "smlad {",
            $a,
            "}, {e}, ",
            $x,
            ", {",
            $a,
            "}\n",
            "smlad {",
            $a,
            "}, {o}, ",
            $y,
            ", {",
            $a,
            "}\n"
        )
    };
}

/// See [`crate::dot::dot_4x1_s8`].
#[inline(never)]
pub(crate) fn dot_4x1_s8(w: &[u8], stride: usize, p: &[[u32; 2]]) -> [i32; 4] {
    let n = p.len();
    let [mut a0, mut a1, mut a2, mut a3] = [0i32; 4];
    if n > 0 {
        // SAFETY: see the module docs; rows 0 to 3 start at `w + r·stride`
        // and hold `n` words each inside `w`; `{s3}` holds `3·stride`, `r7`
        // the second patch word.
        unsafe {
            asm!(
                "push {{r7}}",
                "add {s3}, {s}, {s}, lsl #1",
                "2:",
                "ldrd {x}, r7, [{pp}], #8",
                "ldr {w}, [{pw}, {s}]",
                row!("a1", "{w}", "{x}", "r7"),
                "ldr {w}, [{pw}, {s}, lsl #1]",
                row!("a2", "{w}", "{x}", "r7"),
                "ldr {w}, [{pw}, {s3}]",
                row!("a3", "{w}", "{x}", "r7"),
                "ldr {w}, [{pw}], #4",
                row!("a0", "{w}", "{x}", "r7"),
                "subs {n}, {n}, #1",
                "bne 2b",
                "pop {{r7}}",
                pw = inout(reg) w.as_ptr() => _,
                s = in(reg) stride,
                s3 = out(reg) _,
                pp = inout(reg) p.as_ptr() => _,
                n = inout(reg) n => _,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                a2 = inout(reg) a2,
                a3 = inout(reg) a3,
                w = out(reg) _,
                e = out(reg) _,
                o = out(reg) _,
                x = out(reg) _,
                options(readonly),
            );
        }
    }
    [a0, a1, a2, a3]
}

/// See [`crate::dot::dot_rows_4x1_s8`].
#[inline(never)]
pub(crate) fn dot_rows_4x1_s8(w: &[u8], stride: usize, p: &[[u32; 2]], sums: &mut [[i32; 4]]) {
    let n = p.len();
    if n == 0 {
        sums.fill([0; 4]);
        return;
    }
    // SAFETY: see the module docs; group `g`'s rows start at
    // `w + (4g + r)·stride` and hold `n` words each inside `w` (checked by
    // the wrapper), so after a group `{pw}` moves on by `4·stride - 4n`.
    // The patch start, `n`, the groups left, that step and the output
    // pointer live in five stack slots (`STRD` to the `[i32; 4]` entries is
    // word aligned); `{s3}` holds `3·stride`, `r7` the second patch word.
    unsafe {
        asm!(
            "push {{r7}}",
            "sub sp, sp, #20",
            "str {pp}, [sp]",
            "str {n}, [sp, #4]",
            "str {g}, [sp, #8]",
            "str {step}, [sp, #12]",
            "str {out}, [sp, #16]",
            "add {s3}, {s}, {s}, lsl #1",
            "3:",
            "ldr {pp}, [sp]",
            "ldr {n}, [sp, #4]",
            "movs {a0}, #0",
            "movs {a1}, #0",
            "movs {a2}, #0",
            "movs {a3}, #0",
            "2:",
            "ldrd {x}, r7, [{pp}], #8",
            "ldr {w}, [{pw}, {s}]",
            row!("a1", "{w}", "{x}", "r7"),
            "ldr {w}, [{pw}, {s}, lsl #1]",
            row!("a2", "{w}", "{x}", "r7"),
            "ldr {w}, [{pw}, {s3}]",
            row!("a3", "{w}", "{x}", "r7"),
            "ldr {w}, [{pw}], #4",
            row!("a0", "{w}", "{x}", "r7"),
            "subs {n}, {n}, #1",
            "bne 2b",
            "ldr {x}, [sp, #16]",
            "strd {a0}, {a1}, [{x}], #8",
            "strd {a2}, {a3}, [{x}], #8",
            "str {x}, [sp, #16]",
            "ldr {x}, [sp, #12]",
            "add {pw}, {pw}, {x}",
            "ldr {n}, [sp, #8]",
            "subs {n}, {n}, #1",
            "str {n}, [sp, #8]",
            "bne 3b",
            "add sp, sp, #20",
            "pop {{r7}}",
            pw = inout(reg) w.as_ptr() => _,
            s = inout(reg) stride => _,
            pp = inout(reg) p.as_ptr() => _,
            n = inout(reg) n => _,
            g = in(reg) sums.len(),
            step = in(reg) 4 * stride - 4 * n,
            out = in(reg) sums.as_mut_ptr(),
            // Written only after `g`, `step` and `out` are stored: they may
            // share those registers (not the inouts', which the loop reads).
            s3 = lateout(reg) _,
            a0 = lateout(reg) _,
            a1 = lateout(reg) _,
            a2 = lateout(reg) _,
            a3 = lateout(reg) _,
            w = lateout(reg) _,
            e = lateout(reg) _,
            o = lateout(reg) _,
            x = lateout(reg) _,
        );
    }
}

/// See [`crate::dot::dot_2x1_s8`].
#[inline(never)]
pub(crate) fn dot_2x1_s8(w: &[u8], stride: usize, p: &[[u32; 2]]) -> [i32; 2] {
    let n = p.len();
    let [mut a0, mut a1] = [0i32; 2];
    if n > 0 {
        // SAFETY: see the module docs; rows 0 and 1 start at `w` and
        // `w + stride` and hold `n` words each inside `w`. An odd first
        // word runs alone, then two words per loop.
        unsafe {
            asm!(
                "tst {n}, #1",
                "beq 3f",
                "ldrd {x}, {y}, [{pp}], #8",
                "ldr {w}, [{pw}, {s}]",
                row!("a1", "{w}", "{x}", "{y}"),
                "ldr {w}, [{pw}], #4",
                row!("a0", "{w}", "{x}", "{y}"),
                "3:",
                "lsrs {n}, {n}, #1",
                "beq 4f",
                "2:",
                "ldrd {x}, {y}, [{pp}], #8",
                "ldr {w}, [{pw}, {s}]",
                row!("a1", "{w}", "{x}", "{y}"),
                "ldr {w}, [{pw}], #4",
                row!("a0", "{w}", "{x}", "{y}"),
                "ldrd {x}, {y}, [{pp}], #8",
                "ldr {w}, [{pw}, {s}]",
                row!("a1", "{w}", "{x}", "{y}"),
                "ldr {w}, [{pw}], #4",
                row!("a0", "{w}", "{x}", "{y}"),
                "subs {n}, {n}, #1",
                "bne 2b",
                "4:",
                pw = inout(reg) w.as_ptr() => _,
                s = in(reg) stride,
                pp = inout(reg) p.as_ptr() => _,
                n = inout(reg) n => _,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                w = out(reg) _,
                e = out(reg) _,
                o = out(reg) _,
                x = out(reg) _,
                y = out(reg) _,
                options(nostack, readonly),
            );
        }
    }
    [a0, a1]
}

/// The 4-bit lanes of register `$r` (both fields; `$r` is consumed) with
/// the low-field pair `{x}`, `{y}` and the high-field pair `{z}`, `$v`.
macro_rules! row_s4 {
    ($a:literal, $r:literal, $v:literal) => {
        concat!(
            "lsl {o}, ",
            $r,
            ", #4\n",
            "and {o}, {o}, #0xf0f0f0f0\n",
            "sxtb16 {e}, {o}\n",
            "sxtb16 {o}, {o}, ror #8\n",
            "smlad {",
            $a,
            "}, {e}, {x}, {",
            $a,
            "}\n",
            "smlad {",
            $a,
            "}, {o}, {y}, {",
            $a,
            "}\n",
            "and ",
            $r,
            ", ",
            $r,
            ", #0xf0f0f0f0\n",
            row!($a, $r, "{z}", $v)
        )
    };
}

/// See [`crate::dot::dot_3x1_s4`].
#[inline(never)]
pub(crate) fn dot_3x1_s4(w: &[u8], stride: usize, p: &[[u32; 4]]) -> [i32; 3] {
    let n = p.len();
    let [mut a0, mut a1, mut a2] = [0i32; 3];
    if n > 0 {
        // SAFETY: see the module docs; rows 0 to 2 start at `w + r·stride`
        // and hold `n` words each inside `w`; `{z}`, `r7` hold the patch's
        // high-field pair.
        unsafe {
            asm!(
                "push {{r7}}",
                "2:",
                "ldrd {x}, {y}, [{pp}], #8",
                "ldrd {z}, r7, [{pp}], #8",
                "ldr {w}, [{pw}, {s}]",
                row_s4!("a1", "{w}", "r7"),
                "ldr {w}, [{pw}, {s}, lsl #1]",
                row_s4!("a2", "{w}", "r7"),
                "ldr {w}, [{pw}], #4",
                row_s4!("a0", "{w}", "r7"),
                "subs {n}, {n}, #1",
                "bne 2b",
                "pop {{r7}}",
                pw = inout(reg) w.as_ptr() => _,
                s = in(reg) stride,
                pp = inout(reg) p.as_ptr() => _,
                n = inout(reg) n => _,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                a2 = inout(reg) a2,
                w = out(reg) _,
                e = out(reg) _,
                o = out(reg) _,
                x = out(reg) _,
                y = out(reg) _,
                z = out(reg) _,
                options(readonly),
            );
        }
    }
    [a0, a1, a2]
}

/// The 2-bit field in register `{e}` of accumulator `$a` with the patch
/// pair `{x}`, `{y}`.
macro_rules! lanes_s2 {
    ($a:literal) => {
        concat!(
            "and {e}, {e}, #0xc0c0c0c0\n",
            "sxtb16 {o}, {e}, ror #8\n",
            "sxtb16 {e}, {e}\n",
            "smlad {",
            $a,
            "}, {e}, {x}, {",
            $a,
            "}\n",
            "smlad {",
            $a,
            "}, {o}, {y}, {",
            $a,
            "}\n"
        )
    };
}

/// See [`crate::dot::dot_2x1_s4`].
#[inline(never)]
pub(crate) fn dot_2x1_s4(w: &[u8], stride: usize, p: &[[u32; 4]]) -> [i32; 2] {
    let n = p.len();
    let [mut a0, mut a1] = [0i32; 2];
    if n > 0 {
        // SAFETY: see the module docs; rows 0 and 1 start at `w` and
        // `w + stride` and hold `n` words each inside `w`.
        unsafe {
            asm!(
                "2:",
                "ldrd {x}, {y}, [{pp}], #8",
                "ldrd {z}, {v}, [{pp}], #8",
                "ldr {w}, [{pw}, {s}]",
                row_s4!("a1", "{w}", "{v}"),
                "ldr {w}, [{pw}], #4",
                row_s4!("a0", "{w}", "{v}"),
                "subs {n}, {n}, #1",
                "bne 2b",
                pw = inout(reg) w.as_ptr() => _,
                s = in(reg) stride,
                pp = inout(reg) p.as_ptr() => _,
                n = inout(reg) n => _,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                w = out(reg) _,
                e = out(reg) _,
                o = out(reg) _,
                x = out(reg) _,
                y = out(reg) _,
                z = out(reg) _,
                v = out(reg) _,
                options(nostack, readonly),
            );
        }
    }
    [a0, a1]
}

/// Field `$shift` of both rows' words (`{w0}`, `{w1}` shifted left by
/// `$shift`) with the next patch pair.
macro_rules! field_s2 {
    ($shift:literal) => {
        concat!(
            "ldrd {x}, {y}, [{pp}], #8\n",
            "lsl {e}, {w1}, #",
            $shift,
            "\n",
            lanes_s2!("a1"),
            "lsl {e}, {w0}, #",
            $shift,
            "\n",
            lanes_s2!("a0")
        )
    };
    () => {
        concat!(
            "ldrd {x}, {y}, [{pp}], #8\n",
            "mov {e}, {w1}\n",
            lanes_s2!("a1"),
            "mov {e}, {w0}\n",
            lanes_s2!("a0")
        )
    };
}

/// See [`crate::dot::dot_2x1_s2`].
#[inline(never)]
pub(crate) fn dot_2x1_s2(w: &[u8], stride: usize, p: &[[u32; 8]]) -> [i32; 2] {
    let n = p.len();
    let [mut a0, mut a1] = [0i32; 2];
    if n > 0 {
        // SAFETY: see the module docs; rows 0 and 1 start at `w` and
        // `w + stride` and hold `n` words each inside `w`.
        unsafe {
            asm!(
                "2:",
                "ldr {w1}, [{pw}, {s}]",
                "ldr {w0}, [{pw}], #4",
                field_s2!("6"),
                field_s2!("4"),
                field_s2!("2"),
                field_s2!(),
                "subs {n}, {n}, #1",
                "bne 2b",
                pw = inout(reg) w.as_ptr() => _,
                s = in(reg) stride,
                pp = inout(reg) p.as_ptr() => _,
                n = inout(reg) n => _,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                w0 = out(reg) _,
                w1 = out(reg) _,
                e = out(reg) _,
                o = out(reg) _,
                x = out(reg) _,
                y = out(reg) _,
                options(nostack, readonly),
            );
        }
    }
    [a0, a1]
}

/// Two words of [`widen_quads!`] (read into `{a}`, `{b}` by two `LDR`s,
/// any alignment) widened with `$ext` into `r4`, `r5`, `r8`, `r10` and
/// stored with one `STM`.
macro_rules! widen_two {
    ($ext:literal) => {
        concat!(
            "ldr {a}, [{px}], #4\n",
            "ldr {b}, [{px}], #4\n",
            $ext,
            " r4, {a}\n",
            $ext,
            " r5, {a}, ror #8\n",
            $ext,
            " r8, {b}\n",
            $ext,
            " r10, {b}, ror #8\n",
            "stm {pp}!, {{r4, r5, r8, r10}}\n"
        )
    };
}

/// The loop of [`crate::dot::widen_bytes`] over groups of four words with
/// the extension `$ext` (`sxtb16` or `uxtb16`), two widened pairs per
/// `STM`.
macro_rules! widen_quads {
    ($x:expr, $p:expr, $ext:literal) => {{
        let n = $x.len().min($p.len()) / 4;
        if n > 0 {
            // SAFETY: see the module docs; `4n` words of `$x` (read with
            // `LDR`, any alignment) and `4n` pairs of `$p` (`u32`s, so the
            // `STM`s are word aligned) exist.
            unsafe {
                // Eight words a turn: `n / 2` turns, after half a turn
                // (entered at `3:`) if `n` is odd.
                asm!(
                    "lsrs {n}, {n}, #1",
                    "bcc 2f",
                    "adds {n}, {n}, #1",
                    "b 3f",
                    "2:",
                    widen_two!($ext),
                    widen_two!($ext),
                    "3:",
                    widen_two!($ext),
                    widen_two!($ext),
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    px = inout(reg) $x.as_ptr() => _,
                    pp = inout(reg) $p.as_mut_ptr() => _,
                    n = inout(reg) n => _,
                    a = out(reg) _,
                    b = out(reg) _,
                    out("r4") _,
                    out("r5") _,
                    out("r8") _,
                    out("r10") _,
                    options(nostack),
                );
            }
        }
    }};
}

/// See [`crate::dot::widen_bytes`] (signed; whole groups of four words).
#[inline(never)]
pub(crate) fn widen_quads_s8(x: &[[u8; 4]], p: &mut [[u32; 2]]) {
    widen_quads!(x, p, "sxtb16")
}

/// See [`crate::dot::widen_bytes`] (unsigned; whole groups of four words).
#[inline(never)]
pub(crate) fn widen_quads_u8(x: &[[u8; 4]], p: &mut [[u32; 2]]) {
    widen_quads!(x, p, "uxtb16")
}

/// One row's nibble word (next at `{pw}`) against the chunk in `{x0}`,
/// `{x1}`, `{x2}`, `r7`, into accumulator `$a` (`{m}` holds `0xF000F000`: each field at the top of its lane).
macro_rules! row_u4 {
    ($a:expr) => {
        concat!(
            "ldr {w}, [{pw}], #4\n",
            "and {e}, {m}, {w}, lsl #12\n",
            "smlad {",
            $a,
            "}, {e}, {x0}, {",
            $a,
            "}\n",
            "and {e}, {m}, {w}, lsl #8\n",
            "smlad {",
            $a,
            "}, {e}, {x1}, {",
            $a,
            "}\n",
            "and {e}, {m}, {w}, lsl #4\n",
            "smlad {",
            $a,
            "}, {e}, {x2}, {",
            $a,
            "}\n",
            "and {e}, {w}, {m}\n",
            "smlad {",
            $a,
            "}, {e}, r7, {",
            $a,
            "}\n"
        )
    };
}

/// Loads the next patch chunk into `{x0}`, `{x1}`, `{x2}`, `r7`.
macro_rules! chunk_u4 {
    () => {
        "ldrd {x0}, {x1}, [{pp}], #8\nldrd {x2}, r7, [{pp}], #8"
    };
}

/// The lanes of nibble word `$w` against the chunk in `{x0}`, `{x1}`,
/// `{x2}`, `r7`, into accumulator `$a` (`{m}` holds `0xF000F000`: each field at the top of its lane).
macro_rules! lanes_u4 {
    ($w:literal, $a:literal) => {
        concat!(
            "and {e}, {m}, {",
            $w,
            "}, lsl #12\n",
            "smlad {",
            $a,
            "}, {e}, {x0}, {",
            $a,
            "}\n",
            "and {e}, {m}, {",
            $w,
            "}, lsl #8\n",
            "smlad {",
            $a,
            "}, {e}, {x1}, {",
            $a,
            "}\n",
            "and {e}, {m}, {",
            $w,
            "}, lsl #4\n",
            "smlad {",
            $a,
            "}, {e}, {x2}, {",
            $a,
            "}\n",
            "and {e}, {",
            $w,
            "}, {m}\n",
            "smlad {",
            $a,
            "}, {e}, r7, {",
            $a,
            "}\n"
        )
    };
}

/// One chunk of a group of four rows: the chunk, then two rows' words per
/// `LDRD` (the weights are word aligned).
macro_rules! quad_u4 {
    () => {
        concat!(
            chunk_u4!(),
            "\nldrd {w}, {v}, [{pw}], #8\n",
            lanes_u4!("w", "a0"),
            lanes_u4!("v", "a1"),
            "ldrd {w}, {v}, [{pw}], #8\n",
            lanes_u4!("w", "a2"),
            lanes_u4!("v", "a3")
        )
    };
}

/// See [`crate::dot::dot_rows_u4`]: the whole groups of four rows
/// (word-aligned `w`, which [`crate::dot::dot_rows_u4`] checks).
#[inline(never)]
pub(crate) fn dot_rows_4x1_u4(w: &[u8], p: &[[u32; 4]], sums: &mut [[i32; 4]]) {
    let n = p.len();
    if n == 0 || sums.is_empty() {
        return;
    }
    // Where the runs of four chunks end, and where the patch ends: the last
    // one to three chunks come one by one.
    let quads_end = p.as_ptr().wrapping_add(n & !3);
    let end = p.as_ptr().wrapping_add(n);
    // SAFETY: see the module docs; the wrapper checked that the
    // `sums.len()` groups of `4n` words lie in `w`, that `w` is word
    // aligned (`LDRD`) and that `p` holds `n` chunks. The loop over runs
    // of four chunks stops when the patch pointer reaches `quads_end` (it
    // advances by four chunks a turn from the start, `n & !3` chunks away),
    // then the one-chunk loop runs until it reaches `end`. The patch start,
    // `quads_end`, the groups left, the output pointer and `end` live in
    // five stack slots (`STRD` to the `[i32; 4]` entries is word aligned); `r7` holds the chunk's last word. Each group's four scaled
    // sums are stored shifted back by 12 bits.
    unsafe {
        asm!(
            "push {{r7}}",
            "sub sp, sp, #24",
            "str {pp}, [sp]",
            "str {quads}, [sp, #4]",
            "str {g}, [sp, #8]",
            "str {out}, [sp, #12]",
            "str {end}, [sp, #20]",
            "mov {m}, #0xf000f000",
            "3:",
            "ldr {pp}, [sp]",
            "movs {a0}, #0",
            "movs {a1}, #0",
            "movs {a2}, #0",
            "movs {a3}, #0",
            "ldr {e}, [sp, #4]",
            "cmp {pp}, {e}",
            "beq 4f",
            "2:",
            quad_u4!(),
            quad_u4!(),
            quad_u4!(),
            quad_u4!(),
            "ldr {e}, [sp, #4]",
            "cmp {pp}, {e}",
            "bne 2b",
            "4:",
            "ldr {e}, [sp, #20]",
            "cmp {pp}, {e}",
            "beq 5f",
            "6:",
            quad_u4!(),
            "ldr {e}, [sp, #20]",
            "cmp {pp}, {e}",
            "bne 6b",
            "5:",
            "ldr {x0}, [sp, #12]",
            "asr {a0}, {a0}, #12",
            "asr {a1}, {a1}, #12",
            "asr {a2}, {a2}, #12",
            "asr {a3}, {a3}, #12",
            "strd {a0}, {a1}, [{x0}], #8",
            "strd {a2}, {a3}, [{x0}], #8",
            "str {x0}, [sp, #12]",
            "ldr {e}, [sp, #8]",
            "subs {e}, {e}, #1",
            "str {e}, [sp, #8]",
            "bne 3b",
            "add sp, sp, #24",
            "pop {{r7}}",
            pw = inout(reg) w.as_ptr() => _,
            pp = inout(reg) p.as_ptr() => _,
            quads = in(reg) quads_end,
            end = in(reg) end,
            g = in(reg) sums.len(),
            out = in(reg) sums.as_mut_ptr(),
            // Written only after the inputs are stored: they may share
            // those registers (not the inouts', which the loop reads).
            m = lateout(reg) _,
            x0 = lateout(reg) _,
            x1 = lateout(reg) _,
            x2 = lateout(reg) _,
            w = lateout(reg) _,
            v = lateout(reg) _,
            e = lateout(reg) _,
            a0 = lateout(reg) _,
            a1 = lateout(reg) _,
            a2 = lateout(reg) _,
            a3 = lateout(reg) _,
        );
    }
}

/// A last group of `R` nibble rows (one asm loop per `R`): each row's
/// scaled sum (lanes `4096·w`), starting at 0.
macro_rules! group_u4 {
    ($w:expr, $p:expr, [$($a:ident),+]) => {{
        let n = $p.len();
        $(let mut $a: i32 = 0;)+
        if n > 0 {
            // SAFETY: see the module docs; the wrapper checked that the
            // group's `R·n` words lie in `$w` and that `$p` holds `n`
            // chunks; `r7` holds the chunk's last word.
            unsafe {
                asm!(
                    "push {{r7}}",
                    "mov {m}, #0xf000f000",
                    // An odd first chunk alone, then two per loop.
                    "tst {n}, #1",
                    "beq 3f",
                    chunk_u4!(),
                    $(row_u4!(stringify!($a)),)+
                    "3:",
                    "lsrs {n}, {n}, #1",
                    "beq 4f",
                    "2:",
                    chunk_u4!(),
                    $(row_u4!(stringify!($a)),)+
                    chunk_u4!(),
                    $(row_u4!(stringify!($a)),)+
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    "4:",
                    "pop {{r7}}",
                    pw = inout(reg) $w.as_ptr() => _,
                    pp = inout(reg) $p.as_ptr() => _,
                    n = inout(reg) n => _,
                    $($a = inout(reg) $a,)+
                    m = out(reg) _,
                    x0 = out(reg) _,
                    x1 = out(reg) _,
                    x2 = out(reg) _,
                    w = out(reg) _,
                    e = out(reg) _,
                    options(readonly),
                );
            }
        }
        [$($a),+]
    }};
}

/// See [`crate::dot::dot_rows_u4`]: a last group of one row (its scaled
/// sum).
#[inline(never)]
pub(crate) fn dot_1x1_u4(w: &[u8], p: &[[u32; 4]]) -> i32 {
    let [a0] = group_u4!(w, p, [a0]);
    a0
}

/// One chunk of a last group of two rows: both rows' words with one
/// `LDRD` (the weights are word aligned).
macro_rules! pair_u4 {
    () => {
        concat!(
            chunk_u4!(),
            "\nldrd {w}, {v}, [{pw}], #8\n",
            lanes_u4!("w", "a0"),
            lanes_u4!("v", "a1")
        )
    };
}

/// See [`crate::dot::dot_rows_u4`]: a last group of two rows (word-aligned
/// `w`, which [`crate::dot::dot_rows_u4`] checks).
#[inline(never)]
pub(crate) fn dot_2x1_u4(w: &[u8], p: &[[u32; 4]]) -> [i32; 2] {
    let n = p.len();
    let (mut a0, mut a1) = (0, 0);
    if n > 0 {
        // SAFETY: see the module docs; the wrapper checked that the
        // group's `2n` words lie in `w`, that `w` is word aligned (`LDRD`)
        // and that `p` holds `n` chunks; `r7` holds the chunk's last word.
        unsafe {
            asm!(
                "push {{r7}}",
                "mov {m}, #0xf000f000",
                // The first `n % 4` chunks one by one, then four per loop.
                "6:",
                "tst {n}, #3",
                "beq 3f",
                pair_u4!(),
                "sub {n}, {n}, #1",
                "b 6b",
                "3:",
                "lsrs {n}, {n}, #2",
                "beq 4f",
                "2:",
                pair_u4!(),
                pair_u4!(),
                pair_u4!(),
                pair_u4!(),
                "subs {n}, {n}, #1",
                "bne 2b",
                "4:",
                "pop {{r7}}",
                pw = inout(reg) w.as_ptr() => _,
                pp = inout(reg) p.as_ptr() => _,
                n = inout(reg) n => _,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                m = out(reg) _,
                x0 = out(reg) _,
                x1 = out(reg) _,
                x2 = out(reg) _,
                w = out(reg) _,
                v = out(reg) _,
                e = out(reg) _,
                options(readonly),
            );
        }
    }
    [a0, a1]
}

/// See [`crate::dot::dot_rows_u4`]: a last group of three rows (their
/// scaled sums).
#[inline(never)]
pub(crate) fn dot_3x1_u4(w: &[u8], p: &[[u32; 4]]) -> [i32; 3] {
    group_u4!(w, p, [a0, a1, a2])
}

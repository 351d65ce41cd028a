//! The `asm!` body of [`crate::popcount`] (Armv7E-M).
//!
//! The loop reads `rows · words` weight words from `w` (word aligned, as
//! `LDM` needs; the safe wrapper checked the alignment and that those
//! words lie inside `w`), `words` input words from `s` per row (a `u32`
//! slice) and stores one count per row to `counts` (a `u32` slice); it
//! writes nothing else but its own stack slots. It needs fourteen
//! registers: twelve named ones, the allocator's one for the weight
//! pointer, and `r7` (the frame pointer, which the allocator may not hand
//! out), saved on the stack first and restored at the end along with the
//! five stack slots that hold the loop's bounds. The flags are not
//! preserved.
#![allow(unsafe_code)]

use core::arch::asm;

use crate::popcount::BitOp;

/// The loop with `$op` (`"eor"` or `"and"`) combining weight and input
/// words.
macro_rules! rows {
    ($op:literal, $w:expr, $s:expr, $counts:expr) => {{
        let words = $s.len();
        // SAFETY: see the module docs; `counts.len() > 0` rows of `words`
        // words lie in the word-aligned `w`, `s` has `words` words and
        // `counts` one entry per row.
        unsafe {
            asm!(
                "push {{r7}}",
                "sub sp, sp, #20",
                "str r8, [sp]",
                "str r9, [sp, #4]",
                "str r0, [sp, #8]",
                "str r1, [sp, #12]",
                "str r2, [sp, #16]",
                "mov r12, #0",
                "mov lr, #0x55555555",
                "mov r7, #0x33333333",
                // Per row: input words from the start, both sums zero.
                "3:",
                "ldr r8, [sp]",
                "mov r10, #0",
                "mov r11, #0",
                "ldr r9, [sp, #4]",
                "cmp r9, #0",
                "beq 5f",
                // Three words: carry-save adder, then 4-bit field counts.
                "2:",
                "ldm {pw}!, {{r0, r1, r2}}",
                "ldm r8!, {{r3, r4, r5}}",
                concat!($op, " r0, r0, r3"),
                concat!($op, " r1, r1, r4"),
                concat!($op, " r2, r2, r5"),
                "eor r3, r0, r1",
                "and r0, r0, r1",
                "and r4, r3, r2",
                "eor r3, r3, r2",
                "orr r0, r0, r4",
                "and r4, lr, r3, lsr #1",
                "sub r3, r3, r4",
                "and r4, lr, r0, lsr #1",
                "sub r0, r0, r4",
                "and r4, r7, r3, lsr #2",
                "and r3, r3, #0x33333333",
                "add r3, r3, r4",
                "and r4, r7, r0, lsr #2",
                "and r0, r0, #0x33333333",
                "add r0, r0, r4",
                "add r3, r3, r0, lsl #1",
                "usada8 r10, r3, r12, r10",
                "and r3, r3, #0x0f0f0f0f",
                "usada8 r11, r3, r12, r11",
                "subs r9, r9, #1",
                "bne 2b",
                // The words left over, one at a time.
                "5:",
                "ldr r9, [sp, #8]",
                "cmp r9, #0",
                "beq 6f",
                "4:",
                "ldr r0, [{pw}], #4",
                "ldr r3, [r8], #4",
                concat!($op, " r0, r0, r3"),
                "and r4, lr, r0, lsr #1",
                "sub r0, r0, r4",
                "and r4, r7, r0, lsr #2",
                "and r0, r0, #0x33333333",
                "add r0, r0, r4",
                "usada8 r10, r0, r12, r10",
                "and r0, r0, #0x0f0f0f0f",
                "usada8 r11, r0, r12, r11",
                "subs r9, r9, #1",
                "bne 4b",
                // count = Σ lo + (whole - Σ lo) / 16.
                "6:",
                "sub r3, r10, r11",
                "add r3, r11, r3, lsr #4",
                "ldr r4, [sp, #16]",
                "str r3, [r4], #4",
                "str r4, [sp, #16]",
                "ldr r9, [sp, #12]",
                "subs r9, r9, #1",
                "str r9, [sp, #12]",
                "bne 3b",
                "add sp, sp, #20",
                "pop {{r7}}",
                pw = inout(reg) $w.as_ptr() => _,
                inout("r8") $s.as_ptr() => _,
                inout("r9") words / 3 => _,
                inout("r0") words % 3 => _,
                inout("r1") $counts.len() => _,
                inout("r2") $counts.as_mut_ptr() => _,
                out("r3") _,
                out("r4") _,
                out("r5") _,
                out("r10") _,
                out("r11") _,
                out("r12") _,
                out("lr") _,
            );
        }
    }};
}

/// Three weight words of a row of [`rows8!`] (`LDM` from the weight
/// pointer) against three input words (`LDM` from `$src`), combined with
/// `$op`, through a carry-save adder into `ones` and `twos`, whose 4-bit
/// field counts `ones + 2·twos` (at most 12) end in `r3`.
macro_rules! triple8 {
    ($op:literal, $src:literal) => {
        concat!(
            "ldm {pw}!, {{r0, r1, r2}}\n",
            "ldm ",
            $src,
            ", {{r3, r4, r5}}\n",
            $op,
            " r0, r0, r3\n",
            $op,
            " r1, r1, r4\n",
            $op,
            " r2, r2, r5\n",
            "eor r3, r0, r1\n",
            "and r0, r0, r1\n",
            "and r4, r3, r2\n",
            "eor r3, r3, r2\n",
            "orr r0, r0, r4\n",
            "and r4, r3, #0xaaaaaaaa\n",
            "sub r3, r3, r4, lsr #1\n",
            "and r4, r0, #0xaaaaaaaa\n",
            "sub r0, r0, r4, lsr #1\n",
            "and r4, r3, #0xcccccccc\n",
            "and r3, r3, #0x33333333\n",
            "add r3, r3, r4, lsr #2\n",
            "and r4, r0, #0xcccccccc\n",
            "and r0, r0, #0x33333333\n",
            "add r0, r0, r4, lsr #2\n",
            "add r3, r3, r0, lsl #1"
        )
    };
}

/// The loop for rows of exactly eight words (256 bits), unrolled: per row
/// two carry-save triples and a pair, the input words read from `s` (`r8`)
/// and `s + 3` (`r7`, saved on the stack first), neither moved, the counts
/// stored through `r9`, the row loop ending at the weight pointer's end
/// (`lr`). The bit-field masks are immediates (`x - ((x & 0xaaaaaaaa) >>
/// 1)`, `(x & 0x33333333) + ((x & 0xcccccccc) >> 2)`), so no register
/// holds them.
macro_rules! rows8 {
    ($op:literal, $w:expr, $s:expr, $counts:expr) => {{
        let end = $w.as_ptr().wrapping_add(32 * $counts.len());
        // SAFETY: see the module docs; `counts.len() > 0` rows of eight
        // words lie in the word-aligned `w` (so `end` is at most one past
        // its end), `s` has eight words and `counts` one entry per row.
        unsafe {
            asm!(
                "push {{r7}}",
                "add r7, r8, #12",
                "mov r12, #0",
                "2:",
                // Words 0 to 2: carry-save adder, 4-bit field counts
                // `ones + 2·twos` (at most 12), both sums started.
                triple8!($op, "r8"),
                "usad8 r10, r3, r12",
                "and r3, r3, #0x0f0f0f0f",
                "usad8 r11, r3, r12",
                // Words 3 to 5, the same.
                triple8!($op, "r7"),
                "usada8 r10, r3, r12, r10",
                "and r3, r3, #0x0f0f0f0f",
                "usada8 r11, r3, r12, r11",
                // Words 6 and 7: their 4-bit field counts added (at most 8).
                "ldm {pw}!, {{r0, r1}}",
                "ldrd r3, r4, [r8, #24]",
                concat!($op, " r0, r0, r3"),
                concat!($op, " r1, r1, r4"),
                "and r4, r0, #0xaaaaaaaa",
                "sub r0, r0, r4, lsr #1",
                "and r4, r1, #0xaaaaaaaa",
                "sub r1, r1, r4, lsr #1",
                "and r4, r0, #0xcccccccc",
                "and r0, r0, #0x33333333",
                "add r0, r0, r4, lsr #2",
                "and r4, r1, #0xcccccccc",
                "and r1, r1, #0x33333333",
                "add r0, r0, r4, lsr #2",
                "add r0, r0, r1",
                "usada8 r10, r0, r12, r10",
                "and r0, r0, #0x0f0f0f0f",
                "usada8 r11, r0, r12, r11",
                // count = Σ lo + (whole - Σ lo) / 16.
                "sub r3, r10, r11",
                "add r3, r11, r3, lsr #4",
                "str r3, [r9], #4",
                "cmp {pw}, lr",
                "bne 2b",
                "pop {{r7}}",
                pw = inout(reg) $w.as_ptr() => _,
                inout("r8") $s.as_ptr() => _,
                inout("r9") $counts.as_mut_ptr() => _,
                inout("lr") end => _,
                out("r0") _,
                out("r1") _,
                out("r2") _,
                out("r3") _,
                out("r4") _,
                out("r5") _,
                out("r10") _,
                out("r11") _,
                out("r12") _,
            );
        }
    }};
}

/// See [`crate::popcount::popcount_rows`].
#[inline(never)]
pub(crate) fn popcount_rows(w: &[u8], s: &[u32], op: BitOp, counts: &mut [u32]) {
    if counts.is_empty() {
        return;
    }
    match (op, s.len()) {
        (BitOp::Xor, 8) => rows8!("eor", w, s, counts),
        (BitOp::And, 8) => rows8!("and", w, s, counts),
        (BitOp::Xor, _) => rows!("eor", w, s, counts),
        (BitOp::And, _) => rows!("and", w, s, counts),
    }
}

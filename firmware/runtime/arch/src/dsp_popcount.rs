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

/// See [`crate::popcount::popcount_rows`].
#[inline(never)]
pub(crate) fn popcount_rows(w: &[u8], s: &[u32], op: BitOp, counts: &mut [u32]) {
    if counts.is_empty() {
        return;
    }
    match op {
        BitOp::Xor => rows!("eor", w, s, counts),
        BitOp::And => rows!("and", w, s, counts),
    }
}

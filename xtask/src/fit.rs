//! Whether a model fits a board, checked before anything is built or run.
//!
//! What a model needs:
//! - **image**: the image (header, `.lbm`, inputs) goes into the board's
//!   reserved image region in loaded mode; in embedded mode the same bytes go
//!   into flash, and the image region's size is the budget there too;
//! - **RAM**: the arena the model states plus its output buffer (rounded up
//!   to 16 bytes).
//!
//! What a board offers: before a build, the board file's numbers (RAM minus
//! the stack reservation, an upper bound); once the loaded-mode firmware is
//! built, the exact free RAM between its `.bss` and the stack (the
//! `__lowbit_arena_start/end` symbols), which is what the firmware hands out.

use std::fmt;

use anyhow::Result;

use crate::{board::Board, elf::Elf, model::Facts};

/// Bytes a model run needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Image bytes (header + `.lbm` + inputs).
    pub image: u64,
    /// Arena plus output buffer.
    pub ram: u64,
}

impl Needs {
    /// The needs of a program with `facts` in an image of `image` bytes.
    pub fn new(facts: &Facts, image: usize) -> Needs {
        Needs { image: image as u64, ram: (facts.arena + facts.output_len.div_ceil(16) * 16) as u64 }
    }
}

/// Bytes a board offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    /// The image region.
    pub image: u64,
    /// RAM for the arena and the output.
    pub ram: u64,
    /// Whether `ram` is exact (from the built firmware) or an upper bound.
    pub exact: bool,
}

impl Offer {
    /// From the board file alone: RAM minus the stack reservation.
    pub fn from_board(board: &Board) -> Offer {
        let m = &board.memory;
        let image_in_ram = m.ram.contains(m.image.origin);
        let ram = m.ram.size - m.stack_size - if image_in_ram { m.image.size } else { 0 };
        Offer { image: m.image.size, ram, exact: false }
    }

    /// From the loaded-mode firmware built for `board`: its free RAM exactly.
    pub fn from_firmware(board: &Board, elf: &Elf) -> Result<Offer> {
        let free = elf.symbol("__lowbit_arena_end")? - elf.symbol("__lowbit_arena_start")?;
        Ok(Offer { image: board.memory.image.size, ram: free, exact: true })
    }
}

/// Why a model does not fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    /// The board.
    pub board: String,
    /// One clause per exceeded budget, with both numbers.
    pub reasons: Vec<String>,
}

impl fmt::Display for Misfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "does not fit {}: {}", self.board, self.reasons.join("; "))
    }
}

impl std::error::Error for Misfit {}

/// Checks `needs` against `offer`.
pub fn check(board: &Board, needs: Needs, offer: Offer) -> Result<(), Misfit> {
    let mut reasons = Vec::new();
    if needs.image > offer.image {
        reasons.push(format!("image {} B > image region {} B", needs.image, offer.image));
    }
    if needs.ram > offer.ram {
        let what = if offer.exact { "free RAM" } else { "RAM less the stack" };
        reasons.push(format!("arena + output {} B > {what} {} B", needs.ram, offer.ram));
    }
    if reasons.is_empty() { Ok(()) } else { Err(Misfit { board: board.name.clone(), reasons }) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::Boards;

    #[test]
    fn a_model_too_big_for_the_microbit_is_refused_with_the_numbers() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let boards = Boards::load(root).unwrap();
        let microbit = boards.get("qemu-microbit").unwrap();
        let offer = Offer::from_board(microbit);
        assert_eq!(offer, Offer { image: 128 * 1024, ram: 12 * 1024, exact: false });
        assert!(check(microbit, Needs { image: 4096, ram: 8192 }, offer).is_ok());
        let misfit = check(microbit, Needs { image: 200_000, ram: 20_000 }, offer).unwrap_err();
        assert_eq!(
            misfit.to_string(),
            "does not fit qemu-microbit: image 200000 B > image region 131072 B; \
             arena + output 20000 B > RAM less the stack 12288 B"
        );
    }
}

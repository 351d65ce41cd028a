//! FPGA boards: part, clock and resource budget (`boards/fpga/*.toml`,
//! built into the library).

use crate::HlsError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// FPGA resources: a board's budget, or an estimate's use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    /// Look-up tables.
    pub lut: u64,
    /// Flip-flops (budget only; the FINN cost models do not estimate them).
    #[serde(default)]
    pub ff: u64,
    /// 18 Kib block RAMs (a 36 Kib BRAM counts as two).
    pub bram18: u64,
    /// UltraRAMs (288 Kib).
    pub uram: u64,
    /// DSP slices.
    pub dsp: u64,
}

/// A board with an FPGA: where a design is synthesized and what it may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Board {
    /// Short name (`pynq-z2`).
    pub name: String,
    /// One line for people.
    pub description: String,
    /// The Vivado part name.
    pub part: String,
    /// Default clock of the accelerator, in MHz.
    pub clock_mhz: f64,
    /// Resources of the part (vendor data sheets).
    pub resources: Resources,
}

/// The boards built into the library: `boards/fpga/<name>.toml`.
const BUILTIN: [(&str, &str); 5] = [
    ("kv260", include_str!("../../boards/fpga/kv260.toml")),
    ("pynq-z1", include_str!("../../boards/fpga/pynq-z1.toml")),
    ("pynq-z2", include_str!("../../boards/fpga/pynq-z2.toml")),
    ("ultra96-v2", include_str!("../../boards/fpga/ultra96-v2.toml")),
    ("zcu104", include_str!("../../boards/fpga/zcu104.toml")),
];

impl Board {
    /// The names of the built-in boards.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// A built-in board by name, or a board description read from a
    /// `.toml` path.
    pub fn find(name_or_path: &str) -> Result<Board, HlsError> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Board::from_toml(name_or_path, text);
        }
        let path = Path::new(name_or_path);
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            let text = std::fs::read_to_string(path).map_err(HlsError::io(path))?;
            return Board::from_toml(name_or_path, &text);
        }
        Err(HlsError::UnknownBoard { name: name_or_path.to_string(), known: Board::builtin_names().join(", ") })
    }

    /// Parses and checks a board description.
    pub fn from_toml(name: &str, text: &str) -> Result<Board, HlsError> {
        let bad = |reason: String| HlsError::Board { name: name.to_string(), reason };
        let board: Board = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if !(board.clock_mhz.is_finite() && board.clock_mhz > 0.0) {
            return Err(bad(format!("clock_mhz must be positive, got {}", board.clock_mhz)));
        }
        if board.resources.lut == 0 {
            return Err(bad("the LUT budget is 0".into()));
        }
        Ok(board)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_boards_parse_with_their_datasheet_budgets() {
        for name in Board::builtin_names() {
            let b = Board::find(name).unwrap();
            assert_eq!(b.name, name);
        }
        let z2 = Board::find("pynq-z2").unwrap();
        assert_eq!((z2.part.as_str(), z2.clock_mhz), ("xc7z020clg400-1", 100.0));
        assert_eq!(z2.resources, Resources { lut: 53_200, ff: 106_400, bram18: 280, uram: 0, dsp: 220 });
        assert_eq!(Board::find("zcu104").unwrap().resources.uram, 96);
        let err = Board::find("arty").unwrap_err().to_string();
        assert!(err.contains("pynq-z2") && err.contains("kv260"), "{err}");
    }
}

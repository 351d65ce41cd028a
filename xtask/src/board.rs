//! Board descriptions: `boards/<name>.toml`, one file per board.
//!
//! The schema is open: `kind` selects which optional section applies
//! (`[qemu]`, `[probe]`; FPGA boards will bring their own), and unknown
//! sections are ignored so that a later kind does not break this reader.
//! The firmware's `build.rs` reads the same files for the memory map.

use std::{
    fmt,
    path::{Path, PathBuf},
};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// One board, as parsed from its file.
#[derive(Debug, Clone, Deserialize)]
pub struct Board {
    /// Unique name, equal to the file stem.
    pub name: String,
    /// One line for people.
    pub description: String,
    /// How the board is reached.
    pub kind: BoardKind,
    /// The Rust target the firmware is built for.
    pub target: Target,
    /// The CPU core (informational: `cortex-m4f`, `rv32imac`, …).
    pub cpu: String,
    /// Core clock in Hz (on QEMU: the clock SysTick counts).
    pub clock_hz: u64,
    /// Firmware cargo features this board needs.
    #[serde(default)]
    pub features: Vec<String>,
    /// The memory map.
    pub memory: Memory,
    /// How to emulate it (`kind = "qemu"`).
    pub qemu: Option<QemuSection>,
    /// How to reach it with a debug probe (`kind = "probe"`).
    pub probe: Option<ProbeSection>,
    /// The file it was read from.
    #[serde(skip)]
    pub file: PathBuf,
}

/// How a board is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BoardKind {
    /// Emulated by QEMU.
    Qemu,
    /// A real board behind a debug probe.
    Probe,
    /// An FPGA board (its section is defined by the FPGA flow).
    Fpga,
}

impl fmt::Display for BoardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BoardKind::Qemu => "qemu",
            BoardKind::Probe => "probe",
            BoardKind::Fpga => "fpga",
        })
    }
}

/// An address range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Region {
    /// First address.
    pub origin: u64,
    /// Length in bytes.
    pub size: u64,
}

impl Region {
    /// One past the last address.
    pub fn end(&self) -> u64 {
        self.origin + self.size
    }

    /// Whether `addr` lies inside.
    pub fn contains(&self, addr: u64) -> bool {
        (self.origin..self.end()).contains(&addr)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}..{:#010x} ({} KiB)", self.origin, self.end(), self.size / 1024)
    }
}

/// A board's memory map.
#[derive(Debug, Clone, Deserialize)]
pub struct Memory {
    /// Code and read-only data.
    pub flash: Region,
    /// Data, arena and stack.
    pub ram: Region,
    /// Bytes reserved for the stack at the top of RAM.
    pub stack_size: u64,
    /// Ops whose kernel arguments the firmware builds once and keeps on
    /// the stack (a `lowbit_runtime::Plan`, 164 bytes an op on 32-bit
    /// targets); a model with more ops builds them before each op.
    pub plan_ops: usize,
    /// Loaded mode: where the runner writes the image (end of flash or RAM).
    pub image: Region,
    /// RP2040: the second-stage boot loader's slot.
    pub boot2: Option<Region>,
}

/// `[qemu]`: the emulated machine.
#[derive(Debug, Clone, Deserialize)]
pub struct QemuSection {
    /// `-M` value.
    pub machine: String,
    /// `-cpu` value.
    pub cpu: String,
    /// Further arguments (e.g. `-bios none`).
    #[serde(default)]
    pub extra_args: Vec<String>,
}

/// `[probe]`: the real board.
#[derive(Debug, Clone, Deserialize)]
pub struct ProbeSection {
    /// probe-rs chip name.
    pub chip: String,
}

/// A Rust target the firmware supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Target {
    /// Cortex-M0/M0+.
    #[serde(rename = "thumbv6m-none-eabi")]
    Thumbv6m,
    /// Cortex-M3.
    #[serde(rename = "thumbv7m-none-eabi")]
    Thumbv7m,
    /// Cortex-M4F/M7 with hardware float ABI.
    #[serde(rename = "thumbv7em-none-eabihf")]
    Thumbv7emHf,
    /// RV32IMAC.
    #[serde(rename = "riscv32imac-unknown-none-elf")]
    Riscv32imac,
    /// RV32IMC (ESP32-C3).
    #[serde(rename = "riscv32imc-unknown-none-elf")]
    Riscv32imc,
}

/// Instruction-set family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// ARM M-profile (Thumb).
    Arm,
    /// 32-bit RISC-V.
    Riscv32,
}

impl Target {
    /// Every supported target (what `setup` installs).
    pub const ALL: [Target; 5] =
        [Target::Thumbv6m, Target::Thumbv7m, Target::Thumbv7emHf, Target::Riscv32imac, Target::Riscv32imc];

    /// The rustc target triple.
    pub fn triple(self) -> &'static str {
        match self {
            Target::Thumbv6m => "thumbv6m-none-eabi",
            Target::Thumbv7m => "thumbv7m-none-eabi",
            Target::Thumbv7emHf => "thumbv7em-none-eabihf",
            Target::Riscv32imac => "riscv32imac-unknown-none-elf",
            Target::Riscv32imc => "riscv32imc-unknown-none-elf",
        }
    }

    /// The instruction-set family.
    pub fn arch(self) -> Arch {
        match self {
            Target::Thumbv6m | Target::Thumbv7m | Target::Thumbv7emHf => Arch::Arm,
            Target::Riscv32imac | Target::Riscv32imc => Arch::Riscv32,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.triple())
    }
}

impl Arch {
    /// The QEMU system emulator for this family.
    pub fn qemu_system(self) -> &'static str {
        match self {
            Arch::Arm => "qemu-system-arm",
            Arch::Riscv32 => "qemu-system-riscv32",
        }
    }
}

impl Board {
    /// Reads and checks one board file.
    pub fn load(file: &Path) -> Result<Board> {
        let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let mut board: Board = toml::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
        board.file = file.to_path_buf();
        board.check().with_context(|| format!("checking {}", file.display()))?;
        Ok(board)
    }

    /// Consistency checks the type system cannot express.
    fn check(&self) -> Result<()> {
        let stem = self.file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        if stem != self.name {
            bail!("name {:?} differs from the file name {stem:?}", self.name);
        }
        match self.kind {
            BoardKind::Qemu if self.qemu.is_none() => bail!("kind = \"qemu\" needs a [qemu] section"),
            BoardKind::Probe if self.probe.is_none() => bail!("kind = \"probe\" needs a [probe] section"),
            _ => {}
        }
        let m = &self.memory;
        let image_at_end = |r: Region| m.image.origin >= r.origin && m.image.end() == r.end();
        if !image_at_end(m.flash) && !image_at_end(m.ram) {
            bail!("memory.image {} must end where flash or RAM ends", m.image);
        }
        if m.stack_size >= m.ram.size {
            bail!("memory.stack_size {:#x} leaves no RAM", m.stack_size);
        }
        Ok(())
    }

    /// The `[qemu]` section, or an error naming the board.
    pub fn qemu(&self) -> Result<&QemuSection> {
        self.qemu.as_ref().with_context(|| format!("board {} is not a QEMU board", self.name))
    }
}

/// Every board in `boards/`, sorted by name.
pub struct Boards(Vec<Board>);

impl Boards {
    /// Loads `<root>/boards/*.toml`.
    pub fn load(root: &Path) -> Result<Boards> {
        let dir = root.join("boards");
        let mut boards = Vec::new();
        for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                boards.push(Board::load(&path)?);
            }
        }
        boards.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Boards(boards))
    }

    /// The board called `name`; the error lists the valid names.
    pub fn get(&self, name: &str) -> Result<&Board> {
        self.0.iter().find(|b| b.name == name).with_context(|| {
            let names: Vec<_> = self.0.iter().map(|b| b.name.as_str()).collect();
            format!("unknown board {name:?}; boards: {}", names.join(", "))
        })
    }

    /// Boards of one kind.
    pub fn of_kind(&self, kind: BoardKind) -> impl Iterator<Item = &Board> {
        self.0.iter().filter(move |b| b.kind == kind)
    }

    /// Resolves a `--board` value: a name, `qemu`, `probe` or `all`.
    pub fn select(&self, which: &str) -> Result<Vec<&Board>> {
        Ok(match which {
            "all" => self.0.iter().collect(),
            "qemu" => self.of_kind(BoardKind::Qemu).collect(),
            "probe" => self.of_kind(BoardKind::Probe).collect(),
            name => vec![self.get(name)?],
        })
    }
}

/// Prints every board: kind, target, CPU, clock, memory map and how it is reached.
pub fn list(boards: &Boards) -> Result<()> {
    for b in &boards.0 {
        let reach = match (&b.qemu, &b.probe) {
            (Some(q), _) => format!("qemu -M {} -cpu {}", q.machine, q.cpu),
            (None, Some(p)) => format!("probe-rs chip {}", p.chip),
            (None, None) => String::new(),
        };
        println!(
            "{} ({}): {}
  {} / {} @ {} Hz, {reach}",
            b.name, b.kind, b.description, b.target, b.cpu, b.clock_hz
        );
        let m = &b.memory;
        if let Some(boot2) = m.boot2 {
            println!("  boot2 {boot2}");
        }
        println!(
            "  flash {}
  ram   {} (stack {} KiB at the top, a plan of {} ops on it)",
            m.flash,
            m.ram,
            m.stack_size / 1024,
            m.plan_ops
        );
        println!("  image {} (loaded mode)", m.image);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_board_file_loads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let boards = Boards::load(root).unwrap();
        assert!(boards.of_kind(BoardKind::Qemu).count() >= 7);
        assert_eq!(boards.get("qemu-mps2-an386").unwrap().target, Target::Thumbv7emHf);
        assert!(boards.get("nope").unwrap_err().to_string().contains("qemu-microbit"));
    }
}

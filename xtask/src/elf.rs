//! Reading built ELF files: section sizes (flash/RAM) and symbol addresses.

use std::path::Path;

use anyhow::{Context, Result};
use object::{Object, ObjectSection, ObjectSymbol, SectionFlags, SectionKind, SymbolKind, elf::SHF_ALLOC};

/// An ELF read into memory.
pub struct Elf {
    bytes: Vec<u8>,
}

/// Allocated bytes by section kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Sections {
    /// Code: `.text` and the other executable sections.
    pub text: u64,
    /// Read-only data: `.rodata`, the vector table (and the image in embedded mode).
    pub rodata: u64,
    /// Initialized RAM: `.data` (its initial values are in flash as well).
    pub data: u64,
    /// Zeroed RAM: `.bss` and `.uninit` (the arena in embedded mode).
    pub bss: u64,
}

impl Sections {
    /// Flash bytes: code, read-only data and the initial values of `.data`.
    pub fn flash(&self) -> u64 {
        self.text + self.rodata + self.data
    }

    /// Static RAM bytes (the stack and, in loaded mode, the arena come on top).
    pub fn ram(&self) -> u64 {
        self.data + self.bss
    }
}

impl Elf {
    /// Reads `path`.
    pub fn read(path: &Path) -> Result<Elf> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        object::File::parse(&*bytes).with_context(|| format!("parsing {}", path.display()))?;
        Ok(Elf { bytes })
    }

    /// The raw bytes (for the defmt table).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn file(&self) -> object::File<'_> {
        object::File::parse(&*self.bytes).expect("parsed in Elf::read")
    }

    /// Allocated section sizes by kind; riscv-rt's `.stack`/`.heap`
    /// placeholders are left out.
    pub fn sections(&self) -> Sections {
        let mut sizes = Sections::default();
        for section in self.file().sections() {
            let SectionFlags::Elf { sh_flags } = section.flags() else { continue };
            if sh_flags & u64::from(SHF_ALLOC) == 0 || section.size() == 0 {
                continue;
            }
            if matches!(section.name(), Ok(".stack" | ".heap" | ".text.dummy")) {
                continue;
            }
            let size = section.size();
            match section.kind() {
                SectionKind::Text => sizes.text += size,
                SectionKind::UninitializedData | SectionKind::UninitializedTls => sizes.bss += size,
                SectionKind::Data | SectionKind::Tls => sizes.data += size,
                _ => sizes.rodata += size,
            }
        }
        sizes
    }

    /// `.text` bytes of the functions of `crates` (symbols whose mangled
    /// name contains one of the crate names).
    pub fn text_of(&self, crates: &[&str]) -> u64 {
        self.file()
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text)
            .filter(|s| s.name().is_ok_and(|name| crates.iter().any(|c| name.contains(c))))
            .map(|s| s.size())
            .sum()
    }

    /// The address of a symbol (Thumb bit cleared).
    pub fn symbol(&self, name: &str) -> Result<u64> {
        self.file()
            .symbols()
            .find(|s| s.name() == Ok(name))
            .map(|s| s.address() & !1)
            .with_context(|| format!("symbol {name} not found in the ELF"))
    }
}

//! Reading built ELF files: flash/RAM footprint and symbol addresses.

use std::path::Path;

use anyhow::{Context, Result};
use object::{Object, ObjectSection, ObjectSymbol, SectionFlags, SectionKind, elf::SHF_ALLOC};

use crate::board::Region;

/// An ELF read into memory.
pub struct Elf {
    bytes: Vec<u8>,
}

/// Bytes an image occupies in flash and RAM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Code, read-only data and the initial values of `.data`.
    pub flash: u64,
    /// `.data`, `.bss` and `.uninit` (stack and arena not included).
    pub ram: u64,
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

    /// Flash and RAM use from the allocated sections; a section whose address
    /// lies in `ram` and has contents (`.data`) counts for both. riscv-rt's
    /// `.stack`/`.heap` placeholders are left out.
    pub fn footprint(&self, ram: Region) -> Footprint {
        let mut sizes = Footprint::default();
        for section in self.file().sections() {
            let SectionFlags::Elf { sh_flags } = section.flags() else { continue };
            if sh_flags & u64::from(SHF_ALLOC) == 0 || section.size() == 0 {
                continue;
            }
            // riscv-rt's placeholders spanning the free RAM are not data.
            if matches!(section.name(), Ok(".stack" | ".heap" | ".text.dummy")) {
                continue;
            }
            let in_ram = ram.contains(section.address());
            let has_contents = section.kind() != SectionKind::UninitializedData;
            if in_ram {
                sizes.ram += section.size();
            }
            if has_contents {
                sizes.flash += section.size();
            }
        }
        sizes
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

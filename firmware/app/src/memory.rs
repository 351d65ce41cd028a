//! Where the image and the buffers come from: built in, or loaded by the runner.
//!
//! - Loaded mode (default): the image is read from the board's reserved image
//!   region (`IMAGE` in `memory.x`), and the RAM the firmware leaves free
//!   (after `.bss`, below the stack) holds the output and then the arena.
//! - Embedded mode (feature `embedded`): the image is `include_bytes!`-ed,
//!   16-byte aligned, and the arena and output are statics of exactly the
//!   sizes the model states (computed by `build.rs`).

use crate::sys;

/// "loaded" or "embedded", for the boot record.
#[cfg(not(feature = "embedded"))]
pub const MODE: &str = "loaded";
/// "loaded" or "embedded", for the boot record.
#[cfg(feature = "embedded")]
pub const MODE: &str = "embedded";

/// The bytes the image starts at: the whole reserved region, or the built-in image.
#[cfg(not(feature = "embedded"))]
pub fn image_region() -> &'static [u8] {
    sys::image_region()
}

/// The bytes the image starts at: the whole reserved region, or the built-in image.
///
/// The bytes pass through `black_box`: otherwise LTO folds the constant model
/// into the code, and the counts would measure a specialised build (loop
/// iterations even differ) instead of the runtime interpreting a blob.
#[cfg(feature = "embedded")]
pub fn image_region() -> &'static [u8] {
    core::hint::black_box(&embedded::IMAGE.0)
}

/// The mutable buffers one model needs.
pub struct Buffers {
    /// Scratch memory for the model.
    pub arena: &'static mut [u8],
    /// The output tensor.
    pub output: &'static mut [u8],
}

/// Not even the output fits.
pub struct Shortfall {
    /// Bytes needed.
    pub needed: u32,
    /// Bytes free.
    pub available: u32,
}

/// Takes the buffers for a model with `output_len` output bytes (once).
#[cfg(not(feature = "embedded"))]
pub fn buffers(output_len: usize) -> Result<Buffers, Shortfall> {
    let free = sys::take_free_ram();
    // Keep the arena 16-byte aligned: round the output up.
    let split = output_len.div_ceil(16) * 16;
    if split > free.len() {
        return Err(Shortfall { needed: split as u32, available: free.len() as u32 });
    }
    let (output, arena) = free.split_at_mut(split);
    Ok(Buffers { arena, output: &mut output[..output_len] })
}

/// Takes the buffers for a model with `output_len` output bytes (once).
#[cfg(feature = "embedded")]
pub fn buffers(output_len: usize) -> Result<Buffers, Shortfall> {
    let (arena, output) = sys::take_static_buffers();
    if output.len() != output_len {
        return Err(Shortfall { needed: output_len as u32, available: output.len() as u32 });
    }
    Ok(Buffers { arena, output })
}

/// The built-in image and the sizes `build.rs` derived from it.
#[cfg(feature = "embedded")]
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

    /// Aligns its contents to 16 bytes.
    #[repr(C, align(16))]
    pub struct Aligned<T: ?Sized>(pub T);

    /// The image, aligned like a loaded one.
    pub static IMAGE: &Aligned<[u8]> = &Aligned(*include_bytes!(concat!(env!("OUT_DIR"), "/image.bin")));
}

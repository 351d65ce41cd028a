//! The firmware image: what a board needs besides its code to run one model.
//!
//! An image is a 32-byte [`header`] followed by the model blob and the input
//! tensor. The same bytes are either embedded in the firmware
//! (`include_bytes!`) or written by the runner into the board's reserved
//! image region (QEMU `-device loader`, or a probe flashing that region); the
//! firmware parses them identically in both cases.
//!
//! Until `lowbit_runtime::Model` exists, the model blob holds a [`standin`]
//! workload whose API mirrors `Model` (`from_bytes`, `arena_size`,
//! `input_len`, `output_len`, `run`), so the firmware and the host checks swap
//! over in a few lines.
//!
//! The crate is `no_std`; the `std` feature adds the writers the host uses.
#![cfg_attr(not(feature = "std"), no_std)]

pub mod checksum;
pub mod header;
pub mod standin;

pub use checksum::crc32;
pub use header::{Image, ImageError};

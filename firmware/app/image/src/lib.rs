//! The firmware image: what a board needs besides its code to run one model.
//!
//! An image is a 32-byte [`header`] followed by the model blob (an `.lbm`
//! file, read by `lowbit_runtime::Model`) and one or more input tensors of
//! equal length, one per inference. The same bytes are either embedded in the
//! firmware (`include_bytes!`) or written by the runner into the board's
//! reserved image region (QEMU `-device loader`, or a probe writing that
//! region); the firmware parses them identically in both cases.
//!
//! The crate is `no_std`; the `std` feature adds the writer the host uses.
#![cfg_attr(not(feature = "std"), no_std)]

pub mod checksum;
pub mod header;

pub use checksum::crc32;
pub use header::{Image, ImageError};

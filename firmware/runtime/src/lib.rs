//! lowbit's integer runtime.
//!
//! This crate is `#![no_std]`, allocates nothing on the device and contains
//! no `unsafe` code (the Armv7E-M DSP instructions its fastest kernels use
//! live in the audited `lowbit-arch` crate, with portable definitions
//! everywhere else). It is linked both into the board firmware and into the
//! `lowbit` host crate, so the integers a device computes come from the very
//! same code the host used to predict them.
//!
//! - [`arith`]: the quantization arithmetic every part of lowbit shares:
//!   ONNX Runtime-compatible `QuantizeLinear`, `DequantizeLinear` and
//!   `QLinearConv` requantization, computed with IEEE float32 in the same
//!   order ONNX Runtime uses.
//! - [`Model`]: the device API. [`Model::from_bytes`] validates an `.lbm`
//!   blob in place (weights are never copied) and [`Model::run`] executes it
//!   in a caller-provided arena of [`Model::arena_size`] bytes, each op with
//!   the [`Kernel`] family the builder chose for its shape (the portable
//!   reference loops, blocked matrix products, direct windows or popcounts).
//!   [`Model::plan`] builds every op's kernel arguments once, into
//!   [`PlanSlot`]s the caller provides; [`Plan::run`] then only calls the
//!   kernels (the board firmware runs this way).
//! - [`Compiled`]: the host writes a validated model's kernel arguments as
//!   Rust source (`Model::to_rust`, feature `std`); a firmware built with
//!   the feature `compiled` runs it as `COMPILED` without
//!   any parser or validator on the device (production images do).
//! - `build` (feature `std`, host only): `ProgramBuilder` turns a graph of
//!   quantized ops into `.lbm` bytes, with a static memory plan and a size
//!   and cost report.
//!
//! The byte layout of `.lbm` files is specified in `docs/lbm-format.md`.
//!
//! # Layout
//!
//! Activations are stored one value per byte (`i8` or `u8`, up to 8 bits)
//! in `C,H,W` order, which is ONNX order without the batch axis. Model
//! inputs and outputs therefore need no reordering, and Reshape/Flatten are
//! free views.
#![cfg_attr(not(feature = "std"), no_std)]

pub mod arith;
#[cfg(feature = "std")]
pub mod build;
mod error;
mod format;
mod kernels;
mod model;
#[cfg(feature = "std")]
mod plan;

pub use error::Error;
pub use format::{FORMAT_VERSION, Kernel, MAGIC, MAX_DIM, MAX_RANK, OpKind, Shape, TensorQuant, WeightFormat};
#[cfg(feature = "compiled")]
pub use model::COMPILED;
pub use model::{Compiled, Model, Plan, PlanSlot, TensorInfo};

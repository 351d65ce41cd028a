//! lowbit: quantized neural networks from Brevitas ONNX to microcontrollers and FPGAs.
//!
//! The host library. Its pipeline, module by module:
//!
//! - [`onnx`] reads and writes `.onnx` files (prost types generated from
//!   lowbit's own schema, external data included);
//! - [`import`] turns Brevitas's three export styles (QCDQ, QOp, QONNX) into
//!   the quantized IR [`ir::Graph`];
//! - [`exec`] runs a graph on the host with ONNX Runtime's semantics;
//! - [`nn`] builds Brevitas-style quantized models in Rust and exports them;
//! - [`transform`] converts graphs between the QCDQ, QOp and QONNX styles
//!   ([`export`] writes them);
//! - [`inspect`] summarises a graph layer by layer;
//! - [`npy`] reads and writes NumPy `.npy` arrays for the CLI.
//!
//! ```no_run
//! use std::path::Path;
//! let graph = lowbit::import::import_file(Path::new("model.onnx"))?;
//! let input = lowbit::npy::read(Path::new("input.npy"))?;
//! let outputs = lowbit::exec::run(&graph, &[input])?;
//! println!("{:?}", outputs[0].shape);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod exec;
pub mod export;
pub mod import;
pub mod inspect;
pub mod ir;
pub mod lower;
pub mod nn;
pub mod npy;
pub mod onnx;
pub mod onnxruntime;
pub mod transform;
pub mod verify;

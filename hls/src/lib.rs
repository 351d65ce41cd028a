//! FINN-style streaming dataflow accelerators from lowbit integer programs.
//!
//! The source of truth is the `.lbm` program (`lowbit lower`): its ops are
//! decoded ([`lowbit_runtime::build::decode`]) and mapped to one hardware
//! unit per layer in the style of FINN (matrix-vector-activation units,
//! sliding-window generators, vector-vector units for depthwise
//! convolutions, streaming max pools, thresholds, stream adders, label
//! selection). Every requantization becomes a multi-threshold activation
//! computed from the runtime's own integer arithmetic, so the accelerator
//! is bit-exact with the program by construction, and the C simulation
//! checks it.
//!
//! ```no_run
//! use lowbit_hls::{Board, Design, Folding, Options};
//! # fn demo(lbm: &[u8]) -> Result<(), lowbit_hls::HlsError> {
//! let mut options = Options::new(Board::find("pynq-z2")?);
//! options.folding = Folding::TargetFps(100_000.0);
//! let design = Design::new(lbm, &options)?;
//! print!("{}", design.estimate);               // cycles, FPS, LUT/BRAM/URAM/DSP
//! design.write_project("out".as_ref())?;        // HLS C++, Tcl, folding_config.json
//! let report = design.csim("out".as_ref(), &[vec![0; design.input.shape.elements()]])?;
//! assert!(report.exact());
//! # Ok(()) }
//! ```
//!
//! Modules: [`graph`] (units and streams), [`folding`] (PE/SIMD, FINN's
//! `SetFolding` and configuration files), [`estimate`] (FINN's cycle and
//! resource models), and the project writer and C-simulation driver behind
//! [`Design`].

mod board;
mod codegen;
mod csim;
mod design;
mod dtype;
mod error;
pub mod estimate;
pub mod folding;
pub mod graph;
mod thresholds;

pub use board::{Board, Resources};
pub use codegen::TEMPLATES;
pub use csim::{CsimReport, top_indices};
pub use design::{Design, Folding, Options};
pub use dtype::DType;
pub use error::HlsError;
pub use estimate::Estimate;
pub use thresholds::Thresholds;

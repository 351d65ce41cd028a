//! A dataflow design of one program: mapped, folded, estimated; written as
//! an HLS project and simulated.

use crate::board::Board;
use crate::csim::{self, CsimReport};
use crate::estimate::Estimate;
use crate::folding::{self, MVAU_WWIDTH_MAX, config, set_folding};
use crate::graph::{self, Dataflow};
use crate::{HlsError, codegen};
use lowbit_runtime::build::decode;
use lowbit_runtime::{Model, TensorInfo};
use std::path::Path;

/// How to fold the units.
#[derive(Debug, Clone, PartialEq)]
pub enum Folding {
    /// Search a folding reaching this many frames per second at the clock
    /// (FINN's `SetFolding` for `clock / fps` cycles per frame).
    TargetFps(f64),
    /// Apply a FINN folding configuration (the JSON text).
    Config(String),
    /// Every unit at PE = SIMD = 1.
    Unfolded,
}

/// Options of [`Design::new`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Options {
    /// The board (part, clock, budget).
    pub board: Board,
    /// Clock in MHz (the board's default if `None`).
    pub clock_mhz: Option<f64>,
    /// How to fold.
    pub folding: Folding,
    /// Append a label selection of the top `k` outputs.
    pub top_k: Option<usize>,
    /// The SIMD bound of the folding search (weight bits × SIMD per PE).
    pub mvau_wwidth_max: u32,
}

impl Options {
    /// Unfolded, at the board's clock, without label selection.
    pub fn new(board: Board) -> Options {
        Options { board, clock_mhz: None, folding: Folding::Unfolded, top_k: None, mvau_wwidth_max: MVAU_WWIDTH_MAX }
    }
}

/// A folded dataflow accelerator for one `.lbm` program.
#[derive(Debug, Clone)]
pub struct Design {
    /// The units and streams (with width converters).
    pub dataflow: Dataflow,
    /// The board.
    pub board: Board,
    /// The clock in MHz.
    pub clock_mhz: f64,
    /// Cycles, FPS and resources against the board.
    pub estimate: Estimate,
    /// The label selection, if any.
    pub top_k: Option<usize>,
    /// The program's input.
    pub input: TensorInfo,
    /// The program's output.
    pub output: TensorInfo,
    /// Things worth telling the user (ignored configuration attributes).
    pub notes: Vec<String>,
    /// The `.lbm` program, the reference of the C simulation.
    program: Vec<u8>,
}

impl Design {
    /// Maps, folds and estimates the program `lbm`.
    pub fn new(lbm: &[u8], options: &Options) -> Result<Design, HlsError> {
        let model = Model::from_bytes(lbm).map_err(HlsError::Program)?;
        let (input, output) = (model.input(), model.output());
        let program = decode(lbm).map_err(HlsError::Program)?;
        let mut df = graph::map(&program, options.top_k)?;
        let clock_mhz = options.clock_mhz.unwrap_or(options.board.clock_mhz);
        if !(clock_mhz.is_finite() && clock_mhz > 0.0) {
            return Err(HlsError::Config(format!("the clock must be positive, got {clock_mhz} MHz")));
        }
        let mut notes = Vec::new();
        let mut target = None;
        match &options.folding {
            Folding::TargetFps(fps) => {
                if !(fps.is_finite() && *fps > 0.0) {
                    return Err(HlsError::Config(format!("the target FPS must be positive, got {fps}")));
                }
                let cycles = ((clock_mhz * 1e6 / fps) as u64).max(1);
                target = Some(cycles);
                set_folding(&mut df, cycles, options.mvau_wwidth_max);
            }
            Folding::Config(text) => notes = config::apply(&mut df, text)?,
            Folding::Unfolded => folding::tie_and_size(&mut df),
        }
        folding::validate(&df)?;
        graph::insert_dwcs(&mut df)?;
        let estimate = Estimate::of(&df, &options.board, clock_mhz, target);
        Ok(Design {
            dataflow: df,
            board: options.board.clone(),
            clock_mhz,
            estimate,
            top_k: options.top_k,
            input,
            output,
            notes,
            program: lbm.to_vec(),
        })
    }

    /// The folding in FINN's `folding_config.json` format.
    pub fn folding_config(&self) -> String {
        config::to_json(&self.dataflow)
    }

    /// Writes the HLS project (sources, testbench, Tcl, folding and
    /// estimates) into `dir`.
    pub fn write_project(&self, dir: &Path) -> Result<(), HlsError> {
        codegen::write(self, dir)
    }

    /// Values per output frame of the accelerator (`k` with a label selection).
    pub fn output_values(&self) -> usize {
        self.top_k.unwrap_or(self.output.shape.elements())
    }

    /// Compiles and runs the C simulation of the project written to `dir`
    /// on `frames` (input integers in ONNX order, within the input's
    /// range) and compares every output integer with the program run by
    /// lowbit's runtime.
    pub fn csim(&self, dir: &Path, frames: &[Vec<i64>]) -> Result<CsimReport, HlsError> {
        let n = self.input.shape.elements();
        let (lo, hi) = self.input.quant.range();
        for (i, f) in frames.iter().enumerate() {
            if f.len() != n {
                return Err(HlsError::Input(format!("frame {i} has {} values, the model takes {n}", f.len())));
            }
            if let Some(v) = f.iter().find(|&&v| !(i64::from(lo)..=i64::from(hi)).contains(&v)) {
                return Err(HlsError::Input(format!("frame {i}: {v} is outside the input range [{lo}, {hi}]")));
            }
        }
        csim::simulate(dir, &self.program, frames, self.output_values(), self.top_k)
    }
}

//! Folding: how much of each unit is unrolled in hardware (PE output
//! channels and SIMD inputs per cycle), and which memories it uses.
//!
//! - [`set_folding`] searches a folding for a cycle budget as FINN's
//!   `SetFolding` transformation does;
//! - [`config`] reads and writes FINN's `folding_config.json`.

pub mod config;
mod search;

pub use search::{MVAU_WWIDTH_MAX, set_folding};

use crate::HlsError;
use crate::graph::{Dataflow, Op};

/// Memory resource style (FINN's `ram_style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RamStyle {
    /// Let the tools decide.
    Auto,
    /// Block RAM.
    Block,
    /// LUTRAM.
    Distributed,
    /// UltraRAM.
    Ultra,
}

/// Where MVAU/VVAU weights live (FINN's `mem_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemMode {
    /// Constant arrays inside the unit (what lowbit's HLS code does).
    InternalEmbedded,
    /// A separate weight streamer next to the unit (estimates only).
    InternalDecoupled,
}

/// Multiplier implementation (FINN's `resType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResType {
    /// LUT multipliers.
    Lut,
    /// DSP multipliers.
    Dsp,
}

impl RamStyle {
    /// FINN's spelling.
    pub fn finn_name(self) -> &'static str {
        match self {
            RamStyle::Auto => "auto",
            RamStyle::Block => "block",
            RamStyle::Distributed => "distributed",
            RamStyle::Ultra => "ultra",
        }
    }
}

impl MemMode {
    /// FINN's spelling.
    pub fn finn_name(self) -> &'static str {
        match self {
            MemMode::InternalEmbedded => "internal_embedded",
            MemMode::InternalDecoupled => "internal_decoupled",
        }
    }
}

impl ResType {
    /// FINN's spelling.
    pub fn finn_name(self) -> &'static str {
        match self {
            ResType::Lut => "lut",
            ResType::Dsp => "dsp",
        }
    }
}

/// The folding of one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fold {
    /// Output channels (or rows) computed in parallel.
    pub pe: usize,
    /// Inputs consumed in parallel.
    pub simd: usize,
    /// Weight or buffer memory style.
    pub ram_style: RamStyle,
    /// Threshold memory style (MVAU/VVAU).
    pub ram_style_thresholds: RamStyle,
    /// Weight memory mode (MVAU/VVAU).
    pub mem_mode: MemMode,
    /// Multiplier implementation (MVAU/VVAU).
    pub res_type: ResType,
}

impl Fold {
    /// The unfolded (PE = SIMD = 1) default of a unit, with FINN's default
    /// memory styles (PE fixed to all channels for a 2-D streaming max pool).
    pub fn default_for(op: &Op) -> Fold {
        let ram_style = match op {
            Op::Swg(_) | Op::Thresholding(_) => RamStyle::Distributed,
            _ => RamStyle::Auto,
        };
        let pe = match op {
            Op::StreamingMaxPool(p) if !p.is_1d() => p.channels,
            _ => 1,
        };
        Fold {
            pe,
            simd: 1,
            ram_style,
            ram_style_thresholds: RamStyle::Distributed,
            mem_mode: MemMode::InternalEmbedded,
            res_type: ResType::Lut,
        }
    }
}

/// Sets each depthwise sliding-window generator's SIMD to its consumer's
/// PE (their streams must agree), then every stream's word size.
pub(crate) fn tie_and_size(df: &mut Dataflow) {
    for i in 0..df.layers.len() {
        if matches!(&df.layers[i].op, Op::Swg(s) if s.depthwise)
            && let Some(c) = df.consumer(df.layers[i].outputs[0])
        {
            df.layers[i].fold.simd = df.layers[c].fold.pe;
        }
    }
    df.set_word_sizes();
}

/// Checks every unit's folding against FINN's constraints
/// (`MH % PE == 0`, `MW % SIMD == 0`, channels % SIMD, ...).
pub fn validate(df: &Dataflow) -> Result<(), HlsError> {
    for l in &df.layers {
        let err = |reason: String| HlsError::Folding { layer: l.name.clone(), reason };
        for (value, knob, attr) in [(l.fold.pe, l.op.pe_knob(), "PE"), (l.fold.simd, l.op.simd_knob(), "SIMD")] {
            match knob {
                Some(k) if value == 0 || k.max % value != 0 => {
                    return Err(err(format!("{attr} = {value} must divide {} = {}", k.what, k.max)));
                }
                _ => {}
            }
        }
        if let Op::Swg(s) = &l.op
            && s.depthwise
            && let Some(c) = df.consumer(l.outputs[0])
            && df.layers[c].fold.pe != l.fold.simd
        {
            return Err(err(format!(
                "a depthwise generator's SIMD ({}) must equal the PE of {} ({})",
                l.fold.simd, df.layers[c].name, df.layers[c].fold.pe
            )));
        }
    }
    Ok(())
}

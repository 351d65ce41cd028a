//! Performance and resource estimates of a folded dataflow, against a
//! board's budget: per layer and in total, as a table or JSON.

mod cycles;
mod resources;

pub use cycles::cycles;
pub use resources::resources;

use crate::board::{Board, Resources};
use crate::graph::Dataflow;
use serde::Serialize;
use std::fmt;

/// The estimate of one unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerEstimate {
    /// Layer name (`MVAU_hls_0`).
    pub name: String,
    /// FINN op type.
    pub op_type: &'static str,
    /// The program op it implements.
    pub origin: String,
    /// PE (parallel outputs).
    pub pe: usize,
    /// SIMD (parallel inputs).
    pub simd: usize,
    /// Expected cycles per frame.
    pub cycles: u64,
    /// Resources.
    pub resources: Resources,
}

/// Use of one resource against the board's budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Utilisation {
    /// Resource name (`LUT`, `BRAM18`, `URAM`, `DSP`).
    pub resource: &'static str,
    /// Estimated use.
    pub used: u64,
    /// Available on the part.
    pub available: u64,
    /// `used / available` in percent (infinite if none is available).
    pub percent: f64,
}

/// The estimate of a whole design.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Board name.
    pub board: String,
    /// FPGA part.
    pub part: String,
    /// Clock in MHz.
    pub clock_mhz: f64,
    /// The cycle budget per frame the folding aimed at, if any.
    pub target_cycles: Option<u64>,
    /// Per layer, in dataflow order.
    pub layers: Vec<LayerEstimate>,
    /// Cycles per frame of the slowest unit (the initiation interval).
    pub max_cycles: u64,
    /// The slowest unit.
    pub bottleneck: String,
    /// Frames per second at the clock: `clock / max_cycles`.
    pub fps: f64,
    /// Pessimistic latency: the sum of the cycles along the longest path.
    pub critical_path_cycles: u64,
    /// Sum over layers.
    pub total: Resources,
    /// Each resource against the board.
    pub utilisation: Vec<Utilisation>,
    /// Whether every resource fits.
    pub fits: bool,
}

impl Estimate {
    /// Estimates `df` (folded, with width converters) on `board` at
    /// `clock_mhz`.
    pub fn of(df: &Dataflow, board: &Board, clock_mhz: f64, target_cycles: Option<u64>) -> Estimate {
        let mut layers = Vec::with_capacity(df.layers.len());
        let mut latency_at = vec![0u64; df.streams.len()];
        let mut total = Resources::default();
        for l in &df.layers {
            let c = cycles(&l.op, &l.fold);
            let r = resources(&l.op, &l.fold, &df.streams[l.inputs[0]], &df.streams[l.outputs[0]]);
            total.lut += r.lut;
            total.bram18 += r.bram18;
            total.uram += r.uram;
            total.dsp += r.dsp;
            let ready = l.inputs.iter().map(|&s| latency_at[s]).max().unwrap_or(0);
            for &s in &l.outputs {
                latency_at[s] = ready + c;
            }
            layers.push(LayerEstimate {
                name: l.name.clone(),
                op_type: l.op.op_type(),
                origin: l.origin.clone(),
                pe: l.fold.pe,
                simd: l.fold.simd,
                cycles: c,
                resources: r,
            });
        }
        // The first of the slowest units, as FINN reports it.
        let slowest = layers.iter().fold(None::<&LayerEstimate>, |best, l| match best {
            Some(b) if b.cycles >= l.cycles => Some(b),
            _ => Some(l),
        });
        let max_cycles = slowest.map_or(0, |l| l.cycles);
        let b = &board.resources;
        let utilisation: Vec<Utilisation> = [
            ("LUT", total.lut, b.lut),
            ("BRAM18", total.bram18, b.bram18),
            ("URAM", total.uram, b.uram),
            ("DSP", total.dsp, b.dsp),
        ]
        .into_iter()
        .map(|(resource, used, available)| Utilisation {
            resource,
            used,
            available,
            percent: if available == 0 {
                if used == 0 { 0.0 } else { f64::INFINITY }
            } else {
                100.0 * used as f64 / available as f64
            },
        })
        .collect();
        Estimate {
            board: board.name.clone(),
            part: board.part.clone(),
            clock_mhz,
            target_cycles,
            bottleneck: slowest.map_or(String::new(), |l| l.name.clone()),
            fps: clock_mhz * 1e6 / max_cycles.max(1) as f64,
            max_cycles,
            critical_path_cycles: latency_at.iter().copied().max().unwrap_or(0),
            fits: utilisation.iter().all(|u| u.used <= u.available),
            total,
            utilisation,
            layers,
        }
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<36} {:>4} {:>4} {:>10} {:>8} {:>6} {:>4} {:>4}  implements",
            "layer", "PE", "SIMD", "cycles", "LUT", "BRAM18", "URAM", "DSP"
        )?;
        for l in &self.layers {
            let mark = if l.name == self.bottleneck { " *" } else { "" };
            writeln!(
                f,
                "{:<36} {:>4} {:>4} {:>10} {:>8} {:>6} {:>4} {:>4}  {}{mark}",
                l.name,
                l.pe,
                l.simd,
                l.cycles,
                l.resources.lut,
                l.resources.bram18,
                l.resources.uram,
                l.resources.dsp,
                l.origin
            )?;
        }
        let t = &self.total;
        writeln!(
            f,
            "{:<36} {:>4} {:>4} {:>10} {:>8} {:>6} {:>4} {:>4}",
            "total", "", "", self.critical_path_cycles, t.lut, t.bram18, t.uram, t.dsp
        )?;
        let target = self.target_cycles.map_or(String::new(), |c| format!(" (target {c})"));
        writeln!(
            f,
            "bottleneck {} at {} cycles/frame{target}: {:.1} FPS at {} MHz, latency ≥ {} cycles ({:.1} µs)",
            self.bottleneck,
            self.max_cycles,
            self.fps,
            self.clock_mhz,
            self.critical_path_cycles,
            self.critical_path_cycles as f64 / self.clock_mhz
        )?;
        let uses: Vec<String> = self
            .utilisation
            .iter()
            .map(|u| format!("{} {}/{} ({:.1} %)", u.resource, u.used, u.available, u.percent))
            .collect();
        let verdict = if self.fits { "fits" } else { "DOES NOT FIT" };
        writeln!(f, "{} ({}): {}: {verdict}", self.board, self.part, uses.join(", "))
    }
}

//! LUT, BRAM18, URAM and DSP estimates per unit, FINN's cost models.
//!
//! Sources: Blott et al., "FINN-R: An End-to-End Deep-Learning Framework for
//! Fast Exploration of Quantized Neural Networks" (ACM TRETS 11(3), 2018),
//! §4.2 "Resource estimation": the MVAU's LUTs are
//! `c0 + c1·P·(multipliers + adder tree + accumulator + threshold storage +
//! comparators) + LUTRAM`, with `c0 = 300`, `c1 = 1.1` fitted in §4.2, and
//! weight memories of depth `MW·MH/(P·Q)` and width `P·Q·W` mapped onto
//! RAMB18 aspect ratios (Xilinx UG573, table 1-10, simple dual port); the
//! minimal accumulator width follows Colbert et al., "Quantized Neural
//! Networks for Low-Precision Accumulation with Guaranteed Overflow
//! Avoidance" (arXiv 2301.13376), eq. 5. Units FINN gives no model
//! (padding, pools, stream adders and duplicators, label selection) count
//! zero, as in FINN.

use super::cycles::SwgVariant;
use crate::board::Resources;
use crate::folding::{Fold, MemMode, RamStyle, ResType};
use crate::graph::{Op, Stream, Swg, weight_type};

/// The estimated resources of `op` with folding `fold`; `streams` are the
/// unit's input and output streams (for width converters).
pub fn resources(op: &Op, fold: &Fold, input: &Stream, output: &Stream) -> Resources {
    let mut r = Resources::default();
    match op {
        Op::Mvau(m) => {
            let (w, _) = weight_type(m.weight_format);
            let a = m.input.bits;
            let wmem = (m.mw * m.mh / (fold.pe * fold.simd)) as u64;
            let mac = Mac {
                p: fold.pe as f64,
                q: fold.simd as f64,
                w: f64::from(w),
                a: f64::from(a),
                dot: m.mw as f64,
                signed_input: m.input.signed,
                acc_bits: f64::from(m.act.acc.bits),
                out_bits: m.act.output.bits,
                tmem: (m.mh / fold.pe) as f64,
                wmem,
            };
            let thresholds = fold.ram_style_thresholds == RamStyle::Distributed;
            r.lut = mac.luts(fold, thresholds, true);
            r.dsp = mac.dsps(fold, fold.simd as f64);
            let small = fold.mem_mode == MemMode::InternalEmbedded && wmem <= 128;
            let width = (fold.pe * fold.simd) as u64 * u64::from(w);
            if !small {
                match fold.ram_style {
                    RamStyle::Ultra => r.uram = width.div_ceil(72) * wmem.div_ceil(4096),
                    RamStyle::Distributed => {}
                    RamStyle::Auto | RamStyle::Block => r.bram18 = mvau_bram(width, wmem),
                }
            }
        }
        Op::Vvau(v) => {
            let (w, _) = weight_type(v.weight_format);
            let k = v.kernel[0] * v.kernel[1];
            let wmem = (k * v.channels / fold.pe / fold.simd) as u64;
            let mac = Mac {
                p: fold.pe as f64,
                q: fold.simd as f64,
                w: f64::from(w),
                a: f64::from(v.input.bits),
                dot: k as f64,
                signed_input: v.input.signed,
                acc_bits: f64::from(v.act.acc.bits),
                out_bits: v.act.output.bits,
                tmem: (v.channels / fold.pe) as f64,
                wmem,
            };
            r.lut = mac.luts(fold, true, false);
            r.dsp = mac.dsps(fold, 1.0);
            let lutram =
                wmem <= 128 && (fold.ram_style == RamStyle::Auto || fold.mem_mode == MemMode::InternalEmbedded);
            let width = (fold.pe * fold.simd) as u64 * u64::from(w);
            if !lutram {
                match fold.ram_style {
                    RamStyle::Ultra => r.uram = width.div_ceil(72) * wmem.div_ceil(4096),
                    RamStyle::Distributed => {}
                    RamStyle::Auto | RamStyle::Block => r.bram18 = vvau_bram(width, wmem),
                }
            }
        }
        Op::Swg(s) => swg(s, fold, &mut r),
        Op::Thresholding(t) => {
            // Comparators over the input width, plus LUTRAM or BRAM.
            let (a, p) = (u64::from(t.input.bits), fold.pe as u64);
            let tmem = (t.channels / fold.pe) as u64;
            r.lut = a * p;
            if tmem > 1 {
                match fold.ram_style {
                    RamStyle::Distributed => r.lut += p * a * tmem.div_ceil(64),
                    RamStyle::Block => r.bram18 = (a * p).div_ceil(16) * tmem.div_ceil(1024),
                    RamStyle::Auto | RamStyle::Ultra => {}
                }
            }
        }
        Op::Dwc(_) => {
            // Shift-register converter through the least common multiple.
            let (inw, outw) = (input.word * input.dtype.bits as usize, output.word * output.dtype.bits as usize);
            let (lo, hi) = (inw.min(outw), inw.max(outw));
            let lcm = hi / crate::graph::gcd(hi, lo) * lo;
            let mut luts = 0;
            for (from, to) in [(inw, lcm), (lcm, outw)] {
                if from != to {
                    luts += (from as f64 / to as f64).log2().ceil().abs() as u64 + to as u64;
                }
            }
            r.lut = luts;
        }
        _ => {}
    }
    r
}

/// The multiply-accumulate array of an MVAU or VVAU.
struct Mac {
    /// PE.
    p: f64,
    /// SIMD.
    q: f64,
    /// Weight bits.
    w: f64,
    /// Input bits.
    a: f64,
    /// Dot product length (MW, or the window size).
    dot: f64,
    /// Whether inputs are signed.
    signed_input: bool,
    /// Accumulator bits.
    acc_bits: f64,
    /// Output bits.
    out_bits: u32,
    /// Threshold memory depth per PE.
    tmem: f64,
    /// Weight memory depth.
    wmem: u64,
}

impl Mac {
    /// FINN-R's LUT model. `thresholds`: count threshold LUTRAM and
    /// comparators; `ceil_tmem`: round the threshold memory to whole 64-deep
    /// LUTRAMs (MVAU) or not (VVAU).
    fn luts(&self, fold: &Fold, thresholds: bool, ceil_tmem: bool) -> u64 {
        let (c0, c1) = (300.0, 1.1);
        let lutram = fold.ram_style == RamStyle::Distributed && fold.mem_mode == MemMode::InternalDecoupled
            || fold.mem_mode == MemMode::InternalEmbedded && self.wmem <= 128;
        let c2 = if lutram { self.p * self.q * self.w * (self.wmem as f64 / 64.0).ceil() } else { 0.0 };
        let wa = self.w + self.a;
        let mult = if fold.res_type == ResType::Dsp { 0.0 } else { self.q * (2.0 * (wa / 6.0).ceil() - 1.0) * wa };
        let adder_tree = wa * (2.0 * self.q - 1.0);
        let alpha = self.dot.log2() + self.w + self.a - 1.0 - f64::from(u8::from(self.signed_input));
        let acc_bits = self.acc_bits.min((alpha + (1.0 + (-alpha).exp2()).log2() + 1.0).ceil());
        let (mut thr, mut comp) = (0.0, 0.0);
        if thresholds {
            let steps = (2f64).powi(self.out_bits as i32) - 1.0;
            let depth = if ceil_tmem { (self.tmem / 64.0).ceil() } else { self.tmem / 64.0 };
            thr = steps * acc_bits * depth;
            comp = steps * acc_bits;
        }
        (c0 + c1 * (self.p * (mult + adder_tree + acc_bits + thr + comp)) + c2) as u64
    }

    /// DSPs when multipliers map to DSP slices: `P·Q·ceil((W+A)/48)`.
    fn dsps(&self, fold: &Fold, q: f64) -> u64 {
        if fold.res_type == ResType::Dsp { (self.p * q * ((self.w + self.a) / 48.0).ceil()) as u64 } else { 0 }
    }
}

/// RAMB18s for an MVAU weight memory of `width` bits × `depth` words.
fn mvau_bram(width: u64, depth: u64) -> u64 {
    match width {
        1 => depth.div_ceil(16384),
        2 => depth.div_ceil(8192),
        3..=4 => depth.div_ceil(4096) * width.div_ceil(4),
        5..=9 => depth.div_ceil(2048) * width.div_ceil(9),
        _ if width <= 18 || depth > 512 => depth.div_ceil(1024) * width.div_ceil(18),
        _ => depth.div_ceil(512) * width.div_ceil(36),
    }
}

/// RAMB18s for a VVAU weight memory (HLS arrays use power-of-two widths).
fn vvau_bram(width: u64, depth: u64) -> u64 {
    match width {
        1 => depth.div_ceil(16384),
        2 => depth.div_ceil(8192),
        3..=4 => depth.div_ceil(4096) * width.div_ceil(4),
        5..=9 => depth.div_ceil(2048) * width.div_ceil(8),
        _ if width <= 18 || depth > 512 => depth.div_ceil(1024) * width.div_ceil(16),
        _ => depth.div_ceil(512) * width.div_ceil(32),
    }
}

/// The line buffer of a sliding-window generator.
fn swg(s: &Swg, fold: &Fold, r: &mut Resources) {
    let simd = fold.simd as u64;
    let a = u64::from(s.dtype.bits);
    let c = s.channels as u64;
    let ram_width = |depth: u64| match depth {
        0..=512 => 36,
        513..=1024 => 18,
        1025..=2048 => 9,
        2049..=4096 => 4,
        4097..=8192 => 2,
        _ => 1,
    };
    r.lut = 300;
    let variant = SwgVariant::of(s);
    if variant == SwgVariant::TwoD {
        // (k + stride) rows of IW·C/SIMD words (FINN's model for square
        // maps, with the row length).
        let (dim, k, stride) = (s.ifm[1] as u64, s.kernel[0] as u64, s.stride[0] as u64);
        let depth = dim * c / simd;
        match fold.ram_style {
            RamStyle::Auto | RamStyle::Block => r.bram18 = (k + stride) * (simd * a).div_ceil(ram_width(depth)),
            RamStyle::Ultra => r.uram = (k + stride) * (simd * a).div_ceil(64) * depth.div_ceil(4096),
            RamStyle::Distributed => r.lut += (k + stride) * simd * a * depth.div_ceil(64),
        }
        return;
    }
    let kw = s.kernel[1] as u64;
    // Buffered values (elements) per variant.
    let values = match variant {
        SwgVariant::OneD => (kw - 1) * c,
        SwgVariant::OneDDwsNaive => s.ifm[1] as u64 * c,
        _ => kw * c,
    };
    let depth = values / simd;
    match fold.ram_style {
        RamStyle::Auto | RamStyle::Block => r.bram18 = (simd * a).div_ceil(ram_width(depth)) * depth.div_ceil(18432),
        RamStyle::Ultra => r.uram = (simd * a).div_ceil(72) * depth.div_ceil(4096),
        RamStyle::Distributed => r.lut += (a * values).div_ceil(64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;
    use crate::graph::Mvau;
    use crate::thresholds::Thresholds;
    use lowbit_runtime::WeightFormat;

    fn mvau(mw: usize, mh: usize, out_bits: u32) -> Op {
        Op::Mvau(Mvau {
            mw,
            mh,
            reps: 1,
            input: DType { bits: 8, signed: false },
            weight_format: WeightFormat::Signed(4),
            weights: vec![],
            act: Thresholds {
                channels: mh,
                steps: (1 << out_bits) - 1,
                base: 0,
                values: vec![],
                negate: vec![false; mh],
                acc: DType { bits: 18, signed: true },
                output: DType { bits: out_bits, signed: false },
            },
        })
    }

    fn fold(pe: usize, simd: usize) -> Fold {
        Fold {
            pe,
            simd,
            ram_style: RamStyle::Auto,
            ram_style_thresholds: RamStyle::Distributed,
            mem_mode: MemMode::InternalEmbedded,
            res_type: ResType::Lut,
        }
    }

    fn stream() -> Stream {
        Stream { dtype: DType { bits: 8, signed: false }, elements: 64, word: 1 }
    }

    #[test]
    fn mvau_luts_follow_finn_r() {
        // 64x64, W=4, A=8 unsigned, PE=2, SIMD=4: wmem = 512 (> 128, BRAM).
        // mult = 4·(2·2-1)·12 = 144; adder = 12·7 = 84;
        // alpha = 6 + 4 + 8 - 1 = 17 → acc = min(18, ceil(17 + log2(1+2^-17) + 1)) = 18;
        // thr = 15·18·ceil(32/64) = 270; comp = 270;
        // 300 + 1.1·2·(144 + 84 + 18 + 270 + 270) = 300 + 1729.2.
        let r = resources(&mvau(64, 64, 4), &fold(2, 4), &stream(), &stream());
        assert_eq!(r.lut, 2029);
        // width 2·4·4 = 32 bits, depth 512: ceil(512/512)·ceil(32/36) = 1.
        assert_eq!((r.bram18, r.uram, r.dsp), (1, 0, 0));
        // Fully folded: 4 bits wide, 4096 deep: one RAMB18 in its 4x4096 shape.
        let r = resources(&mvau(64, 64, 4), &fold(1, 1), &stream(), &stream());
        assert_eq!(r.bram18, 1);
        // PE=16, SIMD=16: wmem = 16 ≤ 128 → LUTRAM: c2 = 16·16·4·1 = 1024, no BRAM.
        let r = resources(&mvau(64, 64, 4), &fold(16, 16), &stream(), &stream());
        assert_eq!(r.bram18, 0);
        let mult = 16.0 * 3.0 * 12.0;
        let expected = 300.0 + 1.1 * 16.0 * (mult + 12.0 * 31.0 + 18.0 + 270.0 + 270.0) + 1024.0;
        assert_eq!(r.lut, expected as u64);
        let mut dsp = fold(2, 4);
        dsp.res_type = ResType::Dsp;
        assert_eq!(resources(&mvau(64, 64, 4), &dsp, &stream(), &stream()).dsp, 8);
        dsp.ram_style = RamStyle::Ultra;
        let r = resources(&mvau(64, 64, 4), &dsp, &stream(), &stream());
        assert_eq!((r.bram18, r.uram), (0, 1));
    }

    #[test]
    fn bram_aspect_ratios() {
        assert_eq!(mvau_bram(1, 20_000), 2);
        assert_eq!(mvau_bram(8, 3000), 2);
        assert_eq!(mvau_bram(36, 600), 2);
        assert_eq!(mvau_bram(72, 256), 2);
    }
}

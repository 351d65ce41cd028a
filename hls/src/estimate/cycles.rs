//! Cycles per frame of each unit, FINN's expected-cycle formulas.
//!
//! Sources: Umuroglu et al., "FINN: A Framework for Fast, Scalable
//! Binarized Neural Network Inference" (FPGA 2017), §4.2 (folding: an MVAU
//! with P PEs of SIMD lanes each takes `(MH/P)·(MW/S)` cycles per vector),
//! and Blott et al., "FINN-R" (ACM TRETS 2018), §4.3 (sliding window unit,
//! pooling, thresholding), as refined by the FINN compiler's per-op cycle
//! estimates used by its `SetFolding` transformation.

use crate::folding::Fold;
use crate::graph::{Op, Swg};

/// Expected cycles per frame of `op` with folding `fold`.
pub fn cycles(op: &Op, fold: &Fold) -> u64 {
    let (pe, simd) = (fold.pe as u64, fold.simd as u64);
    match op {
        // (MH/PE)·(MW/SIMD) per input vector.
        Op::Mvau(m) => (m.mh as u64 / pe) * (m.mw as u64 / simd) * m.reps as u64,
        // (C·kH·kW)/PE/SIMD per output pixel.
        Op::Vvau(v) => {
            let k = (v.kernel[0] * v.kernel[1]) as u64;
            v.channels as u64 * k / pe / simd * (v.dim[0] * v.dim[1]) as u64
        }
        Op::Swg(s) => swg_cycles(s, simd),
        // One word of SIMD channels per padded pixel.
        Op::FmPadding(p) => {
            let (h, w) = (p.dim[0] + p.pads[0] + p.pads[2], p.dim[1] + p.pads[1] + p.pads[3]);
            p.channels as u64 / simd * (h * w) as u64
        }
        Op::StreamingMaxPool(p) => {
            let [kh, kw] = p.kernel;
            if p.is_1d() {
                // ofm_w · (C/PE) · (k + 1).
                (p.dim[1] / kw) as u64 * (p.channels as u64 / pe) * (kw as u64 + 1)
            } else {
                // H·W·(1 + 1/(kH·kW)), FINN's formula (for square maps) with
                // the real pixel count.
                let pixels = (p.dim[0] * p.dim[1]) as u64;
                pixels + pixels / (kh * kw) as u64
            }
        }
        // (C·kH·kW)/PE per output pixel.
        Op::Pool(p) => {
            let k = (p.kernel[0] * p.kernel[1]) as u64;
            p.channels as u64 * k / pe * (p.dim[0] * p.dim[1]) as u64
        }
        // C/PE per pixel.
        Op::Thresholding(t) => t.channels as u64 / pe * t.reps as u64,
        Op::AddStreams(a) => a.channels as u64 / pe * a.reps as u64,
        Op::DuplicateStreams(d) => d.channels as u64 / pe * d.reps as u64,
        // Labels/PE.
        Op::LabelSelect(l) => l.labels as u64 / pe,
        // FINN gives width converters no cycle estimate; this is the word
        // count on the busier side, one word per cycle.
        Op::Dwc(d) => (d.elements / d.in_elems).max(d.elements / d.out_elems) as u64,
    }
}

/// The sliding-window generator variants FINN chooses between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SwgVariant {
    /// 2-D line buffer.
    TwoD,
    /// 1-D, standard window order.
    OneD,
    /// 1-D depthwise, any stride or dilation (buffers the whole row).
    OneDDwsNaive,
    /// 1-D depthwise, stride 2.
    OneDDwsStride,
    /// 1-D depthwise, stride 1.
    OneDDws,
}

impl SwgVariant {
    /// The variant FINN would pick for `s`.
    pub(crate) fn of(s: &Swg) -> SwgVariant {
        if !s.is_1d() {
            SwgVariant::TwoD
        } else if !s.depthwise {
            SwgVariant::OneD
        } else if (s.stride[1] > 1 && s.stride[1] != 2) || s.dilation[1] > 1 {
            SwgVariant::OneDDwsNaive
        } else if s.stride[1] == 2 {
            SwgVariant::OneDDwsStride
        } else {
            SwgVariant::OneDDws
        }
    }
}

/// FINN's sliding-window cycles: 2-D reads `kH·dH` rows ahead, then per
/// output row the slower of writing `OW·kH·kW` and reading `sW·IW` words;
/// 1-D variants as FINN estimates them.
fn swg_cycles(s: &Swg, simd: u64) -> u64 {
    let cf = s.channels as u64 / simd;
    let iw = s.ifm[1] as u64;
    let [oh, ow] = s.ofm.map(|v| v as u64);
    let [kh, kw] = s.kernel.map(|v| v as u64);
    match SwgVariant::of(s) {
        SwgVariant::TwoD => {
            let write = ow * kw * kh * cf;
            let read = s.stride[1] as u64 * iw * cf;
            iw * kh * s.dilation[0] as u64 * cf + oh * write.max(read)
        }
        SwgVariant::OneD => 1 + ow * kw * cf,
        SwgVariant::OneDDwsNaive => iw * cf + ow * kw * cf,
        // 1 + OW·kW·C/SIMD + (C/SIMD)·(kW-1) - (kW-1).
        SwgVariant::OneDDwsStride | SwgVariant::OneDDws => 1 + ow * kw * cf + cf * (kw - 1) - (kw - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;
    use crate::folding::{MemMode, RamStyle, ResType};
    use crate::graph::{
        AddStreams, DuplicateStreams, Dwc, FmPadding, LabelSelect, Mvau, Pool, StreamingMaxPool, Thresholding, Vvau,
    };
    use crate::thresholds::Thresholds;
    use lowbit_runtime::WeightFormat;

    const U4: DType = DType { bits: 4, signed: false };

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

    fn act(channels: usize) -> Thresholds {
        Thresholds {
            channels,
            steps: 15,
            base: 0,
            values: vec![0; channels * 15],
            negate: vec![false; channels],
            acc: DType { bits: 16, signed: true },
            output: U4,
        }
    }

    fn swg(depthwise: bool, ifm: [usize; 2], kernel: [usize; 2], stride: [usize; 2], dilation: [usize; 2]) -> Op {
        let ofm = [
            (ifm[0] - (kernel[0] - 1) * dilation[0] - 1) / stride[0] + 1,
            (ifm[1] - (kernel[1] - 1) * dilation[1] - 1) / stride[1] + 1,
        ];
        Op::Swg(Swg { channels: 16, ifm, ofm, kernel, stride, dilation, depthwise, dtype: U4 })
    }

    #[test]
    fn mvau_and_vvau_cycles() {
        let mvau = Op::Mvau(Mvau {
            mw: 576,
            mh: 64,
            reps: 36,
            input: U4,
            weight_format: WeightFormat::Signed(4),
            weights: vec![],
            act: act(64),
        });
        // (64/4)·(576/8)·36 = 16·72·36.
        assert_eq!(cycles(&mvau, &fold(4, 8)), 41_472);
        assert_eq!(cycles(&mvau, &fold(1, 1)), 1_327_104);
        let vvau = Op::Vvau(Vvau {
            channels: 32,
            kernel: [3, 3],
            dim: [10, 10],
            input: U4,
            weight_format: WeightFormat::Signed(4),
            weights: vec![],
            act: act(32),
        });
        // 32·9/4/3·100.
        assert_eq!(cycles(&vvau, &fold(4, 3)), 2_400);
    }

    #[test]
    fn sliding_window_cycles() {
        // 2-D: IFM 10x10x16, k 3, s 1, SIMD 4 → cf 4: 10·3·1·4 + 8·max(8·3·3·4, 1·10·4).
        assert_eq!(cycles(&swg(false, [10, 10], [3, 3], [1, 1], [1, 1]), &fold(1, 4)), 120 + 8 * 288);
        // Stride 2 with a 1x1 kernel: reading dominates: 9·1·1·16 + 5·max(5·16, 2·9·16).
        assert_eq!(cycles(&swg(false, [9, 9], [1, 1], [2, 2], [1, 1]), &fold(1, 1)), 144 + 5 * 288);
        // Dilation 2: 12·3·2·16 + 8·max(8·9·16, 12·16).
        assert_eq!(cycles(&swg(false, [12, 12], [3, 3], [1, 1], [2, 2]), &fold(1, 1)), 1_152 + 8 * 1_152);
        // 1-D: 1 + OW·kW·C/SIMD with OW = 30.
        assert_eq!(cycles(&swg(false, [1, 32], [1, 3], [1, 1], [1, 1]), &fold(1, 2)), 1 + 30 * 3 * 8);
        // 1-D depthwise, stride 1: 1 + 30·3·16 + 16·2 - 2.
        assert_eq!(cycles(&swg(true, [1, 32], [1, 3], [1, 1], [1, 1]), &fold(1, 1)), 1 + 1_440 + 30);
        // 1-D depthwise, dilated: naive, read + write = 32·16 + 28·3·16.
        assert_eq!(cycles(&swg(true, [1, 32], [1, 3], [1, 1], [1, 2]), &fold(1, 1)), 512 + 1_344);
    }

    #[test]
    fn pooling_padding_threshold_and_stream_cycles() {
        let pad = Op::FmPadding(FmPadding { channels: 8, dim: [8, 8], pads: [1, 1, 1, 1], value: 0, dtype: U4 });
        assert_eq!(cycles(&pad, &fold(1, 2)), 4 * 100);
        let smp =
            |dim: [usize; 2], kernel| Op::StreamingMaxPool(StreamingMaxPool { channels: 8, dim, kernel, dtype: U4 });
        // 8·8·(1 + 1/4).
        assert_eq!(cycles(&smp([8, 8], [2, 2]), &fold(8, 1)), 80);
        // 1-D: (16/2)·(8/2)·(2+1).
        assert_eq!(cycles(&smp([1, 16], [1, 2]), &fold(2, 1)), 96);
        let pool = Op::Pool(Pool {
            channels: 8,
            kernel: [3, 3],
            dim: [4, 4],
            sum: true,
            input: U4,
            output: DType { bits: 8, signed: false },
        });
        assert_eq!(cycles(&pool, &fold(2, 1)), 8 * 9 / 2 * 16);
        let thr = Op::Thresholding(Thresholding { channels: 64, reps: 49, input: U4, act: act(64) });
        assert_eq!(cycles(&thr, &fold(16, 1)), 4 * 49);
        let add = Op::AddStreams(AddStreams {
            channels: 32,
            reps: 16,
            a: U4,
            b: U4,
            output: DType { bits: 5, signed: false },
        });
        assert_eq!(cycles(&add, &fold(8, 1)), 64);
        let dup = Op::DuplicateStreams(DuplicateStreams { channels: 12, reps: 25, dtype: U4 });
        assert_eq!(cycles(&dup, &fold(4, 1)), 3 * 25);
        // A width converter moves max(in words, out words): 96 values from
        // 4 to 6 per word is 24 words in, 16 out.
        let dwc = Op::Dwc(Dwc { in_elems: 4, out_elems: 6, elements: 96, dtype: U4 });
        assert_eq!(cycles(&dwc, &fold(1, 1)), 24);
        let top = Op::LabelSelect(LabelSelect { labels: 10, k: 3, input: U4, output: U4 });
        assert_eq!(cycles(&top, &fold(5, 1)), 2);
    }
}

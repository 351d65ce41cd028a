//! Writes a seed corpus for the `model` fuzz target to `corpus/model/`:
//! small valid models that together use every op, weight format and both
//! ranks of spatial input.

use lowbit_runtime::build::{
    AddParams, AvgPoolParams, ConvParams, ConvTransposeParams, DenseParams, PoolParams, ProgramBuilder, Requant,
    lut_from_fn,
};
use lowbit_runtime::{TensorQuant, WeightFormat};

fn quant(bits: u8, signed: bool, zero_point: i32) -> TensorQuant {
    TensorQuant {
        scale: 0.05,
        zero_point,
        bits,
        signed,
    }
}

fn weights(n: usize, format: WeightFormat) -> Vec<i32> {
    let pattern: &[i32] = match format {
        WeightFormat::Bipolar => &[1, -1, -1, 1, 1],
        WeightFormat::Unsigned(_) => &[0, 1, 2, 1],
        WeightFormat::Signed(_) => &[1, -2, 0, -1, 1],
    };
    pattern.iter().cycle().take(n).copied().collect()
}

fn conv(c: usize, o: usize, groups: usize, format: WeightFormat, output: TensorQuant) -> ConvParams {
    ConvParams {
        out_channels: o,
        kernel: [3, 3],
        stride: [1, 1],
        pads: [1, 1, 1, 1],
        dilation: [1, 1],
        groups,
        weights: weights(o * c / groups * 9, format),
        weight_format: format,
        bias: vec![3; o],
        requant: Requant::new(vec![0.1; o], output),
    }
}

fn every_op() -> Vec<u8> {
    let (xq, aq) = (quant(4, false, 2), quant(8, true, -3));
    let mut b = ProgramBuilder::new();
    let x = b.input(&[2, 4, 4], xq).unwrap();
    let t1 = b.conv(x, conv(2, 4, 2, WeightFormat::Signed(3), aq)).unwrap();
    let t2 = b.max_pool(t1, PoolParams::new([2, 2])).unwrap();
    let up = ConvTransposeParams {
        out_channels: 2,
        kernel: [2, 2],
        stride: [2, 2],
        pads: [0; 4],
        dilation: [1, 1],
        output_padding: [0, 0],
        groups: 1,
        weights: weights(4 * 2 * 4, WeightFormat::Bipolar),
        weight_format: WeightFormat::Bipolar,
        bias: vec![],
        requant: Requant::new(vec![0.2], xq),
    };
    let t3 = b.conv_transpose(t2, up).unwrap();
    let t4 = b.add(x, t3, AddParams::new(aq)).unwrap();
    let pool = PoolParams {
        kernel: [3, 3],
        stride: [1, 1],
        pads: [1, 1, 1, 1],
        dilation: [1, 1],
    };
    let avg = AvgPoolParams {
        pool,
        count_include_pad: false,
        requant: Requant::new(vec![0.3; 9], aq),
    };
    let t5 = b.avg_pool(t4, avg).unwrap();
    let t6 = b.lut(t5, &lut_from_fn(true, |v| v.clamp(0, 15)), xq).unwrap();
    let t7 = b.reshape(t6, &[32]).unwrap();
    let dense = DenseParams {
        out_features: 3,
        weights: weights(3 * 32, WeightFormat::Unsigned(2)),
        weight_format: WeightFormat::Unsigned(2),
        bias: vec![-5, 0, 5],
        requant: Requant::new(vec![0.01], aq),
    };
    let y = b.dense(t7, dense).unwrap();
    b.output(y).unwrap();
    b.finish().unwrap().bytes
}

fn one_d() -> Vec<u8> {
    let q = quant(8, true, 0);
    let mut b = ProgramBuilder::new();
    let x = b.input(&[3, 12], q).unwrap();
    let c = ConvParams {
        kernel: [1, 3],
        stride: [1, 2],
        pads: [0, 2, 0, 1],
        dilation: [1, 2],
        ..conv(3, 3, 3, WeightFormat::Signed(8), q)
    };
    let c = ConvParams {
        weights: weights(3 * 3, WeightFormat::Signed(8)),
        ..c
    };
    let t = b.conv(x, c).unwrap();
    let n = b.shape(t).unwrap().elements();
    let dense = DenseParams {
        out_features: 2,
        weights: weights(2 * n, WeightFormat::Signed(8)),
        weight_format: WeightFormat::Signed(8),
        bias: vec![],
        requant: Requant::new(vec![0.02, 0.03], q),
    };
    let y = b.dense(t, dense).unwrap();
    b.output(y).unwrap();
    b.finish().unwrap().bytes
}

fn main() {
    let dir = std::path::Path::new("corpus/model");
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in [("every_op.lbm", every_op()), ("one_d.lbm", one_d())] {
        std::fs::write(dir.join(name), &bytes).unwrap();
        println!("{name}: {} bytes", bytes.len());
    }
}

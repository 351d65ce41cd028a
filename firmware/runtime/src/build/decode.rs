//! `decode`: an `.lbm` file back into the plain parameter structs the
//! builder takes (the inverse of [`ProgramBuilder`](super::ProgramBuilder)),
//! for host tools that translate a program into something else (the FPGA
//! dataflow generator, `lowbit-hls`).
//!
//! Weights come back unpacked as `(w - zw)` in ONNX layout, biases unfolded
//! (the stored `bias - zx · Σ w` of Conv and Dense plus `zx · Σ w` again,
//! modulo 2^32, which is the original bias because the builder proved the
//! exact accumulator fits an `i32`), multipliers as stored, and each output
//! stage's quantization taken from the op's output tensor.

use super::TensorId;
use super::params::{AddParams, AvgPoolParams, ConvParams, ConvTransposeParams, DenseParams, PoolParams, Requant};
use crate::format::{
    Affine, Header, Kernel, OpBody, OpRecord, Requant as RequantRecord, Shape, TENSOR_RECORD_LEN, TensorQuant,
    TensorRecord, WeightStream, Window, f32_at, i32_at,
};
use crate::kernels::{self, Values};
use crate::{Error, Model};

/// A tensor of a decoded program.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodedTensor {
    /// Shape in ONNX order without the batch axis.
    pub shape: Shape,
    /// Quantization and storage type.
    pub quant: TensorQuant,
    /// The tensor whose bytes this one reinterprets (Reshape/Flatten).
    pub view_of: Option<TensorId>,
}

/// The parameters of a decoded op, in the builder's own structs.
#[derive(Debug, Clone, PartialEq)]
pub enum OpParams {
    /// [`ProgramBuilder::conv`](super::ProgramBuilder::conv).
    Conv(ConvParams),
    /// [`ProgramBuilder::conv_transpose`](super::ProgramBuilder::conv_transpose).
    ConvTranspose(ConvTransposeParams),
    /// [`ProgramBuilder::dense`](super::ProgramBuilder::dense).
    Dense(DenseParams),
    /// [`ProgramBuilder::max_pool`](super::ProgramBuilder::max_pool).
    MaxPool(PoolParams),
    /// [`ProgramBuilder::avg_pool`](super::ProgramBuilder::avg_pool).
    AvgPool(AvgPoolParams),
    /// [`ProgramBuilder::add`](super::ProgramBuilder::add).
    Add {
        /// The second operand (the first is [`DecodedOp::input`]).
        input_b: TensorId,
        /// Output quantization and clamp.
        params: AddParams,
    },
    /// [`ProgramBuilder::lut`](super::ProgramBuilder::lut).
    Lut {
        /// Output value for each stored input byte.
        table: Box<[i32; 256]>,
        /// Output quantization.
        output: TensorQuant,
    },
}

/// One op of a decoded program, in execution order.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedOp {
    /// The tensor read (the first operand of Add).
    pub input: TensorId,
    /// The tensor written.
    pub output: TensorId,
    /// Kind and parameters.
    pub params: OpParams,
}

/// A whole `.lbm` program as builder calls: tensor 0 is the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    /// Every tensor, numbered as in the file ([`TensorId::index`]).
    pub tensors: Vec<DecodedTensor>,
    /// The ops in execution order.
    pub ops: Vec<DecodedOp>,
    /// The model output.
    pub output: TensorId,
}

impl Program {
    /// The model input (always tensor 0).
    pub fn input(&self) -> TensorId {
        TensorId(0)
    }

    /// The definition of `id` (ids come from this program).
    pub fn tensor(&self, id: TensorId) -> Option<&DecodedTensor> {
        self.tensors.get(id.index())
    }
}

/// Validates `bytes` like [`Model::from_bytes`] and decodes every tensor
/// and op.
pub fn decode(bytes: &[u8]) -> Result<Program, Error> {
    Model::from_bytes(bytes)?;
    let (header, layout) = Header::parse(bytes)?;
    let section = |range| bytes.get(range).ok_or(Error::OutOfBounds);
    let (tensor_bytes, op_bytes, data) = (section(layout.tensors)?, section(layout.ops)?, section(layout.data)?);
    let tensors = tensor_bytes
        .chunks(TENSOR_RECORD_LEN)
        .enumerate()
        .map(|(index, record)| {
            let r = TensorRecord::decode(record).map_err(|()| Error::InvalidTensor { index: index as u16 })?;
            Ok(DecodedTensor {
                shape: r.shape,
                quant: r.quant,
                view_of: r.view_of.map(TensorId),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let mut ops = Vec::with_capacity(usize::from(header.op_count));
    let mut pos = 0;
    for index in 0..header.op_count {
        let bad = Error::InvalidOp { index };
        let rest = op_bytes.get(pos..).ok_or(bad)?;
        let (record, len) = OpRecord::decode(rest).map_err(|()| bad)?;
        pos += len;
        let decoder = OpDecoder {
            data,
            tensors: &tensors,
            record: &record,
            bad,
        };
        ops.push(DecodedOp {
            input: TensorId(record.input),
            output: TensorId(record.output),
            params: decoder.params()?,
        });
    }
    Ok(Program {
        tensors,
        ops,
        output: TensorId(header.output_tensor),
    })
}

/// Decodes the parameters of one validated op record.
struct OpDecoder<'a> {
    /// The constant data section.
    data: &'a [u8],
    /// Every tensor of the file.
    tensors: &'a [DecodedTensor],
    /// The record.
    record: &'a OpRecord,
    /// The error for anything inconsistent (unreachable after validation).
    bad: Error,
}

impl OpDecoder<'_> {
    /// The record's parameters.
    fn params(&self) -> Result<OpParams, Error> {
        let x = self.tensor(self.record.input)?;
        let y = self.tensor(self.record.output)?;
        Ok(match &self.record.body {
            OpBody::Conv { window, groups, affine } => {
                let [c, _, _] = x.shape.chw().ok_or(self.bad)?;
                let (o, g) = (self.channels(&y.shape)?, *groups as usize);
                let taps = (c / g.max(1)) * usize::from(window.kernel[0]) * usize::from(window.kernel[1]);
                let weights = self.weights(affine, o * taps)?;
                let bias = self.unfolded_bias(affine, &weights, taps.max(1), x.quant.zero_point, o)?;
                let (kernel, stride, dilation, pads) = geometry(window);
                OpParams::Conv(ConvParams {
                    out_channels: o,
                    kernel,
                    stride,
                    pads,
                    dilation,
                    groups: g,
                    weights,
                    weight_format: affine.format,
                    bias,
                    requant: self.requant(&affine.requant, y.quant)?,
                })
            }
            OpBody::ConvTranspose { window, groups, affine } => {
                let [c, _, _] = x.shape.chw().ok_or(self.bad)?;
                let (o, g) = (self.channels(&y.shape)?, (*groups as usize).max(1));
                let area = usize::from(window.kernel[0]) * usize::from(window.kernel[1]);
                let (cig, cog) = (c / g, o / g);
                let stored = self.weights(affine, o * cig * area)?;
                // [O][C/g][kH][kW] → [C][O/g][kH][kW], undoing the builder's reorder.
                let mut weights = vec![0; stored.len()];
                for oc in 0..o {
                    let (group, oc_in_group) = (oc / cog, oc % cog);
                    for (i, ic) in (group * cig..(group + 1) * cig).enumerate() {
                        let from = (oc * cig + i) * area;
                        let to = (ic * cog + oc_in_group) * area;
                        weights[to..to + area].copy_from_slice(&stored[from..from + area]);
                    }
                }
                let (kernel, stride, dilation, pads) = geometry(window);
                OpParams::ConvTranspose(ConvTransposeParams {
                    out_channels: o,
                    kernel,
                    stride,
                    pads,
                    dilation,
                    output_padding: window.output_padding.map(usize::from),
                    groups: g,
                    weights,
                    weight_format: affine.format,
                    bias: self.i32s(affine.bias, o)?,
                    requant: self.requant(&affine.requant, y.quant)?,
                })
            }
            OpBody::Dense { affine } => {
                let (n, o) = (x.shape.elements(), y.shape.elements());
                let weights = if self.record.kernel == Kernel::Nibbles {
                    let bytes = self.blob(affine)?;
                    kernels::nibbles::unpack(bytes, n, o).ok_or(self.bad)?
                } else if self.record.kernel == Kernel::Binary && kernels::binary::columns(n, o) {
                    let bytes = self.blob(affine)?;
                    kernels::binary::unpack_columns(bytes, n, o).ok_or(self.bad)?
                } else {
                    self.weights(affine, o * n)?
                };
                let bias = self.unfolded_bias(affine, &weights, n.max(1), x.quant.zero_point, o)?;
                OpParams::Dense(DenseParams {
                    out_features: o,
                    weights,
                    weight_format: affine.format,
                    bias,
                    requant: self.requant(&affine.requant, y.quant)?,
                })
            }
            OpBody::MaxPool { window } => OpParams::MaxPool(pool(window)),
            OpBody::AvgPool {
                window,
                count_include_pad,
                requant,
            } => OpParams::AvgPool(AvgPoolParams {
                pool: pool(window),
                count_include_pad: *count_include_pad,
                requant: self.requant(requant, y.quant)?,
            }),
            OpBody::Add { input_b, lo, hi } => OpParams::Add {
                input_b: TensorId(*input_b),
                params: AddParams {
                    output: y.quant,
                    lo: *lo,
                    hi: *hi,
                },
            },
            OpBody::Lut { table } => {
                let start = *table as usize;
                let bytes = self.data.get(start..start + 256).ok_or(self.bad)?;
                let values = Values::new(y.quant.signed);
                let mut entries = Box::new([0i32; 256]);
                for (entry, &b) in entries.iter_mut().zip(bytes) {
                    *entry = values.get(b);
                }
                OpParams::Lut {
                    table: entries,
                    output: y.quant,
                }
            }
        })
    }

    /// Tensor `id`.
    fn tensor(&self, id: u16) -> Result<&DecodedTensor, Error> {
        self.tensors.get(usize::from(id)).ok_or(self.bad)
    }

    /// Output channels of a spatial or dense output.
    fn channels(&self, shape: &Shape) -> Result<usize, Error> {
        shape.dims().first().map(|&d| d as usize).ok_or(self.bad)
    }

    /// The affine block's weight bytes.
    fn blob(&self, affine: &Affine) -> Result<&[u8], Error> {
        let start = affine.weights.offset as usize;
        self.data
            .get(start..start + affine.weights.len as usize)
            .ok_or(self.bad)
    }

    /// `count` weights unpacked from the affine block's bitstream.
    fn weights(&self, affine: &Affine, count: usize) -> Result<Vec<i32>, Error> {
        let bytes = self.blob(affine)?;
        if affine.format.packed_len(count as u64) != Some(bytes.len()) {
            return Err(self.bad);
        }
        let mut stream = WeightStream::at(bytes, affine.format, 0);
        Ok((0..count).map(|_| stream.next_weight()).collect())
    }

    /// `count` little-endian `i32`s at `offset`.
    fn i32s(&self, offset: u32, count: usize) -> Result<Vec<i32>, Error> {
        let blob = self.data.get(offset as usize..).ok_or(self.bad)?;
        (0..count).map(|i| i32_at(blob, i).ok_or(self.bad)).collect()
    }

    /// The stored (folded) bias plus `zx · Σ w` per channel, modulo 2^32.
    fn unfolded_bias(
        &self,
        affine: &Affine,
        weights: &[i32],
        per_channel: usize,
        zx: i32,
        channels: usize,
    ) -> Result<Vec<i32>, Error> {
        let folded = self.i32s(affine.bias, channels)?;
        Ok(folded
            .iter()
            .zip(weights.chunks(per_channel))
            .map(|(&b, row)| {
                let sum: i64 = row.iter().map(|&w| i64::from(w)).sum();
                (i64::from(b) + i64::from(zx) * sum) as i32
            })
            .collect())
    }

    /// An output stage with the output tensor's quantization.
    fn requant(&self, r: &RequantRecord, output: TensorQuant) -> Result<Requant, Error> {
        let blob = self.data.get(r.multipliers as usize..).ok_or(self.bad)?;
        let multipliers = (0..r.count as usize)
            .map(|i| f32_at(blob, i).ok_or(self.bad))
            .collect::<Result<_, _>>()?;
        Ok(Requant {
            multipliers,
            output,
            lo: r.lo,
            hi: r.hi,
        })
    }
}

/// Kernel, stride, dilation and pads of a window record.
fn geometry(w: &Window) -> ([usize; 2], [usize; 2], [usize; 2], [usize; 4]) {
    (
        w.kernel.map(usize::from),
        w.stride.map(usize::from),
        w.dilation.map(usize::from),
        w.pads.map(usize::from),
    )
}

/// The pooling window of a record.
fn pool(w: &Window) -> PoolParams {
    let (kernel, stride, dilation, pads) = geometry(w);
    PoolParams {
        kernel,
        stride,
        pads,
        dilation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WeightFormat;
    use crate::build::{KernelPolicy, ProgramBuilder, lut_from_fn};
    use proptest::prelude::*;

    fn quant(zero_point: i32, bits: u8, signed: bool) -> TensorQuant {
        TensorQuant {
            scale: 0.05,
            zero_point,
            bits,
            signed,
        }
    }

    /// Weights for `format` from raw random numbers.
    fn fit(raw: &[i32], format: WeightFormat) -> Vec<i32> {
        let domain: Vec<i32> = (-128..128).filter(|&v| format.contains(v)).collect();
        raw.iter()
            .map(|&r| domain[r.unsigned_abs() as usize % domain.len()])
            .collect()
    }

    fn format() -> impl Strategy<Value = WeightFormat> {
        prop_oneof![
            (1u8..=8).prop_map(WeightFormat::Signed),
            (1u8..=8).prop_map(WeightFormat::Unsigned),
            Just(WeightFormat::Bipolar),
        ]
    }

    fn requant(channels: usize, raw: &[i32], output: TensorQuant) -> Requant {
        let multipliers = (0..channels)
            .map(|c| (raw[c % raw.len()] as f32 - 40.0) / 997.0)
            .collect();
        let (lo, hi) = output.range();
        Requant {
            multipliers,
            output,
            lo: lo + (raw[0].unsigned_abs() as i32 % 2),
            hi,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn decode_reproduces_the_builder_params(
            c in 1usize..5,
            h in 3usize..7,
            groups_pick in 0usize..2,
            k in 1usize..4,
            stride in 1usize..3,
            pad in 0usize..2,
            zx in -8i32..8,
            wf in format(),
            raw in prop::collection::vec(-1000i32..1000, 64..65),
        ) {
            let xq = quant(zx, 6, true);
            let mut b = ProgramBuilder::new();
            // The declared formats, stored as they are.
            b.set_kernel_policy(KernelPolicy::Compact);
            let x = b.input(&[c, h, h + 1], xq).unwrap();
            let groups = if groups_pick == 1 { c } else { 1 };
            let o = 2 * groups;
            let conv_w: Vec<i32> = fit(&raw, wf).into_iter().cycle().take(o * (c / groups) * k * k).collect();
            let conv = ConvParams {
                out_channels: o,
                kernel: [k, k],
                stride: [stride, 1],
                pads: [pad, pad, pad, 0],
                dilation: [1, 1],
                groups,
                weights: conv_w,
                weight_format: wf,
                bias: (0..o as i32).map(|i| raw[i as usize] * 3).collect(),
                requant: requant(o, &raw, quant(3, 5, false)),
            };
            let y = b.conv(x, conv.clone()).unwrap();
            let pool = PoolParams { kernel: [1, 2], stride: [1, 1], pads: [0; 4], dilation: [1, 1] };
            let p = b.max_pool(y, pool).unwrap();
            let avg = AvgPoolParams {
                pool: PoolParams { kernel: [1, 2], stride: [1, 1], pads: [0, 1, 0, 0], dilation: [1, 1] },
                count_include_pad: raw[1] > 0,
                requant: requant(2, &raw, quant(0, 4, false)),
            };
            let a = b.avg_pool(p, avg.clone()).unwrap();
            let aq = b.quant(a).unwrap();
            let table = lut_from_fn(aq.signed, |v| (v / 2).clamp(0, 7));
            let l = b.lut(a, &table, quant(0, 4, false)).unwrap();
            let add = AddParams::new(quant(-2, 7, true));
            let s = b.add(l, a, add).unwrap();
            let n = b.shape(s).unwrap().elements();
            let flat = b.reshape(s, &[n]).unwrap();
            let dense = DenseParams {
                out_features: 3,
                weights: fit(&raw, WeightFormat::Signed(4)).into_iter().cycle().take(3 * n).collect(),
                weight_format: WeightFormat::Signed(4),
                bias: vec![raw[4], raw[5], raw[6]],
                requant: requant(3, &raw, quant(0, 8, true)),
            };
            b.dense(flat, dense.clone()).unwrap();
            let ct = ConvTransposeParams {
                out_channels: 2,
                kernel: [1, 3],
                stride: [1, 2],
                pads: [0, 1, 0, 0],
                dilation: [1, 1],
                output_padding: [0, 1],
                groups: 1,
                weights: fit(&raw, WeightFormat::Signed(3)).into_iter().cycle().take(o * 2 * 3).collect(),
                weight_format: WeightFormat::Signed(3),
                bias: vec![raw[2], raw[3]],
                requant: requant(1, &raw, quant(0, 8, true)),
            };
            let t = b.conv_transpose(s, ct.clone()).unwrap();
            b.output(t).unwrap();
            let built = b.finish().unwrap();
            let program = decode(&built.bytes).unwrap();

            prop_assert_eq!(program.output, t);
            prop_assert_eq!(program.tensors.len(), t.index() + 1);
            prop_assert_eq!(program.tensors[0].quant, xq);
            prop_assert_eq!(program.tensors[flat.index()].view_of, Some(s));
            let ops: Vec<&OpParams> = program.ops.iter().map(|op| &op.params).collect();
            prop_assert_eq!(ops[0], &OpParams::Conv(conv));
            prop_assert_eq!(ops[1], &OpParams::MaxPool(pool));
            prop_assert_eq!(ops[2], &OpParams::AvgPool(avg));
            prop_assert_eq!(ops[3], &OpParams::Lut { table: Box::new(table), output: quant(0, 4, false) });
            prop_assert_eq!(ops[4], &OpParams::Add { input_b: a, params: add });
            prop_assert_eq!(ops[5], &OpParams::Dense(dense));
            prop_assert_eq!(ops[6], &OpParams::ConvTranspose(ct));
            prop_assert_eq!(program.ops[4].input, l);
            prop_assert_eq!(program.ops[5].input, flat);
        }
    }

    #[test]
    fn empty_bias_decodes_as_zeros_and_damaged_files_are_rejected() {
        let q = quant(0, 8, true);
        let mut b = ProgramBuilder::new();
        let x = b.input(&[2], q).unwrap();
        let y = b
            .dense(
                x,
                DenseParams {
                    out_features: 1,
                    weights: vec![1, -1],
                    weight_format: WeightFormat::Bipolar,
                    bias: vec![],
                    requant: Requant::new(vec![0.5], q),
                },
            )
            .unwrap();
        b.output(y).unwrap();
        let mut bytes = b.finish().unwrap().bytes;
        let OpParams::Dense(d) = &decode(&bytes).unwrap().ops[0].params else {
            panic!("a dense op")
        };
        assert_eq!((d.bias.as_slice(), d.weights.as_slice()), (&[0][..], &[1, -1][..]));
        bytes[70] ^= 1;
        assert!(matches!(decode(&bytes), Err(Error::CrcMismatch { .. })));
    }

    /// Where the declared format has only the bit-stream loops, `Auto`
    /// stores the same weights in the narrowest fast format and `Compact`
    /// keeps the declared one.
    #[test]
    fn auto_stores_weights_in_the_fastest_format() {
        let formats = |policy| {
            let mut b = ProgramBuilder::new();
            b.set_kernel_policy(policy);
            let x = b.input(&[3, 4, 4], quant(0, 8, true)).unwrap();
            // 27 taps: 4-bit rows of odd length have no lanes.
            let conv_w: Vec<i32> = (0..2 * 27).map(|i| i % 15 - 7).collect();
            let conv = ConvParams {
                out_channels: 2,
                kernel: [3, 3],
                stride: [1, 1],
                pads: [1, 1, 1, 1],
                dilation: [1, 1],
                groups: 1,
                weights: conv_w.clone(),
                weight_format: WeightFormat::Signed(4),
                bias: vec![0, 0],
                requant: Requant::new(vec![0.01], quant(0, 8, true)),
            };
            let y = b.conv(x, conv).unwrap();
            let n = b.shape(y).unwrap().elements();
            let flat = b.reshape(y, &[n]).unwrap();
            let dense_w: Vec<i32> = (0..2 * n as i32).map(|i| i % 7 - 3).collect();
            let dense = DenseParams {
                out_features: 2,
                weights: dense_w.clone(),
                weight_format: WeightFormat::Signed(3),
                bias: vec![0, 0],
                requant: Requant::new(vec![0.01], quant(0, 8, true)),
            };
            let z = b.dense(flat, dense).unwrap();
            b.output(z).unwrap();
            let built = b.finish().unwrap();
            let program = decode(&built.bytes).unwrap();
            let [OpParams::Conv(c), OpParams::Dense(d)] = [&program.ops[0].params, &program.ops[1].params] else {
                panic!("{:?}", program.ops);
            };
            assert_eq!((&c.weights, &d.weights), (&conv_w, &dense_w));
            let bits: Vec<(u32, u32)> = built
                .report
                .ops
                .iter()
                .map(|r| (r.weight_bits, r.stored_bits))
                .collect();
            (c.weight_format, d.weight_format, bits, built.report.ops[1].kernel)
        };
        assert_eq!(
            formats(KernelPolicy::Auto),
            (
                WeightFormat::Signed(8),
                WeightFormat::Signed(4),
                vec![(4, 8), (3, 4)],
                Kernel::Nibbles
            )
        );
        assert_eq!(
            formats(KernelPolicy::Compact),
            (
                WeightFormat::Signed(4),
                WeightFormat::Signed(3),
                vec![(4, 4), (3, 3)],
                Kernel::Gemm
            )
        );
        // Bipolar weights: over 8-bit values stored as nibbles; over a
        // bipolar input kept for the binary kernel.
        let bipolar = |declare: bool| {
            let mut b = ProgramBuilder::new();
            let x = b.input(&[64], quant(0, if declare { 2 } else { 8 }, true)).unwrap();
            if declare {
                b.declare_bipolar(x).unwrap();
            }
            let dense = DenseParams {
                out_features: 2,
                weights: (0..128).map(|i| if i % 3 == 0 { -1 } else { 1 }).collect(),
                weight_format: WeightFormat::Bipolar,
                bias: vec![0, 0],
                requant: Requant::new(vec![0.01], quant(0, 8, true)),
            };
            let y = b.dense(x, dense).unwrap();
            b.output(y).unwrap();
            let built = b.finish().unwrap();
            let op = &built.report.ops[0];
            (op.stored_bits, op.kernel)
        };
        assert_eq!(bipolar(false), (4, Kernel::Nibbles));
        assert_eq!(bipolar(true), (1, Kernel::Binary));
        // 2-bit weights: as nibbles on Dense and 4-bit lanes on a Conv of
        // 8-weight rows under Auto (kept for rows of 16: `two_bit` with 4
        // input channels); kept as 2-bit lanes under Compact.
        let two_bit = |policy, channels: usize| {
            let mut b = ProgramBuilder::new();
            b.set_kernel_policy(policy);
            let x = b.input(&[channels, 4, 4], quant(0, 8, false)).unwrap();
            let conv = ConvParams {
                out_channels: 2,
                kernel: [2, 2],
                stride: [1, 1],
                pads: [0; 4],
                dilation: [1, 1],
                groups: 1,
                weights: (0..8 * channels as i32).map(|i| i % 4 - 2).collect(),
                weight_format: WeightFormat::Signed(2),
                bias: vec![0, 0],
                requant: Requant::new(vec![0.01], quant(0, 8, false)),
            };
            let y = b.conv(x, conv).unwrap();
            let flat = b.reshape(y, &[18]).unwrap();
            let dense = DenseParams {
                out_features: 2,
                weights: (0..36).map(|i| i % 4 - 2).collect(),
                weight_format: WeightFormat::Signed(2),
                bias: vec![0, 0],
                requant: Requant::new(vec![0.01], quant(0, 8, true)),
            };
            let z = b.dense(flat, dense).unwrap();
            b.output(z).unwrap();
            let built = b.finish().unwrap();
            let ops = &built.report.ops;
            [(ops[0].stored_bits, ops[0].kernel), (ops[1].stored_bits, ops[1].kernel)]
        };
        assert_eq!(
            two_bit(KernelPolicy::Auto, 2),
            [(4, Kernel::Gemm), (4, Kernel::Nibbles)]
        );
        assert_eq!(
            two_bit(KernelPolicy::Auto, 4),
            [(2, Kernel::Gemm), (4, Kernel::Nibbles)]
        );
        assert_eq!(
            two_bit(KernelPolicy::Compact, 2),
            [(2, Kernel::Gemm), (2, Kernel::Gemm)]
        );
    }
}

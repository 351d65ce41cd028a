//! From a decoded `.lbm` program to a dataflow graph.
//!
//! Each program op becomes one or a few units: Dense → MVAU; Conv →
//! [FMPadding] → [sliding window] → MVAU (or VVAU when depthwise); MaxPool →
//! StreamingMaxPool, or [FMPadding] → depthwise window → Pool; AvgPool →
//! [FMPadding] → depthwise window → Pool (sum) → Thresholding; Add →
//! AddStreams → Thresholding; Lut → Thresholding, or fused into the
//! thresholds of the unit before it. Tensors read by several ops are copied
//! by DuplicateStreams. Every activation becomes thresholds computed from
//! the program's integer arithmetic ([`crate::thresholds`]), so the
//! accelerator is bit-exact with the program.

mod units;

use super::ops::{DuplicateStreams, Op};
use super::{Dataflow, IoOrder, Layer, Layout, Stream, StreamId};
use crate::folding::Fold;
use crate::thresholds::{Activation, Stage, thresholds};
use crate::{DType, HlsError, Thresholds};
use lowbit_runtime::TensorQuant;
use lowbit_runtime::build::{DecodedOp, OpParams, Program, TensorId};
use std::collections::HashMap;

/// Maps `program` to a dataflow graph, with a top-`k` label selection at
/// the end if asked.
pub(crate) fn map(program: &Program, top_k: Option<usize>) -> Result<Dataflow, HlsError> {
    let mut m = Mapper::new(program);
    let input_layout = Layout::of(&program.tensors[0].shape);
    let input = m.stream(DType::of(&program.tensors[0].quant), input_layout.elements());
    m.publish(0, input, input_layout);
    for (index, op) in program.ops.iter().enumerate() {
        if m.live[index] && !m.fused[index] {
            m.op(index, op)?;
        }
    }
    let out_base = m.base(program.output);
    let (mut output, layout) = m.take(out_base);
    let mut order = layout.order();
    if let Some(k) = top_k {
        output = m.label_select(output, layout, k)?;
        order = (0..k).collect();
    }
    if output == input {
        return Err(HlsError::Unsupported {
            layer: "the program".into(),
            reason: "it has no ops (the model only quantizes its input), so there is no layer to accelerate".into(),
        });
    }
    Ok(Dataflow {
        layers: m.layers,
        streams: m.streams,
        input,
        output,
        io: IoOrder { input: input_layout.order(), output: order },
    })
}

/// The state of one mapping.
struct Mapper<'p> {
    p: &'p Program,
    layers: Vec<Layer>,
    streams: Vec<Stream>,
    /// Per FINN op type, the number of units named so far.
    counters: HashMap<&'static str, usize>,
    /// Ops that contribute to the output.
    live: Vec<bool>,
    /// Lut ops folded into the thresholds of the unit before them.
    fused: Vec<bool>,
    /// Live ops reading each base tensor (through any view), in order.
    readers: Vec<Vec<usize>>,
    /// Streams of each base tensor not yet taken by a reader, and their layout.
    available: HashMap<usize, (Vec<StreamId>, Layout)>,
}

impl<'p> Mapper<'p> {
    fn new(p: &'p Program) -> Mapper<'p> {
        let mut m = Mapper {
            p,
            layers: Vec::new(),
            streams: Vec::new(),
            counters: HashMap::new(),
            live: vec![false; p.ops.len()],
            fused: vec![false; p.ops.len()],
            readers: vec![Vec::new(); p.tensors.len()],
            available: HashMap::new(),
        };
        // Liveness, backwards from the output.
        let mut live_tensor = vec![false; p.tensors.len()];
        live_tensor[m.base(p.output)] = true;
        for (i, op) in p.ops.iter().enumerate().rev() {
            if live_tensor[op.output.index()] {
                m.live[i] = true;
                for t in inputs(op) {
                    live_tensor[m.base(t)] = true;
                }
            }
        }
        for (i, op) in p.ops.iter().enumerate() {
            if m.live[i] {
                for t in inputs(op) {
                    let b = m.base(t);
                    m.readers[b].push(i);
                }
            }
        }
        m
    }

    /// The tensor whose bytes `t` views (itself if it owns them).
    fn base(&self, t: TensorId) -> usize {
        let mut id = t;
        while let Some(v) = self.p.tensors[id.index()].view_of {
            id = v;
        }
        id.index()
    }

    /// Quantization of tensor `t`.
    fn quant(&self, t: TensorId) -> TensorQuant {
        self.p.tensors[t.index()].quant
    }

    /// How many streams tensor `b` needs: one per reader, plus the output.
    fn uses(&self, b: usize) -> usize {
        self.readers[b].len() + usize::from(b == self.base(self.p.output))
    }

    /// A new stream.
    fn stream(&mut self, dtype: DType, elements: usize) -> StreamId {
        self.streams.push(Stream { dtype, elements, word: 1 });
        self.streams.len() - 1
    }

    /// Appends a unit with a fresh `<op type>_<i>` name.
    fn push(&mut self, op: Op, origin: &str, inputs: Vec<StreamId>, outputs: Vec<StreamId>) {
        let counter = self.counters.entry(op.op_type()).or_insert(0);
        let name = format!("{}_{}", op.op_type(), *counter);
        *counter += 1;
        let fold = Fold::default_for(&op);
        self.layers.push(Layer { name, origin: origin.to_string(), op, inputs, outputs, fold });
    }

    /// Makes `s` the stream of base tensor `b`, duplicated once per use.
    fn publish(&mut self, b: usize, s: StreamId, layout: Layout) {
        let mut streams = vec![s];
        let uses = self.uses(b);
        for _ in 1..uses.max(1) {
            let from = streams.pop().unwrap_or(s);
            let (dtype, elements) = (self.streams[from].dtype, self.streams[from].elements);
            let (a, rest) = (self.stream(dtype, elements), self.stream(dtype, elements));
            let dup = DuplicateStreams { channels: layout.c, reps: layout.pixels(), dtype };
            self.push(Op::DuplicateStreams(dup), &format!("tensor {b}, read {uses} times"), vec![from], vec![a, rest]);
            streams.push(a);
            streams.push(rest);
        }
        streams.reverse();
        self.available.insert(b, (streams, layout));
    }

    /// Takes one stream of base tensor `b` for a reader.
    fn take(&mut self, b: usize) -> (StreamId, Layout) {
        let (streams, layout) = self.available.get_mut(&b).expect("tensors are published before they are read");
        (streams.pop().expect("one stream per use"), *layout)
    }

    /// A stream of tensor `t` (any view) in the order of `t`'s own shape,
    /// for spatial units.
    fn spatial_input(&mut self, t: TensorId, layer: &str) -> Result<(StreamId, Layout), HlsError> {
        let (s, layout) = self.take(self.base(t));
        let own = Layout::of(&self.p.tensors[t.index()].shape);
        if !layout.same_order(&own) {
            return Err(HlsError::Unsupported {
                layer: layer.to_string(),
                reason: format!(
                    "it reads a reshape of a {}x{}x{} feature map that reorders its elements; a dataflow \
                     stream cannot be transposed",
                    layout.c, layout.h, layout.w
                ),
            });
        }
        Ok((s, own))
    }

    /// `op N (Kind → shape)`, how errors and reports name program op `index`.
    fn origin(&self, index: usize) -> String {
        let op = &self.p.ops[index];
        let dims: Vec<String> = self.p.tensors[op.output.index()].shape.dims().iter().map(u32::to_string).collect();
        let kind = match &op.params {
            OpParams::Conv(_) => "Conv",
            OpParams::ConvTranspose(_) => "ConvTranspose",
            OpParams::Dense(_) => "Dense",
            OpParams::MaxPool(_) => "MaxPool",
            OpParams::AvgPool(_) => "AvgPool",
            OpParams::Add { .. } => "Add",
            OpParams::Lut { .. } => "Lut",
        };
        format!("op {index} ({kind} → {})", dims.join("x"))
    }

    /// Maps one live program op.
    fn op(&mut self, index: usize, op: &DecodedOp) -> Result<(), HlsError> {
        let origin = self.origin(index);
        match &op.params {
            OpParams::Dense(p) => self.dense(index, op, p, &origin),
            OpParams::Conv(p) => self.conv(index, op, p, &origin),
            OpParams::MaxPool(p) => self.max_pool(op, p, &origin),
            OpParams::AvgPool(p) => self.avg_pool(index, op, p, &origin),
            OpParams::Add { input_b, params } => self.add(index, op, *input_b, params, &origin),
            OpParams::Lut { table, .. } => self.lut(index, op, table, &origin),
            OpParams::ConvTranspose(_) => Err(HlsError::Unsupported {
                layer: origin,
                reason: "transposed convolutions have no FINN dataflow unit (FINN maps them to an upsampler \
                         and a convolution); lower the model without ConvTranspose"
                    .into(),
            }),
        }
    }

    /// The activation chain starting at op `index`: its own stage, then
    /// every Lut that alone reads the result. Returns the activation and
    /// the tensor that ends it.
    fn chain(&mut self, index: usize, offset: Vec<i64>, first: Stage) -> (Activation, TensorId) {
        let mut act = Activation { offset, stages: vec![first] };
        let mut t = self.p.ops[index].output;
        let out_base = self.base(self.p.output);
        loop {
            let b = t.index();
            if b == out_base || self.readers[b].len() != 1 {
                break;
            }
            let next = self.readers[b][0];
            let OpParams::Lut { table, .. } = &self.p.ops[next].params else { break };
            act.stages.push(Stage::Table { table: table.clone(), op: self.origin(next) });
            self.fused[next] = true;
            t = self.p.ops[next].output;
        }
        (act, t)
    }

    /// Thresholds for `act` over per-channel accumulator ranges, with the
    /// type of tensor `t`.
    fn thresholds(
        &self,
        act: &Activation,
        domains: &[(i64, i64)],
        t: TensorId,
        layer: &str,
    ) -> Result<Thresholds, HlsError> {
        thresholds(act, domains, DType::of(&self.quant(t)), layer)
    }
}

/// The tensors an op reads.
fn inputs(op: &DecodedOp) -> Vec<TensorId> {
    match &op.params {
        OpParams::Add { input_b, .. } => vec![op.input, *input_b],
        _ => vec![op.input],
    }
}

//! The dataflow graph: one hardware unit per layer, connected by streams.

mod dwc;
mod layout;
mod map;
mod ops;

pub(crate) use dwc::{gcd, insert_dwcs};
pub use layout::Layout;
pub(crate) use map::map;
pub use ops::{
    AddStreams, DuplicateStreams, Dwc, FmPadding, Knob, LabelSelect, Mvau, Op, Pool, StreamingMaxPool, Swg,
    Thresholding, Vvau, weight_type,
};

use crate::DType;
use crate::folding::Fold;

/// Index of a stream in [`Dataflow::streams`].
pub type StreamId = usize;

/// A stream between units: the values of one tensor, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// Element type.
    pub dtype: DType,
    /// Elements per frame.
    pub elements: usize,
    /// Elements per word (set by the folding of its producer, or of its
    /// consumer for the accelerator input).
    pub word: usize,
}

/// A unit of the dataflow with its connections and folding.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Unique name, `<FINN op type>_<i>` (e.g. `MVAU_hls_0`), as in
    /// FINN's folding configurations.
    pub name: String,
    /// The program op it implements, e.g. `op 3 (Dense → 10)`.
    pub origin: String,
    /// The unit.
    pub op: Op,
    /// Streams read (two for `AddStreams`).
    pub inputs: Vec<StreamId>,
    /// Streams written (two for `DuplicateStreams`).
    pub outputs: Vec<StreamId>,
    /// Parallelism and memory styles.
    pub fold: Fold,
}

/// Element order of the accelerator's input and output: position `p` of
/// the stream holds element `order[p]` of the tensor in ONNX (C,H,W) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoOrder {
    /// The input stream's order.
    pub input: Vec<usize>,
    /// The output stream's order.
    pub output: Vec<usize>,
}

/// A streaming dataflow accelerator: units in topological order.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataflow {
    /// The units; every unit comes after the producers of its inputs.
    pub layers: Vec<Layer>,
    /// The streams.
    pub streams: Vec<Stream>,
    /// The accelerator input.
    pub input: StreamId,
    /// The accelerator output.
    pub output: StreamId,
    /// Element orders of input and output.
    pub io: IoOrder,
}

impl Dataflow {
    /// The layer called `name`.
    pub fn layer(&self, name: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.name == name)
    }

    /// The layer that reads `stream`, if any (every stream has at most one).
    pub fn consumer(&self, stream: StreamId) -> Option<usize> {
        self.layers.iter().position(|l| l.inputs.contains(&stream))
    }

    /// The layer that writes `stream`, if any.
    pub fn producer(&self, stream: StreamId) -> Option<usize> {
        self.layers.iter().position(|l| l.outputs.contains(&stream))
    }

    /// Sets every stream's word size from the folding of the units around
    /// it (producers decide; the input follows its consumer).
    pub(crate) fn set_word_sizes(&mut self) {
        for s in 0..self.streams.len() {
            let word = match (self.producer(s), self.consumer(s)) {
                (Some(p), _) => {
                    let l = &self.layers[p];
                    l.op.out_elems(l.fold.pe, l.fold.simd)
                }
                (None, Some(c)) => {
                    let l = &self.layers[c];
                    l.op.in_elems(l.fold.pe, l.fold.simd)
                }
                (None, None) => 1,
            };
            self.streams[s].word = word;
        }
    }
}

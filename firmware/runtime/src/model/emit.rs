//! [`Model::to_rust`]: a validated model's kernel arguments as Rust source
//! for a [`Compiled`](super::Compiled) firmware (host only).

use core::fmt::Write;
use core::ops::Range;
use std::string::String;
use std::vec::Vec;

use super::Model;
use super::prepare::{Call, Step};
use crate::Error;
use crate::WeightFormat;
use crate::format::{TensorQuant, TensorRecord};
use crate::kernels::binary::{Layout, Levels, Stage};
use crate::kernels::{AddArgs, ConvArgs, DenseArgs, Geometry, MaxPoolArgs, Output, Values, Weights};

impl Model<'_> {
    /// This model as the Rust source a firmware built with the runtime
    /// feature `compiled` includes (through `LOWBIT_COMPILED`) to get
    /// [`COMPILED`](crate::COMPILED): the data section as bytes, every op's
    /// kernel arguments built as [`Model::plan`] builds them, and the ends
    /// of a run. The device then neither parses nor validates the model;
    /// this host did, with the same code.
    pub fn to_rust(&self) -> Result<String, Error> {
        let writer = Writer { data: self.data };
        let mut steps = Vec::new();
        self.for_each_op(|index, record| {
            let step = Step::prepare(self, index, record, false)?;
            steps.push(writer.step(&step).ok_or(Error::InvalidOp { index })?);
            Ok(())
        })?;
        let mut out = String::new();
        // Writing to a `String` cannot fail.
        let _ = write!(
            out,
            "// A lowbit model compiled from a {} B `.lbm` file ({} ops). Generated: do not edit.\n\
             static DATA: &Aligned<[u8]> = &Aligned(*b\"",
            self.file_len(),
            steps.len()
        );
        for byte in self.data {
            let _ = write!(out, "\\x{byte:02x}");
        }
        out += "\");\n\n/// `len` bytes of the data section from `offset` on.\n\
                const fn at(offset: usize, len: usize) -> &'static [u8] {\n    \
                DATA.0.split_at(offset).1.split_at(len).0\n}\n\n";
        let _ = writeln!(out, "static STEPS: [Step<'static>; {}] = [", steps.len());
        for step in &steps {
            let _ = writeln!(out, "    {step},");
        }
        let ends = &self.ends;
        let _ = write!(
            out,
            "];\n\npub(super) static MODEL: Compiled = Compiled {{\n    \
             ends: Ends {{ input: {}, output: {}, output_tensor: {}, arena_size: {} }},\n    \
             steps: &STEPS,\n    file_len: {},\n}};\n",
            record(&ends.input),
            record(&ends.output),
            ends.output_tensor,
            ends.arena_size,
            self.file_len()
        );
        Ok(out)
    }
}

/// Writes kernel arguments as Rust expressions; slices of the data section
/// become `at(offset, len)`.
struct Writer<'d> {
    /// The model's data section.
    data: &'d [u8],
}

impl Writer<'_> {
    /// `bytes`, which must lie in the data section (or be empty).
    fn bytes(&self, bytes: &[u8]) -> Option<String> {
        if bytes.is_empty() {
            return Some("&[]".into());
        }
        let offset = (bytes.as_ptr() as usize).checked_sub(self.data.as_ptr() as usize)?;
        (offset + bytes.len() <= self.data.len()).then(|| format!("at({offset}, {})", bytes.len()))
    }

    /// One op: its call and arena spans.
    fn step(&self, s: &Step<'_>) -> Option<String> {
        Some(format!(
            "Step {{ call: {}, inputs: [{}, {}], output: {}, scratch: {} }}",
            self.call(&s.call)?,
            range(&s.inputs[0]),
            range(&s.inputs[1]),
            range(&s.output),
            range(&s.scratch)
        ))
    }

    /// The kernel and its arguments.
    fn call(&self, call: &Call<'_>) -> Option<String> {
        Some(match call {
            Call::Conv(a) => format!("Call::Conv({})", self.conv(a)?),
            Call::GemmConv(a) => format!("Call::GemmConv({})", self.conv(a)?),
            Call::DirectConv(a) => format!("Call::DirectConv({})", self.conv(a)?),
            Call::ConvTranspose(a) => format!("Call::ConvTranspose({})", self.conv(a)?),
            Call::Dense(a) => format!("Call::Dense({})", self.dense(a)?),
            Call::GemmDense(a) => format!("Call::GemmDense({})", self.dense(a)?),
            Call::NibbleDense(a) => format!("Call::NibbleDense({})", self.dense(a)?),
            Call::BinaryDense(a, levels, layout) => format!(
                "Call::BinaryDense({}, {}, {})",
                self.dense(a)?,
                levels_of(*levels),
                self.layout(layout)?
            ),
            Call::MaxPool(a) => format!("Call::MaxPool({})", max_pool(a)),
            Call::AvgPool(a) => format!(
                "Call::AvgPool(AvgPoolArgs {{ pool: {}, count_include_pad: {}, x_zero: {}, out: {} }})",
                max_pool(&a.pool),
                a.count_include_pad,
                a.x_zero,
                self.output(&a.out)?
            ),
            Call::Add(a) => format!("Call::Add({})", add(a)),
            Call::Lut(table) => format!("Call::Lut({})", self.bytes(table)?),
        })
    }

    /// Convolution arguments.
    fn conv(&self, a: &ConvArgs<'_>) -> Option<String> {
        Some(format!(
            "ConvArgs {{ input: {:?}, output: {:?}, geometry: {}, groups: {}, weights: {}, bias: {}, x: {}, \
             x_zero: {}, out: {} }}",
            a.input,
            a.output,
            geometry(&a.geometry),
            a.groups,
            self.weights(&a.weights)?,
            self.bytes(a.bias)?,
            values(a.x),
            a.x_zero,
            self.output(&a.out)?
        ))
    }

    /// Dense arguments.
    fn dense(&self, a: &DenseArgs<'_>) -> Option<String> {
        Some(format!(
            "DenseArgs {{ inputs: {}, outputs: {}, weights: {}, bias: {}, x: {}, out: {} }}",
            a.inputs,
            a.outputs,
            self.weights(&a.weights)?,
            self.bytes(a.bias)?,
            values(a.x),
            self.output(&a.out)?
        ))
    }

    /// Packed weights and their format.
    fn weights(&self, w: &Weights<'_>) -> Option<String> {
        let format = match w.format {
            WeightFormat::Signed(bits) => format!("WeightFormat::Signed({bits})"),
            WeightFormat::Unsigned(bits) => format!("WeightFormat::Unsigned({bits})"),
            WeightFormat::Bipolar => "WeightFormat::Bipolar".into(),
        };
        Some(format!(
            "Weights {{ bytes: {}, format: {format} }}",
            self.bytes(w.bytes)?
        ))
    }

    /// A requantizing output stage.
    fn output(&self, o: &Output<'_>) -> Option<String> {
        Some(format!(
            "Output {{ multipliers: {}, zero_point: {}, lo: {}, hi: {} }}",
            self.bytes(o.multipliers)?,
            o.zero_point,
            o.lo,
            o.hi
        ))
    }

    /// A binary Dense's weight layout.
    fn layout(&self, layout: &Layout<'_>) -> Option<String> {
        Some(match layout {
            Layout::Rows => "Layout::Rows".into(),
            Layout::Columns {
                cols,
                row_counts,
                stage,
            } => format!(
                "Layout::Columns {{ cols: {}, row_counts: {}, stage: {} }}",
                self.bytes(cols)?,
                self.bytes(row_counts)?,
                match stage {
                    Some(stage) => format!("Some({})", self.stage(stage)?),
                    None => "None".into(),
                }
            ),
        })
    }

    /// A binary Dense's fixed-point output stage.
    fn stage(&self, s: &Stage<'_>) -> Option<String> {
        Some(format!(
            "Stage {{ shift: {}, signed: {}, multipliers: {}, offsets: [{}, {}], floats: {}.as_chunks::<4>().0, \
             any_float: {} }}",
            s.shift,
            s.signed,
            self.bytes(s.multipliers)?,
            self.bytes(s.offsets[0])?,
            self.bytes(s.offsets[1])?,
            self.bytes(s.floats.as_flattened())?,
            s.any_float
        ))
    }
}

/// An arena span.
fn range(r: &Range<usize>) -> String {
    format!("{}..{}", r.start, r.end)
}

/// How input bytes are read.
fn values(v: Values) -> String {
    format!("Values::new({})", v.signed())
}

/// The two values of a binary Dense's input.
fn levels_of(levels: Levels) -> &'static str {
    match levels {
        Levels::Bipolar => "Levels::Bipolar",
        Levels::ZeroOne => "Levels::ZeroOne",
        Levels::MinusOneZero => "Levels::MinusOneZero",
    }
}

/// A sliding window.
fn geometry(g: &Geometry) -> String {
    format!(
        "Geometry {{ kernel: {:?}, stride: {:?}, dilation: {:?}, pads: {:?}, output_padding: {:?} }}",
        g.kernel, g.stride, g.dilation, g.pads, g.output_padding
    )
}

/// MaxPool arguments (also AvgPool's shared part).
fn max_pool(a: &MaxPoolArgs) -> String {
    format!(
        "MaxPoolArgs {{ input: {:?}, output: {:?}, geometry: {}, x: {} }}",
        a.input,
        a.output,
        geometry(&a.geometry),
        values(a.x)
    )
}

/// Add arguments.
fn add(a: &AddArgs) -> String {
    format!(
        "AddArgs {{ a: {}, b: {}, y: {}, lo: {}, hi: {} }}",
        quant(&a.a),
        quant(&a.b),
        quant(&a.y),
        a.lo,
        a.hi
    )
}

/// A tensor's quantization, the scale by its bits.
fn quant(q: &TensorQuant) -> String {
    format!(
        "TensorQuant {{ scale: f32::from_bits({:#010x}), zero_point: {}, bits: {}, signed: {} }}",
        q.scale.to_bits(),
        q.zero_point,
        q.bits,
        q.signed
    )
}

/// A tensor record (the model's input or output).
fn record(t: &TensorRecord) -> String {
    format!(
        "TensorRecord {{ shape: Shape {{ rank: {}, dims: {:?} }}, quant: {}, view_of: {:?}, offset: {}, bipolar: {} }}",
        t.shape.rank,
        t.shape.dims,
        quant(&t.quant),
        t.view_of,
        t.offset,
        t.bipolar
    )
}

//! Op records: the kinds of op and their byte layout, decoder and encoder
//! side by side.

use super::cursor::Reader;
use super::pack::WeightFormat;
use core::fmt;

/// The kind of an op record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpKind {
    /// 1d/2d convolution (groups, dilation, pads) with requantization.
    Conv,
    /// 1d/2d transposed convolution with requantization.
    ConvTranspose,
    /// Matrix × vector with requantization.
    Dense,
    /// Max pooling (ONNX `MaxPool`).
    MaxPool,
    /// Average pooling: window sum, requantized.
    AvgPool,
    /// Elementwise sum of two quantized tensors (ONNX Runtime's float path).
    Add,
    /// Elementwise 256-entry lookup table.
    Lut,
}

impl OpKind {
    /// The op's name as the report and error messages print it.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Conv => "Conv",
            OpKind::ConvTranspose => "ConvTranspose",
            OpKind::Dense => "Dense",
            OpKind::MaxPool => "MaxPool",
            OpKind::AvgPool => "AvgPool",
            OpKind::Add => "Add",
            OpKind::Lut => "Lut",
        }
    }

    /// The kind byte of a record, and the record's length in bytes.
    fn code_and_len(self) -> (u8, usize) {
        match self {
            OpKind::Conv => (1, 72),
            OpKind::ConvTranspose => (2, 72),
            OpKind::Dense => (3, 44),
            OpKind::MaxPool => (4, 36),
            OpKind::AvgPool => (5, 56),
            OpKind::Add => (6, 20),
            OpKind::Lut => (7, 16),
        }
    }

    /// The kind with the given kind byte (the inverse of
    /// [`OpKind::code_and_len`], checked by the round-trip tests).
    fn from_code(code: u8) -> Option<OpKind> {
        Some(match code {
            1 => OpKind::Conv,
            2 => OpKind::ConvTranspose,
            3 => OpKind::Dense,
            4 => OpKind::MaxPool,
            5 => OpKind::AvgPool,
            6 => OpKind::Add,
            7 => OpKind::Lut,
            _ => return None,
        })
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an op is computed: the kernel family the builder chose for its
/// shape (the `kernel` byte of the op record). Every family computes the
/// same integers; they differ in speed and in the scratch memory they need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kernel {
    /// The portable reference loops (every op).
    Reference,
    /// Blocked matrix products over `im2col` patches: Conv with one group
    /// and Dense. Needs a patch of two output pixels (Dense: of the input)
    /// in scratch memory.
    Gemm,
    /// Direct sliding windows over a padded copy of one input plane: Conv
    /// whose groups each read one input channel (depthwise; one input
    /// channel). Needs the padded plane in scratch memory.
    Direct,
    /// Popcounts over bit-packed weights: Dense with bipolar (±1) weights
    /// and an input of two levels (1-bit, or declared bipolar). Needs the
    /// bit-packed input in scratch memory.
    Binary,
    /// `SMLAD` rows over 4-bit weights stored as unsigned nibbles in lane
    /// order, rows interleaved in groups of four (see `docs/lbm-format.md`):
    /// Dense with 4-bit two's complement weights. Needs the widened input
    /// in scratch memory.
    Nibbles,
}

impl Kernel {
    /// The kernel's name as reports print it.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Reference => "reference",
            Kernel::Gemm => "gemm",
            Kernel::Direct => "direct",
            Kernel::Binary => "binary",
            Kernel::Nibbles => "nibbles",
        }
    }

    /// The `kernel` byte.
    #[cfg(feature = "std")]
    fn code(self) -> u8 {
        match self {
            Kernel::Reference => 0,
            Kernel::Gemm => 1,
            Kernel::Direct => 2,
            Kernel::Binary => 3,
            Kernel::Nibbles => 4,
        }
    }

    /// The kernel with the given `kernel` byte (the inverse of
    /// [`Kernel::code`], checked by the tests).
    fn from_code(code: u8) -> Option<Kernel> {
        Some(match code {
            0 => Kernel::Reference,
            1 => Kernel::Gemm,
            2 => Kernel::Direct,
            3 => Kernel::Binary,
            4 => Kernel::Nibbles,
            _ => return None,
        })
    }
}

impl fmt::Display for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `input_b` value of ops with a single input.
const NO_INPUT: u16 = u16::MAX;

/// `scratch` value of ops without scratch memory.
const NO_SCRATCH: u16 = u16::MAX;

/// Scratch memory starts on multiples of this many arena bytes (the
/// record stores the offset divided by it).
pub(crate) const SCRATCH_ALIGN: usize = 16;

/// Sliding-window geometry, stored as twelve `u16`s.
///
/// Pairs are `[height, width]`; pads are `[top, left, bottom, right]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Window {
    pub(crate) kernel: [u16; 2],
    pub(crate) stride: [u16; 2],
    pub(crate) dilation: [u16; 2],
    pub(crate) pads: [u16; 4],
    /// ConvTranspose only; zero for every other op.
    pub(crate) output_padding: [u16; 2],
}

/// A byte range inside the constant data section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blob {
    pub(crate) offset: u32,
    pub(crate) len: u32,
}

/// The output stage shared by every requantizing op: per-channel (or
/// per-window-size) `f32` multipliers and the output clamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Requant {
    /// Offset of the little-endian `f32` multipliers in the data section.
    pub(crate) multipliers: u32,
    /// Number of multipliers.
    pub(crate) count: u32,
    /// Smallest output value.
    pub(crate) lo: i32,
    /// Largest output value.
    pub(crate) hi: i32,
}

/// Weights, bias and requantization of Conv, ConvTranspose and Dense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Affine {
    /// Bit width and coding of the weights.
    pub(crate) format: WeightFormat,
    /// The packed weights.
    pub(crate) weights: Blob,
    /// Offset of one little-endian `i32` bias per output channel.
    pub(crate) bias: u32,
    /// Multipliers and clamp.
    pub(crate) requant: Requant,
}

/// The kind-specific part of an op record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpBody {
    /// See [`OpKind::Conv`].
    Conv {
        window: Window,
        groups: u32,
        affine: Affine,
    },
    /// See [`OpKind::ConvTranspose`].
    ConvTranspose {
        window: Window,
        groups: u32,
        affine: Affine,
    },
    /// See [`OpKind::Dense`].
    Dense { affine: Affine },
    /// See [`OpKind::MaxPool`].
    MaxPool { window: Window },
    /// See [`OpKind::AvgPool`].
    AvgPool {
        window: Window,
        count_include_pad: bool,
        requant: Requant,
    },
    /// See [`OpKind::Add`].
    Add { input_b: u16, lo: i32, hi: i32 },
    /// See [`OpKind::Lut`]; `table` is the offset of 256 bytes.
    Lut { table: u32 },
}

/// One decoded op record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpRecord {
    /// The tensor the op writes.
    pub(crate) output: u16,
    /// The tensor the op reads (the first one for `Add`).
    pub(crate) input: u16,
    /// The kernel family that runs it.
    pub(crate) kernel: Kernel,
    /// Where in the arena the kernel's scratch memory starts (a multiple of
    /// [`SCRATCH_ALIGN`]), if it uses any; its length follows from the kernel
    /// and the op's shape.
    pub(crate) scratch: Option<u32>,
    /// Kind and parameters.
    pub(crate) body: OpBody,
}

impl OpBody {
    /// The op's kind.
    #[cfg(feature = "std")]
    pub(crate) fn kind(&self) -> OpKind {
        match self {
            OpBody::Conv { .. } => OpKind::Conv,
            OpBody::ConvTranspose { .. } => OpKind::ConvTranspose,
            OpBody::Dense { .. } => OpKind::Dense,
            OpBody::MaxPool { .. } => OpKind::MaxPool,
            OpBody::AvgPool { .. } => OpKind::AvgPool,
            OpBody::Add { .. } => OpKind::Add,
            OpBody::Lut { .. } => OpKind::Lut,
        }
    }
}

/// The fields every op record starts with (its first
/// [`Head::LEN`] bytes), read and checked on their own so that execution
/// can decode only the body its op needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    /// The op's kind.
    pub(crate) kind: OpKind,
    /// The kernel family that runs it.
    pub(crate) kernel: Kernel,
    /// The record's length in bytes (the kind's constant length).
    pub(crate) len: usize,
    /// See [`OpRecord::output`].
    pub(crate) output: u16,
    /// See [`OpRecord::input`].
    pub(crate) input: u16,
    /// The second input of `Add`, [`NO_INPUT`] for every other kind.
    input_b: u16,
    /// See [`OpRecord::scratch`].
    pub(crate) scratch: Option<u32>,
}

impl Head {
    /// Bytes of the common prefix.
    const LEN: usize = 12;

    /// Reads and checks the prefix of the record at the start of `bytes`.
    #[inline]
    pub(crate) fn read(bytes: &[u8]) -> Result<Head, ()> {
        let prefix: &[u8; Head::LEN] = bytes.first_chunk().ok_or(())?;
        let mut r = Reader::new(prefix, ());
        let kind = OpKind::from_code(r.u8()?).ok_or(())?;
        let kernel = Kernel::from_code(r.u8()?).ok_or(())?;
        let len = usize::from(r.u16()?);
        if len != kind.code_and_len().1 || bytes.len() < len {
            return Err(());
        }
        let output = r.u16()?;
        let input = r.u16()?;
        let input_b = r.u16()?;
        let scratch = match r.u16()? {
            NO_SCRATCH => None,
            units => Some(u32::from(units) * SCRATCH_ALIGN as u32),
        };
        if (kind == OpKind::Add) != (input_b != NO_INPUT) || (kernel == Kernel::Reference) != scratch.is_none() {
            return Err(());
        }
        Ok(Head {
            kind,
            kernel,
            len,
            output,
            input,
            input_b,
            scratch,
        })
    }

    /// The body of a Dense record `bytes` with this head: its weights, bias
    /// and requantization.
    #[inline]
    pub(crate) fn dense(&self, bytes: &[u8]) -> Result<Affine, ()> {
        if self.kind != OpKind::Dense {
            return Err(());
        }
        affine(&mut body::<44>(bytes, Head::LEN)?)
    }
}

impl OpRecord {
    /// Decodes the record at the start of `bytes`; returns it with its length.
    #[cfg(any(test, feature = "std"))]
    pub(crate) fn decode(bytes: &[u8]) -> Result<(OpRecord, usize), ()> {
        let head = Head::read(bytes)?;
        Ok((OpRecord::with_head(&head, bytes)?, head.len))
    }

    /// Decodes the body of the record at the start of `bytes`, whose
    /// [`Head::read`] gave `head`.
    pub(crate) fn with_head(head: &Head, bytes: &[u8]) -> Result<OpRecord, ()> {
        let Head {
            kind,
            kernel,
            output,
            input,
            input_b,
            scratch,
            ..
        } = *head;
        // The body through a reader of the kind's constant length, which
        // lets the compiler drop the per-field bounds checks.
        let prefix = Head::LEN;
        let body = match kind {
            OpKind::Conv => {
                let mut r = body::<72>(bytes, prefix)?;
                OpBody::Conv {
                    window: window(&mut r)?,
                    groups: r.u32()?,
                    affine: affine(&mut r)?,
                }
            }
            OpKind::ConvTranspose => {
                let mut r = body::<72>(bytes, prefix)?;
                OpBody::ConvTranspose {
                    window: window(&mut r)?,
                    groups: r.u32()?,
                    affine: affine(&mut r)?,
                }
            }
            OpKind::Dense => OpBody::Dense {
                affine: head.dense(bytes)?,
            },
            OpKind::MaxPool => OpBody::MaxPool {
                window: window(&mut body::<36>(bytes, prefix)?)?,
            },
            OpKind::AvgPool => {
                let mut r = body::<56>(bytes, prefix)?;
                let window = window(&mut r)?;
                let count_include_pad = r.flag()?;
                r.reserved(3)?;
                OpBody::AvgPool {
                    window,
                    count_include_pad,
                    requant: requant(&mut r)?,
                }
            }
            OpKind::Add => {
                let mut r = body::<20>(bytes, prefix)?;
                OpBody::Add {
                    input_b,
                    lo: r.i32()?,
                    hi: r.i32()?,
                }
            }
            OpKind::Lut => OpBody::Lut {
                table: body::<16>(bytes, prefix)?.u32()?,
            },
        };
        Ok(OpRecord {
            output,
            input,
            kernel,
            scratch,
            body,
        })
    }

    /// Appends the record's bytes (the inverse of [`OpRecord::decode`]).
    #[cfg(feature = "std")]
    pub(crate) fn encode(&self, out: &mut std::vec::Vec<u8>) {
        let mut w = super::cursor::Writer(out);
        let (code, len) = self.body.kind().code_and_len();
        w.u8(code);
        w.u8(self.kernel.code());
        w.u16(len as u16);
        w.u16(self.output);
        w.u16(self.input);
        w.u16(match self.body {
            OpBody::Add { input_b, .. } => input_b,
            _ => NO_INPUT,
        });
        w.u16(
            self.scratch
                .map_or(NO_SCRATCH, |at| (at as usize / SCRATCH_ALIGN) as u16),
        );
        match &self.body {
            OpBody::Conv { window, groups, affine } | OpBody::ConvTranspose { window, groups, affine } => {
                write_window(&mut w, window);
                w.u32(*groups);
                write_affine(&mut w, affine);
            }
            OpBody::Dense { affine } => write_affine(&mut w, affine),
            OpBody::MaxPool { window } => write_window(&mut w, window),
            OpBody::AvgPool {
                window,
                count_include_pad,
                requant,
            } => {
                write_window(&mut w, window);
                w.flag(*count_include_pad);
                w.reserved(3);
                write_requant(&mut w, requant);
            }
            OpBody::Add { lo, hi, .. } => {
                w.i32(*lo);
                w.i32(*hi);
            }
            OpBody::Lut { table } => w.u32(*table),
        }
    }
}

/// A reader over bytes `at..N` of a record of `N` bytes (its body after
/// the common prefix of `at` bytes).
#[inline(always)]
fn body<const N: usize>(bytes: &[u8], at: usize) -> Result<Reader<'_, ()>, ()> {
    let record: &[u8; N] = bytes.first_chunk().ok_or(())?;
    Ok(Reader::new(record.get(at..).ok_or(())?, ()))
}

/// Reads a [`Window`].
#[inline(always)]
fn window(r: &mut Reader<'_, ()>) -> Result<Window, ()> {
    let mut pair = || Ok::<_, ()>([r.u16()?, r.u16()?]);
    let (kernel, stride, dilation) = (pair()?, pair()?, pair()?);
    let pads = [r.u16()?, r.u16()?, r.u16()?, r.u16()?];
    let output_padding = [r.u16()?, r.u16()?];
    Ok(Window {
        kernel,
        stride,
        dilation,
        pads,
        output_padding,
    })
}

/// Reads a [`Requant`].
#[inline(always)]
fn requant(r: &mut Reader<'_, ()>) -> Result<Requant, ()> {
    Ok(Requant {
        multipliers: r.u32()?,
        count: r.u32()?,
        lo: r.i32()?,
        hi: r.i32()?,
    })
}

/// Reads an [`Affine`].
#[inline(always)]
fn affine(r: &mut Reader<'_, ()>) -> Result<Affine, ()> {
    let (bits, tag) = (r.u8()?, r.u8()?);
    let format = WeightFormat::from_code(bits, tag).ok_or(())?;
    r.reserved(2)?;
    let weights = Blob {
        offset: r.u32()?,
        len: r.u32()?,
    };
    Ok(Affine {
        format,
        weights,
        bias: r.u32()?,
        requant: requant(r)?,
    })
}

/// Writes a [`Window`].
#[cfg(feature = "std")]
fn write_window(w: &mut super::cursor::Writer<'_>, window: &Window) {
    let fields = window.kernel.iter().chain(&window.stride).chain(&window.dilation);
    for &v in fields.chain(&window.pads).chain(&window.output_padding) {
        w.u16(v);
    }
}

/// Writes a [`Requant`].
#[cfg(feature = "std")]
fn write_requant(w: &mut super::cursor::Writer<'_>, requant: &Requant) {
    w.u32(requant.multipliers);
    w.u32(requant.count);
    w.i32(requant.lo);
    w.i32(requant.hi);
}

/// Writes an [`Affine`].
#[cfg(feature = "std")]
fn write_affine(w: &mut super::cursor::Writer<'_>, affine: &Affine) {
    let (bits, tag) = affine.format.code();
    w.u8(bits);
    w.u8(tag);
    w.reserved(2);
    w.u32(affine.weights.offset);
    w.u32(affine.weights.len);
    w.u32(affine.bias);
    write_requant(w, &affine.requant);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requant() -> Requant {
        Requant {
            multipliers: 8,
            count: 3,
            lo: -5,
            hi: 100,
        }
    }

    fn affine() -> Affine {
        Affine {
            format: WeightFormat::Signed(3),
            weights: Blob { offset: 16, len: 9 },
            bias: 4,
            requant: requant(),
        }
    }

    fn window() -> Window {
        Window {
            kernel: [3, 5],
            stride: [1, 2],
            dilation: [2, 1],
            pads: [1, 2, 3, 4],
            output_padding: [0, 1],
        }
    }

    #[test]
    fn every_record_round_trips_with_its_declared_length() {
        let bodies = [
            OpBody::Conv {
                window: window(),
                groups: 2,
                affine: affine(),
            },
            OpBody::ConvTranspose {
                window: window(),
                groups: 1,
                affine: affine(),
            },
            OpBody::Dense { affine: affine() },
            OpBody::MaxPool { window: window() },
            OpBody::AvgPool {
                window: window(),
                count_include_pad: true,
                requant: requant(),
            },
            OpBody::Add {
                input_b: 3,
                lo: -128,
                hi: 127,
            },
            OpBody::Lut { table: 256 },
        ];
        for body in bodies {
            let record = OpRecord {
                output: 7,
                input: 2,
                kernel: Kernel::Gemm,
                scratch: Some(48),
                body,
            };
            let mut bytes = Vec::new();
            record.encode(&mut bytes);
            assert_eq!(bytes.len(), body.kind().code_and_len().1);
            assert_eq!(bytes.len() % 4, 0);
            assert_eq!(OpRecord::decode(&bytes), Ok((record, bytes.len())));
            assert_eq!(OpRecord::decode(&bytes[..bytes.len() - 1]), Err(()));
        }
    }

    #[test]
    fn kernels_need_scratch_memory_exactly_when_they_are_not_the_reference() {
        let record = OpRecord {
            output: 1,
            input: 0,
            kernel: Kernel::Reference,
            scratch: None,
            body: OpBody::Lut { table: 0 },
        };
        let mut bytes = Vec::new();
        record.encode(&mut bytes);
        assert_eq!(OpRecord::decode(&bytes), Ok((record, bytes.len())));
        assert_eq!(bytes[10..12], [0xff, 0xff]);
        let mut with_scratch = bytes.clone();
        with_scratch[10..12].copy_from_slice(&3u16.to_le_bytes());
        assert_eq!(
            OpRecord::decode(&with_scratch),
            Err(()),
            "the reference kernel uses none"
        );
        for (code, kernel) in [
            (1, Kernel::Gemm),
            (2, Kernel::Direct),
            (3, Kernel::Binary),
            (4, Kernel::Nibbles),
        ] {
            let mut other = with_scratch.clone();
            other[1] = code;
            let decoded = OpRecord::decode(&other).map(|(r, _)| (r.kernel, r.scratch));
            assert_eq!(decoded, Ok((kernel, Some(48))));
            other[10..12].copy_from_slice(&[0xff, 0xff]);
            assert_eq!(OpRecord::decode(&other), Err(()), "{kernel} needs scratch memory");
        }
        let mut unknown = bytes.clone();
        unknown[1] = 5;
        assert_eq!(OpRecord::decode(&unknown), Err(()));
    }
}

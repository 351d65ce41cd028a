//! Turning one op record into checked kernel arguments.
//!
//! [`Step::prepare`] runs for every op during validation with every check
//! (`full`), so a model only loads if each kernel's arguments have shapes,
//! data references and arena spans consistent with each other, and only the
//! kernel family the record names if it applies to the op. All checks are
//! O(1) per op. Before each execution it runs again without the checks, on
//! the same (immutably borrowed) bytes, and only builds the arguments; the
//! kernels still check their shapes against their slices and index with
//! bounds checks, so they could not panic or reach outside their slices
//! even on arguments that were never validated.

use super::Model;
use crate::format::{Affine, BLOB_ALIGN, Head, Kernel, OpBody, OpKind, OpRecord, Requant, TensorRecord, Window};
use crate::kernels::binary::{self, Levels};
use crate::kernels::{
    self, AddArgs, AvgPoolArgs, ConvArgs, DenseArgs, Fault, Geometry, MaxPoolArgs, Output, Values, Weights, direct,
    gemm, nibbles,
};
use crate::{Error, WeightFormat};
use core::ops::Range;

/// The kernel to call, with its arguments.
pub(super) enum Call<'a> {
    Conv(ConvArgs<'a>),
    GemmConv(ConvArgs<'a>),
    DirectConv(ConvArgs<'a>),
    ConvTranspose(ConvArgs<'a>),
    Dense(DenseArgs<'a>),
    GemmDense(DenseArgs<'a>),
    NibbleDense(DenseArgs<'a>),
    BinaryDense(DenseArgs<'a>, Levels, binary::Layout<'a>),
    MaxPool(MaxPoolArgs),
    AvgPool(AvgPoolArgs<'a>),
    Add(AddArgs),
    Lut(&'a [u8]),
}

impl Call<'_> {
    /// Whether this build has the kernel (the families are cargo features,
    /// all on by default).
    fn built_in(&self) -> bool {
        match self {
            Call::GemmConv(_) => cfg!(feature = "gemm-conv"),
            Call::DirectConv(_) => cfg!(feature = "direct"),
            Call::GemmDense(_) => cfg!(feature = "gemm-dense"),
            Call::NibbleDense(_) => cfg!(feature = "nibbles"),
            Call::MaxPool(_) => cfg!(feature = "max-pool"),
            Call::Conv(_) | Call::Dense(_) => cfg!(feature = "reference"),
            Call::ConvTranspose(_) => cfg!(feature = "conv-transpose"),
            Call::BinaryDense(..) => cfg!(feature = "binary"),
            Call::AvgPool(_) => cfg!(feature = "avg-pool"),
            Call::Add(_) => cfg!(feature = "add"),
            Call::Lut(_) => cfg!(feature = "lut"),
        }
    }
}

/// One op ready to execute: its kernel and the arena spans it reads and
/// writes (neither the output span nor the scratch span overlaps any other
/// span).
pub(super) struct Step<'a> {
    /// The kernel and its arguments.
    pub(super) call: Call<'a>,
    /// The spans of the op's inputs (the second is Add's other input).
    pub(super) inputs: [Range<usize>; 2],
    /// The span it writes.
    pub(super) output: Range<usize>,
    /// The span its kernel may use as scratch (empty if none).
    pub(super) scratch: Range<usize>,
}

/// Whether two byte ranges share a byte.
fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Shorthand for a check that only validation (`full`) makes.
#[inline(always)]
fn check(full: bool, ok: bool, err: Error) -> Result<(), Error> {
    if full && !ok { Err(err) } else { Ok(()) }
}

impl<'a> Step<'a> {
    /// Builds the kernel arguments of `record` (op number `index`) and, if
    /// `full`, checks them against its tensors and the data section (see
    /// the module docs).
    pub(super) fn prepare(model: &Model<'a>, index: u16, record: &OpRecord, full: bool) -> Result<Step<'a>, Error> {
        let err = Error::InvalidOp { index };
        let tensor = |id| {
            if full {
                model.tensor(id)
            } else {
                model.validated_tensor(id)
            }
        };
        let check = |ok, err| check(full, ok, err);
        let x = tensor(record.input)?;
        let y = tensor(record.output)?;
        let mut inputs = [x.span(), x.span()];
        let cx = Checker { model, err, x, y, full };
        // The scratch bytes the kernel needs.
        let mut needed = 0;
        let call = match (&record.body, record.kernel) {
            (OpBody::Conv { window, groups, affine }, kernel) => {
                let args = cx.conv(window, *groups, affine, false)?;
                let [c, h, w] = args.input;
                match kernel {
                    Kernel::Reference => Call::Conv(args),
                    Kernel::Gemm if args.groups == 1 => {
                        needed = gemm::conv_scratch_len(&args.geometry, args.input);
                        Call::GemmConv(args)
                    }
                    Kernel::Direct if args.groups == c && direct::applies(&args.geometry) => {
                        needed = direct::scratch_len(direct::plane_len(&args.geometry, [h, w]));
                        Call::DirectConv(args)
                    }
                    _ => return Err(err),
                }
            }
            (OpBody::ConvTranspose { window, groups, affine }, Kernel::Reference) => {
                Call::ConvTranspose(cx.conv(window, *groups, affine, true)?)
            }
            (OpBody::Dense { affine }, kernel) => {
                let args = cx.dense(affine, kernel)?;
                match kernel {
                    Kernel::Reference => Call::Dense(args),
                    Kernel::Gemm => {
                        needed = gemm::dense_scratch_len(args.inputs);
                        Call::GemmDense(args)
                    }
                    Kernel::Nibbles if args.weights.format == WeightFormat::Signed(4) => {
                        needed = nibbles::scratch_len(args.inputs);
                        Call::NibbleDense(args)
                    }
                    // Left out of the build, the checks and the layout of the
                    // weights go too.
                    Kernel::Binary if !cfg!(feature = "binary") => return Err(Error::OpNotBuiltIn { index }),
                    Kernel::Binary if args.weights.format == WeightFormat::Bipolar => {
                        let levels = Levels::of(&x.quant, x.bipolar).ok_or(err)?;
                        needed = binary::scratch_len(args.inputs, args.outputs);
                        // Also refuses a stored stage the device cannot apply
                        // (a shift of 32 or more), at validation already.
                        let layout = binary::Layout::of(&args).map_err(|Fault| err)?;
                        Call::BinaryDense(args, levels, layout)
                    }
                    _ => return Err(err),
                }
            }
            (_, kernel) if kernel != Kernel::Reference => return Err(err),
            (OpBody::ConvTranspose { .. }, _) => return Err(err),
            (OpBody::MaxPool { window }, _) => {
                check(x.quant.same_as(&y.quant), err)?;
                Call::MaxPool(cx.pool(window)?)
            }
            (
                OpBody::AvgPool {
                    window,
                    count_include_pad,
                    requant,
                },
                _,
            ) => {
                let pool = cx.pool(window)?;
                let area = pool.geometry.kernel[0] * pool.geometry.kernel[1];
                let out = cx.output(requant, area)?;
                Call::AvgPool(AvgPoolArgs {
                    pool,
                    count_include_pad: *count_include_pad,
                    x_zero: x.quant.zero_point,
                    out,
                })
            }
            (OpBody::Add { input_b, lo, hi }, _) => {
                let b = tensor(*input_b)?;
                check(x.shape == y.shape && b.shape == y.shape, err)?;
                cx.clamp(*lo, *hi)?;
                inputs[1] = b.span();
                Call::Add(AddArgs {
                    a: x.quant,
                    b: b.quant,
                    y: y.quant,
                    lo: *lo,
                    hi: *hi,
                })
            }
            (OpBody::Lut { table }, _) => {
                check(x.shape == y.shape, err)?;
                Call::Lut(cx.blob(*table, 256)?)
            }
        };
        check(call.built_in(), Error::OpNotBuiltIn { index })?;
        let output = y.span();
        check(!inputs.iter().any(|i| overlaps(i, &output)), err)?;
        let at = record.scratch.unwrap_or(0) as usize;
        let scratch = at..at.saturating_add(needed);
        if !scratch.is_empty() {
            let inside = scratch.end <= model.arena_size();
            let apart = !overlaps(&scratch, &output) && !inputs.iter().any(|i| overlaps(i, &scratch));
            check(inside && apart, err)?;
        }
        Ok(Step {
            call,
            inputs,
            output,
            scratch,
        })
    }

    /// Runs op `index` of a model that [`Model::from_bytes`] validated on
    /// the arena, from its record's `head` and `bytes`: builds the kernel
    /// arguments without the checks and calls the kernel (Dense layers on
    /// the fast kernels directly from the fields they need, every other op
    /// through its whole record, [`Step::prepare`] and [`Step::execute`]).
    #[inline(never)]
    pub(super) fn run(model: &Model<'a>, index: u16, head: &Head, bytes: &[u8], arena: &mut [u8]) -> Result<(), Error> {
        let err = Error::InvalidOp { index };
        match head.kernel {
            Kernel::Gemm | Kernel::Nibbles | Kernel::Binary if head.kind == OpKind::Dense => {
                let affine = head.dense(bytes).map_err(|()| err)?;
                Self::run_dense(model, index, head, &affine, arena)
            }
            _ => {
                // Matched by reference: the record is used where it was decoded.
                let decoded = OpRecord::with_head(head, bytes);
                let Ok(record) = &decoded else {
                    return Err(err);
                };
                Self::run_step(model, index, record, arena)
            }
        }
    }

    /// [`Step::run`] of a Gemm, Nibbles or Binary Dense: its arguments
    /// built in place from the fields [`Checker::dense`] checked.
    #[inline(never)]
    fn run_dense(model: &Model<'a>, index: u16, head: &Head, affine: &Affine, arena: &mut [u8]) -> Result<(), Error> {
        let err = Error::InvalidOp { index };
        let x = model.validated_tensor(head.input)?;
        let y = model.validated_tensor(head.output)?;
        let data = |offset: u32, len: Option<usize>| {
            let len = len.ok_or(err)?;
            model.data.get(offset as usize..).and_then(|d| d.get(..len)).ok_or(err)
        };
        // Validation checked the spans, whose lengths are the element counts.
        let (x_span, y_span) = (x.span(), y.span());
        let (inputs, outputs) = (x_span.len(), y_span.len());
        let r = &affine.requant;
        let args = DenseArgs {
            inputs,
            outputs,
            weights: Weights {
                bytes: data(affine.weights.offset, Some(affine.weights.len as usize))?,
                format: affine.format,
            },
            bias: data(affine.bias, outputs.checked_mul(4))?,
            x: Values::new(x.quant.signed),
            out: Output {
                multipliers: data(r.multipliers, (r.count as usize).checked_mul(4))?,
                zero_point: y.quant.zero_point,
                lo: r.lo,
                hi: r.hi,
            },
        };
        let needed = match head.kernel {
            Kernel::Nibbles => nibbles::scratch_len(inputs),
            Kernel::Binary => binary::scratch_len(inputs, outputs),
            _ => gemm::dense_scratch_len(inputs),
        };
        let at = head.scratch.unwrap_or(0) as usize;
        let scratch = at..at.saturating_add(needed);
        let Parts {
            output: out,
            scratch,
            shared,
        } = Parts::split(arena, &y_span, &scratch).ok_or(err)?;
        let values = shared.read(&x_span).ok_or(err)?;
        // Kernels left out of the build (see `Call::built_in`) are never
        // reached, so the linker drops them.
        let result = match head.kernel {
            Kernel::Nibbles if cfg!(feature = "nibbles") => nibbles::dense(&args, values, out, scratch),
            Kernel::Binary if cfg!(feature = "binary") => {
                let levels = Levels::of(&x.quant, x.bipolar).ok_or(err)?;
                let layout = binary::Layout::of(&args).map_err(|Fault| err)?;
                binary::dense(&args, (levels, &layout), values, out, scratch)
            }
            Kernel::Nibbles | Kernel::Binary => return Err(Error::OpNotBuiltIn { index }),
            _ if cfg!(feature = "gemm-dense") => gemm::dense(&args, values, out, scratch),
            _ => return Err(Error::OpNotBuiltIn { index }),
        };
        result.map_err(|Fault| err)
    }

    /// [`Step::run`] of every other op.
    #[inline(never)]
    fn run_step(model: &Model<'a>, index: u16, record: &OpRecord, arena: &mut [u8]) -> Result<(), Error> {
        // Executed in place inside the `Result`: moving the `Step` out
        // would copy it.
        match &Step::prepare(model, index, record, false) {
            Ok(step) => step.execute(index, arena),
            Err(e) => Err(*e),
        }
    }

    /// Runs the kernel on the arena.
    pub(super) fn execute(&self, index: u16, arena: &mut [u8]) -> Result<(), Error> {
        let err = Error::InvalidOp { index };
        let Parts {
            output: y,
            scratch,
            shared,
        } = Parts::split(arena, &self.output, &self.scratch).ok_or(err)?;
        let read = |span: &Range<usize>| shared.read(span).ok_or(err);
        let x = read(&self.inputs[0])?;
        // Kernels left out of the build (see `Call::built_in`) are never
        // reached, so the linker drops them.
        let result = match &self.call {
            Call::Conv(a) if cfg!(feature = "reference") => kernels::conv(a, x, y),
            Call::GemmConv(a) if cfg!(feature = "gemm-conv") => gemm::conv(a, x, y, scratch),
            Call::DirectConv(a) if cfg!(feature = "direct") => direct::conv(a, x, y, scratch),
            Call::ConvTranspose(a) if cfg!(feature = "conv-transpose") => kernels::conv_transpose(a, x, y),
            Call::Dense(a) if cfg!(feature = "reference") => kernels::dense(a, x, y),
            Call::GemmDense(a) if cfg!(feature = "gemm-dense") => gemm::dense(a, x, y, scratch),
            Call::NibbleDense(a) if cfg!(feature = "nibbles") => nibbles::dense(a, x, y, scratch),
            Call::BinaryDense(a, levels, layout) if cfg!(feature = "binary") => {
                binary::dense(a, (*levels, layout), x, y, scratch)
            }
            Call::MaxPool(a) if cfg!(feature = "max-pool") => kernels::max_pool(a, x, y),
            Call::AvgPool(a) if cfg!(feature = "avg-pool") => kernels::avg_pool(a, x, y),
            Call::Add(a) if cfg!(feature = "add") => kernels::add(a, x, read(&self.inputs[1])?, y),
            Call::Lut(table) if cfg!(feature = "lut") => kernels::lut(table, x, y),
            _ => return Err(Error::OpNotBuiltIn { index }),
        };
        result.map_err(|Fault| err)
    }
}

/// The arena cut around an op's two written spans (output and scratch):
/// both mutable, and the read-only parts around them.
struct Parts<'a> {
    output: &'a mut [u8],
    scratch: &'a mut [u8],
    shared: Shared<'a>,
}

/// `(start, bytes)` of the three read-only parts of the arena, in order.
struct Shared<'a>([(usize, &'a [u8]); 3]);

impl<'a> Shared<'a> {
    /// The bytes of `span`, which must lie inside one read-only part.
    fn read(&self, span: &Range<usize>) -> Option<&'a [u8]> {
        self.0.iter().find_map(|&(start, bytes)| {
            let from = span.start.checked_sub(start)?;
            bytes.get(from..span.end.checked_sub(start)?)
        })
    }
}

impl<'a> Parts<'a> {
    /// Splits `arena`; `None` if a span lies outside it or they overlap.
    fn split(arena: &'a mut [u8], output: &Range<usize>, scratch: &Range<usize>) -> Option<Parts<'a>> {
        let scratch = if scratch.is_empty() {
            output.end..output.end
        } else {
            scratch.clone()
        };
        let output_first = output.start <= scratch.start;
        let (first, second) = if output_first {
            (output, &scratch)
        } else {
            (&scratch, output)
        };
        let (head, rest) = arena.split_at_mut_checked(first.start)?;
        let (a, rest) = rest.split_at_mut_checked(first.len())?;
        let (middle, rest) = rest.split_at_mut_checked(second.start.checked_sub(first.end)?)?;
        let (b, tail) = rest.split_at_mut_checked(second.len())?;
        let shared = Shared([(0, &*head), (first.end, &*middle), (second.end, &*tail)]);
        let (output, scratch) = if output_first { (a, b) } else { (b, a) };
        Some(Parts {
            output,
            scratch,
            shared,
        })
    }
}

/// The context of the checks of one op (made only if `full`).
struct Checker<'m, 'a> {
    model: &'m Model<'a>,
    /// Whether to check (validation) or only build the arguments.
    full: bool,
    err: Error,
    x: TensorRecord,
    y: TensorRecord,
}

impl<'a> Checker<'_, 'a> {
    /// `len` bytes at `offset` in the data section (offset 4-aligned).
    fn blob(&self, offset: u32, len: usize) -> Result<&'a [u8], Error> {
        let start = offset as usize;
        check(self.full, start.is_multiple_of(BLOB_ALIGN), self.err)?;
        self.model
            .data
            .get(start..start.checked_add(len).ok_or(self.err)?)
            .ok_or(self.err)
    }

    /// Checks that `[lo, hi]` is a non-empty part of the output's range.
    fn clamp(&self, lo: i32, hi: i32) -> Result<(), Error> {
        let (min, max) = self.y.quant.range();
        check(self.full, min <= lo && lo <= hi && hi <= max, self.err)
    }

    /// The requantization stage, with `channels` possible multipliers.
    fn output(&self, r: &Requant, channels: usize) -> Result<Output<'a>, Error> {
        self.clamp(r.lo, r.hi)?;
        let count = r.count as usize;
        check(self.full, count == 1 || count == channels, self.err)?;
        let multipliers = self.blob(r.multipliers, count.checked_mul(4).ok_or(self.err)?)?;
        Ok(Output {
            multipliers,
            zero_point: self.y.quant.zero_point,
            lo: r.lo,
            hi: r.hi,
        })
    }

    /// Weights (`count` of them, or `packed` bytes if given) and
    /// `channels` biases.
    fn weights(
        &self,
        affine: &Affine,
        count: u64,
        packed: Option<Option<usize>>,
        channels: usize,
    ) -> Result<(Weights<'a>, &'a [u8]), Error> {
        let len = affine.weights.len as usize;
        if self.full {
            let expected = packed.unwrap_or_else(|| affine.format.packed_len(count));
            check(self.full, expected == Some(len), self.err)?;
        }
        let bytes = self.blob(affine.weights.offset, len)?;
        let bias = self.blob(affine.bias, channels.checked_mul(4).ok_or(self.err)?)?;
        Ok((
            Weights {
                bytes,
                format: affine.format,
            },
            bias,
        ))
    }

    /// `[C, H, W]` of input and output, which must have the same rank 2 or 3.
    fn spatial(&self) -> Result<([usize; 3], [usize; 3]), Error> {
        check(self.full, self.x.shape.rank() == self.y.shape.rank(), self.err)?;
        Ok((self.x.shape.chw().ok_or(self.err)?, self.y.shape.chw().ok_or(self.err)?))
    }

    /// Conv or ConvTranspose.
    fn conv(&self, window: &Window, groups: u32, affine: &Affine, transpose: bool) -> Result<ConvArgs<'a>, Error> {
        let ([c, h, w], output) = self.spatial()?;
        let [oc, oh, ow] = output;
        let geometry = Geometry::from(window);
        let groups = groups as usize;
        if self.full {
            check(self.full, groups > 0 && c % groups == 0 && oc % groups == 0, self.err)?;
            let expected = if transpose {
                // ONNX requires output padding below the stride or the dilation.
                let small = (0..2).all(|a| geometry.output_padding[a] < geometry.stride[a].max(geometry.dilation[a]));
                check(self.full, small, self.err)?;
                geometry.conv_transpose_output([h, w])
            } else {
                check(self.full, geometry.output_padding == [0, 0], self.err)?;
                geometry.conv_output([h, w])
            };
            check(self.full, expected == Some([oh, ow]), self.err)?;
        }
        let [kh, kw] = geometry.kernel.map(|k| k as u64);
        let count = (oc as u64 * kh * kw).saturating_mul((c / groups.max(1)) as u64);
        let (weights, bias) = self.weights(affine, count, None, oc)?;
        let out = self.output(&affine.requant, oc)?;
        let (x, x_zero) = (Values::new(self.x.quant.signed), self.x.quant.zero_point);
        Ok(ConvArgs {
            input: [c, h, w],
            output,
            geometry,
            groups,
            weights,
            bias,
            x,
            x_zero,
            out,
        })
    }

    /// Dense over the flattened input, its weights packed for `kernel`.
    fn dense(&self, affine: &Affine, kernel: Kernel) -> Result<DenseArgs<'a>, Error> {
        check(self.full, self.y.shape.rank() == 1, self.err)?;
        let (inputs, outputs) = (self.x.shape.elements(), self.y.shape.elements());
        let packed = match kernel {
            Kernel::Nibbles => Some(nibbles::packed_len(inputs, outputs)),
            Kernel::Binary if self.full => Some(binary::stored_len(
                inputs,
                outputs,
                affine.weights.len as usize,
                (affine.requant.lo, affine.requant.hi),
            )),
            _ => None,
        };
        let (weights, bias) = self.weights(affine, inputs as u64 * outputs as u64, packed, outputs)?;
        let out = self.output(&affine.requant, outputs)?;
        Ok(DenseArgs {
            inputs,
            outputs,
            weights,
            bias,
            x: Values::new(self.x.quant.signed),
            out,
        })
    }

    /// The shared part of MaxPool and AvgPool.
    fn pool(&self, window: &Window) -> Result<MaxPoolArgs, Error> {
        let (input, output) = self.spatial()?;
        let geometry = Geometry::from(window);
        if self.full {
            let ok = output[0] == input[0]
                && geometry.output_padding == [0, 0]
                && geometry.pads_smaller_than_kernel()
                && geometry.conv_output([input[1], input[2]]) == Some([output[1], output[2]]);
            check(self.full, ok, self.err)?;
        }
        Ok(MaxPoolArgs {
            input,
            output,
            geometry,
            x: Values::new(self.x.quant.signed),
        })
    }
}

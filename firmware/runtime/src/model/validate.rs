//! Whole-model checks run once by [`Model::from_bytes`].

use super::Model;
use super::prepare::Step;
use crate::format::{Kernel, OpBody, OpRecord, Window, f32_at};
use crate::kernels::{Geometry, Values, direct, gemm, pool};
use crate::{Error, WeightFormat};

/// Validates the tensor table and the op graph of a model whose header,
/// sections and CRC were already checked.
///
/// Tensors are numbered in definition order: tensor 0 is the model input,
/// each op writes a tensor numbered above every tensor it reads and above
/// the previous op's output, and every other tensor is a view (Reshape) of
/// a lower-numbered tensor. One pass over the ops therefore proves that
/// every tensor is written exactly once and before it is read, with no
/// memory proportional to the model.
///
/// A tensor declared bipolar (every value -1 or +1) must be the model input
/// (`run` checks its values), a view of a bipolar tensor, or written by an
/// op that can only produce -1 and +1: a Lut whose entries are all -1 or
/// +1, or a MaxPool of a bipolar tensor.
pub(super) fn validate(model: &Model<'_>) -> Result<(), Error> {
    for id in 0..model.header.tensor_count {
        let t = model.tensor(id)?;
        if let Some(base_id) = t.view_of {
            let err = Error::InvalidTensor { index: id };
            let base = model.tensor(base_id)?;
            let same_bytes = base.offset == t.offset && base.shape.elements() == t.shape.elements();
            if base_id >= id || !same_bytes || !base.quant.same_as(&t.quant) || base.bipolar != t.bipolar {
                return Err(err);
            }
        }
    }
    if model.ends.input.view_of.is_some() {
        return Err(Error::InvalidTensor { index: 0 });
    }
    let views_only = |ids: core::ops::Range<u16>| -> Result<(), Error> {
        for id in ids {
            if model.tensor(id)?.view_of.is_none() {
                return Err(Error::InvalidTensor { index: id });
            }
        }
        Ok(())
    };
    let mut next = 1u16;
    model.for_each_op(|index, record| {
        let err = Error::InvalidOp { index };
        let reads_b = match record.body {
            OpBody::Add { input_b, .. } => input_b,
            _ => record.input,
        };
        let defined = next <= record.output && record.input < record.output && reads_b < record.output;
        if !defined || model.tensor(record.output)?.view_of.is_some() {
            return Err(err);
        }
        views_only(next..record.output)?;
        next = record.output + 1;
        Step::prepare(model, index, record, true)?;
        check_contents(model, record).map_err(|()| err)?;
        if model.tensor(record.output)?.bipolar && !writes_bipolar(model, record).map_err(|()| err)? {
            return Err(Error::InvalidTensor { index: record.output });
        }
        if !path_built_in(model, record)? {
            return Err(Error::OpNotBuiltIn { index });
        }
        Ok(())
    })?;
    views_only(next..model.header.tensor_count)
}

/// The checks that [`Step::prepare`] leaves out because they are not O(1):
/// multipliers are finite, lookup tables stay in the output's range, and
/// no pooling window sees only padding (the kernels would report a fault
/// rather than panic, but the model would be useless).
fn check_contents(model: &Model<'_>, record: &OpRecord) -> Result<(), ()> {
    let finite = |offset: u32, count: u32| {
        let array = model.data.get(offset as usize..).unwrap_or(&[]);
        (0..count as usize).all(|i| f32_at(array, i).is_some_and(f32::is_finite))
    };
    let ok = match &record.body {
        OpBody::Conv { affine, .. } | OpBody::ConvTranspose { affine, .. } | OpBody::Dense { affine } => {
            finite(affine.requant.multipliers, affine.requant.count)
        }
        OpBody::MaxPool { window } => pool_windows_filled(model, record, window)?,
        OpBody::AvgPool { window, requant, .. } => {
            pool_windows_filled(model, record, window)? && finite(requant.multipliers, requant.count)
        }
        OpBody::Lut { table } => {
            let (lo, hi) = model.tensor(record.output).map_err(|_| ())?.quant.range();
            let (min, max, _) = lut_entries(model, record, *table)?;
            lo <= min && max <= hi
        }
        OpBody::Add { .. } => true,
    };
    if ok { Ok(()) } else { Err(()) }
}

/// Whether this build has the code path an op takes inside its kernel
/// family: the weight path of a Gemm op (see [`gemm::built_in`]) or the
/// generic window of a Direct Conv (see [`direct::generic`]) or of a
/// MaxPool (see [`pool::generic`]); other ops pass.
fn path_built_in(model: &Model<'_>, record: &OpRecord) -> Result<bool, Error> {
    if direct_generic(record) && !cfg!(feature = "direct-generic") {
        return Ok(false);
    }
    if max_pool_generic(record) && !cfg!(feature = "max-pool-generic") {
        return Ok(false);
    }
    Ok(gemm_rows(model, record)?.is_none_or(|(format, taps)| gemm::built_in(format, taps)))
}

/// Whether `record` is a Direct Conv with a window of the generic path.
pub(super) fn direct_generic(record: &OpRecord) -> bool {
    match (&record.body, record.kernel) {
        (OpBody::Conv { window, .. }, Kernel::Direct) => direct::generic(&Geometry::from(window)),
        _ => false,
    }
}

/// Whether `record` is a MaxPool with a window of the generic path.
pub(super) fn max_pool_generic(record: &OpRecord) -> bool {
    match &record.body {
        OpBody::MaxPool { window } => pool::generic(&Geometry::from(window)),
        _ => false,
    }
}

/// The weight format and row length of a Gemm op, `None` for other ops.
pub(super) fn gemm_rows(model: &Model<'_>, record: &OpRecord) -> Result<Option<(WeightFormat, usize)>, Error> {
    let x = model.tensor(record.input)?;
    Ok(match (&record.body, record.kernel) {
        (OpBody::Conv { window, affine, .. }, Kernel::Gemm) => {
            // `Step::prepare` checked the input's rank.
            let c = x.shape.chw().map_or(0, |[c, _, _]| c);
            Some((
                affine.format,
                c * usize::from(window.kernel[0]) * usize::from(window.kernel[1]),
            ))
        }
        (OpBody::Dense { affine }, Kernel::Gemm) => Some((affine.format, x.shape.elements())),
        _ => None,
    })
}

/// Whether `record` can only write -1 and +1.
fn writes_bipolar(model: &Model<'_>, record: &OpRecord) -> Result<bool, ()> {
    Ok(match &record.body {
        OpBody::Lut { table } => lut_entries(model, record, *table)?.2,
        OpBody::MaxPool { .. } => model.tensor(record.input).map_err(|_| ())?.bipolar,
        _ => false,
    })
}

/// The lowest and highest value of the 256 entries of the lookup table at
/// data offset `table` of Lut `record` (read as its output's values), and
/// whether every entry is the byte of -1 or +1. One pass without early
/// exit, shared by both checks: validation code, kept small.
#[inline(never)]
fn lut_entries(model: &Model<'_>, record: &OpRecord, table: u32) -> Result<(i32, i32, bool), ()> {
    let values = Values::new(model.tensor(record.output).map_err(|_| ())?.quant.signed);
    let bytes = model.data.get(table as usize..).and_then(|t| t.get(..256)).ok_or(())?;
    Ok(bytes
        .iter()
        .fold((i32::MAX, i32::MIN, true), |(min, max, bipolar), &b| {
            let v = values.get(b);
            (min.min(v), max.max(v), bipolar && (b == 1 || b == 0xff))
        }))
}

/// Whether every window of a pooling op holds an input value.
fn pool_windows_filled(model: &Model<'_>, record: &OpRecord, window: &Window) -> Result<bool, ()> {
    let [_, h, w] = model.tensor(record.input).map_err(|_| ())?.shape.chw().ok_or(())?;
    Ok(Geometry::from(window).windows_never_empty([h, w]))
}

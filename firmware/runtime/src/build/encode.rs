//! `finish`: memory planning and serialization.

use super::{BuildError, Built, ProgramBuilder, Report, TensorId};
use crate::Model;
use crate::format::{CRC_OFFSET, Header, Layout, OpBody, OpRecord, SCRATCH_ALIGN, TensorRecord, checksum};
use crate::plan::{self, Lifetime};

/// Plans, serializes and self-checks the model of `b`.
pub(super) fn finish(b: &ProgramBuilder) -> Result<Built, BuildError> {
    if b.tensors.is_empty() {
        return Err(BuildError::MissingInput);
    }
    let output = b.output.ok_or(BuildError::MissingOutput)?;
    let steps = b.ops.len().max(1);

    // One buffer per tensor that owns its bytes; views share their base's.
    let mut buffer_of = Vec::with_capacity(b.tensors.len());
    let mut lifetimes = Vec::new();
    for t in &b.tensors {
        buffer_of.push(match t.view_of {
            Some(base) => buffer_of[base.index()],
            None => {
                lifetimes.push(Lifetime {
                    size: t.shape.elements(),
                    first: 0,
                    last: 0,
                    align: 1,
                });
                lifetimes.len() - 1
            }
        });
    }
    let buffer = |t: TensorId| buffer_of[t.index()];
    for (step, op) in b.ops.iter().enumerate() {
        lifetimes[buffer(op.output)].first = step;
        lifetimes[buffer(op.output)].last = step;
        let second = match op.body {
            OpBody::Add { input_b, .. } => Some(TensorId(input_b)),
            _ => None,
        };
        for input in [Some(op.input), second].into_iter().flatten() {
            let l = &mut lifetimes[buffer(input)];
            l.last = l.last.max(step);
        }
    }
    lifetimes[buffer(output)].last = steps - 1;
    // Each op's scratch memory lives while the op runs.
    let mut scratch_of = Vec::with_capacity(b.ops.len());
    for (step, op) in b.ops.iter().enumerate() {
        scratch_of.push((op.scratch > 0).then(|| {
            lifetimes.push(Lifetime {
                size: op.scratch,
                first: step,
                last: step,
                align: SCRATCH_ALIGN,
            });
            lifetimes.len() - 1
        }));
    }
    let plan = plan::plan(&lifetimes, steps);
    let too_large = |what| move |_| BuildError::TooLarge(what);

    let mut tensors = Vec::with_capacity(b.tensors.len() * crate::format::TENSOR_RECORD_LEN);
    for (t, &buf) in b.tensors.iter().zip(&buffer_of) {
        let offset = u32::try_from(plan.offsets[buf]).map_err(too_large("arena above 4 GiB"))?;
        let view_of = t.view_of.map(|v| v.0);
        TensorRecord {
            shape: t.shape,
            quant: t.quant,
            view_of,
            offset,
            bipolar: t.bipolar,
        }
        .encode(&mut tensors);
    }
    let mut ops = Vec::new();
    for (op, scratch) in b.ops.iter().zip(&scratch_of) {
        // The record holds the offset in units of SCRATCH_ALIGN in a u16.
        let limit = (usize::from(u16::MAX) - 1) * SCRATCH_ALIGN;
        let scratch = match *scratch {
            Some(buf) if plan.offsets[buf] <= limit => Some(plan.offsets[buf] as u32),
            Some(_) => {
                return Err(BuildError::TooLarge(
                    "scratch memory placed beyond 1 MiB of arena (use KernelPolicy::Reference)",
                ));
            }
            None => None,
        };
        OpRecord {
            output: op.output.0,
            input: op.input.0,
            kernel: op.kernel,
            scratch,
            body: op.body,
        }
        .encode(&mut ops);
    }
    let layout = Layout::new(b.tensors.len(), ops.len(), b.data.len()).ok_or(BuildError::TooLarge("file size"))?;
    let header = Header {
        crc: 0,
        file_len: u32::try_from(layout.data.end).map_err(too_large("file above 4 GiB"))?,
        arena_size: u32::try_from(plan.arena).map_err(too_large("arena above 4 GiB"))?,
        tensor_count: b.tensors.len() as u16,
        op_count: b.ops.len() as u16,
        output_tensor: output.0,
        op_table_len: ops.len() as u32,
        data_len: b.data.len() as u32,
    };
    let mut bytes = Vec::with_capacity(layout.data.end);
    header.encode(&mut bytes);
    bytes.extend_from_slice(&tensors);
    bytes.resize(layout.ops.start, 0);
    bytes.extend_from_slice(&ops);
    bytes.resize(layout.data.start, 0);
    bytes.extend_from_slice(&b.data);
    let crc = checksum(&bytes);
    bytes[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_le_bytes());
    Model::from_bytes(&bytes).map_err(BuildError::Internal)?;

    let mut reports: Vec<_> = b.ops.iter().map(|op| op.report.clone()).collect();
    for (r, &live) in reports.iter_mut().zip(&plan.live) {
        r.arena_bytes = live;
    }
    let weight_bits: u64 = reports.iter().map(|r| r.weight_count * u64::from(r.weight_bits)).sum();
    let report = Report {
        weight_bytes: reports.iter().map(|r| r.weight_bytes).sum(),
        param_bytes: reports.iter().map(|r| r.param_bytes).sum(),
        macs: reports.iter().map(|r| r.macs).sum(),
        arena_bytes: plan.arena,
        file_bytes: bytes.len(),
        weight_bytes_lower_bound: weight_bits.div_ceil(8) as usize,
        arena_bytes_lower_bound: plan.live.iter().copied().max().unwrap_or(0),
        ops: reports,
    };
    Ok(Built { bytes, report })
}

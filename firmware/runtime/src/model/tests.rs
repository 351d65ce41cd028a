//! Validation of what the writer derives and the checksum alone cannot
//! vouch for.

use super::Model;
use crate::Error;
use crate::build::{DenseParams, ProgramBuilder, Requant};
use crate::format::{OpBody, TensorQuant, WeightFormat, checksum};
use crate::kernels::binary;

/// A binary Dense by columns, 256 bipolar inputs to 64 `i8` outputs, with
/// a fixed-point output stage.
fn staged_binary_dense() -> std::vec::Vec<u8> {
    let mut b = ProgramBuilder::new();
    let q = |bits| TensorQuant {
        scale: 1.0,
        zero_point: 0,
        bits,
        signed: true,
    };
    let x = b.input(&[256], q(2)).unwrap();
    b.declare_bipolar(x).unwrap();
    let dense = DenseParams {
        out_features: 64,
        weights: (0..256 * 64)
            .map(|i| if (i * 7 + i / 5) % 3 == 0 { -1 } else { 1 })
            .collect(),
        weight_format: WeightFormat::Bipolar,
        bias: (0..64).map(|o| o * 3 - 90).collect(),
        requant: Requant::new((0..64).map(|o| 0.2113 + o as f32 * 0.0137).collect(), q(8)),
    };
    let y = b.dense(x, dense).unwrap();
    b.output(y).unwrap();
    b.finish().unwrap().bytes
}

#[test]
fn a_fixed_point_stage_with_a_shift_of_32_or_more_is_rejected() {
    let bytes = staged_binary_dense();
    let model = Model::from_bytes(&bytes).unwrap();
    let mut at = None;
    model
        .for_each_op(|_, record| {
            if let OpBody::Dense { affine } = &record.body {
                let data = model.data.as_ptr().addr() - bytes.as_ptr().addr();
                let stage = binary::packed_len(256, 64).unwrap();
                assert!(
                    affine.weights.len as usize == stage + binary::stage_len(64),
                    "no stage stored"
                );
                at = Some(data + affine.weights.offset as usize + stage);
            }
            Ok(())
        })
        .unwrap();
    let at = at.expect("a Dense op");
    assert!(u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) < 32);
    for shift in [32u32, 40, u32::MAX] {
        let mut bad = bytes.clone();
        bad[at..at + 4].copy_from_slice(&shift.to_le_bytes());
        bad[8..12].fill(0);
        let crc = checksum(&bad);
        bad[8..12].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(
            Model::from_bytes(&bad).err(),
            Some(Error::InvalidOp { index: 0 }),
            "shift {shift}"
        );
    }
}

#[test]
fn a_plan_holds_every_op_or_says_how_many_it_lacks_room_for() {
    let bytes = staged_binary_dense();
    let model = Model::from_bytes(&bytes).unwrap();
    assert_eq!(
        model.plan(&mut []).err(),
        Some(Error::PlanTooSmall { ops: 1, capacity: 0 })
    );
    let mut slots = [super::PlanSlot::EMPTY, super::PlanSlot::EMPTY];
    let plan = model.plan(&mut slots).unwrap();
    let input: std::vec::Vec<u8> = (0..256).map(|i| if i % 3 == 0 { 0xff } else { 1 }).collect();
    let expected = model.run_to_vec(&input).unwrap();
    let mut arena = std::vec![0; model.arena_size()];
    let mut output = std::vec![0; 64];
    plan.run(&mut arena, &input, &mut output).unwrap();
    assert_eq!(output, expected);
    // The same checks as `Model::run`.
    assert_eq!(
        plan.run(&mut arena[..model.arena_size() - 1], &input, &mut output)
            .err(),
        Some(Error::ArenaTooSmall {
            needed: model.arena_size(),
            got: model.arena_size() - 1
        })
    );
    assert_eq!(
        plan.run(&mut arena, &input[1..], &mut output).err(),
        Some(Error::BadInputLen {
            expected: 256,
            got: 255
        })
    );
}

#[test]
fn the_compiled_source_holds_the_data_section_and_the_built_arguments() {
    let bytes = staged_binary_dense();
    let model = Model::from_bytes(&bytes).unwrap();
    let source = model.to_rust().unwrap();
    // The data section, byte for byte.
    let start = source.find("*b\"").expect("the data section") + 3;
    let end = start + source[start..].find('"').unwrap();
    let data: std::vec::Vec<u8> = source[start..end]
        .split("\\x")
        .skip(1)
        .map(|hex| u8::from_str_radix(hex, 16).unwrap())
        .collect();
    assert_eq!(data, model.data);
    // The one op, with the layout and stage `Model::plan` builds.
    assert!(source.contains("static STEPS: [Step<'static>; 1] = ["));
    assert!(
        source.contains("Call::BinaryDense(DenseArgs { inputs: 256, outputs: 64, weights: Weights { bytes: at(0, ")
    );
    assert!(source.contains("Levels::Bipolar, Layout::Columns { cols: at("));
    assert!(source.contains("stage: Some(Stage { shift: "));
    assert!(source.contains(&std::format!("arena_size: {}", model.arena_size())));
    // Every slice lies in the data section.
    let mut slices = 0;
    let steps = source.find("static STEPS").unwrap();
    for rest in source[steps..].split("at(").skip(1) {
        let (offset, rest) = rest.split_once(", ").unwrap();
        let len = &rest[..rest.find(')').unwrap()];
        let (offset, len): (usize, usize) = (offset.parse().unwrap(), len.parse().unwrap());
        assert!(
            offset + len <= data.len(),
            "at({offset}, {len}) outside {} bytes",
            data.len()
        );
        slices += 1;
    }
    assert!(slices >= 7, "{slices} slices");
}

//! The firmware's result records, parsed from decoded defmt frames.
//!
//! Each record is a fixed defmt message (see `firmware/app/src/records.rs`);
//! a frame is a record only if its format string, parameter types included,
//! equals the record's [`signature`](BOOT) exactly.

use anyhow::{Context, Result, bail};
use defmt_parser::Type;

use crate::decode::DecodedFrame;

/// `lowbit.boot` format string.
pub const BOOT: &str = "lowbit.boot v2 board={=str} mode={=str} counter={=str}";
/// `lowbit.model` format string.
pub const MODEL: &str = "lowbit.model model_len={=u32} input_len={=u32} inputs={=u32} output_len={=u32} arena_needed={=u32} arena_available={=u32}";
/// `lowbit.run` format string.
pub const RUN: &str = "lowbit.run index={=u32} counter_delta={=u64} checksum={=u32} output={=[u8]}";
/// `lowbit.top` format string.
pub const TOP: &str = "lowbit.top index={=u32} class={=u32} score={=f32} probability={=f32}";
/// `lowbit.stack` format string.
pub const STACK: &str = "lowbit.stack used={=u32} reserved={=u32}";
/// `lowbit.exit` format string.
pub const EXIT: &str = "lowbit.exit status={=u8}";

/// The firmware's exit statuses (`firmware/app/src/exit.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Every inference ran.
    Success = 0,
    /// The image or the model blob was refused.
    BadModel = 2,
    /// The model needs more RAM than the board leaves free.
    ArenaTooSmall = 3,
    /// An inference returned an error.
    RunFailed = 4,
    /// The input does not have the model's input length.
    BadInput = 5,
    /// A panic.
    Panic = 101,
    /// A HardFault, another exception or an unexpected interrupt.
    Fault = 102,
}

impl ExitStatus {
    /// Every status, in code order.
    pub const ALL: [ExitStatus; 7] = [
        ExitStatus::Success,
        ExitStatus::BadModel,
        ExitStatus::ArenaTooSmall,
        ExitStatus::RunFailed,
        ExitStatus::BadInput,
        ExitStatus::Panic,
        ExitStatus::Fault,
    ];

    /// The process exit code QEMU ends with.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The status with exit code `code`, if the firmware defines one.
    pub fn from_code(code: i32) -> Option<ExitStatus> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// `lowbit.boot`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boot {
    /// Board name the firmware was built for.
    pub board: String,
    /// `loaded` or `embedded`.
    pub mode: String,
    /// `systick`, `minstret`, `dwt-cycles` or `mcycle`.
    pub counter: String,
}

/// `lowbit.model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelInfo {
    /// Model blob bytes.
    pub model_len: u32,
    /// Bytes of one input.
    pub input_len: u32,
    /// Inputs in the image (inferences to run).
    pub inputs: u32,
    /// Output bytes.
    pub output_len: u32,
    /// Arena bytes the model needs.
    pub arena_needed: u32,
    /// Arena bytes the board offers.
    pub arena_available: u32,
}

/// `lowbit.run`: one inference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// 0-based inference number (= input number).
    pub index: u32,
    /// Counter delta between the markers (unit per `Boot::counter`).
    pub counter_delta: u64,
    /// CRC-32 of the output.
    pub checksum: u32,
    /// The output bytes.
    pub output: Vec<u8>,
}

/// `lowbit.top`: one of the best classes of an inference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Top {
    /// The inference.
    pub index: u32,
    /// Class index.
    pub class: u32,
    /// Dequantized score.
    pub score: f32,
    /// Softmax probability (computed on the device with micromath).
    pub probability: f32,
}

/// `lowbit.stack`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stack {
    /// Deepest stack use in bytes (high-water mark).
    pub used: u32,
    /// Bytes reserved for the stack.
    pub reserved: u32,
}

/// Everything a run reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Records {
    /// The boot record.
    pub boot: Option<Boot>,
    /// The model record.
    pub model: Option<ModelInfo>,
    /// One per inference.
    pub runs: Vec<Run>,
    /// Best classes, best first within each inference.
    pub tops: Vec<Top>,
    /// The stack high-water mark.
    pub stack: Option<Stack>,
    /// The status the firmware announced.
    pub exit: Option<u8>,
    /// `lowbit.error` / `lowbit.panic` / `lowbit.fault` messages.
    pub errors: Vec<String>,
}

/// Typed access to a record's fields.
struct Fields<'a>(std::slice::Iter<'a, (Type, String)>);

impl Fields<'_> {
    fn next(&mut self) -> Result<&str> {
        Ok(&self.0.next().context("missing field")?.1)
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(self.next()?.parse()?)
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(self.next()?.parse()?)
    }
    fn f32(&mut self) -> Result<f32> {
        Ok(self.next()?.parse()?)
    }
    fn string(&mut self) -> Result<String> {
        Ok(self.next()?.to_string())
    }
    /// A `{=[u8]}` field, shown as `[1, 2, 3]`.
    fn bytes(&mut self) -> Result<Vec<u8>> {
        let text = self.next()?;
        let inner = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).context("not a byte list")?;
        inner.split(", ").filter(|s| !s.is_empty()).map(|s| Ok(s.parse()?)).collect()
    }
}

impl Fields<'_> {
    fn model(&mut self) -> Result<ModelInfo> {
        Ok(ModelInfo {
            model_len: self.u32()?,
            input_len: self.u32()?,
            inputs: self.u32()?,
            output_len: self.u32()?,
            arena_needed: self.u32()?,
            arena_available: self.u32()?,
        })
    }
    fn run(&mut self) -> Result<Run> {
        Ok(Run { index: self.u32()?, counter_delta: self.u64()?, checksum: self.u32()?, output: self.bytes()? })
    }
    fn top(&mut self) -> Result<Top> {
        Ok(Top { index: self.u32()?, class: self.u32()?, score: self.f32()?, probability: self.f32()? })
    }
}

impl Records {
    /// Collects the records of `frames`.
    pub fn parse(frames: &[DecodedFrame]) -> Result<Records> {
        let mut records = Records::default();
        for frame in frames {
            let mut f = Fields(frame.fields.iter());
            let context = || format!("record {:?}", frame.message);
            match frame.signature.as_str() {
                BOOT => {
                    let boot = Boot { board: f.string()?, mode: f.string()?, counter: f.string()? };
                    records.boot = Some(boot);
                }
                MODEL => records.model = Some(f.model().with_context(context)?),
                RUN => records.runs.push(f.run().with_context(context)?),
                TOP => records.tops.push(f.top().with_context(context)?),
                STACK => records.stack = Some(Stack { used: f.u32()?, reserved: f.u32().with_context(context)? }),
                EXIT => records.exit = Some(f.u32().with_context(context)? as u8),
                other if other.starts_with("lowbit.") && frame.level == "error" => {
                    records.errors.push(frame.message.clone());
                }
                other if other.starts_with("lowbit.") => bail!("unknown lowbit record {other:?}"),
                _ => {}
            }
        }
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(signature: &str, fields: &[(Type, &str)]) -> DecodedFrame {
        DecodedFrame {
            level: "info".into(),
            message: String::new(),
            signature: signature.into(),
            fields: fields.iter().map(|(t, v)| (t.clone(), v.to_string())).collect(),
        }
    }

    #[test]
    fn parses_runs_and_outputs_by_exact_signature() {
        let frames = [
            frame(
                RUN,
                &[(Type::U32, "1"), (Type::U64, "123456789012"), (Type::U32, "42"), (Type::U8Slice, "[0, 255, 7]")],
            ),
            frame(TOP, &[(Type::U32, "1"), (Type::U32, "3"), (Type::F32, "1.5"), (Type::F32, "0.25")]),
            frame("lowbit.run index={=u32}", &[(Type::U32, "1")]),
        ];
        assert!(Records::parse(&frames).is_err(), "a changed signature is not silently skipped");
        let records = Records::parse(&frames[..2]).unwrap();
        let run = Run { index: 1, counter_delta: 123_456_789_012, checksum: 42, output: vec![0, 255, 7] };
        assert_eq!(records.runs, [run]);
        assert_eq!(records.tops, [Top { index: 1, class: 3, score: 1.5, probability: 0.25 }]);
    }
}

//! Decoding the firmware's defmt stream into frames with typed fields.

use anyhow::{Context, Result, bail};
use defmt_decoder::{DecodeError, Table};
use defmt_parser::{Fragment, Type};

/// One decoded log frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedFrame {
    /// Level (`info`, `error`, …).
    pub level: String,
    /// The message as people read it.
    pub message: String,
    /// The format string with each parameter written back as `{=type}`:
    /// equal to the firmware's format string for the types records use.
    pub signature: String,
    /// Each parameter's type and formatted value, in order.
    pub fields: Vec<(Type, String)>,
}

/// `{=type}` as written in a format string (the types records use).
fn placeholder(ty: &Type) -> &'static str {
    match ty {
        Type::U8 => "{=u8}",
        Type::U32 => "{=u32}",
        Type::U64 => "{=u64}",
        Type::F32 => "{=f32}",
        Type::Str => "{=str}",
        Type::U8Slice => "{=[u8]}",
        _ => "{}",
    }
}

/// Decodes the whole stream `bytes` using the defmt table of `elf`.
///
/// A stream cut off inside a frame (the firmware died mid-message) ends the
/// list; corrupt data is an error.
pub fn decode_stream(elf: &[u8], bytes: &[u8]) -> Result<Vec<DecodedFrame>> {
    let table = Table::parse(elf).context("reading the defmt table")?.context("the ELF has no defmt table")?;
    let mut decoder = table.new_stream_decoder();
    decoder.received(bytes);
    let mut frames = Vec::new();
    loop {
        match decoder.decode() {
            Ok(frame) => {
                let mut signature = String::new();
                let mut fields = Vec::new();
                for (fragment, shown) in frame.fragments().into_iter().zip(frame.display_fragments()) {
                    match fragment {
                        Fragment::Literal(text) => signature.push_str(&text),
                        Fragment::Parameter(param) => {
                            signature.push_str(placeholder(&param.ty));
                            fields.push((param.ty, shown.to_string()));
                        }
                    }
                }
                frames.push(DecodedFrame {
                    level: frame.level().map(|l| l.as_str().to_string()).unwrap_or_default(),
                    message: frame.display_message().to_string(),
                    signature,
                    fields,
                });
            }
            Err(DecodeError::UnexpectedEof) => break,
            Err(DecodeError::Malformed) => bail!("malformed defmt data after {} frames", frames.len()),
        }
    }
    Ok(frames)
}

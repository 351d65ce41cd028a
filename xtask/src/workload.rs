//! The stand-in workload's smoke images and their expected results, computed
//! on the host with the same `lowbit-image` (and so `lowbit-runtime`) code
//! the firmware runs.

use anyhow::{Context, Result};
use lowbit_image::{Image, crc32, standin};

/// Output elements of the smoke model.
const LEN: u32 = 256;
/// Inferences per run.
pub const RUNS: u32 = 2;

/// What a correct run reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The output bytes.
    pub output: Vec<u8>,
    /// Their CRC-32.
    pub checksum: u32,
}

/// Deterministic pseudo-random bytes (xorshift32).
fn bytes(seed: u32, n: usize) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// The smoke model's blob; `arena_size` overrides its stated arena.
fn model_blob(arena_size: Option<u32>) -> Vec<u8> {
    let taps: Vec<i8> = bytes(0x1234_5678, 9).into_iter().map(|b| b as i8).collect();
    standin::Params {
        len: LEN,
        arena_size: arena_size.unwrap_or(4 * LEN),
        multiplier: 0.0123,
        zero_point: -3,
        min: -128,
        max: 127,
        bias: 17,
        taps: &taps,
    }
    .to_bytes()
}

/// The smoke input.
fn input() -> Vec<u8> {
    bytes(0x9E37_79B9, LEN as usize)
}

/// The smoke image (header + model + input).
pub fn image() -> Vec<u8> {
    Image { model: &model_blob(None), input: &input(), runs: RUNS }.to_bytes()
}

/// The smoke image with one model byte flipped after the CRC was computed:
/// the firmware must refuse it as a bad model.
pub fn corrupted_image() -> Vec<u8> {
    let mut image = image();
    image[lowbit_image::header::HEADER_LEN + 5] ^= 0x10;
    image
}

/// A valid image whose model states an arena of `arena_size` bytes.
pub fn image_with_arena(arena_size: u32) -> Vec<u8> {
    Image { model: &model_blob(Some(arena_size)), input: &input(), runs: RUNS }.to_bytes()
}

/// The expected output of [`image`], computed on the host.
pub fn expected() -> Result<Expected> {
    let blob = model_blob(None);
    let model = standin::StandIn::from_bytes(&blob).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut arena = vec![0u8; model.arena_size()];
    let mut output = vec![0u8; model.output_len()];
    model.run(&mut arena, &input(), &mut output).map_err(|e| anyhow::anyhow!("{e}")).context("host run")?;
    Ok(Expected { checksum: crc32(&output), output })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_parse_and_the_corrupted_one_fails_its_crc() {
        assert!(Image::parse(&image()).is_ok());
        assert!(matches!(Image::parse(&corrupted_image()), Err(lowbit_image::ImageError::Checksum { .. })));
        let expected = expected().unwrap();
        assert_eq!(expected.output.len(), LEN as usize);
        assert!(expected.output.iter().any(|&b| b != expected.output[0]), "output is not constant");
    }
}

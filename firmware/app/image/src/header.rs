//! The image header: how the firmware finds the model and the input.
//!
//! Layout (little-endian, 32 bytes, version 2):
//!
//! | offset | size | field                                                  |
//! |-------:|-----:|--------------------------------------------------------|
//! | 0      | 4    | magic `b"LBIM"`                                        |
//! | 4      | 2    | format version (`2`)                                   |
//! | 6      | 2    | header length (`32`)                                   |
//! | 8      | 4    | model length in bytes                                  |
//! | 12     | 4    | length of one input in bytes                           |
//! | 16     | 4    | number of inputs (= inferences to run, in order)       |
//! | 20     | 4    | CRC-32 of the model bytes followed by the input bytes  |
//! | 24     | 8    | reserved, zero                                         |
//!
//! The model starts at offset 32 and the inputs, back to back, at the next
//! multiple of [`ALIGN`] after the model, so both stay 16-byte aligned when
//! the image is. Version 1 (one input run `n` times) is no longer read.

use crate::checksum::{crc32, crc32_update};

/// The four bytes every image starts with.
pub const MAGIC: [u8; 4] = *b"LBIM";
/// The header version this crate reads and writes.
pub const VERSION: u16 = 2;
/// Length of the version-1 header.
pub const HEADER_LEN: usize = 32;
/// Alignment of the model and input sections inside the image.
pub const ALIGN: usize = 16;

/// Rounds `n` up to a multiple of [`ALIGN`].
const fn align_up(n: usize) -> usize {
    n.div_ceil(ALIGN) * ALIGN
}

/// Why an image was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageError {
    /// The first four bytes are not [`MAGIC`] (nothing was loaded there?).
    BadMagic {
        /// The first four bytes found, little-endian.
        found: u32,
    },
    /// The header has a version or length this firmware does not know.
    UnsupportedVersion {
        /// The version found.
        version: u16,
        /// The header length found.
        header_len: u16,
    },
    /// The header states more bytes than the region holds.
    Truncated {
        /// Bytes the header states (header, model, padding and input).
        needed: u32,
        /// Bytes available.
        available: u32,
    },
    /// The model and input bytes do not match the header's CRC-32.
    Checksum {
        /// The CRC-32 stored in the header.
        expected: u32,
        /// The CRC-32 of the bytes found.
        actual: u32,
    },
}

impl core::fmt::Display for ImageError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            ImageError::BadMagic { found } => write!(f, "no image: magic {found:#010x}"),
            ImageError::UnsupportedVersion { version, header_len } => {
                write!(f, "unsupported image version {version} (header length {header_len})")
            }
            ImageError::Truncated { needed, available } => {
                write!(f, "image needs {needed} bytes, region holds {available}")
            }
            ImageError::Checksum { expected, actual } => {
                write!(f, "image CRC-32 {actual:#010x}, header says {expected:#010x}")
            }
        }
    }
}

/// A parsed image: borrowed views of the model and the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Image<'a> {
    /// The model blob.
    pub model: &'a [u8],
    /// Every input, back to back (`input_count × input_len` bytes).
    pub inputs: &'a [u8],
    /// Bytes of one input.
    pub input_len: u32,
    /// Number of inputs, one inference each.
    pub input_count: u32,
}

/// Reads the little-endian `u32` at `at` (the caller checked the bounds).
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Reads the little-endian `u16` at `at` (the caller checked the bounds).
fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

impl<'a> Image<'a> {
    /// Parses an image at the start of `region` and checks its CRC-32.
    ///
    /// `region` may be longer than the image (a whole reserved flash area).
    pub fn parse(region: &'a [u8]) -> Result<Self, ImageError> {
        let available = region.len() as u32;
        if region.len() < HEADER_LEN {
            return Err(ImageError::Truncated { needed: HEADER_LEN as u32, available });
        }
        if region[..4] != MAGIC {
            return Err(ImageError::BadMagic { found: u32_at(region, 0) });
        }
        let (version, header_len) = (u16_at(region, 4), u16_at(region, 6));
        if version != VERSION || header_len as usize != HEADER_LEN {
            return Err(ImageError::UnsupportedVersion { version, header_len });
        }
        let model_len = u32_at(region, 8) as usize;
        let (input_len, input_count) = (u32_at(region, 12), u32_at(region, 16));
        let inputs_len = (input_len as usize).checked_mul(input_count as usize);
        let input_at = HEADER_LEN.checked_add(align_up(model_len));
        let end = input_at.zip(inputs_len).and_then(|(at, len)| at.checked_add(len));
        let (Some(input_at), Some(end)) = (input_at, end) else {
            return Err(ImageError::Truncated { needed: u32::MAX, available });
        };
        if end > region.len() {
            return Err(ImageError::Truncated { needed: end as u32, available });
        }
        let model = &region[HEADER_LEN..HEADER_LEN + model_len];
        let inputs = &region[input_at..end];
        let expected = u32_at(region, 20);
        let actual = crc32_update(crc32(model), inputs);
        if actual != expected {
            return Err(ImageError::Checksum { expected, actual });
        }
        Ok(Image { model, inputs, input_len, input_count })
    }

    /// Input `index` (`None` past the last one).
    pub fn input(&self, index: u32) -> Option<&'a [u8]> {
        if index >= self.input_count {
            return None;
        }
        // `parse` checked that count × len bytes exist, so this cannot overflow.
        let (len, start) = (self.input_len as usize, index as usize * self.input_len as usize);
        self.inputs.get(start..start + len)
    }

    /// Serializes an image (host side). `inputs` must hold `input_count`
    /// inputs of `input_len` bytes.
    #[cfg(feature = "std")]
    pub fn to_bytes(&self) -> Vec<u8> {
        assert_eq!(self.inputs.len(), self.input_len as usize * self.input_count as usize, "inputs length");
        let input_at = HEADER_LEN + align_up(self.model.len());
        let mut out = vec![0u8; input_at + self.inputs.len()];
        out[..4].copy_from_slice(&MAGIC);
        out[4..6].copy_from_slice(&VERSION.to_le_bytes());
        out[6..8].copy_from_slice(&(HEADER_LEN as u16).to_le_bytes());
        out[8..12].copy_from_slice(&(self.model.len() as u32).to_le_bytes());
        out[12..16].copy_from_slice(&self.input_len.to_le_bytes());
        out[16..20].copy_from_slice(&self.input_count.to_le_bytes());
        let crc = crc32_update(crc32(self.model), self.inputs);
        out[20..24].copy_from_slice(&crc.to_le_bytes());
        out[HEADER_LEN..HEADER_LEN + self.model.len()].copy_from_slice(self.model);
        out[input_at..].copy_from_slice(self.inputs);
        out
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        Image { model: &[1, 2, 3], inputs: &[9, 8, 7, 6], input_len: 2, input_count: 2 }.to_bytes()
    }

    #[test]
    fn round_trips_inside_a_larger_region() {
        let mut region = sample();
        region.resize(4096, 0xFF);
        let image = Image::parse(&region).unwrap();
        assert_eq!(image.model, &[1u8, 2, 3][..]);
        assert_eq!((image.input(0), image.input(1), image.input(2)), (Some(&[9u8, 8][..]), Some(&[7u8, 6][..]), None));
    }

    #[test]
    fn refuses_corruption_truncation_and_empty_flash() {
        let mut bytes = sample();
        bytes[HEADER_LEN + 1] ^= 0x40;
        assert!(matches!(Image::parse(&bytes), Err(ImageError::Checksum { .. })));
        let bytes = sample();
        assert!(matches!(Image::parse(&bytes[..40]), Err(ImageError::Truncated { needed: 52, .. })));
        assert_eq!(Image::parse(&[0xFF; 64]), Err(ImageError::BadMagic { found: u32::MAX }));
    }
}

//! The fixed 40-byte file header and the file's section layout.

use super::cursor::Reader;
use super::tensor::TENSOR_RECORD_LEN;
use crate::Error;
use core::ops::Range;

/// The first four bytes of every `.lbm` file.
pub const MAGIC: [u8; 4] = *b"LBM\0";

/// The format version this runtime reads and writes.
pub const FORMAT_VERSION: u16 = 6;

/// Size of the fixed header in bytes.
pub(crate) const HEADER_LEN: usize = 40;

/// Byte offset of the CRC-32 field.
pub(crate) const CRC_OFFSET: usize = 8;

/// Alignment of the op table in the file.
const OP_TABLE_ALIGN: usize = 4;

/// Alignment of the constant data section in the file. 16 bytes lets a
/// later SIMD kernel read weights in place from a 16-byte aligned model.
const DATA_ALIGN: usize = 16;

/// Alignment of each blob (weights, biases, multipliers, tables) relative
/// to the start of the constant data section.
pub(crate) const BLOB_ALIGN: usize = 4;

/// The CRC-32 used by the format: CRC-32/ISO-HDLC (zlib's, PNG's).
const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// The decoded fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// CRC-32 of the whole file with the CRC field read as zero.
    pub(crate) crc: u32,
    /// Total file length in bytes.
    pub(crate) file_len: u32,
    /// Bytes of arena a run needs.
    pub(crate) arena_size: u32,
    /// Entries in the tensor table (tensor 0 is the model input).
    pub(crate) tensor_count: u16,
    /// Records in the op table.
    pub(crate) op_count: u16,
    /// The tensor that holds the model output after a run.
    pub(crate) output_tensor: u16,
    /// Byte length of the op table.
    pub(crate) op_table_len: u32,
    /// Byte length of the constant data section.
    pub(crate) data_len: u32,
}

/// Where each section lies; the layout is canonical, so it follows from the
/// counts and lengths alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The tensor table.
    pub(crate) tensors: Range<usize>,
    /// The op table.
    pub(crate) ops: Range<usize>,
    /// The constant data section.
    pub(crate) data: Range<usize>,
}

impl Layout {
    /// The canonical layout for the given table sizes, or `None` on overflow.
    pub(crate) fn new(tensor_count: usize, op_table_len: usize, data_len: usize) -> Option<Layout> {
        let tensors_end = HEADER_LEN.checked_add(tensor_count.checked_mul(TENSOR_RECORD_LEN)?)?;
        let ops_start = tensors_end.checked_add(OP_TABLE_ALIGN - 1)? & !(OP_TABLE_ALIGN - 1);
        let ops_end = ops_start.checked_add(op_table_len)?;
        let data_start = ops_end.checked_add(DATA_ALIGN - 1)? & !(DATA_ALIGN - 1);
        let data_end = data_start.checked_add(data_len)?;
        Some(Layout {
            tensors: HEADER_LEN..tensors_end,
            ops: ops_start..ops_end,
            data: data_start..data_end,
        })
    }
}

impl Header {
    /// Checks magic, version, length and CRC of `bytes` and decodes the
    /// header. Bytes after `file_len` are ignored.
    pub(crate) fn parse(bytes: &[u8]) -> Result<(Header, Layout), Error> {
        let Some(fixed) = bytes.get(..HEADER_LEN) else {
            let looks_like_lbm = MAGIC.starts_with(bytes.get(..MAGIC.len()).unwrap_or(bytes));
            return Err(if looks_like_lbm {
                Error::Truncated {
                    needed: HEADER_LEN,
                    got: bytes.len(),
                }
            } else {
                Error::BadMagic
            });
        };
        let mut r = Reader::new(fixed, Error::InvalidHeader);
        if [r.u8()?, r.u8()?, r.u8()?, r.u8()?] != MAGIC {
            return Err(Error::BadMagic);
        }
        let version = r.u16()?;
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        r.reserved(2)?;
        let crc = r.u32()?;
        let file_len = r.u32()?;
        let len = usize::try_from(file_len).map_err(|_| Error::OutOfBounds)?;
        let file = bytes.get(..len).ok_or(Error::Truncated {
            needed: len,
            got: bytes.len(),
        })?;
        let computed = checksum(file);
        if computed != crc {
            return Err(Error::CrcMismatch { stored: crc, computed });
        }
        let arena_size = r.u32()?;
        let tensor_count = r.u16()?;
        let op_count = r.u16()?;
        let output_tensor = r.u16()?;
        r.reserved(2)?;
        let op_table_len = r.u32()?;
        let data_len = r.u32()?;
        let header = Header {
            crc,
            file_len,
            arena_size,
            tensor_count,
            op_count,
            output_tensor,
            op_table_len,
            data_len,
        };
        r.reserved(HEADER_LEN - r.position())?;
        if header.tensor_count == 0 || header.output_tensor >= header.tensor_count {
            return Err(Error::InvalidHeader);
        }
        let layout = Layout::new(
            usize::from(header.tensor_count),
            usize::try_from(header.op_table_len).map_err(|_| Error::OutOfBounds)?,
            usize::try_from(header.data_len).map_err(|_| Error::OutOfBounds)?,
        )
        .ok_or(Error::OutOfBounds)?;
        if layout.data.end != len {
            return Err(Error::OutOfBounds);
        }
        Ok((header, layout))
    }

    /// Appends the 40 header bytes, with the CRC field as stored in `self`.
    #[cfg(feature = "std")]
    pub(crate) fn encode(&self, out: &mut std::vec::Vec<u8>) {
        let mut w = super::cursor::Writer(out);
        for b in MAGIC {
            w.u8(b);
        }
        w.u16(FORMAT_VERSION);
        w.reserved(2);
        w.u32(self.crc);
        w.u32(self.file_len);
        w.u32(self.arena_size);
        w.u16(self.tensor_count);
        w.u16(self.op_count);
        w.u16(self.output_tensor);
        w.reserved(2);
        w.u32(self.op_table_len);
        w.u32(self.data_len);
        w.reserved(HEADER_LEN - 36);
    }
}

/// CRC-32/ISO-HDLC of `file` with the four CRC bytes taken as zero.
pub(crate) fn checksum(file: &[u8]) -> u32 {
    let mut digest = CRC32.digest();
    digest.update(file.get(..CRC_OFFSET).unwrap_or(file));
    digest.update(&[0; 4]);
    digest.update(file.get(CRC_OFFSET + 4..).unwrap_or(&[]));
    digest.finalize()
}

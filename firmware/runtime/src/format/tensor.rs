//! Tensor shapes, quantization parameters and the tensor record.

use crate::arith::int_range;

/// The largest rank a tensor may have (`C,H,W`; the batch axis is implicit).
pub const MAX_RANK: usize = 3;

/// The largest extent of one axis. Bounding axes keeps every index
/// computation of the kernels far inside `isize` on 32-bit devices.
pub const MAX_DIM: u32 = 1 << 24;

/// The shape of a tensor in ONNX axis order without the batch axis
/// (`C,H,W`, `C,L` or `features`).
///
/// Rank is 1 to [`MAX_RANK`], every extent is 1 to [`MAX_DIM`] and the
/// element count fits in a `u32`. Activations hold one value per byte, so the
/// element count is also the byte size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    /// Number of extents in use.
    pub(crate) rank: u8,
    /// The extents, outermost first, then zeros.
    pub(crate) dims: [u32; MAX_RANK],
}

impl Shape {
    /// A shape with the given extents, or `None` if the rank or an extent is
    /// out of range.
    pub fn new(dims: &[u32]) -> Option<Shape> {
        if dims.is_empty() || dims.len() > MAX_RANK {
            return None;
        }
        let mut shape = Shape {
            rank: dims.len() as u8,
            dims: [0; MAX_RANK],
        };
        let mut count: u64 = 1;
        for (slot, &d) in shape.dims.iter_mut().zip(dims) {
            if d == 0 || d > MAX_DIM {
                return None;
            }
            count = count.checked_mul(u64::from(d))?;
            *slot = d;
        }
        u32::try_from(count).ok()?;
        Some(shape)
    }

    /// The extents, outermost first.
    pub fn dims(&self) -> &[u32] {
        self.dims.get(..usize::from(self.rank)).unwrap_or(&[])
    }

    /// The number of axes.
    pub fn rank(&self) -> usize {
        usize::from(self.rank)
    }

    /// The number of elements (= bytes in the arena).
    pub fn elements(&self) -> usize {
        self.dims().iter().map(|&d| d as usize).product()
    }

    /// The shape seen as `(C, H, W)` by the spatial ops: rank 3 is `C,H,W`,
    /// rank 2 (`C,L`) is a one-row image `C,1,L`. Rank 1 has no spatial axes.
    pub(crate) fn chw(&self) -> Option<[usize; 3]> {
        match *self.dims() {
            [c, h, w] => Some([c as usize, h as usize, w as usize]),
            [c, l] => Some([c as usize, 1, l as usize]),
            _ => None,
        }
    }
}

/// How a tensor's integers map to real values, and how they are stored.
///
/// `real = (q - zero_point) * scale`. Each value occupies one byte: an `i8`
/// if `signed`, else a `u8`; `bits` (1 to 8) narrows the legal range to
/// [`TensorQuant::range`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorQuant {
    /// Real value of one quantization step (finite, positive).
    pub scale: f32,
    /// The integer representing real 0; within the storage type's range
    /// (`-128..=127` signed, `0..=255` unsigned), as ONNX requires.
    pub zero_point: i32,
    /// Bit width of the values, 1 to 8.
    pub bits: u8,
    /// Whether values are two's complement (stored as `i8`) or unsigned
    /// (stored as `u8`).
    pub signed: bool,
}

impl TensorQuant {
    /// The integer range `(min, max)` of the values (full range for `bits`).
    pub fn range(&self) -> (i32, i32) {
        int_range(u32::from(self.bits.clamp(1, 8)), self.signed, false)
    }

    /// The range of the storage byte: `(-128, 127)` or `(0, 255)`.
    pub(crate) fn storage_range(&self) -> (i32, i32) {
        if self.signed { (-128, 127) } else { (0, 255) }
    }

    /// Whether every field is within the limits documented above.
    pub(crate) fn is_valid(&self) -> bool {
        let (lo, hi) = self.storage_range();
        self.scale.is_finite()
            && self.scale > 0.0
            && (1..=8).contains(&self.bits)
            && (lo..=hi).contains(&self.zero_point)
    }

    /// Whether the range holds both -1 and +1 (signed, at least 2 bits), so
    /// that a tensor with this quantization may be declared bipolar.
    pub(crate) fn can_be_bipolar(&self) -> bool {
        let (lo, hi) = self.range();
        lo <= -1 && hi >= 1
    }

    /// Bit-exact equality (scales compared by their bits).
    pub(crate) fn same_as(&self, other: &TensorQuant) -> bool {
        self.scale.to_bits() == other.scale.to_bits()
            && self.zero_point == other.zero_point
            && self.bits == other.bits
            && self.signed == other.signed
    }
}

/// Size of one tensor record in bytes.
pub(crate) const TENSOR_RECORD_LEN: usize = 32;

/// `view_of` value of a tensor that owns its storage.
const NOT_A_VIEW: u16 = u16::MAX;

/// Flag bit: every value is -1 or +1.
const FLAG_BIPOLAR: u8 = 1;

/// One entry of the tensor table (see `docs/lbm-format.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TensorRecord {
    /// Shape in ONNX order.
    pub(crate) shape: Shape,
    /// Quantization and storage type.
    pub(crate) quant: TensorQuant,
    /// The tensor whose bytes this one reinterprets (Reshape/Flatten), if any.
    pub(crate) view_of: Option<u16>,
    /// Byte offset of the values in the arena.
    pub(crate) offset: u32,
    /// Every value is -1 or +1 (signed storage of at least 2 bits).
    pub(crate) bipolar: bool,
}

impl TensorRecord {
    /// Decodes and checks one record (everything that needs no other record).
    pub(crate) fn decode(bytes: &[u8]) -> Result<TensorRecord, ()> {
        let b: &[u8; TENSOR_RECORD_LEN] = bytes.try_into().map_err(|_| ())?;
        let [rank, _, signed, flags] = [b[0], b[1], b[2], b[3]];
        let record = TensorRecord::read(b);
        let dims = record.shape.dims;
        let rank = usize::from(rank);
        let unused_zero = dims.get(rank..).is_some_and(|unused| unused.iter().all(|&d| d == 0));
        let quant = record.quant;
        let ok = signed <= 1
            && (flags == 0 || flags == FLAG_BIPOLAR)
            && u16::from_le_bytes([b[6], b[7]]) == 0
            && unused_zero
            && Shape::new(record.shape.dims()) == Some(record.shape)
            && quant.is_valid()
            && (!record.bipolar || quant.can_be_bipolar());
        if ok { Ok(record) } else { Err(()) }
    }

    /// The fields of a record without any check: only for records that
    /// [`TensorRecord::decode`] accepted before (`Model::execute` reads the
    /// records `Model::from_bytes` validated). Never panics; an unchecked
    /// rank above [`MAX_RANK`] reads as [`MAX_RANK`].
    #[inline]
    pub(crate) fn read(b: &[u8; TENSOR_RECORD_LEN]) -> TensorRecord {
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let view_of = match u16_at(4) {
            NOT_A_VIEW => None,
            id => Some(id),
        };
        TensorRecord {
            shape: Shape {
                rank: b[0].min(MAX_RANK as u8),
                dims: [u32_at(20), u32_at(24), u32_at(28)],
            },
            quant: TensorQuant {
                scale: f32::from_bits(u32_at(12)),
                zero_point: u32_at(16) as i32,
                bits: b[1],
                signed: b[2] == 1,
            },
            view_of,
            offset: u32_at(8),
            bipolar: b[3] == FLAG_BIPOLAR,
        }
    }

    /// Appends the record's bytes (the inverse of [`TensorRecord::decode`]).
    #[cfg(feature = "std")]
    pub(crate) fn encode(&self, out: &mut std::vec::Vec<u8>) {
        let mut w = super::cursor::Writer(out);
        w.u8(self.shape.rank);
        w.u8(self.quant.bits);
        w.flag(self.quant.signed);
        w.u8(if self.bipolar { FLAG_BIPOLAR } else { 0 });
        w.u16(self.view_of.unwrap_or(NOT_A_VIEW));
        w.reserved(2);
        w.u32(self.offset);
        w.f32(self.quant.scale);
        w.i32(self.quant.zero_point);
        for &d in &self.shape.dims {
            w.u32(d);
        }
    }

    /// The arena byte range `offset..offset + elements`.
    pub(crate) fn span(&self) -> core::ops::Range<usize> {
        let start = self.offset as usize;
        start..start.saturating_add(self.shape.elements())
    }
}

//! Weight bit-packing: the formats, the streaming decoder the kernels read
//! weights with, and (under `std`) the packer.
//!
//! A layer's weights form one little-endian bitstream: value `k` occupies
//! bits `k*b .. (k+1)*b`, where bit `n` of the stream is bit `n % 8` of byte
//! `n / 8`. There is no padding between rows, so a layer takes exactly
//! `ceil(count * b / 8)` bytes.

/// How the weights of one layer are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WeightFormat {
    /// Two's complement with the given bit width (1 to 8): `-2^(b-1) ..= 2^(b-1) - 1`.
    Signed(u8),
    /// Unsigned with the given bit width (1 to 8): `0 ..= 2^b - 1`.
    Unsigned(u8),
    /// One bit per weight, `+1` or `-1`; the bit is the sign (`1` means `-1`).
    Bipolar,
}

/// Format tag stored in op records.
const TAG_SIGNED: u8 = 0;
/// Format tag stored in op records.
const TAG_UNSIGNED: u8 = 1;
/// Format tag stored in op records.
const TAG_BIPOLAR: u8 = 2;

impl WeightFormat {
    /// Bits per weight.
    pub fn bits(self) -> u32 {
        match self {
            WeightFormat::Signed(b) | WeightFormat::Unsigned(b) => u32::from(b),
            WeightFormat::Bipolar => 1,
        }
    }

    /// Whether `value` can be stored in this format.
    pub fn contains(self, value: i32) -> bool {
        match self {
            WeightFormat::Signed(b) => {
                let half = 1i32 << (b.clamp(1, 8) - 1);
                (-half..half).contains(&value)
            }
            WeightFormat::Unsigned(b) => (0..1i32 << b.clamp(1, 8)).contains(&value),
            WeightFormat::Bipolar => value == 1 || value == -1,
        }
    }

    /// The `(bits, tag)` bytes stored in an op record.
    #[cfg(feature = "std")]
    pub(crate) fn code(self) -> (u8, u8) {
        match self {
            WeightFormat::Signed(b) => (b, TAG_SIGNED),
            WeightFormat::Unsigned(b) => (b, TAG_UNSIGNED),
            WeightFormat::Bipolar => (1, TAG_BIPOLAR),
        }
    }

    /// Decodes `(bits, tag)`; `None` for unknown tags or bit widths.
    pub(crate) fn from_code(bits: u8, tag: u8) -> Option<WeightFormat> {
        match (tag, bits) {
            (TAG_SIGNED, 1..=8) => Some(WeightFormat::Signed(bits)),
            (TAG_UNSIGNED, 1..=8) => Some(WeightFormat::Unsigned(bits)),
            (TAG_BIPOLAR, 1) => Some(WeightFormat::Bipolar),
            _ => None,
        }
    }

    /// Whether the bit width is within 1 to 8.
    #[cfg(feature = "std")]
    pub(crate) fn is_valid(self) -> bool {
        (1..=8).contains(&self.bits())
    }

    /// Bytes taken by `count` weights, or `None` if the bit count overflows a `u32`.
    pub(crate) fn packed_len(self, count: u64) -> Option<usize> {
        let bits = count.checked_mul(u64::from(self.bits()))?;
        u32::try_from(bits).ok()?;
        usize::try_from(bits.div_ceil(8)).ok()
    }
}

/// A cursor over a packed weight bitstream that yields one weight at a time.
///
/// Reading past the end yields zeros instead of panicking; validation makes
/// sure the kernels never do.
pub(crate) struct WeightStream<'a> {
    bytes: &'a [u8],
    next_byte: usize,
    buf: u32,
    avail: u32,
    bits: u32,
    mask: u32,
    format: WeightFormat,
}

impl<'a> WeightStream<'a> {
    /// A stream positioned at weight `index`.
    ///
    /// `index * bits` must fit in a `usize`; validation bounds it by the
    /// stream's bit length, which fits in a `u32`.
    #[inline]
    pub(crate) fn at(bytes: &'a [u8], format: WeightFormat, index: usize) -> Self {
        let bits = format.bits().clamp(1, 8);
        let bit = index.saturating_mul(bits as usize);
        let mut s = WeightStream {
            bytes,
            next_byte: bit / 8,
            buf: 0,
            avail: 0,
            bits,
            mask: (1 << bits) - 1,
            format,
        };
        let skip = (bit % 8) as u32;
        if skip != 0 {
            s.refill();
            s.buf >>= skip;
            s.avail -= skip;
        }
        s
    }

    /// Appends the next byte (zero past the end) above the buffered bits.
    #[inline]
    fn refill(&mut self) {
        let b = self.bytes.get(self.next_byte).copied().unwrap_or(0);
        self.buf |= u32::from(b) << self.avail;
        self.avail += 8;
        self.next_byte = self.next_byte.saturating_add(1);
    }

    /// The next weight.
    #[inline]
    pub(crate) fn next_weight(&mut self) -> i32 {
        if self.avail < self.bits {
            self.refill();
        }
        let raw = self.buf & self.mask;
        self.buf >>= self.bits;
        self.avail -= self.bits;
        match self.format {
            WeightFormat::Signed(_) => {
                let shift = 32 - self.bits;
                ((raw << shift) as i32) >> shift
            }
            WeightFormat::Unsigned(_) => raw as i32,
            WeightFormat::Bipolar => 1 - 2 * raw as i32,
        }
    }
}

/// Packs `values` into the bitstream described in the module docs.
///
/// Returns the position of the first value that does not fit the format.
#[cfg(feature = "std")]
pub(crate) fn pack(values: &[i32], format: WeightFormat) -> Result<std::vec::Vec<u8>, usize> {
    let bits = format.bits();
    let mask = (1u32 << bits) - 1;
    let mut out = std::vec::Vec::with_capacity((values.len() * bits as usize).div_ceil(8));
    let (mut buf, mut filled) = (0u32, 0u32);
    for (i, &v) in values.iter().enumerate() {
        if !format.contains(v) {
            return Err(i);
        }
        let raw = match format {
            WeightFormat::Signed(_) | WeightFormat::Unsigned(_) => v as u32 & mask,
            WeightFormat::Bipolar => u32::from(v < 0),
        };
        buf |= raw << filled;
        filled += bits;
        while filled >= 8 {
            out.push(buf as u8);
            buf >>= 8;
            filled -= 8;
        }
    }
    if filled > 0 {
        out.push(buf as u8);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formats() -> impl Iterator<Item = WeightFormat> {
        (1..=8u8)
            .flat_map(|b| [WeightFormat::Signed(b), WeightFormat::Unsigned(b)])
            .chain([WeightFormat::Bipolar])
    }

    fn all_values(format: WeightFormat) -> Vec<i32> {
        (-256..256).filter(|&v| format.contains(v)).collect()
    }

    #[test]
    fn every_value_of_every_format_round_trips_at_every_phase() {
        for format in formats() {
            let domain = all_values(format);
            // Several periods of the domain, shifted so that every value
            // starts at every bit phase within a byte.
            let values: Vec<i32> = (0..domain.len() * 9)
                .map(|i| domain[(i * 7 + i / 3) % domain.len()])
                .collect();
            let packed = pack(&values, format).unwrap();
            assert_eq!(
                packed.len(),
                (values.len() * format.bits() as usize).div_ceil(8),
                "{format:?}"
            );
            let mut s = WeightStream::at(&packed, format, 0);
            let streamed: Vec<i32> = values.iter().map(|_| s.next_weight()).collect();
            assert_eq!(streamed, values, "{format:?}");
            for start in [1, 3, 7, values.len() / 2, values.len() - 1] {
                let mut s = WeightStream::at(&packed, format, start);
                let got: Vec<i32> = (start..values.len()).map(|_| s.next_weight()).collect();
                assert_eq!(got, values[start..], "{format:?} from {start}");
            }
        }
    }

    #[test]
    fn bit_order_is_little_endian_within_bytes() {
        assert_eq!(
            pack(&[1, 0, 1, 1], WeightFormat::Unsigned(2)).unwrap(),
            vec![0b01_01_00_01]
        );
        assert_eq!(
            pack(&[-1, 1, 1, -1, 1, 1, 1, 1, -1], WeightFormat::Bipolar).unwrap(),
            vec![0b0000_1001, 1]
        );
        assert_eq!(pack(&[-3, 2], WeightFormat::Signed(3)).unwrap(), vec![0b010_101]);
        assert_eq!(pack(&[-128, 127], WeightFormat::Signed(8)).unwrap(), vec![0x80, 0x7f]);
    }

    #[test]
    fn out_of_range_values_are_reported_with_their_position() {
        assert_eq!(pack(&[1, 2, 8], WeightFormat::Signed(4)), Err(2));
        assert_eq!(pack(&[0], WeightFormat::Bipolar), Err(0));
        assert_eq!(pack(&[-1], WeightFormat::Unsigned(8)), Err(0));
    }

    #[test]
    fn reading_past_the_end_yields_zeros() {
        let mut s = WeightStream::at(&[0xff], WeightFormat::Unsigned(8), 1);
        assert_eq!(s.next_weight(), 0);
        let mut s = WeightStream::at(&[], WeightFormat::Signed(3), usize::MAX);
        assert_eq!(s.next_weight(), 0);
    }

    #[test]
    fn codes_round_trip_and_reject_unknown_values() {
        for format in formats() {
            let (bits, tag) = format.code();
            assert_eq!(WeightFormat::from_code(bits, tag), Some(format));
        }
        assert_eq!(WeightFormat::from_code(0, TAG_SIGNED), None);
        assert_eq!(WeightFormat::from_code(9, TAG_UNSIGNED), None);
        assert_eq!(WeightFormat::from_code(2, TAG_BIPOLAR), None);
        assert_eq!(WeightFormat::from_code(8, 3), None);
    }
}

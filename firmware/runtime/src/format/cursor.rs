//! Little-endian field access: a bounds-checked reader for the device and,
//! under `std`, the matching writer for the builder.

/// Reads little-endian fields one after another from a byte slice.
///
/// Every read is bounds-checked and fails with the error the reader was
/// created with, so a parser can use `?` throughout and never index.
pub(crate) struct Reader<'a, E: Copy> {
    bytes: &'a [u8],
    pos: usize,
    err: E,
}

impl<'a, E: Copy> Reader<'a, E> {
    /// A reader over `bytes` whose failed reads return `err`.
    pub(crate) fn new(bytes: &'a [u8], err: E) -> Self {
        Reader { bytes, pos: 0, err }
    }

    /// The next `N` bytes.
    fn take<const N: usize>(&mut self) -> Result<[u8; N], E> {
        let end = self.pos.checked_add(N).ok_or(self.err)?;
        let field = self.bytes.get(self.pos..end).ok_or(self.err)?;
        self.pos = end;
        field.try_into().map_err(|_| self.err)
    }

    /// Reads a `u8`.
    pub(crate) fn u8(&mut self) -> Result<u8, E> {
        self.take::<1>().map(|[b]| b)
    }

    /// Reads a little-endian `u16`.
    pub(crate) fn u16(&mut self) -> Result<u16, E> {
        self.take().map(u16::from_le_bytes)
    }

    /// Reads a little-endian `u32`.
    pub(crate) fn u32(&mut self) -> Result<u32, E> {
        self.take().map(u32::from_le_bytes)
    }

    /// Reads a little-endian `i32`.
    pub(crate) fn i32(&mut self) -> Result<i32, E> {
        self.take().map(i32::from_le_bytes)
    }

    /// Reads a `u8` that must be 0 (reserved) or 1 (a flag).
    pub(crate) fn flag(&mut self) -> Result<bool, E> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.err),
        }
    }

    /// Skips `n` reserved bytes, which must all be zero.
    pub(crate) fn reserved(&mut self, n: usize) -> Result<(), E> {
        let end = self.pos.checked_add(n).ok_or(self.err)?;
        let field = self.bytes.get(self.pos..end).ok_or(self.err)?;
        self.pos = end;
        if field.iter().all(|&b| b == 0) {
            Ok(())
        } else {
            Err(self.err)
        }
    }

    /// Bytes consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }
}

/// Reads element `index` of a little-endian `i32` array stored in `bytes`.
#[inline]
pub(crate) fn i32_at(bytes: &[u8], index: usize) -> Option<i32> {
    let start = index.checked_mul(4)?;
    let field = bytes.get(start..start.checked_add(4)?)?;
    Some(i32::from_le_bytes(field.try_into().ok()?))
}

/// Reads element `index` of a little-endian `f32` array stored in `bytes`.
#[inline]
pub(crate) fn f32_at(bytes: &[u8], index: usize) -> Option<f32> {
    i32_at(bytes, index).map(|v| f32::from_bits(v as u32))
}

/// Appends little-endian fields to a byte vector (the inverse of [`Reader`]).
#[cfg(feature = "std")]
pub(crate) struct Writer<'a>(pub(crate) &'a mut std::vec::Vec<u8>);

#[cfg(feature = "std")]
impl Writer<'_> {
    /// Appends a `u8`.
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    /// Appends a little-endian `u16`.
    pub(crate) fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a little-endian `u32`.
    pub(crate) fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a little-endian `i32`.
    pub(crate) fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a little-endian IEEE-754 `f32`.
    pub(crate) fn f32(&mut self, v: f32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    /// Appends a flag byte (0 or 1).
    pub(crate) fn flag(&mut self, v: bool) {
        self.0.push(u8::from(v));
    }

    /// Appends `n` zero bytes (reserved fields).
    pub(crate) fn reserved(&mut self, n: usize) {
        self.0.resize(self.0.len() + n, 0);
    }
}

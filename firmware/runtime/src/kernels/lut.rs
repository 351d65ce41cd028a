//! Elementwise lookup table.

use super::Fault;

/// `y[i] = table[x[i]]`, indexed by the stored input byte (two's complement
/// for signed inputs: byte `0x80` is the value -128) and holding the stored
/// output bytes.
#[inline(never)]
pub(crate) fn lut(table: &[u8], x: &[u8], y: &mut [u8]) -> Result<(), Fault> {
    let table: &[u8; 256] = table.try_into().map_err(|_| Fault)?;
    if x.len() != y.len() {
        return Err(Fault);
    }
    for (out, &b) in y.iter_mut().zip(x) {
        *out = table[usize::from(b)];
    }
    Ok(())
}

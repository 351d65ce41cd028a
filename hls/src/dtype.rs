//! Integer data types of stream elements, in FINN's terms (`INTn`/`UINTn`).

use lowbit_runtime::TensorQuant;
use serde::Serialize;

/// An integer type: `bits` wide, two's complement if `signed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct DType {
    /// Bit width, at least 1.
    pub bits: u32,
    /// Two's complement (`INTn`) or unsigned (`UINTn`).
    pub signed: bool,
}

impl DType {
    /// The type of a program tensor's values.
    pub fn of(q: &TensorQuant) -> DType {
        DType { bits: u32::from(q.bits), signed: q.signed }
    }

    /// The smallest signed type holding every value of `lo ..= hi`.
    pub fn signed_covering(lo: i64, hi: i64) -> DType {
        let need = |v: i64| if v < 0 { 65 - (!v).leading_zeros() } else { 65 - v.leading_zeros() };
        DType { bits: need(lo).max(need(hi)).max(2), signed: true }
    }

    /// The smallest type holding every value of `lo ..= hi`: unsigned when
    /// `lo >= 0`, else signed.
    pub fn covering(lo: i64, hi: i64) -> DType {
        if lo >= 0 {
            DType { bits: (64 - hi.leading_zeros()).max(1), signed: false }
        } else {
            DType::signed_covering(lo, hi)
        }
    }

    /// The range `(min, max)` of the type.
    pub fn range(self) -> (i64, i64) {
        if self.signed {
            (-(1i64 << (self.bits - 1)), (1i64 << (self.bits - 1)) - 1)
        } else {
            (0, (1i64 << self.bits) - 1)
        }
    }

    /// FINN's name of the type: `INT4`, `UINT8`.
    pub fn finn_name(self) -> String {
        format!("{}INT{}", if self.signed { "" } else { "U" }, self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covering_types_are_the_smallest() {
        assert_eq!(DType::covering(0, 15), DType { bits: 4, signed: false });
        assert_eq!(DType::covering(0, 16), DType { bits: 5, signed: false });
        assert_eq!(DType::covering(0, 0), DType { bits: 1, signed: false });
        assert_eq!(DType::covering(-8, 7), DType { bits: 4, signed: true });
        assert_eq!(DType::covering(-9, 7), DType { bits: 5, signed: true });
        assert_eq!(DType::covering(-1, 8), DType { bits: 5, signed: true });
        assert_eq!(DType::signed_covering(0, 1), DType { bits: 2, signed: true });
        assert_eq!(DType::signed_covering(-128, 127).range(), (-128, 127));
        assert_eq!(DType { bits: 3, signed: false }.finn_name(), "UINT3");
    }
}

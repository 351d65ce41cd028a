//! Stream order: feature maps stream pixel by pixel with the channels of a
//! pixel innermost (FINN's NHWC), while program tensors are stored in
//! ONNX's C,H,W order.

use lowbit_runtime::Shape;

/// The `[C, H, W]` shape whose pixel-major, channel-minor order a stream
/// follows (a vector of `n` features is `[n, 1, 1]`, a signal `C,L` is
/// `[C, 1, L]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Layout {
    /// Channels.
    pub c: usize,
    /// Rows.
    pub h: usize,
    /// Columns.
    pub w: usize,
}

impl Layout {
    /// The layout of a program tensor's own shape.
    pub fn of(shape: &Shape) -> Layout {
        match *shape.dims() {
            [c, h, w] => Layout { c: c as usize, h: h as usize, w: w as usize },
            [c, l] => Layout { c: c as usize, h: 1, w: l as usize },
            _ => Layout { c: shape.elements(), h: 1, w: 1 },
        }
    }

    /// Elements of the tensor.
    pub fn elements(&self) -> usize {
        self.c * self.h * self.w
    }

    /// Pixels (`H·W`).
    pub fn pixels(&self) -> usize {
        self.h * self.w
    }

    /// The ONNX (C,H,W) index of stream position `p`.
    pub fn flat(&self, p: usize) -> usize {
        let (pixel, c) = (p / self.c, p % self.c);
        c * self.h * self.w + pixel
    }

    /// The ONNX index of every stream position.
    pub fn order(&self) -> Vec<usize> {
        (0..self.elements()).map(|p| self.flat(p)).collect()
    }

    /// Whether both layouts stream the same elements in the same order
    /// (e.g. `[C, H, W]` and its one-row view `[C, 1, H·W]`).
    pub fn same_order(&self, other: &Layout) -> bool {
        self == other
            || (self.elements() == other.elements() && (0..self.elements()).all(|p| self.flat(p) == other.flat(p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_positions_map_to_onnx_indices() {
        let l = Layout { c: 2, h: 2, w: 3 };
        // Pixel (0,0): channels 0 and 1 at ONNX indices 0 and 6.
        assert_eq!(l.order(), [0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11]);
        assert!(l.same_order(&Layout { c: 2, h: 1, w: 6 }));
        assert!(!l.same_order(&Layout { c: 12, h: 1, w: 1 }));
        assert!(Layout { c: 1, h: 3, w: 4 }.same_order(&Layout { c: 12, h: 1, w: 1 }));
    }
}

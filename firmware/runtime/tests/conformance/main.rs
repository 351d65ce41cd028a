//! Conformance tests of the runtime: every op against an independent
//! reference, whole graphs and the memory plan, corrupted files, and the
//! API's error paths.

mod api;
mod corrupt;
mod graphs;
mod ops;
mod reference;

use lowbit_runtime::{Model, TensorQuant, WeightFormat};

/// A small deterministic generator for the bulk values of a test case
/// (proptest picks the seed and the structural parameters).
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// The next 64 random bits (xorshift64).
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next_u64() % (hi as i64 - lo as i64 + 1) as u64) as i32
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A fair coin.
    pub fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    /// `n` values uniform in `lo..=hi`.
    pub fn vec(&mut self, n: usize, lo: i32, hi: i32) -> Vec<i32> {
        (0..n).map(|_| self.range(lo, hi)).collect()
    }

    /// A random activation quantization: 1 to 8 bits, either signedness, a
    /// zero point usually inside the value range (sometimes anywhere in
    /// the storage byte), and a scale between 2^-8 and 2.
    pub fn quant(&mut self) -> TensorQuant {
        let bits = self.range(1, 8) as u8;
        let signed = self.coin();
        let partial = TensorQuant {
            scale: 1.0,
            zero_point: 0,
            bits,
            signed,
        };
        let (lo, hi) = if self.below(4) == 0 {
            if signed { (-128, 127) } else { (0, 255) }
        } else {
            partial.range()
        };
        let scale = (1.0 + self.range(0, 1000) as f32 / 1000.0) * 2f32.powi(-self.range(0, 8));
        TensorQuant {
            scale,
            zero_point: self.range(lo, hi),
            ..partial
        }
    }

    /// Values in `q`'s range.
    pub fn values(&mut self, q: &TensorQuant, n: usize) -> Vec<i32> {
        let (lo, hi) = q.range();
        self.vec(n, lo, hi)
    }

    /// A random non-empty clamp inside `q`'s range (often the full range).
    pub fn clamp(&mut self, q: &TensorQuant) -> (i32, i32) {
        let (lo, hi) = q.range();
        if self.coin() {
            return (lo, hi);
        }
        let a = self.range(lo, hi);
        let b = self.range(lo, hi);
        (a.min(b), a.max(b))
    }

    /// A weight format: bipolar, or signed/unsigned with 1 to 8 bits.
    pub fn format(&mut self) -> WeightFormat {
        match self.below(5) {
            0 => WeightFormat::Bipolar,
            1 | 2 => WeightFormat::Signed(self.range(1, 8) as u8),
            _ => WeightFormat::Unsigned(self.range(1, 8) as u8),
        }
    }

    /// Weights that fit `format`.
    pub fn weights(&mut self, format: WeightFormat, n: usize) -> Vec<i32> {
        (0..n)
            .map(|_| match format {
                WeightFormat::Bipolar => {
                    if self.coin() {
                        1
                    } else {
                        -1
                    }
                }
                WeightFormat::Signed(b) => self.range(-(1 << (b - 1)), (1 << (b - 1)) - 1),
                WeightFormat::Unsigned(b) => self.range(0, (1 << b) - 1),
            })
            .collect()
    }

    /// Multipliers: exact binary fractions (which put many products on
    /// rounding ties) or arbitrary floats.
    pub fn multipliers(&mut self, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| {
                if self.coin() {
                    self.range(1, 8) as f32 / 2f32.powi(self.range(1, 6))
                } else {
                    (self.next_u64() % 1_000_000) as f32 / 1_000_000.0 * 0.3 + 1e-4
                }
            })
            .collect()
    }
}

/// Values to stored bytes.
pub fn to_bytes(values: &[i32]) -> Vec<u8> {
    values.iter().map(|&v| v as u8).collect()
}

/// Stored bytes to values.
pub fn from_bytes(bytes: &[u8], signed: bool) -> Vec<i32> {
    bytes
        .iter()
        .map(|&b| if signed { b as i8 as i32 } else { b as i32 })
        .collect()
}

/// Parses `bytes`, runs the model on `input` and returns the output values,
/// after checking that a [`lowbit_runtime::Plan`] of the model computes
/// the same bytes.
pub fn run(bytes: &[u8], input: &[i32]) -> Vec<i32> {
    let model = Model::from_bytes(bytes).expect("built model must validate");
    let out = model.run_to_vec(&to_bytes(input)).expect("run");
    let mut slots: Vec<_> = (0..model.op_count()).map(|_| lowbit_runtime::PlanSlot::EMPTY).collect();
    let plan = model.plan(&mut slots).expect("a slot per op");
    let (mut arena, mut planned) = (vec![0xa5; model.arena_size()], vec![0; out.len()]);
    plan.run(&mut arena, &to_bytes(input), &mut planned)
        .expect("planned run");
    assert_eq!(planned, out, "the plan computes other bytes than the model");
    from_bytes(&out, model.output().quant.signed)
}

/// The output shape of a built model.
pub fn output_dims(bytes: &[u8]) -> Vec<u32> {
    Model::from_bytes(bytes).unwrap().output().shape.dims().to_vec()
}

//! Weights: seeded random initialisation, `.safetensors` and `.npz` files.
//!
//! Tensors are matched to layers by PyTorch state-dict names:
//! `<layer>.weight` and `<layer>.bias`.

use super::NnError;
use super::layer::Layer;
use super::model::Model;
use super::weighted::WeightLayer;
use crate::ir::{Tensor, TensorData};
use std::collections::HashMap;
use std::path::Path;

/// SplitMix64: a small, seedable generator for reproducible initial weights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitMix64(pub u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[-bound, bound)`.
    fn uniform(&mut self, bound: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        (2.0 * unit - 1.0) * bound
    }

    /// Draws the weights and bias a layer lacks, uniform in `±1/sqrt(fan_in)` (PyTorch's default).
    pub(crate) fn fill_missing(&mut self, w: &mut WeightLayer) {
        let bound = 1.0 / (w.fan_in().max(1) as f32).sqrt();
        if w.weight.is_none() {
            let shape = w.weight_shape();
            let n = shape.iter().product();
            w.weight = Some(Tensor::f32(shape, (0..n).map(|_| self.uniform(bound)).collect()));
        }
        if w.has_bias && w.bias.is_none() {
            w.bias = Some((0..w.out_channels).map(|_| self.uniform(bound)).collect());
        }
    }
}

impl Model {
    /// Loads weights and biases from a `.safetensors` file (float32, float64 or float16 tensors).
    pub fn load_safetensors(&mut self, path: &Path) -> Result<(), NnError> {
        let err = |reason: String| NnError::Weights { path: path.into(), reason };
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let st =
            safetensors::SafeTensors::deserialize(&bytes).map_err(|e| err(format!("not a safetensors file: {e}")))?;
        let mut tensors = HashMap::new();
        for (name, view) in st.tensors() {
            let data = view.data();
            use safetensors::Dtype;
            let values: Vec<f32> = match view.dtype() {
                Dtype::F32 => data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
                Dtype::F64 => data
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8-byte chunk")) as f32)
                    .collect(),
                Dtype::F16 => data.chunks_exact(2).map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]]))).collect(),
                other => return Err(err(format!("tensor '{name}' is {other:?}; lowbit reads float weights"))),
            };
            tensors.insert(name, Tensor::f32(view.shape().to_vec(), values));
        }
        self.assign(tensors).map_err(err)
    }

    /// Loads weights and biases from an `.npz` archive as `numpy.savez` writes it
    /// (uncompressed; entries `<layer>.weight.npy`, `<layer>.bias.npy`).
    pub fn load_npz(&mut self, path: &Path) -> Result<(), NnError> {
        let err = |reason: String| NnError::Weights { path: path.into(), reason };
        let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let mut tensors = HashMap::new();
        for (name, data) in zip_entries(&bytes).map_err(err)? {
            let name = name.strip_suffix(".npy").unwrap_or(&name).to_string();
            let npy = npyz::NpyFile::new(data).map_err(|e| err(format!("entry '{name}': {e}")))?;
            let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
            let values: Vec<f32> = match npy.dtype() {
                npyz::DType::Plain(t) if t.size_field() == 8 => {
                    npy.into_vec::<f64>().map_err(|e| err(e.to_string()))?.into_iter().map(|v| v as f32).collect()
                }
                _ => npy.into_vec::<f32>().map_err(|e| err(format!("entry '{name}': {e}; lowbit reads float32/64")))?,
            };
            tensors.insert(name, Tensor::f32(shape, values));
        }
        self.assign(tensors).map_err(err)
    }

    /// Gives each weighted layer its `<name>.weight` / `<name>.bias`.
    fn assign(&mut self, mut tensors: HashMap<String, Tensor>) -> Result<(), String> {
        for e in &mut self.layers {
            let Layer::Weight(w) = &mut e.layer else { continue };
            if let Some(t) = tensors.remove(&format!("{}.weight", e.name)) {
                if t.shape != w.weight_shape() {
                    return Err(format!(
                        "'{}.weight' has shape {:?}, the layer needs {:?}",
                        e.name,
                        t.shape,
                        w.weight_shape()
                    ));
                }
                w.weight = Some(t);
            }
            if let Some(t) = tensors.remove(&format!("{}.bias", e.name)) {
                if !w.has_bias || t.len() != w.out_channels {
                    return Err(format!(
                        "'{}.bias' has {} values; the layer takes {}",
                        e.name,
                        t.len(),
                        if w.has_bias { w.out_channels } else { 0 }
                    ));
                }
                w.bias = match t.data {
                    TensorData::F32(v) => Some(v),
                    TensorData::Int(_) => return Err(format!("'{}.bias' is not float", e.name)),
                };
            }
        }
        if let Some(name) = tensors.keys().next() {
            return Err(format!("tensor '{name}' matches no layer (expected <layer>.weight or <layer>.bias)"));
        }
        Ok(())
    }
}

/// IEEE half → single precision.
fn f16_to_f32(h: u16) -> f32 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f32;
    match exp {
        0 => sign * frac * 2f32.powi(-24),
        31 => {
            if frac == 0.0 {
                sign * f32::INFINITY
            } else {
                f32::NAN
            }
        }
        _ => sign * (1.0 + frac / 1024.0) * 2f32.powi(exp - 15),
    }
}

fn u16_at(b: &[u8], at: usize) -> Result<usize, String> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]) as usize).ok_or_else(|| "truncated archive".into())
}

fn u32_at(b: &[u8], at: usize) -> Result<usize, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
        .ok_or_else(|| "truncated archive".into())
}

/// The stored (uncompressed) entries of a ZIP archive, from its central directory.
fn zip_entries(b: &[u8]) -> Result<Vec<(String, &[u8])>, String> {
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    let end =
        (0..b.len().saturating_sub(21)).rev().find(|&i| b[i..].starts_with(&EOCD)).ok_or("not a ZIP (.npz) archive")?;
    let (count, mut at) = (u16_at(b, end + 10)?, u32_at(b, end + 16)?);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if u32_at(b, at)? != 0x0201_4b50 {
            return Err("corrupt central directory".into());
        }
        let method = u16_at(b, at + 10)?;
        let (mut size, name_len, extra_len, comment_len) =
            (u32_at(b, at + 20)?, u16_at(b, at + 28)?, u16_at(b, at + 30)?, u16_at(b, at + 32)?);
        let local = u32_at(b, at + 42)?;
        let name = String::from_utf8_lossy(b.get(at + 46..at + 46 + name_len).ok_or("truncated archive")?).into_owned();
        if method != 0 {
            return Err(format!("entry '{name}' is compressed; save with numpy.savez (not savez_compressed)"));
        }
        if size == 0xFFFF_FFFF {
            // Zip64: the sizes are in the extra field (uncompressed size first).
            let extra = at + 46 + name_len;
            size = u32_at(b, extra + 4)?;
        }
        let data_at = local + 30 + u16_at(b, local + 26)? + u16_at(b, local + 28)?;
        out.push((name, b.get(data_at..data_at + size).ok_or("truncated archive")?));
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats_decode() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
    }

    #[test]
    fn seeded_init_is_reproducible_and_bounded() {
        let mut a = super::super::QuantLinear::new(4, 3, true);
        let mut b = a.clone();
        SplitMix64(7).fill_missing(&mut a);
        SplitMix64(7).fill_missing(&mut b);
        assert_eq!(a.weight, b.weight);
        assert!(a.weight.unwrap().as_f32().unwrap().iter().all(|v| v.abs() <= 0.5), "bound 1/sqrt(4)");
    }
}

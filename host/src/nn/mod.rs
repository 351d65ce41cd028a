//! Brevitas-style quantized layers in Rust: build, calibrate and run a
//! quantized model, and export it as ONNX in QCDQ, QOp or QONNX notation.
//!
//! Layers mirror `brevitas.nn` in names and defaults ([`QuantLinear`],
//! [`QuantConv2d`], [`QuantReLU`], …); quantizers are Brevitas's presets
//! ([`Preset`]), overridden with keyword-style builder options
//! (`weight_bit_width`, `output_bit_width`, `return_quant_tensor`, …).
//! Activation scales come from [`Model::calibrate`]; weights from
//! `.safetensors`/`.npz` files or seeded random initialisation.
//!
//! Quantization metadata flows between layers as if every layer returned
//! a quantized tensor (a layer with `Int32Bias` reads its input's scale
//! whatever the previous layer's `return_quant_tensor`); `return_quant_tensor`
//! of the output layer decides what the model returns: a [`QuantTensor`],
//! and in QOp the integers rather than a final `DequantizeLinear`.
//!
//! [`Model::forward`] is the reference: Brevitas's fake quantization in
//! float32 (quantizers round half to even and add the zero point after
//! rounding, as ONNX `QuantizeLinear` does; products are summed exactly and
//! rounded once). [`Model::to_graph`] builds the IR graph every export
//! starts from.
//!
//! ```no_run
//! use lowbit::nn::{Model, Preset::*, QuantLinear, QuantReLU, export_onnx_qcdq};
//! use lowbit::ir::Tensor;
//! let mut model = Model::sequential("net", [
//!     QuantLinear::new(3, 128, true).weight_bit_width(3).into(),
//!     QuantReLU::new().bit_width(4).into(),
//! ])?;
//! let sample = Tensor::f32(vec![8, 3], vec![0.5; 24]);
//! model.calibrate(&[vec![sample.clone()]])?;
//! export_onnx_qcdq(&model, &sample, std::path::Path::new("net.onnx"), 13)?;
//! # Ok::<(), lowbit::nn::NnError>(())
//! ```

mod act;
mod activations;
mod combine;
mod emit;
mod export;
mod kernels;
mod layer;
mod model;
mod pool;
mod quant;
mod tensor;
mod weighted;
mod weights;

pub use act::ActQuant;
pub use activations::{ActKind, ActLayer, QuantHardTanh, QuantIdentity, QuantReLU};
pub use combine::{AddLayer, Flatten, QuantEltwiseAdd, Slice};
pub use export::{export_graph, export_onnx_qcdq, export_onnx_qop, export_qonnx};
pub use layer::Layer;
pub use model::{Entry, Model, Port};
pub use pool::{PoolKind, PoolLayer, QuantAvgPool2d, QuantMaxPool2d};
pub use quant::{DEFAULT_PERCENTILE, Preset, QuantRole, QuantSpec, Stat};
pub use tensor::{Output, QuantTensor};
pub use weighted::{
    QuantConv1d, QuantConv2d, QuantConvTranspose1d, QuantConvTranspose2d, QuantLinear, WeightKind, WeightLayer,
};

use std::path::PathBuf;

/// Why a model cannot be built, run or exported.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// A layer's configuration or inputs are wrong.
    #[error("layer '{layer}': {reason}")]
    Layer {
        /// Layer name.
        layer: String,
        /// What is wrong.
        reason: String,
    },
    /// An activation quantizer has no scale yet.
    #[error("layer '{layer}': activation quantizer not calibrated; call Model::calibrate with sample inputs first")]
    Uncalibrated {
        /// Layer name.
        layer: String,
    },
    /// A weights file cannot be read or does not fit the model.
    #[error("{path}: {reason}")]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The model as a whole is wrong.
    #[error("{0}")]
    Model(String),
    /// The target format cannot express the model.
    #[error(transparent)]
    Transform(#[from] crate::transform::TransformError),
    /// Writing the ONNX file failed.
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
}

impl NnError {
    pub(crate) fn layer(layer: &str, reason: impl Into<String>) -> NnError {
        NnError::Layer { layer: layer.to_string(), reason: reason.into() }
    }
}

/// State of one forward pass: calibration mode and the statistics it collects.
pub(crate) struct Ctx {
    /// Activation quantizers record statistics and pass values through.
    pub calibrating: bool,
    /// The layer being run.
    pub layer: usize,
    /// `(layer, slot, statistics)` recorded while calibrating.
    pub observed: Vec<(usize, usize, quant::BatchStat)>,
}

impl Ctx {
    fn record(&mut self, slot: usize, s: quant::BatchStat) {
        self.observed.push((self.layer, slot, s));
    }
}

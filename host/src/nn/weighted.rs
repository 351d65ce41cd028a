//! Layers with weights: `QuantLinear`, `QuantConv1d/2d`, `QuantConvTranspose1d/2d`.

// Brevitas's layer names (`QuantLinear::new`, …) construct the builder
// their family shares, so `new` does not return `Self`.
#![allow(clippy::new_ret_no_self)]

use super::act::ActQuant;
use super::emit::{Emitter, Port};
use super::kernels::{self, Window};
use super::quant::{Preset, QuantSpec, dequantize, quantize};
use super::tensor::Act;
use super::{Ctx, NnError};
use crate::ir::{ConvAttrs, ConvTransposeAttrs, DType, GemmAttrs, Op, QuantParams, Tensor};

/// Which weighted layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightKind {
    /// `QuantLinear`: `[N, K] → [N, O]`.
    Linear,
    /// `QuantConv1d` / `QuantConv2d`.
    Conv,
    /// `QuantConvTranspose1d` / `QuantConvTranspose2d`.
    ConvTranspose,
}

/// A layer with weights, built by [`QuantLinear::new`], [`QuantConv2d::new`] and friends.
///
/// Defaults follow Brevitas: weights `Int8WeightPerTensorFloat`, no input
/// or output quantization, float bias, float output.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightLayer {
    /// Which layer.
    pub kind: WeightKind,
    /// Input channels (features).
    pub in_channels: usize,
    /// Output channels (features).
    pub out_channels: usize,
    /// Kernel size per spatial axis (empty for Linear).
    pub kernel: Vec<usize>,
    pub(crate) stride: Vec<usize>,
    pub(crate) padding: Vec<usize>,
    pub(crate) dilation: Vec<usize>,
    pub(crate) output_padding: Vec<usize>,
    pub(crate) groups: usize,
    pub(crate) has_bias: bool,
    /// Float weights (`[O, I/g, *K]`, or `[I, O/g, *K]` for transposed convolutions).
    pub weight: Option<Tensor>,
    /// Float bias, one per output channel.
    pub bias: Option<Vec<f32>>,
    pub(crate) weight_quant: Option<QuantSpec>,
    pub(crate) weight_bit_width: Option<u32>,
    pub(crate) weight_narrow_range: Option<bool>,
    pub(crate) weight_per_channel: Option<bool>,
    pub(crate) bias_quant: Option<QuantSpec>,
    pub(crate) input_quant: ActQuant,
    pub(crate) output_quant: ActQuant,
    pub(crate) return_quant_tensor: bool,
}

/// `brevitas.nn.QuantLinear`.
pub struct QuantLinear;
/// `brevitas.nn.QuantConv1d`.
pub struct QuantConv1d;
/// `brevitas.nn.QuantConv2d`.
pub struct QuantConv2d;
/// `brevitas.nn.QuantConvTranspose1d`.
pub struct QuantConvTranspose1d;
/// `brevitas.nn.QuantConvTranspose2d`.
pub struct QuantConvTranspose2d;

impl QuantLinear {
    /// A linear layer `in_features → out_features`, with or without bias.
    pub fn new(in_features: usize, out_features: usize, bias: bool) -> WeightLayer {
        WeightLayer::base(WeightKind::Linear, in_features, out_features, vec![], bias)
    }
}

impl QuantConv1d {
    /// A 1-D convolution with a bias (`.bias(false)` removes it).
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> WeightLayer {
        WeightLayer::base(WeightKind::Conv, in_channels, out_channels, vec![kernel_size], true)
    }
}

impl QuantConv2d {
    /// A 2-D convolution with a square kernel and a bias.
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> WeightLayer {
        WeightLayer::base(WeightKind::Conv, in_channels, out_channels, vec![kernel_size; 2], true)
    }
}

impl QuantConvTranspose1d {
    /// A 1-D transposed convolution with a bias.
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> WeightLayer {
        WeightLayer::base(WeightKind::ConvTranspose, in_channels, out_channels, vec![kernel_size], true)
    }
}

impl QuantConvTranspose2d {
    /// A 2-D transposed convolution with a square kernel and a bias.
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: usize) -> WeightLayer {
        WeightLayer::base(WeightKind::ConvTranspose, in_channels, out_channels, vec![kernel_size; 2], true)
    }
}

impl WeightLayer {
    fn base(kind: WeightKind, i: usize, o: usize, kernel: Vec<usize>, has_bias: bool) -> WeightLayer {
        let r = kernel.len();
        WeightLayer {
            kind,
            in_channels: i,
            out_channels: o,
            kernel,
            stride: vec![1; r],
            padding: vec![0; r],
            dilation: vec![1; r],
            output_padding: vec![0; r],
            groups: 1,
            has_bias,
            weight: None,
            bias: None,
            weight_quant: Some(Preset::Int8WeightPerTensorFloat.spec()),
            weight_bit_width: None,
            weight_narrow_range: None,
            weight_per_channel: None,
            bias_quant: None,
            input_quant: ActQuant::new(None),
            output_quant: ActQuant::new(None),
            return_quant_tensor: false,
        }
    }

    /// Stride on every spatial axis.
    pub fn stride(mut self, s: usize) -> Self {
        self.stride = vec![s; self.kernel.len()];
        self
    }

    /// Symmetric zero padding on every spatial axis.
    pub fn padding(mut self, p: usize) -> Self {
        self.padding = vec![p; self.kernel.len()];
        self
    }

    /// Dilation on every spatial axis.
    pub fn dilation(mut self, d: usize) -> Self {
        self.dilation = vec![d; self.kernel.len()];
        self
    }

    /// Extra output size of transposed convolutions.
    pub fn output_padding(mut self, p: usize) -> Self {
        self.output_padding = vec![p; self.kernel.len()];
        self
    }

    /// Number of groups (`in_channels` for depthwise).
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }

    /// Whether the layer has a bias.
    pub fn bias(mut self, b: bool) -> Self {
        self.has_bias = b;
        self
    }

    /// The weight quantizer (`None`: float weights).
    pub fn weight_quant(mut self, q: impl Into<Option<QuantSpec>>) -> Self {
        self.weight_quant = q.into();
        self
    }

    /// Overrides the weight bit width.
    pub fn weight_bit_width(mut self, bits: u32) -> Self {
        self.weight_bit_width = Some(bits);
        self
    }

    /// Overrides the weights' narrow range.
    pub fn weight_narrow_range(mut self, narrow: bool) -> Self {
        self.weight_narrow_range = Some(narrow);
        self
    }

    /// One weight scale per output channel.
    pub fn weight_scaling_per_output_channel(mut self, per_channel: bool) -> Self {
        self.weight_per_channel = Some(per_channel);
        self
    }

    /// The bias quantizer (`None`: float bias), e.g. `Int32Bias`.
    pub fn bias_quant(mut self, q: impl Into<Option<QuantSpec>>) -> Self {
        self.bias_quant = q.into();
        self
    }

    /// The input quantizer (`None` by default).
    pub fn input_quant(mut self, q: impl Into<Option<QuantSpec>>) -> Self {
        self.input_quant.spec = q.into();
        self
    }

    /// Overrides the input quantizer's bit width.
    pub fn input_bit_width(mut self, bits: u32) -> Self {
        self.input_quant.bit_width = Some(bits);
        self
    }

    /// The output quantizer (`None` by default).
    pub fn output_quant(mut self, q: impl Into<Option<QuantSpec>>) -> Self {
        self.output_quant.spec = q.into();
        self
    }

    /// Overrides the output quantizer's bit width.
    pub fn output_bit_width(mut self, bits: u32) -> Self {
        self.output_quant.bit_width = Some(bits);
        self
    }

    /// Return a quantized tensor (integers in QOp) instead of float values.
    pub fn return_quant_tensor(mut self, r: bool) -> Self {
        self.return_quant_tensor = r;
        self
    }

    /// Sets the float weights.
    pub fn with_weight(mut self, w: Tensor) -> Self {
        self.weight = Some(w);
        self
    }

    /// Sets the float bias.
    pub fn with_bias(mut self, b: Vec<f32>) -> Self {
        self.bias = Some(b);
        self
    }

    /// The weight quantizer with the overrides applied.
    pub fn resolved_weight_quant(&self) -> Option<QuantSpec> {
        self.weight_quant.map(|s| QuantSpec {
            bit_width: self.weight_bit_width.unwrap_or(s.bit_width),
            narrow_range: self.weight_narrow_range.unwrap_or(s.narrow_range),
            per_channel: self.weight_per_channel.unwrap_or(s.per_channel),
            ..s
        })
    }

    /// The expected weight shape.
    pub fn weight_shape(&self) -> Vec<usize> {
        let mut s = match self.kind {
            WeightKind::ConvTranspose => vec![self.in_channels, self.out_channels / self.groups.max(1)],
            _ => vec![self.out_channels, self.in_channels / self.groups.max(1)],
        };
        s.extend(&self.kernel);
        s
    }

    /// Fan-in for PyTorch's default initialisation bound `1/sqrt(fan_in)`.
    pub(crate) fn fan_in(&self) -> usize {
        let k: usize = self.kernel.iter().product();
        let w = self.weight_shape();
        w[1] * k
    }

    /// The axis of output channels in the weights (1 for transposed convolutions).
    fn channel_axis(&self) -> usize {
        if self.kind == WeightKind::ConvTranspose { 1 } else { 0 }
    }

    fn window(&self) -> Window {
        Window {
            kernel: self.kernel.clone(),
            stride: self.stride.clone(),
            padding: self.padding.clone(),
            dilation: self.dilation.clone(),
        }
    }

    fn check(&self, name: &str) -> Result<&Tensor, NnError> {
        let err = |r: String| NnError::layer(name, r);
        if self.groups == 0
            || !self.in_channels.is_multiple_of(self.groups)
            || !self.out_channels.is_multiple_of(self.groups)
        {
            return Err(err(format!(
                "{} groups do not divide {} → {} channels",
                self.groups, self.in_channels, self.out_channels
            )));
        }
        let w = self.weight.as_ref().ok_or_else(|| err("has no weights".into()))?;
        if w.shape != self.weight_shape() || w.as_f32().is_none() {
            return Err(err(format!("weights have shape {:?}, expected float32 {:?}", w.shape, self.weight_shape())));
        }
        if self.has_bias && self.bias.as_ref().is_none_or(|b| b.len() != self.out_channels) {
            return Err(err(format!("needs a bias of {} values", self.out_channels)));
        }
        Ok(w)
    }

    /// Weight parameters, or `None` for float weights.
    fn weight_params(&self, name: &str, w: &Tensor) -> Result<Option<QuantParams>, NnError> {
        self.resolved_weight_quant()
            .map(|spec| spec.weight_params(w, self.channel_axis()).map_err(|r| NnError::layer(name, r)))
            .transpose()
    }

    /// Bias parameters at the accumulator scale of input grid `x` and weights `w`.
    fn bias_params(
        &self,
        name: &str,
        x: Option<&QuantParams>,
        w: Option<&QuantParams>,
    ) -> Result<QuantParams, NnError> {
        let spec = self.bias_quant.expect("called with a bias quantizer");
        let err = |r: &str| NnError::layer(name, r.to_string());
        let x = x.ok_or_else(|| {
            err("bias quantization needs a quantized input: set input_quant, or quantize the previous layer's output")
        })?;
        if x.is_per_channel() {
            return Err(err("bias quantization needs a per-tensor input scale"));
        }
        let w = w.ok_or_else(|| err("bias quantization needs quantized weights"))?;
        let acc: Vec<f32> = (0..w.scale.len()).map(|c| x.scale[0] * w.scale_at(c)).collect();
        if acc.len() != 1 && acc.len() != self.out_channels {
            return Err(err("per-channel bias quantization of grouped transposed convolutions is not supported"));
        }
        spec.bias_params(acc).map_err(|r| NnError::layer(name, r))
    }

    /// The reference forward pass.
    pub(crate) fn forward(&self, name: &str, x: &Act, ctx: &mut Ctx) -> Result<Act, NnError> {
        let w = self.check(name)?;
        let x = if self.input_quant.is_set() {
            self.input_quant.forward(name, 0, x.value.clone(), ctx)?
        } else {
            x.clone()
        };
        let wp = self.weight_params(name, w)?;
        let wf = match &wp {
            Some(p) => dequantize(&quantize(w, p), p),
            None => w.clone(),
        };
        let bias: Option<Vec<f32>> = match (&self.bias, self.bias_quant) {
            (Some(b), Some(_)) if !ctx.calibrating => {
                let p = self.bias_params(name, x.grid.as_ref(), wp.as_ref())?;
                let t = Tensor::f32(vec![b.len()], b.clone());
                Some(dequantize(&quantize(&t, &p), &p).as_f32().unwrap_or_default().to_vec())
            }
            (b, _) => b.clone(),
        };
        let y = match self.kind {
            WeightKind::Linear => kernels::linear(&x.value, &wf, bias.as_deref()),
            WeightKind::Conv => kernels::conv(&x.value, &wf, bias.as_deref(), &self.window(), self.groups),
            WeightKind::ConvTranspose => kernels::conv_transpose(
                &x.value,
                &wf,
                bias.as_deref(),
                &self.window(),
                &self.output_padding,
                self.groups,
            ),
        }
        .map_err(|r| NnError::layer(name, r))?;
        self.output_quant.forward(name, 1, y, ctx)
    }

    /// Emits the layer's nodes.
    pub(crate) fn emit(&self, name: &str, x: Port, e: &mut Emitter) -> Result<Port, NnError> {
        let w = self.check(name)?;
        let x = self.input_quant.emit(name, "input_quant", x, e)?;
        let wp = self.weight_params(name, w)?;
        let w_id = match &wp {
            Some(p) => e.int_constant(&format!("{name}.weight"), w, p.clone(), super::quant::storage(p)),
            None => e.constant(&format!("{name}.weight"), w.clone(), None),
        };
        let mut inputs = vec![x.float, w_id];
        if let Some(b) = &self.bias {
            let t = Tensor::f32(vec![b.len()], b.clone());
            inputs.push(match self.bias_quant {
                Some(_) => {
                    let p = self.bias_params(name, x.grid.as_ref(), wp.as_ref())?;
                    e.int_constant(&format!("{name}.bias"), &t, p, DType::I32)
                }
                None => e.constant(&format!("{name}.bias"), t, None),
            });
        }
        let conv = ConvAttrs {
            kernel: self.kernel.clone(),
            strides: self.stride.clone(),
            pads: [self.padding.clone(), self.padding.clone()].concat(),
            dilations: self.dilation.clone(),
            group: self.groups,
        };
        let op = match self.kind {
            WeightKind::Linear => Op::Gemm(GemmAttrs { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: true }),
            WeightKind::Conv => Op::Conv(conv),
            WeightKind::ConvTranspose => {
                Op::ConvTranspose(ConvTransposeAttrs { conv, output_padding: self.output_padding.clone() })
            }
        };
        let y = e.node(&format!("{name}/{}", op.name()), op, inputs, DType::F32, None);
        self.output_quant.emit(name, "output_quant", Port::float(y), e)
    }
}

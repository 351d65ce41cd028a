//! Which optional parts of the runtime a model needs (host only): the
//! cargo features a device build for known models enables.

use super::Model;
use super::validate::{direct_generic, gemm_rows, max_pool_generic};
use crate::Error;
use crate::format::{Kernel, OpBody};
use crate::kernels::gemm::WeightPath;
use std::collections::BTreeSet;

impl Model<'_> {
    /// The cargo features of `lowbit-runtime` a device needs to run this
    /// model: the kernel families of its ops, the weight path of each Gemm
    /// layer on a target with (`dsp`: Armv7E-M) or without the DSP
    /// extension, the generic window path of Direct Convs that are not 3×3
    /// with stride and dilation 1 and of MaxPools that are not 2×2 with
    /// stride 2 and no padding. A runtime built with these
    /// (or more) runs the model; one without any of them refuses it with
    /// [`Error::OpNotBuiltIn`].
    pub fn features(&self, dsp: bool) -> Result<BTreeSet<&'static str>, Error> {
        let mut features = BTreeSet::new();
        self.for_each_op(|_, record| {
            let family = match (&record.body, record.kernel) {
                (OpBody::Conv { .. } | OpBody::Dense { .. }, Kernel::Reference) => Some("reference"),
                (OpBody::Conv { .. }, Kernel::Gemm) => Some("gemm-conv"),
                (OpBody::Conv { .. }, Kernel::Direct) => Some("direct"),
                (OpBody::Dense { .. }, Kernel::Gemm) => Some("gemm-dense"),
                (OpBody::Dense { .. }, Kernel::Nibbles) => Some("nibbles"),
                (OpBody::Dense { .. }, Kernel::Binary) => Some("binary"),
                (OpBody::MaxPool { .. }, _) => Some("max-pool"),
                (OpBody::ConvTranspose { .. }, _) => Some("conv-transpose"),
                (OpBody::AvgPool { .. }, _) => Some("avg-pool"),
                (OpBody::Add { .. }, _) => Some("add"),
                (OpBody::Lut { .. }, _) => Some("lut"),
                _ => None,
            };
            features.extend(family);
            if direct_generic(record) {
                features.insert("direct-generic");
            }
            if max_pool_generic(record) {
                features.insert("max-pool-generic");
            }
            if let Some((format, taps)) = gemm_rows(self, record)? {
                features.insert(WeightPath::of(format, taps, dsp).feature());
            }
            Ok(())
        })?;
        Ok(features)
    }
}

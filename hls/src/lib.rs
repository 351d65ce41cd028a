//! FINN-style dataflow accelerator generation (folding, HLS C++, C simulation).
//!
//! Nothing is implemented here yet; the crate exists so the workspace has the
//! shape of the pipeline. `lowbit hls` is not available until it is.

//! `lowbit inspect`: what is in a model, layer by layer.

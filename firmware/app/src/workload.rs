//! The seam between the firmware and the model runtime.
//!
//! Everything the firmware knows about models goes through [`Model`]:
//! `from_bytes`, `arena_size`, `input_len`, `output_len` and `run`. Today it
//! is the stand-in workload; once `lowbit_runtime::Model` exists this module
//! becomes `pub use lowbit_runtime::Model;` (and `build.rs`'s
//! `buffer_sizes` calls the same API), nothing else changes: errors are
//! logged through their `Display` impl, so no defmt support is needed there.

pub use lowbit_image::standin::StandIn as Model;

//! External tensor data: `TensorProto`s whose bytes live in a side file.

use super::{OnnxError, proto};
use prost::Message;
use std::path::{Component, Path};

/// When [`save_with_external_data`] moves a tensor to the side file.
#[derive(Debug, Clone, Copy)]
pub struct ExternalDataPolicy {
    /// Tensors of at least this many bytes go to the side file.
    pub threshold_bytes: usize,
}

impl Default for ExternalDataPolicy {
    fn default() -> Self {
        ExternalDataPolicy { threshold_bytes: 1024 }
    }
}

fn entry<'a>(t: &'a proto::TensorProto, key: &str) -> Option<&'a str> {
    t.external_data.iter().find(|e| e.key() == key).map(|e| e.value())
}

fn is_external(t: &proto::TensorProto) -> bool {
    t.data_location == Some(proto::tensor_proto::DataLocation::External as i32)
}

/// Loads the bytes of every external tensor of `model` into `raw_data`.
pub(super) fn resolve(model: &mut proto::ModelProto, dir: &Path) -> Result<(), OnnxError> {
    let Some(graph) = model.graph.as_mut() else { return Ok(()) };
    let mut cache: Vec<(String, Vec<u8>)> = Vec::new();
    for t in &mut graph.initializer {
        if !is_external(t) {
            continue;
        }
        let err = |reason: String| OnnxError::ExternalData { tensor: t.name().to_string(), reason };
        let location = entry(t, "location").ok_or_else(|| err("has no 'location'".into()))?.to_string();
        let rel = Path::new(&location);
        if rel.is_absolute() || rel.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(err(format!("location '{location}' leaves the model's directory")));
        }
        let parse = |key: &str| -> Result<Option<usize>, OnnxError> {
            entry(t, key)
                .map(|v| v.parse::<usize>().map_err(|_| err(format!("'{key}' = '{v}' is not a byte count"))))
                .transpose()
        };
        let offset = parse("offset")?.unwrap_or(0);
        let length = parse("length")?;
        if !cache.iter().any(|(l, _)| *l == location) {
            let path = dir.join(rel);
            let bytes =
                std::fs::read(&path).map_err(|e| err(format!("file {} cannot be read: {e}", path.display())))?;
            cache.push((location.clone(), bytes));
        }
        let file = &cache.iter().find(|(l, _)| *l == location).map(|(_, b)| b).ok_or_else(|| err("lost".into()))?;
        let end = match length {
            Some(n) => offset.checked_add(n),
            None => Some(file.len()),
        };
        let bytes = end.and_then(|end| file.get(offset..end)).ok_or_else(|| {
            err(format!("range {offset}+{length:?} lies outside '{location}' ({} bytes)", file.len()))
        })?;
        t.raw_data = Some(bytes.to_vec());
        t.external_data.clear();
        t.data_location = None;
    }
    Ok(())
}

/// Writes `model` to `path`, moving initializers of at least
/// `policy.threshold_bytes` bytes to `<file name>.data` beside it.
pub fn save_with_external_data(
    model: &proto::ModelProto,
    path: &Path,
    policy: ExternalDataPolicy,
) -> Result<(), OnnxError> {
    let mut model = model.clone();
    let file_name = format!("{}.data", path.file_name().and_then(|f| f.to_str()).unwrap_or("model.onnx"));
    let mut data = Vec::new();
    if let Some(graph) = model.graph.as_mut() {
        for t in &mut graph.initializer {
            let Some(raw) = t.raw_data.as_ref().filter(|r| r.len() >= policy.threshold_bytes) else { continue };
            // Keep every tensor 64-byte aligned in the side file so it can be mapped.
            data.resize(data.len().next_multiple_of(64), 0);
            let offset = data.len();
            data.extend_from_slice(raw);
            let kv = |k: &str, v: String| proto::StringStringEntryProto { key: Some(k.into()), value: Some(v) };
            t.external_data = vec![
                kv("location", file_name.clone()),
                kv("offset", offset.to_string()),
                kv("length", raw.len().to_string()),
            ];
            t.data_location = Some(proto::tensor_proto::DataLocation::External as i32);
            t.raw_data = None;
        }
    }
    let data_path = path.with_file_name(&file_name);
    if !data.is_empty() {
        std::fs::write(&data_path, &data).map_err(|source| OnnxError::Io { path: data_path, source })?;
    }
    std::fs::write(path, model.encode_to_vec()).map_err(|source| OnnxError::Io { path: path.into(), source })
}

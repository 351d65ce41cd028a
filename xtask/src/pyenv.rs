//! Where the tests find Python and ONNX Runtime.
//!
//! The contract shared with the test suites:
//! - Python: `$LOWBIT_PYTHON`, else `<repo>/target/lowbit-venv/bin/python`.
//! - ONNX Runtime's shared library: `$ORT_DYLIB_PATH`, else
//!   `<venv>/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.*`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The venv `setup --python` creates, relative to the repository root.
pub const VENV: &str = "target/lowbit-venv";

/// Python and ONNX Runtime locations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonEnv {
    /// The Python interpreter.
    pub python: PathBuf,
    /// The venv the interpreter belongs to (the default one unless overridden).
    pub venv: PathBuf,
}

impl PythonEnv {
    /// Applies the contract above (the paths need not exist yet).
    pub fn locate(root: &Path) -> PythonEnv {
        let venv = root.join(VENV);
        let python = std::env::var_os("LOWBIT_PYTHON").map_or_else(|| venv.join("bin/python"), PathBuf::from);
        PythonEnv { python, venv }
    }

    /// ONNX Runtime's shared library: `$ORT_DYLIB_PATH`, else the newest
    /// `libonnxruntime.so.*` in the venv; `None` if there is none.
    pub fn ort_dylib(&self) -> Result<Option<PathBuf>> {
        if let Some(path) = std::env::var_os("ORT_DYLIB_PATH") {
            return Ok(Some(PathBuf::from(path)));
        }
        let lib = self.venv.join("lib");
        let Ok(entries) = std::fs::read_dir(&lib) else { return Ok(None) };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", lib.display()))?;
            if !entry.file_name().to_string_lossy().starts_with("python3") {
                continue;
            }
            let capi = entry.path().join("site-packages/onnxruntime/capi");
            let Ok(files) = std::fs::read_dir(&capi) else { continue };
            for file in files.flatten() {
                if file.file_name().to_string_lossy().starts_with("libonnxruntime.so.") {
                    found.push(file.path());
                }
            }
        }
        found.sort();
        Ok(found.pop())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_library_in_a_venv_layout() {
        let dir = std::env::temp_dir().join(format!("lowbit-pyenv-test-{}", std::process::id()));
        let capi = dir.join(VENV).join("lib/python3.11/site-packages/onnxruntime/capi");
        std::fs::create_dir_all(&capi).unwrap();
        std::fs::write(capi.join("libonnxruntime.so.1.32.0"), b"").unwrap();
        let env = PythonEnv { python: dir.join(VENV).join("bin/python"), venv: dir.join(VENV) };
        // ORT_DYLIB_PATH may be set by the caller's environment; only check the lookup then.
        if std::env::var_os("ORT_DYLIB_PATH").is_none() {
            assert_eq!(env.ort_dylib().unwrap(), Some(capi.join("libonnxruntime.so.1.32.0")));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The Python venv the conformance tests use (`target/lowbit-venv`).
//!
//! onnxruntime is pinned to 1.32.0, the version the test corpus was made
//! with (anything from 1.31 is accepted when already installed).

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::{command::ExternalCommand, pyenv::PythonEnv};

/// What `pip install` asks for.
const REQUIREMENTS: [&str; 4] = ["onnx", "onnxruntime==1.32.0", "numpy", "qonnx"];
/// Prints onnxruntime's version if every package imports.
const PROBE: &str = "import onnx, onnxruntime, numpy, qonnx; print(onnxruntime.__version__)";

/// Creates the venv and installs the packages unless they already import.
pub fn ensure(root: &Path) -> Result<()> {
    let env = PythonEnv::locate(root);
    if let Some(version) = installed_ort(&env)? {
        eprintln!("venv ready: {} (onnxruntime {version})", env.python.display());
        return report(&env);
    }
    if std::env::var_os("LOWBIT_PYTHON").is_some() {
        bail!("LOWBIT_PYTHON={} lacks onnx/onnxruntime>=1.31/numpy/qonnx", env.python.display());
    }
    if !env.python.exists() {
        let bar = super::spinner(format!("python3 -m venv {}", env.venv.display()));
        let result =
            ExternalCommand::new("python3").args(["-m".as_ref(), "venv".as_ref(), env.venv.as_os_str()]).output();
        bar.finish_and_clear();
        result.context("creating the venv (Debian: apt-get install python3-venv)")?;
    }
    let bar = super::spinner(format!("pip install {} (a few minutes)", REQUIREMENTS.join(" ")));
    let result = ExternalCommand::new(&env.python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
        .args(REQUIREMENTS)
        .output();
    bar.finish_and_clear();
    result?;
    installed_ort(&env)?.context("the packages still do not import after pip install")?;
    report(&env)
}

/// onnxruntime's version if all packages import and it is 1.31 or newer.
fn installed_ort(env: &PythonEnv) -> Result<Option<String>> {
    if !env.python.exists() {
        return Ok(None);
    }
    let Ok(output) = ExternalCommand::new(&env.python).args(["-c", PROBE]).output() else { return Ok(None) };
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    Ok(((major, minor) >= (1, 31)).then_some(version))
}

/// Prints the paths the tests will use.
fn report(env: &PythonEnv) -> Result<()> {
    let dylib = env.ort_dylib()?.context("onnxruntime is installed but libonnxruntime.so.* was not found")?;
    eprintln!("LOWBIT_PYTHON={}\nORT_DYLIB_PATH={}", env.python.display(), dylib.display());
    Ok(())
}

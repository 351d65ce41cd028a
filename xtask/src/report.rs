//! Collecting step results and reporting them all at the end; result tables
//! (printed, and written as Markdown and JSON under `target/lowbit-bench/`).

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{Context, Result, bail};
use serde::Serialize;

/// The outcome of every step run so far.
pub struct Outcomes {
    steps: Vec<(String, Option<String>)>,
    fail_fast: bool,
}

impl Outcomes {
    /// An empty list; with `fail_fast`, the first failure stops the task.
    pub fn new(fail_fast: bool) -> Self {
        Outcomes { steps: Vec::new(), fail_fast }
    }

    /// Runs one step, printing its name and time, and records the outcome.
    ///
    /// Returns `Err` only with `fail_fast`, so callers can use `?` either way.
    pub fn step(&mut self, name: impl Into<String>, f: impl FnOnce() -> Result<()>) -> Result<()> {
        let name = name.into();
        eprintln!("\n=== {name}");
        let started = Instant::now();
        let result = f();
        let seconds = started.elapsed().as_secs_f64();
        match result {
            Ok(()) => {
                eprintln!("--- ok: {name} ({seconds:.1} s)");
                self.steps.push((format!("{name} ({seconds:.1} s)"), None));
            }
            Err(error) => {
                eprintln!("--- FAILED: {name} ({seconds:.1} s): {error:#}");
                self.steps.push((format!("{name} ({seconds:.1} s)"), Some(format!("{error:#}"))));
                if self.fail_fast {
                    return self.finish();
                }
            }
        }
        Ok(())
    }

    /// Prints the summary; fails if any step failed.
    pub fn finish(&self) -> Result<()> {
        eprintln!("\n=== Summary");
        for (name, failure) in &self.steps {
            match failure {
                None => eprintln!("✅ {name}"),
                Some(error) => eprintln!("❌ {name}\n     {}", error.replace('\n', "\n     ")),
            }
        }
        let failed = self.steps.iter().filter(|(_, f)| f.is_some()).count();
        if failed > 0 {
            bail!("{failed} of {} steps failed", self.steps.len());
        }
        eprintln!("all {} steps passed", self.steps.len());
        Ok(())
    }
}

/// `rows` under `headers` as an aligned Markdown table.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut text = line(headers.to_vec());
    text += &format!("|{}|\n", widths.iter().map(|w| "-".repeat(w + 2)).collect::<Vec<_>>().join("|"));
    for row in rows {
        text += &line(row.iter().map(String::as_str).collect());
    }
    text
}

/// Writes `target/lowbit-bench/<name>.md` (`title`, then `markdown`) and
/// `<name>.json`; returns the Markdown file's path.
pub fn write_results(root: &Path, name: &str, title: &str, markdown: &str, json: &impl Serialize) -> Result<PathBuf> {
    let dir = root.join("target/lowbit-bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let md = dir.join(format!("{name}.md"));
    std::fs::write(&md, format!("# {title}\n\n{markdown}")).with_context(|| format!("writing {}", md.display()))?;
    let path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(json).context("serializing the results")?;
    std::fs::write(&path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    Ok(md)
}

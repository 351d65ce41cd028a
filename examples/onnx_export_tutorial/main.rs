//! Brevitas's ONNX export tutorial in Rust: builds each cell's model,
//! exports it and prints the exported op types.
//!
//! `cargo run -p lowbit --example onnx_export_tutorial [OUT_DIR]`

mod cells;

use lowbit::export::Style;
use lowbit::nn::{export_onnx_qcdq, export_onnx_qop, export_qonnx};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "target/onnx_export_tutorial".into()));
    std::fs::create_dir_all(&out)?;
    for cell in cells::cells()? {
        let path = out.join(format!("{}.onnx", cell.name));
        let export = match cell.style {
            Style::Qcdq => export_onnx_qcdq,
            Style::Qop => export_onnx_qop,
            Style::Qonnx => export_qonnx,
        };
        let opset = if cell.style == Style::Qonnx { 14 } else { 13 };
        export(&cell.model, &cell.input, &path, opset)?;
        let model = lowbit::onnx::load(&path)?;
        let ops: Vec<&str> = model.graph.iter().flat_map(|g| &g.node).map(|n| n.op_type()).collect();
        println!("{}\n  {}\n  {}", cell.title, path.display(), ops.join(" → "));
    }
    Ok(())
}

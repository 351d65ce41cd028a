//! FINN's folding configuration file, `folding_config.json`:
//! `{"Defaults": {}, "<layer>": {"PE": .., "SIMD": .., "ram_style": .., ..}}`.
//!
//! Layer names are FINN's (`MVAU_hls_0`, `ConvolutionInputGenerator_hls_1`,
//! ...). `Defaults` maps an attribute to `[value, [op types]]` and applies
//! to every layer of those types before the per-layer entries. Attributes
//! lowbit does not model (FIFO depths, `runtime_writeable_weights`, ...)
//! are ignored with a note.

use super::{MemMode, RamStyle, ResType, tie_and_size, validate};
use crate::HlsError;
use crate::graph::{Dataflow, Layer, Op};
use serde_json::{Map, Value};

/// The attributes lowbit writes for a unit, in order.
fn attributes(op: &Op) -> &'static [&'static str] {
    match op {
        Op::Mvau(_) | Op::Vvau(_) => &["PE", "SIMD", "ram_style", "ram_style_thresholds", "mem_mode", "resType"],
        Op::Swg(_) => &["SIMD", "ram_style"],
        Op::FmPadding(_) => &["SIMD"],
        Op::Thresholding(_) => &["PE", "ram_style"],
        Op::Dwc(_) => &[],
        _ => &["PE"],
    }
}

/// The value of attribute `name` of a layer.
fn get(l: &Layer, name: &str) -> Value {
    match name {
        "PE" => Value::from(l.fold.pe),
        "SIMD" => Value::from(l.fold.simd),
        "ram_style" => Value::from(l.fold.ram_style.finn_name()),
        "ram_style_thresholds" => Value::from(l.fold.ram_style_thresholds.finn_name()),
        "mem_mode" => Value::from(l.fold.mem_mode.finn_name()),
        _ => Value::from(l.fold.res_type.finn_name()),
    }
}

/// The folding of `df` as FINN's configuration JSON (layers in dataflow
/// order; width converters are left out, they follow from the folding).
pub fn to_json(df: &Dataflow) -> String {
    let mut out = String::from("{\n  \"Defaults\": {}");
    for l in &df.layers {
        let attrs = attributes(&l.op);
        if attrs.is_empty() {
            continue;
        }
        let fields: Vec<String> = attrs.iter().map(|a| format!("\"{a}\": {}", get(l, a))).collect();
        out.push_str(&format!(",\n  \"{}\": {{{}}}", l.name, fields.join(", ")));
    }
    out.push_str("\n}\n");
    out
}

/// Applies a folding configuration to `df` and checks it; returns notes
/// about attributes that were ignored.
pub fn apply(df: &mut Dataflow, text: &str) -> Result<Vec<String>, HlsError> {
    let root: Value = serde_json::from_str(text).map_err(|e| HlsError::Config(e.to_string()))?;
    let root = root.as_object().ok_or_else(|| HlsError::Config("the top level must be an object".into()))?;
    let mut notes = Vec::new();
    let mut explicit_tied = Vec::new();
    if let Some(defaults) = root.get("Defaults") {
        let defaults = defaults.as_object().ok_or_else(|| HlsError::Config("\"Defaults\" must be an object".into()))?;
        for (attr, spec) in defaults {
            let pair = spec.as_array().filter(|a| a.len() == 2);
            let (value, types) = match pair.map(|a| (&a[0], a[1].as_array())) {
                Some((v, Some(t))) => (v, t),
                _ => return Err(HlsError::Config(format!("Defaults.{attr} must be [value, [op types]]"))),
            };
            for l in df.layers.iter_mut() {
                if types.iter().any(|t| t.as_str() == Some(l.op.op_type())) {
                    set(l, attr, value, &mut notes, &mut explicit_tied)?;
                }
            }
        }
    }
    for (name, entry) in root.iter().filter(|(k, _)| *k != "Defaults") {
        let Some(l) = df.layers.iter_mut().find(|l| &l.name == name) else {
            let known: Vec<&str> = df.layers.iter().map(|l| l.name.as_str()).collect();
            return Err(HlsError::Config(format!("no layer {name:?}; layers: {}", known.join(", "))));
        };
        let entry: &Map<String, Value> =
            entry.as_object().ok_or_else(|| HlsError::Config(format!("{name} must be an object")))?;
        for (attr, value) in entry {
            set(l, attr, value, &mut notes, &mut explicit_tied)?;
        }
    }
    tie_and_size(df);
    for (name, simd) in explicit_tied {
        if let Some(l) = df.layer(&name)
            && l.fold.simd != simd
        {
            return Err(HlsError::Folding {
                layer: name,
                reason: format!(
                    "SIMD = {simd}, but a depthwise window generator's SIMD must equal its consumer's PE ({})",
                    l.fold.simd
                ),
            });
        }
    }
    validate(df)?;
    Ok(notes)
}

/// Sets one attribute of a layer from the configuration.
fn set(
    l: &mut Layer,
    attr: &str,
    value: &Value,
    notes: &mut Vec<String>,
    explicit_tied: &mut Vec<(String, usize)>,
) -> Result<(), HlsError> {
    let bad = |what: &str| HlsError::Config(format!("{}.{attr}: {what}, got {value}", l.name));
    let enumerated = |options: &[&str]| {
        value
            .as_str()
            .filter(|v| options.contains(v))
            .map(str::to_string)
            .ok_or_else(|| bad(&format!("expected one of {}", options.join(", "))))
    };
    match attr {
        "PE" | "SIMD" => {
            let v = value.as_u64().filter(|&v| v > 0).ok_or_else(|| bad("expected a positive integer"))? as usize;
            let knob = if attr == "PE" { l.op.pe_knob() } else { l.op.simd_knob() };
            let tied = attr == "SIMD" && matches!(&l.op, Op::Swg(s) if s.depthwise);
            let fixed = attr == "PE" && matches!(&l.op, Op::StreamingMaxPool(p) if !p.is_1d());
            if tied {
                explicit_tied.push((l.name.clone(), v));
            } else if fixed && v != l.fold.pe {
                return Err(bad(&format!("a 2-D streaming max pool processes all {} channels at once", l.fold.pe)));
            } else if knob.is_none() && !fixed {
                return Err(bad(&format!("{} has no {attr}", l.op.op_type())));
            } else if attr == "PE" {
                l.fold.pe = v;
            } else {
                l.fold.simd = v;
            }
        }
        "ram_style" => {
            l.fold.ram_style = match enumerated(&["auto", "block", "distributed", "ultra"])?.as_str() {
                "block" => RamStyle::Block,
                "distributed" => RamStyle::Distributed,
                "ultra" => RamStyle::Ultra,
                _ => RamStyle::Auto,
            }
        }
        "ram_style_thresholds" => {
            l.fold.ram_style_thresholds = match enumerated(&["auto", "block", "distributed"])?.as_str() {
                "block" => RamStyle::Block,
                "distributed" => RamStyle::Distributed,
                _ => RamStyle::Auto,
            }
        }
        "mem_mode" => {
            l.fold.mem_mode = match enumerated(&["internal_embedded", "internal_decoupled", "external"])?.as_str() {
                "internal_embedded" => MemMode::InternalEmbedded,
                _ => {
                    notes.push(format!(
                        "{}: mem_mode {value} changes the estimates only; the generated unit embeds its weights",
                        l.name
                    ));
                    MemMode::InternalDecoupled
                }
            }
        }
        "resType" => {
            l.fold.res_type = match enumerated(&["auto", "lut", "dsp"])?.as_str() {
                "dsp" => ResType::Dsp,
                _ => ResType::Lut,
            }
        }
        _ => notes.push(format!("{}: attribute {attr} is not used by lowbit and was ignored", l.name)),
    }
    Ok(())
}

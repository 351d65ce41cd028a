//! One header per layer: its weights and thresholds packed per PE and SIMD,
//! and a wrapper function named after the layer that instantiates the
//! unit's template.

use crate::Thresholds;
use crate::graph::{Dataflow, Layer, Op, weight_type};
use lowbit_runtime::WeightFormat;
use std::fmt::Write;

/// The C++ type of a stream word of `bits` bits.
pub(crate) fn word_type(bits: usize) -> String {
    format!("ap_uint<{bits}>")
}

/// `true`/`false`.
fn cpp_bool(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// The header of `layer`.
pub(crate) fn header(df: &Dataflow, l: &Layer) -> String {
    let stream = |s: usize| word_type(df.streams[s].word * df.streams[s].dtype.bits as usize);
    let ins: Vec<String> = l.inputs.iter().map(|&s| stream(s)).collect();
    let outs: Vec<String> = l.outputs.iter().map(|&s| stream(s)).collect();
    let (pe, simd) = (l.fold.pe, l.fold.simd);
    let name = &l.name;
    let mut params = String::new();
    let call = match &l.op {
        Op::Mvau(m) => {
            let (wb, fmt) = weight_format(m.weight_format);
            let (sf, nf) = (m.mw / simd, m.mh / pe);
            // Row r = nf·PE + p, columns sf·SIMD ..
            let words = packed(pe, nf * sf, simd, wb, |p, tile, s| {
                let (f, c) = (tile / sf, tile % sf);
                raw_weight(m.weights[(f * pe + p) * m.mw + c * simd + s], m.weight_format)
            });
            params +=
                &array(&format!("ap_uint<{}>", simd as u32 * wb), &format!("{name}_weights"), &[pe, nf * sf], &words);
            params += &thresholds(name, &m.act, pe);
            let t = &m.act;
            format!(
                "lb_mvau<{}, {}, {simd}, {pe}, {}, {}, {}, {wb}, {fmt}, {}, {}, {}>(in0, out0, {name}_weights, \
                 {name}_thresholds, {name}_negate, {})",
                m.mw,
                m.mh,
                m.reps,
                m.input.bits,
                cpp_bool(m.input.signed),
                t.acc.bits,
                t.output.bits,
                t.steps,
                t.base
            )
        }
        Op::Vvau(v) => {
            let (wb, fmt) = weight_format(v.weight_format);
            let k = v.kernel[0] * v.kernel[1];
            let (kf, cf) = (k / simd, v.channels / pe);
            let words = packed(pe, cf * kf, simd, wb, |p, tile, s| {
                let (f, t) = (tile / kf, tile % kf);
                raw_weight(v.weights[(f * pe + p) * k + t * simd + s], v.weight_format)
            });
            params +=
                &array(&format!("ap_uint<{}>", simd as u32 * wb), &format!("{name}_weights"), &[pe, cf * kf], &words);
            params += &thresholds(name, &v.act, pe);
            let t = &v.act;
            format!(
                "lb_vvau<{}, {k}, {simd}, {pe}, {}, {}, {}, {wb}, {fmt}, {}, {}, {}>(in0, out0, {name}_weights, \
                 {name}_thresholds, {name}_negate, {})",
                v.channels,
                v.dim[0] * v.dim[1],
                v.input.bits,
                cpp_bool(v.input.signed),
                t.acc.bits,
                t.output.bits,
                t.steps,
                t.base
            )
        }
        Op::Swg(s) => format!(
            "lb_swg<{}, {simd}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}>(in0, out0)",
            s.channels,
            s.dtype.bits,
            s.ifm[0],
            s.ifm[1],
            s.ofm[0],
            s.ofm[1],
            s.kernel[0],
            s.kernel[1],
            s.stride[0],
            s.stride[1],
            s.dilation[0],
            s.dilation[1],
            cpp_bool(s.depthwise)
        ),
        Op::FmPadding(p) => format!(
            "lb_fmpadding<{}, {simd}, {}, {}, {}, {}, {}, {}, {}>(in0, out0, {})",
            p.channels, p.dtype.bits, p.dim[0], p.dim[1], p.pads[0], p.pads[1], p.pads[2], p.pads[3], p.value
        ),
        Op::StreamingMaxPool(p) => format!(
            "lb_streaming_maxpool<{}, {pe}, {}, {}, {}, {}, {}, {}>(in0, out0)",
            p.channels,
            p.dtype.bits,
            cpp_bool(p.dtype.signed),
            p.dim[0],
            p.dim[1],
            p.kernel[0],
            p.kernel[1]
        ),
        Op::Pool(p) => format!(
            "lb_pool<{}, {pe}, {}, {}, {}, {}, {}, {}, {}>(in0, out0)",
            p.channels,
            p.kernel[0] * p.kernel[1],
            p.dim[0] * p.dim[1],
            p.input.bits,
            cpp_bool(p.input.signed),
            p.input.bits.max(p.output.bits) + 2,
            p.output.bits,
            cpp_bool(p.sum)
        ),
        Op::Thresholding(t) => {
            params += &thresholds(name, &t.act, pe);
            format!(
                "lb_thresholding<{}, {pe}, {}, {}, {}, {}, {}, {}>(in0, out0, {name}_thresholds, {name}_negate, {})",
                t.channels,
                t.reps,
                t.input.bits,
                cpp_bool(t.input.signed),
                t.act.acc.bits,
                t.act.output.bits,
                t.act.steps,
                t.act.base
            )
        }
        Op::AddStreams(a) => format!(
            "lb_add_streams<{}, {pe}, {}, {}, {}, {}, {}, {}>(in0, in1, out0)",
            a.channels,
            a.reps,
            a.a.bits,
            cpp_bool(a.a.signed),
            a.b.bits,
            cpp_bool(a.b.signed),
            a.output.bits
        ),
        Op::DuplicateStreams(d) => {
            format!("lb_duplicate<{}, {}>(in0, out0, out1)", d.channels / pe * d.reps, pe as u32 * d.dtype.bits)
        }
        Op::LabelSelect(s) => format!(
            "lb_label_select<{}, {pe}, {}, {}, {}, {}>(in0, out0)",
            s.labels,
            s.k,
            s.input.bits,
            cpp_bool(s.input.signed),
            s.output.bits
        ),
        Op::Dwc(d) => {
            let lcm = d.in_elems / crate::graph::gcd(d.in_elems, d.out_elems) * d.out_elems;
            format!("lb_dwc<{}, {}, {}, {lcm}, {}>(in0, out0)", d.in_elems, d.out_elems, d.dtype.bits, d.elements)
        }
    };
    let mut args: Vec<String> = ins.iter().enumerate().map(|(i, t)| format!("hls::stream<{t} >& in{i}")).collect();
    args.extend(outs.iter().enumerate().map(|(i, t)| format!("hls::stream<{t} >& out{i}")));
    let guard = format!("LOWBIT_LAYER_{}_H", name.to_uppercase());
    format!(
        "// {name}: {origin}; PE = {pe}, SIMD = {simd}.\n// Generated by lowbit.\n#ifndef {guard}\n#define {guard}\n\n\
         #include \"lowbit_hls.h\"\n\n{params}static void {name}({args}) {{\n#pragma HLS INLINE off\n  {call};\n}}\n\n\
         #endif  // {guard}\n",
        origin = l.origin,
        args = args.join(", ")
    )
}

/// Bits and template code (0 signed, 1 unsigned, 2 bipolar) of a weight format.
fn weight_format(f: WeightFormat) -> (u32, u32) {
    let code = match f {
        WeightFormat::Signed(_) => 0,
        WeightFormat::Unsigned(_) => 1,
        WeightFormat::Bipolar => 2,
    };
    (weight_type(f).0, code)
}

/// The stored bits of a weight: two's complement, unsigned, or the sign
/// bit of a bipolar weight.
fn raw_weight(w: i32, f: WeightFormat) -> u64 {
    match f {
        WeightFormat::Bipolar => u64::from(w < 0),
        _ => (w as u64) & ((1u64 << weight_type(f).0) - 1),
    }
}

/// `outer × tiles` words of `simd` values of `bits` bits, value `s` of
/// word `[p][tile]` being `value(p, tile, s)`, as C++ literals.
fn packed(
    outer: usize,
    tiles: usize,
    simd: usize,
    bits: u32,
    value: impl Fn(usize, usize, usize) -> u64,
) -> Vec<String> {
    let width = simd * bits as usize;
    let mut words = Vec::with_capacity(outer * tiles);
    for p in 0..outer {
        for t in 0..tiles {
            let mut limbs = vec![0u64; width.div_ceil(64)];
            for s in 0..simd {
                let (pos, v) = (s * bits as usize, value(p, t, s));
                limbs[pos / 64] |= v << (pos % 64);
                if pos % 64 + bits as usize > 64 {
                    limbs[pos / 64 + 1] |= v >> (64 - pos % 64);
                }
            }
            let mut hex = String::new();
            for (i, limb) in limbs.iter().enumerate().rev() {
                if i == limbs.len() - 1 {
                    write!(hex, "{limb:x}").unwrap_or(());
                } else {
                    write!(hex, "{limb:016x}").unwrap_or(());
                }
            }
            words.push(if width <= 64 { format!("0x{hex}ULL") } else { format!("ap_uint<{width}>(\"0x{hex}\", 16)") });
        }
    }
    words
}

/// A `static const` C++ array of `dims` filled row-major with `values`.
fn array(ty: &str, name: &str, dims: &[usize], values: &[String]) -> String {
    fn nest(dims: &[usize], values: &[String]) -> String {
        if dims.len() == 1 {
            return format!("{{{}}}", values.join(", "));
        }
        let inner: usize = dims[1..].iter().product();
        let parts: Vec<String> = values.chunks(inner.max(1)).map(|c| nest(&dims[1..], c)).collect();
        format!("{{\n{}}}", parts.iter().map(|p| format!("  {p},\n")).collect::<String>())
    }
    let shape: String = dims.iter().map(|d| format!("[{d}]")).collect();
    format!("static const {ty} {name}{shape} = {};\n\n", nest(dims, values))
}

/// The threshold and negation arrays of a unit with `pe` lanes: channel
/// `c` goes to `[c % PE][c / PE]`.
fn thresholds(name: &str, t: &Thresholds, pe: usize) -> String {
    let folds = t.channels / pe;
    let mut values = Vec::with_capacity(t.values.len());
    let mut negate = Vec::with_capacity(t.channels);
    for p in 0..pe {
        for f in 0..folds {
            let c = f * pe + p;
            values.extend(t.values[c * t.steps..(c + 1) * t.steps].iter().map(|&v| literal(v)));
            negate.push(cpp_bool(t.negate[c]).to_string());
        }
    }
    let ty = format!("ap_int<{}>", t.acc.bits);
    array(&ty, &format!("{name}_thresholds"), &[pe, folds, t.steps], &values)
        + &array("bool", &format!("{name}_negate"), &[pe, folds], &negate)
}

/// An integer literal that fits its value.
fn literal(v: i64) -> String {
    if i32::try_from(v).is_ok() { v.to_string() } else { format!("{v}LL") }
}

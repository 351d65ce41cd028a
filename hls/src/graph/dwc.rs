//! Width converters between units whose folding gives their shared stream
//! different word sizes.

use super::ops::{Dwc, Op};
use super::{Dataflow, Layer, Stream};
use crate::HlsError;
use crate::folding::Fold;

/// Inserts a `StreamingDataWidthConverter_hls_<i>` before every consumer
/// whose input words differ from its producer's output words, and sets the
/// word size of every stream.
pub(crate) fn insert_dwcs(df: &mut Dataflow) -> Result<(), HlsError> {
    df.set_word_sizes();
    let mut count = 0;
    let mut i = 0;
    while i < df.layers.len() {
        for slot in 0..df.layers[i].inputs.len() {
            let s = df.layers[i].inputs[slot];
            let l = &df.layers[i];
            let want = l.op.in_elems(l.fold.pe, l.fold.simd);
            let have = df.streams[s].word;
            if want == have {
                continue;
            }
            let Stream { dtype, elements, .. } = df.streams[s];
            let from = df.producer(s).map_or("the input".to_string(), |p| df.layers[p].name.clone());
            let l = &df.layers[i];
            let lcm = have / gcd(have, want) * want;
            if elements % lcm != 0 {
                return Err(HlsError::Folding {
                    layer: l.name.clone(),
                    reason: format!(
                        "its input of {elements} values cannot be regrouped from {have} to {want} per word"
                    ),
                });
            }
            df.streams.push(Stream { dtype, elements, word: want });
            let converted = df.streams.len() - 1;
            let op = Op::Dwc(Dwc { in_elems: have, out_elems: want, elements, dtype });
            let dwc = Layer {
                name: format!("{}_{count}", op.op_type()),
                origin: format!("{from} ({have} per word) → {} ({want} per word)", l.name),
                fold: Fold::default_for(&op),
                op,
                inputs: vec![s],
                outputs: vec![converted],
            };
            count += 1;
            df.layers[i].inputs[slot] = converted;
            df.layers.insert(i, dwc);
            i += 1;
        }
        i += 1;
    }
    Ok(())
}

/// Greatest common divisor.
pub(crate) fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

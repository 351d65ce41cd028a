// Stream plumbing: width conversion, duplication, elementwise addition and
// label selection.
#ifndef LOWBIT_STREAMS_H
#define LOWBIT_STREAMS_H

// Regroups a stream of IN_E-element words into OUT_E-element words (B bits
// per element, TOTAL elements per frame) through a buffer of LCM elements,
// the least common multiple of IN_E and OUT_E.
template <unsigned IN_E, unsigned OUT_E, int B, unsigned LCM, unsigned TOTAL>
void lb_dwc(hls::stream<ap_uint<IN_E * B> >& in, hls::stream<ap_uint<OUT_E * B> >& out) {
  static_assert(LCM % IN_E == 0 && LCM % OUT_E == 0 && TOTAL % LCM == 0, "inconsistent widths");
  for (unsigned g = 0; g < TOTAL / LCM; g++) {
    ap_uint<LCM * B> buffer = 0;
    for (unsigned i = 0; i < LCM / IN_E; i++) {
#pragma HLS PIPELINE II = 1
      const ap_uint<IN_E * B> v = in.read();
      buffer.range((i + 1) * IN_E * B - 1, i * IN_E * B) = v;
    }
    for (unsigned j = 0; j < LCM / OUT_E; j++) {
#pragma HLS PIPELINE II = 1
      const ap_uint<OUT_E * B> v = buffer.range((j + 1) * OUT_E * B - 1, j * OUT_E * B);
      out.write(v);
    }
  }
}

// Copies each of WORDS words of a frame to two streams.
template <unsigned WORDS, int W>
void lb_duplicate(hls::stream<ap_uint<W> >& in, hls::stream<ap_uint<W> >& out_a, hls::stream<ap_uint<W> >& out_b) {
  for (unsigned i = 0; i < WORDS; i++) {
#pragma HLS PIPELINE II = 1
    const ap_uint<W> v = in.read();
    out_a.write(v);
    out_b.write(v);
  }
}

// Elementwise sum of two streams of REPS pixels of CH channels (PE per
// word); the OB-bit output holds every possible sum.
template <unsigned CH, unsigned PE, unsigned REPS, int AB, bool AS, int BB, bool BS, int OB>
void lb_add_streams(hls::stream<ap_uint<PE * AB> >& in_a, hls::stream<ap_uint<PE * BB> >& in_b,
                    hls::stream<ap_uint<PE * OB> >& out) {
  static_assert(CH % PE == 0, "channels must be a multiple of PE");
  for (unsigned r = 0; r < REPS; r++) {
    for (unsigned cf = 0; cf < CH / PE; cf++) {
#pragma HLS PIPELINE II = 1
      const ap_uint<PE * AB> a = in_a.read();
      const ap_uint<PE * BB> b = in_b.read();
      ap_uint<PE * OB> y = 0;
      for (unsigned p = 0; p < PE; p++) {
#pragma HLS UNROLL
        const ap_int<(AB > BB ? AB : BB) + 2> sum = lb_get<AB, AS>(a, p) + lb_get<BB, BS>(b, p);
        lb_set<OB>(y, p, sum);
      }
      out.write(y);
    }
  }
}

// Top-K label selection over LABELS values (PE per word): writes the
// indices of the K largest values, largest first; equal values keep the
// lower index first. Cycles: LABELS / PE.
template <unsigned LABELS, unsigned PE, unsigned K, int IB, bool IS, int OB>
void lb_label_select(hls::stream<ap_uint<PE * IB> >& in, hls::stream<ap_uint<OB> >& out) {
  static_assert(LABELS % PE == 0 && K <= LABELS, "inconsistent label selection");
  ap_int<IB + 1> best[K];
  ap_uint<OB> index[K];
  bool valid[K];
#pragma HLS ARRAY_PARTITION variable = best complete
#pragma HLS ARRAY_PARTITION variable = index complete
#pragma HLS ARRAY_PARTITION variable = valid complete
  for (unsigned j = 0; j < K; j++) valid[j] = false;
  for (unsigned i = 0; i < LABELS / PE; i++) {
#pragma HLS PIPELINE II = 1
    const ap_uint<PE * IB> x = in.read();
    for (unsigned p = 0; p < PE; p++) {
      ap_int<IB + 1> value = lb_get<IB, IS>(x, p);
      ap_uint<OB> label = i * PE + p;
      bool carry = true;
      for (unsigned j = 0; j < K; j++) {
        if (carry && (!valid[j] || value > best[j])) {
          const ap_int<IB + 1> v = best[j];
          const ap_uint<OB> l = index[j];
          const bool was_valid = valid[j];
          best[j] = value;
          index[j] = label;
          valid[j] = true;
          value = v;
          label = l;
          carry = was_valid;
        }
      }
    }
  }
  for (unsigned j = 0; j < K; j++) {
#pragma HLS PIPELINE II = 1
    out.write(index[j]);
  }
}

#endif  // LOWBIT_STREAMS_H

// Standalone multi-threshold activation.
#ifndef LOWBIT_THRESHOLDS_H
#define LOWBIT_THRESHOLDS_H

// Thresholds each element of REPS pixels of CH channels (PE per word):
// channel c uses thresholds[c % PE][c / PE]. Cycles per pixel: CH / PE.
template <unsigned CH, unsigned PE, unsigned REPS, int IB, bool IS, int AB, int OB, unsigned NT>
void lb_thresholding(hls::stream<ap_uint<PE * IB> >& in, hls::stream<ap_uint<PE * OB> >& out,
                     const ap_int<AB> thresholds[PE][CH / PE][NT], const bool negate[PE][CH / PE], int base) {
  static_assert(CH % PE == 0, "channels must be a multiple of PE");
#pragma HLS ARRAY_PARTITION variable = thresholds complete dim = 1
#pragma HLS ARRAY_PARTITION variable = thresholds complete dim = 3
#pragma HLS ARRAY_PARTITION variable = negate complete dim = 1
  for (unsigned r = 0; r < REPS; r++) {
    for (unsigned cf = 0; cf < CH / PE; cf++) {
#pragma HLS PIPELINE II = 1
      const ap_uint<PE * IB> x = in.read();
      ap_uint<PE * OB> y = 0;
      for (unsigned p = 0; p < PE; p++) {
#pragma HLS UNROLL
        const ap_int<AB> a = lb_get<IB, IS>(x, p);
        lb_set<OB>(y, p, lb_activate<AB, NT>(a, thresholds[p][cf], negate[p][cf], base));
      }
      out.write(y);
    }
  }
}

#endif  // LOWBIT_THRESHOLDS_H

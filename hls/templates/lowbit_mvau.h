// Matrix-vector-activation (MVAU) and vector-vector-activation (VVAU) units.
#ifndef LOWBIT_MVAU_H
#define LOWBIT_MVAU_H

// Matrix-vector-activation unit: for each of REPS input vectors of MW
// elements (read SIMD at a time), computes the MH dot products with the
// weight matrix (PE rows at a time) and thresholds each one.
//
// Row r of the matrix belongs to PE lane r % PE at fold r / PE; its SIMD
// chunk sf is word weights[r % PE][(r / PE) * (MW / SIMD) + sf]. The input
// vector is read once and replayed from a buffer for the other row folds.
// Cycles per vector: (MH / PE) * (MW / SIMD).
template <unsigned MW, unsigned MH, unsigned SIMD, unsigned PE, unsigned REPS, int IB, bool IS, int WB, int WFMT,
          int AB, int OB, unsigned NT>
void lb_mvau(hls::stream<ap_uint<SIMD * IB> >& in, hls::stream<ap_uint<PE * OB> >& out,
             const ap_uint<SIMD * WB> weights[PE][(MH / PE) * (MW / SIMD)],
             const ap_int<AB> thresholds[PE][MH / PE][NT], const bool negate[PE][MH / PE], int base) {
  static_assert(MW % SIMD == 0, "MW must be a multiple of SIMD");
  static_assert(MH % PE == 0, "MH must be a multiple of PE");
  constexpr unsigned SF = MW / SIMD;
  constexpr unsigned NF = MH / PE;
  ap_uint<SIMD * IB> vector[SF];
  ap_int<AB> acc[PE];
#pragma HLS ARRAY_PARTITION variable = acc complete
#pragma HLS ARRAY_PARTITION variable = weights complete dim = 1
#pragma HLS ARRAY_PARTITION variable = thresholds complete dim = 1
#pragma HLS ARRAY_PARTITION variable = thresholds complete dim = 3
#pragma HLS ARRAY_PARTITION variable = negate complete dim = 1
  for (unsigned r = 0; r < REPS; r++) {
    for (unsigned nf = 0; nf < NF; nf++) {
      for (unsigned sf = 0; sf < SF; sf++) {
#pragma HLS PIPELINE II = 1
        ap_uint<SIMD * IB> x;
        if (nf == 0) {
          x = in.read();
          vector[sf] = x;
        } else {
          x = vector[sf];
        }
        ap_uint<PE * OB> y = 0;
        for (unsigned p = 0; p < PE; p++) {
#pragma HLS UNROLL
          const ap_uint<SIMD * WB> w = weights[p][nf * SF + sf];
          ap_int<AB> sum = 0;
          if (sf != 0) sum = acc[p];
          for (unsigned s = 0; s < SIMD; s++) {
#pragma HLS UNROLL
            sum += lb_get<IB, IS>(x, s) * lb_weight<WB, WFMT>(w, s);
          }
          acc[p] = sum;
          if (sf == SF - 1) lb_set<OB>(y, p, lb_activate<AB, NT>(sum, thresholds[p][nf], negate[p][nf], base));
        }
        if (sf == SF - 1) out.write(y);
      }
    }
  }
}

// Vector-vector-activation unit (depthwise convolution): for each of REPS
// output pixels and each channel, the dot product of the K window values of
// that channel with its K weights, thresholded.
//
// Input words hold SIMD window taps x PE channels (element t * PE + p is tap
// t of channel lane p), in the order channel fold, tap fold. Channel c
// belongs to lane c % PE at fold c / PE; its SIMD taps of fold kf are word
// weights[c % PE][(c / PE) * (K / SIMD) + kf].
// Cycles per pixel: (CH / PE) * (K / SIMD).
template <unsigned CH, unsigned K, unsigned SIMD, unsigned PE, unsigned REPS, int IB, bool IS, int WB, int WFMT,
          int AB, int OB, unsigned NT>
void lb_vvau(hls::stream<ap_uint<SIMD * PE * IB> >& in, hls::stream<ap_uint<PE * OB> >& out,
             const ap_uint<SIMD * WB> weights[PE][(CH / PE) * (K / SIMD)],
             const ap_int<AB> thresholds[PE][CH / PE][NT], const bool negate[PE][CH / PE], int base) {
  static_assert(CH % PE == 0, "channels must be a multiple of PE");
  static_assert(K % SIMD == 0, "the window size must be a multiple of SIMD");
  constexpr unsigned KF = K / SIMD;
  constexpr unsigned CF = CH / PE;
  ap_int<AB> acc[PE];
#pragma HLS ARRAY_PARTITION variable = acc complete
#pragma HLS ARRAY_PARTITION variable = weights complete dim = 1
#pragma HLS ARRAY_PARTITION variable = thresholds complete dim = 1
#pragma HLS ARRAY_PARTITION variable = thresholds complete dim = 3
#pragma HLS ARRAY_PARTITION variable = negate complete dim = 1
  for (unsigned r = 0; r < REPS; r++) {
    for (unsigned cf = 0; cf < CF; cf++) {
      for (unsigned kf = 0; kf < KF; kf++) {
#pragma HLS PIPELINE II = 1
        const ap_uint<SIMD * PE * IB> x = in.read();
        ap_uint<PE * OB> y = 0;
        for (unsigned p = 0; p < PE; p++) {
#pragma HLS UNROLL
          const ap_uint<SIMD * WB> w = weights[p][cf * KF + kf];
          ap_int<AB> sum = 0;
          if (kf != 0) sum = acc[p];
          for (unsigned s = 0; s < SIMD; s++) {
#pragma HLS UNROLL
            sum += lb_get<IB, IS>(x, s * PE + p) * lb_weight<WB, WFMT>(w, s);
          }
          acc[p] = sum;
          if (kf == KF - 1) lb_set<OB>(y, p, lb_activate<AB, NT>(sum, thresholds[p][cf], negate[p][cf], base));
        }
        if (kf == KF - 1) out.write(y);
      }
    }
  }
}

#endif  // LOWBIT_MVAU_H

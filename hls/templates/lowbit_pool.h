// Pooling units.
#ifndef LOWBIT_POOL_H
#define LOWBIT_POOL_H

// Streaming max pool with the window equal to the stride (KH x KW, no
// padding, IH and IW multiples of the window), PE channels per word.
template <unsigned CH, unsigned PE, int B, bool S, unsigned IH, unsigned IW, unsigned KH, unsigned KW>
void lb_streaming_maxpool(hls::stream<ap_uint<PE * B> >& in, hls::stream<ap_uint<PE * B> >& out) {
  static_assert(CH % PE == 0, "channels must be a multiple of PE");
  static_assert(IH % KH == 0 && IW % KW == 0, "the input must be a whole number of windows");
  constexpr unsigned CF = CH / PE;
  constexpr unsigned OW = IW / KW;
  ap_uint<PE * B> best[OW * CF];
  for (unsigned oy = 0; oy < IH / KH; oy++) {
    for (unsigned ky = 0; ky < KH; ky++) {
      for (unsigned x = 0; x < IW; x++) {
        for (unsigned cf = 0; cf < CF; cf++) {
#pragma HLS PIPELINE II = 1
          const ap_uint<PE * B> v = in.read();
          const unsigned slot = (x / KW) * CF + cf;
          if (ky == 0 && x % KW == 0) {
            best[slot] = v;
          } else {
            ap_uint<PE * B> m = best[slot];
            for (unsigned p = 0; p < PE; p++) {
#pragma HLS UNROLL
              if (lb_get<B, S>(v, p) > lb_get<B, S>(m, p)) lb_set<B>(m, p, lb_get<B, S>(v, p));
            }
            best[slot] = m;
          }
        }
      }
    }
    for (unsigned i = 0; i < OW * CF; i++) {
#pragma HLS PIPELINE II = 1
      out.write(best[i]);
    }
  }
}

// Window reduction after a depthwise sliding-window generator: the maximum
// (SUM false) or the sum (SUM true) of the K taps of each channel, for REPS
// output pixels, PE channels per word. AB is the width of the running
// value. Cycles per pixel: CH * K / PE.
template <unsigned CH, unsigned PE, unsigned K, unsigned REPS, int IB, bool IS, int AB, int OB, bool SUM>
void lb_pool(hls::stream<ap_uint<PE * IB> >& in, hls::stream<ap_uint<PE * OB> >& out) {
  static_assert(CH % PE == 0, "channels must be a multiple of PE");
  ap_int<AB> acc[PE];
#pragma HLS ARRAY_PARTITION variable = acc complete
  for (unsigned r = 0; r < REPS; r++) {
    for (unsigned cf = 0; cf < CH / PE; cf++) {
      for (unsigned k = 0; k < K; k++) {
#pragma HLS PIPELINE II = 1
        const ap_uint<PE * IB> x = in.read();
        ap_uint<PE * OB> y = 0;
        for (unsigned p = 0; p < PE; p++) {
#pragma HLS UNROLL
          const ap_int<AB> v = lb_get<IB, IS>(x, p);
          if (k == 0) {
            acc[p] = v;
          } else if (SUM) {
            acc[p] += v;
          } else if (v > acc[p]) {
            acc[p] = v;
          }
          lb_set<OB>(y, p, acc[p]);
        }
        if (k == K - 1) out.write(y);
      }
    }
  }
}

#endif  // LOWBIT_POOL_H

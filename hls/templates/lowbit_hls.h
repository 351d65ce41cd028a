// lowbit's header-only HLS library: streaming dataflow units in the style
// of FINN (one unit per layer, folded by PE and SIMD), written for Vitis HLS
// and compiled with any C++17 compiler for C simulation.
//
// Streams carry packed words: element i of a word of B-bit elements sits at
// bits [i*B, i*B + B). Feature maps stream pixel by pixel (rows, then
// columns) with the channels of a pixel innermost.
//
// With the vendor headers (Vitis HLS csim/cosim, or -DLOWBIT_VENDOR_HLS),
// ap_int.h and hls_stream.h are used; otherwise lowbit_ap.h provides the
// same subset for a plain compiler.
#ifndef LOWBIT_HLS_H
#define LOWBIT_HLS_H

#if defined(__SYNTHESIS__) || defined(LOWBIT_VENDOR_HLS)
#include <ap_int.h>
#include <hls_stream.h>
#else
#include "lowbit_ap.h"
#endif

// Element i of a word of B-bit elements, signed (S) or unsigned, widened by
// one bit so that both kinds share a signed type.
template <int B, bool S, int W>
inline ap_int<B + 1> lb_get(const ap_uint<W>& word, unsigned i) {
#pragma HLS INLINE
  ap_uint<B> raw = word.range(i * B + B - 1, i * B);
  ap_int<B + 1> value;
  if (S) {
    ap_int<B> s = raw;
    value = s;
  } else {
    value = raw;
  }
  return value;
}

// Stores the low B bits of v as element i of a word.
template <int B, int W>
inline void lb_set(ap_uint<W>& word, unsigned i, long long v) {
#pragma HLS INLINE
  ap_uint<B> bits = v;
  word.range(i * B + B - 1, i * B) = bits;
}

// Weight i of a word of WB-bit weights: two's complement (WFMT 0),
// unsigned (1) or bipolar (2: bit 0 is +1, bit 1 is -1).
template <int WB, int WFMT, int W>
inline ap_int<WB + 1> lb_weight(const ap_uint<W>& word, unsigned i) {
#pragma HLS INLINE
  ap_uint<WB> raw = word.range(i * WB + WB - 1, i * WB);
  ap_int<WB + 1> value;
  if (WFMT == 0) {
    ap_int<WB> s = raw;
    value = s;
  } else if (WFMT == 1) {
    value = raw;
  } else if (raw == 1) {
    value = -1;
  } else {
    value = 1;
  }
  return value;
}

// Multi-threshold activation: base + the number of thresholds that
// (negate ? -acc : acc) reaches. Thresholds are sorted ascending.
template <int AB, unsigned NT>
inline int lb_activate(const ap_int<AB>& acc, const ap_int<AB> thresholds[NT], bool negate, int base) {
#pragma HLS INLINE
  ap_int<AB> a = acc;
  if (negate) a = -acc;
  int count = 0;
  for (unsigned k = 0; k < NT; k++) {
#pragma HLS UNROLL
    if (a >= thresholds[k]) count++;
  }
  return base + count;
}

#include "lowbit_mvau.h"
#include "lowbit_pool.h"
#include "lowbit_streams.h"
#include "lowbit_swg.h"
#include "lowbit_thresholds.h"

#endif  // LOWBIT_HLS_H

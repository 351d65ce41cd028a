// Sliding-window input generator and feature-map padding.
#ifndef LOWBIT_SWG_H
#define LOWBIT_SWG_H

// Sliding-window generator: turns an IH x IW x CH feature map (SIMD
// channels per word) into the windows of a KH x KW kernel with strides
// SH, SW and dilations DH, DW, one OH x OW output pixel after the other.
//
// Each window is emitted in (kh, kw, channel fold) order, or, with
// DEPTHWISE, in (channel fold, kh, kw) order for a vector-vector unit or a
// pool. Rows are kept in a line buffer of (KH - 1) * DH + 1 rows and read
// only as far as the next output row needs; rows below the last window are
// read and dropped.
template <unsigned CH, unsigned SIMD, int B, unsigned IH, unsigned IW, unsigned OH, unsigned OW, unsigned KH,
          unsigned KW, unsigned SH, unsigned SW, unsigned DH, unsigned DW, bool DEPTHWISE>
void lb_swg(hls::stream<ap_uint<SIMD * B> >& in, hls::stream<ap_uint<SIMD * B> >& out) {
  static_assert(CH % SIMD == 0, "channels must be a multiple of SIMD");
  constexpr unsigned CF = CH / SIMD;
  constexpr unsigned ROWS = (KH - 1) * DH + 1;
  ap_uint<SIMD * B> lines[ROWS][IW * CF];
  unsigned next_row = 0;
  for (unsigned oy = 0; oy < OH; oy++) {
    const unsigned last_row = oy * SH + (KH - 1) * DH;
    for (; next_row <= last_row; next_row++) {
      for (unsigned i = 0; i < IW * CF; i++) {
#pragma HLS PIPELINE II = 1
        lines[next_row % ROWS][i] = in.read();
      }
    }
    for (unsigned ox = 0; ox < OW; ox++) {
      for (unsigned a = 0; a < KH * KW * CF; a++) {
#pragma HLS PIPELINE II = 1
        unsigned kh, kw, cf;
        if (DEPTHWISE) {
          cf = a / (KH * KW);
          kh = (a / KW) % KH;
          kw = a % KW;
        } else {
          kh = a / (KW * CF);
          kw = (a / CF) % KW;
          cf = a % CF;
        }
        out.write(lines[(oy * SH + kh * DH) % ROWS][(ox * SW + kw * DW) * CF + cf]);
      }
    }
  }
  for (; next_row < IH; next_row++) {
    for (unsigned i = 0; i < IW * CF; i++) {
#pragma HLS PIPELINE II = 1
      in.read();
    }
  }
}

// Pads an IH x IW x CH feature map with PT, PL, PB, PR rows/columns of
// `value` (SIMD channels per word). Cycles: output pixels * CH / SIMD.
template <unsigned CH, unsigned SIMD, int B, unsigned IH, unsigned IW, unsigned PT, unsigned PL, unsigned PB,
          unsigned PR>
void lb_fmpadding(hls::stream<ap_uint<SIMD * B> >& in, hls::stream<ap_uint<SIMD * B> >& out, int value) {
  static_assert(CH % SIMD == 0, "channels must be a multiple of SIMD");
  constexpr unsigned CF = CH / SIMD;
  ap_uint<SIMD * B> pad = 0;
  for (unsigned s = 0; s < SIMD; s++) {
#pragma HLS UNROLL
    lb_set<B>(pad, s, value);
  }
  for (unsigned y = 0; y < IH + PT + PB; y++) {
    for (unsigned x = 0; x < IW + PL + PR; x++) {
      for (unsigned cf = 0; cf < CF; cf++) {
#pragma HLS PIPELINE II = 1
        const bool inside = y >= PT && y < PT + IH && x >= PL && x < PL + IW;
        if (inside) {
          out.write(in.read());
        } else {
          out.write(pad);
        }
      }
    }
  }
}

#endif  // LOWBIT_SWG_H

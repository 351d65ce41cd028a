// lowbit's minimal arbitrary-width integers and streams for C simulation
// with a plain C++17 compiler (g++, clang++), when the vendor headers
// (ap_int.h, hls_stream.h) are not installed.
//
// It implements only the subset of the vendor API that lowbit's templates
// use, with the same meaning:
//   ap_int<W>, ap_uint<W>  two's complement / unsigned integers of W bits
//                          (any W >= 1), wrapping on overflow; construction
//                          from integers, from other widths (sign- or
//                          zero-extended by the source's signedness, then
//                          truncated) and from hex strings;
//                          .range(hi, lo) as a readable and writable bit
//                          field; implicit conversion to long long and
//                          arithmetic through it for W <= 64;
//   hls::stream<T>         an unbounded FIFO; reading an empty stream
//                          aborts (the hardware would deadlock).
#ifndef LOWBIT_AP_H
#define LOWBIT_AP_H

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <type_traits>

template <int W, bool S>
class lb_range;

// An integer of W bits; bits above W in the last limb are always zero.
template <int W, bool S>
class lb_int {
  static_assert(W >= 1, "width must be at least 1");

 public:
  static constexpr int kLimbs = (W + 63) / 64;

  constexpr lb_int() : limb_{} {}

  template <typename T, typename = typename std::enable_if<std::is_integral<T>::value>::type>
  constexpr lb_int(T v) : limb_{} {
    fill_from(static_cast<uint64_t>(static_cast<long long>(v)), std::is_signed<T>::value && v < 0);
  }

  template <int W2, bool S2>
  constexpr lb_int(const lb_int<W2, S2>& o) : limb_{} {
    const bool negative = S2 && o.bit(W2 - 1);
    for (int i = 0; i < kLimbs; i++) {
      limb_[i] = i < o.kLimbs ? o.limb(i) : (negative ? ~0ULL : 0ULL);
    }
    if (negative && W > W2) {
      // Sign-extend the partial limb of the source.
      const int top = W2 % 64;
      if (top != 0 && (W2 - 1) / 64 < kLimbs) limb_[(W2 - 1) / 64] |= ~0ULL << top;
    }
    mask();
  }

  template <int W2, bool S2>
  lb_int(const lb_range<W2, S2>& r) : limb_{} {
    const int n = r.width() < W ? r.width() : W;
    for (int done = 0; done < n; done += 64) {
      const int chunk = n - done < 64 ? n - done : 64;
      set_bits(done, chunk, r.source().get_bits(r.lo() + done, chunk));
    }
  }

  // Hexadecimal text (radix 16, optional "0x"), as the vendor constructor.
  constexpr lb_int(const char* text, int radix) : limb_{} {
    if (radix != 16) throw "lowbit_ap.h: only radix 16 strings are supported";
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text += 2;
    int end = 0;
    while (text[end] != 0) end++;
    for (int i = end - 1, pos = 0; i >= 0 && pos < W; i--, pos += 4) {
      const char c = text[i];
      const uint64_t d = c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0';
      set_bits(pos, W - pos < 4 ? W - pos : 4, d);
    }
  }

  // The value as a long long (W <= 64).
  constexpr long long to_int64() const {
    static_assert(W <= 64, "arithmetic is limited to 64-bit values");
    uint64_t v = limb_[0];
    if (S && W < 64 && bit(W - 1)) v |= ~0ULL << W;
    return static_cast<long long>(v);
  }

  constexpr operator long long() const { return to_int64(); }

  lb_int& operator+=(long long v) { return *this = lb_int(to_int64() + v); }
  lb_int& operator-=(long long v) { return *this = lb_int(to_int64() - v); }

  lb_range<W, S> range(int hi, int lo) const { return lb_range<W, S>(const_cast<lb_int*>(this), hi, lo); }

  constexpr bool bit(int i) const { return (limb_[i / 64] >> (i % 64)) & 1; }
  constexpr uint64_t limb(int i) const { return limb_[i]; }

  // n <= 64 bits starting at bit lo.
  constexpr uint64_t get_bits(int lo, int n) const {
    const int l = lo / 64, off = lo % 64;
    uint64_t v = limb_[l] >> off;
    if (off != 0 && off + n > 64 && l + 1 < kLimbs) v |= limb_[l + 1] << (64 - off);
    return n == 64 ? v : v & ((1ULL << n) - 1);
  }

  constexpr void set_bits(int lo, int n, uint64_t v) {
    for (int done = 0; done < n;) {
      const int pos = lo + done, l = pos / 64, off = pos % 64;
      const int take = (64 - off) < (n - done) ? (64 - off) : (n - done);
      const uint64_t m = take == 64 ? ~0ULL : ((1ULL << take) - 1);
      const uint64_t part = (done == 64 ? 0 : (v >> done)) & m;
      limb_[l] = (limb_[l] & ~(m << off)) | (part << off);
      done += take;
    }
    mask();
  }

 private:
  uint64_t limb_[kLimbs];

  constexpr void fill_from(uint64_t v, bool negative) {
    limb_[0] = v;
    for (int i = 1; i < kLimbs; i++) limb_[i] = negative ? ~0ULL : 0ULL;
    mask();
  }

  constexpr void mask() {
    if (W % 64 != 0) limb_[kLimbs - 1] &= (1ULL << (W % 64)) - 1;
  }
};

// A writable bit field [lo, hi] of an lb_int.
template <int W, bool S>
class lb_range {
 public:
  lb_range(lb_int<W, S>* target, int hi, int lo) : target_(target), hi_(hi), lo_(lo) {}

  int width() const { return hi_ - lo_ + 1; }
  int lo() const { return lo_; }
  const lb_int<W, S>& source() const { return *target_; }

  template <int W2, bool S2>
  lb_range& operator=(const lb_int<W2, S2>& v) {
    const lb_int<(W > W2 ? W : W2), S2> wide(v);
    for (int done = 0; done < width(); done += 64) {
      const int chunk = width() - done < 64 ? width() - done : 64;
      target_->set_bits(lo_ + done, chunk, wide.get_bits(done, chunk));
    }
    return *this;
  }

  template <typename T, typename = typename std::enable_if<std::is_integral<T>::value>::type>
  lb_range& operator=(T v) {
    return *this = lb_int<64, std::is_signed<T>::value>(v);
  }

  lb_range& operator=(const lb_range& other) { return *this = lb_int<W, false>(other); }

 private:
  lb_int<W, S>* target_;
  int hi_, lo_;
};

template <int W>
using ap_int = lb_int<W, true>;
template <int W>
using ap_uint = lb_int<W, false>;

namespace hls {

// An unbounded FIFO with the vendor stream's read/write interface.
template <typename T>
class stream {
 public:
  stream() : name_("stream") {}
  explicit stream(const char* name) : name_(name) {}
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  void write(const T& v) { fifo_.push_back(v); }

  T read() {
    if (fifo_.empty()) {
      std::fprintf(stderr, "lowbit csim: read from empty stream '%s' (the dataflow would deadlock)\n",
                   name_.c_str());
      std::abort();
    }
    T v = fifo_.front();
    fifo_.pop_front();
    return v;
  }

  void read(T& v) { v = read(); }
  bool empty() const { return fifo_.empty(); }
  std::size_t size() const { return fifo_.size(); }
  stream& operator<<(const T& v) {
    write(v);
    return *this;
  }
  stream& operator>>(T& v) {
    v = read();
    return *this;
  }

 private:
  std::string name_;
  std::deque<T> fifo_;
};

}  // namespace hls

#endif  // LOWBIT_AP_H

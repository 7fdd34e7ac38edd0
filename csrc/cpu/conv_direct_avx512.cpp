// Direct channels-last convolution for CPUs with AVX-512 F/BW/DQ/VL (compiled with those flags):
// the vector operations and tile sizes; the algorithm is in conv_direct_kernels.inc.
// Includes no C++ library headers: see the note at the top of conv_direct.h.
#include <immintrin.h>

#include <cstdint>

#include "cpu/conv_direct.h"

// GCC 12 flags the deliberately undefined pass-through operand inside its own AVX-512 shuffle
// intrinsics as maybe-uninitialized wherever they are inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace ember {
namespace cpu {
namespace {

// Loads (aligned ones from the packed weights only), broadcast, FMA, add, and masked access to the
// first `count` lanes (0 < count < kWidth).
struct VecF32 {
  using Scalar = float;
  using Reg = __m512;
  static constexpr int kWidth = 16;
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg load(const float* p) { return _mm512_load_ps(p); }
  static Reg loadu(const float* p) { return _mm512_loadu_ps(p); }
  static void storeu(float* p, Reg v) { _mm512_storeu_ps(p, v); }
  static Reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static Reg fmadd(Reg x, Reg y, Reg acc) { return _mm512_fmadd_ps(x, y, acc); }
  static Reg add(Reg x, Reg y) { return _mm512_add_ps(x, y); }
  static __mmask16 mask(int count) { return (__mmask16)((1u << count) - 1); }
  static Reg load_first(const float* p, int count) { return _mm512_maskz_loadu_ps(mask(count), p); }
  static void store_first(float* p, Reg v, int count) { _mm512_mask_storeu_ps(p, mask(count), v); }
  // Lanes [lo, hi) of v to p[lo:hi]; the others are neither read nor written.
  static void store_lanes(float* p, Reg v, int lo, int hi) {
    _mm512_mask_storeu_ps(p, (__mmask16)(mask(hi) & ~mask(lo)), v);
  }
  // p[lo:hi] in lanes [lo, hi), zeros elsewhere; the others are not read.
  static Reg load_lanes(const float* p, int lo, int hi) {
    return _mm512_maskz_loadu_ps((__mmask16)(mask(hi) & ~mask(lo)), p);
  }

  // r[i] lane j -> r[j] lane i: 4 x 4 transposes within 128-bit lanes (u[4g + c] then holds, in
  // lane l, rows 4g..4g+3 of column 4l + c), then shuffles of whole 128-bit lanes.
  static void transpose(Reg (&r)[kWidth]) {
    Reg t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int g = 0; g < 16; g += 4) {
      u[g + 0] = _mm512_shuffle_ps(t[g], t[g + 2], 0x44);
      u[g + 1] = _mm512_shuffle_ps(t[g], t[g + 2], 0xEE);
      u[g + 2] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0x44);
      u[g + 3] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
    }
    for (int c = 0; c < 4; ++c) {
      const Reg v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
      const Reg v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
      const Reg w0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
      const Reg w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
      r[c] = _mm512_shuffle_f32x4(v0, w0, 0x88);
      r[4 + c] = _mm512_shuffle_f32x4(v1, w1, 0x88);
      r[8 + c] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
      r[12 + c] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
    }
  }
};

struct VecF64 {
  using Scalar = double;
  using Reg = __m512d;
  static constexpr int kWidth = 8;
  static Reg zero() { return _mm512_setzero_pd(); }
  static Reg load(const double* p) { return _mm512_load_pd(p); }
  static Reg loadu(const double* p) { return _mm512_loadu_pd(p); }
  static void storeu(double* p, Reg v) { _mm512_storeu_pd(p, v); }
  static Reg broadcast(const double* p) { return _mm512_set1_pd(*p); }
  static Reg fmadd(Reg x, Reg y, Reg acc) { return _mm512_fmadd_pd(x, y, acc); }
  static Reg add(Reg x, Reg y) { return _mm512_add_pd(x, y); }
  static __mmask8 mask(int count) { return (__mmask8)((1u << count) - 1); }
  static Reg load_first(const double* p, int count) { return _mm512_maskz_loadu_pd(mask(count), p); }
  static void store_first(double* p, Reg v, int count) { _mm512_mask_storeu_pd(p, mask(count), v); }
  static void store_lanes(double* p, Reg v, int lo, int hi) {
    _mm512_mask_storeu_pd(p, (__mmask8)(mask(hi) & ~mask(lo)), v);
  }
  static Reg load_lanes(const double* p, int lo, int hi) {
    return _mm512_maskz_loadu_pd((__mmask8)(mask(hi) & ~mask(lo)), p);
  }

  // As for floats: t[2i + c] holds, in 128-bit lane l, rows 2i, 2i + 1 of column 2l + c.
  static void transpose(Reg (&r)[kWidth]) {
    Reg t[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]);
    }
    for (int c = 0; c < 2; ++c) {
      const Reg v0 = _mm512_shuffle_f64x2(t[c], t[2 + c], 0x88);
      const Reg v1 = _mm512_shuffle_f64x2(t[c], t[2 + c], 0xDD);
      const Reg w0 = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0x88);
      const Reg w1 = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0xDD);
      r[c] = _mm512_shuffle_f64x2(v0, w0, 0x88);
      r[2 + c] = _mm512_shuffle_f64x2(v1, w1, 0x88);
      r[4 + c] = _mm512_shuffle_f64x2(v0, w0, 0xDD);
      r[6 + c] = _mm512_shuffle_f64x2(v1, w1, 0xDD);
    }
  }
};

// Register tile MR x NR: 14 x 2 accumulators + 2 weight vectors + 1 broadcast = 31 of 32 zmm, as
// in the GEMM's micro-kernel; kMR2 and kMR3 are shorter tiles for rows that 14 would pad (see
// direct() and weight_grad()).
template <class T>
struct Blocking;
template <>
struct Blocking<float> {
  using Vec = VecF32;
  static constexpr int kMR = 14, kMR2 = 8, kMR3 = 9, kNR = 32;
};
template <>
struct Blocking<double> {
  using Vec = VecF64;
  static constexpr int kMR = 14, kMR2 = 8, kMR3 = 9, kNR = 16;
};

// Channels first: 8 output channels x 3 vectors of pixels = 24 accumulators + 3 input vectors + 1
// broadcast; 8 rows divide the usual channel counts, and 48 pixels per tile load 3 vectors of
// input for every 8 broadcasts of weights.
template <class T>
struct BlockingNchw;
template <>
struct BlockingNchw<float> {
  using Vec = VecF32;
  static constexpr int kMR = 8, kNR = 48;
};
template <>
struct BlockingNchw<double> {
  using Vec = VecF64;
  static constexpr int kMR = 8, kNR = 24;
};

}  // namespace
}  // namespace cpu
}  // namespace ember

#define EMBER_CONV_ISA avx512
#include "cpu/conv_direct_kernels.inc"
#include "cpu/conv_direct_nchw_kernels.inc"

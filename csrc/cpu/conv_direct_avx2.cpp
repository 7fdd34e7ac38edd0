// Direct channels-last convolution for CPUs with AVX2 + FMA (compiled with -mavx2 -mfma): the
// vector operations and tile sizes; the algorithm is in conv_direct_kernels.inc.
// Includes no C++ library headers: see the note at the top of conv_direct.h.
#include <immintrin.h>

#include <cstdint>

#include "cpu/conv_direct.h"

namespace ember {
namespace cpu {
namespace {

// As in conv_direct_avx512.cpp; AVX2 masks are vectors of lanes.
struct VecF32 {
  using Scalar = float;
  using Reg = __m256;
  static constexpr int kWidth = 8;
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg load(const float* p) { return _mm256_load_ps(p); }
  static Reg loadu(const float* p) { return _mm256_loadu_ps(p); }
  static void storeu(float* p, Reg v) { _mm256_storeu_ps(p, v); }
  static Reg broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static Reg fmadd(Reg x, Reg y, Reg acc) { return _mm256_fmadd_ps(x, y, acc); }
  static Reg add(Reg x, Reg y) { return _mm256_add_ps(x, y); }
  static __m256i mask(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Reg load_first(const float* p, int count) { return _mm256_maskload_ps(p, mask(count)); }
  static void store_first(float* p, Reg v, int count) { _mm256_maskstore_ps(p, mask(count), v); }
  // Lanes [lo, hi) of v to p[lo:hi]; the others are neither read nor written.
  static void store_lanes(float* p, Reg v, int lo, int hi) {
    _mm256_maskstore_ps(p, _mm256_andnot_si256(mask(lo), mask(hi)), v);
  }
  // p[lo:hi] in lanes [lo, hi), zeros elsewhere; the others are not read.
  static Reg load_lanes(const float* p, int lo, int hi) {
    return _mm256_maskload_ps(p, _mm256_andnot_si256(mask(lo), mask(hi)));
  }

  // r[i] lane j -> r[j] lane i: 4 x 4 transposes within 128-bit lanes, then the halves swapped.
  static void transpose(Reg (&r)[kWidth]) {
    Reg t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int g = 0; g < 8; g += 4) {
      u[g + 0] = _mm256_shuffle_ps(t[g], t[g + 2], 0x44);
      u[g + 1] = _mm256_shuffle_ps(t[g], t[g + 2], 0xEE);
      u[g + 2] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0x44);
      u[g + 3] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
    }
    for (int c = 0; c < 4; ++c) {
      r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
      r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
  }
};

struct VecF64 {
  using Scalar = double;
  using Reg = __m256d;
  static constexpr int kWidth = 4;
  static Reg zero() { return _mm256_setzero_pd(); }
  static Reg load(const double* p) { return _mm256_load_pd(p); }
  static Reg loadu(const double* p) { return _mm256_loadu_pd(p); }
  static void storeu(double* p, Reg v) { _mm256_storeu_pd(p, v); }
  static Reg broadcast(const double* p) { return _mm256_broadcast_sd(p); }
  static Reg fmadd(Reg x, Reg y, Reg acc) { return _mm256_fmadd_pd(x, y, acc); }
  static Reg add(Reg x, Reg y) { return _mm256_add_pd(x, y); }
  static __m256i mask(int count) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static Reg load_first(const double* p, int count) { return _mm256_maskload_pd(p, mask(count)); }
  static void store_first(double* p, Reg v, int count) { _mm256_maskstore_pd(p, mask(count), v); }
  static void store_lanes(double* p, Reg v, int lo, int hi) {
    _mm256_maskstore_pd(p, _mm256_andnot_si256(mask(lo), mask(hi)), v);
  }
  static Reg load_lanes(const double* p, int lo, int hi) {
    return _mm256_maskload_pd(p, _mm256_andnot_si256(mask(lo), mask(hi)));
  }

  static void transpose(Reg (&r)[kWidth]) {
    const Reg t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    const Reg t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
  }
};

// Register tile MR x NR: 6 x 2 accumulators + 2 weight vectors + 1 broadcast = 15 of 16 ymm, as
// in the GEMM's micro-kernel; kMR2 and kMR3 are shorter tiles for rows that 6 would pad (see
// direct() and weight_grad()).
template <class T>
struct Blocking;
template <>
struct Blocking<float> {
  using Vec = VecF32;
  static constexpr int kMR = 6, kMR2 = 4, kMR3 = 5, kNR = 16;
};
template <>
struct Blocking<double> {
  using Vec = VecF64;
  static constexpr int kMR = 6, kMR2 = 4, kMR3 = 5, kNR = 8;
};

// Channels first: 6 output channels x 2 vectors of pixels, as the channels-last tile.
template <class T>
struct BlockingNchw;
template <>
struct BlockingNchw<float> {
  using Vec = VecF32;
  static constexpr int kMR = 6, kNR = 16;
};
template <>
struct BlockingNchw<double> {
  using Vec = VecF64;
  static constexpr int kMR = 6, kNR = 8;
};

}  // namespace
}  // namespace cpu
}  // namespace ember

#define EMBER_CONV_ISA avx2
#include "cpu/conv_direct_kernels.inc"
#include "cpu/conv_direct_nchw_kernels.inc"

// GEMM for CPUs with AVX-512 F/BW/DQ/VL (this file is compiled with those flags): the vector
// operations and block sizes for 512-bit registers; the algorithm is in gemm_kernels.inc.
// Includes no C++ library headers: see the note at the top of gemm.h.
#include <immintrin.h>

#include <cstdint>

#include "cpu/gemm.h"

// GCC 12 flags the deliberately undefined pass-through operand inside its own AVX-512 shuffle
// intrinsics (`__m512 __Y = __Y;`) as maybe-uninitialized wherever they are inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace ember {
namespace cpu {
namespace {

// What the kernels need of a vector of floats: loads (aligned ones only from packed panels),
// broadcast, FMA, masked access to the first `count` lanes (0 < count < kWidth; masked-off lanes
// are neither read nor written), and an in-register transpose of kWidth rows for packing A.
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
  // max(x, y) is y when either is NaN: max(zero(), c) keeps a NaN c.
  static Reg max(Reg x, Reg y) { return _mm512_max_ps(x, y); }
  static __mmask16 mask(int count) { return (__mmask16)((1u << count) - 1); }
  static Reg load_first(const float* p, int count) { return _mm512_maskz_loadu_ps(mask(count), p); }
  static void store_first(float* p, Reg v, int count) { _mm512_mask_storeu_ps(p, mask(count), v); }

  // r[i] lane j -> r[j] lane i. After the in-lane 4 x 4 steps, u[4g + c] holds in 128-bit lane l
  // rows 4g..4g+3 of column 4l + c; the lane shuffles then gather lane l of u[c], u[4+c], u[8+c],
  // u[12+c] into column 4l + c.
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

  // r[q] lane i = src[i * ld + q] for rows i < `rows`, zero for the rest: the load and transpose of
  // packing. The 4 x 4 blocks are gathered by 128-bit loads into the lanes where the transpose
  // needs them, leaving two in-lane shuffle steps of the four: half the shuffles of load +
  // transpose(), which all compete for one port (measured on packing 256 x 256 from rows of 784:
  // 10.3 -> 5.8 us).
  static void load_transposed(const float* src, int64_t ld, int rows, Reg (&r)[kWidth]) {
    Reg x[16];  // x[4b + a] lane l: row 4l + a, columns 4b .. 4b + 3
    for (int b = 0; b < 4; ++b) {
      for (int a = 0; a < 4; ++a) {
        const float* p = src + a * ld + 4 * b;
        Reg v = a < rows ? _mm512_zextps128_ps512(_mm_loadu_ps(p)) : zero();
        if (4 + a < rows) v = _mm512_insertf32x4(v, _mm_loadu_ps(p + 4 * ld), 1);
        if (8 + a < rows) v = _mm512_insertf32x4(v, _mm_loadu_ps(p + 8 * ld), 2);
        if (12 + a < rows) v = _mm512_insertf32x4(v, _mm_loadu_ps(p + 12 * ld), 3);
        x[4 * b + a] = v;
      }
    }
    for (int b = 0; b < 4; ++b) {
      const Reg t0 = _mm512_unpacklo_ps(x[4 * b], x[4 * b + 1]);
      const Reg t1 = _mm512_unpackhi_ps(x[4 * b], x[4 * b + 1]);
      const Reg t2 = _mm512_unpacklo_ps(x[4 * b + 2], x[4 * b + 3]);
      const Reg t3 = _mm512_unpackhi_ps(x[4 * b + 2], x[4 * b + 3]);
      r[4 * b + 0] = _mm512_shuffle_ps(t0, t2, 0x44);
      r[4 * b + 1] = _mm512_shuffle_ps(t0, t2, 0xEE);
      r[4 * b + 2] = _mm512_shuffle_ps(t1, t3, 0x44);
      r[4 * b + 3] = _mm512_shuffle_ps(t1, t3, 0xEE);
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
  // max(x, y) is y when either is NaN: max(zero(), c) keeps a NaN c.
  static Reg max(Reg x, Reg y) { return _mm512_max_pd(x, y); }
  static __mmask8 mask(int count) { return (__mmask8)((1u << count) - 1); }
  static Reg load_first(const double* p, int count) {
    return _mm512_maskz_loadu_pd(mask(count), p);
  }
  static void store_first(double* p, Reg v, int count) { _mm512_mask_storeu_pd(p, mask(count), v); }

  // As for floats: t[2i + c] holds in 128-bit lane l rows 2i, 2i+1 of column 2l + c.
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

// Register block MR x NR: 14 x 2 accumulators + 2 B vectors + 1 broadcast = 31 of 32 zmm.
// KC = 256 keeps the KC x NR panel of B (32 KiB for f32) in a 48 KiB L1; MC x KC of A (504 KiB
// for f32, 336 KiB for f64) sits in L2; MC and NC measured at n = 512..2048. Products up to
// kDirectMaxMacs use the direct kernel (8 row pointers); measured on square products, packing
// pays off from between 160 and 192.
template <class T>
struct Blocking;
template <>
struct Blocking<float> {
  using Vec = VecF32;
  static constexpr int kMR = 14, kNR = 32;
  static constexpr int64_t kKC = 256, kMC = 14 * 36, kNC = 2048;
  static constexpr int kDirectMR = 8;
  static constexpr int64_t kDirectMaxMacs = 160 * 160 * 160;
};
template <>
struct Blocking<double> {
  using Vec = VecF64;
  static constexpr int kMR = 14, kNR = 16;
  static constexpr int64_t kKC = 256, kMC = 14 * 12, kNC = 2048;
  static constexpr int kDirectMR = 8;
  static constexpr int64_t kDirectMaxMacs = 160 * 160 * 160;
};

}  // namespace
}  // namespace cpu
}  // namespace ember

#define EMBER_GEMM_ISA avx512
#define EMBER_GEMM_SIMD 1
#include "cpu/gemm_kernels.inc"

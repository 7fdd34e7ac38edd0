// Portable GEMM for the x86-64 baseline (and any other CPU): plain C++ loops that the compiler
// vectorises as far as the baseline allows. It is the fallback and the reference the SIMD paths are
// tested against; the algorithm is in gemm_kernels.inc.
#include <cstdint>

#include "cpu/gemm.h"

namespace ember {
namespace cpu {
namespace {

// A 4 x 8 (f32) or 4 x 4 (f64) tile is 8 SSE registers of accumulators, half the register file.
template <class T>
struct Blocking;
template <>
struct Blocking<float> {
  static constexpr int kMR = 4, kNR = 8;
  static constexpr int64_t kKC = 256, kMC = 4 * 32, kNC = 2048;
};
template <>
struct Blocking<double> {
  static constexpr int kMR = 4, kNR = 4;
  static constexpr int64_t kKC = 256, kMC = 4 * 24, kNC = 2048;
};

}  // namespace
}  // namespace cpu
}  // namespace ember

#define EMBER_GEMM_ISA generic
#define EMBER_GEMM_SIMD 0
#include "cpu/gemm_kernels.inc"

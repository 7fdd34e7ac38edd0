// The GEMM of the CPU capability, as a table read once (the capability never changes): matmul,
// linear and the convolution paths call through it.
#pragma once
#include <cstdint>

#include "core/cpu_features.h"
#include "cpu/gemm.h"

namespace ember {
namespace cpu {

template <class T>
struct Gemm {
  void (*run)(int64_t m, int64_t n, int64_t k, const T* a, int64_t rsa, int64_t csa, const T* b,
              int64_t rsb, int64_t csb, T* c, int64_t rsc, int64_t csc, int accumulate,
              void* workspace, int thread_id, int n_threads, const GemmEpilogue* epilogue);
  int64_t (*workspace_bytes)(int64_t m, int64_t n, int64_t k);
};

template <class T>
Gemm<T> select_gemm();
template <>
inline Gemm<float> select_gemm<float>() {
  switch (cpu_capability()) {
    case CpuCapability::AVX512: return {gemm_f32_avx512, gemm_f32_workspace_bytes_avx512};
    case CpuCapability::AVX2: return {gemm_f32_avx2, gemm_f32_workspace_bytes_avx2};
    default: return {gemm_f32_generic, gemm_f32_workspace_bytes_generic};
  }
}
template <>
inline Gemm<double> select_gemm<double>() {
  switch (cpu_capability()) {
    case CpuCapability::AVX512: return {gemm_f64_avx512, gemm_f64_workspace_bytes_avx512};
    case CpuCapability::AVX2: return {gemm_f64_avx2, gemm_f64_workspace_bytes_avx2};
    default: return {gemm_f64_generic, gemm_f64_workspace_bytes_generic};
  }
}
template <class T>
const Gemm<T>& gemm_kernel() {
  static const Gemm<T> kernel = select_gemm<T>();
  return kernel;
}

}  // namespace cpu
}  // namespace ember

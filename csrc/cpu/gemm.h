// Single-precision and double-precision GEMM, one entry set per instruction set:
//
//   C(m x n) = A(m x k) @ B(k x n)            (accumulate == 0)
//   C(m x n) = A(m x k) @ B(k x n) + C        (accumulate != 0)
//
// and, with an epilogue, every element of C once final becomes activation(C + bias) (see
// GemmEpilogue). Element (i, j) of X lives at X[i * rs + j * cs]. Any strides work: a transposed operand is the
// same memory with its strides swapped, and packing reads it either way, so callers never copy.
// C must not overlap A or B.
//
// Threading: the work is cut into n_threads disjoint blocks of C; a call computes block thread_id
// on the calling thread and never synchronises, so the caller either runs it from every thread of
// an OpenMP parallel region (thread_id = omp_get_thread_num()) or calls it with n_threads = 1.
//
// Scratch: each concurrent call needs its own 64-byte aligned workspace of at least
// gemm_<dtype>_workspace_bytes_<isa>(m, n, k) bytes (the packed panels of A and B).
//
// This header stays plain C declarations on purpose: it is included by translation units compiled
// for AVX2 and AVX-512, which must not instantiate shared inline code.
#pragma once
#include <cstdint>

#include "cpu/elementwise_kernels.h"

namespace ember {
namespace cpu {

// What happens to an element of C once its sum is complete, in this order (the order of the
// unfused composition, so results are the same to the bit):
//   c += bias      bias (the GEMM's dtype, contiguous) indexed by column j, or by row i when
//                  bias_per_row; none when null
//   c = max(c, 0)  when relu (NaN stays NaN), in registers before the store
//   c = act(c)     when activation is set: an elementwise row kernel (out, x) run in place, with
//                  params, on each finished block of C while it is still in cache
struct GemmEpilogue {
  const void* bias;
  int bias_per_row;
  int relu;
  RowKernel activation;
  OpParams* params;
};

int64_t gemm_f32_workspace_bytes_generic(int64_t m, int64_t n, int64_t k);
int64_t gemm_f64_workspace_bytes_generic(int64_t m, int64_t n, int64_t k);
void gemm_f32_generic(int64_t m, int64_t n, int64_t k, const float* a, int64_t rsa, int64_t csa,
                      const float* b, int64_t rsb, int64_t csb, float* c, int64_t rsc, int64_t csc,
                      int accumulate, void* workspace, int thread_id, int n_threads,
                     const GemmEpilogue* epilogue);
void gemm_f64_generic(int64_t m, int64_t n, int64_t k, const double* a, int64_t rsa, int64_t csa,
                      const double* b, int64_t rsb, int64_t csb, double* c, int64_t rsc,
                      int64_t csc, int accumulate, void* workspace, int thread_id, int n_threads,
                     const GemmEpilogue* epilogue);

int64_t gemm_f32_workspace_bytes_avx2(int64_t m, int64_t n, int64_t k);
int64_t gemm_f64_workspace_bytes_avx2(int64_t m, int64_t n, int64_t k);
void gemm_f32_avx2(int64_t m, int64_t n, int64_t k, const float* a, int64_t rsa, int64_t csa,
                   const float* b, int64_t rsb, int64_t csb, float* c, int64_t rsc, int64_t csc,
                   int accumulate, void* workspace, int thread_id, int n_threads,
                     const GemmEpilogue* epilogue);
void gemm_f64_avx2(int64_t m, int64_t n, int64_t k, const double* a, int64_t rsa, int64_t csa,
                   const double* b, int64_t rsb, int64_t csb, double* c, int64_t rsc, int64_t csc,
                   int accumulate, void* workspace, int thread_id, int n_threads,
                     const GemmEpilogue* epilogue);

int64_t gemm_f32_workspace_bytes_avx512(int64_t m, int64_t n, int64_t k);
int64_t gemm_f64_workspace_bytes_avx512(int64_t m, int64_t n, int64_t k);
void gemm_f32_avx512(int64_t m, int64_t n, int64_t k, const float* a, int64_t rsa, int64_t csa,
                     const float* b, int64_t rsb, int64_t csb, float* c, int64_t rsc, int64_t csc,
                     int accumulate, void* workspace, int thread_id, int n_threads,
                     const GemmEpilogue* epilogue);
void gemm_f64_avx512(int64_t m, int64_t n, int64_t k, const double* a, int64_t rsa, int64_t csa,
                     const double* b, int64_t rsb, int64_t csb, double* c, int64_t rsc,
                     int64_t csc, int accumulate, void* workspace, int thread_id, int n_threads,
                     const GemmEpilogue* epilogue);

}  // namespace cpu
}  // namespace ember

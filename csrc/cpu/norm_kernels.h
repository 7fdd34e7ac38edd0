// The contract between norm.cpp (checks, layouts, statistics, threading) and the per-ISA kernel
// units of the normalization layers (norm_{generic,avx2,avx512}.cpp, all from norm_kernels.inc).
// Declarations and plain data only: the ISA units include this file.
//
// Two shapes of work. A "row" kernel sees n contiguous values that share one set of statistics (an
// (n, c) plane of an NCHW batch norm input, a row of a layer norm input). A "columns" kernel sees a
// contiguous (rows, cols) block whose columns each have their own statistics (the channels of a
// channels-last batch norm input), given as arrays of `cols` values. Means arrive split as
// mean_hi + mean_lo (ops/norm_math.h). Sums accumulate in double and are added to what the output
// arrays already hold, so that callers can run a kernel block by block. Kernels never throw (they
// run inside OpenMP regions).
#pragma once
#include <stdint.h>

namespace ember {

template <class T>
struct NormKernelSet {
  // sums[0] += sum (x - shift), sums[1] += sum (x - shift)^2 over x[0, n).
  void (*moments_row)(const T* x, int64_t n, double shift, double* sums);
  // For every column c: s1[c] += sum_r (x[r, c] - shift[c]), s2[c] += sum_r (x[r, c] - shift[c])^2.
  void (*moments_columns)(const T* x, int64_t rows, int64_t cols, const double* shift, double* s1, double* s2);

  // y = batch_norm_fwd(x, mean, scale, shift) with one set of coefficients for the row.
  void (*batch_norm_row)(const T* x, T* y, int64_t n, T mean_hi, T mean_lo, T scale, T shift);
  // The same with coefficients per column.
  void (*batch_norm_columns)(const T* x, T* y, int64_t rows, int64_t cols, const T* mean_hi, const T* mean_lo,
                             const T* scale, const T* shift);
  // y[i] = layer_norm_fwd(x[i], mean, rstd, weight[i], bias[i]); a null weight is 1, a null bias 0.
  void (*layer_norm_row)(const T* x, T* y, int64_t n, T mean_hi, T mean_lo, T rstd, const T* weight,
                         const T* bias);

  // With g = dy * weight[i] (dy where weight is null): sums[0] += sum g, sums[1] += sum g (x - mean).
  void (*grad_moments_row)(const T* dy, const T* x, const T* weight, int64_t n, T mean_hi, T mean_lo,
                           double* sums);
  // For every column c: sum_dy[c] += sum_r dy[r, c], sum_dy_xmu[c] += sum_r dy[r, c] (x[r, c] - mean[c]).
  void (*grad_moments_columns)(const T* dy, const T* x, int64_t rows, int64_t cols, const T* mean_hi,
                               const T* mean_lo, double* sum_dy, double* sum_dy_xmu);
  // dx[i] = norm_input_grad(g, x[i] - mean, mean_g, proj, scale), g as in grad_moments_row.
  void (*input_grad_row)(const T* dy, const T* x, const T* weight, T* dx, int64_t n, T mean_hi, T mean_lo,
                         T mean_g, T proj, T scale);
  // The same with coefficients per column (no weight: batch norm folds it into scale).
  void (*input_grad_columns)(const T* dy, const T* x, T* dx, int64_t rows, int64_t cols, const T* mean_hi,
                             const T* mean_lo, const T* mean_dy, const T* proj, const T* scale);
  // Layer norm's parameter gradients from one row: grad_weight[i] += dy[i] (x[i] - mean) rstd,
  // grad_bias[i] += dy[i]; either output may be null (not asked for).
  void (*affine_grad_row)(const T* dy, const T* x, int64_t n, T mean_hi, T mean_lo, T rstd, double* grad_weight,
                          double* grad_bias);
};

struct NormKernels {
  NormKernelSet<float> f32;
  NormKernelSet<double> f64;
};

namespace generic { void fill_norm_kernels(NormKernels* table); }
namespace avx2 { void fill_norm_kernels(NormKernels* table); }
namespace avx512 { void fill_norm_kernels(NormKernels* table); }

}  // namespace ember

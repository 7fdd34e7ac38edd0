// Formulas of the normalization layers (batch norm, layer norm), each written once: the CPU kernels
// of every ISA (cpu/norm_kernels.inc), the launchers (cpu/norm.cpp) and a CUDA twin call these.
//
// Statistics are kept in double. A mean is handed to the per-element formulas as two values of the
// element type, mean_hi + mean_lo (mean_lo = 0 in float64), so that x - mean is as accurate in
// float32 as x itself even when the mean is large against the spread (values around 1000 with std
// 1 lose nothing in `centered`, where a float32 mean would be off by 3e-5).
//
// Same rules as scalar_math.h: static inline functions of C headers only (per-ISA units include
// this file).
#pragma once
#include <math.h>
#include <stdint.h>

#include "ops/scalar_math.h"

namespace ember {

// ---- statistics (double) ----------------------------------------------------------------------------

// Sums of d = x - shift over n values: s1 = sum d, s2 = sum d^2. The shift is a value of the data (its
// first element), so d is small against x and s2 - s1^2 / n does not cancel; when the shift lies far
// from the mean anyway (an outlier first element), `moments_need_second_pass` asks for the sums again
// around the mean itself.
struct ShiftedSums {
  double s1, s2;
};

// mean = shift + s1 / n.
EMBER_SCALAR double moments_mean(double shift, ShiftedSums s, double n) { return shift + s.s1 / n; }
// M2 = sum (x - mean)^2 = s2 - s1^2 / n, never negative; NaN (from a NaN or an inf) stays NaN.
EMBER_SCALAR double moments_m2(ShiftedSums s, double n) {
  const double m2 = s.s2 - s.s1 * (s.s1 / n);
  return m2 < 0 ? 0 : m2;
}
// True when s1^2 / n is more than 15 times M2, i.e. the shift is more than ~4 standard deviations from
// the mean: s2 then has lost more than 4 bits to cancellation, which float64 inputs cannot spare.
EMBER_SCALAR bool moments_need_second_pass(ShiftedSums s, double n) {
  return s.s2 > 16.0 * moments_m2(s, n);
}

// 1 / sqrt(var + eps) with the biased variance var = M2 / n.
EMBER_SCALAR double norm_invstd(double var, double eps) { return 1.0 / sqrt(var + eps); }

// PyTorch's running-statistics rule: running <- momentum * batch + (1 - momentum) * running, where
// the batch variance is the unbiased one, M2 / (n - 1).
EMBER_SCALAR double running_stat_update(double running, double batch, double momentum) {
  return momentum * batch + (1.0 - momentum) * running;
}

// mean as hi + lo in the element type (lo is 0 for double).
EMBER_SCALAR void split_mean(double mean, float* hi, float* lo) {
  *hi = (float)mean;
  *lo = (float)(mean - (double)*hi);
}
EMBER_SCALAR void split_mean(double mean, double* hi, double* lo) {
  *hi = mean;
  *lo = 0.0;
}

// ---- per element (element type T) ---------------------------------------------------------------------

// x - mean, from the split mean: x - hi is exact when x is within a factor 2 of hi.
template <class T>
EMBER_SCALAR T centered(T x, T mean_hi, T mean_lo) {
  return (x - mean_hi) - mean_lo;
}

// Batch norm forward: (x - mean) * scale + shift with scale = weight * invstd and shift = bias.
template <class T>
EMBER_SCALAR T batch_norm_fwd(T x, T mean_hi, T mean_lo, T scale, T shift) {
  return centered(x, mean_hi, mean_lo) * scale + shift;
}

// Layer norm forward: (x - mean) * rstd * weight + bias.
template <class T>
EMBER_SCALAR T layer_norm_fwd(T x, T mean_hi, T mean_lo, T rstd, T weight, T bias) {
  return centered(x, mean_hi, mean_lo) * rstd * weight + bias;
}

// Gradient of the input of a normalization that uses its own batch statistics. With g the gradient
// reaching x_hat = (x - mean) * invstd (dy * weight for layer norm, dy for batch norm, whose weight
// goes into `scale`), over the n values sharing one mean:
//   dx = (g - mean(g) - (x - mean) * proj) * scale,  proj = invstd^2 * mean(g * (x - mean)),
// with scale = invstd (layer norm) or invstd * weight (batch norm). (Eval-mode batch norm, whose
// statistics are constants, has dx = dy * scale: batch_norm_fwd with a zero mean and shift.)
template <class T>
EMBER_SCALAR T norm_input_grad(T g, T x_centered, T mean_g, T proj, T scale) {
  return (g - mean_g - x_centered * proj) * scale;
}

}  // namespace ember

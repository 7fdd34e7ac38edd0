// Per-element loss formulas, each written once beside its derivative: the CPU kernels of every ISA
// (cpu/loss_kernels.inc) and a CUDA twin call these. x is the prediction (input), y the target;
// every `_bwd` is d(loss)/dx for one element, to be multiplied by the incoming gradient (and any
// weight). The formulas follow PyTorch's kernels, so that values and gradients agree with
// torch.nn.functional to rounding.
//
// Same rules as scalar_math.h: static inline functions of C headers only (per-ISA units include
// this), and written with math_* calls, select(c, a, b) instead of `c ? a : b`, only < and >
// comparisons, and T(constant), so that the float32 kernels instantiate them with the SIMD vector
// type of cpu/vec_f32.inc. Both sides of a select are evaluated: a discarded lane may hold inf or
// NaN, which is harmless.
#pragma once
#include "ops/scalar_math.h"

namespace ember {

// The elementwise losses, in the order of the CPU kernel tables.
enum class PointwiseLoss : int { Mse, L1, Huber, SmoothL1, BinaryCrossEntropy, BinaryCrossEntropyWithLogits, Count };
constexpr int kPointwiseLossCount = (int)PointwiseLoss::Count;

// ---- regression losses: functions of the difference d = x - y ------------------------------------
template <class T>
EMBER_SCALAR T mse_loss_fwd(T x, T y) {
  const T d = x - y;
  return d * d;
}
template <class T>
EMBER_SCALAR T mse_loss_bwd(T x, T y) {
  return T(2) * (x - y);
}

template <class T>
EMBER_SCALAR T l1_loss_fwd(T x, T y) {
  return math_abs(x - y);
}
// sign(d): 0 at d == 0 (the subgradient PyTorch picks); NaN stays NaN.
template <class T>
EMBER_SCALAR T l1_loss_bwd(T x, T y) {
  const T d = x - y;
  return select(d > T(0), T(1), select(d < T(0), T(-1), d));
}

// Quadratic inside |d| < delta, linear (slope delta) outside; delta > 0.
template <class T>
EMBER_SCALAR T huber_loss_fwd(T x, T y, T delta) {
  const T z = math_abs(x - y);
  return select(z < delta, T(0.5) * z * z, delta * (z - T(0.5) * delta));
}
// d clamped to [-delta, delta]; NaN stays NaN.
template <class T>
EMBER_SCALAR T huber_loss_bwd(T x, T y, T delta) {
  const T d = x - y;
  return select(d < -delta, -delta, select(d > delta, delta, d));
}

// Huber divided by beta: 0.5 d^2 / beta inside |d| < beta, |d| - beta / 2 outside; beta > 0 (beta
// == 0 is the L1 loss, which the callers run instead, as PyTorch does).
template <class T>
EMBER_SCALAR T smooth_l1_loss_fwd(T x, T y, T beta) {
  const T z = math_abs(x - y);
  return select(z < beta, T(0.5) * z * z / beta, z - T(0.5) * beta);
}
template <class T>
EMBER_SCALAR T smooth_l1_loss_bwd(T x, T y, T beta) {
  const T d = x - y;
  return select(d < -beta, T(-1), select(d > beta, T(1), d / beta));
}

// ---- binary classification ------------------------------------------------------------------------
// -(y log x + (1 - y) log(1 - x)) for a probability x in [0, 1]. Each log is clamped at -100, as
// PyTorch does, so x = 0 or 1 gives a large finite loss instead of inf (and 0 * -inf never makes
// NaN).
template <class T>
EMBER_SCALAR T clamped_log(T p) {
  const T l = math_log(p);
  return select(l < T(-100), T(-100), l);
}
template <class T>
EMBER_SCALAR T binary_cross_entropy_fwd(T x, T y) {
  return (y - T(1)) * clamped_log(T(1) - x) - y * clamped_log(x);
}
// (x - y) / (x (1 - x)), its denominator held above PyTorch's epsilon so that x = 0 or 1 stays
// finite. The epsilon is the float 1e-12 in every dtype, as in PyTorch, so float64 agrees exactly.
template <class T>
EMBER_SCALAR T binary_cross_entropy_bwd(T x, T y) {
  const T epsilon = T(1e-12f);
  const T denominator = (T(1) - x) * x;
  return (x - y) / select(denominator > epsilon, denominator, epsilon);
}

// On logits x: (1 - y) x + L softplus(-x) with L = 1 + (pos_weight - 1) y, and
// softplus(-x) = max(-x, 0) + log1p(exp(-|x|)), which never overflows. With pos_weight = 1 it is
// max(x, 0) - x y + log1p(exp(-|x|)).
template <class T>
EMBER_SCALAR T softplus_of_negative(T x) {
  return select(x < T(0), -x, T(0)) + math_log1p(math_exp(-math_abs(x)));
}
template <class T>
EMBER_SCALAR T binary_cross_entropy_with_logits_fwd(T x, T y, T pos_weight) {
  const T log_weight = T(1) + (pos_weight - T(1)) * y;
  return (T(1) - y) * x + log_weight * softplus_of_negative(x);
}
// L sigmoid(x) - pos_weight y (sigmoid(x) - y when pos_weight = 1).
template <class T>
EMBER_SCALAR T binary_cross_entropy_with_logits_bwd(T x, T y, T pos_weight) {
  const T log_weight = T(1) + (pos_weight - T(1)) * y;
  return log_weight * sigmoid_fwd(x) - pos_weight * y;
}

}  // namespace ember

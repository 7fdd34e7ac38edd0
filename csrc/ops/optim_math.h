// Optimizer updates of one element, each written once: the CPU loops of every ISA (and a CUDA
// kernel, when there is one) call these. T is float or double.
//
// The arithmetic follows PyTorch's single-tensor implementations (torch/optim/*.py) operation by
// operation, so that ember and PyTorch agree to the last bit or within an ulp or two:
//   - every hyper-parameter reaches the kernel as the double PyTorch's Python code computes
//     (bias corrections, step sizes, 1 - beta) and is rounded to T once, as PyTorch's kernels do
//     with a Python scalar argument;
//   - each PyTorch tensor op becomes one rounding here, in the same order; the ops that PyTorch's
//     CPU kernels compute with a fused multiply-add (add with alpha, lerp, addcmul) use mul_add,
//     which is a true FMA where the target has one (as in PyTorch's AVX2 / AVX-512 kernels) and a
//     multiply then an add elsewhere (as in its default kernels);
//   - the loops that call these (cpu/optim_kernels.inc) compile with floating-point contraction
//     off, so no other multiply and add fuse behind our back.
// PyTorch's contiguous sqrt goes through MKL on x86, which is not always correctly rounded; ours
// is, so results can differ by an ulp there (and that difference then propagates).
//
// Each update takes the state by reference and hyper-parameters as a *Scalars<T> struct; the
// struct templates double as the host-side (double) description of one tensor's update.
#pragma once
#include <math.h>

#ifdef __CUDACC__
#define EMBER_OPTIM static inline __host__ __device__
#else
#define EMBER_OPTIM static inline
#endif

namespace ember {

// ---- PyTorch's primitive tensor ops, one element each --------------------------------------------

// a * b + c, rounded once where the target has an FMA instruction.
EMBER_OPTIM float mul_add(float a, float b, float c) {
#if defined(__CUDA_ARCH__) || defined(__FMA__)
  return fmaf(a, b, c);
#else
  return a * b + c;
#endif
}
EMBER_OPTIM double mul_add(double a, double b, double c) {
#if defined(__CUDA_ARCH__) || defined(__FMA__)
  return fma(a, b, c);
#else
  return a * b + c;
#endif
}

EMBER_OPTIM float optim_sqrt(float x) { return sqrtf(x); }
EMBER_OPTIM double optim_sqrt(double x) { return sqrt(x); }

// self.add_(other, alpha=alpha)
template <class T>
EMBER_OPTIM T add_scaled(T self, T other, T alpha) {
  return mul_add(other, alpha, self);
}

// self.addcmul_(a, b, value=value)
template <class T>
EMBER_OPTIM T addcmul(T self, T a, T b, T value) {
  return mul_add(value * a, b, self);
}

// self.addcdiv_(a, b, value=value)
template <class T>
EMBER_OPTIM T addcdiv(T self, T a, T b, T value) {
  return self + value * a / b;
}

// self.lerp_(end, weight): PyTorch's formula, exact at weight 0 and at weight 1. Both branches
// are computed and one selected (weight is the same for every element) so that loops vectorise.
template <class T>
EMBER_OPTIM T lerp(T self, T end, T weight) {
  const bool small_weight = (weight < T(0) ? -weight : weight) < T(0.5);
  const T coefficient = small_weight ? weight : weight - T(1);
  const T base = small_weight ? self : end;
  return mul_add(coefficient, end - self, base);
}

// torch.maximum: NaN when either side is NaN.
template <class T>
EMBER_OPTIM T maximum_propagating_nan(T a, T b) {
  return (a != a || a > b) ? a : b;
}

// ---- SGD ---------------------------------------------------------------------------------------
// The buffer of a parameter's first momentum step starts as a copy of its gradient.
template <class T>
struct SgdScalars {
  T lr_neg;               // -lr
  T weight_decay;
  T momentum;
  T one_minus_dampening;  // 1 - dampening
  bool has_weight_decay, has_momentum, nesterov, maximize;
  bool first_step;        // the momentum buffer holds nothing yet
};

template <class T>
EMBER_OPTIM void sgd_update(T& param, T grad, T& momentum_buffer, const SgdScalars<T>& s) {
  if (s.maximize) grad = -grad;
  if (s.has_weight_decay) grad = add_scaled(grad, param, s.weight_decay);
  if (s.has_momentum) {
    T buffer = s.first_step ? grad : add_scaled(momentum_buffer * s.momentum, grad, s.one_minus_dampening);
    momentum_buffer = buffer;
    grad = s.nesterov ? add_scaled(grad, buffer, s.momentum) : buffer;
  }
  param = add_scaled(param, grad, s.lr_neg);
}

// ---- Adam and AdamW ----------------------------------------------------------------------------
template <class T>
struct AdamScalars {
  T weight_decay;          // L2 penalty added to the gradient (Adam)
  T decay_factor;          // 1 - lr * weight_decay, applied to the parameter (AdamW)
  T one_minus_beta1;       // 1 - beta1, the lerp weight of the first moment
  T beta2;
  T one_minus_beta2;
  T bias_correction2_sqrt; // (1 - beta2**step) ** 0.5
  T eps;
  T step_size_neg;         // -lr / (1 - beta1**step)
  bool has_weight_decay, decoupled_weight_decay, amsgrad, maximize;
};

// max_exp_avg_sq is read and written only when amsgrad is set.
template <class T>
EMBER_OPTIM void adam_update(T& param, T grad, T& exp_avg, T& exp_avg_sq, T& max_exp_avg_sq,
                             const AdamScalars<T>& s) {
  if (s.maximize) grad = -grad;
  if (s.has_weight_decay) {
    if (s.decoupled_weight_decay)
      param = param * s.decay_factor;
    else
      grad = add_scaled(grad, param, s.weight_decay);
  }
  exp_avg = lerp(exp_avg, grad, s.one_minus_beta1);
  exp_avg_sq = addcmul(exp_avg_sq * s.beta2, grad, grad, s.one_minus_beta2);
  T second_moment = exp_avg_sq;
  if (s.amsgrad) {
    max_exp_avg_sq = maximum_propagating_nan(max_exp_avg_sq, exp_avg_sq);
    second_moment = max_exp_avg_sq;
  }
  const T denom = optim_sqrt(second_moment) / s.bias_correction2_sqrt + s.eps;
  param = addcdiv(param, exp_avg, denom, s.step_size_neg);
}

// ---- RMSprop -----------------------------------------------------------------------------------
template <class T>
struct RmspropScalars {
  T lr_neg;
  T weight_decay;
  T alpha;
  T one_minus_alpha;
  T eps;
  T momentum;
  bool has_weight_decay, centered, has_momentum, maximize;
};

// grad_avg is used only when centered, momentum_buffer only when has_momentum.
template <class T>
EMBER_OPTIM void rmsprop_update(T& param, T grad, T& square_avg, T& grad_avg, T& momentum_buffer,
                                const RmspropScalars<T>& s) {
  if (s.maximize) grad = -grad;
  if (s.has_weight_decay) grad = add_scaled(grad, param, s.weight_decay);
  square_avg = addcmul(square_avg * s.alpha, grad, grad, s.one_minus_alpha);
  T avg;
  if (s.centered) {
    grad_avg = lerp(grad_avg, grad, s.one_minus_alpha);
    avg = optim_sqrt(addcmul(square_avg, grad_avg, grad_avg, T(-1)));
  } else {
    avg = optim_sqrt(square_avg);
  }
  avg = avg + s.eps;
  if (s.has_momentum) {
    momentum_buffer = addcdiv(momentum_buffer * s.momentum, grad, avg, T(1));
    param = add_scaled(param, momentum_buffer, s.lr_neg);
  } else {
    param = addcdiv(param, grad, avg, s.lr_neg);
  }
}

// ---- Adagrad -----------------------------------------------------------------------------------
template <class T>
struct AdagradScalars {
  T clr_neg;  // -lr / (1 + (step - 1) * lr_decay)
  T weight_decay;
  T eps;
  bool has_weight_decay, maximize;
};

template <class T>
EMBER_OPTIM void adagrad_update(T& param, T grad, T& state_sum, const AdagradScalars<T>& s) {
  if (s.maximize) grad = -grad;
  if (s.has_weight_decay) grad = add_scaled(grad, param, s.weight_decay);
  state_sum = addcmul(state_sum, grad, grad, T(1));
  const T std_dev = optim_sqrt(state_sum) + s.eps;
  param = addcdiv(param, grad, std_dev, s.clr_neg);
}

// ---- host doubles -> T, once per kernel call -------------------------------------------------------
template <class T, class S>
EMBER_OPTIM SgdScalars<T> cast_scalars(const SgdScalars<S>& s) {
  return {(T)s.lr_neg, (T)s.weight_decay, (T)s.momentum, (T)s.one_minus_dampening,
          s.has_weight_decay, s.has_momentum, s.nesterov, s.maximize, s.first_step};
}
template <class T, class S>
EMBER_OPTIM AdamScalars<T> cast_scalars(const AdamScalars<S>& s) {
  return {(T)s.weight_decay, (T)s.decay_factor, (T)s.one_minus_beta1, (T)s.beta2,
          (T)s.one_minus_beta2, (T)s.bias_correction2_sqrt, (T)s.eps, (T)s.step_size_neg,
          s.has_weight_decay, s.decoupled_weight_decay, s.amsgrad, s.maximize};
}
template <class T, class S>
EMBER_OPTIM RmspropScalars<T> cast_scalars(const RmspropScalars<S>& s) {
  return {(T)s.lr_neg, (T)s.weight_decay, (T)s.alpha, (T)s.one_minus_alpha, (T)s.eps, (T)s.momentum,
          s.has_weight_decay, s.centered, s.has_momentum, s.maximize};
}
template <class T, class S>
EMBER_OPTIM AdagradScalars<T> cast_scalars(const AdagradScalars<S>& s) {
  return {(T)s.clr_neg, (T)s.weight_decay, (T)s.eps, s.has_weight_decay, s.maximize};
}

}  // namespace ember

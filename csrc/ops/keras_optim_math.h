// Keras 3's optimizer updates of one element, each written once: the CPU loops of every ISA (and a
// CUDA kernel, when there is one) call these. T is float or double.
//
// Keras's equations differ from PyTorch's (ops/optim_math.h): epsilon sits in other places, the
// SGD momentum buffer holds -lr * g terms, Adagrad starts from a nonzero accumulator, and weight
// decay is always decoupled. The arithmetic follows keras/src/optimizers/*.py op by op, one
// rounding per Keras op (the loops compile with contraction off), with every hyper-parameter
// computed once in double on the host and rounded to T once.
//
// Before the optimizer's own update, every Keras step transforms the gradient and the variable the
// same way (BaseOptimizer._clip_gradients, then _apply_weight_decay):
//   g = clip(g * grad_scale, -clipvalue, clipvalue)   grad_scale from clipnorm / global_clipnorm
//   var = var - var * (weight_decay * lr)
// A step without clipping passes grad_scale 1 and infinite bounds (both exact no-ops); a step
// without weight decay skips it (var * 0 would turn an infinite variable into NaN).
#pragma once
#include "ops/optim_math.h"

namespace ember {

// The gradient transform and weight decay shared by every Keras optimizer.
template <class T>
struct KerasCommonScalars {
  T grad_scale;    // clipnorm / max(norm(g), clipnorm), or the global-norm ratio; 1 without
  T clip_low;      // -clipvalue, or -inf
  T clip_high;     // clipvalue, or inf
  T decay_lr;      // weight_decay * lr
  bool clip, has_weight_decay;
};

// ops.clip: NaN stays NaN (both comparisons are false).
template <class T>
EMBER_OPTIM T clip_value(T x, T low, T high) {
  return x < low ? low : (x > high ? high : x);
}

template <class T>
EMBER_OPTIM T keras_prepare(T& variable, T gradient, const KerasCommonScalars<T>& c) {
  if (c.clip) gradient = clip_value(gradient * c.grad_scale, c.clip_low, c.clip_high);
  if (c.has_weight_decay) variable = variable - variable * c.decay_lr;
  return gradient;
}

// ---- SGD ---------------------------------------------------------------------------------------
//   m = m * momentum - g * lr
//   var += m * momentum - g * lr   (nesterov)   or   var += m
//   var -= g * lr                  (no momentum)
template <class T>
struct KerasSgdScalars {
  KerasCommonScalars<T> common;
  T lr;
  T momentum;
  bool has_momentum, nesterov;
};

template <class T>
EMBER_OPTIM void keras_sgd_update(T& variable, T gradient, T& m, const KerasSgdScalars<T>& s) {
  const T g = keras_prepare(variable, gradient, s.common);
  if (!s.has_momentum) {
    variable = variable - g * s.lr;
    return;
  }
  m = m * s.momentum - g * s.lr;
  variable = s.nesterov ? variable + (m * s.momentum - g * s.lr) : variable + m;
}

// ---- Adam and AdamW ----------------------------------------------------------------------------
//   m += (g - m) * (1 - beta_1);   v += (g^2 - v) * (1 - beta_2)
//   v_hat = max(v_hat, v) with amsgrad, used in place of v below
//   var -= m * alpha / (sqrt(v) + epsilon),   alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
// AdamW is Adam with the common weight decay.
template <class T>
struct KerasAdamScalars {
  KerasCommonScalars<T> common;
  T one_minus_beta1;
  T one_minus_beta2;
  T alpha;
  T epsilon;
  bool amsgrad;
};

template <class T>
EMBER_OPTIM void keras_adam_update(T& variable, T gradient, T& m, T& v, T& v_hat, const KerasAdamScalars<T>& s) {
  const T g = keras_prepare(variable, gradient, s.common);
  m = m + (g - m) * s.one_minus_beta1;
  v = v + (g * g - v) * s.one_minus_beta2;
  T second_moment = v;
  if (s.amsgrad) {
    v_hat = maximum_propagating_nan(v_hat, v);
    second_moment = v_hat;
  }
  variable = variable - (m * s.alpha) / (optim_sqrt(second_moment) + s.epsilon);
}

// ---- RMSprop -----------------------------------------------------------------------------------
//   v = rho * v + (1 - rho) * g^2
//   a = rho * a + (1 - rho) * g,  denominator = v - a^2 + epsilon   (centered)
//                                 denominator = v + epsilon         (otherwise)
//   increment = lr * g / sqrt(denominator)
//   mom = momentum * mom + increment; var -= mom   (momentum > 0)   or   var -= increment
template <class T>
struct KerasRmspropScalars {
  KerasCommonScalars<T> common;
  T lr;
  T rho;
  T one_minus_rho;
  T epsilon;
  T momentum;
  bool centered, has_momentum;
};

// average_gradient is used only when centered, momentum_buffer only when has_momentum.
template <class T>
EMBER_OPTIM void keras_rmsprop_update(T& variable, T gradient, T& velocity, T& average_gradient, T& momentum_buffer,
                                      const KerasRmspropScalars<T>& s) {
  const T g = keras_prepare(variable, gradient, s.common);
  velocity = s.rho * velocity + s.one_minus_rho * (g * g);
  T denominator;
  if (s.centered) {
    average_gradient = s.rho * average_gradient + s.one_minus_rho * g;
    denominator = velocity - average_gradient * average_gradient + s.epsilon;
  } else {
    denominator = velocity + s.epsilon;
  }
  const T increment = (s.lr * g) / optim_sqrt(denominator);
  if (s.has_momentum) {
    momentum_buffer = s.momentum * momentum_buffer + increment;
    variable = variable - momentum_buffer;
  } else {
    variable = variable - increment;
  }
}

// ---- Adagrad -----------------------------------------------------------------------------------
//   accumulator += g^2;   var -= lr * g / sqrt(accumulator + epsilon)
template <class T>
struct KerasAdagradScalars {
  KerasCommonScalars<T> common;
  T lr;
  T epsilon;
};

template <class T>
EMBER_OPTIM void keras_adagrad_update(T& variable, T gradient, T& accumulator, const KerasAdagradScalars<T>& s) {
  const T g = keras_prepare(variable, gradient, s.common);
  accumulator = accumulator + g * g;
  variable = variable - (s.lr * g) / optim_sqrt(accumulator + s.epsilon);
}

// ---- host doubles -> T, once per kernel call -------------------------------------------------------
template <class T, class S>
EMBER_OPTIM KerasCommonScalars<T> cast_scalars(const KerasCommonScalars<S>& c) {
  return {(T)c.grad_scale, (T)c.clip_low, (T)c.clip_high, (T)c.decay_lr, c.clip, c.has_weight_decay};
}
template <class T, class S>
EMBER_OPTIM KerasSgdScalars<T> cast_scalars(const KerasSgdScalars<S>& s) {
  return {cast_scalars<T>(s.common), (T)s.lr, (T)s.momentum, s.has_momentum, s.nesterov};
}
template <class T, class S>
EMBER_OPTIM KerasAdamScalars<T> cast_scalars(const KerasAdamScalars<S>& s) {
  return {cast_scalars<T>(s.common), (T)s.one_minus_beta1, (T)s.one_minus_beta2, (T)s.alpha, (T)s.epsilon,
          s.amsgrad};
}
template <class T, class S>
EMBER_OPTIM KerasRmspropScalars<T> cast_scalars(const KerasRmspropScalars<S>& s) {
  return {cast_scalars<T>(s.common), (T)s.lr,       (T)s.rho,   (T)s.one_minus_rho,
          (T)s.epsilon,              (T)s.momentum, s.centered, s.has_momentum};
}
template <class T, class S>
EMBER_OPTIM KerasAdagradScalars<T> cast_scalars(const KerasAdagradScalars<S>& s) {
  return {cast_scalars<T>(s.common), (T)s.lr, (T)s.epsilon};
}

}  // namespace ember

// Scalar formulas of the recurrent cells, each written once: the per-ISA row kernels of
// cpu/rnn_kernels.inc run them on float32 SIMD vectors (Vec32) and on float64 scalars, and a CUDA
// kernel could call them as they are. Written with select() and T(constant) so that one template
// serves both (see ops/scalar_math.h). Only C headers, everything static inline.
//
// Gates in the cells' canonical order (PyTorch's):
//   Elman RNN  h' = act(W_ih x + b_ih + W_hh h + b_hh)
//   LSTM       i, f, o = rec(.), g = act(.), c' = f c + i g, h' = o act(c')
//   GRU        r, z = rec(.), n = act(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h
// with act = tanh and rec = sigmoid in PyTorch; Keras lets both be chosen, hence the activation
// codes. Every activation's derivative is a function of its output, so backward needs no
// pre-activations.
#pragma once
#include "ops/scalar_math.h"

namespace ember {

// Codes shared by the Python bindings, the driver and the kernels.
enum RnnActivation : int {
  kRnnTanh = 0,
  kRnnSigmoid = 1,
  kRnnRelu = 2,
  kRnnHardSigmoid = 3,  // Keras 3's relu6(x + 3) / 6
  kRnnLinear = 4,
};
constexpr int kRnnActivationCount = 5;

// max(x, 0) with NaN passing through.
template <class T>
EMBER_SCALAR T rnn_relu_fwd(T x) {
  return select(x < T(0), T(0), x);
}

template <class T>
EMBER_SCALAR T hard_sigmoid_fwd(T x) {
  T shifted = x + T(3);
  shifted = select(shifted < T(0), T(0), shifted);
  shifted = select(T(6) < shifted, T(6), shifted);
  return shifted / T(6);
}

template <class T>
EMBER_SCALAR T rnn_activation_fwd(int activation, T x) {
  switch (activation) {
    case kRnnTanh: return tanh_fwd(x);
    case kRnnSigmoid: return sigmoid_fwd(x);
    case kRnnRelu: return rnn_relu_fwd(x);
    case kRnnHardSigmoid: return hard_sigmoid_fwd(x);
    default: return x;
  }
}

// d act / d x at the point whose output is y. relu: 0 at 0 (PyTorch's convention); hard sigmoid:
// 1/6 strictly inside the ramp.
template <class T>
EMBER_SCALAR T rnn_activation_slope(int activation, T y) {
  switch (activation) {
    case kRnnTanh: return T(1) - y * y;
    case kRnnSigmoid: return (T(1) - y) * y;
    case kRnnRelu: return select(T(0) < y, T(1), T(0));
    case kRnnHardSigmoid: return select(T(0) < y, select(y < T(1), T(1) / T(6), T(0)), T(0));
    default: return T(1);
  }
}

// ---- LSTM ----------------------------------------------------------------------------------------
// c' = f c + i g, PyTorch's order of operations.
template <class T>
EMBER_SCALAR T lstm_cell_fwd(T i, T f, T g, T c_prev) {
  return f * c_prev + i * g;
}

// Gradients of one unit given dh (of h' = o act(c')) and dc (of c' from later steps), with
// tc = act(c'): through o, then through c' into i, f, g and c.
template <class T>
struct LstmUnitGrad {
  T di, df, dg, do_, dc_prev;
};
template <class T>
EMBER_SCALAR LstmUnitGrad<T> lstm_cell_bwd(T dh, T dc, T i, T f, T g, T o, T c_prev, T tc, int activation) {
  const T dc_total = dc + dh * o * rnn_activation_slope(activation, tc);
  return {dc_total * g, dc_total * c_prev, dc_total * i, dh * tc, dc_total * f};
}

// ---- GRU -----------------------------------------------------------------------------------------
// h' = (h - n) z + n: PyTorch's form of (1 - z) n + z h.
template <class T>
EMBER_SCALAR T gru_cell_fwd(T z, T n, T h_prev) {
  return (h_prev - n) * z + n;
}

// Gradients of one unit given dh of h', with hn = W_hn h + b_hn (what r multiplied): the
// pre-activation gradients of r, z and n, the gradient reaching hn, and h's direct share z dh.
template <class T>
struct GruUnitGrad {
  T dr_pre, dz_pre, dn_pre, dhn, dh_prev;
};
template <class T>
EMBER_SCALAR GruUnitGrad<T> gru_cell_bwd(T dh, T r, T z, T n, T hn, T h_prev, int activation,
                                         int recurrent_activation) {
  const T dn_pre = dh * (T(1) - z) * rnn_activation_slope(activation, n);
  const T dz_pre = dh * (h_prev - n) * rnn_activation_slope(recurrent_activation, z);
  const T dr_pre = dn_pre * hn * rnn_activation_slope(recurrent_activation, r);
  return {dr_pre, dz_pre, dn_pre, dn_pre * r, dh * z};
}

}  // namespace ember

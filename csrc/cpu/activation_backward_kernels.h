// The contract between the activation-backward driver (activation_backward.cpp, dropout.cpp) and
// the per-ISA kernel units (activation_backward_{generic,avx2,avx512}.cpp). Declarations and plain
// data only: the ISA units include this file, so it must hold no inline function they could share.
//
// The row kernels have the RowKernel signature of elementwise_kernels.h, with three operands:
//   ptrs[0] grad_input (out), ptrs[1] grad (the incoming gradient), ptrs[2] the saved tensor
// all of one float dtype; for dropout the saved tensor is the bool keep-mask (one byte each).
#pragma once
#include <stdint.h>

#include "cpu/elementwise_kernels.h"

namespace ember {

// Which tensor each backward reads beside grad: the forward's output for Relu, Sigmoid and Tanh,
// its input for the others.
enum class BackwardOp : int {
  Relu, Sigmoid, Tanh, LeakyRelu, Elu, Gelu, GeluTanh, Silu, Softplus, Clamp,
  Count
};
constexpr int kBackwardOpCount = (int)BackwardOp::Count;

// OpParams carries the op's numbers: leaky_relu slope, elu alpha, softplus beta and clamp lower
// bound in `alpha`; softplus threshold and clamp upper bound in `beta`; for dropout, alpha is the
// keep probability 1 - p.

// One table per ISA, indexed by (int)DType; only the float32 and float64 entries are set.
struct ActivationBackwardKernels {
  RowKernel backward[kBackwardOpCount][kDTypeCount];  // grad_input, grad, saved
  RowKernel dropout_backward[kDTypeCount];            // grad_input, grad, mask (bool)
};

namespace generic { void fill_activation_backward_kernels(ActivationBackwardKernels* table); }
namespace avx2 { void fill_activation_backward_kernels(ActivationBackwardKernels* table); }
namespace avx512 { void fill_activation_backward_kernels(ActivationBackwardKernels* table); }

}  // namespace ember

// Backward kernels of the activations and dropout on CPU tensors: the entry points the autograd
// layer calls from each op's backward. Each takes the incoming gradient `grad` and the tensor the
// forward saved (its input x, or its output for relu / sigmoid / tanh, or dropout's keep-mask), of
// the same shape, and returns grad_input as a new contiguous tensor of that shape.
#pragma once
#include <optional>
#include <utility>

#include "core/tensor.h"
#include "cpu/activation_backward_kernels.h"
#include "cpu/random.h"

namespace ember {

// The kernel table of the capability in use (cpu_capability()), chosen on first use.
const ActivationBackwardKernels& activation_backward_kernels();

// "relu_backward", ...: the op as the user calls it, for messages.
const char* backward_name(BackwardOp op);

// grad_input = <op>_bwd(grad, saved) elementwise. grad and saved: one float dtype (TypeError
// otherwise, naming both), one shape (ValueError otherwise, naming both); any strides. `params`
// as documented in activation_backward_kernels.h.
Tensor activation_backward(BackwardOp op, const Tensor& grad, const Tensor& saved, OpParams params = {});

// ---- dropout (dropout.cpp) ------------------------------------------------------------------------
// (out, mask): mask a bool tensor of x's shape, each element kept with probability 1 - p, drawn
// from the global Philox stream; out = x * mask / (1 - p) (x * 0 for p == 1). ValueError for p
// outside [0, 1].
// With `stream`, the mask comes from blocks stream.first_block, ... of stream.seed (ceil(numel / 4)
// blocks; the caller advances its own counter) instead of the global stream.
std::pair<Tensor, Tensor> dropout(const Tensor& x, double p, const std::optional<RandomBlocks>& stream = std::nullopt);
// grad * mask / (1 - p) (grad * 0 for p == 1); mask a bool tensor of grad's shape.
Tensor dropout_backward(const Tensor& grad, const Tensor& mask, double p);

}  // namespace ember

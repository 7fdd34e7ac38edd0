// The fully connected layer's forward and backward (see linear.cpp for the shapes).
#pragma once
#include <optional>
#include <string>

#include "core/tensor.h"
#include "cpu/gemm.h"

namespace ember {

// The activations linear fuses into its GEMM's epilogue: those whose derivative is a function of
// the output, so backward needs no pre-activation copy. "" (or "none") is the identity.
enum class LinearActivation { None, Relu, Tanh, Sigmoid };
LinearActivation linear_activation(const std::string& name);  // ValueError for any other name

// The GEMM epilogue (cpu/gemm.h) of `act` for `dtype`: relu in registers, tanh / sigmoid as the
// elementwise row kernel; `bias` (contiguous data of that dtype, or null) added per column, or per
// row with bias_per_row; `params` must outlive the product.
cpu::GemmEpilogue activation_epilogue(LinearActivation act, DType dtype, const void* bias, bool bias_per_row,
                                      OpParams* params);

// activation(x @ W^T + b).
Tensor linear(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias,
              const std::string& activation = "");

struct LinearGrads {
  std::optional<Tensor> input, weight, bias;  // empty where not asked for
};
// With an activation, `output` is the forward's result (the activation's derivative is taken from
// it). With grad_weight, dW is added into that tensor in place (the GEMM accumulates into it, no
// temporary) and returned as the weight gradient.
LinearGrads linear_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, bool need_input,
                            bool need_weight, bool need_bias, const std::string& activation = "",
                            const std::optional<Tensor>& output = std::nullopt,
                            const std::optional<Tensor>& grad_weight = std::nullopt);

}  // namespace ember

// The fully connected layer's forward and backward (see linear.cpp for the shapes).
#pragma once
#include <optional>

#include "core/tensor.h"

namespace ember {

Tensor linear(const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias);

struct LinearGrads {
  std::optional<Tensor> input, weight, bias;  // empty where not asked for
};
LinearGrads linear_backward(const Tensor& grad, const Tensor& x, const Tensor& weight, bool need_input,
                            bool need_weight, bool need_bias);

}  // namespace ember

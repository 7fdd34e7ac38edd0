// Batch norm and layer norm on CPU tensors, forward and backward (see norm.cpp for the shapes).
#pragma once
#include <optional>

#include "core/tensor.h"

namespace ember {

struct BatchNormForward {
  Tensor out;
  Tensor save_mean, save_invstd;  // float64 (C,): the statistics the output was normalised with
};
// Training: batch statistics, and running_mean / running_var (when given) updated in place with
// `momentum`. Eval: the running statistics. channels_last: channels are x's last dim, not dim 1.
BatchNormForward batch_norm(const Tensor& x, const std::optional<Tensor>& weight, const std::optional<Tensor>& bias,
                            const std::optional<Tensor>& running_mean, const std::optional<Tensor>& running_var,
                            bool training, double momentum, double eps, bool channels_last);

struct NormGrads {
  std::optional<Tensor> input, weight, bias;  // empty where not asked for
};
// `training` selects the formula: statistics of the batch (which depend on x) or constants.
NormGrads batch_norm_backward(const Tensor& grad, const Tensor& x, const std::optional<Tensor>& weight,
                              const Tensor& save_mean, const Tensor& save_invstd, bool training, bool channels_last,
                              bool need_input, bool need_weight, bool need_bias);

struct LayerNormForward {
  Tensor out;
  Tensor mean, rstd;  // float64, x's leading dims (those before normalized_shape)
};
LayerNormForward layer_norm(const Tensor& x, const Shape& normalized_shape, const std::optional<Tensor>& weight,
                            const std::optional<Tensor>& bias, double eps);
NormGrads layer_norm_backward(const Tensor& grad, const Tensor& x, const Shape& normalized_shape,
                              const std::optional<Tensor>& weight, const Tensor& mean, const Tensor& rstd,
                              bool need_input, bool need_weight, bool need_bias);

}  // namespace ember

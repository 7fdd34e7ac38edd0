// Loss functions on the CPU: the entry points of softmax_loss.cpp (cross-entropy and NLL over
// classes) and loss.cpp (elementwise losses), each forward beside its backward. Forwards fuse the
// reduction; every backward returns the gradient with respect to the input (logits, log-probabilities
// or predictions) in one kernel.
//
// Shape convention of the class losses (PyTorch's): input (N, C) or (N, C, d1, d2, ...), or (C,) for
// one unbatched sample; class-index targets (N, d1, ...) (or () unbatched), class-probability
// targets the input's shape. A "row" is one (n, d1, ...) position: the C values along dim 1.
#pragma once
#include <optional>
#include <string>
#include <utility>

#include "core/tensor.h"
#include "cpu/loss_kernels.h"

namespace ember {
namespace cpu {

enum class Reduction { None, Mean, Sum };
// 'none' | 'mean' | 'sum'; ValueError naming `op` and the valid values otherwise.
Reduction parse_reduction(const std::string& name, const char* op);

// ---- softmax_loss.cpp ----------------------------------------------------------------------------
// log_softmax + NLL in one kernel. Returns (loss, row_max): the loss (0-d, or one per row with
// reduction None) and the largest logit of each row, which the backward takes to skip a pass.
std::pair<Tensor, Tensor> cross_entropy(const Tensor& logits, const Tensor& target, const std::optional<Tensor>& weight,
                                        int64_t ignore_index, Reduction reduction, double label_smoothing);
// d(loss)/d(logits) = (softmax - target distribution) * scale, row by row.
Tensor cross_entropy_backward(const Tensor& grad, const Tensor& logits, const Tensor& target, const Tensor& row_max,
                              const std::optional<Tensor>& weight, int64_t ignore_index, Reduction reduction,
                              double label_smoothing);
// -weight[t] * log_probs[t] per row.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, const std::optional<Tensor>& weight,
                int64_t ignore_index, Reduction reduction);
Tensor nll_loss_backward(const Tensor& grad, const Tensor& log_probs, const Tensor& target,
                         const std::optional<Tensor>& weight, int64_t ignore_index, Reduction reduction);

// ---- loss.cpp ------------------------------------------------------------------------------------
// PointwiseLoss (ops/loss_math.h) names the loss.
const char* pointwise_loss_name(PointwiseLoss loss);  // "mse_loss", ...

// One loss per element of broadcast(input, target), optionally times `weight` (broadcast to it),
// reduced. `param` is delta (Huber) or beta (smooth L1); `pos_weight` (BCE with logits) is broadcast
// like weight. The result has the promoted float dtype of input and target.
Tensor pointwise_loss(PointwiseLoss loss, const Tensor& input, const Tensor& target,
                      const std::optional<Tensor>& weight, const std::optional<Tensor>& pos_weight, double param,
                      Reduction reduction);
// d(loss)/d(input) with the broadcast shape of input and target (the caller sums it back to the
// input's shape; for the regression losses d/d(target) is its negation).
Tensor pointwise_loss_backward(PointwiseLoss loss, const Tensor& grad, const Tensor& input, const Tensor& target,
                               const std::optional<Tensor>& weight, const std::optional<Tensor>& pos_weight,
                               double param, Reduction reduction);

}  // namespace cpu
}  // namespace ember

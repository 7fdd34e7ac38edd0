// Embedding lookup and its gradient (see embedding.cpp for the shapes).
#pragma once
#include <optional>

#include "core/tensor.h"

namespace ember {

// weight (N, D), indices (*) int64 / int32 in [0, N) -> (*, D): row indices[i] of weight.
Tensor embedding(const Tensor& weight, const Tensor& indices);

// (N, D): grad's rows added into the rows their ids name; the padding_idx row gets nothing;
// scale_grad_by_freq divides each contribution by how often its id occurs in indices.
Tensor embedding_backward(const Tensor& grad, const Tensor& indices, int64_t num_weights,
                          std::optional<int64_t> padding_idx, bool scale_grad_by_freq);

// In place: every row named by indices whose norm_type-norm exceeds max_norm is scaled down to it.
void embedding_renorm_(const Tensor& weight, const Tensor& indices, double max_norm, double norm_type);

}  // namespace ember

// Optimizer steps over a list of parameters: one call updates every parameter of a group (and its
// state) in place, with PyTorch's update equations. Lists are parallel: element i of each list
// belongs to params[i]. Parameters are float32 or float64 CPU tensors; gradients match them in
// shape, dtype and device (any layout); state buffers match them too and are contiguous. A
// parameter with a non-contiguous layout is updated through a contiguous copy written back.
//
// Step counters are 0-d float32 / float64 tensors, incremented here before the update (as
// PyTorch's `state["step"] += 1`); the bias corrections use the incremented value.
#pragma once
#include <optional>
#include <vector>

#include "core/tensor.h"

namespace ember {

struct SgdOptions {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
};
// momentum_buffers: empty when momentum is 0; otherwise one per parameter, None for a parameter
// whose buffer does not exist yet (its first step fills a new one with the gradient). Returns,
// with momentum, one entry per parameter: its new buffer, or None where one was given.
std::vector<std::optional<Tensor>> sgd_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                             const std::vector<std::optional<Tensor>>& momentum_buffers,
                             const SgdOptions& options);

struct AdamOptions {
  double lr, beta1, beta2, eps, weight_decay;
  bool amsgrad, decoupled_weight_decay, maximize;
};
// max_exp_avg_sqs is read only with amsgrad.
void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
               const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
               const std::vector<Tensor>& max_exp_avg_sqs, const std::vector<Tensor>& steps,
               const AdamOptions& options);

struct RmspropOptions {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered, maximize;
};
// grad_avgs is read only when centered, momentum_buffers only when momentum > 0.
void rmsprop_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                  const std::vector<Tensor>& square_avgs, const std::vector<Tensor>& grad_avgs,
                  const std::vector<Tensor>& momentum_buffers, const std::vector<Tensor>& steps,
                  const RmspropOptions& options);

struct AdagradOptions {
  double lr, lr_decay, weight_decay, eps;
  bool maximize;
};
void adagrad_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                  const std::vector<Tensor>& state_sums, const std::vector<Tensor>& steps,
                  const AdagradOptions& options);

}  // namespace ember

// Optimizer steps on CPU with PyTorch's update equations: argument checks, the per-tensor
// hyper-parameters computed in double (as PyTorch's Python code computes them), and one parallel
// loop over every element of every parameter of the call (optim_common.h). The update loops
// themselves are the per-ISA kernels of optim_kernels.inc.
#include "cpu/optim.h"

#include <cmath>

#include "core/cpu_features.h"
#include "cpu/optim_common.h"
#include "cpu/optim_kernels.h"

namespace ember {

using namespace optim_common;

namespace {

const OptimKernels& optim_kernels() {
  static const OptimKernels table = [] {
    OptimKernels t{};
    switch (cpu_capability()) {
      case CpuCapability::AVX512: avx512::fill_optim_kernels(&t); break;
      case CpuCapability::AVX2: avx2::fill_optim_kernels(&t); break;
      default: generic::fill_optim_kernels(&t); break;
    }
    return t;
  }();
  return table;
}

// ---- checks ----------------------------------------------------------------------------------------

void check_step(const char* optimizer, size_t i, const Tensor& step) {
  EMBER_CHECK(step.numel() == 1 && is_floating(step.dtype) && step.device().is_cpu(), TypeError, optimizer,
              ": the step count of parameter ", i, " must be a one-element float32 or float64 CPU tensor, got ",
              dtype_name(step.dtype), " of shape ", shape_str(step.shape), " on ", step.device().str());
}

// `step += 1` in the counter's own dtype, as PyTorch does; returns the new count.
double increment_step(const Tensor& step) {
  if (step.dtype == DType::Float64) return *step.data<double>() += 1.0;
  return *step.data<float>() += 1.0f;
}

}  // namespace

// ---- SGD -------------------------------------------------------------------------------------------

std::vector<std::optional<Tensor>> sgd_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                                            const std::vector<std::optional<Tensor>>& momentum_buffers,
                                            const SgdOptions& o) {
  const char* name = "SGD";
  const bool has_momentum = o.momentum != 0;
  check_count(name, "gradients", grads.size(), params.size());
  if (has_momentum) check_count(name, "momentum buffers", momentum_buffers.size(), params.size());
  std::vector<Update> updates;
  std::vector<SgdScalars<double>> scalars;
  std::vector<std::optional<Tensor>> created;
  for (size_t i = 0; i < params.size(); ++i) {
    Update u = prepare(name, i, params[i], grads[i]);
    SgdScalars<double> s{-o.lr, o.weight_decay, o.momentum, 1 - o.dampening,
                         o.weight_decay != 0, has_momentum, o.nesterov, o.maximize, false};
    if (has_momentum) {
      const std::optional<Tensor>& given = momentum_buffers[i];
      if (given) check_state(name, i, params[i], *given, "momentum buffer");
      s.first_step = !given;
      created.push_back(given ? std::nullopt
                              : std::optional<Tensor>(empty(params[i].shape, params[i].dtype, params[i].device())));
      u.buffers[2] = data_of(given ? *given : *created.back());
    }
    updates.push_back(std::move(u));
    scalars.push_back(s);
  }
  run_updates(updates, optim_kernels().sgd, scalars);
  return created;
}

// ---- Adam and AdamW --------------------------------------------------------------------------------

void adam_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
               const std::vector<Tensor>& exp_avgs, const std::vector<Tensor>& exp_avg_sqs,
               const std::vector<Tensor>& max_exp_avg_sqs, const std::vector<Tensor>& steps,
               const AdamOptions& o) {
  const char* name = o.decoupled_weight_decay ? "AdamW" : "Adam";
  check_count(name, "gradients", grads.size(), params.size());
  check_count(name, "exp_avg buffers", exp_avgs.size(), params.size());
  check_count(name, "exp_avg_sq buffers", exp_avg_sqs.size(), params.size());
  if (o.amsgrad) check_count(name, "max_exp_avg_sq buffers", max_exp_avg_sqs.size(), params.size());
  check_count(name, "step counts", steps.size(), params.size());
  std::vector<Update> updates;
  for (size_t i = 0; i < params.size(); ++i) {
    Update u = prepare(name, i, params[i], grads[i]);
    check_state(name, i, params[i], exp_avgs[i], "exp_avg");
    check_state(name, i, params[i], exp_avg_sqs[i], "exp_avg_sq");
    u.buffers[2] = data_of(exp_avgs[i]);
    u.buffers[3] = data_of(exp_avg_sqs[i]);
    if (o.amsgrad) {
      check_state(name, i, params[i], max_exp_avg_sqs[i], "max_exp_avg_sq");
      u.buffers[4] = data_of(max_exp_avg_sqs[i]);
    }
    check_step(name, i, steps[i]);
    updates.push_back(std::move(u));
  }
  // Every check passed: only now touch the step counters.
  std::vector<AdamScalars<double>> scalars;
  for (size_t i = 0; i < params.size(); ++i) {
    const double step = increment_step(steps[i]);
    const double bias_correction1 = 1 - std::pow(o.beta1, step);
    const double bias_correction2 = 1 - std::pow(o.beta2, step);
    const double step_size = o.lr / bias_correction1;
    scalars.push_back({o.weight_decay, 1 - o.lr * o.weight_decay, 1 - o.beta1, o.beta2, 1 - o.beta2,
                       std::pow(bias_correction2, 0.5), o.eps, -step_size, o.weight_decay != 0,
                       o.decoupled_weight_decay, o.amsgrad, o.maximize});
  }
  run_updates(updates, optim_kernels().adam, scalars);
}

// ---- RMSprop ---------------------------------------------------------------------------------------

void rmsprop_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                  const std::vector<Tensor>& square_avgs, const std::vector<Tensor>& grad_avgs,
                  const std::vector<Tensor>& momentum_buffers, const std::vector<Tensor>& steps,
                  const RmspropOptions& o) {
  const char* name = "RMSprop";
  const bool has_momentum = o.momentum > 0;
  check_count(name, "gradients", grads.size(), params.size());
  check_count(name, "square_avg buffers", square_avgs.size(), params.size());
  if (o.centered) check_count(name, "grad_avg buffers", grad_avgs.size(), params.size());
  if (has_momentum) check_count(name, "momentum buffers", momentum_buffers.size(), params.size());
  check_count(name, "step counts", steps.size(), params.size());
  std::vector<Update> updates;
  for (size_t i = 0; i < params.size(); ++i) {
    Update u = prepare(name, i, params[i], grads[i]);
    check_state(name, i, params[i], square_avgs[i], "square_avg");
    u.buffers[2] = data_of(square_avgs[i]);
    if (o.centered) {
      check_state(name, i, params[i], grad_avgs[i], "grad_avg");
      u.buffers[3] = data_of(grad_avgs[i]);
    }
    if (has_momentum) {
      check_state(name, i, params[i], momentum_buffers[i], "momentum buffer");
      u.buffers[4] = data_of(momentum_buffers[i]);
    }
    check_step(name, i, steps[i]);
    updates.push_back(std::move(u));
  }
  for (const Tensor& step : steps) increment_step(step);
  const RmspropScalars<double> s{-o.lr,    o.weight_decay, o.alpha,     1 - o.alpha, o.eps,
                                 o.momentum, o.weight_decay != 0, o.centered, has_momentum, o.maximize};
  run_updates(updates, optim_kernels().rmsprop, std::vector<RmspropScalars<double>>(params.size(), s));
}

// ---- Adagrad ---------------------------------------------------------------------------------------

void adagrad_step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                  const std::vector<Tensor>& state_sums, const std::vector<Tensor>& steps,
                  const AdagradOptions& o) {
  const char* name = "Adagrad";
  check_count(name, "gradients", grads.size(), params.size());
  check_count(name, "state sums", state_sums.size(), params.size());
  check_count(name, "step counts", steps.size(), params.size());
  std::vector<Update> updates;
  for (size_t i = 0; i < params.size(); ++i) {
    Update u = prepare(name, i, params[i], grads[i]);
    check_state(name, i, params[i], state_sums[i], "state sum");
    u.buffers[2] = data_of(state_sums[i]);
    check_step(name, i, steps[i]);
    updates.push_back(std::move(u));
  }
  std::vector<AdagradScalars<double>> scalars;
  for (size_t i = 0; i < params.size(); ++i) {
    const double step = increment_step(steps[i]);
    const double clr = o.lr / (1 + (step - 1) * o.lr_decay);
    scalars.push_back({-clr, o.weight_decay, o.eps, o.weight_decay != 0, o.maximize});
  }
  run_updates(updates, optim_kernels().adagrad, scalars);
}

}  // namespace ember

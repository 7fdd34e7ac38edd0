// Optimizer steps on CPU: argument checks, the per-tensor hyper-parameters computed in double (as
// PyTorch's Python code computes them), and one parallel loop over every element of every
// parameter of the call. The update loops themselves are the per-ISA kernels of optim_kernels.inc.
//
// Threading: the parameters' elements are laid end to end and split into chunks of at least
// kOptimGrain elements, so a call with many small tensors (biases) opens one parallel region, not
// one per tensor, and a large tensor is shared by every thread.
#include "cpu/optim.h"

#include <algorithm>
#include <cmath>

#include "core/cpu_features.h"
#include "core/errors.h"
#include "core/parallel.h"
#include "cpu/optim_kernels.h"

namespace ember {
namespace {

constexpr int kMaxOperands = 5;
constexpr int64_t kOptimGrain = 16384;

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

void check_count(const char* optimizer, const char* what, size_t count, size_t n_params) {
  EMBER_CHECK(count == n_params, ValueError, optimizer, ": got ", n_params, " parameters but ", count, " ",
              what, "; pass one per parameter");
}

void check_param(const char* optimizer, size_t i, const Tensor& p) {
  EMBER_CHECK(is_floating(p.dtype), TypeError, optimizer, ": parameter ", i, " (shape ", shape_str(p.shape),
              ") has dtype ", dtype_name(p.dtype), "; optimizers update float32 or float64 tensors");
  EMBER_CHECK(p.device().is_cpu(), RuntimeError, optimizer, ": parameter ", i, " is on ", p.device().str(),
              "; optimizer steps run on the CPU only for now; move the model with .cpu()");
  check_writable(p, optimizer);
}

// A tensor that must match parameter i in shape, dtype and device ("gradient", "exp_avg", ...).
void check_like_param(const char* optimizer, size_t i, const Tensor& p, const Tensor& t, const char* what) {
  EMBER_CHECK(t.shape == p.shape, ValueError, optimizer, ": the ", what, " of parameter ", i, " has shape ",
              shape_str(t.shape), ", but the parameter has shape ", shape_str(p.shape));
  EMBER_CHECK(t.dtype == p.dtype, TypeError, optimizer, ": the ", what, " of parameter ", i, " (shape ",
              shape_str(p.shape), ") has dtype ", dtype_name(t.dtype), ", but the parameter has dtype ",
              dtype_name(p.dtype));
  EMBER_CHECK(t.device() == p.device(), RuntimeError, optimizer, ": the ", what, " of parameter ", i,
              " is on ", t.device().str(), ", but the parameter is on ", p.device().str());
}

void check_state(const char* optimizer, size_t i, const Tensor& p, const Tensor& t, const char* what) {
  check_like_param(optimizer, i, p, t, what);
  EMBER_CHECK(t.is_contiguous(), ValueError, optimizer, ": the ", what, " of parameter ", i, " (shape ",
              shape_str(p.shape), ") is not contiguous; state buffers must be (make one with .contiguous())");
  EMBER_CHECK(t.storage != p.storage, ValueError, optimizer, ": the ", what, " of parameter ", i,
              " shares memory with the parameter; state buffers need memory of their own");
}

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

// ---- the loop over every element of the call -------------------------------------------------------

// One parameter's operands as the kernels take them (see optim_kernels.h): contiguous data.
struct Update {
  Tensor param;   // the parameter itself
  Tensor work;    // what the kernel writes: the parameter, or its contiguous copy
  Tensor grad;    // contiguous
  char* buffers[kMaxOperands] = {};
};

char* data_of(const Tensor& t) { return static_cast<char*>(t.raw_data()); }

Update prepare(const char* optimizer, size_t i, const Tensor& p, const Tensor& g) {
  check_param(optimizer, i, p);
  check_like_param(optimizer, i, p, g, "gradient");
  Update u{p, contiguous(p), contiguous(g)};
  u.buffers[0] = data_of(u.work);
  u.buffers[1] = data_of(u.grad);
  return u;
}

// Runs kernel[dtype](buffers + offset, count, &scalars[k]) over every element of every update,
// then writes back the parameters that were updated through a copy.
template <class Kernel, class Scalars>
void run_updates(const std::vector<Update>& updates, const Kernel (&kernel)[2], const std::vector<Scalars>& scalars) {
  std::vector<int64_t> first(updates.size() + 1, 0);  // first[k]: index of update k's first element
  for (size_t k = 0; k < updates.size(); ++k) first[k + 1] = first[k] + updates[k].param.numel();
  parallel_for(0, first.back(), kOptimGrain, [&](int64_t begin, int64_t end) {
    size_t k = std::upper_bound(first.begin(), first.end(), begin) - first.begin() - 1;
    for (; begin < end; ++k) {
      const int64_t stop = std::min(end, first[k + 1]);
      if (stop == begin) continue;  // an empty tensor
      const Update& u = updates[k];
      const int64_t offset = (begin - first[k]) * itemsize(u.param.dtype);
      char* buffers[kMaxOperands];
      for (int j = 0; j < kMaxOperands; ++j) buffers[j] = u.buffers[j] ? u.buffers[j] + offset : nullptr;
      kernel[u.param.dtype == DType::Float64 ? 1 : 0](buffers, stop - begin, &scalars[k]);
      begin = stop;
    }
  });
  for (const Update& u : updates)
    if (u.work.storage != u.param.storage) copy_(u.param, u.work);
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

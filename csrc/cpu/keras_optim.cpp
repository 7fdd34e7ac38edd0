// Keras optimizer steps on CPU: argument checks, the gradient norms behind clipnorm /
// global_clipnorm, the per-variable hyper-parameters computed in double, and one parallel loop over
// every element of every variable of the call (optim_common.h). The update loops themselves are the
// per-ISA kernels of keras_optim_kernels.inc.
#include "cpu/keras_optim.h"

#include <cmath>
#include <limits>

#include "core/cpu_features.h"
#include "cpu/keras_optim_kernels.h"
#include "cpu/optim_common.h"

namespace ember {

using namespace optim_common;

namespace {

const KerasOptimKernels& keras_optim_kernels() {
  static const KerasOptimKernels table = [] {
    KerasOptimKernels t{};
    switch (cpu_capability()) {
      case CpuCapability::AVX512: avx512::fill_keras_optim_kernels(&t); break;
      case CpuCapability::AVX2: avx2::fill_keras_optim_kernels(&t); break;
      default: generic::fill_keras_optim_kernels(&t); break;
    }
    return t;
  }();
  return table;
}

void check_hyper_parameter(const char* optimizer, const char* name, double value) {
  EMBER_CHECK(std::isfinite(value), ValueError, optimizer, ": ", name, " must be a finite number, got ", value);
}

void check_options(const char* optimizer, double learning_rate, size_t n_variables, const KerasGradientOptions& o) {
  check_hyper_parameter(optimizer, "learning_rate", learning_rate);
  for (int64_t i : o.no_weight_decay)
    EMBER_CHECK(i >= 0 && i < (int64_t)n_variables, IndexError, optimizer, ": no_weight_decay holds index ", i,
                ", but there are ", n_variables, " variables");
  check_hyper_parameter(optimizer, "weight_decay", o.weight_decay);
  check_hyper_parameter(optimizer, "clipnorm", o.clipnorm);
  check_hyper_parameter(optimizer, "clipvalue", o.clipvalue);
  check_hyper_parameter(optimizer, "global_clipnorm", o.global_clipnorm);
}

// ---- gradient norms ------------------------------------------------------------------------------

// The sum of squares of each update's gradient. Gradients are cut into blocks of a fixed size, each
// block summed on some thread, and each gradient's blocks added in order: the result does not
// depend on the thread count.
std::vector<double> gradient_sum_squares(const std::vector<Update>& updates) {
  constexpr int64_t kBlock = 16384;
  struct Block {
    size_t update;
    int64_t begin, count;
  };
  std::vector<Block> blocks;
  for (size_t k = 0; k < updates.size(); ++k) {
    const int64_t n = updates[k].grad.numel();
    for (int64_t begin = 0; begin < n; begin += kBlock) blocks.push_back({k, begin, std::min(kBlock, n - begin)});
  }
  const SumSquaresKernel* kernel = keras_optim_kernels().sum_squares;
  std::vector<double> partial(blocks.size());
  parallel_for(0, (int64_t)blocks.size(), 2, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) {
      const Update& u = updates[blocks[b].update];
      const char* data = u.buffers[1] + blocks[b].begin * itemsize(u.grad.dtype);
      partial[b] = kernel[dtype_index(u.grad)](data, blocks[b].count);
    }
  });
  std::vector<double> sums(updates.size(), 0.0);
  for (size_t b = 0; b < blocks.size(); ++b) sums[blocks[b].update] += partial[b];
  return sums;
}

// The gradient transform of each update (KerasCommonScalars), from the clipping options and the
// weight decay; see keras_optim.h for the order of precedence.
std::vector<KerasCommonScalars<double>> common_scalars(const std::vector<Update>& updates, double learning_rate,
                                                       const KerasGradientOptions& o) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  KerasCommonScalars<double> base{1.0, -inf, inf, o.weight_decay * learning_rate, false, o.weight_decay != 0};
  std::vector<KerasCommonScalars<double>> out(updates.size(), base);
  for (int64_t i : o.no_weight_decay) {
    out[i].has_weight_decay = false;
    out[i].decay_lr = 0;
  }
  if (o.clipnorm > 0) {
    // g * clipnorm / max(norm, clipnorm), as Keras's _clip_by_norm; a NaN norm makes NaN
    const std::vector<double> sums = gradient_sum_squares(updates);
    for (size_t k = 0; k < updates.size(); ++k) {
      const double norm = std::sqrt(sums[k]);
      out[k].grad_scale = std::isnan(norm) ? nan : o.clipnorm / std::max(norm, o.clipnorm);
      out[k].clip = true;
    }
  } else if (o.global_clipnorm > 0) {
    // clip_by_global_norm: clipnorm * min(1 / norm, 1 / clipnorm), NaN when the norm is not finite
    double total = 0;
    for (double s : gradient_sum_squares(updates)) total += s;
    const double norm = std::sqrt(total);
    const double scale = std::isfinite(norm) ? o.global_clipnorm * std::min(1 / norm, 1 / o.global_clipnorm) : nan;
    for (KerasCommonScalars<double>& c : out) {
      c.grad_scale = scale;
      c.clip = true;
    }
  } else if (o.clipvalue > 0) {
    for (KerasCommonScalars<double>& c : out) {
      c.clip_low = -o.clipvalue;
      c.clip_high = o.clipvalue;
      c.clip = true;
    }
  }
  return out;
}

}  // namespace

// ---- SGD -------------------------------------------------------------------------------------------

void keras_sgd_step(const std::vector<Tensor>& variables, const std::vector<Tensor>& grads,
                    const std::vector<Tensor>& momentums, double learning_rate, double momentum, bool nesterov,
                    const KerasGradientOptions& o) {
  const char* name = "keras SGD";
  const bool has_momentum = momentum != 0;
  check_options(name, learning_rate, variables.size(), o);
  check_hyper_parameter(name, "momentum", momentum);
  check_count(name, "gradients", grads.size(), variables.size());
  if (has_momentum) check_count(name, "momentum buffers", momentums.size(), variables.size());
  std::vector<Update> updates;
  for (size_t i = 0; i < variables.size(); ++i) {
    Update u = prepare(name, i, variables[i], grads[i]);
    if (has_momentum) {
      check_state(name, i, variables[i], momentums[i], "momentum buffer");
      u.buffers[2] = data_of(momentums[i]);
    }
    updates.push_back(std::move(u));
  }
  std::vector<KerasSgdScalars<double>> scalars;
  for (const KerasCommonScalars<double>& c : common_scalars(updates, learning_rate, o))
    scalars.push_back({c, learning_rate, momentum, has_momentum, nesterov});
  run_updates(updates, keras_optim_kernels().sgd, scalars);
}

// ---- Adam and AdamW --------------------------------------------------------------------------------

void keras_adam_step(const std::vector<Tensor>& variables, const std::vector<Tensor>& grads,
                     const std::vector<Tensor>& momentums, const std::vector<Tensor>& velocities,
                     const std::vector<Tensor>& velocity_hats, double step, double learning_rate, double beta_1,
                     double beta_2, double epsilon, bool amsgrad, const KerasGradientOptions& o) {
  const char* name = "keras Adam";
  check_options(name, learning_rate, variables.size(), o);
  EMBER_CHECK(step >= 1 && std::isfinite(step), ValueError, name, ": step must be the 1-based number of this "
              "step (iterations + 1), got ", step);
  check_count(name, "gradients", grads.size(), variables.size());
  check_count(name, "momentum buffers", momentums.size(), variables.size());
  check_count(name, "velocity buffers", velocities.size(), variables.size());
  if (amsgrad) check_count(name, "velocity_hat buffers", velocity_hats.size(), variables.size());
  std::vector<Update> updates;
  for (size_t i = 0; i < variables.size(); ++i) {
    Update u = prepare(name, i, variables[i], grads[i]);
    check_state(name, i, variables[i], momentums[i], "momentum buffer");
    check_state(name, i, variables[i], velocities[i], "velocity buffer");
    u.buffers[2] = data_of(momentums[i]);
    u.buffers[3] = data_of(velocities[i]);
    if (amsgrad) {
      check_state(name, i, variables[i], velocity_hats[i], "velocity_hat buffer");
      u.buffers[4] = data_of(velocity_hats[i]);
    }
    updates.push_back(std::move(u));
  }
  const double alpha = learning_rate * std::sqrt(1 - std::pow(beta_2, step)) / (1 - std::pow(beta_1, step));
  std::vector<KerasAdamScalars<double>> scalars;
  for (const KerasCommonScalars<double>& c : common_scalars(updates, learning_rate, o))
    scalars.push_back({c, 1 - beta_1, 1 - beta_2, alpha, epsilon, amsgrad});
  run_updates(updates, keras_optim_kernels().adam, scalars);
}

// ---- RMSprop ---------------------------------------------------------------------------------------

void keras_rmsprop_step(const std::vector<Tensor>& variables, const std::vector<Tensor>& grads,
                        const std::vector<Tensor>& velocities, const std::vector<Tensor>& average_gradients,
                        const std::vector<Tensor>& momentums, double learning_rate, double rho, double momentum,
                        double epsilon, bool centered, const KerasGradientOptions& o) {
  const char* name = "keras RMSprop";
  const bool has_momentum = momentum > 0;
  check_options(name, learning_rate, variables.size(), o);
  check_count(name, "gradients", grads.size(), variables.size());
  check_count(name, "velocity buffers", velocities.size(), variables.size());
  if (centered) check_count(name, "average_gradient buffers", average_gradients.size(), variables.size());
  if (has_momentum) check_count(name, "momentum buffers", momentums.size(), variables.size());
  std::vector<Update> updates;
  for (size_t i = 0; i < variables.size(); ++i) {
    Update u = prepare(name, i, variables[i], grads[i]);
    check_state(name, i, variables[i], velocities[i], "velocity buffer");
    u.buffers[2] = data_of(velocities[i]);
    if (centered) {
      check_state(name, i, variables[i], average_gradients[i], "average_gradient buffer");
      u.buffers[3] = data_of(average_gradients[i]);
    }
    if (has_momentum) {
      check_state(name, i, variables[i], momentums[i], "momentum buffer");
      u.buffers[4] = data_of(momentums[i]);
    }
    updates.push_back(std::move(u));
  }
  std::vector<KerasRmspropScalars<double>> scalars;
  for (const KerasCommonScalars<double>& c : common_scalars(updates, learning_rate, o))
    scalars.push_back({c, learning_rate, rho, 1 - rho, epsilon, momentum, centered, has_momentum});
  run_updates(updates, keras_optim_kernels().rmsprop, scalars);
}

// ---- Adagrad ---------------------------------------------------------------------------------------

void keras_adagrad_step(const std::vector<Tensor>& variables, const std::vector<Tensor>& grads,
                        const std::vector<Tensor>& accumulators, double learning_rate, double epsilon,
                        const KerasGradientOptions& o) {
  const char* name = "keras Adagrad";
  check_options(name, learning_rate, variables.size(), o);
  check_count(name, "gradients", grads.size(), variables.size());
  check_count(name, "accumulators", accumulators.size(), variables.size());
  std::vector<Update> updates;
  for (size_t i = 0; i < variables.size(); ++i) {
    Update u = prepare(name, i, variables[i], grads[i]);
    check_state(name, i, variables[i], accumulators[i], "accumulator");
    u.buffers[2] = data_of(accumulators[i]);
    updates.push_back(std::move(u));
  }
  std::vector<KerasAdagradScalars<double>> scalars;
  for (const KerasCommonScalars<double>& c : common_scalars(updates, learning_rate, o))
    scalars.push_back({c, learning_rate, epsilon});
  run_updates(updates, keras_optim_kernels().adagrad, scalars);
}

}  // namespace ember

// Keras 3 optimizer steps over a list of variables: one call updates every variable (and its state)
// in place with Keras's update equations (ops/keras_optim_math.h), after Keras's gradient clipping
// and decoupled weight decay. Lists are parallel: element i of each list belongs to variables[i].
// Variables are float32 or float64 CPU tensors; gradients match them in shape, dtype and device (any
// layout); state buffers match them too and are contiguous. A variable with a non-contiguous layout
// is updated through a contiguous copy written back.
//
// Unlike PyTorch's optimizers, Keras keeps one iteration count for the optimizer, not one per
// variable: Adam receives the 1-based step number (iterations + 1) as a plain number.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace ember {

// What every Keras step does before the optimizer's own update (0 turns an option off). At most one
// clipping option applies, in Keras's order of precedence: clipnorm (each gradient rescaled to an L2
// norm of at most clipnorm), else global_clipnorm (all gradients rescaled together so that their
// joint L2 norm is at most global_clipnorm; NaN everywhere when that norm is not finite), else
// clipvalue (each element clipped to [-clipvalue, clipvalue]). Then var -= var * weight_decay * lr,
// except for the variables whose indices are in no_weight_decay.
struct KerasGradientOptions {
  double clipnorm, clipvalue, global_clipnorm, weight_decay;
  std::vector<int64_t> no_weight_decay;
};

// momentums: empty when momentum is 0, else one per variable.
void keras_sgd_step(const std::vector<Tensor>& variables, const std::vector<Tensor>& grads,
                    const std::vector<Tensor>& momentums, double learning_rate, double momentum, bool nesterov,
                    const KerasGradientOptions& options);

// velocity_hats is read only with amsgrad; step is the 1-based number of this step.
void keras_adam_step(const std::vector<Tensor>& variables, const std::vector<Tensor>& grads,
                     const std::vector<Tensor>& momentums, const std::vector<Tensor>& velocities,
                     const std::vector<Tensor>& velocity_hats, double step, double learning_rate, double beta_1,
                     double beta_2, double epsilon, bool amsgrad, const KerasGradientOptions& options);

// average_gradients is read only when centered, momentums only when momentum > 0.
void keras_rmsprop_step(const std::vector<Tensor>& variables, const std::vector<Tensor>& grads,
                        const std::vector<Tensor>& velocities, const std::vector<Tensor>& average_gradients,
                        const std::vector<Tensor>& momentums, double learning_rate, double rho, double momentum,
                        double epsilon, bool centered, const KerasGradientOptions& options);

void keras_adagrad_step(const std::vector<Tensor>& variables, const std::vector<Tensor>& grads,
                        const std::vector<Tensor>& accumulators, double learning_rate, double epsilon,
                        const KerasGradientOptions& options);

}  // namespace ember

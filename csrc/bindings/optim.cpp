// Python entry points of the optimizers: one call per parameter group updates every parameter
// and its state in place, with PyTorch's equations (python/ember/optim) or Keras's
// (python/ember/keras/optimizers). Lists are parallel, one element per parameter; state lists an
// option does not use may be empty. The GIL is released while the kernels run.
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "cpu/keras_optim.h"
#include "cpu/optim.h"

namespace py = pybind11;

namespace ember {
namespace {

// Keras's steps: the trailing weight_decay, clipnorm, clipvalue and global_clipnorm (0 = off) and
// no_weight_decay (indices of variables left out of weight decay) are the transform every Keras
// step applies first (see cpu/keras_optim.h).
template <class NoGil>
void bind_keras_optim(py::module_& m, const NoGil& no_gil) {
  using Tensors = std::vector<Tensor>;
  using py::arg;
  using Indices = std::vector<int64_t>;
  auto common_args = [](double weight_decay, double clipnorm, double clipvalue, double global_clipnorm,
                        const Indices& no_weight_decay) {
    return KerasGradientOptions{clipnorm, clipvalue, global_clipnorm, weight_decay, no_weight_decay};
  };

  m.def("keras_sgd_step",
        [=](const Tensors& variables, const Tensors& grads, const Tensors& momentums, double learning_rate,
            double momentum, bool nesterov, double weight_decay, double clipnorm, double clipvalue,
            double global_clipnorm, const Indices& no_weight_decay) {
          keras_sgd_step(variables, grads, momentums, learning_rate, momentum, nesterov,
                         common_args(weight_decay, clipnorm, clipvalue, global_clipnorm, no_weight_decay));
        },
        arg("variables"), arg("grads"), arg("momentums"), arg("learning_rate"), arg("momentum"), arg("nesterov"),
        arg("weight_decay") = 0.0, arg("clipnorm") = 0.0, arg("clipvalue") = 0.0, arg("global_clipnorm") = 0.0,
        arg("no_weight_decay") = Indices{}, no_gil,
        "One Keras SGD step over variables, in place. momentums: [] when momentum is 0, else one\n"
        "zero-initialised buffer per variable.");

  m.def("keras_adam_step",
        [=](const Tensors& variables, const Tensors& grads, const Tensors& momentums, const Tensors& velocities,
            const Tensors& velocity_hats, double step, double learning_rate, double beta_1, double beta_2,
            double epsilon, bool amsgrad, double weight_decay, double clipnorm, double clipvalue,
            double global_clipnorm, const Indices& no_weight_decay) {
          keras_adam_step(variables, grads, momentums, velocities, velocity_hats, step, learning_rate, beta_1,
                          beta_2, epsilon, amsgrad,
                          common_args(weight_decay, clipnorm, clipvalue, global_clipnorm, no_weight_decay));
        },
        arg("variables"), arg("grads"), arg("momentums"), arg("velocities"), arg("velocity_hats"), arg("step"),
        arg("learning_rate"), arg("beta_1"), arg("beta_2"), arg("epsilon"), arg("amsgrad"),
        arg("weight_decay") = 0.0, arg("clipnorm") = 0.0, arg("clipvalue") = 0.0, arg("global_clipnorm") = 0.0,
        arg("no_weight_decay") = Indices{}, no_gil,
        "One Keras Adam (AdamW with weight_decay) step over variables, in place. step is the 1-based\n"
        "number of this step (iterations + 1); velocity_hats is used only with amsgrad.");

  m.def("keras_rmsprop_step",
        [=](const Tensors& variables, const Tensors& grads, const Tensors& velocities,
            const Tensors& average_gradients, const Tensors& momentums, double learning_rate, double rho,
            double momentum, double epsilon, bool centered, double weight_decay, double clipnorm, double clipvalue,
            double global_clipnorm, const Indices& no_weight_decay) {
          keras_rmsprop_step(variables, grads, velocities, average_gradients, momentums, learning_rate, rho,
                             momentum, epsilon, centered,
                             common_args(weight_decay, clipnorm, clipvalue, global_clipnorm, no_weight_decay));
        },
        arg("variables"), arg("grads"), arg("velocities"), arg("average_gradients"), arg("momentums"),
        arg("learning_rate"), arg("rho"), arg("momentum"), arg("epsilon"), arg("centered"),
        arg("weight_decay") = 0.0, arg("clipnorm") = 0.0, arg("clipvalue") = 0.0, arg("global_clipnorm") = 0.0,
        arg("no_weight_decay") = Indices{}, no_gil,
        "One Keras RMSprop step over variables, in place. average_gradients is used only when\n"
        "centered, momentums only with momentum > 0.");

  m.def("keras_adagrad_step",
        [=](const Tensors& variables, const Tensors& grads, const Tensors& accumulators, double learning_rate,
            double epsilon, double weight_decay, double clipnorm, double clipvalue, double global_clipnorm,
            const Indices& no_weight_decay) {
          keras_adagrad_step(variables, grads, accumulators, learning_rate, epsilon,
                             common_args(weight_decay, clipnorm, clipvalue, global_clipnorm, no_weight_decay));
        },
        arg("variables"), arg("grads"), arg("accumulators"), arg("learning_rate"), arg("epsilon"),
        arg("weight_decay") = 0.0, arg("clipnorm") = 0.0, arg("clipvalue") = 0.0, arg("global_clipnorm") = 0.0,
        arg("no_weight_decay") = Indices{}, no_gil,
        "One Keras Adagrad step over variables, in place (accumulators start at\n"
        "initial_accumulator_value).");
}

}  // namespace

void bind_optim(py::module_& m) {
  using Tensors = std::vector<Tensor>;
  using py::arg;
  auto no_gil = py::call_guard<py::gil_scoped_release>();

  m.def("sgd_step",
        [](const Tensors& params, const Tensors& grads, const std::vector<std::optional<Tensor>>& momentum_buffers,
           double lr, double momentum, double dampening, double weight_decay, bool nesterov, bool maximize) {
          return sgd_step(params, grads, momentum_buffers, {lr, momentum, dampening, weight_decay, nesterov, maximize});
        },
        arg("params"), arg("grads"), arg("momentum_buffers"), arg("lr"), arg("momentum"), arg("dampening"),
        arg("weight_decay"), arg("nesterov"), arg("maximize"), no_gil,
        "One SGD step over params. momentum_buffers: [] without momentum, else one per parameter (None\n"
        "where none exists yet). Returns, with momentum, each parameter's new buffer or None where one\n"
        "was given; [] without momentum.");

  m.def("adam_step",
        [](const Tensors& params, const Tensors& grads, const Tensors& exp_avgs, const Tensors& exp_avg_sqs,
           const Tensors& max_exp_avg_sqs, const Tensors& steps, double lr, double beta1, double beta2, double eps,
           double weight_decay, bool amsgrad, bool decoupled_weight_decay, bool maximize) {
          adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps,
                    {lr, beta1, beta2, eps, weight_decay, amsgrad, decoupled_weight_decay, maximize});
        },
        arg("params"), arg("grads"), arg("exp_avgs"), arg("exp_avg_sqs"), arg("max_exp_avg_sqs"), arg("steps"),
        arg("lr"), arg("beta1"), arg("beta2"), arg("eps"), arg("weight_decay"), arg("amsgrad"),
        arg("decoupled_weight_decay"), arg("maximize"), no_gil,
        "One Adam (or, with decoupled_weight_decay, AdamW) step over params; increments each step\n"
        "count (a one-element float tensor). max_exp_avg_sqs is used only with amsgrad.");

  m.def("rmsprop_step",
        [](const Tensors& params, const Tensors& grads, const Tensors& square_avgs, const Tensors& grad_avgs,
           const Tensors& momentum_buffers, const Tensors& steps, double lr, double alpha, double eps,
           double weight_decay, double momentum, bool centered, bool maximize) {
          rmsprop_step(params, grads, square_avgs, grad_avgs, momentum_buffers, steps,
                       {lr, alpha, eps, weight_decay, momentum, centered, maximize});
        },
        arg("params"), arg("grads"), arg("square_avgs"), arg("grad_avgs"), arg("momentum_buffers"), arg("steps"),
        arg("lr"), arg("alpha"), arg("eps"), arg("weight_decay"), arg("momentum"), arg("centered"),
        arg("maximize"), no_gil,
        "One RMSprop step over params; increments each step count. grad_avgs is used only when\n"
        "centered, momentum_buffers only with momentum > 0.");

  m.def("adagrad_step",
        [](const Tensors& params, const Tensors& grads, const Tensors& state_sums, const Tensors& steps, double lr,
           double lr_decay, double weight_decay, double eps, bool maximize) {
          adagrad_step(params, grads, state_sums, steps, {lr, lr_decay, weight_decay, eps, maximize});
        },
        arg("params"), arg("grads"), arg("state_sums"), arg("steps"), arg("lr"), arg("lr_decay"),
        arg("weight_decay"), arg("eps"), arg("maximize"), no_gil,
        "One Adagrad step over params; increments each step count.");

  bind_keras_optim(m, no_gil);
}

}  // namespace ember

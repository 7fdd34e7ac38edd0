// Python entry points of the loss family: softmax / log_softmax backward, cross-entropy and NLL over
// classes, and the elementwise losses, each forward beside its `_backward`. Forwards take
// torch.nn.functional's arguments in its order; a backward takes the loss's gradient first, then
// the forward's arguments (and what the forward returned for it). The GIL is released while a
// kernel runs.
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "bindings/bindings.h"
#include "cpu/loss.h"
#include "cpu/reduce.h"

namespace py = pybind11;

namespace ember {
namespace {

using OptTensor = std::optional<Tensor>;
using cpu::Reduction;
using cpu::parse_reduction;

// CUDA tensors are computed on the host and the result moved back, until the CUDA backend has loss
// kernels of its own.
Tensor host(const Tensor& t) { return to_device(t, Device{}); }
OptTensor host(const OptTensor& t) { return t ? OptTensor(host(*t)) : std::nullopt; }

const auto kNoGil = py::call_guard<py::gil_scoped_release>();

void bind_softmax_backward(py::module_& m) {
  m.def("softmax_backward", [](const Tensor& grad, const Tensor& out, int64_t dim) {
          return to_device(cpu::softmax_backward(host(grad), host(out), dim), out.device());
        },
        py::arg("grad"), py::arg("out"), py::arg("dim"), kNoGil,
        "Gradient of softmax along dim from its output: out * (grad - sum(grad * out, dim)).");
  m.def("log_softmax_backward", [](const Tensor& grad, const Tensor& out, int64_t dim) {
          return to_device(cpu::log_softmax_backward(host(grad), host(out), dim), out.device());
        },
        py::arg("grad"), py::arg("out"), py::arg("dim"), kNoGil,
        "Gradient of log_softmax along dim from its output: grad - exp(out) * sum(grad, dim).");
}

void bind_class_losses(py::module_& m) {
  m.def("cross_entropy",
        [](const Tensor& input, const Tensor& target, const OptTensor& weight, int64_t ignore_index,
           const std::string& reduction, double label_smoothing) {
          Reduction r = parse_reduction(reduction, "cross_entropy");
          auto [loss, row_max] = cpu::cross_entropy(host(input), host(target), host(weight), ignore_index, r,
                                                    label_smoothing);
          return std::make_pair(to_device(loss, input.device()), to_device(row_max, input.device()));
        },
        py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
        py::arg("reduction") = "mean", py::arg("label_smoothing") = 0.0, kNoGil,
        "Softmax cross-entropy of logits (N, C, ...) or (C,) against int64 class indices (N, ...) or class\n"
        "probabilities (the input's shape), as torch.nn.functional.cross_entropy. Returns (loss, row_max):\n"
        "row_max, the largest logit of each row, is what cross_entropy_backward needs besides the inputs.");
  m.def("cross_entropy_backward",
        [](const Tensor& grad, const Tensor& input, const Tensor& target, const Tensor& row_max,
           const OptTensor& weight, int64_t ignore_index, const std::string& reduction, double label_smoothing) {
          Reduction r = parse_reduction(reduction, "cross_entropy");
          return to_device(cpu::cross_entropy_backward(host(grad), host(input), host(target), host(row_max),
                                                       host(weight), ignore_index, r, label_smoothing),
                           input.device());
        },
        py::arg("grad"), py::arg("input"), py::arg("target"), py::arg("row_max"), py::arg("weight") = py::none(),
        py::arg("ignore_index") = -100, py::arg("reduction") = "mean", py::arg("label_smoothing") = 0.0, kNoGil,
        "d(cross_entropy)/d(input) times grad: (softmax - target distribution) * scale per row.");
  m.def("nll_loss",
        [](const Tensor& input, const Tensor& target, const OptTensor& weight, int64_t ignore_index,
           const std::string& reduction) {
          Reduction r = parse_reduction(reduction, "nll_loss");
          return to_device(cpu::nll_loss(host(input), host(target), host(weight), ignore_index, r), input.device());
        },
        py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
        py::arg("reduction") = "mean", kNoGil,
        "Negative log-likelihood of log-probabilities (N, C, ...) at int64 class indices (N, ...), as\n"
        "torch.nn.functional.nll_loss.");
  m.def("nll_loss_backward",
        [](const Tensor& grad, const Tensor& input, const Tensor& target, const OptTensor& weight,
           int64_t ignore_index, const std::string& reduction) {
          Reduction r = parse_reduction(reduction, "nll_loss");
          return to_device(cpu::nll_loss_backward(host(grad), host(input), host(target), host(weight), ignore_index, r),
                           input.device());
        },
        py::arg("grad"), py::arg("input"), py::arg("target"), py::arg("weight") = py::none(),
        py::arg("ignore_index") = -100, py::arg("reduction") = "mean", kNoGil,
        "d(nll_loss)/d(input) times grad: -weight[target] * scale at each target class, 0 elsewhere.");
}

// The forward / backward pair of one elementwise loss.
Tensor pointwise(PointwiseLoss loss, const Tensor& input, const Tensor& target, const OptTensor& weight,
                 const OptTensor& pos_weight, double param, const std::string& reduction) {
  Reduction r = parse_reduction(reduction, cpu::pointwise_loss_name(loss));
  return to_device(cpu::pointwise_loss(loss, host(input), host(target), host(weight), host(pos_weight), param, r),
                   input.device());
}

Tensor pointwise_backward(PointwiseLoss loss, const Tensor& grad, const Tensor& input, const Tensor& target,
                          const OptTensor& weight, const OptTensor& pos_weight, double param,
                          const std::string& reduction) {
  Reduction r = parse_reduction(reduction, cpu::pointwise_loss_name(loss));
  return to_device(cpu::pointwise_loss_backward(loss, host(grad), host(input), host(target), host(weight),
                                                host(pos_weight), param, r),
                   input.device());
}

void bind_pointwise_losses(py::module_& m) {
  // mse_loss, l1_loss: (input, target, reduction)
  struct Plain {
    const char* name;
    const char* backward_name;
    PointwiseLoss loss;
    const char* doc;
  };
  for (const Plain& e : {Plain{"mse_loss", "mse_loss_backward", PointwiseLoss::Mse,
                               "(input - target)^2 per element, reduced; input and target broadcast."},
                         Plain{"l1_loss", "l1_loss_backward", PointwiseLoss::L1,
                               "|input - target| per element, reduced; input and target broadcast."}}) {
    const PointwiseLoss loss = e.loss;
    m.def(e.name, [loss](const Tensor& input, const Tensor& target, const std::string& reduction) {
            return pointwise(loss, input, target, std::nullopt, std::nullopt, 0.0, reduction);
          },
          py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", kNoGil,
          e.doc);
    m.def(e.backward_name, [loss](const Tensor& grad, const Tensor& input, const Tensor& target,
                                  const std::string& reduction) {
            return pointwise_backward(loss, grad, input, target, std::nullopt, std::nullopt, 0.0, reduction);
          },
          py::arg("grad"), py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", kNoGil,
          "d(loss)/d(input) times grad, of the broadcast shape; d/d(target) is its negation.");
  }
  m.def("huber_loss", [](const Tensor& input, const Tensor& target, const std::string& reduction, double delta) {
          return pointwise(PointwiseLoss::Huber, input, target, std::nullopt, std::nullopt, delta, reduction);
        },
        py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("delta") = 1.0, kNoGil,
        "0.5 d^2 where |d| < delta, else delta (|d| - delta / 2), d = input - target; delta > 0.");
  m.def("huber_loss_backward", [](const Tensor& grad, const Tensor& input, const Tensor& target,
                                  const std::string& reduction, double delta) {
          return pointwise_backward(PointwiseLoss::Huber, grad, input, target, std::nullopt, std::nullopt, delta,
                                    reduction);
        },
        py::arg("grad"), py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("delta") = 1.0,
        kNoGil, "d(huber_loss)/d(input) times grad: d clamped to [-delta, delta].");
  m.def("smooth_l1_loss", [](const Tensor& input, const Tensor& target, const std::string& reduction, double beta) {
          return pointwise(PointwiseLoss::SmoothL1, input, target, std::nullopt, std::nullopt, beta, reduction);
        },
        py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("beta") = 1.0, kNoGil,
        "0.5 d^2 / beta where |d| < beta, else |d| - beta / 2, d = input - target; beta = 0 is L1.");
  m.def("smooth_l1_loss_backward", [](const Tensor& grad, const Tensor& input, const Tensor& target,
                                      const std::string& reduction, double beta) {
          return pointwise_backward(PointwiseLoss::SmoothL1, grad, input, target, std::nullopt, std::nullopt, beta,
                                    reduction);
        },
        py::arg("grad"), py::arg("input"), py::arg("target"), py::arg("reduction") = "mean", py::arg("beta") = 1.0,
        kNoGil, "d(smooth_l1_loss)/d(input) times grad: d / beta clamped to [-1, 1].");
  m.def("binary_cross_entropy", [](const Tensor& input, const Tensor& target, const OptTensor& weight,
                                   const std::string& reduction) {
          return pointwise(PointwiseLoss::BinaryCrossEntropy, input, target, weight, std::nullopt, 0.0, reduction);
        },
        py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("reduction") = "mean", kNoGil,
        "-weight (t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1], each log clamped at -100;\n"
        "target of the input's shape, weight broadcast to it.");
  m.def("binary_cross_entropy_backward", [](const Tensor& grad, const Tensor& input, const Tensor& target,
                                            const OptTensor& weight, const std::string& reduction) {
          return pointwise_backward(PointwiseLoss::BinaryCrossEntropy, grad, input, target, weight, std::nullopt, 0.0,
                                    reduction);
        },
        py::arg("grad"), py::arg("input"), py::arg("target"), py::arg("weight") = py::none(),
        py::arg("reduction") = "mean", kNoGil,
        "d(binary_cross_entropy)/d(input) times grad: weight (p - t) / max(p (1 - p), 1e-12).");
  m.def("binary_cross_entropy_with_logits", [](const Tensor& input, const Tensor& target, const OptTensor& weight,
                                               const std::string& reduction, const OptTensor& pos_weight) {
          return pointwise(PointwiseLoss::BinaryCrossEntropyWithLogits, input, target, weight, pos_weight, 0.0,
                           reduction);
        },
        py::arg("input"), py::arg("target"), py::arg("weight") = py::none(), py::arg("reduction") = "mean",
        py::arg("pos_weight") = py::none(), kNoGil,
        "weight ((1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)) on logits x, computed without overflow;\n"
        "target of the input's shape, weight and pos_weight broadcast to it.");
  m.def("binary_cross_entropy_with_logits_backward",
        [](const Tensor& grad, const Tensor& input, const Tensor& target, const OptTensor& weight,
           const std::string& reduction, const OptTensor& pos_weight) {
          return pointwise_backward(PointwiseLoss::BinaryCrossEntropyWithLogits, grad, input, target, weight,
                                    pos_weight, 0.0, reduction);
        },
        py::arg("grad"), py::arg("input"), py::arg("target"), py::arg("weight") = py::none(),
        py::arg("reduction") = "mean", py::arg("pos_weight") = py::none(), kNoGil,
        "d(binary_cross_entropy_with_logits)/d(input) times grad: weight ((1 + (pos_weight - 1) t) sigmoid(x)\n"
        "- pos_weight t).");
}

}  // namespace

void bind_loss(py::module_& m) {
  bind_softmax_backward(m);
  bind_class_losses(m);
  bind_pointwise_losses(m);
}

}  // namespace ember

// Python entry points of the activation backward kernels and of dropout, which the autograd layer
// calls from each op's backward (and dropout's forward, whose keep-mask is what its backward saves):
//   _C.relu_backward(grad, out)   _C.gelu_backward(grad, x, approximate)   _C.dropout(x, p) ...
// Tensors are taken with the GIL held; the kernels run with it released.
#include <pybind11/stl.h>

#include <cmath>
#include <optional>
#include <string>

#include "bindings/bindings.h"
#include "core/errors.h"
#include "cpu/activation_backward.h"

namespace py = pybind11;

namespace ember {

namespace {

const Tensor& tensor_arg(py::handle obj, const char* op, const char* arg) {
  if (!py::isinstance<Tensor>(obj))
    throw TypeError(str_cat(op, ": expected a tensor for ", arg, ", got ", Py_TYPE(obj.ptr())->tp_name));
  return obj.cast<const Tensor&>();
}

Tensor run_backward(BackwardOp op, py::handle grad, py::handle saved, const char* saved_name,
                    OpParams params = {}) {
  const char* name = backward_name(op);
  const Tensor& g = tensor_arg(grad, name, "grad");
  const Tensor& s = tensor_arg(saved, name, saved_name);
  py::gil_scoped_release release;
  return activation_backward(op, g, s, params);
}

OpParams params_of(double alpha, double beta = 0) {
  OpParams p;
  p.alpha = alpha;
  p.beta = beta;
  return p;
}

struct FromOutput {
  const char* name;
  BackwardOp op;
  const char* doc;
};

const FromOutput kFromOutput[] = {
    {"relu_backward", BackwardOp::Relu,
     "grad where out > 0, else 0 (out: relu's result; NaN out passes grad, as PyTorch)."},
    {"sigmoid_backward", BackwardOp::Sigmoid, "grad * (1 - out) * out (out: sigmoid's result)."},
    {"tanh_backward", BackwardOp::Tanh, "grad * (1 - out * out) (out: tanh's result)."},
};

Tensor gelu_backward(py::handle grad, py::handle x, const std::string& approximate) {
  EMBER_CHECK(approximate == "none" || approximate == "tanh", ValueError,
              "gelu_backward: approximate must be 'none' or 'tanh', got '", approximate, "'");
  return run_backward(approximate == "tanh" ? BackwardOp::GeluTanh : BackwardOp::Gelu, grad, x, "x");
}

Tensor clamp_backward(py::handle grad, py::handle x, std::optional<double> min, std::optional<double> max) {
  EMBER_CHECK(min || max, ValueError, "clamp_backward: at least one of min and max must be given");
  return run_backward(BackwardOp::Clamp, grad, x, "x", params_of(min ? *min : -INFINITY, max ? *max : INFINITY));
}

std::pair<Tensor, Tensor> dropout_entry(py::handle x_obj, double p, std::optional<uint64_t> seed, uint64_t first_block) {
  const Tensor& x = tensor_arg(x_obj, "dropout", "x");
  std::optional<RandomBlocks> stream;
  if (seed) stream = RandomBlocks{*seed, first_block};
  py::gil_scoped_release release;
  return dropout(x, p, stream);
}

Tensor dropout_backward_entry(py::handle grad, py::handle mask, double p) {
  const Tensor& g = tensor_arg(grad, "dropout_backward", "grad");
  const Tensor& m = tensor_arg(mask, "dropout_backward", "mask");
  py::gil_scoped_release release;
  return dropout_backward(g, m, p);
}

}  // namespace

void bind_activation_backward(py::module_& m) {
  for (const FromOutput& e : kFromOutput) {
    const BackwardOp op = e.op;
    m.def(e.name, [op](py::handle grad, py::handle out) { return run_backward(op, grad, out, "out"); },
          py::arg("grad"), py::arg("out"), e.doc);
  }
  m.def("leaky_relu_backward", [](py::handle grad, py::handle x, double negative_slope) {
          return run_backward(BackwardOp::LeakyRelu, grad, x, "x", params_of(negative_slope));
        },
        py::arg("grad"), py::arg("x"), py::arg("negative_slope") = 0.01,
        "grad where x > 0, else grad * negative_slope (x = 0 and NaN take the slope, as PyTorch).");
  m.def("elu_backward", [](py::handle grad, py::handle x, double alpha) {
          return run_backward(BackwardOp::Elu, grad, x, "x", params_of(alpha));
        },
        py::arg("grad"), py::arg("x"), py::arg("alpha") = 1.0,
        "grad where x > 0, else grad * alpha * e**x (x: elu's input; NaN gives NaN).");
  m.def("gelu_backward", &gelu_backward, py::arg("grad"), py::arg("x"), py::arg("approximate") = "none",
        "grad * d gelu(x) / dx, for approximate='none' (erf) or 'tanh', as PyTorch's gelu_backward.");
  m.def("silu_backward", [](py::handle grad, py::handle x) { return run_backward(BackwardOp::Silu, grad, x, "x"); },
        py::arg("grad"), py::arg("x"), "grad * s * (1 + x * (1 - s)), s = sigmoid(x).");
  m.def("softplus_backward", [](py::handle grad, py::handle x, double beta, double threshold) {
          return run_backward(BackwardOp::Softplus, grad, x, "x", params_of(beta, threshold));
        },
        py::arg("grad"), py::arg("x"), py::arg("beta") = 1.0, py::arg("threshold") = 20.0,
        "grad where x * beta > threshold, else grad * sigmoid(beta * x).");
  m.def("clamp_backward", &clamp_backward, py::arg("grad"), py::arg("x"), py::arg("min") = py::none(),
        py::arg("max") = py::none(),
        "grad where min <= x <= max (an absent bound always holds), else 0; NaN x gives 0.");
  m.def("dropout", &dropout_entry, py::arg("x"), py::arg("p") = 0.5, py::arg("seed") = py::none(),
        py::arg("first_block") = 0,
        "(out, mask): mask keeps each element with probability 1 - p (a bool tensor from the global "
        "generator, or with seed from blocks first_block, ... of that seed's stream: ceil(numel / 4) "
        "of them), out = x * mask / (1 - p); p == 1 gives zeros.");
  m.def("dropout_backward", &dropout_backward_entry, py::arg("grad"), py::arg("mask"), py::arg("p"),
        "grad * mask / (1 - p), the gradient of dropout with its saved mask; 0 for p == 1.");
}

}  // namespace ember

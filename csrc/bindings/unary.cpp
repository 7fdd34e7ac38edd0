// Python entry points of the unary elementwise ops: ember._C.exp(x), _C.relu_(x), _C.gelu(x, 'tanh')...
// In-place forms return the very Python object they were given, so that `x.relu_() is x`.
#include <pybind11/stl.h>

#include <cmath>
#include <optional>

#include "bindings/bindings.h"
#include "core/errors.h"
#include "cpu/elementwise.h"

namespace py = pybind11;

namespace ember {

namespace {

const Tensor& tensor_arg(py::handle obj, const char* op) {
  if (!py::isinstance<Tensor>(obj))
    throw TypeError(str_cat(op, ": expected a tensor, got ", Py_TYPE(obj.ptr())->tp_name));
  return obj.cast<const Tensor&>();
}

struct UnaryEntry {
  const char* name;
  UnaryOp op;
  const char* doc;
};

const UnaryEntry kPlain[] = {
    {"neg", UnaryOp::Neg, "-x elementwise; integers stay integers (bool: TypeError)."},
    {"abs", UnaryOp::Abs, "|x| elementwise; integers stay integers."},
    {"sign", UnaryOp::Sign, "-1, 0 or 1 by the sign of each element (NaN stays NaN)."},
    {"exp", UnaryOp::Exp, "e**x elementwise; integer inputs give the default float dtype."},
    {"log", UnaryOp::Log, "Natural logarithm; integer inputs give the default float dtype."},
    {"log1p", UnaryOp::Log1p, "log(1 + x), accurate for small x; integer inputs give the default float dtype."},
    {"sqrt", UnaryOp::Sqrt, "Square root; integer inputs give the default float dtype."},
    {"rsqrt", UnaryOp::Rsqrt, "1 / sqrt(x); integer inputs give the default float dtype."},
    {"sin", UnaryOp::Sin, "Sine (radians); integer inputs give the default float dtype."},
    {"cos", UnaryOp::Cos, "Cosine (radians); integer inputs give the default float dtype."},
    {"tanh", UnaryOp::Tanh, "Hyperbolic tangent; integer inputs give the default float dtype."},
    {"sigmoid", UnaryOp::Sigmoid, "1 / (1 + e**-x), stable for large |x|; integer inputs give the default float dtype."},
    {"relu", UnaryOp::Relu, "max(x, 0) elementwise (NaN stays NaN); integers stay integers."},
    {"silu", UnaryOp::Silu, "x * sigmoid(x) (float tensors)."},
};

const UnaryEntry kInPlace[] = {
    {"neg_", UnaryOp::Neg, "In-place neg; returns x."},
    {"abs_", UnaryOp::Abs, "In-place abs; returns x."},
    {"exp_", UnaryOp::Exp, "In-place exp (float tensors); returns x."},
    {"log_", UnaryOp::Log, "In-place log (float tensors); returns x."},
    {"sqrt_", UnaryOp::Sqrt, "In-place sqrt (float tensors); returns x."},
    {"tanh_", UnaryOp::Tanh, "In-place tanh (float tensors); returns x."},
    {"sigmoid_", UnaryOp::Sigmoid, "In-place sigmoid (float tensors); returns x."},
    {"relu_", UnaryOp::Relu, "In-place relu; returns x."},
};

Tensor gelu(py::handle x, const std::string& approximate) {
  EMBER_CHECK(approximate == "none" || approximate == "tanh", ValueError,
              "gelu: approximate must be 'none' or 'tanh', got '", approximate, "'");
  return unary(approximate == "tanh" ? UnaryOp::GeluTanh : UnaryOp::Gelu, tensor_arg(x, "gelu"));
}

Tensor softplus(py::handle x, double beta, double threshold) {
  OpParams params;
  params.alpha = beta;
  params.beta = threshold;
  return unary(UnaryOp::Softplus, tensor_arg(x, "softplus"), params);
}

Tensor clamp_entry(py::handle x_obj, std::optional<Scalar> min, std::optional<Scalar> max) {
  const Tensor& x = tensor_arg(x_obj, "clamp");
  EMBER_CHECK(min || max, ValueError, "clamp: at least one of min and max must be given");
  DType dtype = x.dtype;
  if (min) dtype = result_type(dtype, *min);
  if (max) dtype = result_type(dtype, *max);
  return clamp(x, dtype, min ? min->value : -INFINITY, max ? max->value : INFINITY);
}

}  // namespace

void bind_unary(py::module_& m) {
  for (const UnaryEntry& e : kPlain) {
    const UnaryOp op = e.op;
    m.def(e.name, [op](py::handle x) { return unary(op, tensor_arg(x, unary_name(op))); }, py::arg("x"), e.doc);
  }
  for (const UnaryEntry& e : kInPlace) {
    const UnaryOp op = e.op;
    const char* name = e.name;
    m.def(e.name, [op, name](py::object x) {
            unary_(op, tensor_arg(x, name));
            return x;
          },
          py::arg("x"), e.doc);
  }
  m.def("leaky_relu", [](py::handle x, double negative_slope) {
          OpParams params;
          params.alpha = negative_slope;
          return unary(UnaryOp::LeakyRelu, tensor_arg(x, "leaky_relu"), params);
        },
        py::arg("x"), py::arg("negative_slope") = 0.01, "x for x > 0, else negative_slope * x.");
  m.def("elu", [](py::handle x, double alpha) {
          OpParams params;
          params.alpha = alpha;
          return unary(UnaryOp::Elu, tensor_arg(x, "elu"), params);
        },
        py::arg("x"), py::arg("alpha") = 1.0, "x for x > 0, else alpha * (e**x - 1).");
  m.def("gelu", &gelu, py::arg("x"), py::arg("approximate") = "none",
        "x * Phi(x) (approximate='none') or its tanh approximation (approximate='tanh').");
  m.def("softplus", &softplus, py::arg("x"), py::arg("beta") = 1.0, py::arg("threshold") = 20.0,
        "log(1 + e**(beta x)) / beta, and x where beta x > threshold.");
  m.def("clamp", &clamp_entry, py::arg("x"), py::arg("min") = py::none(), py::arg("max") = py::none(),
        "Limits every element to [min, max]; either bound may be None, not both. Bounds promote "
        "the dtype as PyTorch's (an integer tensor with a float bound gives float32).");
}

}  // namespace ember

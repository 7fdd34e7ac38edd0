// Python entry points of the matmul family.
#include "bindings/bindings.h"
#include <pybind11/stl.h>

#include "core/errors.h"
#include "cpu/linear.h"
#include "cpu/matmul.h"

namespace py = pybind11;

namespace ember {

void bind_matmul(py::module_& m) {
  // The product can run for seconds: other Python threads may run meanwhile.
  m.def("matmul", &matmul, py::arg("a"), py::arg("b"), py::call_guard<py::gil_scoped_release>(),
        "Matrix product with NumPy's matmul semantics (1-D operands, broadcast batch dimensions); "
        "float32 or float64, both operands of the same dtype.");
  m.def("linear", [](const Tensor& x, const Tensor& weight, const std::optional<Tensor>& bias,
                     const std::optional<std::string>& activation) {
    return linear(x, weight, bias, activation.value_or(""));
  }, py::arg("x"), py::arg("weight"), py::arg("bias") = py::none(), py::arg("activation") = py::none(),
        py::call_guard<py::gil_scoped_release>(),
        "activation(x @ weight^T + bias) in one call: the bias and the activation (None, 'relu', 'tanh' or "
        "'sigmoid') are applied by the GEMM as each tile of the output is final.");
  m.def("linear_backward", [](const Tensor& grad, const Tensor& x, const Tensor& weight, bool need_input,
                              bool need_weight, bool need_bias, const std::optional<std::string>& activation,
                              const std::optional<Tensor>& output, const std::optional<Tensor>& grad_weight) {
    LinearGrads g;
    {
      py::gil_scoped_release release;
      g = linear_backward(grad, x, weight, need_input, need_weight, need_bias, activation.value_or(""), output,
                          grad_weight);
    }
    return py::make_tuple(g.input ? py::cast(*g.input) : py::none(), g.weight ? py::cast(*g.weight) : py::none(),
                          g.bias ? py::cast(*g.bias) : py::none());
  }, py::arg("grad"), py::arg("x"), py::arg("weight"), py::arg("need_input"), py::arg("need_weight"),
     py::arg("need_bias"), py::arg("activation") = py::none(), py::arg("output") = py::none(),
     py::arg("grad_weight") = py::none(),
     "(grad_x, grad_weight, grad_bias) of linear; None where not asked for. With an activation, `output` is "
     "the forward's result; with grad_weight, the weight gradient is added into it in place (and returned).");
  // The GEMM with every option of its epilogue, on an output of any strides: for the tests of the
  // paths the layers reach only in part (a bias per row, a column-major output, accumulation).
  m.def("_matmul_into", [](const Tensor& a, const Tensor& b, Tensor out, bool accumulate,
                           const std::optional<Tensor>& bias, bool bias_per_row,
                           const std::optional<std::string>& activation) {
    const LinearActivation act = linear_activation(activation.value_or(""));
    Tensor b_contig;
    if (bias) {
      const int64_t want = bias_per_row ? out.shape.at(0) : out.shape.at(1);
      EMBER_CHECK(bias->ndim() == 1 && bias->shape[0] == want && bias->dtype == out.dtype, ValueError,
                  "_matmul_into: bias must be a ", dtype_name(out.dtype), " vector of ", want, " elements");
      b_contig = contiguous(*bias);
    }
    OpParams params;
    const cpu::GemmEpilogue epilogue =
        activation_epilogue(act, out.dtype, bias ? b_contig.raw_data() : nullptr, bias_per_row, &params);
    py::gil_scoped_release release;
    matmul_into(a, b, out, accumulate, &epilogue);
  }, py::arg("a"), py::arg("b"), py::arg("out"), py::arg("accumulate"), py::arg("bias") = py::none(),
     py::arg("bias_per_row") = false, py::arg("activation") = py::none(),
     "out = act(a @ b [+ out] + bias) in place (2-d; testing hook for the GEMM epilogue).");
}

}  // namespace ember

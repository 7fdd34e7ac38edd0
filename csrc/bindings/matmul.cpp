// Python entry points of the matmul family.
#include "bindings/bindings.h"
#include <pybind11/stl.h>

#include "cpu/linear.h"
#include "cpu/matmul.h"

namespace py = pybind11;

namespace ember {

void bind_matmul(py::module_& m) {
  // The product can run for seconds: other Python threads may run meanwhile.
  m.def("matmul", &matmul, py::arg("a"), py::arg("b"), py::call_guard<py::gil_scoped_release>(),
        "Matrix product with NumPy's matmul semantics (1-D operands, broadcast batch dimensions); "
        "float32 or float64, both operands of the same dtype.");
  m.def("linear", &linear, py::arg("x"), py::arg("weight"), py::arg("bias") = py::none(),
        py::call_guard<py::gil_scoped_release>(), "x @ weight^T + bias in one call (bias added to the fresh rows).");
  m.def("linear_backward", [](const Tensor& grad, const Tensor& x, const Tensor& weight, bool need_input,
                              bool need_weight, bool need_bias) {
    LinearGrads g;
    {
      py::gil_scoped_release release;
      g = linear_backward(grad, x, weight, need_input, need_weight, need_bias);
    }
    return py::make_tuple(g.input ? py::cast(*g.input) : py::none(), g.weight ? py::cast(*g.weight) : py::none(),
                          g.bias ? py::cast(*g.bias) : py::none());
  }, py::arg("grad"), py::arg("x"), py::arg("weight"), py::arg("need_input"), py::arg("need_weight"),
     py::arg("need_bias"), "(grad_x, grad_weight, grad_bias) of linear; None where not asked for.");
}

}  // namespace ember

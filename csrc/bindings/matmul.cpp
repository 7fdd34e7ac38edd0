// Python entry points of the matmul family.
#include "bindings/bindings.h"
#include "cpu/matmul.h"

namespace py = pybind11;

namespace ember {

void bind_matmul(py::module_& m) {
  // The product can run for seconds: other Python threads may run meanwhile.
  m.def("matmul", &matmul, py::arg("a"), py::arg("b"), py::call_guard<py::gil_scoped_release>(),
        "Matrix product with NumPy's matmul semantics (1-D operands, broadcast batch dimensions); "
        "float32 or float64, both operands of the same dtype.");
}

}  // namespace ember

// Python entry points of 2-d pooling: max_pool2d, avg_pool2d and adaptive_avg_pool2d, each beside
// its `_backward`. Window arguments are (along H, along W) pairs, already normalised by the Python
// layer; `channels_last` reads inputs as (N, H, W, C) instead of (N, C, H, W); `name` is the op or
// layer that error messages name. A backward takes the output's gradient first, then the input's
// shape and what the forward needs to route the gradient. The GIL is released while a kernel runs.
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "cpu/pool.h"

namespace py = pybind11;

namespace ember {

void bind_pool(py::module_& m) {
  const auto no_gil = py::call_guard<py::gil_scoped_release>();
  m.def("max_pool2d", &cpu::max_pool2d, py::arg("input"), py::arg("kernel_size"), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"), py::arg("ceil_mode") = false, py::arg("channels_last") = false,
        py::arg("name") = "max_pool2d", no_gil,
        "(out, indices) of 2-d max pooling as torch.nn.functional.max_pool2d(..., return_indices=True):\n"
        "indices are int64 flat positions ih * W + iw inside each input plane (either layout).");
  m.def("max_pool2d_backward", &cpu::max_pool2d_backward, py::arg("grad"), py::arg("indices"),
        py::arg("input_shape"), py::arg("channels_last") = false, no_gil,
        "Gradient of max_pool2d with respect to its input: grad added at the positions the indices name.");
  m.def("avg_pool2d", &cpu::avg_pool2d, py::arg("input"), py::arg("kernel_size"), py::arg("stride"),
        py::arg("padding"), py::arg("ceil_mode") = false, py::arg("count_include_pad") = true,
        py::arg("divisor_override") = py::none(), py::arg("channels_last") = false, py::arg("name") = "avg_pool2d",
        no_gil, "2-d average pooling as torch.nn.functional.avg_pool2d.");
  m.def("avg_pool2d_backward", &cpu::avg_pool2d_backward, py::arg("grad"), py::arg("input_shape"),
        py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), py::arg("ceil_mode") = false,
        py::arg("count_include_pad") = true, py::arg("divisor_override") = py::none(),
        py::arg("channels_last") = false, no_gil,
        "Gradient of avg_pool2d with respect to its input: each output's gradient shared over its window.");
  m.def("adaptive_avg_pool2d", &cpu::adaptive_avg_pool2d, py::arg("input"), py::arg("output_size"),
        py::arg("channels_last") = false, py::arg("name") = "adaptive_avg_pool2d", no_gil,
        "2-d adaptive average pooling to output_size (OH, OW) as torch.nn.functional.adaptive_avg_pool2d;\n"
        "(1, 1) is global average pooling.");
  m.def("adaptive_avg_pool2d_backward", &cpu::adaptive_avg_pool2d_backward, py::arg("grad"),
        py::arg("input_shape"), py::arg("channels_last") = false, no_gil,
        "Gradient of adaptive_avg_pool2d with respect to its input.");
}

}  // namespace ember

// Python entry points of the convolution family: conv1d / conv2d and their backward, each taking
// the layout flag (channels_last) so that both front ends call the same kernels. The GIL is
// released while a kernel runs.
#include <pybind11/stl.h>

#include <optional>
#include <vector>

#include "bindings/bindings.h"
#include "cpu/conv.h"

namespace py = pybind11;

namespace ember {
namespace {

using OptTensor = std::optional<Tensor>;
using Ints = std::vector<int64_t>;

ConvParams params(const Ints& stride, const Ints& padding, const Ints& dilation, int64_t groups,
                  bool channels_last) {
  return ConvParams{stride, padding, dilation, groups, channels_last};
}

py::tuple grads_tuple(const ConvGrads& g) {
  return py::make_tuple(g.input ? py::cast(*g.input) : py::none(),
                        g.weight ? py::cast(*g.weight) : py::none(),
                        g.bias ? py::cast(*g.bias) : py::none());
}

template <class Forward>
void def_forward(py::module_& m, const char* name, Forward fn, const char* doc) {
  m.def(name, [fn](const Tensor& x, const Tensor& weight, const OptTensor& bias, const Ints& stride,
                   const Ints& padding, const Ints& dilation, int64_t groups, bool channels_last) {
          py::gil_scoped_release release;
          return fn(x, weight, bias, params(stride, padding, dilation, groups, channels_last));
        },
        py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"),
        py::arg("dilation"), py::arg("groups"), py::arg("channels_last"), doc);
}

template <class Backward>
void def_backward(py::module_& m, const char* name, Backward fn, const char* doc) {
  m.def(name, [fn](const Tensor& grad, const Tensor& x, const Tensor& weight, const Ints& stride,
                   const Ints& padding, const Ints& dilation, int64_t groups, bool channels_last,
                   bool need_input, bool need_weight, bool need_bias) {
          ConvGrads g;
          {
            py::gil_scoped_release release;
            g = fn(grad, x, weight, params(stride, padding, dilation, groups, channels_last),
                   need_input, need_weight, need_bias);
          }
          return grads_tuple(g);
        },
        py::arg("grad"), py::arg("x"), py::arg("weight"), py::arg("stride"), py::arg("padding"),
        py::arg("dilation"), py::arg("groups"), py::arg("channels_last"), py::arg("need_input"),
        py::arg("need_weight"), py::arg("need_bias"), doc);
}

}  // namespace

void bind_conv(py::module_& m) {
  def_forward(m, "conv2d", &conv2d,
              "2-d convolution (cross-correlation) plus bias (or None). channels_last=False: "
              "x (N, C_in, H, W), weight (C_out, C_in/groups, kh, kw) -> (N, C_out, OH, OW); True: "
              "x (N, H, W, C_in), weight (kh, kw, C_in/groups, C_out) -> (N, OH, OW, C_out). "
              "stride, dilation: (h, w); padding: (h, w) or (top, bottom, left, right).");
  def_backward(m, "conv2d_backward", &conv2d_backward,
               "(grad_x, grad_weight, grad_bias) of conv2d from the output's gradient; None where "
               "not asked for.");
  def_forward(m, "conv1d", &conv1d,
              "1-d convolution plus bias (or None). channels_last=False: x (N, C_in, L), weight "
              "(C_out, C_in/groups, k); True: x (N, L, C_in), weight (k, C_in/groups, C_out). "
              "stride, dilation: (s,); padding: (p,) or (left, right).");
  def_backward(m, "conv1d_backward", &conv1d_backward,
               "(grad_x, grad_weight, grad_bias) of conv1d from the output's gradient; None where "
               "not asked for.");
}

}  // namespace ember

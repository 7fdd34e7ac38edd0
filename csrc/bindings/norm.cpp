// Python entry points of the normalization family: batch norm and layer norm, forward and backward.
#include "bindings/bindings.h"
#include <pybind11/stl.h>

#include "cpu/norm.h"

namespace py = pybind11;

namespace ember {

namespace {

py::object optional_tensor(const std::optional<Tensor>& t) { return t ? py::cast(*t) : py::none(); }

py::tuple grads_tuple(const NormGrads& g) {
  return py::make_tuple(optional_tensor(g.input), optional_tensor(g.weight), optional_tensor(g.bias));
}

}  // namespace

void bind_norm(py::module_& m) {
  m.def("batch_norm", [](const Tensor& x, const std::optional<Tensor>& weight, const std::optional<Tensor>& bias,
                         const std::optional<Tensor>& running_mean, const std::optional<Tensor>& running_var,
                         bool training, double momentum, double eps, bool channels_last) {
    BatchNormForward r;
    {
      py::gil_scoped_release release;
      r = batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps, channels_last);
    }
    return py::make_tuple(r.out, r.save_mean, r.save_invstd);
  }, py::arg("x"), py::arg("weight"), py::arg("bias"), py::arg("running_mean"), py::arg("running_var"),
     py::arg("training"), py::arg("momentum"), py::arg("eps"), py::arg("channels_last") = false,
     "(out, save_mean, save_invstd): x (N, C, *) normalised per channel (channels last with channels_last). "
     "Training: batch statistics, running_mean / running_var updated in place (unbiased variance); eval: the "
     "running statistics. save_mean / save_invstd are float64 (C,), for batch_norm_backward.");
  m.def("batch_norm_backward", [](const Tensor& grad, const Tensor& x, const std::optional<Tensor>& weight,
                                  const Tensor& save_mean, const Tensor& save_invstd, bool training,
                                  bool channels_last, bool need_input, bool need_weight, bool need_bias) {
    NormGrads g;
    {
      py::gil_scoped_release release;
      g = batch_norm_backward(grad, x, weight, save_mean, save_invstd, training, channels_last, need_input,
                              need_weight, need_bias);
    }
    return grads_tuple(g);
  }, py::arg("grad"), py::arg("x"), py::arg("weight"), py::arg("save_mean"), py::arg("save_invstd"),
     py::arg("training"), py::arg("channels_last"), py::arg("need_input"), py::arg("need_weight"),
     py::arg("need_bias"), "(grad_x, grad_weight, grad_bias) of batch_norm; None where not asked for.");
  m.def("layer_norm", [](const Tensor& x, const Shape& normalized_shape, const std::optional<Tensor>& weight,
                         const std::optional<Tensor>& bias, double eps) {
    LayerNormForward r;
    {
      py::gil_scoped_release release;
      r = layer_norm(x, normalized_shape, weight, bias, eps);
    }
    return py::make_tuple(r.out, r.mean, r.rstd);
  }, py::arg("x"), py::arg("normalized_shape"), py::arg("weight"), py::arg("bias"), py::arg("eps"),
     "(out, mean, rstd): x normalised over its trailing normalized_shape dims; mean / rstd are float64 with "
     "x's leading dims, for layer_norm_backward.");
  m.def("layer_norm_backward", [](const Tensor& grad, const Tensor& x, const Shape& normalized_shape,
                                  const std::optional<Tensor>& weight, const Tensor& mean, const Tensor& rstd,
                                  bool need_input, bool need_weight, bool need_bias) {
    NormGrads g;
    {
      py::gil_scoped_release release;
      g = layer_norm_backward(grad, x, normalized_shape, weight, mean, rstd, need_input, need_weight, need_bias);
    }
    return grads_tuple(g);
  }, py::arg("grad"), py::arg("x"), py::arg("normalized_shape"), py::arg("weight"), py::arg("mean"),
     py::arg("rstd"), py::arg("need_input"), py::arg("need_weight"), py::arg("need_bias"),
     "(grad_x, grad_weight, grad_bias) of layer_norm; None where not asked for.");
}

}  // namespace ember

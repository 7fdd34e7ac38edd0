// Python entry points of the reduction family: reductions over axes, max/min/argmax/argmin along
// one axis, var/std, softmax, log_softmax and logsumexp. Argument order matches python/ember.
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "cpu/reduce.h"

namespace py = pybind11;

namespace ember {
namespace {

using cpu::Dims;

// A CUDA tensor is reduced on the host and the result copied back, until the CUDA backend has
// reduction kernels of its own.
template <class F>
auto on_host(const Tensor& x, const F& f) {
  if (x.device().is_cpu()) return f(x);
  auto result = f(to_device(x, Device{}));
  if constexpr (std::is_same<decltype(result), Tensor>::value) {
    return to_device(result, x.device());
  } else {
    return std::make_pair(to_device(result.first, x.device()), to_device(result.second, x.device()));
  }
}

template <Tensor (*Op)(const Tensor&, const Dims&, bool)>
void def_axes_reduction(py::module_& m, const char* name, const char* doc) {
  m.def(name, [](const Tensor& x, const Dims& dims, bool keepdim) {
    return on_host(x, [&](const Tensor& h) { return Op(h, dims, keepdim); });
  }, py::arg("x"), py::arg("dims") = py::none(), py::arg("keepdim") = false, doc);
}

template <Tensor (*Op)(const Tensor&, const Dims&, double, bool)>
void def_moment(py::module_& m, const char* name, const char* doc) {
  m.def(name, [](const Tensor& x, const Dims& dims, double correction, bool keepdim) {
    return on_host(x, [&](const Tensor& h) { return Op(h, dims, correction, keepdim); });
  }, py::arg("x"), py::arg("dims") = py::none(), py::arg("correction") = 1.0, py::arg("keepdim") = false, doc);
}

template <std::pair<Tensor, Tensor> (*Op)(const Tensor&, int64_t, bool)>
void def_extreme_along(py::module_& m, const char* name, const char* doc) {
  m.def(name, [](const Tensor& x, int64_t dim, bool keepdim) {
    return on_host(x, [&](const Tensor& h) { return Op(h, dim, keepdim); });
  }, py::arg("x"), py::arg("dim"), py::arg("keepdim") = false, doc);
}

template <Tensor (*Op)(const Tensor&, std::optional<int64_t>, bool)>
void def_arg_extreme(py::module_& m, const char* name, const char* doc) {
  m.def(name, [](const Tensor& x, std::optional<int64_t> dim, bool keepdim) {
    return on_host(x, [&](const Tensor& h) { return Op(h, dim, keepdim); });
  }, py::arg("x"), py::arg("dim") = py::none(), py::arg("keepdim") = false, doc);
}

template <Tensor (*Op)(const Tensor&, int64_t)>
void def_softmax(py::module_& m, const char* name, const char* doc) {
  m.def(name, [](const Tensor& x, int64_t dim) {
    return on_host(x, [&](const Tensor& h) { return Op(h, dim); });
  }, py::arg("x"), py::arg("dim"), doc);
}

}  // namespace

void bind_reduce(py::module_& m) {
  def_axes_reduction<cpu::sum>(m, "sum", "Sum over dims (None: all); bool/int inputs give int64.");
  def_axes_reduction<cpu::mean>(m, "mean", "Mean over dims (None: all); floating inputs only.");
  def_axes_reduction<cpu::prod>(m, "prod", "Product over dims (None: all); bool/int inputs give int64.");
  def_axes_reduction<cpu::amax>(m, "amax", "Largest element over dims (None: all); NaN propagates.");
  def_axes_reduction<cpu::amin>(m, "amin", "Smallest element over dims (None: all); NaN propagates.");
  def_axes_reduction<cpu::all>(m, "all", "True where every element over dims is nonzero.");
  def_axes_reduction<cpu::any>(m, "any", "True where some element over dims is nonzero.");
  def_axes_reduction<cpu::logsumexp>(m, "logsumexp", "log(sum(exp(x))) over dims, computed without overflow.");
  def_moment<cpu::var>(m, "var", "Variance over dims with sum((x - mean)^2) / (N - correction).");
  def_moment<cpu::std_dev>(m, "std", "Standard deviation: the square root of var.");
  def_extreme_along<cpu::max_dim>(m, "max_dim", "(values, int64 indices) of the largest elements along dim.");
  def_extreme_along<cpu::min_dim>(m, "min_dim", "(values, int64 indices) of the smallest elements along dim.");
  def_arg_extreme<cpu::argmax>(m, "argmax", "Index of the first largest element along dim (None: flattened).");
  def_arg_extreme<cpu::argmin>(m, "argmin", "Index of the first smallest element along dim (None: flattened).");
  def_softmax<cpu::softmax>(m, "softmax", "exp(x - max) / sum along dim.");
  def_softmax<cpu::log_softmax>(m, "log_softmax", "(x - max) - log(sum(exp(x - max))) along dim.");
}

}  // namespace ember

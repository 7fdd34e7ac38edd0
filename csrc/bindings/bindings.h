// One registration function per op family, called in this order by module.cpp.
#pragma once
#include <pybind11/pybind11.h>

#include "core/tensor.h"

namespace ember {

void bind_tensor(pybind11::module_& m);   // the Tensor class, dtypes, devices, views, interop
void bind_factory(pybind11::module_& m);  // empty / full / arange / linspace / eye / from_numpy
void bind_unary(pybind11::module_& m);
void bind_activation_backward(pybind11::module_& m);  // and dropout
void bind_binary(pybind11::module_& m);
void bind_reduce(pybind11::module_& m);
void bind_matmul(pybind11::module_& m);
void bind_index(pybind11::module_& m);
void bind_random(pybind11::module_& m);
void bind_optim(pybind11::module_& m);   // sgd_step / adam_step / rmsprop_step / adagrad_step
void bind_loss(pybind11::module_& m);    // softmax backward, cross-entropy / NLL, elementwise losses
void bind_autograd(pybind11::module_& m);  // Function.apply's fast path for ember's own ops
void bind_norm(pybind11::module_& m);    // batch norm, layer norm
void bind_pool(pybind11::module_& m);    // max / average / adaptive average 2-d pooling
void bind_conv(pybind11::module_& m);    // conv1d / conv2d and their backward, both layouts
void bind_rnn(pybind11::module_& m);     // recurrent layers through time, embedding lookup
void bind_cuda(pybind11::module_& m);

// A Python scalar argument (bool, int or float) as the op-specific value, with its kind kept so
// that `int_tensor + 2` stays int64 and `int_tensor + 2.5` becomes float32, as in PyTorch.
struct Scalar {
  double value = 0;
  enum Kind { Bool, Int, Float } kind = Float;
  int64_t integer = 0;  // exact value of a Bool / Int that fits in int64
  bool fits_int64 = true;
};
// The dtype a binary op computes in when a tensor meets a Python scalar (PyTorch's rules).
DType result_type(DType tensor_dtype, const Scalar& s);

}  // namespace ember

namespace pybind11 {
namespace detail {

// Python bool / int / float (and NumPy scalars, via __index__ / __float__) -> ember::Scalar.
template <>
struct type_caster<ember::Scalar> {
  PYBIND11_TYPE_CASTER(ember::Scalar, const_name("float | int | bool"));
  bool load_int(PyObject* o) {
    double v = PyLong_AsDouble(o);
    if (v == -1.0 && PyErr_Occurred()) { PyErr_Clear(); return false; }
    int overflow = 0;
    long long exact = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (exact == -1 && PyErr_Occurred()) PyErr_Clear();
    value = {v, ember::Scalar::Int, overflow ? 0 : (int64_t)exact, overflow == 0};
    return true;
  }
  bool load(handle src, bool convert) {
    PyObject* o = src.ptr();
    if (PyBool_Check(o)) {
      value = {o == Py_True ? 1.0 : 0.0, ember::Scalar::Bool, o == Py_True ? 1 : 0};
      return true;
    }
    if (PyLong_Check(o)) return load_int(o);
    if (PyFloat_Check(o)) {
      value = {PyFloat_AS_DOUBLE(o), ember::Scalar::Float};
      return true;
    }
    if (!convert || PyObject_HasAttrString(o, "_is_ember_tensor")) return false;
    if (PyIndex_Check(o)) {
      object i = reinterpret_steal<object>(PyNumber_Index(o));
      if (!i) { PyErr_Clear(); return false; }
      return load_int(i.ptr());
    }
    if (Py_TYPE(o)->tp_as_number && Py_TYPE(o)->tp_as_number->nb_float) {
      double v = PyFloat_AsDouble(o);
      if (v == -1.0 && PyErr_Occurred()) { PyErr_Clear(); return false; }
      value = {v, ember::Scalar::Float};
      return true;
    }
    return false;
  }
  static handle cast(const ember::Scalar& s, return_value_policy, handle) {
    if (s.kind == ember::Scalar::Bool) return PyBool_FromLong(s.value != 0);
    if (s.kind == ember::Scalar::Int) return PyLong_FromDouble(s.value);
    return PyFloat_FromDouble(s.value);
  }
};

}  // namespace detail
}  // namespace pybind11

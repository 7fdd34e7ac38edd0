// Factories that fill new tensors: empty, full, arange, linspace, eye.
#include <pybind11/stl.h>

#include <cmath>

#include "bindings/bindings.h"
#include "bindings/convert.h"
#include "core/errors.h"
#include "core/parallel.h"

namespace py = pybind11;

namespace ember {

// Fills a fresh contiguous CPU tensor with value(i) for i in [0, n), then moves it to `device`.
template <class ValueAt>
static Tensor generate(int64_t n, DType dtype, Device device, const ValueAt& value_at) {
  Tensor t = empty({n}, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    parallel_for(0, n, kElementwiseGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = static_cast<T>(value_at(i));
    });
  });
  return to_device(t, device);
}

static Tensor arange(double start, double end, double step, DType dtype, py::handle device) {
  EMBER_CHECK(step != 0, ValueError, "arange: step must be nonzero");
  EMBER_CHECK(std::isfinite(start) && std::isfinite(end), ValueError, "arange: start (", start, ") and end (",
              end, ") must be finite");
  EMBER_CHECK((end - start) * step >= 0, ValueError, "arange: the bounds [", start, ", ", end,
              ") are inconsistent with the sign of step ", step);
  double count = std::ceil((end - start) / step);
  EMBER_CHECK(count < 1e15, ValueError, "arange: too many elements (", count, ")");
  return generate((int64_t)count, dtype, device_arg(device), [&](int64_t i) { return start + i * step; });
}

static Tensor linspace(double start, double end, int64_t steps, DType dtype, py::handle device) {
  EMBER_CHECK(steps >= 0, ValueError, "linspace: number of steps must be non-negative, got ", steps);
  double step = steps > 1 ? (end - start) / (double)(steps - 1) : 0.0;
  int64_t half = (steps + 1) / 2;
  // Both ends are exact: the first half counts up from start, the second down from end.
  return generate(steps, dtype, device_arg(device), [&](int64_t i) {
    return i < half ? start + i * step : end - (steps - 1 - i) * step;
  });
}

static Tensor eye(int64_t n, std::optional<int64_t> m_opt, DType dtype, py::handle device) {
  int64_t m = m_opt ? *m_opt : n;
  EMBER_CHECK(n >= 0 && m >= 0, ValueError, "eye: sizes must be non-negative, got n=", n, ", m=", m);
  Tensor t = full({n, m}, 0.0, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0; i < std::min(n, m); ++i) p[i * m + i] = T(1);
  });
  return to_device(t, device_arg(device));
}

Tensor full_from_scalar(const char* op, const Shape& shape, const Scalar& value, DType dtype, Device device) {
  bool integer_dtype = dtype == DType::Int64 || dtype == DType::Int32;
  if (!integer_dtype) return full(shape, value.value, dtype, device);
  bool exact = value.kind != Scalar::Float;
  bool fits;
  if (exact) {
    fits = value.fits_int64 &&
           (dtype == DType::Int64 || (value.integer >= INT32_MIN && value.integer <= INT32_MAX));
  } else {
    double lo = dtype == DType::Int64 ? -9223372036854775808.0 : -2147483648.0;
    fits = value.value >= lo && value.value < -lo;  // false for NaN
  }
  EMBER_CHECK(fits, RuntimeError, op, ": value ",
              exact && value.fits_int64 ? std::to_string(value.integer)
              : exact ? py::str(py::int_(py::float_(value.value))).cast<std::string>()
                      : py::str(py::float_(value.value)).cast<std::string>(),
              " cannot be converted to type ", dtype_name(dtype), " without overflow");
  return exact ? full_int(shape, value.integer, dtype, device) : full(shape, value.value, dtype, device);
}

void bind_factory(py::module_& m) {
  m.def("empty", [](const Shape& shape, DType dtype, py::handle device) {
    check_shape(shape, "empty");
    return empty(shape, dtype, device_arg(device));
  });
  m.def("full", [](const Shape& shape, Scalar value, DType dtype, py::handle device) {
    check_shape(shape, "full");
    return full_from_scalar("full", shape, value, dtype, device_arg(device));
  });
  m.def("arange", &arange);
  m.def("linspace", &linspace);
  m.def("eye", &eye);
}

}  // namespace ember

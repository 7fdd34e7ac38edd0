// Element types and the one place that turns a run-time dtype into a C++ type.
#pragma once
#include <cstdint>

namespace ember {

enum class DType : int8_t { Float32 = 0, Float64 = 1, Int64 = 2, Int32 = 3, Bool = 4 };

int64_t itemsize(DType dtype);
const char* dtype_name(DType dtype);  // "float32", ...
bool is_floating(DType dtype);
// PyTorch's spelling of a dtype in its error messages ("Float", "Long", ...), so messages that
// follow PyTorch's wording read the same.
const char* torch_type_name(DType dtype);
// The dtype Python floats become, and integer math (true division, exp of an int) computes in:
// float32 unless ember.set_default_dtype changed it (float32 or float64 only).
DType default_float_dtype();
void set_default_float_dtype(DType dtype);
// PyTorch's promotion between two tensors: bool < integers < floats, wider wins within a kind.
DType promote_types(DType a, DType b);

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };

// Calls f(T{}) with T the C++ type of `dtype`. Usage:
//   dispatch_all(t.dtype, [&](auto tag) { using T = decltype(tag); ... });
template <class F>
decltype(auto) dispatch_all(DType dtype, F&& f) {
  switch (dtype) {
    case DType::Float32: return f(float{});
    case DType::Float64: return f(double{});
    case DType::Int64: return f(int64_t{});
    case DType::Int32: return f(int32_t{});
    case DType::Bool: break;
  }
  return f(bool{});
}

// The same for float32 / float64 only; the caller has already rejected other dtypes.
template <class F>
decltype(auto) dispatch_float(DType dtype, F&& f) {
  if (dtype == DType::Float64) return f(double{});
  return f(float{});
}

}  // namespace ember

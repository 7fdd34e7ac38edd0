// Binary elementwise ops on a CUDA device. Shape convention: out, a and b have the same shape,
// dtype and device and are contiguous (the caller broadcasts and converts beforehand), so a kernel
// sees three flat arrays of n elements.
#include <type_traits>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_common.cuh"

namespace ember {
namespace cuda {

// Written here until a shared host/device scalar-formula header exists; move it there then. bool
// follows PyTorch: True + True stays True (logical or).
template <class T>
__device__ inline T add_value(T x, T y) {
  if constexpr (std::is_same<T, bool>::value)
    return x || y;
  else
    return x + y;
}

template <class T>
__global__ void add_kernel(int64_t n, T* out, const T* a, const T* b) {
  for (int64_t i = grid_stride_begin(); i < n; i += grid_stride_step()) out[i] = add_value(a[i], b[i]);
}

static void check_same_contiguous(const char* op, const Tensor& out, const Tensor& a, const Tensor& b) {
  bool same = out.dtype == a.dtype && out.dtype == b.dtype && out.shape == a.shape && out.shape == b.shape &&
              out.device() == a.device() && out.device() == b.device();
  bool contiguous = out.is_contiguous() && a.is_contiguous() && b.is_contiguous();
  EMBER_CHECK(same && contiguous && out.device().is_cuda(), RuntimeError, op,
              ": expected contiguous operands of one shape, dtype and CUDA device, got out ", shape_str(out.shape),
              " ", dtype_name(out.dtype), " on ", out.device().str(), ", a ", shape_str(a.shape), " ",
              dtype_name(a.dtype), " on ", a.device().str(), ", b ", shape_str(b.shape), " ", dtype_name(b.dtype),
              " on ", b.device().str());
}

void add(const Tensor& out, const Tensor& a, const Tensor& b) {
  const char* op = "add on cuda";
  check_same_contiguous(op, out, a, b);
  const int64_t n = out.numel();
  if (n == 0) return;
  DeviceGuard guard(out.device().index, op);
  dispatch_all(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    launch_elementwise(op, add_kernel<T>, n, out.data<T>(), a.data<T>(), b.data<T>());
  });
}

}  // namespace cuda
}  // namespace ember

// Copies and fills with at least one side on a CUDA device.
//
// Shape convention: `dst` has the full shape; `src` is broadcast to it (stride 0 on broadcast
// dims). Strides are in elements and may be negative or zero; dtypes may differ (converted as a
// C++ cast, to bool as `!= 0`, the same rule as the CPU copy).
//
// Plan: the host side of a transfer is first made contiguous in dst's dtype with the CPU copy, one
// cudaMemcpy moves it, and a strided kernel on the device does whatever layout or dtype change
// remains. Device-to-host is the mirror image; between two devices the data goes through the host.
// cudaMemcpy to or from pageable host memory returns only once the host buffer may be reused, so
// host staging buffers are freed safely when they go out of scope.
#include <cstring>
#include <type_traits>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_common.cuh"

namespace ember {
namespace cuda {

// ---- layout -----------------------------------------------------------------------------------
constexpr int kMaxDims = 12;

// Shape and the strides of two operands (dst, src), passed to kernels by value. Dims of size 1
// are dropped and dims that both operands walk as one run are merged, so most copies reach the
// kernel with one to three dims.
struct StridedLayout {
  int ndim = 0;
  int64_t sizes[kMaxDims];
  int64_t dst_strides[kMaxDims];
  int64_t src_strides[kMaxDims];
};

static StridedLayout make_layout(const Shape& shape, const Shape& dst_strides, const Shape& src_strides,
                                 const char* op) {
  std::vector<int64_t> sizes, dst_st, src_st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool mergeable = !sizes.empty() && dst_st.back() == dst_strides[d] * shape[d] &&
                     src_st.back() == src_strides[d] * shape[d];
    if (mergeable) {
      sizes.back() *= shape[d];
      dst_st.back() = dst_strides[d];
      src_st.back() = src_strides[d];
    } else {
      sizes.push_back(shape[d]);
      dst_st.push_back(dst_strides[d]);
      src_st.push_back(src_strides[d]);
    }
  }
  EMBER_CHECK(sizes.size() <= (size_t)kMaxDims, RuntimeError, op, ": tensors of shape ", shape_str(shape),
              " with strides ", shape_str(dst_strides), " and ", shape_str(src_strides), " need ", sizes.size(),
              " dimensions after merging, more than the ", kMaxDims, " CUDA copies support");
  StridedLayout layout;
  layout.ndim = (int)sizes.size();
  for (int d = 0; d < layout.ndim; ++d) {
    layout.sizes[d] = sizes[d];
    layout.dst_strides[d] = dst_st[d];
    layout.src_strides[d] = src_st[d];
  }
  return layout;
}

// Element offsets of the i-th element (row-major over layout.sizes) in dst and in src.
__host__ __device__ inline void element_offsets(const StridedLayout& layout, int64_t i, int64_t& dst_offset,
                                       int64_t& src_offset) {
  if (layout.ndim <= 1) {  // the common contiguous-or-simply-strided case: no division
    dst_offset = layout.ndim ? i * layout.dst_strides[0] : 0;
    src_offset = layout.ndim ? i * layout.src_strides[0] : 0;
    return;
  }
  dst_offset = 0;
  src_offset = 0;
  for (int d = layout.ndim - 1; d >= 0; --d) {
    int64_t index = i % layout.sizes[d];
    i /= layout.sizes[d];
    dst_offset += index * layout.dst_strides[d];
    src_offset += index * layout.src_strides[d];
  }
}

template <class D, class S>
__host__ __device__ inline D convert_value(S v) {
  if constexpr (std::is_same<D, bool>::value)
    return v != S(0);
  else
    return static_cast<D>(v);
}

// ---- kernels ----------------------------------------------------------------------------------
template <class D, class S>
__global__ void strided_convert_kernel(int64_t n, D* dst, const S* src, StridedLayout layout) {
  for (int64_t i = grid_stride_begin(); i < n; i += grid_stride_step()) {
    int64_t dst_offset, src_offset;
    element_offsets(layout, i, dst_offset, src_offset);
    dst[dst_offset] = convert_value<D>(src[src_offset]);
  }
}

template <class T>
__global__ void fill_kernel(int64_t n, T* dst, T value, StridedLayout layout) {
  for (int64_t i = grid_stride_begin(); i < n; i += grid_stride_step()) {
    int64_t dst_offset, unused;
    element_offsets(layout, i, dst_offset, unused);
    dst[dst_offset] = value;
  }
}

// ---- launchers --------------------------------------------------------------------------------
// dst <- src, both on the current device, any strides and dtypes, same shape.
static void copy_on_device(const Tensor& dst, const Tensor& src, const char* op) {
  const int64_t n = dst.numel();
  if (dst.dtype == src.dtype && dst.is_contiguous() && src.is_contiguous()) {
    if (dst.raw_data() == src.raw_data()) return;  // x.copy_(x): cudaMemcpy must not overlap
    EMBER_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), n * itemsize(dst.dtype),
                                     cudaMemcpyDeviceToDevice, 0),
                     op);
    return;
  }
  StridedLayout layout = make_layout(dst.shape, dst.strides, src.strides, op);
  dispatch_all(dst.dtype, [&](auto dst_tag) {
    dispatch_all(src.dtype, [&](auto src_tag) {
      using D = decltype(dst_tag);
      using S = decltype(src_tag);
      launch_elementwise(op, strided_convert_kernel<D, S>, n, dst.data<D>(), src.data<S>(), layout);
    });
  });
}

// `t` as a contiguous tensor of `dtype` on its own device (t itself when it already is one).
static Tensor contiguous_as(const Tensor& t, DType dtype, const char* op) {
  if (t.dtype == dtype && t.is_contiguous()) return t;
  Tensor out = empty(t.shape, dtype, t.device());
  if (t.device().is_cpu())
    ember::copy_(out, t);
  else
    copy_on_device(out, t, op);
  return out;
}

static void copy_host_to_device(const Tensor& dst, const Tensor& src) {
  const char* op = "copy to cuda";
  DeviceGuard guard(dst.device().index, op);
  Tensor staged = contiguous_as(src, dst.dtype, op);
  const int64_t nbytes = dst.numel() * itemsize(dst.dtype);
  if (dst.is_contiguous()) {
    EMBER_CUDA_CHECK(cudaMemcpy(dst.raw_data(), staged.raw_data(), nbytes, cudaMemcpyHostToDevice), op);
    return;
  }
  Tensor landing = empty(dst.shape, dst.dtype, dst.device());
  EMBER_CUDA_CHECK(cudaMemcpy(landing.raw_data(), staged.raw_data(), nbytes, cudaMemcpyHostToDevice), op);
  copy_on_device(dst, landing, op);
}

static void copy_device_to_host(const Tensor& dst, const Tensor& src) {
  const char* op = "copy from cuda";
  DeviceGuard guard(src.device().index, op);
  Tensor staged = contiguous_as(src, dst.dtype, op);
  const int64_t nbytes = dst.numel() * itemsize(dst.dtype);
  if (dst.is_contiguous()) {
    EMBER_CUDA_CHECK(cudaMemcpy(dst.raw_data(), staged.raw_data(), nbytes, cudaMemcpyDeviceToHost), op);
    return;
  }
  Tensor landing = empty(dst.shape, dst.dtype);
  EMBER_CUDA_CHECK(cudaMemcpy(landing.raw_data(), staged.raw_data(), nbytes, cudaMemcpyDeviceToHost), op);
  ember::copy_(dst, landing);
}

void copy_(const Tensor& dst, const Tensor& src_unbroadcast) {
  Tensor src = broadcast_to(src_unbroadcast, dst.shape, "copy");
  if (dst.numel() == 0) return;
  const Device to = dst.device(), from = src.device();
  if (to.is_cuda() && from.is_cuda() && to == from) {
    DeviceGuard guard(to.index, "copy on cuda");
    copy_on_device(dst, src, "copy on cuda");
  } else if (to.is_cuda() && from.is_cuda()) {
    // Rare enough that simplicity wins over peer-to-peer transfers.
    Tensor host = empty(dst.shape, dst.dtype);
    copy_device_to_host(host, src);
    copy_host_to_device(dst, host);
  } else if (to.is_cuda()) {
    copy_host_to_device(dst, src);
  } else {
    copy_device_to_host(dst, src);
  }
}

void fill(const Tensor& dst, double value) {
  const char* op = "fill on cuda";
  const int64_t n = dst.numel();
  if (n == 0) return;
  DeviceGuard guard(dst.device().index, op);
  dispatch_all(dst.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T v = static_cast<T>(value);  // the CPU fill's conversion (to bool: value != 0)
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));
    bool all_zero_bytes = true;
    for (unsigned char b : bytes) all_zero_bytes = all_zero_bytes && b == 0;
    if (all_zero_bytes && dst.is_contiguous()) {
      EMBER_CUDA_CHECK(cudaMemsetAsync(dst.raw_data(), 0, n * sizeof(T), 0), op);
      return;
    }
    StridedLayout layout = make_layout(dst.shape, dst.strides, dst.strides, op);
    launch_elementwise(op, fill_kernel<T>, n, dst.data<T>(), v, layout);
  });
}

}  // namespace cuda
}  // namespace ember

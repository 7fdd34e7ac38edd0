// What every .cu file of the CUDA backend shares: the error check that turns a failed CUDA call
// into an ember::RuntimeError (pybind11 raises it in Python; library code never exits), the guard
// that makes a tensor's device current, and the one launch helper for 1-D grid-stride kernels.
//
// All work goes to the legacy default stream of the current device, so kernels, device-to-device
// copies and the reuse of cached allocator blocks are ordered without events.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <utility>

#include "core/errors.h"

namespace ember {
namespace cuda {

// Throws RuntimeError "<op>: CUDA error: <description> (<name>) in <call>" after clearing the
// runtime's last-error slot, so that one failure is not reported again by the next check.
[[noreturn]] void throw_cuda_error(cudaError_t status, const char* op, const char* call);

}  // namespace cuda
}  // namespace ember

// EMBER_CUDA_CHECK(cudaMemcpy(...), "copy to cuda"): `op` is what the user asked for. A macro only
// so that the failing call's text can go into the message.
#define EMBER_CUDA_CHECK(call, op)                                                 \
  do {                                                                             \
    cudaError_t ember_cuda_status_ = (call);                                       \
    if (ember_cuda_status_ != cudaSuccess)                                         \
      ::ember::cuda::throw_cuda_error(ember_cuda_status_, (op), #call);            \
  } while (0)

namespace ember {
namespace cuda {

// RuntimeError naming `op` unless CUDA is usable and cuda:<device> exists; the message carries
// unavailable_reason() when CUDA itself is missing.
void require_device(int device, const char* op);

// Makes cuda:<device> current while it lives (after require_device) and restores the previous
// current device afterwards.
class DeviceGuard {
 public:
  DeviceGuard(int device, const char* op);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
  bool switched_ = false;
};

// ---- launching ------------------------------------------------------------------------------
// Kernels take the element count first and walk it with a grid-stride loop:
//   for (int64_t i = grid_stride_begin(); i < n; i += grid_stride_step()) ...
// so any n works, including n > 2^31, with a grid no larger than kMaxBlocks.
constexpr int kThreadsPerBlock = 256;
constexpr int64_t kMaxBlocks = 65536;  // enough to fill any current GPU several times over

inline unsigned int grid_blocks(int64_t n) {
  int64_t blocks = (n + kThreadsPerBlock - 1) / kThreadsPerBlock;
  return static_cast<unsigned int>(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

__device__ inline int64_t grid_stride_begin() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t grid_stride_step() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

// kernel<<<...>>>(n, args...) on the current device's default stream, then the error check. Does
// nothing for n == 0 (a zero-block launch is an error in CUDA).
template <class... KernelArgs, class... Args>
void launch_elementwise(const char* op, void (*kernel)(int64_t, KernelArgs...), int64_t n, Args&&... args) {
  if (n <= 0) return;
  kernel<<<grid_blocks(n), kThreadsPerBlock>>>(n, std::forward<Args>(args)...);
  EMBER_CUDA_CHECK(cudaGetLastError(), op);
}

}  // namespace cuda
}  // namespace ember

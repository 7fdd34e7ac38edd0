// Device queries of the CUDA backend: whether CUDA can be used here (and why not), how many
// devices there are, synchronisation, and the error reporting shared by every .cu file.
//
// Nothing here runs at import: the first query calls cudaGetDeviceCount once and caches the answer,
// so a machine without a driver or a GPU imports ember and simply reports CUDA as unavailable.
#include <string>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_common.cuh"

namespace ember {
namespace cuda {

namespace {

struct Availability {
  std::string reason;  // empty when CUDA is usable
  int device_count = 0;
};

std::string runtime_version() {
  return str_cat(CUDART_VERSION / 1000, ".", (CUDART_VERSION % 1000) / 10);
}

std::string describe_failed_device_count(cudaError_t status) {
  std::string detail = str_cat("cudaGetDeviceCount: ", cudaGetErrorString(status));
  switch (status) {
    // No libcuda, only its stub, a driver older than this runtime, or a kernel module that does
    // not match the user-space driver: in every case the fix is installing a suitable driver.
    case cudaErrorInsufficientDriver:
    case cudaErrorStubLibrary:
    case cudaErrorSystemDriverMismatch:
      return str_cat("no CUDA driver found (", detail, "); install an NVIDIA driver that supports CUDA ",
                     runtime_version());
    // The driver is there but sees no GPU (none installed, or hidden by CUDA_VISIBLE_DEVICES).
    case cudaErrorNoDevice:
      return str_cat("no CUDA device found (", detail, ")");
    default:
      return str_cat("CUDA could not be initialised (", detail, ")");
  }
}

Availability query_availability() {
  Availability result;
  int count = 0;
  cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // leave no pending error behind for later checks
    result.reason = describe_failed_device_count(status);
  } else if (count <= 0) {
    result.reason = "no CUDA device found";
  } else {
    result.device_count = count;
  }
  return result;
}

// Queried once, on first use; the static's initialisation is thread-safe.
const Availability& availability() {
  static const Availability cached = query_availability();
  return cached;
}

}  // namespace

void throw_cuda_error(cudaError_t status, const char* op, const char* call) {
  cudaGetLastError();
  throw RuntimeError(str_cat(op, ": CUDA error: ", cudaGetErrorString(status), " (", cudaGetErrorName(status),
                             ") in ", call));
}

void require_device(int device, const char* op) {
  const Availability& a = availability();
  EMBER_CHECK(a.reason.empty(), RuntimeError, op, ": CUDA is unavailable: ", a.reason);
  EMBER_CHECK(device >= 0 && device < a.device_count, RuntimeError, op, ": device cuda:", device,
              " does not exist (", a.device_count, " CUDA device(s) visible, cuda:0 to cuda:", a.device_count - 1,
              ")");
}

DeviceGuard::DeviceGuard(int device, const char* op) {
  require_device(device, op);
  EMBER_CUDA_CHECK(cudaGetDevice(&previous_), op);
  if (previous_ != device) {
    EMBER_CUDA_CHECK(cudaSetDevice(device), op);
    switched_ = true;
  }
}

DeviceGuard::~DeviceGuard() {
  // A destructor must not throw; restoring a device that was current a moment ago cannot fail
  // for any reason the user could act on.
  if (switched_) cudaSetDevice(previous_);
}

bool built_with_cuda() { return true; }

std::string unavailable_reason() { return availability().reason; }

int device_count() { return availability().device_count; }

void synchronize(int device) {
  DeviceGuard guard(device, "synchronize");
  EMBER_CUDA_CHECK(cudaDeviceSynchronize(), "synchronize");
}

}  // namespace cuda
}  // namespace ember

// Device queries and memory statistics of the CUDA backend (or of its stand-in when not built).
#include "bindings/bindings.h"
#include "cuda/cuda_backend.h"

namespace py = pybind11;

namespace ember {

void bind_cuda(py::module_& m) {
  m.def("cuda_is_built", &cuda::built_with_cuda);
  m.def("cuda_unavailable_reason", &cuda::unavailable_reason);
  m.def("cuda_device_count", &cuda::device_count);
  m.def("cuda_synchronize", &cuda::synchronize);
  m.def("cuda_memory_allocated", &cuda::memory_allocated);
  m.def("cuda_memory_reserved", &cuda::memory_reserved);
  m.def("cuda_empty_cache", &cuda::empty_cache);
}

}  // namespace ember

// The CUDA backend's entry points as the rest of the library sees them. Implemented in
// csrc/cuda/*.cu when ember is built with CUDA, and by cuda_stub.cpp (which explains that CUDA was
// not built) otherwise. No CUDA header is needed to include this file.
#pragma once
#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace ember {
namespace cuda {

bool built_with_cuda();
// Empty when a CUDA device can be used; otherwise why not ("ember was built without CUDA",
// "no CUDA driver found: ...", "no CUDA device found").
std::string unavailable_reason();
int device_count();
void synchronize(int device);

// Device memory through the caching allocator: no cudaMalloc per op.
void* device_alloc(int64_t nbytes, int device);
void device_free(void* ptr, int64_t nbytes, int device);
int64_t memory_allocated(int device);
int64_t memory_reserved(int device);
void empty_cache();

// dst <- src with broadcasting and dtype conversion, where at least one side is on a CUDA device.
void copy_(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, double value);
void add(const Tensor& out, const Tensor& a, const Tensor& b);  // same shape, dtype and device

}  // namespace cuda
}  // namespace ember

// The tensor: shared storage plus a strided view of it (shape, strides in elements, offset in
// elements, dtype). Views share storage; kernels read `data<T>()` and the strides.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace ember {

using Shape = std::vector<int64_t>;

struct Device {
  enum Type : int8_t { CPU = 0, CUDA = 1 };
  Type type = CPU;
  int index = 0;
  bool is_cpu() const { return type == CPU; }
  bool is_cuda() const { return type == CUDA; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;  // "cpu", "cuda:0"
};
Device parse_device(const std::string& spec);  // "cpu", "cuda", "cuda:1"

// A block of memory on one device. `release` frees it (allocator cache, NumPy reference, DLPack
// deleter, ...). Storage never moves; tensors keep it alive through shared_ptr.
struct Storage {
  void* data = nullptr;
  int64_t nbytes = 0;
  Device device;
  std::function<void(void*)> release;
  // Bumped by every in-place write (check_writable); autograd compares it with the value seen when a
  // tensor was saved for backward, to refuse gradients computed from overwritten data.
  int64_t version = 0;
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (release) release(data);
  }
};

std::shared_ptr<Storage> allocate_storage(int64_t nbytes, Device device);

struct Tensor {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;  // in elements; may be 0 (broadcast) or negative (from NumPy)
  int64_t offset = 0;  // in elements, from storage->data
  DType dtype = DType::Float32;

  int64_t ndim() const { return (int64_t)shape.size(); }
  int64_t numel() const;
  bool is_contiguous() const;
  Device device() const { return storage ? storage->device : Device{}; }
  void* raw_data() const { return static_cast<char*>(storage->data) + offset * itemsize(dtype); }
  template <class T>
  T* data() const { return static_cast<T*>(raw_data()); }
};

int64_t shape_numel(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
// Normalises a possibly negative axis against ndim; IndexError naming `op` when out of range.
int64_t wrap_axis(int64_t axis, int64_t ndim, const char* op);
void check_shape(const Shape& shape, const char* op);  // no negative dims

Tensor empty(const Shape& shape, DType dtype, Device device = {});
Tensor full(const Shape& shape, double value, DType dtype, Device device = {});
// Exact for every int64 value (filled on the host, then moved): `full` goes through double.
Tensor full_int(const Shape& shape, int64_t value, DType dtype, Device device = {});
// A view of `base`'s storage; checks that every addressed element lies inside the storage.
Tensor as_strided(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset);

// NumPy broadcasting of two shapes; ValueError naming `op` when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// `t` seen with shape `out_shape` (t's shape must broadcast to it): strides 0 on broadcast dims.
Tensor broadcast_to(const Tensor& t, const Shape& out_shape, const char* op);

// Copies src into dst elementwise, broadcasting src to dst's shape and converting dtype; any
// strides on either side; CPU<->CPU here, other device pairs through the CUDA backend.
void copy_(const Tensor& dst, const Tensor& src);
// RuntimeError naming `op` when t has a 0 stride on a dim of size > 1 (an expanded view): writing
// through it would store several results in one place.
// Refuses writes through overlapping (expanded) views and bumps the storage's version counter.
void check_writable(const Tensor& t, const char* op);
Tensor contiguous(const Tensor& t);  // t itself when already contiguous
Tensor clone(const Tensor& t);       // always a fresh contiguous copy
Tensor to_dtype(const Tensor& t, DType dtype);  // t itself when dtype matches
Tensor to_device(const Tensor& t, Device device);  // t itself when device matches

}  // namespace ember

// Helpers shared by the indexing files (index.cpp, gather.cpp); not part of the op interface.
#pragma once
#include <atomic>
#include <cstdint>

#include "core/errors.h"
#include "core/tensor.h"

namespace ember {

inline Tensor to_host(const Tensor& t) { return to_device(t, Device{}); }

inline bool is_index_dtype(DType d) { return d == DType::Int64 || d == DType::Int32; }

inline void check_index_tensor(const Tensor& index, const char* op) {
  EMBER_CHECK(is_index_dtype(index.dtype), TypeError, op, ": the index must be an int64 or int32 tensor, got ",
              dtype_name(index.dtype));
}

// Calls f(W{}) with W an unsigned integer as wide as one element of `dtype`: kernels that only
// move elements share one instantiation per item size.
template <class F>
void dispatch_word(DType dtype, const F& f) {
  switch (itemsize(dtype)) {
    case 1: f(uint8_t{}); break;
    case 4: f(uint32_t{}); break;
    default: f(uint64_t{}); break;
  }
}

// Records the first bad index seen by any thread; kernels check it after their parallel loop
// (an exception must not leave an OpenMP region).
struct BadIndex {
  std::atomic<bool> found{false};
  int64_t value = 0;
  void report(int64_t v) {
    if (!found.exchange(true)) value = v;
  }
};

// Element offsets (through `strides`, one per mask dim) of the true entries of a bool mask of at
// least one dim, in C order: how x[mask] addresses x.
Tensor mask_offsets(const Tensor& mask, const Shape& strides);

}  // namespace ember

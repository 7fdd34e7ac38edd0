// Indexing and joining: x[index] get and set with NumPy's rules, the gather / scatter family along
// one dimension, nonzero, masked_fill, and cat / stack / split / chunk.
//
// Basic indices (integers, slices, None, Ellipsis) give views; position arrays and boolean masks
// (advanced indices) give new tensors through one gather or scatter kernel. The kernels run on the
// host; tensors on a CUDA device take a host round trip until the device has its own kernels.
#pragma once
#include <optional>
#include <vector>

#include "core/tensor.h"

namespace ember {

// One entry of an index tuple, stripped of its Python types by the bindings.
struct IndexEntry {
  enum Kind : int8_t { Integer, Slice, NewAxis, Ellipsis, BoolScalar, Array };
  Kind kind = Slice;
  int64_t integer = 0;                 // Integer: the position (may be negative); BoolScalar: 0 / 1
  std::optional<int64_t> start, stop;  // Slice bounds as Python wrote them; nullopt for None
  int64_t step = 1;                    // Slice step, must be > 0
  Tensor array;                        // Array: int64 / int32 positions or a bool mask
};
using Index = std::vector<IndexEntry>;

Tensor index_get(const Tensor& x, const Index& index);
// Writes value (broadcast to the indexed shape, converted to x's dtype) into x; with repeated
// positions the last write wins.
// accumulate: add value at the positions (repeats add once each) instead of writing it.
void index_put(const Tensor& x, const Index& index, const Tensor& value, bool accumulate = false);

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
// out[..., i, ...] = x[..., index[..., i, ...], ...] along dim; out has index's shape.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
// x[..., index[..., i, ...], ...] += src[..., i, ...] along dim, in place.
void scatter_add_(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor nonzero(const Tensor& x);  // int64 (count, ndim), positions in C order
// x where mask is false, value (a one-element tensor) where true; x and mask broadcast.
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value);

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim);
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim);  // views
std::vector<Tensor> split_with_sizes(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim);

}  // namespace ember

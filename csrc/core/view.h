// Views: new shape/strides/offset over the same storage, never a copy (except `reshape`, which
// copies when no view can express the result, as NumPy and PyTorch do).
#pragma once
#include <vector>

#include "core/tensor.h"

namespace ember {

// `shape` may hold one -1, inferred from the element count.
Tensor reshape(const Tensor& t, const Shape& shape);
Tensor view(const Tensor& t, const Shape& shape);  // RuntimeError when strides make it impossible
Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& t, const std::vector<int64_t>& dims);
Tensor squeeze(const Tensor& t);  // all size-1 dims
Tensor squeeze(const Tensor& t, const std::vector<int64_t>& dims);
Tensor unsqueeze(const Tensor& t, int64_t dim);
Tensor expand(const Tensor& t, const Shape& shape);  // -1 keeps a dim; new dims go in front
Tensor flatten(const Tensor& t, int64_t start_dim, int64_t end_dim);
// Basic slicing of one dim: start/stop already clamped, step > 0.
Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t stop, int64_t step);
Tensor select(const Tensor& t, int64_t dim, int64_t index);  // drops dim; IndexError if out of range

}  // namespace ember

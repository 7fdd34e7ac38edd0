// Strided iteration over N operands that share one (already broadcast) shape. Dimensions of size
// 1 are dropped and dimensions that are contiguous with each other in every operand are merged, so
// a contiguous or simply-transposed problem reaches the kernel as a few long rows. The kernel sees
// one row at a time:
//   f(char* const* ptrs, const int64_t* byte_strides, int64_t n)
// and rows are split over threads when the problem is larger than `grain` elements.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "core/parallel.h"
#include "core/tensor.h"

namespace ember {

template <int N>
struct RowLoop {
  Shape shape;                          // outer dims..., inner dim (after merging)
  std::array<Shape, N> strides;         // bytes, per operand, same length as shape
  std::array<char*, N> base;

  // Operands as tensors with `out_shape` (inputs already broadcast, e.g. via broadcast_to).
  RowLoop(const Shape& out_shape, const std::array<const Tensor*, N>& ops) {
    for (int k = 0; k < N; ++k) base[k] = static_cast<char*>(ops[k]->raw_data());
    for (size_t d = 0; d < out_shape.size(); ++d) {
      if (out_shape[d] == 1) continue;
      bool merge = !shape.empty();
      for (int k = 0; k < N && merge; ++k)
        merge = strides[k].back() == ops[k]->strides[d] * itemsize(ops[k]->dtype) * out_shape[d];
      if (merge) {
        shape.back() *= out_shape[d];
        for (int k = 0; k < N; ++k) strides[k].back() = ops[k]->strides[d] * itemsize(ops[k]->dtype);
      } else {
        shape.push_back(out_shape[d]);
        for (int k = 0; k < N; ++k) strides[k].push_back(ops[k]->strides[d] * itemsize(ops[k]->dtype));
      }
    }
    empty = shape_numel(out_shape) == 0;
  }

  template <class F>
  void run(int64_t grain, const F& f) const {
    if (empty) return;
    std::array<int64_t, N> inner{};
    if (shape.empty()) {  // a single element
      std::array<char*, N> p = base;
      f(p.data(), inner.data(), 1);
      return;
    }
    const int64_t nd = (int64_t)shape.size(), n_inner = shape.back();
    for (int k = 0; k < N; ++k) inner[k] = strides[k].back();
    int64_t n_outer = 1;
    for (int64_t d = 0; d + 1 < nd; ++d) n_outer *= shape[d];
    if (n_outer == 1) {
      parallel_for(0, n_inner, grain, [&](int64_t b, int64_t e) {
        std::array<char*, N> p;
        for (int k = 0; k < N; ++k) p[k] = base[k] + b * inner[k];
        f(p.data(), inner.data(), e - b);
      });
      return;
    }
    int64_t row_grain = grain / n_inner > 0 ? grain / n_inner : 1;
    parallel_for(0, n_outer, row_grain, [&](int64_t b, int64_t e) {
      // index of row b in the outer dims, then step it like an odometer
      std::vector<int64_t> idx(nd - 1, 0);
      int64_t rem = b;
      for (int64_t d = nd - 2; d >= 0; --d) { idx[d] = rem % shape[d]; rem /= shape[d]; }
      std::array<char*, N> p;
      for (int k = 0; k < N; ++k) {
        p[k] = base[k];
        for (int64_t d = 0; d < nd - 1; ++d) p[k] += idx[d] * strides[k][d];
      }
      for (int64_t r = b; r < e; ++r) {
        f(p.data(), inner.data(), n_inner);
        for (int64_t d = nd - 2; d >= 0; --d) {
          for (int k = 0; k < N; ++k) p[k] += strides[k][d];
          if (++idx[d] < shape[d]) break;
          for (int k = 0; k < N; ++k) p[k] -= strides[k][d] * shape[d];
          idx[d] = 0;
        }
      }
    });
  }

  bool empty = false;
};

}  // namespace ember

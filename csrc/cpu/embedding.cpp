// Embedding tables: a lookup (a gather of rows) and its gradient (a scatter-add of rows).
//
// Shapes: weight (N, D) any strides; indices (*) int64 or int32, any strides; out (*, D)
// contiguous. Ids are checked once, before anything is written, so a bad id raises an IndexError
// naming it and the table size instead of reading outside the table.
//
// Backward adds row i of grad into row indices[i] of a zeroed (N, D) gradient. Repeated ids add up;
// to stay deterministic without atomics, threads own disjoint ranges of table rows and each scans
// all ids for its own rows, so every table row is summed in the order of the ids by one thread.
#include "cpu/embedding.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/errors.h"
#include "core/parallel.h"

namespace ember {
namespace {

// Ids as int64, contiguous; IndexError for the first one outside [0, num_weights).
std::vector<int64_t> checked_ids(const Tensor& indices, int64_t num_weights, const char* op) {
  EMBER_CHECK(indices.dtype == DType::Int64 || indices.dtype == DType::Int32, TypeError, op,
              ": indices must be an integer tensor (int64 or int32), got ", dtype_name(indices.dtype),
              "; convert it with .long()");
  EMBER_CHECK(indices.device().is_cpu(), RuntimeError, op, ": indices are on ", indices.device().str(),
              "; expected cpu");
  const Tensor flat = contiguous(indices);
  const int64_t n = flat.numel();
  std::vector<int64_t> ids((size_t)n);
  if (flat.dtype == DType::Int64) {
    if (n) std::memcpy(ids.data(), flat.data<int64_t>(), (size_t)n * sizeof(int64_t));
  } else {
    const int32_t* src = flat.data<int32_t>();
    for (int64_t i = 0; i < n; ++i) ids[i] = src[i];
  }
  for (int64_t i = 0; i < n; ++i) {
    const int64_t id = ids[i];
    if (id < 0 || id >= num_weights)
      throw IndexError(str_cat(op, ": index ", id, " is out of range for an embedding table of ", num_weights,
                               " rows; ids must lie in [0, ", num_weights, ")"));
  }
  return ids;
}

void check_table(const Tensor& weight, const char* op) {
  EMBER_CHECK(weight.ndim() == 2, ValueError, op,
              ": weight must be 2-D (num_embeddings, embedding_dim), got shape ", shape_str(weight.shape));
  EMBER_CHECK(is_floating(weight.dtype), TypeError, op, ": weight must be float32 or float64, got ",
              dtype_name(weight.dtype));
  EMBER_CHECK(weight.device().is_cpu(), RuntimeError, op, ": weight is on ", weight.device().str(),
              "; expected cpu");
}

// Threads worth using for `elements` of copying.
int copy_threads(int64_t elements) {
  if (in_parallel_region()) return 1;
  return (int)std::max<int64_t>(1, std::min<int64_t>(get_num_threads(), elements / kElementwiseGrain));
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices) {
  const char* op = "embedding";
  check_table(weight, op);
  const std::vector<int64_t> ids = checked_ids(indices, weight.shape[0], op);
  const int64_t n = (int64_t)ids.size(), dim = weight.shape[1];
  Shape shape = indices.shape;
  shape.push_back(dim);
  Tensor out = empty(shape, weight.dtype);
  if (n == 0 || dim == 0) return out;
  dispatch_float(weight.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* w = weight.data<T>();
    T* o = out.data<T>();
    const int64_t rs = weight.strides[0], cs = weight.strides[1];
    parallel_for(0, n, std::max<int64_t>(1, kElementwiseGrain / dim), [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const T* row = w + ids[i] * rs;
        T* dst = o + i * dim;
        if (cs == 1) {
          std::memcpy(dst, row, (size_t)dim * sizeof(T));
        } else {
          for (int64_t j = 0; j < dim; ++j) dst[j] = row[j * cs];
        }
      }
    });
  });
  return out;
}

Tensor embedding_backward(const Tensor& grad_in, const Tensor& indices, int64_t num_weights,
                          std::optional<int64_t> padding_idx, bool scale_grad_by_freq) {
  const char* op = "embedding_backward";
  EMBER_CHECK(num_weights >= 0, ValueError, op, ": num_weights must be non-negative, got ", num_weights);
  EMBER_CHECK(is_floating(grad_in.dtype) && grad_in.device().is_cpu(), TypeError, op,
              ": expected a float32 or float64 cpu gradient, got ", dtype_name(grad_in.dtype), " on ",
              grad_in.device().str());
  EMBER_CHECK(grad_in.ndim() == indices.ndim() + 1, ValueError, op, ": the gradient (shape ",
              shape_str(grad_in.shape), ") must have the indices' shape ", shape_str(indices.shape),
              " plus the embedding dim");
  Shape lead(grad_in.shape.begin(), grad_in.shape.end() - 1);
  EMBER_CHECK(lead == indices.shape, ValueError, op, ": the gradient (shape ", shape_str(grad_in.shape),
              ") must have the indices' shape ", shape_str(indices.shape), " plus the embedding dim");
  const std::vector<int64_t> ids = checked_ids(indices, num_weights, op);
  const int64_t n = (int64_t)ids.size(), dim = grad_in.shape.back();
  const int64_t skip = padding_idx ? *padding_idx : -1;
  Tensor out = full({num_weights, dim}, 0.0, grad_in.dtype);
  if (n == 0 || dim == 0 || num_weights == 0) return out;
  std::vector<int64_t> counts;
  if (scale_grad_by_freq) {
    counts.assign((size_t)num_weights, 0);
    for (int64_t id : ids) ++counts[id];
  }
  const Tensor grad = contiguous(grad_in);
  dispatch_float(grad.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* g = grad.data<T>();
    T* o = out.data<T>();
    const int n_threads = (int)std::min<int64_t>(copy_threads(n * dim), num_weights);
    auto own_rows = [&](int64_t row_begin, int64_t row_end) {
      for (int64_t i = 0; i < n; ++i) {
        const int64_t id = ids[i];
        if (id < row_begin || id >= row_end || id == skip) continue;
        const T* src = g + i * dim;
        T* dst = o + id * dim;
        if (scale_grad_by_freq) {
          const T scale = T(1) / T(counts[id]);
          for (int64_t j = 0; j < dim; ++j) dst[j] += src[j] * scale;
        } else {
          for (int64_t j = 0; j < dim; ++j) dst[j] += src[j];
        }
      }
    };
    if (n_threads <= 1) {
      own_rows(0, num_weights);
      return;
    }
#pragma omp parallel num_threads(n_threads)
    {
      const int t = omp_get_thread_num(), team = omp_get_num_threads();
      own_rows(num_weights * t / team, num_weights * (t + 1) / team);
    }
  });
  return out;
}

void embedding_renorm_(const Tensor& weight, const Tensor& indices, double max_norm, double norm_type) {
  const char* op = "embedding_renorm_";
  check_table(weight, op);
  EMBER_CHECK(max_norm >= 0, ValueError, op, ": max_norm must be non-negative, got ", max_norm);
  EMBER_CHECK(norm_type > 0, ValueError, op, ": norm_type must be positive, got ", norm_type);
  std::vector<int64_t> ids = checked_ids(indices, weight.shape[0], op);
  check_writable(weight, op);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const int64_t dim = weight.shape[1];
  dispatch_float(weight.dtype, [&](auto tag) {
    using T = decltype(tag);
    T* w = weight.data<T>();
    const int64_t rs = weight.strides[0], cs = weight.strides[1];
    for (int64_t id : ids) {
      T* row = w + id * rs;
      double norm = 0;
      if (std::isinf(norm_type)) {
        for (int64_t j = 0; j < dim; ++j) norm = std::max(norm, std::fabs((double)row[j * cs]));
      } else {
        for (int64_t j = 0; j < dim; ++j) norm += std::pow(std::fabs((double)row[j * cs]), norm_type);
        norm = std::pow(norm, 1.0 / norm_type);
      }
      if (norm > max_norm) {
        const T scale = T(max_norm / (norm + 1e-7));
        for (int64_t j = 0; j < dim; ++j) row[j * cs] *= scale;
      }
    }
  });
}

}  // namespace ember

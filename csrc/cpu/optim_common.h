// What the optimizer drivers (optim.cpp: PyTorch's updates, keras_optim.cpp: Keras's) share:
// argument checks with messages naming the optimizer and the parameter, the per-parameter operand
// record the kernels take, and the one parallel loop over every element of every parameter of a
// call. Included by those non-SIMD translation units only (see DEVELOPING.md on ISA files).
//
// Threading: the parameters' elements are laid end to end and split into chunks of at least
// kOptimGrain elements, so a call with many small tensors (biases) opens one parallel region, not
// one per tensor, and a large tensor is shared by every thread.
#pragma once
#include <algorithm>
#include <vector>

#include "core/errors.h"
#include "core/parallel.h"
#include "core/tensor.h"

namespace ember {
namespace optim_common {

constexpr int kMaxOperands = 5;
constexpr int64_t kOptimGrain = 16384;

// ---- checks ----------------------------------------------------------------------------------------

inline void check_count(const char* optimizer, const char* what, size_t count, size_t n_params) {
  EMBER_CHECK(count == n_params, ValueError, optimizer, ": got ", n_params, " parameters but ", count, " ",
              what, "; pass one per parameter");
}

inline void check_param(const char* optimizer, size_t i, const Tensor& p) {
  EMBER_CHECK(is_floating(p.dtype), TypeError, optimizer, ": parameter ", i, " (shape ", shape_str(p.shape),
              ") has dtype ", dtype_name(p.dtype), "; optimizers update float32 or float64 tensors");
  EMBER_CHECK(p.device().is_cpu(), RuntimeError, optimizer, ": parameter ", i, " is on ", p.device().str(),
              "; optimizer steps run on the CPU only for now; move the model with .cpu()");
  check_writable(p, optimizer);
}

// A tensor that must match parameter i in shape, dtype and device ("gradient", "exp_avg", ...).
inline void check_like_param(const char* optimizer, size_t i, const Tensor& p, const Tensor& t, const char* what) {
  EMBER_CHECK(t.shape == p.shape, ValueError, optimizer, ": the ", what, " of parameter ", i, " has shape ",
              shape_str(t.shape), ", but the parameter has shape ", shape_str(p.shape));
  EMBER_CHECK(t.dtype == p.dtype, TypeError, optimizer, ": the ", what, " of parameter ", i, " (shape ",
              shape_str(p.shape), ") has dtype ", dtype_name(t.dtype), ", but the parameter has dtype ",
              dtype_name(p.dtype));
  EMBER_CHECK(t.device() == p.device(), RuntimeError, optimizer, ": the ", what, " of parameter ", i,
              " is on ", t.device().str(), ", but the parameter is on ", p.device().str());
}

inline void check_state(const char* optimizer, size_t i, const Tensor& p, const Tensor& t, const char* what) {
  check_like_param(optimizer, i, p, t, what);
  EMBER_CHECK(t.is_contiguous(), ValueError, optimizer, ": the ", what, " of parameter ", i, " (shape ",
              shape_str(p.shape), ") is not contiguous; state buffers must be (make one with .contiguous())");
  EMBER_CHECK(t.storage != p.storage, ValueError, optimizer, ": the ", what, " of parameter ", i,
              " shares memory with the parameter; state buffers need memory of their own");
}

// ---- the loop over every element of the call -------------------------------------------------------

// One parameter's operands as the kernels take them: contiguous data.
struct Update {
  Tensor param;   // the parameter itself
  Tensor work;    // what the kernel writes: the parameter, or its contiguous copy
  Tensor grad;    // contiguous
  char* buffers[kMaxOperands] = {};
};

inline char* data_of(const Tensor& t) { return static_cast<char*>(t.raw_data()); }

inline int dtype_index(const Tensor& t) { return t.dtype == DType::Float64 ? 1 : 0; }

inline Update prepare(const char* optimizer, size_t i, const Tensor& p, const Tensor& g) {
  check_param(optimizer, i, p);
  check_like_param(optimizer, i, p, g, "gradient");
  Update u{p, contiguous(p), contiguous(g)};
  u.buffers[0] = data_of(u.work);
  u.buffers[1] = data_of(u.grad);
  return u;
}

// Runs kernel[dtype](buffers + offset, count, &scalars[k]) over every element of every update,
// then writes back the parameters that were updated through a copy.
template <class Kernel, class Scalars>
void run_updates(const std::vector<Update>& updates, const Kernel (&kernel)[2], const std::vector<Scalars>& scalars) {
  std::vector<int64_t> first(updates.size() + 1, 0);  // first[k]: index of update k's first element
  for (size_t k = 0; k < updates.size(); ++k) first[k + 1] = first[k] + updates[k].param.numel();
  parallel_for(0, first.back(), kOptimGrain, [&](int64_t begin, int64_t end) {
    size_t k = std::upper_bound(first.begin(), first.end(), begin) - first.begin() - 1;
    for (; begin < end; ++k) {
      const int64_t stop = std::min(end, first[k + 1]);
      if (stop == begin) continue;  // an empty tensor
      const Update& u = updates[k];
      const int64_t offset = (begin - first[k]) * itemsize(u.param.dtype);
      char* buffers[kMaxOperands];
      for (int j = 0; j < kMaxOperands; ++j) buffers[j] = u.buffers[j] ? u.buffers[j] + offset : nullptr;
      kernel[dtype_index(u.param)](buffers, stop - begin, &scalars[k]);
      begin = stop;
    }
  });
  for (const Update& u : updates)
    if (u.work.storage != u.param.storage) copy_(u.param, u.work);
}

}  // namespace optim_common
}  // namespace ember

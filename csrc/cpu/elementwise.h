// Elementwise ops on CPU tensors: the entry points of unary.cpp and binary.cpp, and the runner that
// hands rows of operands to the ISA kernels (elementwise_kernels.h) with threading.
//
// Every entry point checks its arguments, picks the dtype it computes in (PyTorch's rules), makes
// the inputs that dtype, allocates the output and runs one row kernel over the broadcast shape.
#pragma once
#include <array>

#include "core/errors.h"
#include "core/iter.h"
#include "core/parallel.h"
#include "core/tensor.h"
#include "cpu/elementwise_kernels.h"

namespace ember {

// The kernel table of the capability in use (cpu_capability()), chosen on first use.
const ElementwiseKernels& elementwise_kernels();

// ---- shared checks (elementwise.cpp) ------------------------------------------------------------
// RuntimeError naming both devices when they differ.
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
// RuntimeError when t lives on a CUDA device: only the ops with a CUDA kernel accept those.
void check_cpu(const char* op, const Tensor& t);
// PyTorch's casting rule for in-place results: no float into an integer, no number into bool.
bool can_cast(DType from, DType to);

// ---- unary (unary.cpp) ----------------------------------------------------------------------------
const char* unary_name(UnaryOp op);
// The dtype `op` computes in for an input of `dtype`; TypeError naming `name` (the op as the user
// called it, e.g. "neg_") for a dtype the op rejects.
DType unary_result_type(UnaryOp op, DType dtype, const char* name);
Tensor unary(UnaryOp op, const Tensor& x, OpParams params = {});
void unary_(UnaryOp op, const Tensor& x, OpParams params = {});  // in place; x keeps its dtype
// min(max(x, lo), hi) computed in `dtype` (the promotion of x with the bounds); +-inf for no bound.
Tensor clamp(const Tensor& x, DType dtype, double lo, double hi);

// ---- binary (binary.cpp) ----------------------------------------------------------------------------
const char* binary_name(BinaryOp op);
// promote_types, except that a 0-d tensor meeting an n-d tensor of a higher-or-equal category
// (bool < integer < float) takes the n-d tensor's dtype, as in PyTorch.
DType binary_result_type(const Tensor& a, const Tensor& b);

struct BinaryPlan {
  DType compute;  // both inputs are converted to this dtype
  DType out;      // compute, or bool for comparisons
  Shape shape;    // the broadcast shape
};
// Device, dtype and shape checks of `op` on (a, b), the same for every device.
BinaryPlan plan_binary(BinaryOp op, const Tensor& a, const Tensor& b);

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
void binary_(BinaryOp op, const Tensor& a, const Tensor& b);  // a op= b; b broadcasts to a
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);

// ---- the runner ------------------------------------------------------------------------------------
// Runs `kernel` over N operands (the output first) that broadcast to `shape`. When every operand is
// contiguous with the output's element count, or a single element, the whole problem is one flat
// row split over threads with no per-call shape bookkeeping (the common and the tiny cases);
// otherwise RowLoop merges what dimensions it can and hands over strided rows.
template <int N>
void run_rows(RowKernel kernel, const Shape& shape, const std::array<const Tensor*, N>& operands,
              OpParams* params, int64_t grain, const char* op) {
  const int64_t n = shape_numel(shape);
  if (n == 0) return;
  char* base[N];
  int64_t strides[N];
  bool flat = true;
  for (int k = 0; k < N; ++k) {
    const Tensor& t = *operands[k];
    base[k] = static_cast<char*>(t.raw_data());
    const int64_t count = t.numel();
    if (count == 1)
      strides[k] = 0;
    else if (count == n && t.is_contiguous())
      strides[k] = itemsize(t.dtype);
    else
      flat = false;
  }
  if (flat) {
    parallel_for(0, n, grain, [&](int64_t begin, int64_t end) {
      char* ptrs[N];
      for (int k = 0; k < N; ++k) ptrs[k] = base[k] + begin * strides[k];
      kernel(ptrs, strides, end - begin, params);
    });
    return;
  }
  std::array<Tensor, N> views;
  std::array<const Tensor*, N> view_ptrs;
  for (int k = 0; k < N; ++k) {
    views[k] = broadcast_to(*operands[k], shape, op);
    view_ptrs[k] = &views[k];
  }
  RowLoop<N> loop(shape, view_ptrs);
  loop.run(grain, [&](char* const* ptrs, const int64_t* row_strides, int64_t count) {
    kernel(ptrs, row_strides, count, params);
  });
}

}  // namespace ember

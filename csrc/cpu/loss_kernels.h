// The contract between loss.cpp (checks, broadcasting, chunking, threading) and the per-ISA kernel
// units of the elementwise losses (loss_{generic,avx2,avx512}.cpp, all from loss_kernels.inc).
// Declarations and plain data only: the ISA units include this file.
//
// A kernel sees one call's operands as contiguous arrays of n elements and processes the range
// [begin, end) of them; it never throws (it runs inside OpenMP regions).
#pragma once
#include <stdint.h>

#include "ops/loss_math.h"

namespace ember {

template <class T>
struct LossArrays {
  const T* input;
  const T* target;
  const T* weight;      // null: 1
  const T* pos_weight;  // null: `param` for every element
  T param;              // delta (Huber), beta (smooth L1), pos_weight's default 1 (BCE with logits)
};

// Writes the losses of [begin, end) to out (unless out is null) and returns their sum in double,
// added in an order fixed by begin and end alone.
template <class T>
using LossForwardKernel = double (*)(const LossArrays<T>& arrays, T* out, int64_t begin, int64_t end);
// dx[i] = (grad ? grad[i] : scale) * weight[i] * d(loss_i)/d(input_i) for i in [begin, end).
template <class T>
using LossBackwardKernel = void (*)(const LossArrays<T>& arrays, const T* grad, T scale, T* dx, int64_t begin,
                                    int64_t end);

// One table per ISA, indexed by (int)PointwiseLoss. float32 runs on SIMD vectors; float64 is the
// plain loop over the same formulas.
struct LossKernels {
  LossForwardKernel<float> forward_f32[kPointwiseLossCount];
  LossBackwardKernel<float> backward_f32[kPointwiseLossCount];
  LossForwardKernel<double> forward_f64[kPointwiseLossCount];
  LossBackwardKernel<double> backward_f64[kPointwiseLossCount];
};

namespace generic { void fill_loss_kernels(LossKernels* table); }
namespace avx2 { void fill_loss_kernels(LossKernels* table); }
namespace avx512 { void fill_loss_kernels(LossKernels* table); }

}  // namespace ember

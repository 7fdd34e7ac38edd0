// The contract between the optimizer driver (optim.cpp) and the per-ISA kernel translation units
// (optim_{generic,avx2,avx512}.cpp). Declarations and plain data only, plus ops/optim_math.h, whose
// functions all have internal linkage.
//
// A kernel updates one contiguous run of n elements of one parameter tensor and its state:
//   fn(buffers, n, scalars)   buffers[k] points at the run's first element of operand k
// Operands, all of the parameter's dtype and contiguous:
//   sgd      param, grad, momentum_buffer (null without momentum)
//   adam     param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq (null without amsgrad)
//   rmsprop  param, grad, square_avg, grad_avg (null unless centered),
//            momentum_buffer (null without momentum)
//   adagrad  param, grad, state_sum
// `scalars` holds the update's hyper-parameters as doubles, computed on the host as PyTorch's
// Python code computes them; the kernel rounds them to the element type once.
#pragma once
#include <stdint.h>

#include "ops/optim_math.h"

namespace ember {

typedef void (*SgdKernel)(char* const* buffers, int64_t n, const SgdScalars<double>* scalars);
typedef void (*AdamKernel)(char* const* buffers, int64_t n, const AdamScalars<double>* scalars);
typedef void (*RmspropKernel)(char* const* buffers, int64_t n, const RmspropScalars<double>* scalars);
typedef void (*AdagradKernel)(char* const* buffers, int64_t n, const AdagradScalars<double>* scalars);

// One table per ISA, each entry indexed by dtype: [0] float32, [1] float64.
struct OptimKernels {
  SgdKernel sgd[2];
  AdamKernel adam[2];
  RmspropKernel rmsprop[2];
  AdagradKernel adagrad[2];
};

namespace generic { void fill_optim_kernels(OptimKernels* table); }
namespace avx2 { void fill_optim_kernels(OptimKernels* table); }
namespace avx512 { void fill_optim_kernels(OptimKernels* table); }

}  // namespace ember

// The contract between the Keras optimizer driver (keras_optim.cpp) and the per-ISA kernel
// translation units (keras_optim_{generic,avx2,avx512}.cpp). Declarations and plain data only, plus
// ops/keras_optim_math.h, whose functions all have internal linkage.
//
// An update kernel updates one contiguous run of n elements of one variable and its state:
//   fn(buffers, n, scalars)   buffers[k] points at the run's first element of operand k
// Operands, all of the variable's dtype and contiguous:
//   sgd      variable, gradient, momentum (null without momentum)
//   adam     variable, gradient, momentum, velocity, velocity_hat (null without amsgrad)
//   rmsprop  variable, gradient, velocity, average_gradient (null unless centered),
//            momentum (null without momentum)
//   adagrad  variable, gradient, accumulator
// `scalars` holds the update's hyper-parameters as doubles (computed on the host); the kernel
// rounds them to the element type once.
//
// sum_squares(data, n) returns the sum of x^2 over n contiguous elements, accumulated in double:
// the gradient norms behind clipnorm and global_clipnorm.
#pragma once
#include <stdint.h>

#include "ops/keras_optim_math.h"

namespace ember {

typedef void (*KerasSgdKernel)(char* const* buffers, int64_t n, const KerasSgdScalars<double>* scalars);
typedef void (*KerasAdamKernel)(char* const* buffers, int64_t n, const KerasAdamScalars<double>* scalars);
typedef void (*KerasRmspropKernel)(char* const* buffers, int64_t n, const KerasRmspropScalars<double>* scalars);
typedef void (*KerasAdagradKernel)(char* const* buffers, int64_t n, const KerasAdagradScalars<double>* scalars);
typedef double (*SumSquaresKernel)(const char* data, int64_t n);

// One table per ISA, each entry indexed by dtype: [0] float32, [1] float64.
struct KerasOptimKernels {
  KerasSgdKernel sgd[2];
  KerasAdamKernel adam[2];
  KerasRmspropKernel rmsprop[2];
  KerasAdagradKernel adagrad[2];
  SumSquaresKernel sum_squares[2];
};

namespace generic { void fill_keras_optim_kernels(KerasOptimKernels* table); }
namespace avx2 { void fill_keras_optim_kernels(KerasOptimKernels* table); }
namespace avx512 { void fill_keras_optim_kernels(KerasOptimKernels* table); }

}  // namespace ember

// Activation backward on CPU tensors: argument checks, the choice of the ISA kernel table, and one
// row kernel over (grad_input, grad, saved) through the elementwise runner (elementwise.h).
#include "cpu/activation_backward.h"

#include "core/cpu_features.h"
#include "core/errors.h"
#include "cpu/elementwise.h"

namespace ember {

// The kernel units number the float dtypes by position (FloatIndex in activation_backward_kernels.inc).
static_assert((int)DType::Float32 == 0 && (int)DType::Float64 == 1,
              "activation_backward_kernels.inc numbers dtypes as DType does");

namespace {

struct BackwardInfo {
  const char* name;
  const char* saved_name;  // what the second tensor is, for messages
  bool transcendental;     // costly enough per element to split over threads sooner
};

// Indexed by BackwardOp.
const BackwardInfo kBackwardInfo[kBackwardOpCount] = {
    {"relu_backward", "out", false},
    {"sigmoid_backward", "out", false},
    {"tanh_backward", "out", false},
    {"leaky_relu_backward", "x", false},
    {"elu_backward", "x", true},
    {"gelu_backward", "x", true},
    {"gelu_backward", "x", true},  // approximate='tanh'
    {"silu_backward", "x", true},
    {"softplus_backward", "x", true},
    {"clamp_backward", "x", false},
};

const BackwardInfo& info(BackwardOp op) { return kBackwardInfo[(int)op]; }

}  // namespace

const ActivationBackwardKernels& activation_backward_kernels() {
  static const ActivationBackwardKernels table = [] {
    ActivationBackwardKernels t{};
    switch (cpu_capability()) {
      case CpuCapability::AVX512: avx512::fill_activation_backward_kernels(&t); break;
      case CpuCapability::AVX2: avx2::fill_activation_backward_kernels(&t); break;
      default: generic::fill_activation_backward_kernels(&t); break;
    }
    return t;
  }();
  return table;
}

const char* backward_name(BackwardOp op) { return info(op).name; }

Tensor activation_backward(BackwardOp op, const Tensor& grad, const Tensor& saved, OpParams params) {
  const BackwardInfo& i = info(op);
  check_same_device(i.name, grad, saved);
  check_cpu(i.name, grad);
  EMBER_CHECK(grad.dtype == saved.dtype, TypeError, i.name, ": grad and ", i.saved_name,
              " must have the same dtype, got ", dtype_name(grad.dtype), " and ", dtype_name(saved.dtype));
  EMBER_CHECK(is_floating(grad.dtype), TypeError, i.name, ": expected float32 or float64 tensors, got ",
              dtype_name(grad.dtype), "; only float tensors have gradients");
  EMBER_CHECK(grad.shape == saved.shape, ValueError, i.name, ": grad and ", i.saved_name,
              " must have the same shape, got ", shape_str(grad.shape), " and ", shape_str(saved.shape));
  RowKernel kernel = activation_backward_kernels().backward[(int)op][(int)grad.dtype];
  EMBER_CHECK(kernel != nullptr, RuntimeError, i.name, ": no kernel for ", dtype_name(grad.dtype));
  Tensor out = empty(grad.shape, grad.dtype);
  const int64_t grain = i.transcendental ? kElementwiseGrain / 8 : kElementwiseGrain;
  run_rows<3>(kernel, grad.shape, {&out, &grad, &saved}, &params, grain, i.name);
  return out;
}

}  // namespace ember

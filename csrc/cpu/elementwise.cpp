// What the unary and binary drivers share: the choice of the ISA kernel table, and the device,
// aliasing and casting checks.
#include "cpu/elementwise.h"

#include "core/cpu_features.h"

namespace ember {

// The kernel units number dtypes by position (DTypeIndex in elementwise_kernels.inc).
static_assert((int)DType::Float32 == 0 && (int)DType::Float64 == 1 && (int)DType::Int64 == 2 &&
                  (int)DType::Int32 == 3 && (int)DType::Bool == 4 && kDTypeCount == 5,
              "elementwise_kernels.inc numbers dtypes as DType does");

const ElementwiseKernels& elementwise_kernels() {
  static const ElementwiseKernels table = [] {
    ElementwiseKernels t{};
    switch (cpu_capability()) {
      case CpuCapability::AVX512: avx512::fill_elementwise_kernels(&t); break;
      case CpuCapability::AVX2: avx2::fill_elementwise_kernels(&t); break;
      default: generic::fill_elementwise_kernels(&t); break;
    }
    return t;
  }();
  return table;
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  EMBER_CHECK(a.device() == b.device(), RuntimeError, op,
              ": expected all tensors on the same device, got ", a.device().str(), " and ",
              b.device().str(), "; move one with .to(device)");
}

void check_cpu(const char* op, const Tensor& t) {
  EMBER_CHECK(t.device().is_cpu(), RuntimeError, op,
              ": not implemented for CUDA tensors yet; move the tensor to the CPU with .cpu()");
}

bool can_cast(DType from, DType to) {
  if (is_floating(from)) return is_floating(to);
  if (from != DType::Bool) return to != DType::Bool;
  return true;
}


}  // namespace ember

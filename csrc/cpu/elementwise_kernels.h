// The contract between the elementwise drivers (unary.cpp, binary.cpp) and the per-ISA kernel
// translation units (elementwise_{generic,avx2,avx512}.cpp). Declarations and plain data only: the
// ISA units include this file, so it must hold no inline function they could share.
//
// A row kernel processes one row of n elements of several operands that share a shape:
//   fn(ptrs, byte_strides, n, params)     ptrs[0] is the output, then the inputs in order.
// Inputs have the output's dtype unless the table says otherwise (comparisons write bool, where
// reads a bool condition). A stride of 0 means the operand is one broadcast value. Kernels take any
// strides and are fastest when every stride equals the element size or is 0.
#pragma once
#include <stdint.h>

namespace ember {

enum class UnaryOp : int {
  Neg, Abs, Sign, Exp, Log, Log1p, Sqrt, Rsqrt, Sin, Cos, Tanh, Sigmoid, Relu, Silu,
  LeakyRelu, Elu, Gelu, GeluTanh, Softplus, Clamp,
  Count
};

enum class BinaryOp : int {
  Add, Sub, Mul, Div, Pow, FloorDivide, Remainder, Maximum, Minimum,
  Eq, Ne, Lt, Le, Gt, Ge,  // comparisons: inputs of one dtype, bool output
  Count
};

constexpr int kUnaryOpCount = (int)UnaryOp::Count;
constexpr int kBinaryOpCount = (int)BinaryOp::Count;
constexpr int kDTypeCount = 5;  // indexed by (int)DType

// Op arguments beyond the tensors. Kernels never throw (they run inside OpenMP regions): the
// drivers check everything that could fail, integer division by zero included, before running.
struct OpParams {
  double alpha = 0;  // leaky_relu slope, elu alpha, softplus beta, clamp lower bound
  double beta = 0;   // softplus threshold, clamp upper bound
};

typedef void (*RowKernel)(char* const* ptrs, const int64_t* byte_strides, int64_t n, OpParams* params);

// One table per ISA; a null entry is a dtype the op does not take (the driver converts first or
// rejects the call before looking).
struct ElementwiseKernels {
  RowKernel unary[kUnaryOpCount][kDTypeCount];    // out, x
  RowKernel binary[kBinaryOpCount][kDTypeCount];  // out, a, b
  RowKernel where[kDTypeCount];                   // out, condition (bool), a, b
};

namespace generic { void fill_elementwise_kernels(ElementwiseKernels* table); }
namespace avx2 { void fill_elementwise_kernels(ElementwiseKernels* table); }
namespace avx512 { void fill_elementwise_kernels(ElementwiseKernels* table); }

}  // namespace ember

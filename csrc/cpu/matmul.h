// Matrix products with NumPy's matmul semantics.
#pragma once
#include "core/tensor.h"
#include "cpu/gemm.h"

namespace ember {

// np.matmul semantics: 1-D x 1-D is a dot product (0-d result); a 1-D left operand is a row
// vector and a 1-D right operand a column vector, the added dimension removed from the result;
// leading (batch) dimensions broadcast. float32 and float64, both operands of the same dtype.
// Strided and transposed inputs are read in place, never copied.
Tensor matmul(const Tensor& a, const Tensor& b);

// The 2-d product a (m x k) @ b (k x n) written into `out` (m x n, any strides that do not overlap
// a, b or themselves; a's dtype and device): out = epilogue(a @ b [+ out when accumulate]), the epilogue (bias, relu, activation:
// cpu/gemm.h) applied as each element is final, or none when null. For the layers (linear) that
// fuse their bias and activation into the product and accumulate gradients in place.
void matmul_into(const Tensor& a, const Tensor& b, Tensor& out, bool accumulate, const cpu::GemmEpilogue* epilogue);

}  // namespace ember

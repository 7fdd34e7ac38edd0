// Matrix products with NumPy's matmul semantics.
#pragma once
#include "core/tensor.h"

namespace ember {

// np.matmul semantics: 1-D x 1-D is a dot product (0-d result); a 1-D left operand is a row
// vector and a 1-D right operand a column vector, the added dimension removed from the result;
// leading (batch) dimensions broadcast. float32 and float64, both operands of the same dtype.
// Strided and transposed inputs are read in place, never copied.
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace ember

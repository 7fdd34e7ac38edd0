// Argument conversion shared by the binding files.
#pragma once
#include <pybind11/pybind11.h>

#include "core/tensor.h"

namespace ember {

// "cpu", "cuda:1" or an ember.device; None means the CPU.
Device device_arg(pybind11::handle obj);
void bind_interop(pybind11::module_& m);  // NumPy and DLPack exchange

struct Scalar;
// A tensor of `shape` filled with a Python number: integers exactly, and RuntimeError naming `op`
// when the number does not fit an integer dtype (NaN, inf and out-of-range values would be
// undefined behaviour to convert), as PyTorch checks.
Tensor full_from_scalar(const char* op, const Shape& shape, const Scalar& value, DType dtype, Device device);

}  // namespace ember

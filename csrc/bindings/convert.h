// Argument conversion shared by the binding files.
#pragma once
#include <pybind11/pybind11.h>

#include "core/tensor.h"

namespace ember {

// "cpu", "cuda:1" or an ember.device; None means the CPU.
Device device_arg(pybind11::handle obj);
void bind_interop(pybind11::module_& m);  // NumPy and DLPack exchange

}  // namespace ember

// The contiguous reduction kernels of reduce_kernels.inc, compiled for the generic path.
#define EMBER_REDUCE_ISA reduce_generic
#include "cpu/reduce_kernels.inc"

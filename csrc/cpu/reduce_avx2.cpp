// The contiguous reduction kernels of reduce_kernels.inc, compiled for the avx2 path.
#define EMBER_REDUCE_ISA reduce_avx2
#include "cpu/reduce_kernels.inc"

// The contiguous reduction kernels of reduce_kernels.inc, compiled for the avx512 path.
#define EMBER_REDUCE_ISA reduce_avx512
#include "cpu/reduce_kernels.inc"

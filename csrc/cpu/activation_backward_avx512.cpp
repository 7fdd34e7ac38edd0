// Activation-backward kernels compiled for AVX-512 F/BW/DQ/VL (the build adds the flags to *_avx512.cpp).
#define EMBER_ISA avx512
#include "cpu/activation_backward_kernels.inc"

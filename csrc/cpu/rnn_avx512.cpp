// Recurrent cell steps compiled for AVX-512 (the build adds its -mavx512* flags to *_avx512.cpp).
#define EMBER_ISA avx512
#include "cpu/rnn_kernels.inc"

// Recurrent cell steps compiled for AVX2 + FMA (the build adds -mavx2 -mfma -mf16c to *_avx2.cpp).
#define EMBER_ISA avx2
#include "cpu/rnn_kernels.inc"

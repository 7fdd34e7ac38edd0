// Keras optimizer update loops compiled for AVX-512 (the build adds the AVX-512 flags to *_avx512.cpp).
#define EMBER_ISA avx512
#include "cpu/keras_optim_kernels.inc"

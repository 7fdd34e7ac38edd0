// Activation-backward kernels compiled for the x86-64 baseline (SSE2), for any CPU.
#define EMBER_ISA generic
#include "cpu/activation_backward_kernels.inc"

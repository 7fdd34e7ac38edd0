// Recurrent cell steps compiled for the x86-64 baseline (SSE2), for any CPU.
#define EMBER_ISA generic
#include "cpu/rnn_kernels.inc"

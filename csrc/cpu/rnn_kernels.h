// The contract between rnn.cpp (checks, the time loop, the recurrent GEMMs, threading) and the
// per-ISA units of the recurrent cells' elementwise step (rnn_{generic,avx2,avx512}.cpp, all from
// rnn_kernels.inc). Declarations and plain data only: the ISA units include this file.
//
// One call handles `rows` batch rows of one time step, all `hidden` units of each, in one pass:
// forward turns the step's gate pre-activations into the new state, backward turns the gradient of
// the new state into the gradients of the pre-activations and of the previous state. Gate q of the
// canonical order (LSTM i, f, g, o; GRU r, z, n; see ops/rnn_math.h) sits at column gate_offset[q]
// of the pre-activation arrays (x_proj, h_proj, bias, their gradients), so any block order of the
// weights works; the saved activations are in canonical order. State rows have stride `hidden`.
// With a mask, a row whose `keep` flag is 0 skips the step: its state is carried over unchanged
// (and so is its gradient, backward), as for the padding after a shorter sequence.
// Kernels never throw (they run inside OpenMP regions).
#pragma once
#include <stdint.h>

namespace ember {

enum RnnCell : int { kRnnCellElman = 0, kRnnCellLstm = 1, kRnnCellGru = 2 };
constexpr int kRnnCellCount = 3;

template <class T>
struct RnnStepForward {
  int64_t rows, hidden;
  int64_t gate_offset[4];
  const T* x_proj;  // W_ih x + b_ih, row r at x_proj + r * x_proj_stride
  int64_t x_proj_stride;
  const T* h_proj;  // W_hh h_prev (no bias), row stride h_proj_stride
  int64_t h_proj_stride;
  const T* bias_hh;  // null: no recurrent bias
  const T* h_prev;
  const T* c_prev;  // LSTM only
  T* h;
  T* c;       // LSTM only
  T* saved;   // activations kept for backward (LSTM i f g o; GRU r z n and W_hn h + b_hn); null for Elman
  int64_t saved_stride;
  const bool* keep;  // per row: 1 runs the step, 0 carries the state over; null: all run
  int activation, recurrent_activation;
};

template <class T>
struct RnnStepBackward {
  int64_t rows, hidden;
  int64_t gate_offset[4];
  const T* saved;
  int64_t saved_stride;
  const T* h_prev;
  const T* c_prev;  // LSTM
  const T* c;       // LSTM
  const T* h;       // Elman: the step's output, whose activation slope backward needs
  const T* grad_h;  // gradient arriving at this step's h from outside the recurrence
  const T* grad_c;  // LSTM: the same for c (null: none)
  // In: the gradient reaching h (and c) from the later steps. Out: the part of the gradient of
  // h_prev (and all of c_prev) that does not pass through W_hh: GRU's z dh, all of dh for a row
  // that skipped the step; 0 for Elman and LSTM, which then write nothing there unless a mask is
  // given (the caller overwrites it with d_h_proj @ W_hh, or adds that when masked or GRU).
  T* dh_carry;
  T* dc_carry;
  T* d_x_proj;  // gradients of the pre-activations as the input projection sees them
  int64_t d_x_proj_stride;
  T* d_h_proj;  // ... and as W_hh h_prev sees them (GRU; the same array for Elman and LSTM)
  int64_t d_h_proj_stride;
  int64_t gate_width;  // G * hidden: a skipped row's pre-activation gradients are zeroed over it
  const bool* keep;
  int activation, recurrent_activation;
};

template <class T>
struct RnnKernelSet {
  void (*forward[kRnnCellCount])(const RnnStepForward<T>& step);
  void (*backward[kRnnCellCount])(const RnnStepBackward<T>& step);
};

struct RnnKernels {
  RnnKernelSet<float> f32;
  RnnKernelSet<double> f64;
};

namespace generic { void fill_rnn_kernels(RnnKernels* table); }
namespace avx2 { void fill_rnn_kernels(RnnKernels* table); }
namespace avx512 { void fill_rnn_kernels(RnnKernels* table); }

}  // namespace ember

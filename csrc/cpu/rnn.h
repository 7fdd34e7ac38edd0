// Recurrent layers (Elman RNN, LSTM, GRU) over a whole sequence, one direction per call, forward
// and backward through time (see rnn.cpp for the shapes).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace ember {

// How one layer computes: its cell, activations, the block order of its gates in the weights, and
// which way it runs through time.
struct RnnSpec {
  int cell = 0;                  // RnnCell (cpu/rnn_kernels.h)
  int activation = 0;            // RnnActivation (ops/rnn_math.h)
  int recurrent_activation = 1;  // LSTM's i, f, o and GRU's r, z
  std::vector<int64_t> gate_order;  // gate_order[q]: the weight block of canonical gate q
  bool reverse = false;
};

// Parses the Python-level names ("lstm", "tanh", ...); ValueError naming `op` and the valid choices.
RnnSpec rnn_spec(const std::string& cell, const std::string& activation, const std::string& recurrent_activation,
                 const std::optional<std::vector<int64_t>>& gate_order, bool reverse, const char* op);

struct RnnForward {
  Tensor states;                // (S, T + 1, B, H): S = 2 for LSTM (h then c), else 1
  std::optional<Tensor> saved;  // (T, B, 4H) gate activations for backward, when asked for
};
// mask: (T, B) bool or none; a step whose mask is false leaves that row's state as it was.
RnnForward rnn_forward(const RnnSpec& spec, const Tensor& x_proj, const Tensor& w_hh, const std::optional<Tensor>& b_hh,
                       const std::optional<Tensor>& h0, const std::optional<Tensor>& c0,
                       const std::optional<Tensor>& mask, bool keep_saved);

struct RnnGrads {
  Tensor x_proj, h0;
  std::optional<Tensor> c0, w_hh, b_hh;  // c0 for LSTM; the weights' only when asked for
};
// `saved` and `mask` are forward's (no saved gates for the Elman cell, which needs only the states).
RnnGrads rnn_backward(const RnnSpec& spec, const Tensor& grad_states, const Tensor& states,
                      const std::optional<Tensor>& saved, const Tensor& w_hh, const std::optional<Tensor>& mask,
                      bool need_w_hh, bool need_b_hh);

}  // namespace ember

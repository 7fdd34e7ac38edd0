// Python entry points of the recurrent family: a recurrent layer's forward and backward through time,
// and embedding lookup, its gradient and max-norm renormalisation.
#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "cpu/embedding.h"
#include "cpu/rnn.h"

namespace py = pybind11;

namespace ember {

namespace {

py::object optional_tensor(const std::optional<Tensor>& t) { return t ? py::cast(*t) : py::none(); }

}  // namespace

void bind_rnn(py::module_& m) {
  m.def("rnn_forward", [](const std::string& cell, const Tensor& x_proj, const Tensor& w_hh,
                          const std::optional<Tensor>& b_hh, const std::optional<Tensor>& h0,
                          const std::optional<Tensor>& c0, bool reverse, const std::string& activation,
                          const std::string& recurrent_activation,
                          const std::optional<std::vector<int64_t>>& gate_order, const std::optional<Tensor>& mask,
                          bool keep_saved) {
    const RnnSpec spec = rnn_spec(cell, activation, recurrent_activation, gate_order, reverse, "rnn_forward");
    RnnForward r;
    {
      py::gil_scoped_release release;
      r = rnn_forward(spec, x_proj, w_hh, b_hh, h0, c0, mask, keep_saved);
    }
    return py::make_tuple(r.states, optional_tensor(r.saved));
  }, py::arg("cell"), py::arg("x_proj"), py::arg("w_hh"), py::arg("b_hh"), py::arg("h0"), py::arg("c0"),
     py::arg("reverse") = false, py::arg("activation") = "tanh", py::arg("recurrent_activation") = "sigmoid",
     py::arg("gate_order") = py::none(), py::arg("mask") = py::none(), py::arg("keep_saved") = true,
     "(states, saved): one recurrent layer ('rnn', 'lstm' or 'gru' cell) run through x_proj (steps, batch, "
     "gates * hidden) = W_ih x + b_ih, from h0 (and c0) (batch, hidden) or zeros. states (S, steps + 1, batch, "
     "hidden): plane 0 hidden, plane 1 (lstm) cell states; slot 0 holds h0 and slot t + 1 step t's state "
     "(reverse: h0 in slot steps, step t's state in slot t). saved: the gate activations for rnn_backward "
     "(None for 'rnn' or without keep_saved). gate_order[q]: the weight block of canonical gate q (lstm i, f, "
     "g, o; gru r, z, n); activations 'tanh', 'sigmoid', 'relu', 'hard_sigmoid', 'linear'. mask (steps, batch) "
     "bool: where false the step leaves the row's state unchanged (its output slot holds the carried state).");
  m.def("rnn_backward", [](const std::string& cell, const Tensor& grad_states, const Tensor& states,
                           const std::optional<Tensor>& saved, const Tensor& w_hh, bool reverse,
                           const std::string& activation, const std::string& recurrent_activation,
                           const std::optional<std::vector<int64_t>>& gate_order, const std::optional<Tensor>& mask,
                           bool need_w_hh, bool need_b_hh) {
    const RnnSpec spec = rnn_spec(cell, activation, recurrent_activation, gate_order, reverse, "rnn_backward");
    RnnGrads g;
    {
      py::gil_scoped_release release;
      g = rnn_backward(spec, grad_states, states, saved, w_hh, mask, need_w_hh, need_b_hh);
    }
    return py::make_tuple(g.x_proj, g.h0, optional_tensor(g.c0), optional_tensor(g.w_hh), optional_tensor(g.b_hh));
  }, py::arg("cell"), py::arg("grad_states"), py::arg("states"), py::arg("saved"), py::arg("w_hh"),
     py::arg("reverse") = false, py::arg("activation") = "tanh", py::arg("recurrent_activation") = "sigmoid",
     py::arg("gate_order") = py::none(), py::arg("mask") = py::none(), py::arg("need_w_hh") = true,
     py::arg("need_b_hh") = true,
     "(grad_x_proj, grad_h0, grad_c0, grad_w_hh, grad_b_hh) of rnn_forward from the gradient of its states; "
     "grad_c0 for 'lstm' only, the weights' None where not asked for. grad_x_proj is also the gradient of b_ih "
     "summed over steps and batch.");
  m.def("embedding", [](const Tensor& weight, const Tensor& indices) {
    py::gil_scoped_release release;
    return embedding(weight, indices);
  }, py::arg("weight"), py::arg("indices"),
     "weight (num_embeddings, dim) rows picked by integer indices (*) -> (*, dim); IndexError for ids outside "
     "the table.");
  m.def("embedding_backward", [](const Tensor& grad, const Tensor& indices, int64_t num_weights,
                                 std::optional<int64_t> padding_idx, bool scale_grad_by_freq) {
    py::gil_scoped_release release;
    return embedding_backward(grad, indices, num_weights, padding_idx, scale_grad_by_freq);
  }, py::arg("grad"), py::arg("indices"), py::arg("num_weights"), py::arg("padding_idx") = py::none(),
     py::arg("scale_grad_by_freq") = false,
     "(num_weights, dim): grad (*, dim) rows added into the rows their ids name (repeats add up); the "
     "padding_idx row gets none.");
  m.def("embedding_renorm_", [](const Tensor& weight, const Tensor& indices, double max_norm, double norm_type) {
    py::gil_scoped_release release;
    embedding_renorm_(weight, indices, max_norm, norm_type);
    return weight;
  }, py::arg("weight"), py::arg("indices"), py::arg("max_norm"), py::arg("norm_type") = 2.0,
     "In place: rows of weight named by indices with a norm_type-norm above max_norm are scaled to max_norm.");
}

}  // namespace ember

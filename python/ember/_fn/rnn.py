"""Recurrent layers and embedding lookup as graph nodes over ember's C++ kernels.

`rnn_layer` runs one recurrent layer in one direction through a whole sequence as ONE graph node:
forward is the input projection for all steps (`_C.linear`, one GEMM) and the time loop
(`_C.rnn_forward`: per step the recurrent GEMM and one fused elementwise pass of the cell);
backward is `_C.rnn_backward` (backward through time, dW_hh and db_hh over all steps at once) and
`_C.linear_backward` (dx, dW_ih, db_ih from the projection's gradient, one GEMM each).

The node's output is the layer's whole state tensor, states (S, T + 1, B, H) (S = 2 for LSTM: hidden
then cell states; slot 0 holds the initial state, slot t + 1 the state after step t, or for a
reverse layer the initial state in slot T and step t's state in slot t); the output sequence and the
final states are views of it, so one node serves all three.

Cells (gates in canonical order; weights hold gate q's rows in block gate_order[q], default q):
    'rnn'   h' = act(W_ih x + b_ih + W_hh h + b_hh)                          1 gate
    'lstm'  i, f, g, o = rec(.), rec(.), act(.), rec(.);  c' = f c + i g;  h' = o act(c')
    'gru'   r, z = rec(W_i? x + b_i? + W_h? h + b_h?);  n = act(W_in x + b_in + r (W_hn h + b_hn));
            h' = (1 - z) n + z h                                              3 gates
with act / rec one of 'tanh', 'sigmoid', 'relu', 'hard_sigmoid', 'linear' (PyTorch: tanh / sigmoid).
"""
from .. import _C
from .. import _dtype
from .common import Function, Tensor, _Mode, _saved_output

__all__ = ["RecurrentLayer", "rnn_layer", "rnn_cell", "lstm_cell", "gru_cell", "Embedding", "embedding",
           "GATES", "ACTIVATIONS"]

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
ACTIVATIONS = ("tanh", "sigmoid", "relu", "hard_sigmoid", "linear")


def _project(x, w_ih, b_ih, batch_first):
    """W_ih x_t + b_ih for every step as one (steps * batch) x input GEMM, seen time-major."""
    rows = _C.reshape(x, [x.shape[0] * x.shape[1], x.shape[2]])
    x_proj = _C.reshape(_C.linear(rows, w_ih, b_ih), [x.shape[0], x.shape[1], w_ih.shape[0]])
    return _C.transpose(x_proj, 0, 1) if batch_first else x_proj


class RecurrentLayer(Function):
    """forward(x, w_ih, w_hh, b_ih, b_hh, h0, c0, mask, spec) -> states; mask (T, B) bool or None; spec =
    (cell, reverse, activation, recurrent_activation, gate_order, batch_first)."""

    @staticmethod
    def forward(ctx, x, w_ih, w_hh, b_ih, b_hh, h0, c0, mask, spec):
        cell, reverse, activation, recurrent_activation, gate_order, batch_first = spec
        states, saved = _C.rnn_forward(cell, _project(x, w_ih, b_ih, batch_first), w_hh, b_hh, h0, c0, reverse,
                                       activation, recurrent_activation, gate_order, mask, True)
        ctx.save_for_backward(x, w_ih, w_hh, _saved_output(states), saved, mask)
        ctx.spec = spec
        return states

    @staticmethod
    def backward(ctx, grad):
        x, w_ih, w_hh, states, saved, mask = ctx.saved_tensors
        cell, reverse, activation, recurrent_activation, gate_order, batch_first = ctx.spec
        need = ctx.needs_input_grad
        # Elman and LSTM cells add both biases to the same pre-activations: one sum serves both
        share_bias_grad = cell != "gru" and need[3] and need[4]
        d_proj, dh0, dc0, dw_hh, db_hh = _C.rnn_backward(cell, grad, states, saved, w_hh, reverse, activation,
                                                         recurrent_activation, gate_order, mask, need[2],
                                                         need[4] and not share_bias_grad)
        if batch_first:
            d_proj = _C.transpose(d_proj, 0, 1)
        # as two-dimensional products: one GEMM each for dx and dW_ih, not one per step
        rows = x.shape[0] * x.shape[1]
        dx, dw_ih, db_ih = _C.linear_backward(_C.reshape(d_proj, [rows, d_proj.shape[2]]),
                                              _C.reshape(x, [rows, x.shape[2]]), w_ih, need[0], need[1], need[3])
        if dx is not None:
            dx = _C.reshape(dx, list(x.shape))
        if share_bias_grad:
            db_hh = _C.clone(db_ih)
        return dx, dw_ih, dw_hh, db_ih, db_hh, dh0 if need[5] else None, dc0 if need[6] else None, None, None


def _check_tensor(op, name, t, required=True):
    if t is None and not required:
        return
    if type(t) is not Tensor:
        raise TypeError(f"{op}: {name} must be an ember.Tensor{'' if required else ' or None'}, got {type(t).__name__}")


def _check_layer(op, cell, x, w_ih, w_hh, b_ih, b_hh, h0, c0, activation, recurrent_activation, batch_first):
    if cell not in GATES:
        raise ValueError(f"{op}: unknown cell {cell!r}; expected 'rnn', 'lstm' or 'gru'")
    for name, value in (("activation", activation), ("recurrent_activation", recurrent_activation)):
        if value not in ACTIVATIONS:
            raise ValueError(f"{op}: unknown {name} {value!r}; expected one of {', '.join(map(repr, ACTIVATIONS))}")
    for name, t, required in (("input", x, True), ("weight_ih", w_ih, True), ("weight_hh", w_hh, True),
                              ("bias_ih", b_ih, False), ("bias_hh", b_hh, False), ("h0", h0, False),
                              ("c0", c0, False)):
        _check_tensor(op, name, t, required)
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype}; convert it with .float()")
    gates = GATES[cell]
    if w_hh.ndim != 2 or w_hh.shape[0] != gates * w_hh.shape[1]:
        raise ValueError(f"{op}: a {cell} cell's weight_hh must have shape ({gates} * hidden_size, hidden_size), "
                         f"got {w_hh.shape}")
    hidden = w_hh.shape[1]
    if w_ih.ndim != 2 or w_ih.shape[0] != gates * hidden:
        raise ValueError(f"{op}: weight_ih must have shape ({gates * hidden}, input_size) to match weight_hh "
                         f"{w_hh.shape}, got {w_ih.shape}")
    if x.ndim != 3:
        layout = "(batch, seq_len, input_size)" if batch_first else "(seq_len, batch, input_size)"
        raise ValueError(f"{op}: expected a 3-D input {layout}, got shape {x.shape}")
    if x.shape[-1] != w_ih.shape[1]:
        raise ValueError(f"{op}: input has {x.shape[-1]} features (shape {x.shape}) but weight_ih expects "
                         f"{w_ih.shape[1]} (shape {w_ih.shape})")
    for name, t in (("weight_ih", w_ih), ("weight_hh", w_hh), ("bias_ih", b_ih), ("bias_hh", b_hh), ("h0", h0),
                    ("c0", c0)):
        if t is not None and t.dtype is not x.dtype:
            raise TypeError(f"{op}: {name} is {t.dtype} but the input is {x.dtype}; convert one of them "
                            "(e.g. model.double() or x.float())")
    for name, b in (("bias_ih", b_ih), ("bias_hh", b_hh)):
        if b is not None and b.shape != (gates * hidden,):
            raise ValueError(f"{op}: {name} must have shape ({gates * hidden},), got {b.shape}")
    batch = x.shape[0] if batch_first else x.shape[1]
    for name, t in (("h0", h0), ("c0", c0)):
        if t is not None and t.shape != (batch, hidden):
            raise ValueError(f"{op}: expected {name} of shape ({batch}, {hidden}) (batch, hidden_size), got {t.shape}")
    if c0 is not None and cell != "lstm":
        raise ValueError(f"{op}: c0 is given but a {cell} cell has no cell state")


def rnn_layer(cell, input, weight_ih, weight_hh, bias_ih=None, bias_hh=None, h0=None, c0=None, *, reverse=False,
              activation="tanh", recurrent_activation="sigmoid", gate_order=None, batch_first=False, mask=None):
    """One recurrent layer in one direction through a sequence: (output, h_n, c_n).

    input (T, B, F), or (B, T, F) with batch_first; weight_ih (G*H, F); weight_hh (G*H, H); bias_ih,
    bias_hh (G*H,) or None; h0, c0 (B, H) or None (zeros). G = 1 ('rnn'), 4 ('lstm'), 3 ('gru'); gate
    blocks in PyTorch's order (LSTM i, f, g, o; GRU r, z, n) unless gate_order (a permutation:
    gate_order[q] is the block holding canonical gate q) says otherwise. reverse runs from the last
    step to the first (the output stays in input order). mask: bool (T, B) ((B, T) with batch_first)
    or None; where it is False the step leaves that row's state unchanged (padding: h_n and c_n are
    then the states after each row's last unmasked step; the output there repeats the carried state).
    Returns output (T, B, H) ((B, T, H) with batch_first, a view), h_n (B, H) and c_n (B, H) for
    'lstm', else None. Differentiable in every float tensor argument."""
    op = f"rnn_layer({cell!r})"
    _check_layer(op, cell, input, weight_ih, weight_hh, bias_ih, bias_hh, h0, c0, activation, recurrent_activation,
                 batch_first)
    steps = input.shape[1] if batch_first else input.shape[0]
    if steps == 0:
        raise ValueError(f"{op}: expected a sequence of at least one step, got input shape {input.shape}")
    if mask is not None:
        _check_tensor(op, "mask", mask)
        expected = tuple(input.shape[:2])
        if mask.shape != expected:
            layout = "batch, steps" if batch_first else "steps, batch"
            raise ValueError(f"{op}: expected a mask of shape {expected} ({layout}), got {mask.shape}")
        if mask.dtype is not _dtype.bool:
            mask = mask != 0
        if batch_first:
            mask = _C.transpose(mask, 0, 1)
    order = None if gate_order is None else [int(q) for q in gate_order]
    spec = (cell, bool(reverse), activation, recurrent_activation, order, bool(batch_first))
    if _Mode.enabled and any(t is not None and t._requires_grad
                             for t in (input, weight_ih, weight_hh, bias_ih, bias_hh, h0, c0)):
        states = RecurrentLayer.apply(input, weight_ih, weight_hh, bias_ih, bias_hh, h0, c0, mask, spec)
    else:
        states = _C.rnn_forward(cell, _project(input, weight_ih, bias_ih, batch_first), weight_hh, bias_hh, h0, c0,
                                reverse, activation, recurrent_activation, order, mask, False)[0]
    last = 0 if reverse else steps
    output = states[0, :steps] if reverse else states[0, 1:]
    if batch_first:
        output = output.transpose(0, 1)
    return output, states[0, last], states[1, last] if cell == "lstm" else None


def _cell_step(op, cell, input, hx, cx, w_ih, w_hh, b_ih, b_hh, activation="tanh"):
    """One step of a cell on input (B, F) or (F,): (h', c')."""
    _check_tensor(op, "input", input)
    if input.ndim not in (1, 2):
        raise ValueError(f"{op}: expected input to be 1-D or 2-D, got {input.ndim}-D tensor (shape {input.shape})")
    batched = input.ndim == 2
    for name, state in (("hx", hx), ("cx", cx)):
        _check_tensor(op, name, state, required=False)
        if state is not None and state.ndim != input.ndim:
            raise ValueError(f"{op}: {name} must be {input.ndim}-D like the input (shape {input.shape}), got shape "
                             f"{state.shape}")
    if not batched:
        input = input.unsqueeze(0)
        hx = None if hx is None else hx.unsqueeze(0)
        cx = None if cx is None else cx.unsqueeze(0)
    out, h, c = rnn_layer(cell, input.unsqueeze(0), w_ih, w_hh, b_ih, b_hh, hx, cx, activation=activation)
    if not batched:
        h = h[0]
        c = None if c is None else c[0]
    return h, c


def rnn_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """One Elman RNN step: h' = act(W_ih x + b_ih + W_hh h + b_hh), act 'tanh' or 'relu'."""
    return _cell_step("rnn_cell", "rnn", input, hx, None, w_ih, w_hh, b_ih, b_hh, nonlinearity)[0]


def lstm_cell(input, hx, cx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: (h', c')."""
    return _cell_step("lstm_cell", "lstm", input, hx, cx, w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: h'."""
    return _cell_step("gru_cell", "gru", input, hx, None, w_ih, w_hh, b_ih, b_hh)[0]


# ---- embedding ----------------------------------------------------------------------------------------

class Embedding(Function):
    """forward(weight, indices, padding_idx, scale_grad_by_freq): rows of weight; backward scatter-adds
    the gradient's rows into the rows they came from (none into padding_idx)."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.save_for_backward(indices)
        ctx.args = (weight.shape[0], padding_idx, scale_grad_by_freq)
        return _C.embedding(weight, indices)

    @staticmethod
    def backward(ctx, grad):
        (indices,) = ctx.saved_tensors
        num_weights, padding_idx, scale = ctx.args
        return _C.embedding_backward(grad, indices, num_weights, padding_idx, scale), None, None, None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of weight (num_embeddings, embedding_dim) picked by the integer ids in input (*) -> (*,
    embedding_dim), as torch.nn.functional.embedding. padding_idx (negative counts from the end): that
    row receives no gradient. max_norm: the rows looked up are first renormalised in place to at most
    that norm_type-norm. scale_grad_by_freq: each id's gradient is divided by its count in input."""
    _check_tensor("embedding", "input", input)
    _check_tensor("embedding", "weight", weight)
    if input.dtype.is_floating_point or input.dtype.name == "bool":
        raise TypeError(f"embedding: input must hold integer ids (int64 or int32), got {input.dtype}; convert it "
                        "with .long()")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    if sparse:
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not supported; use sparse=False")
    num = weight.shape[0]
    if padding_idx is not None:
        if isinstance(padding_idx, bool) or not isinstance(padding_idx, int):
            raise TypeError(f"embedding: padding_idx must be an int or None, got {padding_idx!r}")
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx must be within num_embeddings ({num}), got {padding_idx}")
        padding_idx %= num
    if max_norm is not None:
        _C.embedding_renorm_(weight.detach(), input, float(max_norm), float(norm_type))
    if _Mode.enabled and weight._requires_grad:
        return Embedding.apply(weight, input, padding_idx, bool(scale_grad_by_freq))
    return _C.embedding(weight, input)

"""Recurrent layers: RNN, LSTM, GRU and their cells, with PyTorch's arguments, parameter names (so a
PyTorch state_dict loads), initialisation, input and state shapes, gate orders and repr.

Each layer and direction runs as one graph node over the C++ kernels (ember._fn.rnn.rnn_layer): the
input projection of all steps in one GEMM, then the time loop in C++ (per step one recurrent GEMM
and one fused pass of the gate arithmetic), and backward through time in C++ as well. Layers are
chained in time-major order; a batch_first input is transposed on the way in and its output is
returned as a transposed view, as PyTorch does.
"""
import math
import numbers
import warnings

from .. import _C
from .. import _dtype
from .._fn.rnn import rnn_layer as _rnn_layer
from .._fn.shape import cat as _cat
from .._fn.shape import stack as _stack
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

Tensor = _C.Tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_int(name, arg, value, positive_msg):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: {arg} should be of type int, got: {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name}: {positive_msg}, got {value}")
    return int(value)


def _kernel_cell(mode):
    return {"RNN_TANH": ("rnn", "tanh"), "RNN_RELU": ("rnn", "relu"), "LSTM": ("lstm", "tanh"),
            "GRU": ("gru", "tanh")}[mode]


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, named
    weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} (+ '_reverse' for the backward
    direction), each ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)); and the forward pass."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got {dropout!r}")
        if not isinstance(bias, bool):
            raise TypeError(f"{name}: bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"{name}: batch_first should be of type bool, got: {type(batch_first).__name__}")
        input_size = _check_int(name, "input_size", input_size, "input_size must be greater than zero")
        hidden_size = _check_int(name, "hidden_size", hidden_size, "hidden_size must be greater than zero")
        num_layers = _check_int(name, "num_layers", num_layers, "num_layers must be greater than zero")
        if isinstance(proj_size, bool) or not isinstance(proj_size, numbers.Integral) or proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable projections, got "
                             f"{proj_size!r}")
        if proj_size != 0:
            if proj_size >= hidden_size:
                raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, got proj_size={proj_size} "
                                 f"and hidden_size={hidden_size}")
            raise NotImplementedError(f"{name}: proj_size > 0 (LSTM with projections) is not supported; use "
                                      "proj_size=0, or add an nn.Linear after the LSTM")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=3)
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = 0
        dtype = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype, name)
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if self.bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", [gate_size, layer_input]), ("weight_hh", [gate_size, hidden_size])]
                if bias:
                    shapes += [("bias_ih", [gate_size]), ("bias_hh", [gate_size])]
                names = []
                for stem, shape in shapes:
                    param_name = f"{stem}_l{layer}{suffix}"
                    setattr(self, param_name, Parameter(_C.empty(shape, dtype, device)))
                    names.append(param_name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """Nothing to do: the kernels read each parameter where it is (kept for PyTorch code)."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ---- forward ----------------------------------------------------------------------------------

    def _check_input(self, input):
        name = type(self).__name__
        if type(input) is not Tensor:
            raise TypeError(f"{name}: expected an ember.Tensor input, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            batched = "(batch, seq_len, input_size)" if self.batch_first else "(seq_len, batch, input_size)"
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead (shape "
                             f"{input.shape}); expected (seq_len, input_size) or {batched}")
        weight = self.weight_ih_l0
        if input.dtype is not weight.dtype:
            raise ValueError(f"{name}: input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                             f"Convert input: input.to({weight.dtype}), or convert model: model.to({input.dtype})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.shape[-1]} (input shape {input.shape})")

    def _check_state(self, state, what, batched, expected):
        name = type(self).__name__
        if type(state) is not Tensor:
            raise TypeError(f"{name}: {what} must be an ember.Tensor, got {type(state).__name__}")
        if state.ndim != (3 if batched else 2):
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise RuntimeError(f"{name}: For {kind} input, {what} should also be {3 if batched else 2}-D but got "
                               f"{state.ndim}-D tensor (shape {state.shape})")
        shape = expected if batched else (expected[0], expected[2])
        if state.shape != shape:
            raise RuntimeError(f"{name}: Expected {what} size {shape}, got {list(state.shape)}")
        if state.dtype is not self.weight_ih_l0.dtype:
            raise TypeError(f"{name}: {what} is {state.dtype} but the parameters are {self.weight_ih_l0.dtype}")

    def _states(self, hx, batched, batch):
        """(h0, c0) as (layers * directions, batch, hidden) tensors or None, from the user's hx."""
        expected = (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)
        if hx is None:
            return None, None
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
            h0, c0 = hx
            self._check_state(h0, "hx[0]", batched, expected)
            self._check_state(c0, "hx[1]", batched, expected)
        else:
            h0, c0 = hx, None
            self._check_state(h0, "hx", batched, expected)
        if not batched:
            h0 = h0.unsqueeze(1)
            c0 = None if c0 is None else c0.unsqueeze(1)
        return h0, c0

    def forward(self, input, hx=None):
        self._check_input(input)
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        if self.batch_first:
            input = input.transpose(0, 1)
        steps, batch = input.shape[0], input.shape[1]
        if steps == 0:
            raise RuntimeError(f"{type(self).__name__}: Expected sequence length to be larger than 0 in RNN (input "
                               f"shape {tuple(input.shape)})")
        h0, c0 = self._states(hx, batched, batch)
        cell, activation = _kernel_cell(self.mode)
        directions = 2 if self.bidirectional else 1
        x = input.contiguous()
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                weights = [getattr(self, n) for n in self._all_weights[index]]
                w_ih, w_hh = weights[0], weights[1]
                b_ih, b_hh = (weights[2], weights[3]) if self.bias else (None, None)
                out, h, c = _rnn_layer(cell, x, w_ih, w_hh, b_ih, b_hh, None if h0 is None else h0[index],
                                       None if c0 is None else c0[index], reverse=direction == 1,
                                       activation=activation)
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outputs[0] if directions == 1 else _cat(outputs, 2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        output, h_n = x, _stack(h_n, 0)
        c_n = _stack(c_n, 0) if self.mode == "LSTM" else None
        if self.batch_first:
            output = output.transpose(0, 1)
        if not batched:
            output = output.squeeze(0 if self.batch_first else 1)
            h_n = h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        return output, ((h_n, c_n) if self.mode == "LSTM" else h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False). forward(input, h_0=None) -> (output, h_n): input (L, N, H_in)
    ((N, L, H_in) with batch_first, or unbatched (L, H_in)); h_0 and h_n (D * num_layers, N, H);
    output (L, N, D * H)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("RNN: proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            nonlinearity, args = args[3], args[:3] + args[4:]
            kwargs["nonlinearity"] = nonlinearity
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gates (i, f, g, o in the rows of weight_ih / weight_hh):
    i, f, o = sigmoid(.), g = tanh(.), c_t = f c_{t-1} + i g, h_t = o tanh(c_t).

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False). forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n))."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gates (r, z, n in the rows of the weights):
    r, z = sigmoid(.), n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h_t = (1 - z) n + z h_{t-1}.

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False). forward(input, h_0=None) -> (output, h_n)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("GRU: proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ---- cells ----------------------------------------------------------------------------------------

class RNNCellBase(Module):
    """One step of a recurrent cell: weight_ih (G * hidden, input), weight_hh (G * hidden, hidden),
    bias_ih, bias_hh (G * hidden), all ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
    _cell = ""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if not isinstance(bias, bool):
            raise TypeError(f"{name}: bias should be of type bool, got: {type(bias).__name__}")
        self.input_size = _check_int(name, "input_size", input_size, "input_size must be greater than zero")
        self.hidden_size = _check_int(name, "hidden_size", hidden_size, "hidden_size must be greater than zero")
        self.bias = bias
        dtype = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype, name)
        gates = num_chunks * hidden_size
        self.weight_ih = Parameter(_C.empty([gates, input_size], dtype, device))
        self.weight_hh = Parameter(_C.empty([gates, hidden_size], dtype, device))
        if bias:
            self.bias_ih = Parameter(_C.empty([gates], dtype, device))
            self.bias_hh = Parameter(_C.empty([gates], dtype, device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _check_input(self, input):
        name = type(self).__name__
        if type(input) is not Tensor:
            raise TypeError(f"{name}: expected an ember.Tensor input, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead (shape {input.shape})")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got {input.shape[-1]} expected "
                               f"{self.input_size} (input shape {input.shape})")
        if input.dtype is not self.weight_ih.dtype:
            raise ValueError(f"{name}: input dtype ({input.dtype}) does not match weight dtype "
                             f"({self.weight_ih.dtype}); convert one of them")

    def _check_state(self, input, state, what):
        name = type(self).__name__
        if state is None:
            return
        if type(state) is not Tensor:
            raise TypeError(f"{name}: {what} must be an ember.Tensor, got {type(state).__name__}")
        if state.ndim != input.ndim:
            raise RuntimeError(f"{name}: {what} must be {input.ndim}-D like the input (shape {input.shape}), got "
                               f"shape {state.shape}")
        if input.ndim == 2 and state.shape[0] != input.shape[0]:
            raise RuntimeError(f"{name}: Input batch size {input.shape[0]} doesn't match {what} batch size "
                               f"{state.shape[0]}")
        if state.shape[-1] != self.hidden_size:
            raise RuntimeError(f"{name}: {what} has inconsistent hidden_size: got {state.shape[-1]}, expected "
                               f"{self.hidden_size}")

    def _step(self, input, hx, cx, activation="tanh"):
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
            hx = None if hx is None else hx.unsqueeze(0)
            cx = None if cx is None else cx.unsqueeze(0)
        _, h, c = _rnn_layer(self._cell, input.unsqueeze(0), self.weight_ih, self.weight_hh, self.bias_ih,
                             self.bias_hh, hx, cx, activation=activation)
        if not batched:
            h = h.squeeze(0)
            c = None if c is None else c.squeeze(0)
        return h, c


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu. forward(input, hx=None) -> h'."""
    _cell = "rnn"

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        self._check_input(input)
        self._check_state(input, hx, "hx")
        return self._step(input, hx, None, self.nonlinearity)[0]


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o). forward(input, (h, c)=None) -> (h', c')."""
    _cell = "lstm"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        self._check_input(input)
        if hx is None:
            h, c = None, None
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTMCell: hx must be a tuple (h, c), got {type(hx).__name__}")
            h, c = hx
            self._check_state(input, h, "hx[0]")
            self._check_state(input, c, "hx[1]")
        return self._step(input, h, c)


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n). forward(input, hx=None) -> h'."""
    _cell = "gru"

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        self._check_input(input)
        self._check_state(input, hx, "hx")
        return self._step(input, hx, None)[0]

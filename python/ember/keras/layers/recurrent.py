"""Recurrent layers in Keras 3's form: SimpleRNN, LSTM and GRU.

Weights have Keras's layouts and get_weights order: kernel (input_dim, G * units), recurrent_kernel
(units, G * units), bias (G * units,), for GRU with reset_after=True (2, 3 * units) (input bias,
then recurrent bias); G = 1, 4, 3. Gate blocks are in Keras's order (LSTM i, f, c, o, which is
PyTorch's i, f, g, o; GRU z, r, h, where the kernels' canonical order is r, z, n: gate_order maps
it). The kernels take weights as (G * units, in): the Keras matrices go in as transposed views.

A call takes one of three ways through the sequence, all giving Keras's results:
- fused: one graph node over the C++ kernels for the whole sequence (ember._fn.rnn): the input
  projection of all steps in one GEMM, then the time loop and backward through time in C++.
- fused with a mask: Keras skips masked steps (the state carries over; a masked step outputs the
  carried state, or zeros with zero_output_for_mask). The kernels take the mask themselves: a
  masked step leaves that sample's state, and its gradient, as they were, and its slot of the
  states tensor holds the carried state.
- per step, for what the kernels do not compute (recurrent_dropout in training, GRU
  reset_after=False, activations other than tanh / sigmoid / relu / hard_sigmoid / linear): the
  cell's equations in ember ops, one time step after another, differentiated by autograd. Slower.
"""
import numbers

import numpy as np

from ... import _C
from ... import _dtype
from ..._fn.common import _Mode
from ..._fn.elementwise import where as _where
from ..._fn.rnn import ACTIVATIONS as _KERNEL_ACTIVATIONS
from ..._fn.rnn import RecurrentLayer as _RecurrentLayer
from ..._fn.shape import cat as _cat
from ..._fn.shape import index_select as _index_select
from ..._fn.shape import stack as _stack
from ...nn import functional as F
from .. import activations, constraints, initializers, regularizers
from .base import Layer
from .core import dense
from .utils import InputSpec

Tensor = _C.Tensor

__all__ = ["SimpleRNN", "LSTM", "GRU", "reverse_time"]


def reverse_time(x):
    """x (batch, time, ...) with its time steps in reverse order (a differentiable gather)."""
    steps = x.shape[1]
    return _index_select(x, 1, _C.from_numpy(np.arange(steps - 1, -1, -1, dtype=np.int64)))


def _kernel_activation(fn):
    """The kernels' name for an activation function, or None when they do not have it."""
    name = activations._name_of(fn)
    return name if name in _KERNEL_ACTIVATIONS else None


class _RNN(Layer):
    """What SimpleRNN, LSTM and GRU share: Keras's RNN arguments, weights, masks, dropout, initial
    states, return_sequences / return_state / go_backwards, and the three ways through a sequence."""
    _casts_integer_input = True  # computes in float: integer inputs are cast (Layer._convert_input)
    _leaf = True
    _cell = None   # the kernels' cell: 'rnn', 'lstm', 'gru'
    _gates = None
    _gate_order = None
    _state_count = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        kwargs.pop("implementation", None)  # Keras's choice of cell arithmetic; the results are the same
        kwargs.pop("use_cudnn", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
            raise ValueError(f"Received an invalid value for argument `units`, expected a positive integer, got "
                             f"{units}.")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
                raise ValueError(f"{type(self).__name__}: `{name}` must be a float between 0 and 1, got {rate!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))  # Keras clips the rates
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed  # kept for the config: draws come from ember's generator (ember.manual_seed)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self._carried = None  # stateful: the final states of the last call (detached), the next call's start
        self.unroll = bool(unroll)  # accepted; the time loop always runs in C++ or step by step
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self.input_spec = InputSpec(ndim=3)
        self.kernel = self.recurrent_kernel = self.bias = None

    # ---- weights ------------------------------------------------------------------------------------
    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"The last dimension of the inputs to a {type(self).__name__} layer should be defined. "
                             f"Found None. Full input shape received: {tuple(input_shape)}")
        width = self._gates * self.units
        self.kernel = self.add_weight(shape=(input_dim, width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, width), initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint, name="recurrent_kernel")
        if self.use_bias:
            self.bias = self.add_weight(shape=self._bias_shape(), initializer=self._bias_initializer(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        name="bias")
        self.input_spec = InputSpec(ndim=3, axes={-1: input_dim})
        self.built = True

    def _biases(self):
        """(input bias, recurrent bias), each (G * units,) or None."""
        return self.bias, None

    # ---- calling -------------------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        batch, steps = sequences.shape[0], sequences.shape[1]
        if steps == 0:
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) expects a sequence of at least one time '
                             f"step; received input with shape {sequences.shape}")
        if initial_state is None and self._carried is not None:
            carried_batch = self._carried[0].shape[0]
            if carried_batch != batch:
                raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) is stateful: it carries states for '
                                 f"batches of {carried_batch} samples but received a batch of {batch}; use one batch "
                                 "size throughout (batch_size= of Input, and a sample count that the batch size "
                                 "divides), or call reset_states() first")
            initial_state = self._carried
        h0, c0 = self._initial_states(initial_state, batch, sequences.dtype)
        mask = self._mask_array(mask, batch, steps)
        input_masks, recurrent_masks = self._dropout_masks(sequences, bool(training))
        if recurrent_masks is not None or not self._kernels_compute_it():
            sequence, last, states = self._run_steps(sequences, h0, c0, mask, input_masks, recurrent_masks)
        else:
            if input_masks is not None:
                sequences = sequences * input_masks.unsqueeze(1)
            sequence, last, states = self._run_fused(sequences, h0, c0, mask)
        if self.stateful:
            self._carried = [state.detach() for state in states]
        output = sequence if self.return_sequences else last
        return [output] + states if self.return_state else output

    def reset_states(self, states=None):
        """A stateful layer's next call starts from zeros again (or from `states`: [h] or [h, c],
        each (batch, units)), as Keras's reset_states."""
        if not self.stateful:
            raise AttributeError(f'Layer "{self.name}" is not stateful; reset_states() applies to layers made with '
                                 "stateful=True")
        if states is None:
            self._carried = None
            return
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        h, c = self._initial_states(states, self._convert_input(states[0]).shape[0], self._dtype)
        self._carried = [h] if c is None else [h, c]

    def _kernels_compute_it(self):
        return _kernel_activation(self.activation) is not None and (
            self._gates == 1 or _kernel_activation(self.recurrent_activation) is not None)

    def _initial_states(self, initial_state, batch, dtype):
        if initial_state is None:
            return None, None
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        expected = "[h, c]" if self._state_count == 2 else "[h]"
        if len(states) != self._state_count:
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) expects {self._state_count} initial state '
                             f"tensor(s) {expected}, each (batch, units); received {len(states)}")
        out = []
        for i, state in enumerate(states):
            state = self._convert_input(state)
            if type(state) is not Tensor:
                raise TypeError(f'Layer "{self.name}": initial_state[{i}] must be a tensor or an array, got '
                                f"{type(state).__name__}")
            if state.shape != (batch, self.units):
                raise ValueError(f'Layer "{self.name}" ({type(self).__name__}): initial_state[{i}] has shape '
                                 f"{state.shape}, expected ({batch}, {self.units}) (batch, units)")
            out.append(state if state.dtype is dtype else state.to(dtype))
        return out[0], out[1] if self._state_count == 2 else None

    def _mask_array(self, mask, batch, steps):
        """The mask as a NumPy (batch, time) bool array, or None when no step is masked."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        if mask is None:
            return None
        mask = np.asarray(mask.numpy() if type(mask) is Tensor else mask).astype(bool)
        if mask.ndim == 3 and mask.shape[-1] == 1:
            mask = mask[..., 0]
        if mask.shape != (batch, steps):
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) expects a mask of shape ({batch}, {steps}) '
                             f"(batch, timesteps); received a mask of shape {mask.shape}")
        return None if mask.all() else mask

    def _dropout_masks(self, sequences, training):
        """Keras's dropout masks for one call, the same for every time step: (input masks, recurrent
        masks), each None (no dropout), one (batch, features) mask, or, when recurrent dropout is
        on, one per gate (Keras's implementation 1 of LSTM and GRU). Scaled by 1 / (1 - rate)."""
        if not training:
            return None, None
        per_gate = self._gates > 1 and 0.0 < self.recurrent_dropout < 1.0

        def draw(features, rate):
            if not 0.0 < rate < 1.0:
                return None
            ones = _C.full([sequences.shape[0], features], 1.0, sequences.dtype, None)
            masks = [F.dropout(ones, rate, True) for _ in range(self._gates if per_gate else 1)]
            return masks if per_gate else masks[0]
        return draw(sequences.shape[-1], self.dropout), draw(self.units, self.recurrent_dropout)

    # ---- the fused ways ------------------------------------------------------------------------------
    def _run_states(self, x, h0, c0, reverse, mask=None):
        """The kernels' states tensor (S, T + 1, B, units) of one pass over x (B, T, F); mask (T, B)
        bool or None: masked steps carry the state over, and their slots hold it."""
        w_ih, w_hh = self.kernel.transpose(0, 1), self.recurrent_kernel.transpose(0, 1)
        b_ih, b_hh = self._biases()
        activation = _kernel_activation(self.activation)
        recurrent = _kernel_activation(self.recurrent_activation) if self._gates > 1 else "sigmoid"
        args = (x, w_ih, w_hh, b_ih, b_hh, h0, c0)
        if _Mode.enabled and any(t is not None and t._requires_grad for t in args):
            spec = (self._cell, reverse, activation, recurrent, self._gate_order, True)
            return _RecurrentLayer.apply(*args, mask, spec)
        x_proj = _C.transpose(_C.linear(x, w_ih, b_ih), 0, 1)
        return _C.rnn_forward(self._cell, x_proj, w_hh, b_hh, h0, c0, reverse, activation, recurrent,
                              self._gate_order, mask, False)[0]

    def _run_fused(self, x, h0, c0, mask):
        """(output sequence in processing order or None, last output, final states). Masked steps
        (Keras's rule) carry the state over and output it, or zeros with zero_output_for_mask."""
        steps = x.shape[1]
        kernel_mask = None if mask is None else _C.from_numpy(np.ascontiguousarray(mask.T))
        states = self._run_states(x, h0, c0, self.go_backwards, kernel_mask)
        last_slot = 0 if self.go_backwards else steps
        finals = [states[s, last_slot] for s in range(self._state_count)]
        last, sequence = finals[0], None
        if self.return_sequences:
            sequence = (reverse_time(states[0, :steps].transpose(0, 1)) if self.go_backwards
                        else states[0, 1:].transpose(0, 1))
        if mask is not None and self.zero_output_for_mask:
            in_order = mask[:, ::-1] if self.go_backwards else mask
            keep = _C.from_numpy(np.ascontiguousarray(in_order).astype(_dtype.TO_NUMPY[x.dtype]))
            last = last * keep[:, -1:]
            if sequence is not None:
                sequence = sequence * keep.unsqueeze(2)
        return sequence, last, finals

    # ---- step by step --------------------------------------------------------------------------------
    def _input_projection(self, x, input_masks):
        """x @ kernel + input bias for all steps: (B, T, G * units); with one input mask per gate,
        each gate's block projects its own masked copy of x."""
        bias = self._biases()[0]
        if input_masks is None:
            return dense(x, self.kernel, bias)
        if type(input_masks) is Tensor:
            return dense(x * input_masks.unsqueeze(1), self.kernel, bias)
        units = self.units
        return _cat([dense(x * m.unsqueeze(1), self.kernel[:, g * units:(g + 1) * units],
                           None if bias is None else bias[g * units:(g + 1) * units])
                      for g, m in enumerate(input_masks)], -1)

    def _recurrent_product(self, h, recurrent_masks, gates):
        """h @ recurrent_kernel for the listed gate blocks, (B, len(gates) * units); each block's h
        multiplied by that gate's recurrent dropout mask first."""
        units, kernel = self.units, self.recurrent_kernel
        if recurrent_masks is None and list(gates) == list(range(self._gates)):
            return h @ kernel
        blocks = []
        for g in gates:
            if recurrent_masks is None:
                hg = h
            else:
                hg = h * (recurrent_masks if type(recurrent_masks) is Tensor else recurrent_masks[g])
            blocks.append(hg @ kernel[:, g * units:(g + 1) * units])
        return blocks[0] if len(blocks) == 1 else _cat(blocks, -1)

    def _run_steps(self, x, h0, c0, mask, input_masks, recurrent_masks):
        """(output sequence in processing order or None, last output, final states), one time step
        after another through _step (masked steps keep the state)."""
        batch, steps = x.shape[0], x.shape[1]
        projected = self._input_projection(x, input_masks)
        zeros = _C.full([batch, self.units], 0.0, x.dtype, None)
        h = zeros if h0 is None else h0
        c = (zeros if c0 is None else c0) if self._state_count == 2 else None
        keep = None if mask is None else _C.from_numpy(mask)
        outputs = []
        for t in (range(steps - 1, -1, -1) if self.go_backwards else range(steps)):
            new_h, new_c = self._step(projected[:, t], h, c, recurrent_masks)
            if keep is None:
                h, c, out = new_h, new_c, new_h
            else:
                keep_t = keep[:, t:t + 1]
                h = _where(keep_t, new_h, h)
                c = None if c is None else _where(keep_t, new_c, c)
                out = _where(keep_t, new_h, 0.0) if self.zero_output_for_mask else h
            outputs.append(out)
        sequence = _stack(outputs, 1) if self.return_sequences else None
        return sequence, outputs[-1], [h] if c is None else [h, c]

    def _step(self, x_t, h, c, recurrent_masks):
        raise NotImplementedError

    # ---- shapes, masks, config -----------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        batch = input_shape[0]
        output = (batch, input_shape[1], self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [output] + [(batch, self.units)] * self._state_count
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        output_mask = mask if self.return_sequences else None
        return [output_mask] + [None] * self._state_count if self.return_state else output_mask

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units, "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias, "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed,
            "return_sequences": self.return_sequences, "return_state": self.return_state,
            "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        })
        if self._gates > 1:
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        return config


class SimpleRNN(_RNN):
    """Fully-connected RNN: h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias); the
    output is h. Inputs (batch, timesteps, features); call(inputs, initial_state=None, mask=None,
    training=None)."""
    _cell, _gates = "rnn", 1

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", **kwargs):
        if "recurrent_activation" in kwargs:
            raise TypeError("SimpleRNN has no gates and takes no `recurrent_activation` (LSTM and GRU do)")
        super().__init__(units, activation, "sigmoid", use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, **kwargs)

    def _step(self, x_t, h, c, recurrent_masks):
        return self.activation(x_t + self._recurrent_product(h, recurrent_masks, (0,))), None


class LSTM(_RNN):
    """Long short-term memory, gates i, f, c, o in the kernels' column blocks:
    z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias; i, f, o = recurrent_activation(z_i, z_f,
    z_o); c_t = f * c_{t-1} + i * activation(z_c); h_t = o * activation(c_t). unit_forget_bias=True
    starts the forget gate's bias at 1. return_state gives [output, h, c]."""
    _cell, _gates, _state_count = "lstm", 4, 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, init = self.units, self.bias_initializer

        def initializer(shape, dtype=None):
            parts = [init((units,), dtype=dtype), np.ones(units), init((2 * units,), dtype=dtype)]
            return np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])
        return initializer

    def _step(self, x_t, h, c, recurrent_masks):
        z = x_t + self._recurrent_product(h, recurrent_masks, range(4))
        u, rec, act = self.units, self.recurrent_activation, self.activation
        i, f, g, o = (z[:, k * u:(k + 1) * u] for k in range(4))
        c = rec(f) * c + rec(i) * act(g)
        return rec(o) * act(c), c

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


class GRU(_RNN):
    """Gated recurrent unit, gates z, r, h in the kernels' column blocks:
    z, r = recurrent_activation(x_t @ kernel_{z,r} + b_{z,r} + h_{t-1} @ recurrent_kernel_{z,r} + rb_{z,r});
    reset_after=True (default): hh = activation(x_t @ kernel_h + b_h + r * (h_{t-1} @ recurrent_kernel_h + rb_h));
    reset_after=False: hh = activation(x_t @ kernel_h + b_h + (r * h_{t-1}) @ recurrent_kernel_h), one bias;
    h_t = z * h_{t-1} + (1 - z) * hh. reset_after=False runs step by step."""
    _cell, _gates = "gru", 3
    _gate_order = [1, 0, 2]  # the kernels' r, z, n are Keras's blocks 1, 0, 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 reset_after=True, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _biases(self):
        if self.bias is None or not self.reset_after:
            return self.bias, None
        return self.bias[0], self.bias[1]

    def _kernels_compute_it(self):
        return self.reset_after and super()._kernels_compute_it()

    def _step(self, x_t, h, c, recurrent_masks):
        u, rec, act = self.units, self.recurrent_activation, self.activation
        recurrent_bias = self._biases()[1]
        if self.reset_after:
            inner = self._recurrent_product(h, recurrent_masks, range(3))
            if recurrent_bias is not None:
                inner = inner + recurrent_bias
        else:
            inner = self._recurrent_product(h, recurrent_masks, (0, 1))
        z = rec(x_t[:, :u] + inner[:, :u])
        r = rec(x_t[:, u:2 * u] + inner[:, u:2 * u])
        if self.reset_after:
            candidate = act(x_t[:, 2 * u:] + r * inner[:, 2 * u:])
        else:
            candidate = act(x_t[:, 2 * u:] + self._recurrent_product(r * h, recurrent_masks, (2,)))
        return z * h + (1.0 - z) * candidate, None

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config

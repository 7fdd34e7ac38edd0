"""ember.nn.functional: the stateless forms of the layers (activations, linear, dropout, one_hot)
and, re-exported from ember.nn._losses, the loss functions.

Each function is written over ember's public tensor operations (Tensor methods, ember.functional_ops,
`@`), which record themselves for autograd; nothing here computes a gradient of its own except
dropout, whose keep-mask only the forward knows.
"""
import warnings

from .. import _C
from .. import _dtype
from .. import functional_ops as _ops
from .._fn.common import inplace as _recorded_inplace
from .._fn.conv import conv1d, conv2d
from .._fn.linear import linear as _fused_linear
from .._fn.norm import batch_norm, dropout2d, layer_norm
from .._fn.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from .._fn.rnn import embedding
from ..autograd import Function, is_grad_enabled
from ._losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss, l1_loss,
                      mse_loss, nll_loss, smooth_l1_loss)

Tensor = _C.Tensor

__all__ = ["relu", "relu_", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh", "softplus", "softmax",
           "log_softmax", "linear", "dropout", "one_hot", "flatten", "cross_entropy", "nll_loss", "mse_loss",
           "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "batch_norm", "layer_norm", "dropout2d", "conv1d", "conv2d",
           "embedding"]


def _check_tensor(x, op):
    if type(x) is not Tensor:
        raise TypeError(f"{op}: expected an ember.Tensor, got {type(x).__name__}")


def _in_place(input, op, *args):
    """input <- op(input, *args). Recorded for autograd when input is part of a graph (so backward
    sees the new value's history); a plain copy otherwise (no_grad, or an input needing no grad)."""
    if is_grad_enabled() and input.requires_grad:
        return _recorded_inplace(input, op, *args)
    _C.copy_(input, op(input, *args))
    return input


# ---- activations ------------------------------------------------------------------------------------

def relu(input, inplace=False):
    """max(input, 0) elementwise."""
    _check_tensor(input, "relu")
    return input.relu_() if inplace else input.relu()


def relu_(input):
    _check_tensor(input, "relu_")
    return input.relu_()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """input where positive, negative_slope * input elsewhere."""
    _check_tensor(input, "leaky_relu")
    if inplace:
        return _in_place(input, _ops.leaky_relu, negative_slope)
    return _ops.leaky_relu(input, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """input where positive, alpha * (exp(input) - 1) elsewhere."""
    _check_tensor(input, "elu")
    if inplace:
        return _in_place(input, _ops.elu, alpha)
    return _ops.elu(input, alpha)


def gelu(input, approximate="none"):
    """input * Phi(input) (Phi the standard normal CDF), or its tanh approximation."""
    _check_tensor(input, "gelu")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _ops.gelu(input, approximate)


def silu(input, inplace=False):
    """input * sigmoid(input) (also called swish)."""
    _check_tensor(input, "silu")
    if inplace:
        return _in_place(input, _ops.silu)
    return _ops.silu(input)


def sigmoid(input):
    _check_tensor(input, "sigmoid")
    return input.sigmoid()


def tanh(input):
    _check_tensor(input, "tanh")
    return input.tanh()


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * input)) / beta, and input itself where beta * input > threshold."""
    _check_tensor(input, "softplus")
    return _ops.softplus(input, beta, threshold)


def _softmax_dim(op, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X "
                  "as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(input) / sum(exp(input)) along dim; dtype casts the input first (e.g. float64 for accuracy)."""
    _check_tensor(input, "softmax")
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim, _stacklevel)
    if dtype is not None:
        input = input.to(_dtype.as_dtype(dtype, "softmax"))
    return input.softmax(dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(input, dim)), computed without forming the softmax."""
    _check_tensor(input, "log_softmax")
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim, _stacklevel)
    if dtype is not None:
        input = input.to(_dtype.as_dtype(dtype, "log_softmax"))
    return input.log_softmax(dim)


# ---- linear, dropout, shapes ---------------------------------------------------------------------------

def linear(input, weight, bias=None):
    """input @ weight.T + bias: input (*, in_features), weight (out_features, in_features), bias
    (out_features,) -> (*, out_features). Also a 1-D weight (in_features,) -> (*,), as in PyTorch."""
    if type(input) is Tensor and input.ndim and type(weight) is Tensor and weight.ndim == 2 and (bias is None or (type(bias) is Tensor and bias.ndim == 1
                                                                         and bias.shape[0] == weight.shape[0])):
        return _fused_linear(input, weight, bias)  # one graph node: one GEMM forward, two backward; checks shapes
    _check_tensor(input, "linear")
    _check_tensor(weight, "linear")
    if weight.ndim not in (1, 2):
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    in_features = weight.shape[-1]
    if input.ndim == 0 or input.shape[-1] != in_features:
        have = "no" if input.ndim == 0 else input.shape[-1]
        raise ValueError(f"linear: input has {have} features (shape {input.shape}) but weight expects "
                         f"{in_features} (shape {weight.shape})")
    out_features = weight.shape[0] if weight.ndim == 2 else 1
    if bias is not None:
        _check_tensor(bias, "linear")
        if bias.ndim > 1 or (bias.ndim == 1 and bias.shape[0] not in (1, out_features)):
            raise ValueError(f"linear: bias has shape {bias.shape} but weight (shape {weight.shape}) has "
                             f"{out_features} output features; bias must have shape ({out_features},)")
    out = input @ weight.T
    return out if bias is None else out + bias


class _DropoutFunction(Function):
    """Zeroes elements with probability p and scales the rest by 1 / (1 - p); backward applies the
    same keep-mask and scale."""

    @staticmethod
    def forward(ctx, x, p, seed=None, first_block=0):
        out, mask = _C.dropout(x, p, seed, first_block)
        ctx.save_for_backward(mask)
        ctx.p = p
        return out

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return (_C.dropout_backward(grad, mask, ctx.p),) + (None,) * (len(ctx.needs_input_grad) - 1)


def dropout(input, p=0.5, training=True, inplace=False):
    """During training, zeroes each element with probability p and scales the others by 1 / (1 - p),
    so the expected value is unchanged; the identity when training is False."""
    _check_tensor(input, "dropout")
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training:
        return input
    if not input.dtype.is_floating_point:
        raise TypeError(f"dropout: expected a floating-point input, got {input.dtype}; convert it with .float()")
    p = float(p)
    if inplace:
        return _in_place(input, _DropoutFunction.apply, p)
    return _DropoutFunction.apply(input, p)


def flatten(input, start_dim=0, end_dim=-1):
    """Merges dims start_dim..end_dim into one."""
    _check_tensor(input, "flatten")
    return input.flatten(start_dim, end_dim)


def one_hot(tensor, num_classes=-1):
    """int64 class indices of shape S -> int64 one-hot encoding of shape S + (num_classes,).
    num_classes=-1 means one more than the largest index."""
    _check_tensor(tensor, "one_hot")
    if tensor.dtype != _dtype.int64:
        raise TypeError(f"one_hot: expected an int64 (long) tensor of class indices, got {tensor.dtype}; "
                        "convert it with .long()")
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < -1:
        raise ValueError(f"one_hot: num_classes must be a non-negative int or -1 (infer), got {num_classes!r}")
    if tensor.numel() == 0:
        if num_classes == -1:
            raise ValueError(f"one_hot: cannot infer the number of classes from an empty tensor (shape "
                             f"{tensor.shape}); pass num_classes")
    else:
        lowest, highest = int(tensor.amin().item()), int(tensor.amax().item())
        if lowest < 0:
            raise ValueError(f"one_hot: class values must be non-negative, got {lowest}")
        if num_classes == -1:
            num_classes = highest + 1
        elif highest >= num_classes:
            raise ValueError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {highest}")
    classes = _C.arange(0.0, float(num_classes), 1.0, _dtype.int64, tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()

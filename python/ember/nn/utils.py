"""ember.nn.utils: gradient clipping, flattening parameters to one vector and back, and an L1 penalty.

L1 regularisation adds lam * sum(|w|) over the weights to the loss, pulling small weights to exactly
zero. Add it to the loss before backward; the penalty is built from recorded ops, so its gradient
(lam * sign(w)) reaches every parameter it covers:

    loss = criterion(model(x), y) + 1e-4 * nn.utils.l1_penalty(model.parameters())
    loss.backward()

To leave biases unpenalised, pass only the weights:
`l1_penalty(p for name, p in model.named_parameters() if name.endswith("weight"))`.
"""
import math

from .. import _C
from .. import _dtype
from .. import functional_ops
from ..autograd import no_grad

Tensor = _C.Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters", "l1_penalty"]


def _tensor_list(parameters, op):
    if type(parameters) is Tensor:
        return [parameters]
    try:
        params = list(parameters)
    except TypeError:
        raise TypeError(f"{op}: expected a tensor or an iterable of tensors, got {type(parameters).__name__}") from None
    for i, p in enumerate(params):
        if type(p) is not Tensor:
            raise TypeError(f"{op}: element {i} is {type(p).__name__}, not an ember.Tensor")
    return params


def _vector_norm(t, norm_type):
    """The norm of t seen as one vector, as a 0-d tensor of t's dtype (PyTorch's vector_norm)."""
    if t.numel() == 0:
        return _C.full([], 0.0, t.dtype, t.device)
    a = _C.abs(t)
    if norm_type == math.inf:
        return _C.amax(a, None, False)
    if norm_type == -math.inf:
        return _C.amin(a, None, False)
    if norm_type == 0:
        return _C.to_dtype(_C.sum(_C.ne(t, 0), None, False), t.dtype)
    if norm_type == 1:
        return _C.sum(a, None, False)
    if norm_type == 2:
        return _C.sqrt(_C.sum(_C.mul(t, t), None, False))
    return _C.pow(_C.sum(_C.pow(a, norm_type), None, False), 1.0 / norm_type)


def _total_norm(grads, norm_type):
    norms = [_vector_norm(g, norm_type) for g in grads]
    dtype = norms[0].dtype
    for n in norms[1:]:
        if n.dtype != dtype:
            dtype = _dtype.float64
    stacked = _C.stack([_C.to_device(_C.to_dtype(n, dtype), grads[0].device) for n in norms], 0)
    return _vector_norm(stacked, norm_type)


@no_grad()
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients of `parameters` in place so that their joint norm (all gradients seen as
    one vector) is at most max_norm; returns that norm as it was before clipping (a 0-d tensor).

    The scale is max_norm / (total_norm + 1e-6), clamped to 1.0, so gradients already within the
    bound are untouched. norm_type may be any positive float, or inf (the largest absolute value).
    error_if_nonfinite=True raises when the norm is nan or inf instead of scaling by it.
    """
    params = _tensor_list(parameters, "clip_grad_norm_")
    grads = [p.grad for p in params if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return _C.full([], 0.0, _dtype.get_default_dtype(), None)
    total = _total_norm(grads, norm_type)
    value = total.item()
    if error_if_nonfinite and not math.isfinite(value):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    # the coefficient stays a tensor, so a nan / inf norm propagates into the gradients as in PyTorch
    coef = _C.clamp(_C.div(float(max_norm), _C.add(total, 1e-6)), None, 1.0)
    for g in grads:
        _C.mul_(g, _C.to_dtype(_C.to_device(coef, g.device), g.dtype))
    return total


@no_grad()
def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient element of `parameters` to [-clip_value, clip_value], in place."""
    params = _tensor_list(parameters, "clip_grad_value_")
    clip_value = float(clip_value)
    for p in params:
        if p.grad is not None:
            _C.copy_(p.grad, _C.clamp(p.grad, -clip_value, clip_value))


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-D tensor (a copy)."""
    params = _tensor_list(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    device = params[0].device
    for i, p in enumerate(params):
        if p.device != device:
            raise RuntimeError(f"parameters_to_vector: parameter {i} is on {p.device}, the first on {device}; "
                               "move them to one device first")
    return functional_ops.cat([p.reshape(-1) for p in params], 0)


@no_grad()
def vector_to_parameters(vec, parameters):
    """Copies consecutive slices of the 1-D tensor vec into the parameters, in place (the inverse of
    parameters_to_vector)."""
    if type(vec) is not Tensor:
        raise TypeError(f"vector_to_parameters: expected an ember.Tensor, but got: {type(vec).__name__}")
    if vec.ndim != 1:
        raise ValueError(f"vector_to_parameters: vec must be 1-D, got shape {vec.shape}")
    params = _tensor_list(parameters, "vector_to_parameters")
    total = sum(p.numel() for p in params)
    if total != vec.shape[0]:
        raise ValueError(f"vector_to_parameters: vec has {vec.shape[0]} elements but the parameters hold {total}")
    offset = 0
    for p in params:
        n = p.numel()
        _C.copy_(p, _C.reshape(vec[offset:offset + n], list(p.shape)))
        offset += n


def l1_penalty(parameters):
    """sum(|p|) over all elements of all parameters, as a 0-d tensor recorded for autograd (so
    `loss + lam * l1_penalty(params)` trains with L1 regularisation; see the module docstring)."""
    params = _tensor_list(parameters, "l1_penalty")
    if not params:
        raise ValueError("l1_penalty: got no parameters")
    total = params[0].abs().sum()
    for p in params[1:]:
        total = total + p.abs().sum()
    return total

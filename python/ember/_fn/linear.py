"""linear(x, W, b) = x @ W^T + b as one graph node (instead of transpose, matmul and add) over two
kernels, `_C.linear` (GEMM with the bias added in its epilogue) and `_C.linear_backward` (two GEMMs
and a column sum, only those asked for): the layer that dominates MLP training costs one C++ call
each way.

linear_activation(x, W, b, act) = act(x @ W^T + b) for act in relu, tanh, sigmoid is one node too:
the GEMM applies the activation as each output tile is final, and backward takes the activation's
derivative from the saved output inside `_C.linear_backward`. nn.Sequential uses it for a Linear
followed by one of those activations, Keras's Dense for its own activation.

Shapes: x (..., in_features), W (out_features, in_features), b (out_features,) -> (..., out_features).
"""
from .. import _C
from .common import Function, Tensor, _Mode


def weight_grad_into(ctx):
    """The existing weight .grad the backward pass offers this node to add into, or None; read once.
    A node that adds into it returns that very object as the weight gradient (the pass recognises
    it by identity as accumulated already)."""
    into = ctx._weight_grad_into
    if into is not None:
        ctx._weight_grad_into = None
    return into


class Linear(Function):
    """x @ W^T + b; the subclasses fuse an activation (class attribute `activation`, so the node
    stores nothing extra) and save the output for its derivative, as an alias without grad_fn (no
    reference cycle)."""
    activation = None
    _accumulates_weight = True

    @classmethod
    def forward(cls, ctx, x, weight, bias):
        y = _C.linear(x, weight, bias, cls.activation)
        ctx.save_for_backward(x, weight, None if cls.activation is None else _C.alias(y))
        return y

    @classmethod
    def backward(cls, ctx, g):
        x, weight, y = ctx.saved_tensors
        need = ctx.needs_input_grad
        into = weight_grad_into(ctx)
        grads = _C.linear_backward(g, x, weight, need[0], need[1], need[2], cls.activation, y, into)
        return grads if into is None else (grads[0], into, grads[2])  # `into` itself: already accumulated


class LinearRelu(Linear):
    activation = "relu"


class LinearTanh(Linear):
    activation = "tanh"


class LinearSigmoid(Linear):
    activation = "sigmoid"


def _check(x, weight, bias):
    if type(x) is not Tensor or type(weight) is not Tensor:
        raise TypeError(f"linear: input and weight must be ember tensors, got {type(x).__name__} and "
                        f"{type(weight).__name__}")
    wshape = weight.shape
    if len(wshape) != 2:
        raise ValueError(f"linear: weight must be 2-d (out_features, in_features), got shape {wshape}")
    xshape = x.shape
    if xshape and xshape[-1] == wshape[1] and (bias is None or (type(bias) is Tensor and bias.shape == wshape[:1])):
        return
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input has {x.shape[-1] if x.ndim else 0} features (shape {x.shape}) but weight "
                         f"expects {weight.shape[1]} (shape {weight.shape})")
    if bias is not None and (type(bias) is not Tensor or bias.shape != (weight.shape[0],)):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},) to match weight {weight.shape}, got "
                         f"{getattr(bias, 'shape', type(bias).__name__)}")


FUSED_ACTIVATIONS = {"relu": LinearRelu, "tanh": LinearTanh, "sigmoid": LinearSigmoid}
_NODES = {None: Linear, **FUSED_ACTIVATIONS}


def linear_activation(x, weight, bias, activation):
    """activation(x @ weight^T + bias) in one node, activation None or one of FUSED_ACTIVATIONS; the
    same values and gradients as linear() followed by the activation op."""
    if type(x) is not Tensor or type(weight) is not Tensor or (bias is not None and type(bias) is not Tensor):
        _check(x, weight, bias)  # names what is not a tensor; shapes are checked by the kernel, same words
    if _Mode.enabled and (x._requires_grad or weight._requires_grad or (bias is not None and bias._requires_grad)):
        return _NODES[activation].apply(x, weight, bias)
    return _C.linear(x, weight, bias, activation)


def linear(x, weight, bias=None):
    """x @ weight^T + bias, as torch.nn.functional.linear."""
    return linear_activation(x, weight, bias, None)

"""Loss functions with torch.nn.functional's semantics: one autograd Function per loss over a fused `_C`
forward (the reduction included) and one `_C` backward kernel.

Gradients flow to the input; to the target too for the regression losses (mse, l1, huber, smooth_l1)
and for cross_entropy with class-probability targets. weight and pos_weight receive none.
"""
import warnings

from .. import _C
from .._fn.common import Function, Tensor, cast_grad, meta, needs_grad, needs_grad2

__all__ = ["CrossEntropy", "NllLoss", "MseLoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BinaryCrossEntropy",
           "BinaryCrossEntropyWithLogits", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "huber_loss",
           "smooth_l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op, reduction):
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of 'mean', 'sum', 'none'; got {reduction!r}")


def _check_tensors(op, **tensors):
    for name, t in tensors.items():
        if type(t) is Tensor:
            continue
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be an ember.Tensor, got {type(t).__name__}")


def _warn_if_broadcast(input, target, stacklevel=3):
    if input.shape != target.shape:
        warnings.warn(f"Using a target size {target.shape} that is different to the input size {input.shape}. "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have "
                      "the same size.", UserWarning, stacklevel=stacklevel)


def _as_dtype(g, dtype):
    return g if g.dtype is dtype else _C.to_dtype(g, dtype)


# ---- classification over classes ------------------------------------------------------------------------

class CrossEntropy(Function):
    """Softmax cross-entropy of logits; backward is one kernel, (softmax - target distribution) * scale."""

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction, label_smoothing):
        loss, row_max = _C.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)
        ctx.save_for_backward(input, target, weight, row_max)
        ctx.options = (ignore_index, reduction, label_smoothing)
        return loss

    @staticmethod
    def backward(ctx, grad):
        input, target, weight, row_max = ctx.saved_tensors
        need = ctx.needs_input_grad
        grad_input = grad_target = None
        if need[0]:
            grad_input = _C.cross_entropy_backward(grad, input, target, row_max, weight, *ctx.options)
            grad_input = _as_dtype(grad_input, input.dtype)
        if need[1]:
            grad_target = _probability_target_grad(grad, input, target, weight, *ctx.options[1:])
        return grad_input, grad_target, None, None, None, None


def _probability_target_grad(grad, input, target, weight, reduction, label_smoothing):
    """d(loss)/d(probability target) = -(1 - label_smoothing) * weight * log_softmax(input) * scale."""
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    g = _C.mul(_C.log_softmax(input, class_dim), -(1.0 - label_smoothing))
    if weight is not None:
        g = _C.mul(g, _C.reshape(weight, [n_classes] + [1] * (input.ndim - 2)))
    if reduction == "none":
        scale = _C.unsqueeze(grad, class_dim) if input.ndim > 1 else grad
    elif reduction == "sum":
        scale = grad
    else:
        scale = _C.div(grad, float(max(input.numel() // n_classes, 1)))
    return _as_dtype(_C.mul(g, scale), target.dtype)


class NllLoss(Function):
    """Negative log-likelihood of log-probabilities at class indices."""

    @staticmethod
    def forward(ctx, input, target, weight, ignore_index, reduction):
        ctx.save_for_backward(input, target, weight)
        ctx.options = (ignore_index, reduction)
        return _C.nll_loss(input, target, weight, ignore_index, reduction)

    @staticmethod
    def backward(ctx, grad):
        input, target, weight = ctx.saved_tensors
        return _C.nll_loss_backward(grad, input, target, weight, *ctx.options), None, None, None, None


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy between logits (N, C), (N, C, d1, ...) or (C,) and int64 class indices
    (N, d1, ...) or class probabilities (the input's shape), as torch.nn.functional.cross_entropy."""
    _check_reduction("cross_entropy", reduction)
    _check_tensors("cross_entropy", input=input, target=target, weight=weight)
    args = (input, target, weight, int(ignore_index), reduction, float(label_smoothing))
    if needs_grad2(input, target):
        return CrossEntropy.apply(*args)
    return _C.cross_entropy(*args)[0]


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """-weight[target] * input[target] per row of log-probabilities, as torch.nn.functional.nll_loss."""
    _check_reduction("nll_loss", reduction)
    _check_tensors("nll_loss", input=input, target=target, weight=weight)
    args = (input, target, weight, int(ignore_index), reduction)
    return NllLoss.apply(*args) if needs_grad(input) else _C.nll_loss(*args)


# ---- regression: functions of input - target --------------------------------------------------------------

class _DifferenceLoss(Function):
    """A loss of input - target, forward(ctx, input, target, reduction, *params); subclasses name the `_C`
    pair. The target's gradient is the negated input gradient, both summed back to their shapes."""
    _forward = _backward = None

    @staticmethod
    def forward(ctx, input, target, reduction, *params):
        ctx.save_for_backward(input, target)
        ctx.options = (reduction,) + params
        ctx.metas = (meta(input), meta(target))
        return ctx._forward(input, target, reduction, *params)

    @staticmethod
    def backward(ctx, grad):
        input, target = ctx.saved_tensors
        d = ctx._backward(grad, input, target, *ctx.options)
        need = ctx.needs_input_grad
        grad_input = cast_grad(d, ctx.metas[0]) if need[0] else None
        grad_target = cast_grad(_C.neg(d), ctx.metas[1]) if need[1] else None
        return (grad_input, grad_target) + (None,) * len(ctx.options)


class MseLoss(_DifferenceLoss):
    _forward = staticmethod(_C.mse_loss)
    _backward = staticmethod(_C.mse_loss_backward)


class L1Loss(_DifferenceLoss):
    _forward = staticmethod(_C.l1_loss)
    _backward = staticmethod(_C.l1_loss_backward)


class HuberLoss(_DifferenceLoss):
    _forward = staticmethod(_C.huber_loss)
    _backward = staticmethod(_C.huber_loss_backward)


class SmoothL1Loss(_DifferenceLoss):
    _forward = staticmethod(_C.smooth_l1_loss)
    _backward = staticmethod(_C.smooth_l1_loss_backward)


def _difference_loss(op, function, input, target, reduction, *params):
    _check_reduction(op, reduction)
    if type(input) is not Tensor or type(target) is not Tensor:  # the common case without building kwargs
        _check_tensors(op, input=input, target=target)
    if input.shape != target.shape:
        _warn_if_broadcast(input, target, stacklevel=4)
    if needs_grad2(input, target):
        return function.apply(input, target, reduction, *params)
    return function._forward(input, target, reduction, *params)


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2 per element, reduced; float targets only."""
    return _difference_loss("mse_loss", MseLoss, input, target, reduction)


def l1_loss(input, target, reduction="mean"):
    """|input - target| per element, reduced."""
    return _difference_loss("l1_loss", L1Loss, input, target, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| < delta, else delta (|d| - delta / 2), d = input - target."""
    return _difference_loss("huber_loss", HuberLoss, input, target, reduction, float(delta))


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - beta / 2, d = input - target (beta = 0: L1)."""
    return _difference_loss("smooth_l1_loss", SmoothL1Loss, input, target, reduction, float(beta))


# ---- binary classification -------------------------------------------------------------------------------

class BinaryCrossEntropy(Function):
    @staticmethod
    def forward(ctx, input, target, weight, reduction):
        ctx.save_for_backward(input, target, weight)
        ctx.reduction = reduction
        return _C.binary_cross_entropy(input, target, weight, reduction)

    @staticmethod
    def backward(ctx, grad):
        input, target, weight = ctx.saved_tensors
        d = _C.binary_cross_entropy_backward(grad, input, target, weight, ctx.reduction)
        return _as_dtype(d, input.dtype), None, None, None


class BinaryCrossEntropyWithLogits(Function):
    @staticmethod
    def forward(ctx, input, target, weight, reduction, pos_weight):
        ctx.save_for_backward(input, target, weight, pos_weight)
        ctx.reduction = reduction
        return _C.binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weight)

    @staticmethod
    def backward(ctx, grad):
        input, target, weight, pos_weight = ctx.saved_tensors
        d = _C.binary_cross_entropy_with_logits_backward(grad, input, target, weight, ctx.reduction, pos_weight)
        return _as_dtype(d, input.dtype), None, None, None, None


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-weight (target log input + (1 - target) log(1 - input)) for probabilities in [0, 1], each log
    clamped at -100; target of the input's shape, weight broadcast to it."""
    _check_reduction("binary_cross_entropy", reduction)
    _check_tensors("binary_cross_entropy", input=input, target=target, weight=weight)
    args = (input, target, weight, reduction)
    return BinaryCrossEntropy.apply(*args) if needs_grad(input) else _C.binary_cross_entropy(*args)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy on logits, max(x, 0) - x t + log1p(exp(-|x|)) with pos_weight scaling the
    positive term; weight and pos_weight broadcast to the input's shape."""
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    _check_tensors("binary_cross_entropy_with_logits", input=input, target=target, weight=weight,
                   pos_weight=pos_weight)
    args = (input, target, weight, reduction, pos_weight)
    if needs_grad(input):
        return BinaryCrossEntropyWithLogits.apply(*args)
    return _C.binary_cross_entropy_with_logits(*args)

"""ember.keras.losses: Keras 3's losses over ember's autograd and loss kernels.

Each loss is a function of (y_true, y_pred) returning one value per sample (the mean over the
last axis for the element-wise losses, the sum over classes for the cross-entropies), and a class
(a LossFunctionWrapper) that reduces those values to a scalar with optional sample weights:
    'sum_over_batch_size' (the default; also 'mean'): sum(losses * sample_weight) / number of values
    'sum': sum(losses * sample_weight);   'none' / None: the weighted per-sample values
    'mean_with_sample_weight': sum(losses * sample_weight) / sum(sample_weight)
A mask on y_pred (`_keras_mask`, from Embedding(mask_zero=True) and the layers that pass it on) or
on the loss values (ignore_class) acts as a sample weight, as in Keras 3: masked-out entries count
for nothing and the mean reductions average over the valid entries only (see apply_mask).
Probabilities are clipped to [1e-7, 1 - 1e-7] before their logarithm (no gradient flows where
clipping bites), as in Keras; from_logits=True uses the exact log-sigmoid / log-softmax forms.

Unweighted 'sum_over_batch_size' and 'sum' reductions, the training-loop case, go through one fused
ember loss op (mse_loss, cross_entropy, ...) where one computes the same value.
"""
import difflib
import warnings

import numpy as np

from .. import _C, _dtype
from .._fn.common import needs_grad2
from ..nn import _losses as nn_losses
from ..nn import functional as F
from ..tensor import Tensor

__all__ = ["Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "Huber", "mean_squared_error",
           "mean_absolute_error", "binary_crossentropy", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "huber", "mse", "mae", "MSE", "MAE", "bce", "BCE", "get",
           "serialize", "deserialize"]

EPSILON = 1e-7  # keras.backend.epsilon()
_REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")
_NO_IGNORED_LABEL = -(2 ** 63)  # the ignore_index that no class index can equal
_NP_TYPES = {_dtype.float32: np.float32, _dtype.float64: np.float64, _dtype.int64: np.int64}


# ---- conversions and shapes ----------------------------------------------------------------------------

def _from_array(value, dtype):
    """An ember tensor of `dtype` holding NumPy data, a list or a number (no copy when the data
    already has that dtype)."""
    if value is None:
        raise TypeError("keras losses: got None where y_true, y_pred or sample_weight should be; pass an array or "
                        "a tensor")
    array = np.asarray(value, dtype=_NP_TYPES[dtype], order="C")
    return _C.from_numpy(array)


def _as_prediction(y_pred, dtype=None):
    """y_pred as a floating-point ember tensor (of `dtype` when given; ints become float32)."""
    if type(y_pred) is Tensor:
        if dtype is None:
            return y_pred if y_pred.dtype.is_floating_point else y_pred.to(_dtype.float32)
        return y_pred if y_pred.dtype is dtype else y_pred.to(dtype)
    return _from_array(y_pred, dtype or _dtype.float32)


def _as_target(y_true, like):
    """y_true as an ember tensor of the prediction's dtype (and device, when converted here)."""
    if type(y_true) is Tensor:
        dtype = like.dtype
        return y_true if y_true.dtype is dtype else y_true.to(dtype)
    out = _from_array(y_true, like.dtype)
    return out.to(like.device) if like.is_cuda else out


def _same_rank(x1, x2):
    """Keras's squeeze_or_expand_to_same_rank: when the ranks differ by one and the longer has a
    last axis of 1, the shorter gains that axis if it is 1-d, else the longer loses it (so labels
    (N,) meet predictions (N, 1) as (N, 1))."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def _regression_pair(op, y_true, y_pred):
    """(y_true, y_pred) of one shape, y_pred already a float tensor: y_true may broadcast to y_pred's
    shape, not the reverse."""
    y_true = _as_target(y_true, y_pred)
    if y_true.shape == y_pred.shape:
        return y_true, y_pred
    y_true, y_pred = _same_rank(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        try:
            broadcast = _C.broadcast_shapes(list(y_true.shape), list(y_pred.shape))
        except ValueError:
            broadcast = None
        if broadcast is None or tuple(broadcast) != y_pred.shape:
            raise ValueError(f"{op}: y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}; "
                             "give targets of the predictions' shape")
        y_true = y_true.broadcast_to(y_pred.shape)
    return y_true, y_pred


def _same_shape_pair(op, y_true, y_pred):
    """(y_true, y_pred) of one shape after Keras's rank matching, y_pred already a float tensor."""
    y_true = _as_target(y_true, y_pred)
    if y_true.shape == y_pred.shape:
        return y_true, y_pred
    y_true, y_pred = _same_rank(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{op}: y_true and y_pred must have the same shape; received y_true.shape={y_true.shape}, "
                         f"y_pred.shape={y_pred.shape}")
    return y_true, y_pred


def _mean_over(x, axis):
    return x if x.ndim == 0 else x.mean(axis)


def _sum_over_last_mean(total, y_pred, axis):
    """A 'sum' reduction of per-sample means from the sum over every element."""
    return total / y_pred.shape[axis] if y_pred.ndim else total


# ---- element-wise losses ---------------------------------------------------------------------------------

def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)^2, axis=-1) per sample."""
    y_true, y_pred = _regression_pair("mean_squared_error", y_true, _as_prediction(y_pred))
    return _mean_over(F.mse_loss(y_pred, y_true, reduction="none"), -1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|, axis=-1) per sample."""
    y_true, y_pred = _regression_pair("mean_absolute_error", y_true, _as_prediction(y_pred))
    return _mean_over(F.l1_loss(y_pred, y_true, reduction="none"), -1)


def huber(y_true, y_pred, delta=1.0):
    """mean over the last axis of 0.5 e^2 where |e| <= delta, else delta |e| - 0.5 delta^2 (e = y_pred - y_true)."""
    y_true, y_pred = _regression_pair("huber", y_true, _as_prediction(y_pred))
    return _mean_over(F.huber_loss(y_pred, y_true, reduction="none", delta=float(delta)), -1)


def _elementwise_total(op, function):
    """The fused reduced form of an element-wise loss (function: an autograd Function of
    ember.nn's losses over (input, target, reduction, *params)): the mean of per-sample means over
    equal-sized rows is the mean over every element. None for an empty batch (the general path
    reduces it to 0)."""
    def total(y_true, y_pred, reduction, **params):
        y_true, y_pred = _regression_pair(op, y_true, y_pred)
        if not y_pred.numel():
            return None
        args = (y_pred, y_true, reduction, *[float(v) for v in params.values()]) if params \
            else (y_pred, y_true, reduction)
        out = function.apply(*args) if needs_grad2(y_pred, y_true) else function._forward(*args)
        return _sum_over_last_mean(out, y_pred, -1) if reduction == "sum" else out
    return total


# ---- binary cross-entropy ---------------------------------------------------------------------------------

def _binary_pair(y_true, y_pred, label_smoothing):
    y_true, y_pred = _same_shape_pair("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return y_true, y_pred


def _binary_elements(y_true, y_pred, from_logits, reduction):
    if from_logits:
        return F.binary_cross_entropy_with_logits(y_pred, y_true, reduction=reduction)
    return F.binary_cross_entropy(y_pred.clamp(EPSILON, 1.0 - EPSILON), y_true, reduction=reduction)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean over `axis` of -(t log p + (1 - t) log(1 - p)), p clipped to [1e-7, 1 - 1e-7] (or the
    sigmoid of logits); label smoothing moves targets towards 0.5."""
    y_true, y_pred = _binary_pair(y_true, _as_prediction(y_pred), float(label_smoothing))
    return _mean_over(_binary_elements(y_true, y_pred, from_logits, "none"), axis)


def _binary_total(y_true, y_pred, reduction, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _binary_pair(y_true, y_pred, float(label_smoothing))
    if not y_pred.numel():
        return None
    if reduction == "sum":
        return _sum_over_last_mean(_binary_elements(y_true, y_pred, from_logits, "sum"), y_pred, axis)
    return _binary_elements(y_true, y_pred, from_logits, "mean")


# ---- categorical cross-entropy ------------------------------------------------------------------------------

def _class_axis_last(x, axis):
    """x with its class axis moved last (a view)."""
    if axis == -1 or axis == x.ndim - 1:
        return x
    axis = axis + x.ndim if axis < 0 else axis
    return x.permute(*[d for d in range(x.ndim) if d != axis], axis)


def _categorical_pair(y_true, y_pred, axis):
    y_true, y_pred = _same_shape_pair("categorical_crossentropy", y_true, y_pred)
    if y_pred.ndim < 1:
        raise ValueError("categorical_crossentropy: y_true and y_pred must be at least rank 1 (classes on the "
                         f"last axis); received y_pred.shape={y_pred.shape}")
    y_true, y_pred = _class_axis_last(y_true, axis), _class_axis_last(y_pred, axis)
    if y_pred.shape[-1] == 1:
        warnings.warn("In loss categorical_crossentropy, expected y_pred.shape to be (batch_size, num_classes) with "
                      f"num_classes > 1. Received: y_pred.shape={y_pred.shape}. Consider using 'binary_crossentropy' "
                      "if you only have 2 classes.", SyntaxWarning, stacklevel=4)
    return y_true, y_pred


def _rows(x):
    """x with its leading axes flattened: (rows, classes); a 1-d x stays as it is."""
    return x if x.ndim <= 2 else x.reshape(-1, x.shape[-1])


def _clipped_log_probabilities(y_pred):
    """log of y_pred normalised to sum to 1 over the last axis, clipped to [1e-7, 1 - 1e-7]."""
    normalised = y_pred / y_pred.sum(-1, keepdim=True)
    return normalised.clamp(EPSILON, 1.0 - EPSILON).log()


def _categorical_values(y_true, y_pred, from_logits, label_smoothing, reduction):
    if from_logits:
        return F.cross_entropy(_rows(y_pred), _rows(y_true), reduction=reduction, label_smoothing=label_smoothing)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    values = -(y_true * _clipped_log_probabilities(y_pred))
    if reduction == "none":
        return values.sum(-1)
    total = values.sum()
    return total if reduction == "sum" else total / (y_pred.numel() // y_pred.shape[-1])


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum over the class axis of t log p, p = y_pred normalised and clipped to [1e-7, 1 - 1e-7] (or
    the softmax of logits); label smoothing: t (1 - s) + s / classes."""
    y_true, y_pred = _categorical_pair(y_true, _as_prediction(y_pred), axis)
    values = _categorical_values(y_true, y_pred, from_logits, float(label_smoothing), "none")
    return values.reshape(y_pred.shape[:-1]) if y_pred.ndim > 2 else values


def _categorical_total(y_true, y_pred, reduction, from_logits=False, label_smoothing=0.0, axis=-1):
    y_true, y_pred = _categorical_pair(y_true, y_pred, axis)
    if not y_pred.numel():
        return None
    return _categorical_values(y_true, y_pred, from_logits, float(label_smoothing), reduction)


# ---- sparse categorical cross-entropy ----------------------------------------------------------------------

def _as_labels(y_true, y_pred):
    """Class indices as int64 of y_pred's shape without its class axis ((N,) or (N, 1) for (N, C))."""
    if type(y_true) is Tensor:
        labels = y_true if y_true.dtype is _dtype.int64 else y_true.to(_dtype.int64)
    else:
        labels = _from_array(np.asarray(y_true).astype(np.int64, copy=False), _dtype.int64)
        if y_pred.is_cuda:
            labels = labels.to(y_pred.device)
    shape, pred_shape = labels.shape, y_pred.shape
    if shape != pred_shape[:-1]:
        if len(shape) == len(pred_shape) and shape[-1] == 1 and shape[:-1] == pred_shape[:-1]:
            return labels.squeeze(-1)
        raise ValueError("sparse_categorical_crossentropy: y_true (class indices) of shape "
                         f"{shape} does not match y_pred of shape {pred_shape}; labels need y_pred's shape "
                         f"without its class axis, e.g. {pred_shape[:-1]} or {pred_shape[:-1] + (1,)}")
    return labels


def _check_label_range(labels, n_classes, ignore_class):
    """Raises the error for the first label outside [0, n_classes) (ignore_class excepted)."""
    values = np.asarray(labels.cpu().numpy()).reshape(-1)
    bad = (values < 0) | (values >= n_classes)
    if ignore_class is not None:
        bad &= values != ignore_class
    if bad.any():
        raise ValueError(f"sparse_categorical_crossentropy: received a label value of {values[bad][0]} which is "
                         f"outside the valid range of [0, {n_classes}) for y_pred with {n_classes} classes; labels "
                         f"must be class indices 0 to {n_classes - 1}")


def _sparse_values(labels, y_pred, from_logits, ignore_class, reduction):
    """The loss of each row of y_pred (classes last) at its label, reduced: softmax cross-entropy of
    logits, or the negative log of the clipped normalised probability; ember's fused kernels."""
    ignore_index = _NO_IGNORED_LABEL if ignore_class is None else int(ignore_class)
    if y_pred.ndim > 2:
        rows, labels = y_pred.reshape(-1, y_pred.shape[-1]), labels.reshape(-1)
    else:
        rows = y_pred
    try:
        if from_logits:
            args = (rows, labels, None, ignore_index, reduction, 0.0)
            return nn_losses.CrossEntropy.apply(*args) if needs_grad2(rows, labels) else _C.cross_entropy(*args)[0]
        args = (_clipped_log_probabilities(rows), labels, None, ignore_index, reduction)
        return nn_losses.NllLoss.apply(*args) if needs_grad2(args[0], labels) else _C.nll_loss(*args)
    except IndexError:
        _check_label_range(labels, y_pred.shape[-1], ignore_class)
        raise


def _sparse_pair(y_true, y_pred, axis):
    if y_pred.ndim < 1:
        raise ValueError("sparse_categorical_crossentropy: y_pred must be at least rank 1 (classes on the last "
                         f"axis); received y_pred.shape={y_pred.shape}")
    if axis != -1:
        y_pred = _class_axis_last(y_pred, axis)
    return _as_labels(y_true, y_pred), y_pred


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """-log p[label] per sample, p = y_pred normalised and clipped to [1e-7, 1 - 1e-7] (or the softmax
    of logits); labels are class indices, (N,) or (N, 1) for y_pred (N, C). Samples whose label is
    ignore_class get 0 and are left out of the mean."""
    labels, y_pred = _sparse_pair(y_true, _as_prediction(y_pred), axis)
    values = _sparse_values(labels, y_pred, from_logits, ignore_class, "none")
    if y_pred.ndim > 2:
        values = values.reshape(y_pred.shape[:-1])
    if ignore_class is not None:
        values._keras_mask = _C.ne(labels, int(ignore_class))
    return values


def _sparse_total(y_true, y_pred, reduction, from_logits=False, ignore_class=None, axis=-1):
    if ignore_class is not None:
        return None  # the mean over the labels that count: the general path
    labels, y_pred = _sparse_pair(y_true, y_pred, axis)
    if not y_pred.numel():
        return None
    return _sparse_values(labels, y_pred, from_logits, None, reduction)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
bce = BCE = binary_crossentropy

# Fused reduced forms: total(y_true, y_pred, 'mean' | 'sum', **options) -> scalar, or None when the
# general path must run.
_TOTALS = {
    mean_squared_error: _elementwise_total("mean_squared_error", nn_losses.MseLoss),
    mean_absolute_error: _elementwise_total("mean_absolute_error", nn_losses.L1Loss),
    huber: _elementwise_total("huber", nn_losses.HuberLoss),
    binary_crossentropy: _binary_total,
    categorical_crossentropy: _categorical_total,
    sparse_categorical_crossentropy: _sparse_total,
}


# ---- reduction ---------------------------------------------------------------------------------------------

def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of {list(_REDUCTIONS)}. Received: "
                         f"reduction={reduction!r}")
    return reduction


def _leading_aligned(weight, like):
    """weight reshaped so that a weight of like's leading shape applies along those axes (one weight
    per sample of (N, T) values is (N, 1)), where plain broadcasting would align the trailing axes."""
    k = weight.ndim
    if 0 < k < like.ndim and weight.shape == like.shape[:k]:
        return weight.reshape(weight.shape + (1,) * (like.ndim - k))
    return weight


def apply_mask(sample_weight, mask, dtype, reduction):
    """Keras's apply_mask: the mask of the predictions (or of the loss values) as a sample weight.
    Masked-out entries get weight 0; for the mean reductions the others get total / valid (the
    mask's size over its count of valid entries; 0 when none is valid, Keras's divide_no_nan), so
    that sum(values * weight) / total is the mean over the valid entries. A sample_weight given
    too is multiplied in after Keras's rank matching; one weight per sample of a per-step mask
    applies to every step of that sample (see _leading_aligned)."""
    if mask is None:
        return sample_weight
    mask = mask.to(dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        valid = mask.sum().item()
        mask = mask * (mask.numel() / valid if valid else 0.0)
    if sample_weight is None:
        return mask
    mask, sample_weight = _same_rank(mask, sample_weight)
    sample_weight = _leading_aligned(sample_weight.to(dtype), mask)
    try:
        _C.broadcast_shapes(list(mask.shape), list(sample_weight.shape))
    except ValueError:
        raise ValueError(f"sample_weight of shape {sample_weight.shape} does not match the mask of y_pred of shape "
                         f"{mask.shape}; give one weight per sample or per masked entry") from None
    return sample_weight * mask


def _combined_mask(in_mask, out_mask):
    """Keras's `in_mask & out_mask` of the predictions' mask and the loss values' own (as 0 / 1 floats)."""
    if in_mask is None or out_mask is None:
        return out_mask if in_mask is None else in_mask
    return in_mask.to(_dtype.float32) * out_mask.to(_dtype.float32)


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    """Per-sample loss values weighted by sample_weight and by the mask (see apply_mask), broadcast
    to them after Keras's rank matching (weights of the values' leading shape apply along those
    axes) and reduced as `reduction` says (see the module docstring). An empty batch reduces to 0."""
    if sample_weight is not None:
        sample_weight = _as_target(sample_weight, values)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = _same_rank(values, sample_weight)
        sample_weight = _leading_aligned(sample_weight, values)
        try:
            _C.broadcast_shapes(list(values.shape), list(sample_weight.shape))
        except ValueError:
            raise ValueError(f"sample_weight of shape {sample_weight.shape} does not match the per-sample losses of "
                             f"shape {values.shape}; give one weight per sample") from None
        values = values * sample_weight
    if reduction is None or reduction == "none" or values.ndim == 0:
        return values
    loss = values.sum()
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = sample_weight.sum().item()
    else:
        divisor = values.numel()
    return loss / divisor if divisor else loss * 0.0  # Keras's divide_no_nan


# ---- classes -----------------------------------------------------------------------------------------------

def _snake_case(name):
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


class Loss:
    """Base class of losses: subclasses implement call(y_true, y_pred) -> per-sample values; calling
    the loss converts the inputs (NumPy arrays, lists, ember tensors) and reduces the values with
    the sample weights. dtype: the computation's float dtype (default: y_pred's, float32 for
    integer predictions)."""

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = _check_reduction(reduction)
        self.dtype = dtype
        self._dtype = None if dtype is None else _dtype.as_dtype(dtype, f"{type(self).__name__} dtype")

    def __call__(self, y_true, y_pred, sample_weight=None):
        in_mask = getattr(y_pred, "_keras_mask", None)  # read before a dtype conversion makes a new tensor
        y_pred = _as_prediction(y_pred, self._dtype)
        if type(y_true) is not Tensor:
            integral = np.asarray(y_true).dtype.kind in "biu"
            y_true = _from_array(y_true, _dtype.int64) if integral else _as_target(y_true, y_pred)
        values = self.call(y_true, y_pred)
        mask = _combined_mask(in_mask, getattr(values, "_keras_mask", None))
        return reduce_weighted_values(values, sample_weight, mask=mask, reduction=self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred) returning the "
                                  "per-sample loss values")

    def get_config(self):
        config = {"name": self.name, "reduction": self.reduction}
        if self.dtype is not None:
            config["dtype"] = self.dtype if isinstance(self.dtype, str) else str(self.dtype).replace("ember.", "")
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class LossFunctionWrapper(Loss):
    """A loss from a function fn(y_true, y_pred, **kwargs) -> per-sample values. The built-in
    functions reduce through one fused op when there are no sample weights."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: fn must be a function of (y_true, y_pred), got {type(fn).__name__}")
        self.fn = fn
        self._fn_kwargs = kwargs
        self._total = _TOTALS.get(fn)
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)

    @property
    def reduction(self):
        return self._reduction

    @reduction.setter
    def reduction(self, value):
        self._reduction = _check_reduction(value)
        # the reduction a fused total computes, when there are no sample weights
        self._fused_reduction = None if value in (None, "none") else "sum" if value == "sum" else "mean"

    def __call__(self, y_true, y_pred, sample_weight=None):
        # the fused totals know no masks: a masked y_pred takes the general path
        if sample_weight is None and self._total is not None and self._fused_reduction is not None \
                and not hasattr(y_pred, "_keras_mask"):
            out = self._total(y_true, _as_prediction(y_pred, self._dtype), self._fused_reduction, **self._fn_kwargs)
            if out is not None:
                return out
        return super().__call__(y_true, y_pred, sample_weight)

    def call(self, y_true, y_pred):
        if self._total is None:
            y_true, y_pred = _same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        if type(self) is LossFunctionWrapper:
            config["fn"] = serialize(self.fn) if self.fn in _TOTALS else getattr(self.fn, "__name__", repr(self.fn))
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is LossFunctionWrapper and isinstance(config.get("fn"), str):
            config["fn"] = deserialize(config["fn"])
        return cls(**config)


class MeanSquaredError(LossFunctionWrapper):
    """The mean of squared errors: mean((y_true - y_pred)^2, axis=-1) per sample."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """The mean of absolute errors: mean(|y_true - y_pred|, axis=-1) per sample."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)


class Huber(LossFunctionWrapper):
    """The Huber loss: quadratic for errors up to delta, linear beyond (see huber())."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=float(delta))
        self.delta = float(delta)


class BinaryCrossentropy(LossFunctionWrapper):
    """Cross-entropy of binary (0 / 1, or soft) targets; see binary_crossentropy()."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        _check_label_smoothing(label_smoothing)
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype, from_logits=bool(from_logits),
                         label_smoothing=float(label_smoothing), axis=axis)
        self.from_logits, self.label_smoothing, self.axis = bool(from_logits), float(label_smoothing), axis


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy of one-hot (or soft) class targets; see categorical_crossentropy()."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        _check_label_smoothing(label_smoothing)
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=float(label_smoothing), axis=axis)
        self.from_logits, self.label_smoothing, self.axis = bool(from_logits), float(label_smoothing), axis


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy of integer class labels; see sparse_categorical_crossentropy()."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=bool(from_logits), ignore_class=ignore_class)
        self.from_logits, self.ignore_class = bool(from_logits), ignore_class


def _check_label_smoothing(label_smoothing):
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")

# ---- get / serialize / deserialize ------------------------------------------------------------------------

_CLASSES = {cls.__name__: cls for cls in (Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError,
                                          BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
                                          Huber)}
_FUNCTIONS = {fn.__name__: fn for fn in _TOTALS}
_FUNCTIONS.update(mse=mse, MSE=MSE, mae=mae, MAE=MAE, bce=bce, BCE=BCE)
_ALL = dict(_CLASSES, **_FUNCTIONS)


def _unknown(identifier):
    names = sorted(_FUNCTIONS) + sorted(n for n in _CLASSES if n not in ("Loss", "LossFunctionWrapper"))
    close = difflib.get_close_matches(str(identifier), names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(f"Could not interpret loss identifier: {identifier!r}.{hint} Valid names: "
                      f"{', '.join(repr(n) for n in names)}")


def serialize(loss):
    """A loss class instance as Keras's serialized dict; a built-in loss function as its name."""
    if isinstance(loss, Loss):
        return {"module": "keras.losses", "class_name": type(loss).__name__, "config": loss.get_config(),
                "registered_name": None}
    if callable(loss) and getattr(loss, "__name__", None) in _FUNCTIONS:
        return loss.__name__
    raise TypeError(f"serialize: expected a Keras loss or built-in loss function, got {type(loss).__name__}")


def deserialize(config, custom_objects=None):
    """A loss from serialize()'s output (or Keras's): a class config dict, or a function name."""
    known = dict(_ALL, **(custom_objects or {}))
    if isinstance(config, str):
        if config not in known:
            raise _unknown(config)
        return known[config]
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize: expected a dict with 'class_name' and 'config', or a name; got {config!r}")
    cls = known.get(config["class_name"])
    if cls is None:
        raise _unknown(config["class_name"])
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """A loss from a name (a function such as 'mse' or 'sparse_categorical_crossentropy', which gives
    the per-sample function as in Keras; or a class name such as 'MeanSquaredError', which gives an
    instance), a config dict, a class (instantiated) or a callable (returned as is); None gives None."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _ALL.get(identifier)
        if obj is None:
            raise _unknown(identifier)
    else:
        obj = identifier
    if isinstance(obj, type):
        return obj()
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}; pass a name, a config dict, a loss "
                     "instance or a function of (y_true, y_pred)")

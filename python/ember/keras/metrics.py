"""ember.keras.metrics: Keras 3's streaming metrics. A metric accumulates totals over batches with
update_state(y_true, y_pred, sample_weight=None), reports result() (a float) and starts over with
reset_state(). Metrics take no part in gradients: each batch is read as NumPy arrays (no copy for
ember tensors on the CPU) and reduced to a few numbers accumulated in float64.

    m = ember.keras.metrics.AUC()
    for x, y in batches:
        m.update_state(y, model(x))
    print(m.result())
"""
import difflib

import numpy as np

from ..tensor import Tensor

__all__ = ["Metric", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError", "Precision", "Recall", "AUC",
           "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "mean_squared_error", "mean_absolute_error", "get", "serialize", "deserialize"]

EPSILON = 1e-7  # keras.backend.epsilon()
NEG_INF = -1e10  # the threshold below every top-k prediction


def _array(x):
    """A NumPy view of an ember tensor (detached; copied from a GPU), or np.asarray of anything else."""
    if type(x) is Tensor and x.is_cuda:
        x = x.cpu()
    return np.asarray(x)


def _float_array(x):
    a = _array(x)
    return a if a.dtype.kind == "f" else a.astype(np.float32)


def _same_rank(x1, x2):
    """Keras's squeeze_or_expand_to_same_rank (see ember.keras.losses) on NumPy arrays."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        return (x1, x2[..., None]) if x2.ndim == 1 else (x1[..., 0], x2)
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        return (x1[..., None], x2) if x1.ndim == 1 else (x1, x2[..., 0])
    return x1, x2


def _snake_case(name):
    return "".join("_" + c.lower() if c.isupper() and i and not name[i - 1].isupper() else c.lower()
                   for i, c in enumerate(name))


# ---- the functions behind the mean metrics: one value per sample (or per element) -----------------

def accuracy(y_true, y_pred):
    """1 where y_true == y_pred, averaged over the last axis."""
    y_pred = _float_array(y_pred)
    y_true, y_pred = _same_rank(_array(y_true).astype(y_pred.dtype, copy=False), y_pred)
    return np.mean(y_true == y_pred, axis=-1) if y_pred.ndim else (y_true == y_pred) * 1.0


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where (y_pred > threshold) equals y_true, element by element."""
    y_pred = _float_array(y_pred)
    y_true, y_pred = _same_rank(_array(y_true).astype(y_pred.dtype, copy=False), y_pred)
    return (y_true == (y_pred > threshold)).astype(np.float64)


def categorical_accuracy(y_true, y_pred):
    """1 where the arg-max class of y_pred is that of the one-hot y_true."""
    y_pred = _float_array(y_pred)
    labels = np.argmax(_array(y_true), axis=-1)
    return (labels == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where the arg-max class of y_pred is the label; labels (N,) or (N, 1) for y_pred (N, C)."""
    y_pred = _float_array(y_pred)
    labels = _array(y_true)
    shape = labels.shape
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    matches = (labels.astype(y_pred.dtype, copy=False) == np.argmax(y_pred, axis=-1)).astype(np.float64)
    return matches.reshape(shape) if labels.shape != shape else matches


def mean_squared_error(y_true, y_pred):
    y_pred = _float_array(y_pred)
    y_true, y_pred = _same_rank(_array(y_true).astype(y_pred.dtype, copy=False), y_pred)
    return np.mean(np.square(y_true - y_pred, dtype=np.float64), axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_pred = _float_array(y_pred)
    y_true, y_pred = _same_rank(_array(y_true).astype(y_pred.dtype, copy=False), y_pred)
    return np.mean(np.abs(y_true - y_pred, dtype=np.float64), axis=-1)


# ---- base classes -----------------------------------------------------------------------------------

class Metric:
    """Base class of metrics: subclasses implement update_state(), result() and reset_state()."""

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake_case(type(self).__name__)
        self.dtype = dtype
        self.reset_state()

    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state()")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result()")

    def reset_state(self):
        pass

    def __call__(self, *args, **kwargs):
        """update_state(*args, **kwargs), then result()."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result()!r}>"


def _samplewise(values, sample_weight):
    """Keras's reduce_to_samplewise_values: values reduced by their mean to one per sample, times
    the weights, and the weights reduced to match."""
    values = np.asarray(values, dtype=np.float64)
    if sample_weight is not None:
        sample_weight = _array(sample_weight).astype(np.float64, copy=False)
        values, sample_weight = _same_rank(values, sample_weight)
        weight_ndim = sample_weight.ndim
        if values.ndim > weight_ndim:
            values = np.mean(values, axis=tuple(range(weight_ndim, values.ndim)))
        try:
            sample_weight = np.broadcast_to(sample_weight, values.shape)
        except ValueError:
            raise ValueError(f"sample_weight of shape {sample_weight.shape} does not match the metric values of "
                             f"shape {values.shape}; give one weight per sample") from None
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = np.mean(sample_weight, axis=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = np.mean(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


def _apply_mask(sample_weight, mask):
    """Keras's apply_mask with the 'sum' reduction, as metrics use it: the 0 / 1 mask of the
    predictions (or values) as a sample weight, times the sample_weight given (after rank matching;
    one weight per sample of a per-step mask applies to every step of that sample)."""
    if mask is None:
        return sample_weight
    mask = _array(mask).astype(np.float64)
    if sample_weight is None:
        return mask
    mask, sample_weight = _same_rank(mask, _array(sample_weight).astype(np.float64, copy=False))
    k = sample_weight.ndim
    if 0 < k < mask.ndim and sample_weight.shape == mask.shape[:k]:
        sample_weight = sample_weight.reshape(sample_weight.shape + (1,) * (mask.ndim - k))
    return sample_weight * mask


class Mean(Metric):
    """The (weighted) mean of the values given: sum(values * weights) / sum(weights). A mask the
    values carry (`_keras_mask`) multiplies sample weights given with them, as in Keras."""

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        if sample_weight is not None:
            sample_weight = _apply_mask(sample_weight, getattr(values, "_keras_mask", None))
        values, sample_weight = _samplewise(_array(values), sample_weight)
        self.total += float(np.sum(values))
        if sample_weight is not None:
            self.count += float(np.sum(sample_weight))
        else:
            self.count += values.shape[0] if values.ndim else 1

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The mean of fn(y_true, y_pred, **kwargs) over every sample seen (fn returns NumPy arrays or
    ember tensors). The mask of y_pred (`_keras_mask`) weighs the values, as in Keras 3: masked-out
    steps count for nothing, with or without sample weights."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        super().update_state(values, _apply_mask(sample_weight, mask))

    def get_config(self):
        return dict(super().get_config(), **self._fn_kwargs)


class Accuracy(MeanMetricWrapper):
    """How often y_pred equals y_true exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often y_pred > threshold matches the binary y_true."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of y_pred matches that of the one-hot y_true."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of y_pred matches the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class MeanSquaredError(MeanMetricWrapper):
    """The mean over samples of mean((y_true - y_pred)^2, axis=-1)."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean over samples of mean(|y_true - y_pred|, axis=-1)."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class _AccuracyFromShapes(Metric):
    """'accuracy' whose kind (binary, sparse or categorical) is chosen on the first batch from the
    shapes, as Keras 3 does: binary when y_pred has one column, sparse when y_true has fewer axes
    than y_pred or one column, else categorical."""

    def __init__(self, name="accuracy", dtype=None):
        self._chosen = None
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        if self._chosen is not None:
            self._chosen.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self._chosen is None:
            t, p = _array(y_true), _array(y_pred)
            if p.ndim and p.shape[-1] == 1:
                cls = BinaryAccuracy
            elif t.ndim < p.ndim or (t.ndim and t.shape[-1] == 1):
                cls = SparseCategoricalAccuracy
            else:
                cls = CategoricalAccuracy
            self._chosen = cls(name=self.name, dtype=self.dtype)
        self._chosen.update_state(y_true, y_pred, sample_weight)

    def result(self):
        return 0.0 if self._chosen is None else self._chosen.result()


from ._confusion_metrics import Precision, Recall, AUC  # noqa: E402

for _cls in (Precision, Recall, AUC):
    _cls.__module__ = __name__  # their public home, for repr and pickling

# ---- get / serialize / deserialize ------------------------------------------------------------------

_CLASSES = {cls.__name__: cls for cls in (Mean, Accuracy, BinaryAccuracy, CategoricalAccuracy,
                                          SparseCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, Precision,
                                          Recall, AUC)}
_BY_NAME = {"mse": MeanSquaredError, "mean_squared_error": MeanSquaredError, "mae": MeanAbsoluteError,
            "mean_absolute_error": MeanAbsoluteError, "binary_accuracy": BinaryAccuracy,
            "categorical_accuracy": CategoricalAccuracy, "sparse_categorical_accuracy": SparseCategoricalAccuracy,
            "precision": Precision, "recall": Recall, "auc": AUC, "mean": Mean}
_ACCURACY_FOR_LOSS = {"binary_crossentropy": BinaryAccuracy, "categorical_crossentropy": CategoricalAccuracy,
                      "sparse_categorical_crossentropy": SparseCategoricalAccuracy}


def _loss_function_name(loss):
    """The name of the built-in loss function behind a loss given as a name, class, instance or function."""
    from . import losses
    if isinstance(loss, str):
        try:
            loss = losses.get(loss)
        except ValueError:
            return None
    if isinstance(loss, type) and issubclass(loss, losses.Loss):
        loss = loss()
    return getattr(getattr(loss, "fn", loss), "__name__", None)


def _unknown(identifier):
    names = ["accuracy", "acc"] + sorted(_BY_NAME) + sorted(_CLASSES)
    close = difflib.get_close_matches(str(identifier), names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return ValueError(f"Could not interpret metric identifier: {identifier!r}.{hint} Valid names: "
                      f"{', '.join(repr(n) for n in names)}")


def get(identifier, loss=None):
    """A metric instance from a name, a class, a config dict, a function of (y_true, y_pred) or an
    instance (returned as is). 'accuracy' / 'acc' become binary, categorical or sparse categorical
    accuracy according to the loss ('binary_crossentropy', ... as a name, function or Loss), or by
    the shapes of the first batch when the loss does not tell; metrics named by a string carry that
    name ('acc', 'mse')."""
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            cls = _ACCURACY_FOR_LOSS.get(_loss_function_name(loss)) if loss is not None else None
            return (cls or _AccuracyFromShapes)(name=identifier)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        if identifier in _BY_NAME:
            return _BY_NAME[identifier](name=identifier)
        raise _unknown(identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}; pass a name, a Metric, a config dict "
                     "or a function of (y_true, y_pred)")


def serialize(metric):
    if not isinstance(metric, Metric):
        raise TypeError(f"serialize: expected a Metric, got {type(metric).__name__}")
    return {"module": "keras.metrics", "class_name": type(metric).__name__, "config": metric.get_config(),
            "registered_name": None}


def deserialize(config, custom_objects=None):
    known = dict(_CLASSES, **(custom_objects or {}))
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    cls = known.get(config["class_name"])
    if cls is None:
        raise _unknown(config["class_name"])
    return cls.from_config(config.get("config", {}))

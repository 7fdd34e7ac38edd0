"""Metrics over confusion matrices at thresholds: Precision, Recall and AUC, with Keras 3's rules
(keras/src/metrics/metrics_utils.py, confusion_metrics.py).

A prediction counts as positive at threshold t when it is > t; a label counts as positive when it
is nonzero. Thresholds spread evenly over [0, 1] (AUC's default: 0, 1/(n-1), ..., 1, with the end
points pushed out by 1e-7) are counted as Keras does, by bucketing each prediction, clipped to
[0, 1], once: bucket ceil(p (n - 1)) - 1, and the counts at each threshold are the sums over the
buckets at or above it.
"""
import numpy as np

from .metrics import EPSILON, NEG_INF, Metric, _apply_mask, _array, _float_array, _same_rank

__all__ = ["Precision", "Recall", "AUC"]


def _parse_thresholds(thresholds, default):
    values = [default] if thresholds is None else [thresholds] if np.isscalar(thresholds) else list(thresholds)
    invalid = [t for t in values if t is None or not 0 <= t <= 1]
    if thresholds is not None and invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return [float(t) for t in values]


def _evenly_distributed(thresholds):
    n = len(thresholds)
    return n >= 3 and np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1), atol=EPSILON)


def _top_k_only(y_pred, k):
    """y_pred with everything but its k largest values on the last axis set to NEG_INF."""
    order = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    out = np.full_like(y_pred, NEG_INF)
    np.put_along_axis(out, order, np.take_along_axis(y_pred, order, axis=-1), axis=-1)
    return out


def _per_sample_weights(sample_weight, shape, dtype):
    """Weights broadcast to the predictions' shape; one weight per sample applies to all its labels."""
    w = _array(sample_weight).astype(dtype, copy=False)
    if 0 < w.ndim < len(shape) and w.shape == shape[:w.ndim]:
        w = w.reshape(w.shape + (1,) * (len(shape) - w.ndim))
    try:
        return np.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(f"sample_weight of shape {w.shape} does not match predictions of shape {shape}; give one "
                         "weight per sample") from None


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, multi_label=False, label_weights=None,
                     top_k=None, class_id=None):
    """(tp, fp, tn, fn) at each threshold: arrays of shape (thresholds,), or (thresholds, labels)
    with multi_label."""
    y_pred = _float_array(y_pred)
    y_true = _array(y_true).astype(y_pred.dtype, copy=False)
    y_pred, y_true = _same_rank(y_pred, y_true)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}")
    if top_k is not None:
        y_pred = _top_k_only(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape (num_samples, "
                             f"num_classes), found shape: {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    weights = np.ones(y_pred.shape) if sample_weight is None else \
        _per_sample_weights(sample_weight, y_pred.shape, np.float64)
    if label_weights is not None and not multi_label:
        weights = weights * np.asarray(label_weights, dtype=np.float64)
    positive = (y_true != 0)
    if multi_label:
        columns = y_pred.shape[-1]
        y_pred, positive, weights = (a.reshape(-1, columns) for a in (y_pred, positive, weights))
    else:
        y_pred, positive, weights = y_pred.reshape(-1, 1), positive.reshape(-1, 1), weights.reshape(-1, 1)
    true_weights, false_weights = weights * positive, weights * ~positive
    if _evenly_distributed(thresholds):
        tp, fp = _bucketed_counts(y_pred, true_weights, false_weights, thresholds)
    else:
        above = y_pred[None] > np.asarray(thresholds, dtype=y_pred.dtype)[:, None, None]  # (T, M, L)
        tp = np.sum(above * true_weights, axis=1)
        fp = np.sum(above * false_weights, axis=1)
    fn = true_weights.sum(axis=0) - tp
    tn = false_weights.sum(axis=0) - fp
    if not multi_label:
        tp, fp, tn, fn = tp[:, 0], fp[:, 0], tn[:, 0], fn[:, 0]
    return tp, fp, tn, fn


def _bucketed_counts(y_pred, true_weights, false_weights, thresholds):
    n = len(thresholds)
    p = np.clip(y_pred, 0.0, 1.0)
    buckets = (np.ceil(p * (p.dtype.type(n) - 1)) - 1).astype(np.int64)
    if thresholds[0] < 0 or thresholds[-1] > 1:  # thresholds with epsilon: the first bucket takes 0 too
        buckets = np.maximum(buckets, 0)
    tp, fp = np.zeros((n, y_pred.shape[1])), np.zeros((n, y_pred.shape[1]))
    for label in range(y_pred.shape[1]):
        valid = buckets[:, label] >= 0
        b = buckets[valid, label]
        tp[:, label] = np.bincount(b, true_weights[valid, label], minlength=n)[:n]
        fp[:, label] = np.bincount(b, false_weights[valid, label], minlength=n)[:n]
    # counts at threshold i: predictions in bucket i or above
    return np.cumsum(tp[::-1], axis=0)[::-1], np.cumsum(fp[::-1], axis=0)[::-1]


def _divide_no_nan(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


class _ThresholdMetric(Metric):
    """Precision / Recall: counts at one or more thresholds (default 0.5, or above NEG_INF with top_k)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = _parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        n = len(self.thresholds)
        self.true_positives, self.false_positives, self.false_negatives = np.zeros(n), np.zeros(n), np.zeros(n)

    def update_state(self, y_true, y_pred, sample_weight=None):
        # the mask of y_pred (padding steps) weighs the counts, as in Keras 3
        sample_weight = _apply_mask(sample_weight, getattr(y_pred, "_keras_mask", None))
        tp, fp, _, fn = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, top_k=self.top_k,
                                         class_id=self.class_id)
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += fn

    def _ratio(self, other):
        values = _divide_no_nan(self.true_positives, self.true_positives + other)
        return float(values[0]) if len(self.thresholds) == 1 else [float(v) for v in values]

    def get_config(self):
        return dict(super().get_config(), thresholds=self.init_thresholds, top_k=self.top_k, class_id=self.class_id)


class Precision(_ThresholdMetric):
    """tp / (tp + fp): the fraction of predicted positives that are positive (a list of floats when
    several thresholds are given)."""

    def result(self):
        return self._ratio(self.false_positives)


class Recall(_ThresholdMetric):
    """tp / (tp + fn): the fraction of positives predicted positive (a list of floats when several
    thresholds are given)."""

    def result(self):
        return self._ratio(self.false_negatives)


class AUC(Metric):
    """The area under the ROC (or precision-recall) curve, approximated as Keras does: confusion
    counts at num_thresholds thresholds, then a Riemann sum ('interpolation': trapezoids; PR with
    'interpolation' uses Davis & Goadrich's interpolation; 'minoring' / 'majoring': lower / upper
    rectangles). multi_label: one curve per label, averaged (weighted by label_weights)."""

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]')
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". Expected values are '
                             '["interpolation", "majoring", "minoring"]')
        self.curve, self.summation_method = curve, summation_method
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_parse_thresholds(thresholds, 0.5))
            self.num_thresholds = len(inner) + 2
        else:
            if not (isinstance(num_thresholds, int) and num_thresholds > 1):
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: "
                                 f"num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype=np.float64)
        self._from_logits = bool(from_logits)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        if self.multi_label and not self.num_labels:  # sized by the first batch
            self.true_positives = self.false_positives = self.true_negatives = self.false_negatives = None
            return
        shape = (self.num_thresholds, self.num_labels) if self.multi_label else (self.num_thresholds,)
        self.true_positives, self.false_positives, self.true_negatives, self.false_negatives = \
            (np.zeros(shape) for _ in range(4))

    def update_state(self, y_true, y_pred, sample_weight=None):
        sample_weight = _apply_mask(sample_weight, getattr(y_pred, "_keras_mask", None))  # as Keras 3
        y_pred = _float_array(y_pred)
        if self._from_logits:
            y_pred = 1 / (1 + np.exp(-y_pred))
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, multi_label=self.multi_label,
                                  label_weights=None if self.multi_label else self.label_weights)
        if self.true_positives is None:
            self.num_labels = counts[0].shape[1]
            self.reset_state()
        self.true_positives = self.true_positives + counts[0]
        self.false_positives = self.false_positives + counts[1]
        self.true_negatives = self.true_negatives + counts[2]
        self.false_negatives = self.false_negatives + counts[3]

    def _average(self, by_label):
        if not self.multi_label:
            return float(np.sum(by_label))
        by_label = np.sum(by_label, axis=0)
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(_divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights)))

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        precision_slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - precision_slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        safe_p_ratio = np.where(both_positive, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increments = _divide_no_nan(precision_slope * (dtp + intercept * np.log(safe_p_ratio)),
                                    np.maximum(tp[1:] + fn[1:], 0))
        return self._average(increments)

    def result(self):
        if self.true_positives is None:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._average((x[:-1] - x[1:]) * heights)

    def get_config(self):
        config = dict(super().get_config(), num_thresholds=self.num_thresholds, curve=self.curve,
                      summation_method=self.summation_method, multi_label=self.multi_label,
                      num_labels=self.num_labels, from_logits=self._from_logits,
                      label_weights=None if self.label_weights is None else self.label_weights.tolist())
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config

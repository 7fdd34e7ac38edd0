"""ember.keras.metrics: streaming results over several weighted batches against one-shot float64
NumPy references over all the data (written below from Keras 3's definitions), AUC against an
independent computation of Keras's default (200 thresholds, ROC, trapezoids), 'accuracy'
resolution, and the error paths."""
import numpy as np
import pytest

import ember
from ember.keras import losses, metrics

BATCHES = [7, 33, 1, 20]


def batches(y_true, y_pred, weights):
    start = 0
    for n in BATCHES:
        sl = slice(start, start + n)
        yield y_true[sl], y_pred[sl], None if weights is None else weights[sl]
        start += n


def weighted_mean(per_sample, weights):
    if weights is None:
        return per_sample.mean()
    return np.sum(per_sample * weights) / np.sum(weights)


def data(kind, rng, n=sum(BATCHES), classes=4):
    if kind == "binary":
        return (rng.uniform(size=(n, 1)) > 0.5) * 1.0, rng.uniform(size=(n, 1))
    if kind == "categorical":
        return np.eye(classes)[rng.integers(0, classes, n)], rng.uniform(size=(n, classes))
    if kind == "sparse":
        return rng.integers(0, classes, n), rng.uniform(size=(n, classes))
    return rng.standard_normal((n, 3)), rng.standard_normal((n, 3))


MEAN_CASES = [
    ("binary", metrics.BinaryAccuracy, lambda t, p: np.mean(t == (p > 0.5), axis=-1)),
    ("binary", lambda: metrics.BinaryAccuracy(threshold=0.7), lambda t, p: np.mean(t == (p > 0.7), axis=-1)),
    ("categorical", metrics.CategoricalAccuracy, lambda t, p: (t.argmax(-1) == p.argmax(-1)) * 1.0),
    ("sparse", metrics.SparseCategoricalAccuracy, lambda t, p: (t == p.argmax(-1)) * 1.0),
    ("regression", metrics.MeanSquaredError, lambda t, p: np.mean((t - p) ** 2, axis=-1)),
    ("regression", metrics.MeanAbsoluteError, lambda t, p: np.mean(np.abs(t - p), axis=-1)),
    ("binary", metrics.Accuracy, lambda t, p: np.mean(t == np.round(p), axis=-1)),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("kind,make,per_sample", MEAN_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(MEAN_CASES)])
def test_mean_metrics_stream(kind, make, per_sample, weighted):
    rng = np.random.default_rng(0)
    y_true, y_pred = data(kind, rng)
    if make is metrics.Accuracy:
        y_pred = np.round(y_pred * 0.9 + rng.uniform(size=y_pred.shape) * 0.2)
    weights = rng.uniform(0, 2, len(y_true)) if weighted else None
    m = make()
    for t, p, w in batches(y_true, y_pred, weights):
        m.update_state(t, ember.tensor(p, dtype=ember.float32), sample_weight=w)
    want = weighted_mean(per_sample(y_true, y_pred.astype(np.float32).astype(np.float64)), weights)
    assert type(m.result()) is float
    np.testing.assert_allclose(m.result(), want, rtol=1e-6)
    m.reset_state()
    assert m.result() == 0.0


def test_mean_and_label_shapes():
    m = metrics.Mean()
    m.update_state([1.0, 2.0, 3.0])
    m.update_state(ember.tensor([[4.0, 6.0]]), sample_weight=[2.0])
    np.testing.assert_allclose(m.result(), (1 + 2 + 3 + 2 * 5) / 5)
    rng = np.random.default_rng(1)
    labels, p = data("sparse", rng)
    a, b = metrics.SparseCategoricalAccuracy(), metrics.SparseCategoricalAccuracy()
    a.update_state(labels, p)
    b.update_state(labels[:, None], ember.tensor(p))
    assert a.result() == b.result() == np.mean(labels == p.argmax(-1))


def auc_reference(y_true, y_pred, weights, num_thresholds=200):
    """Keras's default AUC from its definition: thresholds 0 - eps, 1/(n-1), ..., (n-2)/(n-1), 1 + eps;
    weighted confusion counts of (pred > threshold); ROC points; trapezoids."""
    eps = 1e-7
    thresholds = np.array([-eps] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1 + eps])
    y_true, y_pred = y_true.reshape(-1) != 0, y_pred.reshape(-1)
    w = np.ones_like(y_pred) if weights is None else np.repeat(weights, y_pred.size // len(weights))
    tp = np.array([np.sum(w * (y_pred > t) * y_true) for t in thresholds])
    fp = np.array([np.sum(w * (y_pred > t) * ~y_true) for t in thresholds])
    fn = np.sum(w * y_true) - tp
    tn = np.sum(w * ~y_true) - fp
    tpr = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1e-300), 0)
    fpr = np.where(fp + tn > 0, fp / np.maximum(fp + tn, 1e-300), 0)
    return np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_auc_matches_keras_default(weighted):
    rng = np.random.default_rng(2)
    y_true, _ = data("binary", rng)
    y_pred = np.clip(y_true * 0.35 + rng.uniform(size=y_true.shape) * 0.65, 0, 1)
    weights = rng.uniform(0, 2, len(y_true)) if weighted else None
    m = metrics.AUC()
    assert m.name == "auc" and m.num_thresholds == 200
    for t, p, w in batches(y_true, y_pred, weights):
        m.update_state(t, ember.tensor(p, dtype=ember.float64), sample_weight=w)
    np.testing.assert_allclose(m.result(), auc_reference(y_true, y_pred, weights), rtol=1e-12)
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    # 200 thresholds approximate the exact area to about 1e-3 on this data
    assert abs(m.result() - sklearn_metrics.roc_auc_score(y_true[:, 0], y_pred[:, 0], sample_weight=weights)) < 5e-3


def test_auc_options():
    rng = np.random.default_rng(3)
    y_true, _ = data("binary", rng)
    logits = rng.standard_normal(y_true.shape) + y_true
    probs = 1 / (1 + np.exp(-logits))
    np.testing.assert_allclose(metrics.AUC(from_logits=True)(y_true, logits), auc_reference(y_true, probs, None),
                               rtol=1e-12)
    # thresholds given: compared one by one; ends at 0 - eps and 1 + eps added
    explicit = metrics.AUC(thresholds=[0.25, 0.5, 0.75])
    assert explicit.num_thresholds == 5 and explicit.get_config()["thresholds"] == [0.25, 0.5, 0.75]
    explicit.update_state(y_true, probs)
    assert 0.5 < explicit.result() < 1
    two = np.concatenate([y_true, 1 - y_true], axis=1), np.concatenate([probs, 1 - probs], axis=1)
    multi = metrics.AUC(multi_label=True)
    multi.update_state(*two)
    np.testing.assert_allclose(multi.result(), auc_reference(y_true, probs, None), rtol=1e-9)
    pr = metrics.AUC(curve="PR")(y_true, probs)
    assert 0.5 < pr <= 1
    assert metrics.AUC(summation_method="minoring")(y_true, probs) <= metrics.AUC()(y_true, probs) <= \
        metrics.AUC(summation_method="majoring")(y_true, probs)
    back = metrics.deserialize(metrics.serialize(metrics.AUC(num_thresholds=50, curve="PR")))
    assert back.num_thresholds == 50 and back.curve == "PR"


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_precision_recall_stream(weighted):
    rng = np.random.default_rng(4)
    y_true, y_pred = data("binary", rng)
    weights = rng.uniform(0, 2, len(y_true)) if weighted else None
    prec, rec, several = metrics.Precision(), metrics.Recall(), metrics.Precision(thresholds=[0.3, 0.8])
    for t, p, w in batches(y_true, y_pred, weights):
        for m in (prec, rec, several):
            m.update_state(t, ember.tensor(p, dtype=ember.float64), sample_weight=w)
    w = np.ones(len(y_true)) if weights is None else weights
    t, p = y_true[:, 0] != 0, y_pred[:, 0]
    np.testing.assert_allclose(prec.result(), np.sum(w * t * (p > 0.5)) / np.sum(w * (p > 0.5)), rtol=1e-12)
    np.testing.assert_allclose(rec.result(), np.sum(w * t * (p > 0.5)) / np.sum(w * t), rtol=1e-12)
    np.testing.assert_allclose(several.result(), [np.sum(w * t * (p > th)) / np.sum(w * (p > th)) for th in (0.3, 0.8)],
                               rtol=1e-12)


def test_precision_top_k_and_class_id():
    y_true = np.array([[0, 1, 1, 0], [1, 0, 0, 1]])
    y_pred = np.array([[0.1, 0.9, 0.2, 0.8], [0.6, 0.55, 0.1, 0.2]])
    assert metrics.Precision(top_k=2)(y_true, y_pred) == pytest.approx(2 / 4)
    assert metrics.Recall(class_id=3)(y_true, y_pred) == pytest.approx(0.0)
    assert metrics.Precision(class_id=1)(y_true, y_pred) == pytest.approx(1 / 2)
    assert metrics.Precision()([0, 0], [0.1, 0.2]) == 0.0  # no predicted positives: 0, not NaN


def test_accuracy_resolution():
    for loss, cls in (("binary_crossentropy", metrics.BinaryAccuracy), ("bce", metrics.BinaryAccuracy),
                      (losses.binary_crossentropy, metrics.BinaryAccuracy),
                      (losses.CategoricalCrossentropy(from_logits=True), metrics.CategoricalAccuracy),
                      ("categorical_crossentropy", metrics.CategoricalAccuracy),
                      (losses.SparseCategoricalCrossentropy, metrics.SparseCategoricalAccuracy),
                      ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy)):
        for name in ("accuracy", "acc"):
            m = metrics.get(name, loss=loss)
            assert type(m) is cls and m.name == name
    # a loss that does not tell: chosen from the shapes of the first batch, as Keras 3 does
    rng = np.random.default_rng(5)
    for kind, cls in (("binary", metrics.BinaryAccuracy), ("sparse", metrics.SparseCategoricalAccuracy),
                      ("categorical", metrics.CategoricalAccuracy)):
        m = metrics.get("accuracy", loss="mse")
        y_true, y_pred = data(kind, rng)
        m.update_state(y_true, y_pred)
        reference = cls()
        reference.update_state(y_true, y_pred)
        assert m.result() == reference.result() and type(m._chosen) is cls


def test_get_names_and_errors():
    assert type(metrics.get("mse")) is metrics.MeanSquaredError and metrics.get("mse").name == "mse"
    assert metrics.get("mean_absolute_error").name == "mean_absolute_error"
    assert type(metrics.get("AUC")) is metrics.AUC and metrics.get("AUC").name == "auc"
    assert type(metrics.get(metrics.Precision)) is metrics.Precision
    recall = metrics.Recall(thresholds=0.3)
    assert metrics.get(recall) is recall and metrics.get(None) is None
    custom = metrics.get(lambda t, p: np.abs(np.asarray(t) - np.asarray(p)))
    custom.update_state([1.0, 2.0], [2.0, 2.0])
    assert custom.result() == 0.5
    back = metrics.get(metrics.serialize(metrics.BinaryAccuracy(threshold=0.3)))
    assert type(back) is metrics.BinaryAccuracy and back.get_config()["threshold"] == 0.3
    with pytest.raises(ValueError, match="Could not interpret metric identifier: 'accurcy'. Did you mean 'accuracy'"
                                         ".*'mse'"):
        metrics.get("accurcy")
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="num_thresholds.*> 1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="Invalid AUC curve"):
        metrics.AUC(curve="DET")
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\) does not match"):
        metrics.BinaryAccuracy().update_state(np.ones(4), np.ones(4), sample_weight=np.ones(3))
    with pytest.raises(ValueError, match=r"y_true of shape \(4, 2\) does not match y_pred of shape \(4, 3\)"):
        metrics.AUC().update_state(np.ones((4, 2)), np.ones((4, 3)))


def test_confusion_metrics_weigh_by_the_prediction_mask():
    """Precision, Recall and AUC count only the steps the mask of y_pred keeps, as Keras 3 does."""
    rng = np.random.default_rng(8)
    y_pred = rng.random((4, 6, 1)).astype(np.float32)
    y_true = (rng.random((4, 6, 1)) > 0.5).astype(np.float32)
    keep = rng.random((4, 6)) > 0.4
    for cls in (metrics.Precision, metrics.Recall, metrics.AUC):
        masked = ember.tensor(y_pred)
        masked._keras_mask = ember.tensor(keep)
        metric, reference, unmasked = cls(), cls(), cls()
        metric.update_state(y_true, masked)
        reference.update_state(y_true[keep], y_pred[keep])
        unmasked.update_state(y_true, y_pred)
        assert metric.result() == pytest.approx(reference.result())
        assert metric.result() != pytest.approx(unmasked.result())  # the mask matters here

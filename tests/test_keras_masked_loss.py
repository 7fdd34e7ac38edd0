"""Masked losses and metrics: the mask of y_pred (Embedding(mask_zero=True) through LSTM(return_sequences=True)
and Dense) acts as a sample weight, as in Keras 3's losses.loss.apply_mask / reduce_weighted_values and
MeanMetricWrapper. The reference is Keras's formula in float64 NumPy: the mask (times any sample weight) weighs
the per-step loss values, and for 'sum_over_batch_size' / 'mean' the valid entries get total / valid (0 when
none is valid), so the reduction is the mean over the valid steps. Checked through fit / evaluate /
train_on_batch / test_on_batch from the model's own predictions, invariance to the targets at padded steps
(loss, gradients, trained weights), sample weights, metrics, standalone loss objects, and unmasked models."""
import numpy as np
import pytest

import ember
from ember import keras
from ember.keras import layers

from conftest import TOL

RNG = np.random.default_rng(11)
# token ids, 0 = padding; the last row is all padding (no valid step: it counts for nothing)
PADDED = np.array([[3, 1, 4, 1, 5, 0, 0],
                   [2, 7, 1, 8, 2, 8, 1],
                   [9, 0, 0, 0, 0, 0, 0],
                   [6, 2, 6, 0, 0, 0, 0],
                   [5, 3, 5, 8, 9, 7, 0],
                   [0, 0, 0, 0, 0, 0, 0]])
MASK = PADDED != 0
N, T = PADDED.shape


def keras_masked_mean(values, mask, sample_weight=None, reduction="sum_over_batch_size"):
    """Keras 3's reduce_weighted_values(values, sample_weight, mask, reduction) in float64 NumPy; one weight
    per sample applies to each of its steps."""
    weight = mask.astype(np.float64)
    if reduction in ("sum_over_batch_size", "mean"):
        valid = weight.sum()
        weight = weight * (weight.size / valid if valid else 0.0)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, np.float64)
        weight = weight * (sample_weight[:, None] if sample_weight.ndim == 1 else sample_weight)
    weighted = values * weight
    if reduction in (None, "none"):
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean_with_sample_weight":
        return weighted.sum() / weight.sum()
    return weighted.sum() / values.size


def metric_over_valid_steps(values, mask, sample_weight=None):
    """A mean metric of per-step values: sum(values * mask * weight) / sum(mask * weight)."""
    weight = mask.astype(np.float64)
    if sample_weight is not None:
        weight = weight * (sample_weight[:, None] if np.ndim(sample_weight) == 1 else sample_weight)
    return (values * weight).sum() / weight.sum()


def sequence_model(outputs=2, activation=None, dtype="float64", seed=0):
    ember.manual_seed(seed)
    model = keras.Sequential([layers.Embedding(10, 4, mask_zero=True, dtype=dtype),
                              layers.LSTM(5, return_sequences=True, dtype=dtype),
                              layers.Dense(outputs, activation=activation, dtype=dtype)])
    model(ember.tensor(PADDED))  # builds the weights
    return model


def mse_steps(y, pred):
    return np.mean((pred.astype(np.float64) - y) ** 2, axis=-1)


def regression_targets():
    """Regression targets; float32, as fit and evaluate read floating-point data (Keras's floatx)."""
    return RNG.standard_normal((N, T, 2)).astype(np.float32)


def with_other_padded_targets(y):
    """y with new values at the padded steps (what must not matter)."""
    other = y.copy()
    other[~MASK] = RNG.standard_normal(other[~MASK].shape) * 3 + 1
    return other


# ---- the loss fit / evaluate report -----------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_evaluate_and_fit_report_the_masked_loss(dtype):
    y = regression_targets()
    model = sequence_model(dtype=dtype)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    want = keras_masked_mean(mse_steps(y, model.predict(PADDED, verbose=0)), MASK)
    rtol = TOL[getattr(ember, dtype)]["rtol"]
    assert model.evaluate(PADDED, y, batch_size=N, verbose=0) == pytest.approx(want, rel=rtol)
    assert model.test_on_batch(PADDED, y) == pytest.approx(want, rel=rtol)
    # the batches' masked means, weighted by batch size (Keras's loss tracker)
    pred = model.predict(PADDED, verbose=0)
    per_batch = [keras_masked_mean(mse_steps(y[s:s + 4], pred[s:s + 4]), MASK[s:s + 4]) for s in (0, 4)]
    assert model.evaluate(PADDED, y, batch_size=4, verbose=0) == pytest.approx(
        (4 * per_batch[0] + 2 * per_batch[1]) / N, rel=rtol)
    # fit and train_on_batch report the loss before their update
    assert model.train_on_batch(PADDED, y) == pytest.approx(want, rel=rtol)
    want = keras_masked_mean(mse_steps(y, model.predict(PADDED, verbose=0)), MASK)
    history = model.fit(PADDED, y, batch_size=N, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(want, rel=rtol)


def test_padded_targets_change_nothing():
    """Loss, gradients and trained weights are the same whatever the targets at the padded steps."""
    y = regression_targets()
    other = with_other_padded_targets(y)
    runs = []
    for targets in (y, other):
        model = sequence_model(seed=1)
        loss = keras.losses.MeanSquaredError()(targets, model(ember.tensor(PADDED)))
        loss.backward()
        grads = [p.grad.numpy().copy() for p in model.trainable_weights]
        model.compile(optimizer="adam", loss="mse")
        history = model.fit(PADDED, targets, batch_size=3, epochs=3, shuffle=False, verbose=0)
        runs.append((loss.item(), grads, history.history["loss"], model.get_weights()))
    (loss_a, grads_a, hist_a, weights_a), (loss_b, grads_b, hist_b, weights_b) = runs
    assert loss_a == loss_b and hist_a == hist_b
    for a, b in zip(grads_a + weights_a, grads_b + weights_b):
        np.testing.assert_array_equal(a, b)
    assert any(np.abs(g).max() > 0 for g in grads_a)  # the valid steps do train


@pytest.mark.parametrize("per_step", [False, True], ids=["per_sample", "per_step"])
def test_sample_weight_combines_with_the_mask(per_step):
    y = regression_targets()
    sw = RNG.uniform(0.2, 2.0, (N, T) if per_step else N).astype(np.float32)
    model = sequence_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    want = keras_masked_mean(mse_steps(y, model.predict(PADDED, verbose=0)), MASK, sw)
    assert model.evaluate(PADDED, y, sample_weight=sw, batch_size=N, verbose=0) == pytest.approx(want, rel=1e-10)
    history = model.fit(PADDED, y, sample_weight=sw, batch_size=N, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(want, rel=1e-10)
    # padded targets still change nothing
    trained = []
    for targets in (y, with_other_padded_targets(y)):
        model = sequence_model(seed=2)
        model.compile(optimizer="adam", loss="mse")
        model.fit(PADDED, targets, sample_weight=sw, batch_size=4, epochs=2, shuffle=False, verbose=0)
        trained.append(model.get_weights())
    for a, b in zip(*trained):
        np.testing.assert_array_equal(a, b)


# ---- metrics --------------------------------------------------------------------------------------------

def test_sparse_sequence_accuracy_and_loss_over_valid_steps():
    classes = 3
    labels = RNG.integers(0, classes, (N, T))
    sw = RNG.uniform(0.2, 2.0, N).astype(np.float32)
    model = sequence_model(outputs=classes, activation="softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="weighted_acc")])
    pred = model.predict(PADDED, verbose=0).astype(np.float64)
    p = np.clip(pred / pred.sum(-1, keepdims=True), 1e-7, 1 - 1e-7)
    nll = -np.log(np.take_along_axis(p, labels[..., None], -1)[..., 0])
    hits = (pred.argmax(-1) == labels).astype(np.float64)
    logs = model.evaluate(PADDED, labels, sample_weight=sw, batch_size=N, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(keras_masked_mean(nll, MASK, sw), rel=1e-10)
    assert logs["accuracy"] == pytest.approx(metric_over_valid_steps(hits, MASK), rel=1e-12)
    assert logs["weighted_acc"] == pytest.approx(metric_over_valid_steps(hits, MASK, sw), rel=1e-12)
    # labels of shape (N, T, 1) read the same
    logs_3d = model.evaluate(PADDED, labels[..., None], sample_weight=sw, batch_size=N, verbose=0, return_dict=True)
    assert logs_3d == pytest.approx(logs, rel=1e-12)
    history = model.fit(PADDED, labels, batch_size=N, epochs=1, verbose=0)
    assert history.history["accuracy"][0] == pytest.approx(metric_over_valid_steps(hits, MASK), rel=1e-12)


def test_mae_metric_over_valid_steps():
    y = regression_targets()
    model = sequence_model()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    pred = model.predict(PADDED, verbose=0)
    steps = np.mean(np.abs(pred - y), axis=-1)
    _, mae = model.evaluate(PADDED, y, batch_size=4, verbose=0)
    assert mae == pytest.approx(metric_over_valid_steps(steps, MASK), rel=1e-12)
    # standalone, on a masked prediction tensor
    masked = model(ember.tensor(PADDED))
    metric = keras.metrics.MeanAbsoluteError()
    metric.update_state(y, masked)
    assert metric.result() == pytest.approx(metric_over_valid_steps(steps, MASK), rel=1e-12)


# ---- standalone loss objects ---------------------------------------------------------------------------

def masked_tensor(values, mask, dtype=ember.float64, requires_grad=False):
    t = ember.tensor(values, dtype=dtype, requires_grad=requires_grad)
    t._keras_mask = ember.tensor(mask)
    return t


def loss_case(name, rng):
    """(loss class, options, y_true, y_pred) over (N, T, 3) predictions."""
    probabilities = rng.uniform(0.05, 1.0, (N, T, 3))
    probabilities /= probabilities.sum(-1, keepdims=True)
    return {
        "mse": (keras.losses.MeanSquaredError, {}, rng.standard_normal((N, T, 3)), rng.standard_normal((N, T, 3))),
        "mae": (keras.losses.MeanAbsoluteError, {}, rng.standard_normal((N, T, 3)), rng.standard_normal((N, T, 3))),
        "huber": (keras.losses.Huber, {}, rng.standard_normal((N, T, 3)), 2 * rng.standard_normal((N, T, 3))),
        "bce": (keras.losses.BinaryCrossentropy, {}, rng.integers(0, 2, (N, T, 3)).astype(np.float64),
                probabilities),
        "cce": (keras.losses.CategoricalCrossentropy, {"from_logits": True}, np.eye(3)[rng.integers(0, 3, (N, T))],
                rng.standard_normal((N, T, 3))),
        "scce": (keras.losses.SparseCategoricalCrossentropy, {}, rng.integers(0, 3, (N, T)), probabilities),
    }[name]


REDUCTIONS = ["sum_over_batch_size", "mean", "sum", "none", "mean_with_sample_weight"]
LOSS_NAMES = ["mse", "mae", "huber", "bce", "cce", "scce"]


@pytest.mark.parametrize("name", LOSS_NAMES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_standalone_loss_on_a_masked_tensor(name, reduction):
    rng = np.random.default_rng([LOSS_NAMES.index(name), REDUCTIONS.index(reduction)])
    cls, options, y_true, y_pred = loss_case(name, rng)
    # the per-step values of the unmasked loss (float64), weighed by Keras's formula
    values = cls(reduction="none", **options)(y_true, ember.tensor(y_pred)).numpy()
    for sw in (None, rng.uniform(0.2, 2.0, N), rng.uniform(0.2, 2.0, (N, T))):
        got = cls(reduction=reduction, **options)(y_true, masked_tensor(y_pred, MASK), sample_weight=sw)
        np.testing.assert_allclose(got.numpy(), keras_masked_mean(values, MASK, sw, reduction), rtol=1e-12,
                                   atol=1e-15)
    got32 = cls(reduction=reduction, **options)(y_true, masked_tensor(y_pred, MASK, ember.float32))
    assert got32.dtype == ember.float32
    np.testing.assert_allclose(got32.numpy(), keras_masked_mean(values, MASK, None, reduction), rtol=1e-5,
                               atol=1e-6)


def test_masked_entries_get_no_gradient_and_an_all_masked_batch_gives_zero():
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.standard_normal((N, T, 2)), rng.standard_normal((N, T, 2))
    x = masked_tensor(y_pred, MASK, requires_grad=True)
    keras.losses.MeanSquaredError()(y_true, x).backward()
    want = 2 * (y_pred - y_true) / 2 * MASK[..., None] / MASK.sum()
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12, atol=1e-15)
    nothing_valid = masked_tensor(y_pred, np.zeros((N, T), bool))
    for reduction in ("sum_over_batch_size", "sum"):
        assert keras.losses.MeanSquaredError(reduction=reduction)(y_true, nothing_valid).item() == 0.0


def test_mask_of_y_pred_and_ignore_class_combine():
    """Keras's in_mask & out_mask: steps masked in y_pred or labelled ignore_class both drop out."""
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((N, T, 3))
    labels = rng.integers(0, 3, (N, T))
    labels[rng.uniform(size=(N, T)) < 0.3] = -1
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    values = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")(
        np.where(labels < 0, 0, labels), ember.tensor(logits)).numpy()
    got = loss(labels, masked_tensor(logits, MASK)).item()
    assert got == pytest.approx(keras_masked_mean(values, MASK & (labels >= 0)), rel=1e-12)


def test_sample_weight_that_fits_no_mask_says_so():
    with pytest.raises(ValueError, match=r"sample_weight of shape \(5,\) does not match the mask of y_pred"):
        keras.losses.MeanSquaredError()(np.zeros((N, T, 2)), masked_tensor(np.zeros((N, T, 2)), MASK),
                                        sample_weight=np.ones(5))


# ---- without a mask nothing changes -------------------------------------------------------------------

def test_unmasked_models_average_over_every_step():
    y = regression_targets()
    ember.manual_seed(0)
    model = keras.Sequential([layers.Embedding(10, 4, dtype="float64"),
                              layers.LSTM(5, return_sequences=True, dtype="float64"),
                              layers.Dense(2, dtype="float64")])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    pred = model.predict(PADDED, verbose=0)
    assert not hasattr(model(ember.tensor(PADDED)), "_keras_mask")
    loss, mae = model.evaluate(PADDED, y, batch_size=N, verbose=0)
    assert loss == pytest.approx(mse_steps(y, pred).mean(), rel=1e-12)
    assert mae == pytest.approx(np.abs(pred - y).mean(), rel=1e-12)
    plain = ember.tensor(pred)
    assert keras.losses.MeanSquaredError()(y, plain).item() == pytest.approx(mse_steps(y, pred).mean(), rel=1e-12)

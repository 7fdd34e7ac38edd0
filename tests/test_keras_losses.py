"""ember.keras.losses: forward values against float64 NumPy transcriptions of Keras 3's formulas
(written below: probability clipping, label smoothing, logits, per-sample means, the reductions and
sample weights), gradients by central differences in float64 and against PyTorch where its loss
is the same function, the API (names, get, configs) and the error paths."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.keras import losses
from conftest import FLOAT_DTYPES, NP, TOL, noncontiguous

EPS = 1e-7


# ---- Keras's formulas in float64 NumPy ----------------------------------------------------------------

def np_same_rank(x1, x2):
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        return (x1, x2[..., None]) if x2.ndim == 1 else (x1[..., 0], x2)
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        return (x1[..., None], x2) if x1.ndim == 1 else (x1, x2[..., 0])
    return x1, x2


def np_mse(t, p):
    return np.mean((t - p) ** 2, axis=-1)


def np_mae(t, p):
    return np.mean(np.abs(t - p), axis=-1)


def np_huber(t, p, delta=1.0):
    e = p - t
    return np.mean(np.where(np.abs(e) <= delta, 0.5 * e ** 2, delta * np.abs(e) - 0.5 * delta ** 2), axis=-1)


def np_bce(t, p, from_logits=False, label_smoothing=0.0, high=1 - EPS):
    """high: the upper clip bound, 1 - 1e-7 rounded to the computation's dtype (in float32, log(1 - high)
    is -15.9, not -16.1)."""
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p)))
    else:
        p = np.clip(p, EPS, high)
        values = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    return np.mean(values, axis=-1)


def np_cce(t, p, from_logits=False, label_smoothing=0.0):
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / t.shape[-1]
    if from_logits:
        m = p.max(axis=-1, keepdims=True)
        log_p = p - m - np.log(np.sum(np.exp(p - m), axis=-1, keepdims=True))
    else:
        log_p = np.log(np.clip(p / p.sum(axis=-1, keepdims=True), EPS, 1 - EPS))
    return -np.sum(t * log_p, axis=-1)


def np_scce(labels, p, from_logits=False):
    labels = labels.astype(np.int64)
    if labels.ndim == p.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    return np_cce(np.eye(p.shape[-1])[labels], p, from_logits)


def np_reduce(values, sample_weight, reduction):
    if sample_weight is not None:
        values, sample_weight = np_same_rank(values, np.asarray(sample_weight, dtype=np.float64))
        if 0 < sample_weight.ndim < values.ndim:  # per-sample weights of (N, T) values
            sample_weight = sample_weight.reshape(sample_weight.shape + (1,) * (values.ndim - sample_weight.ndim))
        values = values * sample_weight
    if reduction in (None, "none") or values.ndim == 0:
        return values
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        return total / np.sum(sample_weight)
    return total / values.size if values.size else 0.0


# ---- inputs ----------------------------------------------------------------------------------------------

def probabilities(rng, shape, extremes=False):
    p = rng.uniform(0.02, 1.0, shape)
    p = p / p.sum(axis=-1, keepdims=True)
    if extremes and p.size >= 4:  # exact 0 and 1 exercise the clipping
        p.reshape(-1)[:2] = [0.0, 1.0]
    return p


def case(kind, shape, rng, from_logits=False):
    """(y_true, y_pred, reference per-sample function) for one loss kind."""
    if kind in ("mse", "mae", "huber"):
        return rng.standard_normal(shape), rng.standard_normal(shape) * 2, {"mse": np_mse, "mae": np_mae,
                                                                             "huber": np_huber}[kind]
    if kind == "bce":
        p = rng.standard_normal(shape) * 3 if from_logits else rng.uniform(0, 1, shape)
        if not from_logits and p.size >= 2:
            p.reshape(-1)[:2] = [0.0, 1.0]
        return (rng.uniform(size=shape) > 0.5).astype(np.float64), p, np_bce
    p = rng.standard_normal(shape) * 2 if from_logits else probabilities(rng, shape, extremes=True)
    labels = rng.integers(0, shape[-1], shape[:-1])
    if kind == "cce":
        return np.eye(shape[-1])[labels], p, np_cce
    return labels, p, np_scce


LOSSES = [
    ("mse", losses.MeanSquaredError, {}),
    ("mae", losses.MeanAbsoluteError, {}),
    ("huber", losses.Huber, {}),
    ("huber", losses.Huber, dict(delta=0.5)),
    ("bce", losses.BinaryCrossentropy, {}),
    ("bce", losses.BinaryCrossentropy, dict(label_smoothing=0.2)),
    ("bce", losses.BinaryCrossentropy, dict(from_logits=True)),
    ("bce", losses.BinaryCrossentropy, dict(from_logits=True, label_smoothing=0.1)),
    ("cce", losses.CategoricalCrossentropy, {}),
    ("cce", losses.CategoricalCrossentropy, dict(label_smoothing=0.1)),
    ("cce", losses.CategoricalCrossentropy, dict(from_logits=True)),
    ("cce", losses.CategoricalCrossentropy, dict(from_logits=True, label_smoothing=0.2)),
    ("scce", losses.SparseCategoricalCrossentropy, {}),
    ("scce", losses.SparseCategoricalCrossentropy, dict(from_logits=True)),
]
LOSS_IDS = [f"{kind}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for kind, _, kw in LOSSES]
REDUCTIONS = ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"]
SHAPES = [(1, 3), (7, 5), (33, 2), (2, 4, 3)]


def reference(kind, fn, options, y_true, y_pred, dtype=ember.float64):
    kw = {k: v for k, v in options.items() if k in ("from_logits", "label_smoothing", "delta")}
    if kind == "bce":
        kw["high"] = float(NP[dtype](1 - EPS))
    return fn(y_true, y_pred, **kw)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("kind,cls,options", LOSSES, ids=LOSS_IDS)
def test_forward_matches_keras_formulas(kind, cls, options, dtype):
    rng = np.random.default_rng(0)
    tol = dict(TOL[dtype])
    if dtype == ember.float32:
        tol.update(rtol=1e-5 * 20, atol=1e-5)  # a sum over up to 129 float32 terms, logs near the clip
    for shape in SHAPES:
        y_true, y_pred, fn = case(kind, shape, rng, options.get("from_logits", False))
        per_sample = reference(kind, fn, options, y_true, y_pred, dtype)
        sample_weight = rng.uniform(0, 2, shape[:1])
        for reduction in REDUCTIONS:
            loss = cls(reduction=reduction, **options)
            for sw in (None, sample_weight):
                got = loss(y_true, ember.tensor(y_pred, dtype=dtype), sample_weight=sw)
                want = np_reduce(per_sample, sw, reduction)
                assert got.dtype == dtype
                np.testing.assert_allclose(got.numpy(), want, **tol, err_msg=f"{shape} {reduction} sw={sw is not None}")


@pytest.mark.parametrize("kind,cls,options", LOSSES, ids=LOSS_IDS)
def test_target_forms_and_layouts(kind, cls, options):
    """y_true as NumPy, list or ember tensor, (N,) against (N, 1); a strided y_pred."""
    rng = np.random.default_rng(1)
    y_true, y_pred, fn = case(kind, (9, 1) if kind in ("mse", "mae", "huber", "bce") else (9, 4), rng,
                              options.get("from_logits", False))
    want = np_reduce(reference(kind, fn, options, y_true, y_pred), None, "sum_over_batch_size")
    loss = cls(**options)
    flat_true = y_true.reshape(9) if y_true.shape == (9, 1) else y_true
    for target in (flat_true, flat_true.tolist(), ember.tensor(flat_true), y_true, ember.tensor(y_true)):
        np.testing.assert_allclose(loss(target, ember.tensor(y_pred, dtype=ember.float64)).item(), want, rtol=1e-12)
    np.testing.assert_allclose(loss(y_true, noncontiguous(y_pred)).item(), want, rtol=1e-12)
    if kind == "scce":
        np.testing.assert_allclose(loss(y_true.astype(np.float64)[:, None], ember.tensor(y_pred, dtype=ember.float64)).item(), want,
                                   rtol=1e-12)


def test_per_sample_functions_and_aliases():
    rng = np.random.default_rng(2)
    t, p = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    for fn, ref in ((losses.mse, np_mse), (losses.MSE, np_mse), (losses.mean_absolute_error, np_mae),
                    (losses.mae, np_mae), (losses.huber, np_huber)):
        np.testing.assert_allclose(fn(t, ember.tensor(p)).numpy(), ref(t, p), rtol=1e-12)
    q = probabilities(rng, (5, 3))
    np.testing.assert_allclose(losses.bce((q > 0.3) * 1.0, q).numpy(), np_bce((q > 0.3) * 1.0, q), rtol=1e-6)
    np.testing.assert_allclose(losses.categorical_crossentropy(np.eye(3)[[0, 1, 2, 0, 1]], ember.tensor(q)).numpy(),
                               np_cce(np.eye(3)[[0, 1, 2, 0, 1]], q), rtol=1e-12)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy([0, 1, 2, 0, 1], ember.tensor(p),
                                                                      from_logits=True).numpy(),
                               np_scce(np.array([0, 1, 2, 0, 1]), p, True), rtol=1e-12)


def test_class_axis_and_single_samples():
    rng = np.random.default_rng(3)
    p = probabilities(rng, (6, 3, 4))
    onehot = np.eye(4)[rng.integers(0, 4, (6, 3))]
    got = losses.CategoricalCrossentropy(axis=0, reduction="none")(np.moveaxis(onehot, -1, 0),
                                                                    ember.tensor(np.moveaxis(p, -1, 0)))
    np.testing.assert_allclose(got.numpy(), np_cce(onehot, p), rtol=1e-12)
    logits = rng.standard_normal(5)
    np.testing.assert_allclose(losses.SparseCategoricalCrossentropy(from_logits=True)(2, ember.tensor(logits)).item(),
                               np_cce(np.eye(5)[2], logits, True), rtol=1e-12)
    one_d = losses.MeanSquaredError(reduction="sum")(np.zeros(4), ember.tensor(np.arange(4.0)))
    np.testing.assert_allclose(one_d.item(), np.mean(np.arange(4.0) ** 2))  # Keras: 1-d inputs are one sample


def test_empty_batch_and_masks():
    empty = ember.zeros(0, 3)
    for loss in (losses.MeanSquaredError(), losses.CategoricalCrossentropy(from_logits=True)):
        assert loss(np.zeros((0, 3)), empty).item() == 0.0
    assert losses.SparseCategoricalCrossentropy()(np.zeros(0, np.int64), empty).item() == 0.0
    rng = np.random.default_rng(4)
    logits, labels = rng.standard_normal((6, 4)), np.array([0, 3, -1, 2, -1, 1])
    per_sample = np_scce(np.where(labels < 0, 0, labels), logits, True) * (labels >= 0)
    for reduction in ("sum_over_batch_size", "sum", "none"):
        got = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction=reduction)(labels,
                                                                                                           logits)
        want = {"sum_over_batch_size": per_sample.sum() / 4, "sum": per_sample.sum(), "none": per_sample}
        np.testing.assert_allclose(got.numpy(), want[reduction], rtol=1e-6)


# ---- gradients -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,cls,options", LOSSES, ids=LOSS_IDS)
def test_gradcheck(kind, cls, options):
    rng = np.random.default_rng(5)
    y_true, y_pred, _ = case(kind, (3, 4), rng, options.get("from_logits", False))
    if kind == "bce" and not options.get("from_logits"):
        y_pred = rng.uniform(0.1, 0.9, (3, 4))  # away from the clip, where the loss is smooth
    if kind in ("cce", "scce") and not options.get("from_logits"):
        y_pred = probabilities(rng, (3, 4)) * 3  # unnormalised, inside the clip
    if kind in ("mae", "huber"):
        y_pred = y_true + np.where(rng.uniform(size=(3, 4)) > 0.5, 1, -1) * rng.uniform(0.1, 2.0, (3, 4))
    x = ember.tensor(y_pred, dtype=ember.float64, requires_grad=True)
    sw = rng.uniform(0.5, 2, 3)
    for reduction, weights in (("sum_over_batch_size", None), ("sum", sw), ("none", sw)):
        assert gradcheck(lambda p: cls(reduction=reduction, **options)(y_true, p, sample_weight=weights), (x,),
                         eps=1e-6, atol=1e-7, rtol=1e-5)


def test_no_gradient_through_clipped_probabilities():
    p = ember.tensor([[0.0, 1.0], [0.5, 0.5]], dtype=ember.float64, requires_grad=True)
    losses.BinaryCrossentropy()(np.array([[1.0, 0.0], [1.0, 0.0]]), p).backward()
    g = p.grad.numpy()
    assert np.all(g[0] == 0) and np.all(np.isfinite(g))


TORCH_CASES = [
    ("mse", {}, "mse_loss"), ("mae", {}, "l1_loss"), ("huber", dict(delta=0.7), "huber_loss"),
    ("bce", dict(from_logits=True), "binary_cross_entropy_with_logits"),
    ("cce", dict(from_logits=True, label_smoothing=0.1), "cross_entropy"),
    ("scce", dict(from_logits=True), "cross_entropy"),
]


@pytest.mark.parametrize("kind,options,torch_name", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_gradients_match_torch(kind, options, torch_name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    y_true, y_pred, _ = case(kind, (8, 5), rng, True)
    cls = {"mse": losses.MeanSquaredError, "mae": losses.MeanAbsoluteError, "huber": losses.Huber,
           "bce": losses.BinaryCrossentropy, "cce": losses.CategoricalCrossentropy,
           "scce": losses.SparseCategoricalCrossentropy}[kind]
    x = ember.tensor(y_pred, requires_grad=True)
    loss = cls(**options)(y_true, x)
    loss.backward()
    tx = torch.tensor(y_pred, dtype=torch.float32, requires_grad=True)
    kw = {"huber": dict(delta=0.7), "cce": dict(label_smoothing=0.1)}.get(kind, {})
    tt = torch.tensor(y_true, dtype=torch.long if kind == "scce" else torch.float32)
    want = getattr(torch.nn.functional, torch_name)(tx, tt, **kw)
    want.backward()
    np.testing.assert_allclose(loss.item(), want.item(), **TOL[ember.float32])
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **TOL[ember.float32])


# ---- the API and bad input -----------------------------------------------------------------------------------

def test_names_get_and_configs():
    assert losses.MeanSquaredError().name == "mean_squared_error"
    assert losses.Huber().name == "huber_loss"
    assert losses.SparseCategoricalCrossentropy().name == "sparse_categorical_crossentropy"
    for name, fn in (("mse", losses.mean_squared_error), ("mean_squared_error", losses.mean_squared_error),
                     ("mae", losses.mean_absolute_error), ("binary_crossentropy", losses.binary_crossentropy),
                     ("categorical_crossentropy", losses.categorical_crossentropy),
                     ("sparse_categorical_crossentropy", losses.sparse_categorical_crossentropy),
                     ("huber", losses.huber)):
        assert losses.get(name) is fn
    assert isinstance(losses.get("BinaryCrossentropy"), losses.BinaryCrossentropy)
    assert isinstance(losses.get(losses.Huber), losses.Huber)
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, reduction="sum")
    assert losses.get(loss) is loss and losses.get(None) is None
    back = losses.get(losses.serialize(loss))
    assert type(back) is losses.CategoricalCrossentropy and back.get_config() == loss.get_config()
    assert back.from_logits and back.label_smoothing == 0.1
    wrapped = losses.LossFunctionWrapper(losses.mae, name="m")
    assert losses.LossFunctionWrapper.from_config(wrapped.get_config()).fn is losses.mean_absolute_error
    custom = losses.LossFunctionWrapper(lambda t, p: ((t - p) ** 2).sum(-1))
    np.testing.assert_allclose(custom(np.ones((2, 3)), ember.zeros(2, 3)).item(), 3.0)


def test_custom_loss_subclass():
    class Cubed(losses.Loss):
        def call(self, y_true, y_pred):
            return ((y_pred - y_true) ** 3).mean(-1)

    loss = Cubed(reduction="sum")
    assert loss.name == "cubed"
    np.testing.assert_allclose(loss([[1.0, 2.0]], ember.tensor([[2.0, 4.0]])).item(), 4.5)


def test_bad_input():
    with pytest.raises(ValueError, match=r"y_true of shape \(4, 3\) does not match y_pred of shape \(4, 2\)"):
        losses.MeanSquaredError()(np.zeros((4, 3)), ember.zeros(4, 2))
    with pytest.raises(ValueError, match=r"same shape; received y_true.shape=\(4, 3\), y_pred.shape=\(4, 2\)"):
        losses.CategoricalCrossentropy()(np.zeros((4, 3)), ember.ones(4, 2))
    with pytest.raises(ValueError, match=r"label value of 5 which is outside the valid range of \[0, 3\).*3 classes"):
        losses.SparseCategoricalCrossentropy(from_logits=True)([0, 5, 1], ember.zeros(3, 3))
    with pytest.raises(ValueError, match=r"label value of -1 which is outside the valid range of \[0, 3\)"):
        losses.SparseCategoricalCrossentropy()(np.array([[0], [-1]]), ember.ones(2, 3))
    with pytest.raises(ValueError, match=r"y_true \(class indices\) of shape \(4,\) does not match y_pred of shape "
                                         r"\(3, 5\)"):
        losses.SparseCategoricalCrossentropy()([0, 1, 2, 3], ember.ones(3, 5))
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 'msee'. Did you mean 'mse'.*"
                                         "'sparse_categorical_crossentropy'"):
        losses.get("msee")
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        losses.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\) does not match the per-sample losses of "
                                         r"shape \(4,\)"):
        losses.MeanSquaredError()(np.zeros((4, 2)), ember.zeros(4, 2), sample_weight=[1.0, 2.0, 3.0])
    with pytest.warns(SyntaxWarning, match="num_classes > 1"):
        losses.CategoricalCrossentropy()(np.ones((2, 1)), ember.ones(2, 1))
    with pytest.raises(TypeError, match="got None where y_true"):
        losses.MeanSquaredError()(None, ember.zeros(2))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        losses.BinaryCrossentropy(label_smoothing=2.0)

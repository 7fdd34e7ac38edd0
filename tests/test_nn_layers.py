"""ember.nn layers, activation and loss modules: forward against float64 NumPy or PyTorch, PyTorch's
constructor arguments, init and repr, and the error paths."""
import importlib.util
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
from conftest import FLOAT_DTYPES, NP, TOL, noncontiguous

RNG = np.random.default_rng(7)
HAVE_LOSSES = importlib.util.find_spec("ember.nn._losses") is not None
needs_losses = pytest.mark.skipif(not HAVE_LOSSES, reason="the loss functions (ember.nn._losses) are not on this "
                                                           "build yet")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _check_linear(layer, x):
    """Forward against float64 NumPy; the error bound scales with |x| @ |W|.T + |b| because each output
    is a length-in_features dot product that rounds once per term."""
    out = layer(x)
    x64 = np.asarray(x, dtype=np.float64)
    w64 = layer.weight.numpy().astype(np.float64)
    b64 = layer.bias.numpy().astype(np.float64) if layer.bias is not None else 0.0
    ref = x64 @ w64.T + b64
    assert out.shape == ref.shape and out.dtype == layer.weight.dtype
    tol = TOL[out.dtype]
    bound = tol["rtol"] * (np.abs(x64) @ np.abs(w64).T + np.abs(b64)) + tol["atol"]
    assert np.all(np.abs(out.numpy() - ref) <= bound)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("n_in,n_out", [(1, 1), (7, 33), (33, 7), (129, 5)])
@pytest.mark.parametrize("lead", [(), (4,), (0,), (3, 5)])
def test_linear_forward_matches_numpy(dtype, n_in, n_out, lead):
    layer = nn.Linear(n_in, n_out, dtype=dtype)
    x = RNG.standard_normal(lead + (n_in,)).astype(NP[dtype])
    _check_linear(layer, ember.from_numpy(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_linear_noncontiguous_and_no_bias(dtype):
    layer = nn.Linear(7, 3, bias=False, dtype=dtype)
    assert layer.bias is None and "bias" in layer._parameters and list(layer.state_dict()) == ["weight"]
    x = RNG.standard_normal((5, 7)).astype(NP[dtype])
    _check_linear(layer, noncontiguous(x))
    # leading dims fold into the rows of one product, also when they are strided or empty
    _check_linear(layer, noncontiguous(RNG.standard_normal((4, 3, 7)).astype(NP[dtype])))
    _check_linear(layer, ember.from_numpy(np.zeros((2, 0, 7), NP[dtype])))


def test_linear_init_distribution_and_seed():
    ember.manual_seed(3)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.shape == (300, 400) and b.shape == (300,) and layer.weight.dtype == ember.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-bound, bound): mean 0 and std bound / sqrt(3); 120000 samples put both within a few 1e-3 * bound
    assert abs(w.mean()) < 0.01 * bound and abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.01
    assert abs(b.mean()) < 0.2 * bound
    ember.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(400, 300).weight.numpy(), w)


def test_linear_repr_attributes_and_errors(torch):
    for args in [(3, 4), (3, 4, False), (0, 2)]:
        with pytest.warns(UserWarning, match="zero-element") if 0 in args[:2] else _no_warning():
            assert repr(nn.Linear(*args)) == repr(torch.nn.Linear(*args))
    layer = nn.Linear(4, 3, dtype=ember.float64)
    assert (layer.in_features, layer.out_features, layer.weight.dtype) == (4, 3, ember.float64)
    with pytest.raises(ValueError, match=r"linear: input has 5 features \(shape \(8, 5\)\) but weight expects 4 "
                                         r"\(shape \(3, 4\)\)"):
        layer(ember.zeros(8, 5, dtype=ember.float64))
    with pytest.raises(ValueError, match="non-negative int"):
        nn.Linear(-1, 3)


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("make", [
    lambda nn: nn.Identity(54, unused="x"), lambda nn: nn.Flatten(), lambda nn: nn.Flatten(0, 2),
    lambda nn: nn.Unflatten(1, (2, 6)), lambda nn: nn.Unflatten(-1, [3, -1]), lambda nn: nn.Dropout(),
    lambda nn: nn.Dropout(0.3, inplace=True), lambda nn: nn.ReLU(), lambda nn: nn.ReLU(inplace=True),
    lambda nn: nn.LeakyReLU(), lambda nn: nn.LeakyReLU(0.2, inplace=True), lambda nn: nn.ELU(),
    lambda nn: nn.ELU(alpha=0.5, inplace=True), lambda nn: nn.GELU(), lambda nn: nn.GELU(approximate="tanh"),
    lambda nn: nn.SiLU(), lambda nn: nn.SiLU(inplace=True), lambda nn: nn.Sigmoid(), lambda nn: nn.Tanh(),
    lambda nn: nn.Softplus(), lambda nn: nn.Softplus(beta=2, threshold=10.0), lambda nn: nn.Softmax(dim=1),
    lambda nn: nn.LogSoftmax(dim=-1), lambda nn: nn.Softmax(),
])
def test_layer_repr_and_forward_match_torch(torch, make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    ours.eval(), theirs.eval()
    x = RNG.standard_normal((2, 12, 3))
    with _maybe_warns(ours):
        got = ours(ember.tensor(x))
    with _maybe_warns(theirs):
        expected = theirs(torch.tensor(x)).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-14)


def _maybe_warns(module):
    implicit = getattr(module, "dim", 0) is None  # Softmax() picks a dim and warns, in both libraries
    return pytest.warns(UserWarning, match="Implicit dimension") if implicit else _no_warning()


def test_activation_argument_errors():
    with pytest.raises(ValueError, match="approximate must be"):
        nn.GELU("fast")
    for p in (-0.1, 1.5, True):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            nn.Dropout(p)
    with pytest.raises(TypeError, match="tuple or list of ints"):
        nn.Unflatten(1, 6)
    with pytest.raises(ValueError, match="cannot split dim 1 of size 12"):
        nn.Unflatten(1, (5, 2))(ember.zeros(2, 12))


def test_inplace_activations_write_into_their_input():
    for module in (nn.ReLU(inplace=True), nn.LeakyReLU(0.1, inplace=True), nn.ELU(inplace=True),
                   nn.SiLU(inplace=True)):
        x = ember.tensor([-1.0, 2.0])
        assert module(x) is x and x.tolist()[1] == pytest.approx(module.__class__(inplace=False)(
            ember.tensor([2.0])).item())
        assert x.tolist()[0] != -1.0
    x = ember.ones(100)
    assert nn.Dropout(0.5, inplace=True)(x) is x and set(x.tolist()) <= {0.0, 2.0}


def test_dropout_extremes():
    x = ember.randn(50)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    assert not nn.Dropout(1.0)(x).numpy().any()


# ---- loss modules -------------------------------------------------------------------------------------------

LOSS_CASES = [
    ("MSELoss", {}), ("MSELoss", {"reduction": "sum"}), ("L1Loss", {"reduction": "none"}),
    ("HuberLoss", {"delta": 0.5}), ("SmoothL1Loss", {"beta": 0.5}), ("BCELoss", {}),
    ("BCEWithLogitsLoss", {"pos_weight": [2.0, 0.5, 1.0]}), ("CrossEntropyLoss", {"label_smoothing": 0.1}),
    ("CrossEntropyLoss", {"weight": [1.0, 2.0, 0.5], "ignore_index": 1}), ("NLLLoss", {"reduction": "sum"}),
]


def _loss_args(name, kwargs, lib):
    kwargs = {k: (lib.tensor(v, dtype=lib.float64) if isinstance(v, list) else v) for k, v in kwargs.items()}
    return kwargs


def test_loss_modules_store_arguments_and_buffers(torch):
    for name, kwargs in LOSS_CASES:
        ours = getattr(nn, name)(**_loss_args(name, kwargs, ember))
        theirs = getattr(torch.nn, name)(**_loss_args(name, kwargs, torch))
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        for attr in ("reduction", "ignore_index", "label_smoothing", "delta", "beta"):
            assert getattr(ours, attr, None) == getattr(theirs, attr, None), (name, attr)
    loss = nn.BCEWithLogitsLoss(pos_weight=ember.ones(3))
    assert [n for n, _ in loss.named_buffers()] == ["pos_weight"] and loss.double().pos_weight.dtype == ember.float64


def test_loss_module_errors_and_legacy_arguments():
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(TypeError, match="weight must be an ember.Tensor"):
        nn.CrossEntropyLoss(weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.L1Loss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.NLLLoss(reduce=False).reduction == "none"


def _loss_inputs(name, rng):
    if name in ("CrossEntropyLoss", "NLLLoss"):
        x = rng.standard_normal((6, 3))
        if name == "NLLLoss":
            x = x - np.log(np.exp(x).sum(1, keepdims=True))
        return x, rng.integers(0, 3, 6)
    if name == "BCELoss":
        return rng.uniform(0.05, 0.95, (6, 3)), rng.uniform(0, 1, (6, 3))
    if name == "BCEWithLogitsLoss":
        return rng.standard_normal((6, 3)), rng.uniform(0, 1, (6, 3))
    return rng.standard_normal((6, 3)), rng.standard_normal((6, 3))


@needs_losses
@pytest.mark.parametrize("name,kwargs", LOSS_CASES)
def test_loss_modules_match_torch(torch, name, kwargs):
    x, t = _loss_inputs(name, np.random.default_rng(5))
    ours = getattr(nn, name)(**_loss_args(name, kwargs, ember))(ember.tensor(x), ember.tensor(t))
    theirs = getattr(torch.nn, name)(**_loss_args(name, kwargs, torch))(torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-12)

"""ember.nn.functional and ember.nn.utils against PyTorch (or float64 NumPy), with their error paths."""
import importlib.util
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from conftest import FLOAT_DTYPES, NP, TOL, assert_close

RNG = np.random.default_rng(11)
HAVE_LOSSES = importlib.util.find_spec("ember.nn._losses") is not None


def _ops_differentiable():
    return ember.ones(1).requires_grad_().relu().requires_grad


needs_autograd = pytest.mark.skipif(not _ops_differentiable(),
                                    reason="needs differentiable tensor ops (abs, sum, mul, ...), not on this build "
                                           "yet")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


ACTIVATIONS = [
    ("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}), ("gelu", {}),
    ("gelu", {"approximate": "tanh"}), ("silu", {}), ("sigmoid", {}), ("tanh", {}),
    ("softplus", {"beta": 2.0, "threshold": 5.0}), ("softmax", {"dim": 1}), ("log_softmax", {"dim": -1}),
    ("softmax", {"dim": 0, "dtype": "float64"}),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name,kwargs", ACTIVATIONS)
def test_activations_match_torch(torch, dtype, name, kwargs):
    x = (RNG.standard_normal((7, 33)) * 4).astype(NP[dtype])
    torch_kwargs = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    expected = getattr(torch.nn.functional, name)(torch.from_numpy(x).double(), **torch_kwargs).numpy()
    got = getattr(F, name)(ember.from_numpy(x), **kwargs)
    assert_close(got, expected, dtype=ember.float64 if "dtype" in kwargs else dtype)


def test_activation_inplace_and_errors():
    x = ember.tensor([-2.0, 3.0])
    assert F.relu(x, inplace=True) is not None and x.tolist() == [0.0, 3.0]
    y = ember.tensor([-2.0])
    F.relu_(y)
    assert y.tolist() == [0.0]
    z = ember.tensor([-1.0, 1.0])
    assert F.elu(z, inplace=True) is z and z.tolist()[0] == pytest.approx(math.expm1(-1.0))
    with pytest.raises(TypeError, match="relu: expected an ember.Tensor, got list"):
        F.relu([1.0])
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        F.gelu(x, approximate="erf")
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        assert F.softmax(ember.ones(2, 3)).sum(1).tolist() == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_linear_functional(dtype):
    x = RNG.standard_normal((2, 3, 5)).astype(NP[dtype])
    w = RNG.standard_normal((4, 5)).astype(NP[dtype])
    b = RNG.standard_normal(4).astype(NP[dtype])
    # override: a length-5 dot product rounds up to 5 times in float32
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == ember.float32 else {}
    assert_close(F.linear(ember.from_numpy(x), ember.from_numpy(w), ember.from_numpy(b)),
                 x.astype(np.float64) @ w.T.astype(np.float64) + b, dtype=dtype, **tol)
    assert_close(F.linear(ember.from_numpy(x), ember.from_numpy(w[0])), x.astype(np.float64) @ w[0], **tol)
    with pytest.raises(ValueError, match=r"linear: input has 3 features \(shape \(2, 3\)\) but weight expects 5"):
        F.linear(ember.zeros(2, 3), ember.from_numpy(w))
    with pytest.raises(ValueError, match="input has no features"):
        F.linear(ember.tensor(1.0), ember.zeros(1, 1))
    with pytest.raises(ValueError, match=r"bias has shape \(3,\) but weight .* has 4 output features"):
        F.linear(ember.zeros(2, 5, dtype=dtype), ember.from_numpy(w), ember.zeros(3, dtype=dtype))
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.linear(ember.zeros(2, 5), ember.zeros(1, 4, 5))


def test_flatten():
    assert F.flatten(ember.zeros(2, 3, 4)).shape == (24,)
    assert F.flatten(ember.zeros(2, 3, 4), 1).shape == (2, 12)


# ---- one_hot ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,num_classes", [((5,), -1), ((2, 3), 7), ((), 4), ((0,), 3), ((1, 0, 2), 2)])
def test_one_hot_matches_torch(torch, shape, num_classes):
    high = 4 if num_classes == -1 else num_classes
    idx = RNG.integers(0, high, shape)
    got = F.one_hot(ember.tensor(idx, dtype=ember.int64), num_classes)
    expected = torch.nn.functional.one_hot(torch.from_numpy(idx), num_classes).numpy()
    assert_close(got, expected, dtype=ember.int64)


def test_one_hot_errors():
    with pytest.raises(TypeError, match="expected an int64 .* got ember.int32"):
        F.one_hot(ember.tensor([1], dtype=ember.int32))
    with pytest.raises(TypeError, match="got ember.float32"):
        F.one_hot(ember.tensor([1.0]))
    with pytest.raises(ValueError, match="class values must be non-negative, got -2"):
        F.one_hot(ember.tensor([0, -2]))
    with pytest.raises(ValueError, match="smaller than num_classes=3, got 3"):
        F.one_hot(ember.tensor([3, 1]), 3)
    with pytest.raises(ValueError, match="cannot infer the number of classes from an empty tensor"):
        F.one_hot(ember.tensor([], dtype=ember.int64))
    with pytest.raises(ValueError, match="num_classes must be"):
        F.one_hot(ember.tensor([0]), -3)


# ---- dropout ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9, 1.0])
def test_dropout_mask_scale_and_rate(dtype, p):
    ember.manual_seed(4)
    x = ember.from_numpy(RNG.uniform(1, 2, 20000).astype(NP[dtype]))
    out = F.dropout(x, p)
    kept = out.numpy() != 0
    if p < 1:
        np.testing.assert_allclose(out.numpy()[kept], x.numpy()[kept] / (1 - p), **TOL[dtype])
    # binomial(20000, 1 - p): 5 standard deviations
    assert abs(kept.mean() - (1 - p)) <= 5 * math.sqrt(p * (1 - p) / 20000) + 1e-12
    ember.manual_seed(4)
    np.testing.assert_array_equal(F.dropout(x, p).numpy(), out.numpy())


def test_dropout_arguments():
    x = ember.ones(3)
    assert F.dropout(x, 0.5, training=False) is x
    for p in (-0.5, 2, "0.1", None):
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            F.dropout(x, p)
    with pytest.raises(TypeError, match="floating-point input"):
        F.dropout(ember.arange(3), 0.5)


def test_dropout_keeps_where_rand_is_below_keep_probability():
    # the kernel's documented mapping of the random stream: keep element i when rand()[i] < 1 - p
    x = ember.randn(1001)
    ember.manual_seed(8)
    out = F.dropout(x, 0.3)
    ember.manual_seed(8)
    keep = (ember.rand(1001) < 0.7).numpy()
    np.testing.assert_allclose(out.numpy(), np.where(keep, x.numpy() / np.float32(0.7), 0), **TOL[ember.float32])


@needs_autograd
def test_dropout_backward_applies_the_mask():
    x = ember.ones(500, dtype=ember.float64).requires_grad_()
    out = F.dropout(x, 0.25)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), out.detach().numpy())  # d out_i / d x_i = out_i / x_i, x = 1


def test_losses_are_reexported_or_clearly_absent():
    names = ["cross_entropy", "nll_loss", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss",
             "binary_cross_entropy", "binary_cross_entropy_with_logits"]
    if HAVE_LOSSES:
        assert all(n in F.__all__ and callable(getattr(F, n)) for n in names)
    else:
        assert not set(names) & set(F.__all__)
        with pytest.raises(AttributeError, match="not part of this installation"):
            F.mse_loss
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        F.nope


# ---- utils ------------------------------------------------------------------------------------------------

def _params_with_grads(torch, shapes, scale=1.0):
    ours, theirs = [], []
    for shape in shapes:
        g = np.asarray(RNG.standard_normal(shape) * scale)
        p = nn.Parameter(ember.zeros(*shape, dtype=ember.float64))
        p.grad = ember.tensor(g)
        q = torch.nn.Parameter(torch.zeros(shape, dtype=torch.float64))
        q.grad = torch.tensor(g)
        ours.append(p), theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.5, 0.5])
@pytest.mark.parametrize("max_norm", [0.1, 1e6])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    ours, theirs = _params_with_grads(torch, [(3, 4), (7,), (), (2, 1, 3)])
    ours.append(nn.Parameter(ember.zeros(2)))  # no grad: ignored
    grads_before = [p.grad for p in ours[:-1]]
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.ndim == 0
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    for p, q, g in zip(ours, theirs, grads_before):
        assert p.grad is g  # scaled in place
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_norm_edge_cases(torch):
    assert nn.utils.clip_grad_norm_([nn.Parameter(ember.zeros(2))], 1.0).item() == 0.0
    single = nn.Parameter(ember.zeros(2, dtype=ember.float64))
    single.grad = ember.tensor([3.0, 4.0], dtype=ember.float64)
    assert nn.utils.clip_grad_norm_(single, 1.0).item() == pytest.approx(5.0)
    assert single.grad.tolist() == pytest.approx([0.6, 0.8], rel=1e-5)
    ours, theirs = _params_with_grads(torch, [(3,)])
    ours[0].grad[1] = math.nan
    theirs[0].grad[1] = math.nan
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is non-finite"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    total = nn.utils.clip_grad_norm_(ours, 1.0)
    torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert math.isnan(total.item()) and np.isnan(ours[0].grad.numpy()).all() == np.isnan(theirs[0].grad.numpy()).all()
    with pytest.raises(TypeError, match="element 0 is list"):
        nn.utils.clip_grad_norm_([[1.0]], 1.0)


def test_clip_grad_value_matches_torch(torch):
    ours, theirs = _params_with_grads(torch, [(5, 3), (4,)], scale=2.0)
    nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_parameters_vector_round_trip():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1, bias=False))
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (3 * 2 + 2 + 2,)
    np.testing.assert_array_equal(vec.numpy(), np.concatenate([p.numpy().ravel() for p in model.parameters()]))
    weights_before = [p for p in model.parameters()]
    nn.utils.vector_to_parameters(vec * 2, model.parameters())
    assert all(p is q for p, q in zip(model.parameters(), weights_before))
    np.testing.assert_allclose(nn.utils.parameters_to_vector(model.parameters()).numpy(), vec.numpy() * 2)
    with pytest.raises(ValueError, match="vec has 3 elements but the parameters hold 10"):
        nn.utils.vector_to_parameters(ember.zeros(3), model.parameters())
    with pytest.raises(TypeError, match="expected an ember.Tensor, but got: ndarray"):
        nn.utils.vector_to_parameters(np.zeros(10), model.parameters())


def test_l1_penalty_value():
    a = nn.Parameter(ember.tensor([[1.0, -2.0]]))
    b = nn.Parameter(ember.tensor([-0.5]))
    assert nn.utils.l1_penalty([a, b]).item() == pytest.approx(3.5)
    with pytest.raises(ValueError, match="no parameters"):
        nn.utils.l1_penalty([])


@needs_autograd
def test_l1_penalty_gradient_is_sign():
    w = nn.Parameter(ember.tensor([1.5, -2.0, 0.25], dtype=ember.float64))
    (0.1 * nn.utils.l1_penalty([w])).backward()
    np.testing.assert_allclose(w.grad.numpy(), [0.1, -0.1, 0.1])

"""Activation backward kernels (_C.<op>_backward) and dropout: float64 NumPy references of each
derivative over the shape zoo, PyTorch's gradients (torch.autograd.grad of the forward), strided
grad and saved tensors, the kinks, NaN / inf and large |x|, every CPU capability path against the
generic one, central differences of the forward ops, and the dropout mask's statistics and
reproducibility."""
import math
import threading

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from conftest import (FLOAT_DTYPES, NP, SHAPE_ZOO, TOL, assert_close, capabilities, noncontiguous,
                      run_under_capability)

C = ember._C
_erfc = np.vectorize(math.erfc, otypes=[np.float64])

LEAKY_SLOPE, ELU_ALPHA, SOFTPLUS_BETA, SOFTPLUS_THRESHOLD = 0.1, 1.5, 2.0, 3.0
CLAMP_MIN, CLAMP_MAX = -0.5, 0.75


# ---- float64 references of each derivative, from x (or from the forward's output) -----------------
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _gelu_grad(x):
    return 0.5 * _erfc(-x / np.sqrt(2)) + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def _gelu_tanh_grad(x):
    k = np.sqrt(2 / np.pi)
    t = np.tanh(k * (x + 0.044715 * x ** 3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)


def _clamp_grad(x, dtype):
    # PyTorch compares x with the bounds in x's dtype: a float32 tensor meets float32(0.75).
    lo, hi = NP[dtype](CLAMP_MIN), NP[dtype](CLAMP_MAX)
    return ((x >= lo) & (x <= hi)).astype(np.float64)


# name -> (ember backward(grad, saved), ember forward, saved: "out" or "x", d forward / dx as a
# float64 function of (saved, dtype))
OPS = {
    "relu": (C.relu_backward, C.relu, "out", lambda out, dt: np.where(out <= 0, 0.0, 1.0)),
    "sigmoid": (C.sigmoid_backward, C.sigmoid, "out", lambda out, dt: (1 - out) * out),
    "tanh": (C.tanh_backward, C.tanh, "out", lambda out, dt: 1 - out * out),
    "leaky_relu": (lambda g, x: C.leaky_relu_backward(g, x, LEAKY_SLOPE), lambda x: C.leaky_relu(x, LEAKY_SLOPE),
                   "x", lambda x, dt: np.where(x > 0, 1.0, LEAKY_SLOPE)),
    "elu": (lambda g, x: C.elu_backward(g, x, ELU_ALPHA), lambda x: C.elu(x, ELU_ALPHA),
            "x", lambda x, dt: np.where(x > 0, 1.0, ELU_ALPHA * np.exp(x))),
    "gelu": (C.gelu_backward, C.gelu, "x", lambda x, dt: _gelu_grad(x)),
    "gelu_tanh": (lambda g, x: C.gelu_backward(g, x, "tanh"), lambda x: C.gelu(x, "tanh"),
                  "x", lambda x, dt: _gelu_tanh_grad(x)),
    "silu": (C.silu_backward, C.silu, "x", lambda x, dt: _sigmoid(x) * (1 + x * (1 - _sigmoid(x)))),
    "softplus": (lambda g, x: C.softplus_backward(g, x, SOFTPLUS_BETA, SOFTPLUS_THRESHOLD),
                 lambda x: C.softplus(x, SOFTPLUS_BETA, SOFTPLUS_THRESHOLD), "x",
                 lambda x, dt: np.where(x * SOFTPLUS_BETA > SOFTPLUS_THRESHOLD, 1.0, _sigmoid(SOFTPLUS_BETA * x))),
    "clamp": (lambda g, x: C.clamp_backward(g, x, CLAMP_MIN, CLAMP_MAX), lambda x: C.clamp(x, CLAMP_MIN, CLAMP_MAX),
              "x", _clamp_grad),
}
NAMES = sorted(OPS)


def _torch_forward(name):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    return {
        "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
        "leaky_relu": lambda x: F.leaky_relu(x, LEAKY_SLOPE), "elu": lambda x: F.elu(x, ELU_ALPHA),
        "gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": F.silu,
        "softplus": lambda x: F.softplus(x, SOFTPLUS_BETA, SOFTPLUS_THRESHOLD),
        "clamp": lambda x: torch.clamp(x, CLAMP_MIN, CLAMP_MAX),
    }[name]


def _torch_grad(name, x, g):
    """PyTorch's gradient of the forward at x (NumPy arrays), by autograd."""
    torch = pytest.importorskip("torch")
    tx = torch.tensor(x, requires_grad=True)
    (gx,) = torch.autograd.grad(_torch_forward(name)(tx), tx, torch.tensor(g))
    return gx.numpy()


def _random(shape, dtype, seed, scale=3.0):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * scale, dtype=NP[dtype])


def _saved(name, x):
    """The tensor the forward saves: x itself, or the forward's output computed by ember."""
    return x if OPS[name][2] == "x" else OPS[name][1](x)


def _run(name, g, x):
    """(ember's grad_input, float64 reference) for NumPy grad g and input x."""
    backward, _, _, derivative = OPS[name]
    saved = _saved(name, ember.from_numpy(x))
    saved_np = saved.numpy().astype(np.float64)
    dtype = saved.dtype
    with np.errstate(all="ignore"):
        expected = g.astype(np.float64) * derivative(saved_np, dtype)
    return backward(ember.from_numpy(g), saved), expected


# ---- values --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_values_over_shape_zoo(name, dtype):
    for i, shape in enumerate(SHAPE_ZOO):
        x, g = _random(shape, dtype, 2 * i), _random(shape, dtype, 2 * i + 1, scale=1.0)
        out, expected = _run(name, g, x)
        assert out.is_contiguous() and out.shape == shape
        assert_close(out, expected, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_matches_torch_autograd(name, dtype):
    for i, shape in enumerate([(), (1,), (0,), (7,), (33,), (129,), (7, 33), (3, 0)]):
        x, g = _random(shape, dtype, 50 + i), _random(shape, dtype, 80 + i, scale=1.0)
        out, _ = _run(name, g, x)
        assert_close(out, _torch_grad(name, x, g), dtype=dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_strided_grad_and_saved(name, dtype):
    backward = OPS[name][0]
    for shape in [(7, 33), (4, 1, 5), (65, 129)]:
        x, g = _random(shape, dtype, 7), _random(shape, dtype, 8, scale=1.0)
        contiguous_result, expected = _run(name, g, x)
        saved = _saved(name, ember.from_numpy(x)).numpy()
        for grad_view, saved_view in [(noncontiguous(g), ember.from_numpy(saved)),
                                      (ember.from_numpy(g), noncontiguous(saved)),
                                      (noncontiguous(g), noncontiguous(saved)),
                                      (ember.from_numpy(np.ascontiguousarray(g.T)).T, noncontiguous(saved))]:
            out = backward(grad_view, saved_view)
            assert out.is_contiguous()
            assert_close(out, expected, dtype=dtype)
            np.testing.assert_array_equal(out.numpy(), contiguous_result.numpy())


@pytest.mark.parametrize("name", ["relu", "sigmoid", "gelu", "gelu_tanh", "silu", "clamp"])
def test_large_input_runs_threaded_and_matches(name):
    # Beyond the grain, rows are split over threads; every chunk must be right, tails included.
    for shape, seed in [((100_003,), 20), ((301, 333), 21)]:
        x, g = _random(shape, ember.float32, seed), _random(shape, ember.float32, seed + 1, scale=1.0)
        out, expected = _run(name, g, x)
        assert_close(out, expected, dtype=ember.float32)
    xs, gs = _random((301, 333), ember.float32, 22), _random((301, 333), ember.float32, 23, scale=1.0)
    assert_close(OPS[name][0](noncontiguous(gs), _saved(name, noncontiguous(xs))), _run(name, gs, xs)[1])


def _layout(a, how):
    """`a`'s values as a contiguous tensor, a strided slice, or all dims reversed (a transposed view)."""
    if how == "strided":
        return noncontiguous(a)
    if how == "reversed":
        return ember.from_numpy(a.T.copy()).T  # (ascontiguousarray would make a 0-d array 1-d)
    return ember.from_numpy(a)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 9), max_size=3).map(tuple), name=st.sampled_from(NAMES),
       dtype=st.sampled_from(FLOAT_DTYPES), grad_layout=st.sampled_from(["contiguous", "strided", "reversed"]),
       saved_layout=st.sampled_from(["contiguous", "strided", "reversed"]), seed=st.integers(0, 2 ** 16))
def test_any_layout_matches_reference(shape, name, dtype, grad_layout, saved_layout, seed):
    x, g = _random(shape, dtype, seed), _random(shape, dtype, seed + 1, scale=1.0)
    _, expected = _run(name, g, x)
    saved = _saved(name, ember.from_numpy(x)).numpy()
    assert_close(OPS[name][0](_layout(g, grad_layout), _layout(saved, saved_layout)), expected, dtype=dtype)


def test_kernels_run_concurrently_from_python_threads():
    # The kernels release the GIL; calls from several threads must not disturb one another.
    x, g = _random((200_000,), ember.float32, 24), _random((200_000,), ember.float32, 25, scale=1.0)
    expected = _run("gelu", g, x)[1]
    tx, tg = ember.from_numpy(x), ember.from_numpy(g)
    results = [None] * 4

    def work(k):
        results[k] = C.gelu_backward(tg, tx)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert_close(r, expected, dtype=ember.float32)


# ---- kinks, NaN, inf, large |x| ---------------------------------------------------------------------------
SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, CLAMP_MIN, CLAMP_MAX, 1e-30, -1e-30, 0.5, -0.75, 5.0, -5.0,
            20.0, -20.0, 100.0, -100.0, 1e4, -1e4, 1e10, -1e10, 1e30, -1e30]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_specials_match_torch(name, dtype):
    # 128 elements, a whole number of PyTorch's unrolled vector steps, so it runs no scalar tail:
    # its vector body and its tail disagree on elu_backward(NaN) (NaN vs grad), and ember follows
    # the vector body, what nearly every element of a real tensor sees.
    x = np.resize(np.array(SPECIALS, dtype=NP[dtype]), 128)
    g = np.linspace(-2, 2, x.size).astype(NP[dtype])
    out, _ = _run(name, g, x)
    assert_close(out, _torch_grad(name, x, g), dtype=dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_kinks_take_pytorch_side(dtype):
    t = lambda values: ember.from_numpy(np.array(values, dtype=NP[dtype]))
    g = t([3.0, 3.0, 3.0, 3.0])
    x = t([0.0, -0.0, np.nan, 1.0])
    np.testing.assert_array_equal(C.relu_backward(g, C.relu(x)).numpy(), [0, 0, 3, 3])  # NaN out passes
    np.testing.assert_array_equal(C.leaky_relu_backward(g, x, 0.25).numpy(), [0.75, 0.75, 0.75, 3])
    np.testing.assert_array_equal(C.elu_backward(g, x, 2.0).numpy(), [6, 6, np.nan, 3])
    assert_close(C.gelu_backward(g, x), [1.5, 1.5, np.nan, 3 * _gelu_grad(1.0)])
    # softplus: grad itself only strictly past the threshold (beta x > 20), sigmoid(20) at it
    assert_close(C.softplus_backward(g, t([0.0, -1.0, 20.0, 20.5])), 3 * _sigmoid(np.array([0.0, -1.0, 20.0, 1e9])))
    # clamp: a bound equal to x passes the gradient; NaN, and x outside, get 0; None is no bound
    xc = t([-1.0, -1.0 - 1e-6, 1.0, 1.0 + 1e-6])
    np.testing.assert_array_equal(C.clamp_backward(g, xc, -1.0, 1.0).numpy(), [3, 0, 3, 0])
    np.testing.assert_array_equal(C.clamp_backward(g, t([np.nan, -np.inf, np.inf, 0]), None, 1.0).numpy(),
                                  [0, 3, 0, 3])
    np.testing.assert_array_equal(C.clamp_backward(g, t([np.nan, -np.inf, np.inf, 0]), -1.0, None).numpy(),
                                  [0, 0, 3, 3])
    np.testing.assert_array_equal(C.clamp_backward(g, x, 1.0, -1.0).numpy(), [0, 0, 0, 0])  # min > max


@pytest.mark.parametrize("name", ["elu", "gelu", "gelu_tanh", "silu", "softplus"])
def test_float32_vector_formulas_over_wide_range(name):
    # These run vectorised exp / erfc polynomials in float32: check them densely, not only at the zoo's values.
    x = np.concatenate([np.linspace(-87, 88, 20011), np.linspace(-3, 3, 6001), np.geomspace(1e-30, 1, 500),
                        -np.geomspace(1e-30, 1, 500)]).astype(np.float32)
    out, expected = _run(name, np.ones_like(x), x)
    assert_close(out, expected, dtype=ember.float32)


def test_large_magnitudes_stay_finite_where_the_derivative_is():
    # gelu / silu / softplus saturate to 0 or 1 without inf * 0 for finite x; float32 gelu(tanh)
    # turns NaN only once x * x overflows (|x| > 1.8e19), as PyTorch's does.
    x = np.array([-1e18, -1e4, -100.0, -30.0, 30.0, 100.0, 1e4, 1e18], dtype=np.float32)
    g = ember.from_numpy(np.ones_like(x))
    ex = ember.from_numpy(x)
    limits = (x > 0).astype(np.float64)
    for out in [C.gelu_backward(g, ex), C.gelu_backward(g, ex, "tanh"), C.silu_backward(g, ex),
                C.softplus_backward(g, ex), C.softplus_backward(g, ex, 1.0, 1000.0)]:
        np.testing.assert_allclose(out.numpy(), limits, atol=1e-6)


def test_softplus_large_threshold_does_not_overflow():
    # PyTorch's z / (z + 1) with z = e^(beta x) is inf / inf = NaN for float32 x = 100 once the
    # threshold is above it; the derivative there is 1.
    x = ember.from_numpy(np.array([100.0, -100.0, 0.0], dtype=np.float32))
    g = ember.from_numpy(np.ones(3, dtype=np.float32))
    assert_close(C.softplus_backward(g, x, 1.0, 1000.0), [1.0, 0.0, 0.5])


# ---- every CPU capability path agrees with the generic one -------------------------------------------------
_PARITY_SCRIPT = """
import numpy as np, ember
C = ember._C
rng = np.random.default_rng(0)
specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, 20.0, -20.0, 100.0, -100.0, 1e30, -1e30]
x64 = np.concatenate([rng.standard_normal(1031) * 4, specials])
g64 = rng.standard_normal(x64.size)
outs = []
for dtype in (np.float32, np.float64):
    x, g = ember.from_numpy(x64.astype(dtype)), ember.from_numpy(g64.astype(dtype))
    outs += [C.relu_backward(g, C.relu(x)), C.sigmoid_backward(g, C.sigmoid(x)), C.tanh_backward(g, C.tanh(x)),
             C.leaky_relu_backward(g, x, 0.1), C.elu_backward(g, x, 1.5), C.gelu_backward(g, x),
             C.gelu_backward(g, x, "tanh"), C.silu_backward(g, x), C.softplus_backward(g, x, 2.0, 3.0),
             C.clamp_backward(g, x, -0.5, 0.75)]
    ember.manual_seed(7)
    out, mask = C.dropout(x, 0.3)
    outs += [out, mask, C.dropout_backward(g, mask, 0.3)]
print(ember._C.cpu_capability())
print(np.concatenate([o.numpy().astype(np.float64).ravel() for o in outs]).tobytes().hex())
"""


def test_capability_paths_agree_with_generic():
    results = {}
    for cap in capabilities():
        name, payload = run_under_capability(cap, _PARITY_SCRIPT).split()
        assert name == cap
        results[cap] = np.frombuffer(bytes.fromhex(payload), dtype=np.float64)
    generic = results["default"]
    for cap, values in results.items():
        # A few ulps apart at most: FMA contraction in the wider paths may round differently.
        np.testing.assert_allclose(values, generic, rtol=4 * TOL[ember.float32]["rtol"],
                                   atol=TOL[ember.float32]["atol"], equal_nan=True,
                                   err_msg=f"capability {cap} disagrees with the generic path")


# ---- central differences of the forward ops, in float64 -------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_central_differences_of_forward(name):
    backward, forward = OPS[name][0], OPS[name][1]
    x = _random((257,), ember.float64, 30)
    # Keep a margin from the kinks (0 and the clamp bounds), where the difference straddles them.
    for kink in (0.0, CLAMP_MIN, CLAMP_MAX):
        x = np.where(np.abs(x - kink) < 1e-3, x + 1e-2, x)
    g = _random((257,), ember.float64, 31, scale=1.0)
    eps = 1e-6
    plus, minus = forward(ember.from_numpy(x + eps)).numpy(), forward(ember.from_numpy(x - eps)).numpy()
    numeric = g * (plus - minus) / (2 * eps)
    analytic = backward(ember.from_numpy(g), _saved(name, ember.from_numpy(x)))
    # Central differences: O(eps^2) truncation plus rounding of f(x) / eps, about 1e-10 absolute.
    assert_close(analytic, numeric, rtol=1e-7, atol=1e-8)


# ---- errors ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_errors_name_the_op_and_the_arguments(name):
    backward, _, saved_name, _ = OPS[name]
    op = "gelu_backward" if name == "gelu_tanh" else f"{name}_backward"
    f32 = lambda shape: ember.from_numpy(np.zeros(shape, dtype=np.float32))
    shapes = r"\(3,\) and \(2, 3\)"
    with pytest.raises(ValueError, match=rf"{op}: grad and {saved_name} must have the same shape, got {shapes}"):
        backward(f32((3,)), f32((2, 3)))
    with pytest.raises(TypeError, match=f"{op}: grad and {saved_name} must have the same dtype, got float32 and float64"):
        backward(f32((3,)), ember.from_numpy(np.zeros(3)))
    for dtype in [np.int64, np.int32, np.bool_]:
        i = ember.from_numpy(np.zeros(3, dtype=dtype))
        with pytest.raises(TypeError, match=f"{op}: expected float32 or float64 tensors, got {np.dtype(dtype).name}"):
            backward(i, i)
    with pytest.raises(TypeError, match=f"{op}: expected a tensor for grad, got list"):
        backward([1.0], f32((1,)))


def test_argument_errors():
    t = ember.from_numpy(np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="gelu_backward: approximate must be 'none' or 'tanh', got 'erf'"):
        C.gelu_backward(t, t, "erf")
    with pytest.raises(ValueError, match="clamp_backward: at least one of min and max must be given"):
        C.clamp_backward(t, t, None, None)


# ---- dropout -------------------------------------------------------------------------------------------------------
def _dropout(x, p, seed):
    ember.manual_seed(seed)
    out, mask = C.dropout(x, p)
    return out.numpy(), mask.numpy()


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_keep_fraction_and_scaling(p):
    n = 1 << 20
    x = _random((n,), ember.float32, 40)
    out, mask = _dropout(ember.from_numpy(x), p, seed=p * 100)
    assert mask.dtype == np.bool_ and mask.shape == (n,)
    assert abs(mask.mean() - (1 - p)) < 5 * math.sqrt(p * (1 - p) / n)  # five standard deviations
    np.testing.assert_array_equal(out, x * mask / (1 - p))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_dropout_over_shape_zoo_and_strided_input(dtype):
    for i, shape in enumerate(SHAPE_ZOO):
        x = _random(shape, dtype, 60 + i)
        for tensor in (ember.from_numpy(x), noncontiguous(x)):
            out, mask = _dropout(tensor, 0.25, seed=i)
            assert out.shape == shape and mask.shape == shape and out.dtype == NP[dtype]
            np.testing.assert_array_equal(out, x * mask / (1 - 0.25))
        # A strided view and its contiguous copy draw the same mask (elements in row-major order).
        np.testing.assert_array_equal(_dropout(noncontiguous(x), 0.25, seed=i)[1],
                                      _dropout(ember.from_numpy(x), 0.25, seed=i)[1])


def test_dropout_mask_is_rand_below_keep_probability():
    # One stream: the mask of dropout(x, p) is rand(shape) < 1 - p drawn at the same point.
    ember.manual_seed(3)
    uniform = ember.rand(1001).numpy().astype(np.float64)
    _, mask = _dropout(ember.from_numpy(np.ones(1001, dtype=np.float32)), 0.3, seed=3)
    np.testing.assert_array_equal(mask, uniform < 1 - 0.3)


def test_dropout_seed_repeats_and_stream_advances():
    x = ember.from_numpy(np.ones((64, 65), dtype=np.float32))
    ember.manual_seed(11)
    first, second = C.dropout(x, 0.5)[1].numpy(), C.dropout(x, 0.5)[1].numpy()
    assert (first != second).any()  # consecutive calls draw fresh masks
    ember.manual_seed(11)
    np.testing.assert_array_equal(C.dropout(x, 0.5)[1].numpy(), first)
    np.testing.assert_array_equal(C.dropout(x, 0.5)[1].numpy(), second)


def test_dropout_mask_does_not_depend_on_thread_count():
    x = ember.from_numpy(np.ones(300_001, dtype=np.float64))  # past the grain: several chunks
    threads = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        one = _dropout(x, 0.4, seed=5)
        ember.set_num_threads(2)
        two = _dropout(x, 0.4, seed=5)
    finally:
        ember.set_num_threads(threads)
    np.testing.assert_array_equal(one[1], two[1])
    np.testing.assert_array_equal(one[0], two[0])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_dropout_p_zero_keeps_all_and_p_one_zeros(dtype):
    x = _random((1000,), dtype, 70)
    out, mask = _dropout(ember.from_numpy(x), 0.0, seed=1)
    assert mask.all()
    np.testing.assert_array_equal(out, x)
    out, mask = _dropout(ember.from_numpy(x), 1.0, seed=1)
    assert not mask.any()
    np.testing.assert_array_equal(out, np.zeros_like(x))
    g = ember.from_numpy(x)
    np.testing.assert_array_equal(C.dropout_backward(g, ember.from_numpy(mask), 1.0).numpy(), np.zeros_like(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_dropout_backward(dtype):
    for i, shape in enumerate(SHAPE_ZOO):
        g = _random(shape, dtype, 90 + i)
        mask = np.asarray(np.random.default_rng(i).random(shape) < 0.6)  # 0-d: an array, not np.bool_
        expected = g * mask / (1 - 0.4)
        for grad_t, mask_t in [(ember.from_numpy(g), ember.from_numpy(mask)), (noncontiguous(g), noncontiguous(mask))]:
            out = C.dropout_backward(grad_t, mask_t, 0.4)
            assert out.is_contiguous() and out.dtype == dtype
            np.testing.assert_array_equal(out.numpy(), expected)


def test_dropout_backward_matches_central_differences():
    # With the mask fixed by the seed, dropout is linear in x: central differences are exact up to rounding.
    x, g = _random((513,), ember.float64, 100), _random((513,), ember.float64, 101, scale=1.0)
    eps = 1e-6
    plus = _dropout(ember.from_numpy(x + eps), 0.3, seed=9)[0]
    minus = _dropout(ember.from_numpy(x - eps), 0.3, seed=9)[0]
    mask = _dropout(ember.from_numpy(x), 0.3, seed=9)[1]
    analytic = C.dropout_backward(ember.from_numpy(g), ember.from_numpy(mask), 0.3)
    assert_close(analytic, g * (plus - minus) / (2 * eps), rtol=1e-7, atol=1e-8)  # rounding of x +- eps


def test_dropout_errors():
    x = ember.from_numpy(np.zeros(4, dtype=np.float32))
    for p in [-0.1, 1.5, float("nan")]:
        with pytest.raises(ValueError, match=r"dropout: dropout probability p must lie in \[0, 1\], got p="):
            C.dropout(x, p)
        with pytest.raises(ValueError, match=r"dropout_backward: dropout probability p must lie in \[0, 1\]"):
            C.dropout_backward(x, ember.from_numpy(np.ones(4, dtype=bool)), p)
    with pytest.raises(TypeError, match="dropout: expected a float32 or float64 tensor for x, got int64"):
        C.dropout(ember.from_numpy(np.zeros(4, dtype=np.int64)), 0.5)
    with pytest.raises(TypeError, match="dropout_backward: mask must be a bool tensor .*, got float32"):
        C.dropout_backward(x, x, 0.5)
    with pytest.raises(TypeError, match="dropout_backward: expected a float32 or float64 tensor for grad, got bool"):
        C.dropout_backward(ember.from_numpy(np.ones(4, dtype=bool)), ember.from_numpy(np.ones(4, dtype=bool)), 0.5)
    with pytest.raises(ValueError, match=r"dropout_backward: grad and mask must have the same shape, got \(4,\) and \(2, 2"):
        C.dropout_backward(x, ember.from_numpy(np.ones((2, 2), dtype=bool)), 0.5)
    with pytest.raises(TypeError, match="dropout: expected a tensor for x, got float"):
        C.dropout(1.0, 0.5)


def test_bench_activation_backward_validates_and_reports_rates():
    from ember.bench.elementwise import bench_activation_backward
    rows = bench_activation_backward(sizes=(1 << 12,), quick=True)
    assert [r["bench"] for r in rows] == ["elementwise.relu_backward", "elementwise.gelu_backward",
                                          "elementwise.gelu_tanh_backward"]
    assert all(r["unit"] == "GB/s" and r["ember"] > 0 for r in rows)
    assert rows[0]["numpy"] > 0 and rows[1]["numpy"] is None  # NumPy has no erf

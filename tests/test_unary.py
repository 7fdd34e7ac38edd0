"""Unary elementwise ops against float64 NumPy references: values over the shape zoo, strided
inputs, the dtype each op gives (PyTorch's rules), NaN / inf, in-place forms and error messages."""
import math

import numpy as np
import pytest

import ember
from conftest import FLOAT_DTYPES, NP, SHAPE_ZOO, TOL, assert_close, noncontiguous

_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _gelu_tanh(x):
    u = np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)
    return x / (1 + np.exp(-2 * u))  # 0.5 x (1 + tanh u), without cancellation for x << 0


def _softplus(x, beta, threshold):
    return np.where(x * beta > threshold, x, np.log1p(np.exp(x * beta)) / beta)


# name -> (ember function, float64 reference, input domain: 'real', 'positive' or 'above_minus_one')
OPS = {
    "neg": (ember.neg, np.negative, "real"),
    "abs": (ember.abs, np.abs, "real"),
    "sign": (ember.sign, np.sign, "real"),
    "exp": (ember.exp, np.exp, "real"),
    "log": (ember.log, np.log, "positive"),
    "log1p": (ember.log1p, np.log1p, "above_minus_one"),
    "sqrt": (ember.sqrt, np.sqrt, "positive"),
    "rsqrt": (ember.rsqrt, lambda x: 1 / np.sqrt(x), "positive"),
    "sin": (ember.sin, np.sin, "real"),
    "cos": (ember.cos, np.cos, "real"),
    "tanh": (ember.tanh, np.tanh, "real"),
    "sigmoid": (ember.sigmoid, lambda x: 1 / (1 + np.exp(-x)), "real"),
    "relu": (ember.relu, lambda x: np.maximum(x, 0), "real"),
    "silu": (ember.silu, lambda x: x / (1 + np.exp(-x)), "real"),
    "leaky_relu": (lambda x: ember.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x), "real"),
    "elu": (lambda x: ember.elu(x, 1.5), lambda x: np.where(x > 0, x, 1.5 * np.expm1(x)), "real"),
    "gelu": (ember.gelu, lambda x: 0.5 * x * _erfc(-x / np.sqrt(2)), "real"),
    "gelu_tanh": (lambda x: ember.gelu(x, "tanh"), _gelu_tanh, "real"),
    "softplus": (lambda x: ember.softplus(x, 2.0, 3.0), lambda x: _softplus(x, 2.0, 3.0), "real"),
    "clamp": (lambda x: ember.clamp(x, -0.5, 0.75), lambda x: np.clip(x, -0.5, 0.75), "real"),
}


def _inputs(shape, domain, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3
    if domain == "positive":
        x = np.abs(x) + 0.01
    elif domain == "above_minus_one":
        x = np.abs(x) - 0.99
    return np.asarray(x, dtype=NP[dtype])


def _reference(name, x):
    return OPS[name][1](np.asarray(x, dtype=np.float64))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", sorted(OPS))
def test_values_over_shape_zoo(name, dtype):
    fn, _, domain = OPS[name]
    for shape in SHAPE_ZOO:
        x = _inputs(shape, domain, dtype)
        out = fn(ember.from_numpy(x))
        assert out.shape == shape, f"{name}{shape}: shape {out.shape}"
        assert_close(out, _reference(name, x), dtype=dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", sorted(OPS))
def test_strided_input(name, dtype):
    fn, _, domain = OPS[name]
    for shape in [(7, 33), (4, 1, 5), (65, 129)]:
        x = _inputs(shape, domain, dtype, seed=1)
        assert_close(fn(noncontiguous(x)), _reference(name, x), dtype=dtype)
        xt = np.ascontiguousarray(x.T)  # a transposed view: strides reversed
        assert_close(fn(ember.from_numpy(xt).T), _reference(name, x), dtype=dtype)


# float32 exp, log, tanh, sigmoid, gelu, ... run vectorised polynomial code: check it densely over
# the whole range where results are normal numbers, not only around the shape zoo's values.
WIDE = {
    "real": np.concatenate([np.linspace(-87, 88, 20011), np.linspace(-2, 2, 4001),
                            np.geomspace(1e-30, 1, 1000), -np.geomspace(1e-30, 1, 1000)]),
    "positive": np.concatenate([np.geomspace(1.2e-38, 3e38, 20011), np.linspace(0.5, 2, 4001)]),
    "above_minus_one": np.concatenate([np.geomspace(1e-30, 1e38, 20011), -np.geomspace(1e-30, 0.999, 4001)]),
}


@pytest.mark.parametrize("name", ["exp", "log", "log1p", "tanh", "sigmoid", "silu", "elu", "gelu", "gelu_tanh",
                                  "softplus"])
def test_float32_vector_math_over_wide_range(name):
    fn, _, domain = OPS[name]
    x = WIDE[domain].astype(np.float32)
    with np.errstate(all="ignore"):
        expected = _reference(name, x)
    assert_close(fn(ember.from_numpy(x)), expected, dtype=ember.float32)


@pytest.mark.parametrize("name", ["relu", "exp", "sigmoid", "gelu_tanh"])
def test_large_input_runs_threaded_and_matches(name):
    # Beyond the grain, rows are split over threads; every chunk must be right, tails included.
    fn, _, domain = OPS[name]
    x = _inputs((100_003,), domain, ember.float32, seed=2)
    assert_close(fn(ember.from_numpy(x)), _reference(name, x), dtype=ember.float32)
    xs = _inputs((301, 333), domain, ember.float32, seed=3)
    assert_close(fn(noncontiguous(xs)), _reference(name, xs), dtype=ember.float32)


SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-30, 88.0, -88.0, 1e30, -1e30])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", sorted(set(OPS) - {"gelu", "gelu_tanh", "silu", "elu"}))
def test_nan_and_inf_follow_numpy(name, dtype):
    x = SPECIALS.astype(NP[dtype])
    with np.errstate(all="ignore"):
        expected = _reference(name, x)
    assert_close(OPS[name][0](ember.from_numpy(x)), expected.astype(NP[dtype]), dtype=dtype)


@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "silu", "elu"])
def test_activation_specials(name):
    # -inf * 0 is NaN in the textbook formulas; the limits at +-inf are what PyTorch gives.
    x = np.array([np.nan, np.inf, -1e30, 1e30, 0.0, -60.0], dtype=np.float32)
    out = OPS[name][0](ember.from_numpy(x)).numpy()
    assert np.isnan(out[0]) and out[1] == np.inf and out[3] == np.float32(1e30) and out[4] == 0
    assert out[2] in (0, -1.5) and abs(out[5]) <= 1.5  # elu saturates at -alpha, the others at 0


def test_sigmoid_is_stable_for_large_magnitudes():
    x = np.array([-1000.0, -100.0, 100.0, 1000.0], dtype=np.float32)
    out = ember.sigmoid(ember.from_numpy(x)).numpy()
    np.testing.assert_array_equal(out, [0.0, np.float32(1 / (1 + np.exp(np.float64(100)))), 1.0, 1.0])


def test_softplus_threshold_and_beta():
    x = np.array([-30.0, -1.0, 0.0, 1.0, 9.99, 10.01, 50.0])
    assert_close(ember.softplus(ember.from_numpy(x)), _softplus(x, 1.0, 20.0))
    assert_close(ember.softplus(ember.from_numpy(x), 2.0, 20.0), _softplus(x, 2.0, 20.0))
    assert_close(ember.softplus(ember.from_numpy(x), 0.5, 1.0), _softplus(x, 0.5, 1.0))


# ---- dtypes ------------------------------------------------------------------------------------------
INT_VALUES = np.array([-3, -1, 0, 1, 2, 5])


@pytest.mark.parametrize("dtype", [ember.int64, ember.int32])
@pytest.mark.parametrize("name, ref", [("neg", np.negative), ("abs", np.abs), ("sign", np.sign),
                                       ("relu", lambda x: np.maximum(x, 0))])
def test_integer_ops_keep_integer_dtype(name, ref, dtype):
    x = INT_VALUES.astype(NP[dtype])
    assert_close(getattr(ember, name)(ember.from_numpy(x)), ref(x), dtype=dtype)


def test_integer_negation_wraps():
    x = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max])
    assert_close(ember.neg(ember.from_numpy(x)), -x)
    assert_close(ember.abs(ember.from_numpy(x)), np.abs(x))


@pytest.mark.parametrize("dtype", [ember.int64, ember.int32, ember.bool])
@pytest.mark.parametrize("name", ["exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid"])
def test_math_on_integers_computes_in_float32(name, dtype):
    x = np.array([1, 2, 3, 5]).astype(NP[dtype])
    assert_close(OPS[name][0](ember.from_numpy(x)), _reference(name, x.astype(np.float32)), dtype=ember.float32)


@pytest.mark.parametrize("name", ["silu", "leaky_relu", "elu", "gelu", "gelu_tanh", "softplus"])
@pytest.mark.parametrize("dtype", [ember.int64, ember.int32, ember.bool])
def test_activations_reject_integers(name, dtype):
    op = "gelu" if name == "gelu_tanh" else name
    with pytest.raises(TypeError, match=rf"{op}: expected a float32 or float64 tensor, got {dtype.name}"):
        OPS[name][0](ember.from_numpy(np.ones(3, dtype=NP[dtype])))


def test_bool_inputs():
    b = ember.from_numpy(np.array([True, False]))
    assert_close(ember.sign(b), np.array([True, False]), dtype=ember.bool)
    with pytest.raises(TypeError, match="neg: negation.*bool tensor is not supported"):
        -b
    for name in ["abs", "relu"]:
        with pytest.raises(TypeError, match=f"{name}: not supported for bool tensors"):
            getattr(ember, name)(b)


# ---- clamp -----------------------------------------------------------------------------------------------
def test_clamp_bounds_and_promotion():
    x = np.array([-3.0, -0.5, 0.0, 0.5, 3.0, np.nan], dtype=np.float32)
    t = ember.from_numpy(x)
    assert_close(ember.clamp(t, -1, None), np.maximum(x, -1), dtype=ember.float32)
    assert_close(ember.clamp(t, None, 1), np.minimum(x, 1), dtype=ember.float32)
    assert_close(ember.clamp(t, 1, -1), np.minimum(np.maximum(x, 1), -1), dtype=ember.float32)  # lo > hi: hi
    i = ember.from_numpy(np.array([-5, 0, 5]))
    assert_close(ember.clamp(i, -1, 2), np.array([-1, 0, 2]), dtype=ember.int64)
    assert_close(ember.clamp(i, -1.5, None), np.array([-1.5, 0, 5]), dtype=ember.float32)  # float bound
    assert_close(ember.clamp(i, None, 2 ** 70), np.array([-5, 0, 5]), dtype=ember.int64)  # saturates
    assert_close(t.clamp(min=0.0), np.maximum(x, 0))
    assert_close(t.clip(max=0.0), np.minimum(x, 0))


def test_clamp_errors():
    t = ember.from_numpy(np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="clamp: at least one of min and max"):
        ember._C.clamp(t, None, None)
    with pytest.raises(TypeError, match="clamp: not supported for bool tensors"):
        ember.clamp(ember.from_numpy(np.array([True])), True, None)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        ember.gelu(ember.from_numpy(np.zeros(2, dtype=np.float32)), "erf")


def test_non_tensor_argument_is_a_type_error():
    with pytest.raises(TypeError, match="exp: expected a tensor, got list"):
        ember.exp([1.0, 2.0])


# ---- in place ------------------------------------------------------------------------------------------
INPLACE = ["neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu"]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", INPLACE)
def test_inplace_returns_the_same_object_and_updates_it(name, dtype):
    domain = OPS[name][2]
    x = _inputs((7, 33), domain, dtype, seed=4)
    t = ember.from_numpy(x.copy())
    assert getattr(t, name + "_")() is t
    assert_close(t, _reference(name, x), dtype=dtype)


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_on_strided_view_writes_only_the_view(name):
    x = _inputs((9, 10), OPS[name][2], ember.float64, seed=5)
    base = x.copy()
    t = ember.from_numpy(base)
    view = t.T  # a non-contiguous view of base
    assert getattr(ember._C, name + "_")(view) is view
    np.testing.assert_allclose(base, _reference(name, x), **TOL[ember.float64])
    c = x.copy()
    every_other = ember._C.as_strided(ember.from_numpy(c), [9, 5], [10, 2], 0)
    getattr(every_other, name + "_")()
    expected = x.copy()
    expected[:, ::2] = _reference(name, x[:, ::2])
    np.testing.assert_allclose(c, expected, **TOL[ember.float64])


def test_inplace_keeps_integer_dtype_where_pytorch_does():
    x = ember.from_numpy(np.array([-2, 3]))
    assert_close(x.relu_(), np.array([0, 3]), dtype=ember.int64)
    assert_close(x.neg_(), np.array([0, -3]), dtype=ember.int64)
    assert_close(x.abs_(), np.array([0, 3]), dtype=ember.int64)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid"])
def test_inplace_float_op_on_integer_tensor_is_an_error(name):
    message = f"{name}_: result type Float can't be cast to the desired output type Long"
    with pytest.raises(RuntimeError, match=message):
        getattr(ember.from_numpy(np.array([1, 2])), name + "_")()


def test_inplace_on_expanded_tensor_is_an_error():
    t = ember.from_numpy(np.array([1.0, -2.0])).expand(3, 2)
    with pytest.raises(RuntimeError, match=r"relu_: the tensor being written .* made with \.clone\(\)"):
        t.relu_()

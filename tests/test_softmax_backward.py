"""softmax / log_softmax backward kernels and their autograd Functions: against a float64 NumPy formula,
PyTorch's gradients, and central differences."""
import itertools

import numpy as np
import pytest

import ember
from conftest import FLOAT_DTYPES, NP, SHAPE_ZOO, assert_close, capabilities, noncontiguous, run_under_capability
from ember._fn.reduce import LogSoftmax, Softmax, log_softmax, softmax

_C = ember._C
RNG = np.random.default_rng(7)


def np_softmax_backward(g, y, dim, log):
    """The reference formulas in float64, from the forward's output y."""
    g, y = np.asarray(g, np.float64), np.asarray(y, np.float64)
    if y.ndim == 0:
        return np_softmax_backward(g.reshape(1), y.reshape(1), 0, log).reshape(())
    if log:
        return g - np.exp(y) * g.sum(axis=dim, keepdims=True)
    return y * (g - (g * y).sum(axis=dim, keepdims=True))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_backward_kernel_over_shape_zoo(log, dtype):
    forward = _C.log_softmax if log else _C.softmax
    backward = _C.log_softmax_backward if log else _C.softmax_backward
    for shape, layout in itertools.product(SHAPE_ZOO, ("contiguous", "strided")):
        a = np.asarray(3 * RNG.standard_normal(shape), NP[dtype])
        g = np.asarray(RNG.standard_normal(shape), NP[dtype])
        for dim in sorted({0, -1, max(a.ndim - 2, 0)}):
            y = forward(ember.from_numpy(a), dim)
            y_in = y if layout == "contiguous" else noncontiguous(y.numpy())
            g_in = ember.from_numpy(g) if layout == "contiguous" else noncontiguous(g)
            out = backward(g_in, y_in, dim)
            # float32: the cancellation in g - sum(g * y) costs a few ulps of sum's magnitude
            assert_close(out, np_softmax_backward(g, y.numpy(), dim if a.ndim else 0, log), dtype=dtype,
                         atol=2e-6 if dtype == ember.float32 else 1e-14)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_gradients_equal_pytorchs(dtype):
    torch = pytest.importorskip("torch")
    # wide rows (the SIMD paths), a middle axis (the tiled path), and a long tiled axis
    for shape, dim in [((33, 1000), 1), ((5, 129, 7), 1), ((3, 4, 2500), 0), ((7,), 0), ((1, 1), -1)]:
        a = np.asarray(2 * RNG.standard_normal(shape), NP[dtype])
        g = np.asarray(RNG.standard_normal(shape), NP[dtype])
        for fn, torch_fn in [(softmax, torch.softmax), (log_softmax, torch.log_softmax)]:
            x = ember.from_numpy(a).requires_grad_()
            got, = ember.autograd.grad(fn(x, dim), x, ember.from_numpy(g))
            tx = torch.from_numpy(a.astype(np.float64)).requires_grad_()
            want, = torch.autograd.grad(torch_fn(tx, dim), tx, torch.from_numpy(g.astype(np.float64)))
            assert_close(got, want.numpy(), dtype=dtype, atol=2e-6 if dtype == ember.float32 else 1e-14)


def test_gradcheck_of_both_functions():
    for shape, dim in [((3, 5), 1), ((2, 3, 4), 1), ((4,), 0), ((2, 3), 0)]:
        x = ember.from_numpy(RNG.standard_normal(shape)).requires_grad_()
        assert ember.autograd.gradcheck(lambda t: Softmax.apply(t, dim), (x,))
        assert ember.autograd.gradcheck(lambda t: LogSoftmax.apply(t, dim), (x,))


def test_functions_record_only_when_needed():
    x = ember.from_numpy(RNG.standard_normal((2, 3)))
    assert softmax(x, 1).grad_fn is None
    x.requires_grad_()
    assert type(log_softmax(x, 1).grad_fn) is LogSoftmax
    with ember.autograd.no_grad():
        assert softmax(x, 1).grad_fn is None
    # a backward chain through both, and a gradient of another float dtype
    y = LogSoftmax.apply(Softmax.apply(x, 1), 0)
    g, = ember.autograd.grad(y, x, ember.ones((2, 3), dtype=ember.float32))
    assert g.dtype == ember.float64 and g.shape == (2, 3)


def test_special_values_propagate():
    nan, inf = np.nan, np.inf
    y = _C.softmax(ember.from_numpy(np.array([[nan, 1.0, 2.0], [0.0, -inf, 1.0]], np.float32)), 1)
    g = ember.from_numpy(np.ones((2, 3), np.float32))
    out = _C.softmax_backward(g, y, 1).numpy()
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all() and out[1, 1] == 0
    ly = _C.log_softmax(ember.from_numpy(np.array([[nan, 1.0], [-inf, 1.0]], np.float32)), 1)
    lout = _C.log_softmax_backward(ember.from_numpy(np.ones((2, 2), np.float32)), ly, 1).numpy()
    assert np.isnan(lout[0]).all() and lout[1, 0] == 1.0 and lout[1, 1] == -1.0


def test_results_do_not_depend_on_thread_count():
    y = _C.softmax(ember.from_numpy(RNG.standard_normal((64, 3000)).astype(np.float32)), 1)
    g = ember.from_numpy(RNG.standard_normal((64, 3000)).astype(np.float32))
    before = ember.get_num_threads()
    runs = []
    try:
        for n in (1, 2):
            ember.set_num_threads(n)
            runs.append([_C.softmax_backward(g, y, 1).numpy().tobytes(), _C.softmax_backward(g, y, 0).numpy().tobytes(),
                         _C.log_softmax_backward(g, y, 1).numpy().tobytes()])
    finally:
        ember.set_num_threads(before)
    assert runs[0] == runs[1]


def test_every_cpu_path_agrees_with_the_reference():
    code = """
import numpy as np, ember
rng = np.random.default_rng(3)
a = rng.standard_normal((9, 37)).astype(np.float32)
g = rng.standard_normal((9, 37)).astype(np.float32)
y = ember._C.log_softmax(ember.from_numpy(a), 1)
out = ember._C.log_softmax_backward(ember.from_numpy(g), y, 1).numpy()
ref = g - np.exp(y.numpy().astype(np.float64)) * g.astype(np.float64).sum(1, keepdims=True)
t = rng.integers(0, 37, 9)
loss, m = ember._C.cross_entropy(ember.from_numpy(a), ember.from_numpy(t), None, -100, 'sum', 0.0)
d = ember._C.cross_entropy_backward(ember.tensor(1.0), ember.from_numpy(a), ember.from_numpy(t), m, None, -100,
                                    'sum', 0.0).numpy()
a64 = a.astype(np.float64)
lse = np.log(np.exp(a64 - a64.max(1, keepdims=True)).sum(1)) + a64.max(1)
p = np.exp(a64 - lse[:, None])
p[np.arange(9), t] -= 1
print(np.abs(out - ref).max() < 2e-6, abs(loss.item() - (lse - a64[np.arange(9), t]).sum()) < 1e-4,
      np.abs(d - p).max() < 1e-6)
"""
    for cap in capabilities():
        assert run_under_capability(cap, code).split() == ["True", "True", "True"], cap


def test_bad_arguments_raise_clear_errors():
    y = _C.softmax(ember.zeros((2, 3)), 1)
    with pytest.raises(ValueError, match=r"softmax_backward: grad has shape \(3, 2\).*\(2, 3\)"):
        _C.softmax_backward(ember.zeros((3, 2)), y, 1)
    with pytest.raises(TypeError, match="log_softmax_backward.*float64 and float32"):
        _C.log_softmax_backward(ember.zeros((2, 3), dtype=ember.float64), y, 1)
    with pytest.raises(TypeError, match="softmax_backward.*int64"):
        _C.softmax_backward(ember.zeros((2, 3), dtype=ember.int64), ember.zeros((2, 3), dtype=ember.int64), 1)
    with pytest.raises(IndexError, match="softmax_backward.*out of range"):
        _C.softmax_backward(ember.zeros((2, 3)), y, 2)

"""Normalization layers (ember._fn.norm over the _C batch-norm / layer-norm kernels, ember.nn.normalization):
forward and gradients against PyTorch computed in float64 on the same values, in both batch-norm layouts,
running statistics over training steps, central differences in float64, Dropout2d's channel masks,
state_dict / repr parity with PyTorch, thread-count and CPU-path invariance, and every error path."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
import ember.nn as nn
import ember.nn.functional as F
from conftest import FLOAT_DTYPES, NP, TOL, assert_close, capabilities, noncontiguous, run_under_capability

_C = ember._C
RNG = np.random.default_rng(23)
gradcheck = ember.autograd.gradcheck


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the references are small: thread start-up would dominate on a busy machine
    yield torch
    torch.set_num_threads(threads)


def tol(dtype, count=1, condition=1.0):
    """TOL[dtype] widened for results that sum `count` terms (means, variances, parameter gradients):
    rounding grows like sqrt(count). In float64 the reference itself (PyTorch) carries about
    eps * |mean| / std of rounding (`condition`), more than ember's own error."""
    t = dict(TOL[dtype])
    grow = max(1.0, np.sqrt(count) / 4)
    if dtype == ember.float64:
        return dict(rtol=t["rtol"] * grow * condition, atol=t["atol"] * grow * 100 * condition)
    return dict(rtol=t["rtol"] * grow, atol=t["atol"] * grow)


def as_tensor(a, dtype, layout="contiguous", requires_grad=False):
    a = a.astype(NP[dtype])
    t = ember.from_numpy(np.array(a, order="C")) if layout == "contiguous" else noncontiguous(a)
    return t.requires_grad_() if requires_grad else t


def torch64(torch, a, dtype, requires_grad=False):
    """The values ember sees (rounded to dtype), in float64 for the reference."""
    return torch.from_numpy(a.astype(NP[dtype]).astype(np.float64)).requires_grad_(requires_grad)


# ---- batch norm against PyTorch --------------------------------------------------------------------------

def check_batch_norm(torch, shape, dtype, training, affine, layout="contiguous", channels_last=False, loc=0.0,
                     scale=1.0, momentum=0.1, x=None):
    """ember's batch_norm (output, updated running statistics, gradients of x, weight and bias for a random
    upstream gradient) against torch.nn.functional.batch_norm in float64 on the same values. With
    channels_last, ember sees the input with its channels moved last and PyTorch the NCHW original."""
    C = shape[1]
    x = loc + scale * RNG.standard_normal(shape) if x is None else x
    w, b = RNG.uniform(0.5, 1.5, C), RNG.standard_normal(C)
    rm, rv = RNG.standard_normal(C), RNG.uniform(0.5, 2.0, C)
    g = RNG.standard_normal(shape)
    to_last = (0,) + tuple(range(2, len(shape))) + (1,)
    from_last = (0, len(shape) - 1) + tuple(range(1, len(shape) - 1))
    ex_np = x.transpose(to_last) if channels_last else x
    ex = as_tensor(ex_np, dtype, layout, requires_grad=True)
    ew, eb = (as_tensor(v, dtype, requires_grad=True) for v in (w, b)) if affine else (None, None)
    erm, erv = as_tensor(rm, dtype), as_tensor(rv, dtype)
    out = F.batch_norm(ex, erm, erv, ew, eb, training, momentum, 1e-5, channels_last=channels_last)

    tx = torch64(torch, x, dtype, True)
    tw, tb = (torch64(torch, v, dtype, True) for v in (w, b)) if affine else (None, None)
    trm, trv = torch64(torch, rm, dtype), torch64(torch, rv, dtype)
    want = torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training, momentum, 1e-5)

    count = x.size // C
    tolerance = tol(dtype, count, max(1.0, abs(loc) / scale))
    got = out.numpy().transpose(from_last) if channels_last else out.numpy()
    assert out.shape == ex.shape and out.dtype == dtype
    np.testing.assert_allclose(got, want.detach().numpy(), **tolerance)
    assert_close(erm, trm.numpy(), **tolerance)
    assert_close(erv, trv.numpy(), **tolerance)

    eg = g.transpose(to_last) if channels_last else g
    inputs = [ex] + ([ew, eb] if affine else [])
    grads = ember.autograd.grad(out, inputs, as_tensor(np.ascontiguousarray(eg), dtype))
    expect = torch.autograd.grad(want, [tx] + ([tw, tb] if affine else []), torch64(torch, g, dtype))
    dx = grads[0].numpy().transpose(from_last) if channels_last else grads[0].numpy()
    np.testing.assert_allclose(dx, expect[0].numpy(), **tolerance)
    for a, e in zip(grads[1:], expect[1:]):
        assert_close(a, e.numpy(), **tolerance)


BN_SHAPES = [(2, 3), (33, 7), (4, 1), (4, 3, 5), (2, 7, 1), (3, 1, 5, 5), (2, 5, 7, 9), (1, 3, 4, 4),
             (5, 2, 1, 1), (2, 4, 33, 3)]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(torch, dtype, training):
    for shape, affine, layout in itertools.product(BN_SHAPES, (True, False), ("contiguous", "noncontiguous")):
        check_batch_norm(torch, shape, dtype, training, affine, layout)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_channels_last_matches_torch_on_permuted_input(torch, dtype, training):
    for shape, affine, layout in itertools.product([(2, 3, 5, 7), (3, 1, 4, 4), (1, 6, 3, 3), (4, 5, 9), (8, 33)],
                                                   (True, False), ("contiguous", "noncontiguous")):
        check_batch_norm(torch, shape, dtype, training, affine, layout, channels_last=True)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("channels_last", [False, True])
def test_batch_norm_with_a_large_mean_matches_torch(torch, dtype, channels_last):
    # values around 1000 with std 1: a one-pass E[x^2] - E[x]^2 in float32 would lose every digit
    check_batch_norm(torch, (4, 3, 9, 11), dtype, True, True, loc=1000.0, channels_last=channels_last)
    check_batch_norm(torch, (64, 5), dtype, True, True, loc=-3e4, scale=0.5, channels_last=channels_last)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("channels_last", [False, True])
def test_batch_norm_with_an_outlier_first_value_matches_torch(torch, dtype, channels_last):
    # the first value of each channel is the shift of the sums: far from the mean, a second pass runs
    x = RNG.standard_normal((6, 3, 5, 5))
    x[0, :, 0, 0] = [1e4, -3e3, 50.0]
    check_batch_norm(torch, x.shape, dtype, True, True, x=x, channels_last=channels_last)


def test_batch_norm_large_batch_matches_torch(torch):
    # enough values for several reduction blocks and both threads in each layout
    for channels_last in (False, True):
        check_batch_norm(torch, (8, 16, 20, 20), ember.float32, True, True, channels_last=channels_last)
        check_batch_norm(torch, (8, 16, 20, 20), ember.float64, True, True, channels_last=channels_last)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 5), c=st.integers(1, 6), spatial=st.lists(st.integers(1, 7), max_size=2),
       training=st.booleans(), channels_last=st.booleans(), dtype=st.sampled_from(FLOAT_DTYPES))
def test_batch_norm_random_shapes_match_torch(torch, n, c, spatial, training, channels_last, dtype):
    check_batch_norm(torch, (n, c, *spatial), dtype, training, True, channels_last=channels_last)


@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("channels_last", [False, True])
def test_non_finite_values_make_their_channel_or_row_nan(torch, special, channels_last):
    # its own generator: the module's is also drawn from by hypothesis tests, a varying number of times
    x = np.random.default_rng(5).standard_normal((4, 3, 2, 2))
    x[1, 1, 0, 1] = special
    want = torch.nn.functional.batch_norm(torch.from_numpy(x), None, None, training=True).numpy()
    ex = np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if channels_last else x
    out = F.batch_norm(ember.from_numpy(ex), None, None, training=True, channels_last=channels_last).numpy()
    out = out.transpose(0, 3, 1, 2) if channels_last else out
    assert np.isnan(out[:, 1]).all() and np.isnan(want[:, 1]).all()
    # atol: an output near zero is a difference of two nearly equal values (as in the layer_norm check)
    np.testing.assert_allclose(out[:, [0, 2]], want[:, [0, 2]], rtol=1e-12, atol=1e-14)
    rows = x.reshape(4, 12)
    out = F.layer_norm(ember.from_numpy(rows), [12]).numpy()
    assert np.isnan(out[1]).all()
    np.testing.assert_allclose(np.delete(out, 1, 0), np.delete(torch.nn.functional.layer_norm(
        torch.from_numpy(rows), [12]).numpy(), 1, 0), rtol=1e-12, atol=1e-14)


def test_batch_norm_empty_batch_keeps_running_stats():
    rm, rv = ember.zeros(3), ember.ones(3)
    out = F.batch_norm(ember.zeros(0, 3, 2, 2), rm, rv, training=True)
    assert out.shape == (0, 3, 2, 2)
    assert_close(rm, np.zeros(3))
    assert_close(rv, np.ones(3))


# ---- running statistics and the modules' train / eval behaviour ------------------------------------------

def torch_twin(torch, module, twin):
    """twin (a PyTorch module) with module's parameters."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            getattr(twin, name).copy_(torch.from_numpy(p.numpy().copy()))
    return twin


@pytest.mark.parametrize("momentum", [0.1, None, 0.7])
@pytest.mark.parametrize("kind", ["BatchNorm1d_2d", "BatchNorm1d_3d", "BatchNorm2d"])
def test_running_statistics_follow_torch_over_training_steps(torch, kind, momentum):
    C = 4
    name, shape = {"BatchNorm1d_2d": ("BatchNorm1d", (16, C)), "BatchNorm1d_3d": ("BatchNorm1d", (8, C, 5)),
                   "BatchNorm2d": ("BatchNorm2d", (8, C, 5, 3))}[kind]
    m = getattr(nn, name)(C, momentum=momentum)
    with ember.no_grad():
        m.weight.copy_(ember.from_numpy(RNG.uniform(0.5, 2, C).astype(np.float32)))
        m.bias.copy_(ember.from_numpy(RNG.standard_normal(C).astype(np.float32)))
    t = torch_twin(torch, m, getattr(torch.nn, name)(C, momentum=momentum))
    for step in range(5):
        x = (3 + 2 * RNG.standard_normal(shape)).astype(np.float32)
        y = m(ember.from_numpy(x))
        want = t(torch.from_numpy(x))
        assert_close(y, want.detach().numpy(), rtol=1e-4, atol=1e-5)  # PyTorch's float32 is the reference here
    assert m.num_batches_tracked.item() == t.num_batches_tracked.item() == 5
    assert m.num_batches_tracked.dtype == ember.int64 and m.num_batches_tracked.shape == ()
    assert_close(m.running_mean, t.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    assert_close(m.running_var, t.running_var.numpy(), rtol=1e-5, atol=1e-6)
    m.eval()
    t.eval()
    x = RNG.standard_normal(shape).astype(np.float32)
    assert_close(m(ember.from_numpy(x)), t(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert m.num_batches_tracked.item() == 5  # eval leaves the statistics alone


def test_without_running_stats_the_batch_statistics_are_always_used(torch):
    m = nn.BatchNorm2d(3, track_running_stats=False, affine=False)
    t = torch.nn.BatchNorm2d(3, track_running_stats=False, affine=False)
    assert m.running_mean is None and m.num_batches_tracked is None
    x = RNG.standard_normal((4, 3, 5, 5)).astype(np.float32)
    for mode in ("train", "eval"):
        getattr(m, mode)()
        getattr(t, mode)()
        assert_close(m(ember.from_numpy(x)), t(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6)
    assert list(m.state_dict()) == list(t.state_dict()) == []


def test_modules_train_through_autograd_and_match_torch_gradients(torch):
    m = nn.BatchNorm2d(3)
    t = torch_twin(torch, m, torch.nn.BatchNorm2d(3))
    x = RNG.standard_normal((4, 3, 6, 6)).astype(np.float32)
    ex, tx = ember.from_numpy(x).requires_grad_(), torch.from_numpy(x).requires_grad_()
    (m(ex) ** 2).sum().backward()
    (t(tx) ** 2).sum().backward()
    assert_close(ex.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert_close(m.weight.grad, t.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert_close(m.bias.grad, t.bias.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_module_dtype_and_conversion():
    m = nn.BatchNorm1d(5, dtype=ember.float64)
    assert m.weight.dtype == m.running_var.dtype == ember.float64
    assert m.num_batches_tracked.dtype == ember.int64
    m = nn.BatchNorm2d(2).double()
    assert m.running_mean.dtype == ember.float64 and m.num_batches_tracked.dtype == ember.int64
    out = m(ember.randn(3, 2, 4, 4, dtype=ember.float64))
    assert out.dtype == ember.float64
    ln = nn.LayerNorm([3, 4], dtype=ember.float64)
    assert ln.weight.shape == (3, 4) and ln.weight.dtype == ember.float64


# ---- layer norm against PyTorch --------------------------------------------------------------------------

def check_layer_norm(torch, shape, k, dtype, affine=True, use_bias=True, layout="contiguous", loc=0.0):
    normalized = shape[len(shape) - k:]
    x = loc + RNG.standard_normal(shape)
    w, b = RNG.uniform(0.5, 1.5, normalized), RNG.standard_normal(normalized)
    g = RNG.standard_normal(shape)
    ex = as_tensor(x, dtype, layout, requires_grad=True)
    ew = as_tensor(w, dtype, layout, requires_grad=True) if affine else None
    eb = as_tensor(b, dtype, layout, requires_grad=True) if affine and use_bias else None
    out = F.layer_norm(ex, normalized, ew, eb, 1e-5)
    tx = torch64(torch, x, dtype, True)
    tw = torch64(torch, w, dtype, True) if affine else None
    tb = torch64(torch, b, dtype, True) if affine and use_bias else None
    want = torch.nn.functional.layer_norm(tx, normalized, tw, tb, 1e-5)
    cols, rows = int(np.prod(normalized)), x.size // max(1, int(np.prod(normalized)))
    condition = max(1.0, abs(loc))
    assert_close(out, want.detach().numpy(), dtype=dtype, **tol(dtype, cols, condition))
    inputs = [(ex, tx)] + [(e, t) for e, t in ((ew, tw), (eb, tb)) if e is not None]
    grads = ember.autograd.grad(out, [e for e, _ in inputs], as_tensor(g, dtype))
    expect = torch.autograd.grad(want, [t for _, t in inputs], torch64(torch, g, dtype))
    # dx carries the rounding of g = dy * weight amplified by rstd (316 for a row of one value)
    values = x.astype(NP[dtype]).reshape(rows, cols)
    amplify = 1 / np.sqrt(values.var(axis=1).min(initial=np.inf) + 1e-5) if values.size else 1.0
    dx_tol = tol(dtype, cols, condition)
    dx_tol["atol"] *= max(1.0, amplify)
    assert_close(grads[0], expect[0].numpy(), **dx_tol)
    for a, e in zip(grads[1:], expect[1:]):
        assert_close(a, e.numpy(), **tol(dtype, rows, condition))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("k", [1, 2, 3])
def test_layer_norm_matches_torch(torch, dtype, k):
    shapes = [(7,), (33,), (1, 129), (4, 5, 6), (2, 3, 4, 5), (65, 129), (3, 1, 7), (5, 1000)]
    for shape, (affine, use_bias), layout in itertools.product(
            [s for s in shapes if len(s) >= k], [(True, True), (True, False), (False, False)],
            ("contiguous", "noncontiguous")):
        check_layer_norm(torch, shape, k, dtype, affine, use_bias, layout)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_layer_norm_with_a_large_mean_matches_torch(torch, dtype):
    check_layer_norm(torch, (6, 1024), 1, dtype, loc=1000.0)
    check_layer_norm(torch, (3, 4, 9), 2, dtype, loc=-5e4)


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=4), data=st.data(),
       dtype=st.sampled_from(FLOAT_DTYPES))
def test_layer_norm_random_shapes_match_torch(torch, shape, data, dtype):
    k = data.draw(st.integers(1, len(shape)))
    check_layer_norm(torch, tuple(shape), k, dtype)


def test_layer_norm_module_matches_torch(torch):
    for args in [(10,), ((3, 4),), ((4,), 1e-3, False), ((2, 4), 1e-5, True, False)]:
        m = nn.LayerNorm(*args)
        t = torch.nn.LayerNorm(*args)
        assert repr(m) == repr(t)
        assert list(m.state_dict()) == list(t.state_dict())
        x = RNG.standard_normal((3, 2) + tuple(m.normalized_shape)).astype(np.float32)
        assert_close(m(ember.from_numpy(x)), t(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_layer_norm_of_empty_batches():
    out = F.layer_norm(ember.zeros(0, 5), [5])
    assert out.shape == (0, 5)
    x = ember.zeros(3, 0).requires_grad_()
    out = F.layer_norm(x, [0], ember.ones(0).requires_grad_())
    assert out.shape == (3, 0)


# ---- central differences in float64 ------------------------------------------------------------------------

def _param(shape):
    return ember.from_numpy(RNG.uniform(0.5, 1.5, shape)).requires_grad_()


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck(training, channels_last):
    x = ember.from_numpy(RNG.standard_normal((3, 2, 2, 3) if not channels_last else (3, 2, 3, 2))).requires_grad_()
    w, b = _param(2), _param(2)
    rm, rv = ember.from_numpy(RNG.standard_normal(2)), ember.from_numpy(RNG.uniform(0.5, 2, 2))
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training, channels_last=channels_last), (x, w, b))
    x2 = ember.from_numpy(RNG.standard_normal((4, 3))).requires_grad_()
    rm3, rv3 = ember.from_numpy(RNG.standard_normal(3)), ember.from_numpy(RNG.uniform(0.5, 2, 3))
    assert gradcheck(lambda x: F.batch_norm(x, rm3, rv3, None, None, training), (x2,))


@pytest.mark.parametrize("k", [1, 2])
def test_layer_norm_gradcheck(k):
    x = ember.from_numpy(RNG.standard_normal((3, 2, 4))).requires_grad_()
    normalized = x.shape[3 - k:]
    w, b = _param(normalized), _param(normalized)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, normalized, w, b), (x, w, b))
    assert gradcheck(lambda x: F.layer_norm(x, normalized), (x,))


# ---- Dropout2d -------------------------------------------------------------------------------------------------

def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    x = ember.from_numpy(RNG.uniform(1, 2, (16, 32, 5, 3)).astype(np.float32))
    p = 0.3
    out = F.dropout2d(x, p).numpy()
    xs = x.numpy()
    kept = (out != 0).reshape(16, 32, -1)
    assert (kept.all(axis=2) | ~kept.any(axis=2)).all()  # each channel kept or dropped as a whole
    mask = kept.all(axis=2)
    np.testing.assert_allclose(out[mask], xs[mask] / (1 - p), rtol=1e-6)
    assert 0.6 < mask.mean() < 0.8  # 512 channels: the kept fraction is 0.7 +- 0.02 (1 sigma)


def test_dropout2d_unbatched_input_drops_channels():
    out = F.dropout2d(ember.ones(64, 4, 4), 0.5).numpy()
    per_channel = out.reshape(64, -1)
    assert (per_channel.min(axis=1) == per_channel.max(axis=1)).all()
    assert set(np.unique(per_channel)) <= {0.0, 2.0}


def test_dropout2d_channels_last_drops_the_last_dim():
    out = F.dropout2d(ember.ones(4, 3, 5, 16), 0.5, channels_last=True).numpy()
    assert (out.min(axis=(1, 2)) == out.max(axis=(1, 2))).all()


def test_dropout2d_repeats_with_the_seed_and_is_the_identity_in_eval():
    x = ember.randn(4, 8, 3, 3)
    ember.manual_seed(5)
    a = F.dropout2d(x, 0.5)
    ember.manual_seed(5)
    b = F.dropout2d(x, 0.5)
    assert np.array_equal(a.numpy(), b.numpy())
    m = nn.Dropout2d(0.5)
    m.eval()
    assert m(x) is x
    assert F.dropout2d(x, 0.5, training=False) is x
    assert repr(nn.Dropout2d(0.2)) == "Dropout2d(p=0.2, inplace=False)"


def test_dropout2d_gradient_is_the_mask_and_inplace_writes_the_input():
    x = ember.from_numpy(RNG.standard_normal((3, 5, 2, 2))).requires_grad_()
    out = F.dropout2d(x, 0.4)
    (grad,) = ember.autograd.grad(out.sum(), [x])
    mask = out.numpy() / x.detach().numpy()
    assert_close(grad, mask)
    y = ember.ones(2, 3, 2, 2)
    assert F.dropout2d(y, 1.0, inplace=True) is y
    assert (y.numpy() == 0).all()
    z = ember.randn(2, 3, 2, 2)
    assert np.array_equal(F.dropout2d(z, 0.0).numpy(), z.numpy())


# ---- PyTorch parity of the modules' surface ------------------------------------------------------------------

def test_state_dict_keys_and_repr_match_torch(torch):
    configs = [("BatchNorm1d", (5,), {}), ("BatchNorm2d", (3,), {}), ("BatchNorm2d", (3,), {"affine": False}),
               ("BatchNorm2d", (3,), {"track_running_stats": False}), ("BatchNorm1d", (4,), {"bias": False}),
               ("BatchNorm2d", (8,), {"eps": 1e-3, "momentum": None})]
    for name, args, kwargs in configs:
        m, t = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
        assert repr(m) == repr(t)
        assert list(m.state_dict()) == list(t.state_dict())
        for key, value in t.state_dict().items():
            assert m.state_dict()[key].shape == tuple(value.shape), key
            assert_close(m.state_dict()[key], value.numpy())
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.LayerNorm(6), nn.Dropout2d(0.1))
    twin = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.LayerNorm(6),
                               torch.nn.Dropout2d(0.1))
    assert list(model.state_dict()) == list(twin.state_dict())
    twin.train()
    twin[1](torch.randn(8, 6))  # running statistics and a batch count worth loading
    model.load_state_dict(twin.state_dict())
    assert model[1].num_batches_tracked.item() == 1
    assert_close(model[1].running_var, twin[1].running_var.numpy())


def test_loading_a_checkpoint_without_num_batches_tracked():
    m = nn.BatchNorm2d(2)
    state = {k: v for k, v in m.state_dict().items() if k != "num_batches_tracked"}
    assert nn.BatchNorm2d(2).load_state_dict(state) is not None


# ---- invariance: thread count and CPU paths -----------------------------------------------------------------

def _norm_results(x64):
    outs = []
    for dtype in (np.float32, np.float64):
        x = ember.from_numpy(x64.astype(dtype))
        g = ember.from_numpy((x64[::-1].copy() * 0.5).astype(dtype))
        for cl in (False, True):
            out, mean, invstd = _C.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, cl)
            outs += [out, mean, invstd, *_C.batch_norm_backward(g, x, None, mean, invstd, True, cl, True, False, True)]
        w = ember.from_numpy(np.linspace(0.5, 1.5, x64.shape[-1]).astype(dtype))
        out, mean, rstd = _C.layer_norm(x, [x64.shape[-1]], w, None, 1e-5)
        outs += [out, mean, rstd, *_C.layer_norm_backward(g, x, [x64.shape[-1]], w, mean, rstd, True, True, True)]
    return [o.numpy().astype(np.float64).ravel() for o in outs if o is not None]


def test_results_do_not_depend_on_thread_count():
    x64 = 5 + RNG.standard_normal((64, 24, 9, 33))
    before = ember.get_num_threads()
    try:
        results = []
        for n in (1, 2, 3):
            ember.set_num_threads(n)
            results.append(_norm_results(x64))
    finally:
        ember.set_num_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a, b, equal_nan=True)


_PARITY_SCRIPT = """
import numpy as np, ember, sys
sys.path.insert(0, {tests!r})
from test_norm import _norm_results
x64 = 3 + np.random.default_rng(0).standard_normal((5, 7, 11, 13))
print(ember._C.cpu_capability())
print(np.concatenate(_norm_results(x64)).tobytes().hex())
"""


def test_capability_paths_agree_with_generic():
    import os
    script = _PARITY_SCRIPT.format(tests=os.path.dirname(__file__))
    results = {}
    for cap in capabilities():
        name, payload = run_under_capability(cap, script).split()
        assert name == cap
        results[cap] = np.frombuffer(bytes.fromhex(payload), dtype=np.float64)
    for cap, values in results.items():
        # a few ulps apart at most: FMA contraction in the wider paths may round differently
        np.testing.assert_allclose(values, results["default"], rtol=4 * TOL[ember.float32]["rtol"],
                                   atol=TOL[ember.float32]["atol"], err_msg=f"capability {cap} disagrees")


# ---- errors -------------------------------------------------------------------------------------------------------

def test_module_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected a 4-d input \(N, C, H, W\), got shape \(8, 3, 28\)"):
        nn.BatchNorm2d(3)(ember.zeros(8, 3, 28))
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected a 2-d input \(N, C\) or a 3-d input \(N, C, L\), "
                                         r"got shape \(2, 3, 4, 5\)"):
        nn.BatchNorm1d(3)(ember.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 3 channels \(num_features=3\), got an input of shape "
                                         r"\(8, 4, 28, 28\) with 4 channels"):
        nn.BatchNorm2d(3)(ember.zeros(8, 4, 28, 28))
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size "
                                         r"\(1, 4\)"):
        nn.BatchNorm1d(4)(ember.zeros(1, 4))
    m = nn.BatchNorm1d(4)
    m.eval()
    assert m(ember.zeros(1, 4)).shape == (1, 4)  # eval needs no batch statistics
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape=\(10,\) expects an input of shape \(\*, 10\), "
                                         r"got \(3, 5\)"):
        nn.LayerNorm(10)(ember.zeros(3, 5))
    with pytest.raises(ValueError, match=r"normalized_shape=\(2, 5\) expects an input of shape \(\*, 2, 5\), "
                                         r"got \(5,\)"):
        F.layer_norm(ember.zeros(5), [2, 5])
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout2d(1.5)


def test_functional_errors():
    x = ember.zeros(4, 3, 2, 2)
    with pytest.raises(ValueError, match=r"batch_norm: running_mean and running_var are required in evaluation mode"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\) to match the 3 channels of the "
                                         r"input \(shape \(4, 3, 2, 2\)\), got \(4,\)"):
        F.batch_norm(x, None, None, ember.ones(4), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: running_mean must have shape \(2,\) to match the 2 channels"):
        F.batch_norm(x, ember.zeros(3), ember.ones(3), channels_last=True)
    with pytest.raises(TypeError, match="batch_norm: weight is float64 but the input is float32"):
        F.batch_norm(x, None, None, ember.ones(3, dtype=ember.float64), training=True)
    with pytest.raises(TypeError, match="batch_norm: expected a float32 or float64 input, got int64"):
        F.batch_norm(ember.zeros(4, 3, dtype=ember.int64), None, None, training=True)
    with pytest.raises(ValueError, match=r"batch_norm: expected an input of at least 2 dims \(N, C, ...\), got shape "
                                         r"\(5,\)"):
        F.batch_norm(ember.zeros(5), None, None, training=True)
    with pytest.raises(ValueError, match="pass running_mean and running_var together"):
        F.batch_norm(x, ember.zeros(3), None, training=True)
    with pytest.raises(TypeError, match="batch_norm: momentum must be a float, got None"):
        F.batch_norm(x, None, None, training=True, momentum=None)
    with pytest.raises(TypeError, match="batch_norm: expected an ember.Tensor input, got ndarray"):
        F.batch_norm(np.zeros((2, 3)), None, None, training=True)
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape \(4,\) to match normalized_shape=\(4,\) "
                                         r"of the input \(shape \(2, 4\)\), got \(3,\)"):
        F.layer_norm(ember.zeros(2, 4), 4, ember.ones(3))
    with pytest.raises(TypeError, match="layer_norm: normalized_shape must be an int or a sequence of ints"):
        F.layer_norm(ember.zeros(2, 4), "4")
    with pytest.raises(ValueError, match=r"dropout2d: expected a 4-d \(N, C, H, W\) or 3-d \(C, H, W\) input, got "
                                         r"shape \(4, 3\)"):
        F.dropout2d(ember.zeros(4, 3))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got -0.1"):
        F.dropout2d(x, -0.1)
    with pytest.raises(TypeError, match="dropout2d: expected a floating-point input, got ember.int64"):
        F.dropout2d(ember.zeros(2, 3, 2, 2, dtype=ember.int64))


def test_backward_entry_points_check_their_arguments():
    x = ember.zeros(4, 3, 2, 2)
    out, mean, invstd = _C.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, False)
    with pytest.raises(ValueError, match=r"batch_norm_backward: grad \(\(4, 3, 2\), float32\) must match the input "
                                         r"\(\(4, 3, 2, 2\), float32\)"):
        _C.batch_norm_backward(ember.zeros(4, 3, 2), x, None, mean, invstd, True, False, True, False, False)
    with pytest.raises(ValueError, match=r"batch_norm_backward: save_mean and save_invstd must have shape \(3,\)"):
        _C.batch_norm_backward(x, x, None, ember.zeros(2), invstd, True, False, True, False, False)
    y = ember.zeros(2, 5)
    out, mean, rstd = _C.layer_norm(y, [5], None, None, 1e-5)
    with pytest.raises(ValueError, match=r"layer_norm_backward: mean and rstd must hold one value per row \(2\)"):
        _C.layer_norm_backward(y, y, [5], None, ember.zeros(3), rstd, True, False, False)

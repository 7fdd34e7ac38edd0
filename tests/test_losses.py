"""Loss functions (ember.nn._losses over the _C loss kernels): forward and gradients against PyTorch computed
in float64 on the same values, central differences in float64, special values, thread-count invariance and
every error path."""
import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from conftest import FLOAT_DTYPES, NP, assert_close, capabilities, noncontiguous, run_under_capability
from ember.nn import _losses as L

_C = ember._C
RNG = np.random.default_rng(11)
REDUCTIONS = ["mean", "sum", "none"]
gradcheck = ember.autograd.gradcheck


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the references are tiny: thread start-up would dominate on a busy machine
    yield torch
    torch.set_num_threads(threads)


def _to_ember(value, dtype, layout):
    """Float arrays become tensors of `dtype`; integer arrays keep theirs."""
    a = value.astype(NP[dtype]) if value.dtype.kind == "f" else value
    return ember.from_numpy(np.array(a, order="C")) if layout == "contiguous" else noncontiguous(a)


def compare(torch, ember_fn, torch_fn, args, grads=(), dtype=ember.float64, layout="contiguous", **tol):
    """Calls ember_fn(**args) and torch_fn(**args) with every NumPy array in args turned into a tensor (float
    arrays: `dtype` for ember and the same values in float64 for PyTorch, the reference); checks the loss,
    then the gradients of the arguments named in `grads` for a random upstream gradient."""
    e_args, t_args = {}, {}
    for name, v in args.items():
        if isinstance(v, np.ndarray):
            e_args[name] = _to_ember(v, dtype, layout)
            t_args[name] = torch.from_numpy(v.astype(NP[dtype]).astype(np.float64) if v.dtype.kind == "f" else v)
            if name in grads:
                e_args[name].requires_grad_()
                t_args[name].requires_grad_()
        else:
            e_args[name] = t_args[name] = v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both libraries warn about broadcast targets
        out = ember_fn(**e_args)
        want = torch_fn(**t_args)
    assert_close(out, want.detach().numpy(), dtype=dtype, **tol)
    if grads:
        g = RNG.standard_normal(want.shape).astype(NP[dtype])
        got = ember.autograd.grad(out, [e_args[n] for n in grads], ember.from_numpy(g))
        expect = torch.autograd.grad(want, [t_args[n] for n in grads], torch.from_numpy(g.astype(np.float64)))
        for name, a, b in zip(grads, got, expect):
            assert a.shape == tuple(b.shape), name
            assert_close(a, b.numpy(), dtype=dtype, **tol)


def class_case(shape, rng=RNG):
    """Logits of `shape` and its class count and target shape (the class dim removed)."""
    n_classes = shape[1] if len(shape) > 1 else shape[0]
    row_shape = (shape[0],) + tuple(shape[2:]) if len(shape) > 1 else ()
    return 3 * rng.standard_normal(shape), n_classes, row_shape


CLASS_SHAPES = [(33, 7), (1, 1), (5, 1000), (1, 7), (2, 7, 3, 5), (3, 4, 6), (7,)]


# ---- cross-entropy ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_cross_entropy_with_class_indices_matches_torch(torch, dtype, reduction):
    for shape, weighted, smoothing, ignore in itertools.product(CLASS_SHAPES, (False, True), (0.0, 0.3),
                                                                (None, -100, 1)):
        logits, n_classes, row_shape = class_case(shape)
        target = RNG.integers(0, n_classes, row_shape)
        if ignore == -100:  # about a third of the rows ignored
            target = np.where(RNG.random(row_shape) < 0.3, -100, target)
        args = dict(input=logits, target=np.asarray(target), reduction=reduction, label_smoothing=smoothing)
        if weighted:
            args["weight"] = RNG.random(n_classes) + 0.5
        if ignore is not None:
            args["ignore_index"] = ignore
        compare(torch, L.cross_entropy, torch.nn.functional.cross_entropy, args, ["input"], dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_cross_entropy_with_class_probabilities_matches_torch(torch, dtype, reduction):
    for shape, weighted, smoothing, normalised in itertools.product(CLASS_SHAPES, (False, True), (0.0, 0.25),
                                                                    (True, False)):
        logits, n_classes, _ = class_case(shape)
        probs = RNG.random(shape)
        if normalised:
            probs /= probs.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
        args = dict(input=logits, target=probs, reduction=reduction, label_smoothing=smoothing)
        if weighted:
            args["weight"] = RNG.random(n_classes) + 0.5
        compare(torch, L.cross_entropy, torch.nn.functional.cross_entropy, args, ["input", "target"], dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_cross_entropy_of_strided_inputs(torch, dtype):
    for shape in [(33, 7), (2, 7, 3, 5), (4, 1000)]:
        logits, n_classes, row_shape = class_case(shape)
        args = dict(input=logits, target=RNG.integers(0, n_classes, row_shape), weight=RNG.random(n_classes),
                    label_smoothing=0.1)
        compare(torch, L.cross_entropy, torch.nn.functional.cross_entropy, args, ["input"], dtype, "strided")
        args["target"] = RNG.random(shape)
        compare(torch, L.cross_entropy, torch.nn.functional.cross_entropy, args, ["input", "target"], dtype,
                "strided")
    # several tiles of positions per sample, with every option
    logits, _, row_shape = class_case((2, 5, 2100))
    target = np.where(RNG.random(row_shape) < 0.2, -100, RNG.integers(0, 5, row_shape))
    for reduction in REDUCTIONS:
        args = dict(input=logits, target=target, weight=RNG.random(5), label_smoothing=0.2, reduction=reduction)
        compare(torch, L.cross_entropy, torch.nn.functional.cross_entropy, args, ["input"], dtype)
        args["target"] = RNG.random((2, 5, 2100))
        compare(torch, L.cross_entropy, torch.nn.functional.cross_entropy, args, ["input", "target"], dtype)
    # a transposed (C, N) view, rows 33 apart
    a = RNG.standard_normal((7, 33))
    x = ember.from_numpy(a.astype(NP[dtype])).transpose(0, 1).requires_grad_()
    t = RNG.integers(0, 7, 33)
    loss = L.cross_entropy(x, ember.from_numpy(t), reduction="sum")
    tx = torch.from_numpy(a.astype(NP[dtype]).astype(np.float64).T.copy()).requires_grad_()
    want = torch.nn.functional.cross_entropy(tx, torch.from_numpy(t), reduction="sum")
    assert_close(loss, want.detach().numpy(), dtype=dtype)
    assert_close(ember.autograd.grad(loss, x)[0], torch.autograd.grad(want, tx)[0].numpy(), dtype=dtype)


def test_cross_entropy_when_every_row_is_ignored(torch):
    for reduction, smoothing, weighted in itertools.product(REDUCTIONS, (0.0, 0.2), (False, True)):
        args = dict(input=RNG.standard_normal((4, 5)), target=np.full(4, -100), reduction=reduction,
                    label_smoothing=smoothing)
        if weighted:
            args["weight"] = RNG.random(5)
        compare(torch, L.cross_entropy, torch.nn.functional.cross_entropy, args, ["input"])
    loss = L.cross_entropy(ember.zeros((4, 5)), ember.from_numpy(np.full(4, -100)))
    assert np.isnan(loss.item())  # mean over no rows: 0 / 0, as PyTorch


def test_cross_entropy_of_an_empty_batch(torch):
    for reduction in REDUCTIONS:
        for target in (np.zeros(0, np.int64), np.zeros((0, 5))):
            compare(torch, L.cross_entropy, torch.nn.functional.cross_entropy,
                    dict(input=np.zeros((0, 5)), target=target, reduction=reduction), ["input"])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_cross_entropy_of_extreme_logits_stays_finite(torch, dtype):
    logits = np.where(RNG.random((9, 6)) < 0.5, -1e4, 1e4) + RNG.standard_normal((9, 6))
    target = RNG.integers(0, 6, 9)
    for reduction, smoothing in itertools.product(REDUCTIONS, (0.0, 0.1)):
        x = ember.from_numpy(logits.astype(NP[dtype])).requires_grad_()
        loss = L.cross_entropy(x, ember.from_numpy(target), reduction=reduction, label_smoothing=smoothing)
        grad, = ember.autograd.grad(loss, x, ember.ones(loss.shape, dtype=dtype))
        assert np.isfinite(loss.numpy()).all() and np.isfinite(grad.numpy()).all()
        # float32 losses of order 1e4 keep float32's relative precision
        compare(torch, L.cross_entropy, torch.nn.functional.cross_entropy,
                dict(input=logits, target=target, reduction=reduction, label_smoothing=smoothing), ["input"], dtype,
                atol=1e-3 if dtype == ember.float32 else 1e-10)


def test_cross_entropy_propagates_nan():
    logits = RNG.standard_normal((3, 4))
    logits[1, 2] = np.nan
    x = ember.from_numpy(logits).requires_grad_()
    per_row = L.cross_entropy(x, ember.tensor([0, 1, 2]), reduction="none").numpy()
    assert np.isnan(per_row[1]) and np.isfinite(per_row[[0, 2]]).all()
    loss = L.cross_entropy(x, ember.tensor([0, 1, 2]))
    assert np.isnan(loss.item())
    grad = ember.autograd.grad(loss, x)[0].numpy()
    assert np.isnan(grad[1]).all() and np.isfinite(grad[[0, 2]]).all()
    assert np.isnan(L.cross_entropy(x, ember.from_numpy(RNG.random((3, 4)))).item())
    # the tiled path for (N, C, d): NaN stays in its position
    x = ember.from_numpy(np.ascontiguousarray(logits.T[None])).requires_grad_()  # (1, 4, 3)
    per_position = L.cross_entropy(x, ember.tensor([[0, 1, 2]]), reduction="none")
    assert np.isnan(per_position.numpy()[0, 1]) and np.isfinite(per_position.numpy()[0, [0, 2]]).all()
    grad = ember.autograd.grad(per_position, x, ember.ones((1, 3), dtype=ember.float64))[0].numpy()
    assert np.isnan(grad[0, :, 1]).all() and np.isfinite(grad[0, :, [0, 2]]).all()


def test_cross_entropy_results_do_not_depend_on_thread_count():
    x = ember.from_numpy(RNG.standard_normal((512, 1000)).astype(np.float32))
    t = ember.from_numpy(RNG.integers(0, 1000, 512))
    before = ember.get_num_threads()
    runs = []
    try:
        for n in (1, 2):
            ember.set_num_threads(n)
            loss, row_max = _C.cross_entropy(x, t, None, -100, "mean", 0.1)
            d = _C.cross_entropy_backward(ember.tensor(1.0), x, t, row_max, None, -100, "mean", 0.1)
            big = ember.from_numpy(np.linspace(-3, 3, 100003, dtype=np.float32))
            runs.append([loss.numpy().tobytes(), d.numpy().tobytes(), _C.mse_loss(big, big * 0.5, "sum").item()])
    finally:
        ember.set_num_threads(before)
    assert runs[0] == runs[1]


# ---- nll_loss ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nll_loss_matches_torch(torch, dtype):
    for shape, weighted, ignore, reduction in itertools.product(CLASS_SHAPES, (False, True), (None, -100, 1),
                                                                REDUCTIONS):
        logits, n_classes, row_shape = class_case(shape)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1 if len(shape) > 1 else 0, keepdims=True))
        target = RNG.integers(0, n_classes, row_shape)
        if ignore == -100:
            target = np.where(RNG.random(row_shape) < 0.3, -100, target)
        args = dict(input=log_probs, target=np.asarray(target), reduction=reduction)
        if weighted:
            args["weight"] = RNG.random(n_classes) + 0.5
        if ignore is not None:
            args["ignore_index"] = ignore
        compare(torch, L.nll_loss, torch.nn.functional.nll_loss, args, ["input"], dtype,
                "strided" if weighted else "contiguous")
    assert np.isnan(L.nll_loss(ember.zeros((2, 3)), ember.tensor([-100, -100])).item())


# ---- elementwise losses ------------------------------------------------------------------------------------

POINTWISE = [
    ("mse", L.mse_loss, "mse_loss", {}),
    ("l1", L.l1_loss, "l1_loss", {}),
    ("huber", L.huber_loss, "huber_loss", {"delta": 0.7}),
    ("smooth_l1", L.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.6}),
    ("smooth_l1_beta0", L.smooth_l1_loss, "smooth_l1_loss", {"beta": 0.0}),
]
POINTWISE_SHAPES = [(), (7,), (0,), (33, 7), (2, 3, 129)]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name,fn,torch_name,params", POINTWISE, ids=[p[0] for p in POINTWISE])
def test_regression_losses_match_torch(torch, name, fn, torch_name, params, dtype):
    torch_fn = getattr(torch.nn.functional, torch_name)
    for shape, reduction, layout in itertools.product(POINTWISE_SHAPES, REDUCTIONS, ("contiguous", "strided")):
        args = dict(input=np.asarray(2 * RNG.standard_normal(shape)), target=np.asarray(2 * RNG.standard_normal(shape)),
                    reduction=reduction, **params)
        compare(torch, fn, torch_fn, args, ["input", "target"], dtype, layout)
    # broadcast targets (with the warning) and a sum over several reduction chunks
    for a_shape, b_shape in [((4, 1, 5), (3, 5)), ((3, 5), (1,)), ((70000,), (70000,))]:
        for reduction in REDUCTIONS:
            args = dict(input=RNG.standard_normal(a_shape), target=RNG.standard_normal(b_shape), reduction=reduction,
                        **params)
            compare(torch, fn, torch_fn, args, ["input", "target"], dtype)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=0, max_size=3), st.data())
def test_regression_losses_broadcast_like_torch(shape, data):
    torch = pytest.importorskip("torch")
    other = [data.draw(st.sampled_from([1, d])) for d in shape][data.draw(st.integers(0, len(shape))):]
    a, b = RNG.standard_normal(shape), RNG.standard_normal(other)
    if data.draw(st.booleans()):
        a, b = b, a
    name, fn, torch_name, params = data.draw(st.sampled_from(POINTWISE))
    compare(torch, fn, getattr(torch.nn.functional, torch_name),
            dict(input=a, target=b, reduction=data.draw(st.sampled_from(REDUCTIONS)), **params), ["input", "target"])


def test_regression_losses_warn_about_broadcast_targets():
    with pytest.warns(UserWarning, match=r"target size \(3, 1\) that is different to the input size \(3, 5\)"):
        L.mse_loss(ember.zeros((3, 5)), ember.zeros((3, 1)))
    for fn in (L.l1_loss, L.huber_loss, L.smooth_l1_loss):
        with pytest.warns(UserWarning, match=r"target size \(5,\).*input size \(2, 5\)"):
            fn(ember.zeros((2, 5)), ember.zeros(5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L.mse_loss(ember.zeros((3, 5)), ember.zeros((3, 5)))


def test_regression_losses_promote_dtypes_like_torch():
    out = L.mse_loss(ember.ones(3), ember.zeros(3, dtype=ember.float64))
    assert out.dtype == ember.float64 and out.item() == 1.0
    out = L.l1_loss(ember.ones(3), ember.tensor([0, 1, 3]))  # an integer target is promoted, as in PyTorch
    assert out.dtype == ember.float32 and np.isclose(out.item(), 1.0)
    x = ember.ones(3).requires_grad_()
    grad, = ember.autograd.grad(L.mse_loss(x, ember.zeros(3, dtype=ember.float64)), x)
    assert grad.dtype == ember.float32


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_binary_cross_entropy_matches_torch(torch, dtype):
    for shape, weight_shape, reduction in itertools.product([(33, 7), (7,), (2, 3, 5)], [None, "full", "last", "1"],
                                                            REDUCTIONS):
        probs = 1 / (1 + np.exp(-3 * RNG.standard_normal(shape)))
        probs.flat[:2] = [0.0, 1.0][: probs.size]  # the clamped logs
        args = dict(input=probs, target=RNG.random(shape), reduction=reduction)
        if weight_shape:
            args["weight"] = RNG.random({"full": shape, "last": shape[-1:], "1": (1,)}[weight_shape])
        compare(torch, L.binary_cross_entropy, torch.nn.functional.binary_cross_entropy, args, ["input"], dtype,
                "strided" if reduction == "sum" else "contiguous")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_binary_cross_entropy_with_logits_matches_torch(torch, dtype):
    shapes = [(33, 7), (7,), (2, 3, 5)]
    for shape, weighted, pos_weight_shape, reduction in itertools.product(
            shapes, (False, True), [None, "last", "1", "full"], REDUCTIONS):
        logits = 3 * RNG.standard_normal(shape)
        logits.flat[:2] = [-1e4, 1e4][: logits.size]  # stays finite
        args = dict(input=logits, target=RNG.random(shape), reduction=reduction)
        if weighted:
            args["weight"] = RNG.random(shape[-1:])
        if pos_weight_shape:
            args["pos_weight"] = 2 * RNG.random({"last": shape[-1:], "1": (1,), "full": shape}[pos_weight_shape])
        # The loss at a logit of -1e4 with pos_weight is a difference of terms of size 1e4, which float32 holds
        # to about 1e4 * 2^-23 ~ 1e-3: that absolute error is the format's, not the kernel's.
        tol = dict(atol=4e-3) if dtype == ember.float32 else {}
        compare(torch, L.binary_cross_entropy_with_logits, torch.nn.functional.binary_cross_entropy_with_logits,
                args, ["input"], dtype, "strided" if weighted else "contiguous", **tol)


def test_elementwise_losses_propagate_nan():
    x = ember.from_numpy(np.array([0.5, np.nan, 0.25]))
    y = ember.from_numpy(np.array([1.0, 0.0, 0.0]))
    for fn in (L.mse_loss, L.l1_loss, L.huber_loss, L.smooth_l1_loss, L.binary_cross_entropy,
               L.binary_cross_entropy_with_logits):
        assert np.isnan(fn(x, y).item()), fn.__name__
        per_element = fn(x, y, reduction="none").numpy()
        assert np.isnan(per_element[1]) and np.isfinite(per_element[[0, 2]]).all(), fn.__name__
    assert np.isnan(L.mse_loss(ember.zeros(0), ember.zeros(0)).item())  # mean of nothing, as PyTorch
    assert L.mse_loss(ember.zeros(0), ember.zeros(0), reduction="sum").item() == 0


def test_every_cpu_path_agrees_with_float64():
    # float32 runs on the SIMD formulas of each path (odd length: a vector tail), float64 on the plain loop
    code = """
import numpy as np, ember
_C = ember._C
rng = np.random.default_rng(5)
x, y = rng.standard_normal(1037), rng.standard_normal(1037)
p, t = 1 / (1 + np.exp(-3 * x)), rng.random(1037)
w, pw = rng.random(1037), 2 * rng.random(1037)
calls = [("mse_loss", (x, y), ()), ("l1_loss", (x, y), ()), ("huber_loss", (x, y), (0.7,)),
         ("smooth_l1_loss", (x, y), (0.5,)), ("smooth_l1_loss", (x, y), (0.0,)),
         ("binary_cross_entropy", (p, t, w), ()), ("binary_cross_entropy_with_logits", (3 * x, t, w), ())]
ok = []
for name, arrays, params in calls:
    for dtype in (np.float32,):
        e32 = [ember.from_numpy(a.astype(np.float32)) for a in arrays]
        e64 = [ember.from_numpy(a.astype(np.float32).astype(np.float64)) for a in arrays]
        if name == "binary_cross_entropy_with_logits":
            e32, e64 = e32 + ["none", ember.from_numpy(pw.astype(np.float32))], e64 + ["none", ember.from_numpy(pw)]
        else:
            e32, e64 = e32 + ["none"] + list(params), e64 + ["none"] + list(params)
        f, b = getattr(_C, name), getattr(_C, name + "_backward")
        g = ember.from_numpy(rng.standard_normal(1037).astype(np.float32))
        for got, want in [(f(*e32), f(*e64)), (b(g, *e32), b(g.double(), *e64))]:
            ok.append(np.allclose(got.numpy(), want.numpy(), rtol=2e-5, atol=1e-5))
print(all(ok), ok)
"""
    for cap in capabilities():
        assert run_under_capability(cap, code).startswith("True"), cap


# ---- central differences ---------------------------------------------------------------------------------

def _f64(shape, scale=1.0, shift=0.0):
    return ember.from_numpy(scale * RNG.standard_normal(shape) + shift).requires_grad_()


def test_gradcheck_of_the_class_losses():
    weight = ember.from_numpy(RNG.random(4) + 0.5)
    x = _f64((3, 4))
    t = ember.tensor([0, 3, -100])
    for reduction, smoothing in [("mean", 0.0), ("sum", 0.2), ("none", 0.3)]:
        assert gradcheck(lambda a: L.CrossEntropy.apply(a, t, weight, -100, reduction, smoothing), (x,))
    probs = ember.from_numpy(RNG.random((2, 4, 3))).requires_grad_()
    assert gradcheck(lambda a, p: L.CrossEntropy.apply(a, p, weight, -100, "mean", 0.1), (_f64((2, 4, 3)), probs))
    assert gradcheck(lambda a: L.CrossEntropy.apply(a, ember.tensor(2), None, -100, "none", 0.0), (_f64((4,)),))
    log_probs = _f64((3, 4))
    assert gradcheck(lambda a: L.NllLoss.apply(a, t, weight, -100, "mean"), (log_probs,))
    assert gradcheck(lambda a: L.NllLoss.apply(a, ember.tensor([[1, 2], [0, 3]]), None, 1, "none"), (_f64((2, 4, 2)),))


def test_gradcheck_of_the_elementwise_losses():
    # differences kept away from the kinks (0, +-delta, +-beta), where the derivative jumps
    a = ember.from_numpy(np.array([[0.3, -1.7, 2.2], [-0.2, 0.9, -3.1]])).requires_grad_()
    b = ember.from_numpy(np.array([[0.0, 0.1, 0.05]])).requires_grad_()
    for function, params in [(L.MseLoss, ()), (L.L1Loss, ()), (L.HuberLoss, (1.0,)), (L.SmoothL1Loss, (0.5,)),
                             (L.SmoothL1Loss, (0.0,))]:
        for reduction in ("mean", "none"):
            assert gradcheck(lambda x, y: function.apply(x, y, reduction, *params), (a, b))
    probs = ember.from_numpy(RNG.uniform(0.1, 0.9, (2, 3))).requires_grad_()
    target = ember.from_numpy(RNG.random((2, 3)))
    weight = ember.from_numpy(RNG.random(3))
    assert gradcheck(lambda p: L.BinaryCrossEntropy.apply(p, target, weight, "sum"), (probs,))
    pos_weight = ember.from_numpy(2 * RNG.random((2, 1)))
    assert gradcheck(lambda x: L.BinaryCrossEntropyWithLogits.apply(x, target, weight, "none", pos_weight),
                     (_f64((2, 3), 2.0),))


def test_functions_record_only_when_needed():
    x = ember.zeros((2, 3))
    assert L.cross_entropy(x, ember.tensor([0, 1])).grad_fn is None
    assert type(L.cross_entropy(x.requires_grad_(), ember.tensor([0, 1])).grad_fn) is L.CrossEntropy
    assert type(L.mse_loss(ember.zeros(3), ember.ones(3).requires_grad_()).grad_fn) is L.MseLoss


# ---- errors ----------------------------------------------------------------------------------------------

def test_invalid_reductions_list_the_valid_ones():
    x, t = ember.zeros((2, 3)), ember.tensor([0, 1])
    for call in (lambda r: L.cross_entropy(x, t, reduction=r), lambda r: L.nll_loss(x, t, reduction=r),
                 lambda r: L.mse_loss(x, x, reduction=r), lambda r: L.binary_cross_entropy(x, x, reduction=r),
                 lambda r: L.binary_cross_entropy_with_logits(x, x, reduction=r)):
        with pytest.raises(ValueError, match=r"reduction must be one of 'mean', 'sum', 'none'; got 'avg'"):
            call("avg")
    with pytest.raises(ValueError, match=r"huber_loss: reduction must be 'mean', 'sum' or 'none', got 'batch'"):
        _C.huber_loss(x, x, "batch")


def test_class_loss_errors():
    x = ember.zeros((3, 5))
    with pytest.raises(IndexError, match="cross_entropy: target 7 is out of bounds for 5 classes"):
        L.cross_entropy(x, ember.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match="cross_entropy: target -3 is out of bounds for 5 classes"):
        L.cross_entropy(x, ember.tensor([0, -3, 1]))
    with pytest.raises(IndexError, match="nll_loss: target 5 is out of bounds for 5 classes"):
        L.nll_loss(x, ember.tensor([5, 0, 1]))
    with pytest.raises(ValueError, match=r"class-probability target has shape \(3, 4\).*input has shape \(3, 5\)"):
        L.cross_entropy(x, ember.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"target has shape \(2,\) but input \(3, 5\) needs.*shape \(3,\)"):
        L.cross_entropy(x, ember.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"weight must hold one value per class, shape \(5,\), got \(4,\)"):
        L.cross_entropy(x, ember.tensor([0, 1, 2]), weight=ember.ones(4))
    with pytest.raises(ValueError, match=r"label_smoothing must be in \[0, 1\], got 1.5"):
        L.cross_entropy(x, ember.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index .2. is not supported with class-probability targets"):
        L.cross_entropy(x, ember.zeros((3, 5)), ignore_index=2)
    with pytest.raises(TypeError, match="cross_entropy: target is bool"):
        L.cross_entropy(x, ember.tensor([True, False, True]))
    with pytest.raises(TypeError, match="cross_entropy: input .logits. must be a float tensor, got int64"):
        L.cross_entropy(ember.tensor([[1, 2]]), ember.tensor([0]))
    with pytest.raises(ValueError, match="cross_entropy: input must have a class dimension.*0-d"):
        L.cross_entropy(ember.tensor(1.0), ember.tensor(0))
    with pytest.raises(ValueError, match=r"nll_loss: input of shape \(2, 0\) has no classes"):
        L.nll_loss(ember.zeros((2, 0)), ember.tensor([0, 0]))
    with pytest.raises(TypeError, match="nll_loss: target must hold class indices .int64., got float32"):
        L.nll_loss(x, ember.zeros(3))
    with pytest.raises(TypeError, match="cross_entropy: weight must be an ember.Tensor, got list"):
        L.cross_entropy(x, ember.tensor([0, 1, 2]), weight=[1.0] * 5)
    loss, row_max = _C.cross_entropy(x, ember.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"cross_entropy_backward: grad has shape \(3,\) but the loss has shape \(\)"):
        _C.cross_entropy_backward(ember.zeros(3), x, ember.tensor([0, 1, 2]), row_max)
    with pytest.raises(ValueError, match="row_max must be the forward's second result"):
        _C.cross_entropy_backward(loss, x, ember.tensor([0, 1, 2]), ember.zeros(2))


def test_elementwise_loss_errors():
    x = ember.from_numpy(np.array([[0.2, 1.7], [0.5, 0.5]], np.float32))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input values must be in \[0, 1\] \(got 1.7\); "
                                         r"apply sigmoid first or use binary_cross_entropy_with_logits"):
        L.binary_cross_entropy(x, ember.zeros((2, 2)))
    for fn in (L.binary_cross_entropy, L.binary_cross_entropy_with_logits):
        with pytest.raises(ValueError, match=r"target shape \(2, 1\) differs from input shape \(2, 2\)"):
            fn(ember.zeros((2, 2)), ember.zeros((2, 1)))
        for target in (ember.tensor([[1, 0], [0, 1]]), ember.tensor([[True, False], [False, True]])):
            with pytest.raises(TypeError, match="cast targets to float"):
                fn(ember.zeros((2, 2)), target)
    with pytest.raises(TypeError, match=r"mse_loss: target is int64; cast targets to float"):
        L.mse_loss(ember.zeros(2), ember.tensor([1, 0]))
    with pytest.raises(TypeError, match="l1_loss: input must be a float tensor, got int64"):
        L.l1_loss(ember.tensor([1, 0]), ember.zeros(2))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: weight of shape \(3,\) does not broadcast to the "
                                         r"input's shape \(2, 2\)"):
        L.binary_cross_entropy(ember.zeros((2, 2)), ember.zeros((2, 2)), weight=ember.ones(3))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2, 2, 2\) does not broadcast"):
        L.binary_cross_entropy_with_logits(ember.zeros((2, 2)), ember.zeros((2, 2)), pos_weight=ember.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="huber_loss: delta must be positive, got 0"):
        L.huber_loss(ember.zeros(2), ember.zeros(2), delta=0.0)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be non-negative, got -1"):
        L.smooth_l1_loss(ember.zeros(2), ember.zeros(2), beta=-1.0)
    with pytest.raises(ValueError, match=r"mse_loss: shapes \(3,\) and \(4,\) cannot be broadcast"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            L.mse_loss(ember.zeros(3), ember.zeros(4))
    with pytest.raises(TypeError, match="mse_loss: input must be an ember.Tensor, got ndarray"):
        L.mse_loss(np.zeros(3), ember.zeros(3))
    with pytest.raises(ValueError, match=r"mse_loss_backward: grad has shape \(2,\) but the loss has shape \(3,\)"):
        _C.mse_loss_backward(ember.zeros(2), ember.zeros(3), ember.zeros(3), "none")

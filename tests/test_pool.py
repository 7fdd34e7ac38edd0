"""2-d pooling (ember._fn.pool over the _C pooling kernels): max, average and adaptive average pooling,
forward and backward, against a float64 NumPy reference written from PyTorch's definitions and against
PyTorch itself (when installed), in both layouts (channels_last compared on transposed arrays), with
ties, NaN, non-contiguous inputs, central differences in float64, every CPU path and every error path."""
import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import ember
import ember.nn as nn
import ember.nn.functional as F
from conftest import FLOAT_DTYPES, NP, TOL, capabilities, noncontiguous, run_under_capability
from ember._fn import pool as P
from pool_reference import (out_size, ref_adaptive_avg_pool, ref_avg_pool, ref_max_pool,
                            ref_max_pool_backward)

_C = ember._C
RNG = np.random.default_rng(5)
gradcheck = ember.autograd.gradcheck


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the references are tiny: thread start-up would dominate on a busy machine
    yield torch
    torch.set_num_threads(threads)


# ---- running ember in either layout -------------------------------------------------------------------

def _tensor(a, dtype, contiguous=True):
    a = a.astype(NP[dtype])
    return ember.from_numpy(np.ascontiguousarray(a)) if contiguous else noncontiguous(a)


def run(op, x, kwargs, dtype, channels_last=False, contiguous=True, grad=None):
    """op(x, **kwargs) on the NCHW array x (moved to NHWC for channels_last), and, for `grad` (an NCHW
    array of the output's shape), the input's gradient; results come back as NCHW float64 arrays."""
    to_layout = (lambda a: a.transpose(0, 2, 3, 1)) if channels_last else (lambda a: a)
    back = (lambda a: a.transpose(0, 3, 1, 2)) if channels_last else (lambda a: a)
    t = _tensor(to_layout(x), dtype, contiguous)
    if grad is not None:
        t.requires_grad_()
    result = op(t, **kwargs, channels_last=channels_last)
    out, indices = result if isinstance(result, tuple) else (result, None)
    assert out.dtype == dtype
    values = back(out.numpy().astype(np.float64))
    idx = None if indices is None else back(indices.numpy())
    if grad is None:
        return values, idx, None
    (gx,) = ember.autograd.grad(out, t, _tensor(to_layout(grad), dtype))
    assert gx.shape == t.shape and gx.dtype == dtype
    return values, idx, back(gx.numpy().astype(np.float64))


def _tol(dtype, window=1):
    """Conftest tolerance; float32 sums of `window` elements round up to window ulps apart."""
    tol = dict(TOL[dtype])
    if dtype == ember.float32:
        tol["atol"] = max(tol["atol"], 2e-7 * window)
    return tol


def close(actual, expected, dtype, window=1):
    np.testing.assert_allclose(actual, expected, equal_nan=True, **_tol(dtype, window))


# ---- max pooling ------------------------------------------------------------------------------------

# (shape, kernel_size, stride, padding, dilation, ceil_mode)
MAX_CASES = [
    ((2, 3, 7, 9), 2, None, 0, 1, False),                # odd sizes: the last row and column are dropped
    ((2, 3, 7, 9), 2, None, 0, 1, True),                 # ceil_mode keeps them as partial windows
    ((1, 2, 10, 11), 3, 1, 1, 1, False),                 # batch 1, overlapping windows, padding
    ((2, 2, 9, 8), (3, 2), (2, 1), (1, 0), (2, 3), False),  # dilation, a different window per dim
    ((1, 1, 5, 5), 3, 3, 1, 1, True),                    # ceil_mode's last window would start in the padding
    ((2, 5, 13, 40), 2, 2, 0, 1, False),                 # rows of 20 outputs: full and overlapping vector chunks
    ((1, 3, 12, 50), 3, 1, 1, 1, True),                  # stride 1 vector chunks with padded borders
    ((1, 3, 12, 50), 3, 3, 1, 1, False),                 # stride 3: lane-by-lane loads
    ((1, 2, 11, 45), 3, 2, 1, 2, True),                  # stride 2, dilation 2, partial last window
    ((2, 4, 11, 11), 2, None, 0, 1, False),              # 5-wide output rows: quarter-width vector chunks
    ((1, 3, 9, 13), 2, 2, 0, 1, True),                   # 7 outputs per row, the last window partial
    ((2, 3, 6, 35), 2, 2, 0, 1, False),                  # 2 x 2 fast path: 17 outputs per row, an odd width
    ((1, 2, 6, 6), 2, None, 0, 1, False),                # 2 x 2 fast path: rows shorter than any vector
    ((1, 1, 1, 1), 1, None, 0, 1, False),                # one element
    ((0, 2, 5, 5), 2, None, 0, 1, False),                # empty batch
]


def _max_kwargs(kernel, stride, padding, dilation, ceil_mode):
    return dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode,
                return_indices=True)


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool2d_against_reference(case, dtype, channels_last):
    shape, kernel, stride, padding, dilation, ceil_mode = case
    x = RNG.standard_normal(shape).astype(NP[dtype]).astype(np.float64)
    stride_ = kernel if stride is None else stride
    want, want_idx = ref_max_pool(x, kernel, stride_, padding, dilation, ceil_mode)
    g = RNG.standard_normal(want.shape)
    kwargs = _max_kwargs(kernel, stride, padding, dilation, ceil_mode)
    out, idx, gx = run(P.max_pool2d, x, kwargs, dtype, channels_last, grad=g)
    assert out.shape == want.shape
    np.testing.assert_array_equal(out, want)  # a max is exact
    np.testing.assert_array_equal(idx, want_idx)
    close(gx, ref_max_pool_backward(g, want_idx, x.shape), dtype, window=4)


@pytest.mark.parametrize("channels_last", [False, True])
def test_max_pool2d_noncontiguous_input(channels_last):
    x = RNG.standard_normal((2, 3, 9, 11))
    want, want_idx = ref_max_pool(x, 3, 2, 1, 1, True)
    g = RNG.standard_normal(want.shape)
    out, idx, gx = run(P.max_pool2d, x, _max_kwargs(3, 2, 1, 1, True), ember.float64, channels_last,
                       contiguous=False, grad=g)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(idx, want_idx)
    close(gx, ref_max_pool_backward(g, want_idx, x.shape), ember.float64)


@pytest.mark.parametrize("channels_last", [False, True])
def test_max_pool2d_ties_pick_the_first_maximum(channels_last):
    # few distinct values: most windows hold several equal maxima; -inf everywhere: the first element
    x = RNG.integers(0, 3, (2, 4, 11, 37)).astype(np.float64)
    x[1, 3] = -np.inf
    for kernel, stride, padding in ((2, 2, 0), (3, 1, 1), (3, 2, 1)):
        want, want_idx = ref_max_pool(x, kernel, stride, padding, 1, False)
        out, idx, _ = run(P.max_pool2d, x, _max_kwargs(kernel, stride, padding, 1, False), ember.float32,
                          channels_last)
        np.testing.assert_array_equal(out, want)
        np.testing.assert_array_equal(idx, want_idx)


@pytest.mark.parametrize("channels_last", [False, True])
def test_max_pool2d_nan_wins(channels_last):
    # NaN beats every number, the last NaN of a window beats earlier ones; gradients go to the NaN
    x = RNG.standard_normal((2, 3, 10, 37))
    x[:, :, :, 26:] = RNG.standard_normal((2, 3, 10, 11))  # the last 11 columns also as a 5-wide slice below
    x[RNG.random(x.shape) < 0.15] = np.nan
    x[0, 0, :3, :3] = np.inf
    for kernel, stride, padding, ceil_mode in ((2, 2, 0, True), (2, 2, 0, False), (3, 1, 1, True)):
        want, want_idx = ref_max_pool(x, kernel, stride, padding, 1, ceil_mode)
        g = RNG.standard_normal(want.shape)
        out, idx, gx = run(P.max_pool2d, x, _max_kwargs(kernel, stride, padding, 1, ceil_mode), ember.float64,
                           channels_last, grad=g)
        np.testing.assert_array_equal(out, want)
        np.testing.assert_array_equal(idx, want_idx)
        close(gx, ref_max_pool_backward(g, want_idx, x.shape), ember.float64)
    narrow = x[:, :, :, 26:].astype(np.float32).astype(np.float64)  # 5 outputs per row: the narrowest chunks
    want, want_idx = ref_max_pool(narrow, 2, 2, 0, 1, False)
    out, idx, _ = run(P.max_pool2d, narrow, _max_kwargs(2, 2, 0, 1, False), ember.float32, channels_last)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(idx, want_idx)


def test_max_pool2d_window_of_padding_only():
    # kernel 2 with dilation 3 and padding 1 over 2 columns: both taps miss the input (-1, 2), which
    # PyTorch accepts; ember reports -inf and index -1, and no gradient flows from it
    x = ember.from_numpy(np.ones((1, 1, 2, 2))).requires_grad_()
    out, idx = F.max_pool2d(x, 2, 1, 1, 3, return_indices=True)
    assert out.shape == (1, 1, 1, 1) and out.item() == -np.inf and idx.item() == -1
    (gx,) = ember.autograd.grad(out, x, ember.ones(1, 1, 1, 1, dtype=ember.float64))
    assert np.all(gx.numpy() == 0)


@pytest.mark.parametrize("case", [c for c in MAX_CASES if c[0][0] > 0][:6])
def test_max_pool2d_against_torch(torch, case):
    shape, kernel, stride, padding, dilation, ceil_mode = case
    x = RNG.standard_normal(shape)
    x[0, 0, 0, :3] = x[0, 0, 1, 0]  # a few ties
    tx = torch.from_numpy(x).requires_grad_()
    t_out, t_idx = torch.nn.functional.max_pool2d(tx, kernel, stride, padding, dilation, ceil_mode, True)
    g = RNG.standard_normal(tuple(t_out.shape))
    (t_gx,) = torch.autograd.grad(t_out, tx, torch.from_numpy(g))
    for channels_last in (False, True):
        for dtype in FLOAT_DTYPES:
            out, idx, gx = run(P.max_pool2d, x, _max_kwargs(kernel, stride, padding, dilation, ceil_mode), dtype,
                               channels_last, grad=g)
            if dtype == ember.float64:
                np.testing.assert_array_equal(out, t_out.detach().numpy())
                np.testing.assert_array_equal(idx, t_idx.numpy())
            close(gx, t_gx.numpy(), dtype, window=4)


@st.composite
def _windows(draw):
    """A random window sweep: (shape, kernel, stride, padding, dilation, ceil_mode) with padding <= kernel / 2
    and at least one output position."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 12)), draw(st.integers(1, 45)))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    ceil_mode = draw(st.booleans())
    for d in range(2):
        assume(out_size(shape[2 + d], kernel[d], stride[d], padding[d], dilation[d], ceil_mode) >= 1)
    return shape, kernel, stride, padding, dilation, ceil_mode


@settings(max_examples=60, deadline=None)
@given(case=_windows(), channels_last=st.booleans(), dtype=st.sampled_from(FLOAT_DTYPES))
def test_random_windows_against_reference(case, channels_last, dtype):
    shape, kernel, stride, padding, dilation, ceil_mode = case
    x = RNG.standard_normal(shape).astype(NP[dtype]).astype(np.float64)
    want, want_idx = ref_max_pool(x, kernel, stride, padding, dilation, ceil_mode)
    g = RNG.standard_normal(want.shape)
    out, idx, gx = run(P.max_pool2d, x, _max_kwargs(kernel, stride, padding, dilation, ceil_mode), dtype,
                       channels_last, grad=g)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(idx, want_idx)
    close(gx, ref_max_pool_backward(g, want_idx, shape), dtype, window=16)
    for count_include_pad in (True, False):
        if any(out_size(shape[2 + d], kernel[d], stride[d], padding[d], 1, ceil_mode) < 1 for d in range(2)):
            break
        kwargs = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                      count_include_pad=count_include_pad)
        want = ref_avg_pool(x, kernel, stride, padding, ceil_mode, count_include_pad, None)  # no dilation
        g = RNG.standard_normal(want.shape)
        out, _, gx = run(P.avg_pool2d, x, kwargs, dtype, channels_last, grad=g)
        close(out, want, dtype, window=16)
        close(gx, ref_avg_pool(x, kernel, stride, padding, ceil_mode, count_include_pad, None, g), dtype, window=16)


# ---- average pooling ----------------------------------------------------------------------------------

# (shape, kernel_size, stride, padding, ceil_mode)
AVG_CASES = [
    ((2, 3, 7, 9), 2, None, 0, False),
    ((2, 3, 7, 9), 3, 2, 1, True),        # ceil_mode partial windows clipped at the padded border
    ((1, 2, 10, 11), 3, 1, 1, False),     # overlapping windows
    ((2, 2, 9, 8), (3, 2), (2, 1), (1, 0), True),
    ((1, 1, 5, 5), 3, 3, 1, True),
    ((1, 1, 1, 1), 1, None, 0, False),
]


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("count_include_pad,divisor_override", [(True, None), (False, None), (True, 5), (False, -3)])
@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool2d_against_reference(case, count_include_pad, divisor_override, dtype, channels_last):
    shape, kernel, stride, padding, ceil_mode = case
    x = RNG.standard_normal(shape)
    stride_ = kernel if stride is None else stride
    want = ref_avg_pool(x, kernel, stride_, padding, ceil_mode, count_include_pad, divisor_override)
    g = RNG.standard_normal(want.shape)
    kwargs = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                  count_include_pad=count_include_pad, divisor_override=divisor_override)
    out, _, gx = run(P.avg_pool2d, x, kwargs, dtype, channels_last, grad=g)
    close(out, want, dtype, window=9)
    close(gx, ref_avg_pool(x, kernel, stride_, padding, ceil_mode, count_include_pad, divisor_override, g), dtype,
          window=9)


@pytest.mark.parametrize("channels_last", [False, True])
def test_avg_pool2d_noncontiguous_input(channels_last):
    x = RNG.standard_normal((2, 3, 9, 11))
    want = ref_avg_pool(x, 3, 2, 1, True, False, None)
    g = RNG.standard_normal(want.shape)
    kwargs = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    out, _, gx = run(P.avg_pool2d, x, kwargs, ember.float64, channels_last, contiguous=False, grad=g)
    close(out, want, ember.float64)
    close(gx, ref_avg_pool(x, 3, 2, 1, True, False, None, g), ember.float64)


@pytest.mark.parametrize("case", AVG_CASES[:5])
def test_avg_pool2d_against_torch(torch, case):
    shape, kernel, stride, padding, ceil_mode = case
    x = RNG.standard_normal(shape)
    for count_include_pad, divisor_override in ((True, None), (False, None), (False, 2)):
        tx = torch.from_numpy(x).requires_grad_()
        t_out = torch.nn.functional.avg_pool2d(tx, kernel, stride, padding, ceil_mode, count_include_pad,
                                               divisor_override)
        g = RNG.standard_normal(tuple(t_out.shape))
        (t_gx,) = torch.autograd.grad(t_out, tx, torch.from_numpy(g))
        kwargs = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                      count_include_pad=count_include_pad, divisor_override=divisor_override)
        for channels_last in (False, True):
            for dtype in FLOAT_DTYPES:
                out, _, gx = run(P.avg_pool2d, x, kwargs, dtype, channels_last, grad=g)
                close(out, t_out.detach().numpy(), dtype, window=9)
                close(gx, t_gx.numpy(), dtype, window=9)


# ---- adaptive average pooling ------------------------------------------------------------------------

# (shape, output_size)
ADAPTIVE_CASES = [
    ((2, 3, 7, 9), (3, 4)),     # sizes that do not divide: windows of different lengths that overlap
    ((2, 3, 7, 9), 1),          # global average pooling
    ((1, 5, 33, 17), (1, 1)),
    ((2, 2, 5, 6), (5, 6)),     # the identity
    ((1, 2, 4, 3), (7, 5)),     # larger than the input: windows repeat elements
    ((2, 3, 10, 10), (2, 1)),
]


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("case", ADAPTIVE_CASES)
def test_adaptive_avg_pool2d_against_reference(case, dtype, channels_last):
    shape, output_size = case
    x = RNG.standard_normal(shape)
    want = ref_adaptive_avg_pool(x, output_size)
    g = RNG.standard_normal(want.shape)
    out, _, gx = run(P.adaptive_avg_pool2d, x, dict(output_size=output_size), dtype, channels_last, grad=g)
    close(out, want, dtype, window=shape[2] * shape[3])
    close(gx, ref_adaptive_avg_pool(x, output_size, g), dtype)


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("output_size", [1, (3, 2)])
def test_adaptive_avg_pool2d_noncontiguous_input(output_size, channels_last):
    x = RNG.standard_normal((2, 3, 9, 11))
    want = ref_adaptive_avg_pool(x, output_size)
    g = RNG.standard_normal(want.shape)
    out, _, gx = run(P.adaptive_avg_pool2d, x, dict(output_size=output_size), ember.float64, channels_last,
                     contiguous=False, grad=g)
    close(out, want, ember.float64)
    close(gx, ref_adaptive_avg_pool(x, output_size, g), ember.float64)


@pytest.mark.parametrize("case", ADAPTIVE_CASES)
def test_adaptive_avg_pool2d_against_torch(torch, case):
    shape, output_size = case
    x = RNG.standard_normal(shape)
    tx = torch.from_numpy(x).requires_grad_()
    t_out = torch.nn.functional.adaptive_avg_pool2d(tx, output_size)
    g = RNG.standard_normal(tuple(t_out.shape))
    (t_gx,) = torch.autograd.grad(t_out, tx, torch.from_numpy(g))
    for channels_last in (False, True):
        for dtype in FLOAT_DTYPES:
            out, _, gx = run(P.adaptive_avg_pool2d, x, dict(output_size=output_size), dtype, channels_last, grad=g)
            close(out, t_out.detach().numpy(), dtype, window=shape[2] * shape[3])
            close(gx, t_gx.numpy(), dtype)


def test_adaptive_output_size_none_keeps_the_input_size():
    x = ember.randn(2, 3, 7, 9)
    assert F.adaptive_avg_pool2d(x, (None, 4)).shape == (2, 3, 7, 4)
    assert F.adaptive_avg_pool2d(x, (2, None)).shape == (2, 3, 2, 9)
    assert P.adaptive_avg_pool2d(x, (None, 4), channels_last=True).shape == (2, 3, 4, 9)  # H = 3, C = 9


# ---- unbatched inputs, modules, the _C channels_last path ---------------------------------------------

@pytest.mark.parametrize("channels_last", [False, True])
def test_unbatched_3d_input_is_one_image(channels_last):
    x = RNG.standard_normal((3, 8, 9))
    image = x.transpose(1, 2, 0) if channels_last else x
    t = ember.from_numpy(np.ascontiguousarray(image)).requires_grad_()
    unbatch = (lambda a: a[0].transpose(1, 2, 0)) if channels_last else (lambda a: a[0])
    out, idx = P.max_pool2d(t, 3, 2, 1, return_indices=True, channels_last=channels_last)
    want, want_idx = ref_max_pool(x[None], 3, 2, 1, 1, False)
    np.testing.assert_array_equal(out.numpy(), unbatch(want))
    np.testing.assert_array_equal(idx.numpy(), unbatch(want_idx))
    avg = P.avg_pool2d(t, 2, channels_last=channels_last)
    close(avg.numpy(), unbatch(ref_avg_pool(x[None], 2, 2, 0, False, True, None)), ember.float64)
    for size in (1, (4, 3)):
        ada = P.adaptive_avg_pool2d(t, size, channels_last=channels_last)
        close(ada.numpy(), unbatch(ref_adaptive_avg_pool(x[None], size)), ember.float64)
    (gx,) = ember.autograd.grad(out.sum() + avg.sum() + ada.sum(), t)
    assert gx.shape == t.shape


def test_C_functions_take_channels_last_directly():
    # the Keras-style layers call _C with NHWC tensors and normalised pairs
    x = RNG.standard_normal((2, 9, 10, 4))  # (N, H, W, C)
    nchw = x.transpose(0, 3, 1, 2)
    t = ember.from_numpy(x)
    out, idx = _C.max_pool2d(t, [2, 2], [2, 2], [0, 0], [1, 1], False, True)
    want, want_idx = ref_max_pool(nchw, 2, 2, 0, 1, False)
    np.testing.assert_array_equal(out.numpy(), want.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(idx.numpy(), want_idx.transpose(0, 2, 3, 1))
    g = RNG.standard_normal(out.shape)
    gx = _C.max_pool2d_backward(ember.from_numpy(g), idx, list(t.shape), True)
    close(gx.numpy(), ref_max_pool_backward(g.transpose(0, 3, 1, 2), want_idx, nchw.shape).transpose(0, 2, 3, 1),
          ember.float64)
    avg = _C.avg_pool2d(t, [3, 3], [2, 2], [1, 1], True, False, None, True)
    close(avg.numpy(), ref_avg_pool(nchw, 3, 2, 1, True, False, None).transpose(0, 2, 3, 1), ember.float64)
    g = RNG.standard_normal(avg.shape)
    gx = _C.avg_pool2d_backward(ember.from_numpy(g), list(t.shape), [3, 3], [2, 2], [1, 1], True, False, None, True)
    want_gx = ref_avg_pool(nchw, 3, 2, 1, True, False, None, g.transpose(0, 3, 1, 2))
    close(gx.numpy(), want_gx.transpose(0, 2, 3, 1), ember.float64)
    for size in ([1, 1], [4, 3]):
        ada = _C.adaptive_avg_pool2d(t, size, True)
        close(ada.numpy(), ref_adaptive_avg_pool(nchw, tuple(size)).transpose(0, 2, 3, 1), ember.float64)
        g = RNG.standard_normal(ada.shape)
        gx = _C.adaptive_avg_pool2d_backward(ember.from_numpy(g), list(t.shape), True)
        want_gx = ref_adaptive_avg_pool(nchw, tuple(size), g.transpose(0, 3, 1, 2))
        close(gx.numpy(), want_gx.transpose(0, 2, 3, 1), ember.float64)


def test_modules_forward_and_repr(torch):
    pairs = [
        (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
        (nn.MaxPool2d((3, 2), 1, 1, (1, 2), False, True), torch.nn.MaxPool2d((3, 2), 1, 1, (1, 2), False, True)),
        (nn.AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1)),
        (nn.AvgPool2d(2, None, 1, True, False, 3), torch.nn.AvgPool2d(2, None, 1, True, False, 3)),
        (nn.AdaptiveAvgPool2d((None, 3)), torch.nn.AdaptiveAvgPool2d((None, 3))),
        (nn.AdaptiveAvgPool2d(1), torch.nn.AdaptiveAvgPool2d(1)),
    ]
    x = RNG.standard_normal((2, 3, 9, 8))
    for mine, theirs in pairs:
        assert repr(mine) == repr(theirs)
        close(mine(ember.from_numpy(x)).numpy(), theirs(torch.from_numpy(x)).numpy(), ember.float64)
        close(mine(ember.from_numpy(x[0])).numpy(), theirs(torch.from_numpy(x[0])).numpy(), ember.float64)


def test_numpy_integers_as_sizes():
    x = ember.randn(1, 2, 6, 6)
    size = np.int64(2)
    assert F.max_pool2d(x, size, (size, 1)).shape == (1, 2, 3, 5)
    assert F.avg_pool2d(x, size, divisor_override=np.int32(3)).shape == (1, 2, 3, 3)
    assert F.adaptive_avg_pool2d(x, (None, np.int64(4))).shape == (1, 2, 6, 4)


def test_max_pool_module_return_indices():
    x = ember.randn(1, 2, 6, 6)
    out, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert out.shape == idx.shape == (1, 2, 3, 3) and idx.dtype == ember.int64
    out = nn.MaxPool2d(2)(x)
    assert isinstance(out, ember.Tensor)


def test_max_pool_indices_version_is_checked():
    # the indices are what backward routes by: writing to them before backward is refused
    x = ember.randn(1, 1, 4, 4, dtype=ember.float64, requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    idx.fill_(0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


def test_no_graph_without_grad():
    x = ember.randn(1, 2, 6, 6, requires_grad=True)
    with ember.no_grad():
        for out in (F.max_pool2d(x, 2), F.avg_pool2d(x, 2), F.adaptive_avg_pool2d(x, 2)):
            assert out.grad_fn is None and not out.requires_grad


# ---- central differences in float64 -----------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool2d(x, 2),
    lambda x: F.max_pool2d(x, 3, 1, 1, ceil_mode=True),
    lambda x: F.max_pool2d(x, (2, 3), (1, 2), (1, 1), (2, 1)),
    lambda x: P.max_pool2d(x, 3, 2, 1, channels_last=True),
    lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
    lambda x: F.avg_pool2d(x, 2, 1, 1, count_include_pad=False),
    lambda x: F.avg_pool2d(x, 2, divisor_override=3),
    lambda x: P.avg_pool2d(x, 3, 2, 1, True, False, channels_last=True),
    lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
    lambda x: F.adaptive_avg_pool2d(x, 1),
    lambda x: P.adaptive_avg_pool2d(x, (2, 3), channels_last=True),
])
def test_gradcheck(fn):
    x = ember.from_numpy(RNG.permutation(40).reshape(1, 2, 4, 5) / 7.0).requires_grad_()  # distinct values: no ties
    assert gradcheck(fn, (x,))


# ---- every CPU path agrees --------------------------------------------------------------------------------

_CAPABILITY_SCRIPT = """
import numpy as np, ember
from ember._fn import pool as P
rng = np.random.default_rng(3)
parts = []
for dtype in (ember.float32, ember.float64):
    x = ember.from_numpy(rng.standard_normal((2, 19, 13, 41)).astype(dtype.name)).requires_grad_()
    for cl in (False, True):
        for args in ((2, 2, 0, 1, False), (3, 1, 1, 1, True), (3, 2, 1, 2, True), (3, 3, 1, 1, False)):
            out, idx = P.max_pool2d(x, *args, return_indices=True, channels_last=cl)
            (gx,) = ember.autograd.grad(out, x, ember.ones_like(out))
            parts += [out.numpy().ravel(), idx.numpy().ravel(), gx.numpy().ravel()]
        out = P.avg_pool2d(x, 3, 2, 1, True, False, channels_last=cl)
        parts += [out.numpy().ravel(), ember.autograd.grad(out, x, ember.ones_like(out))[0].numpy().ravel()]
        for size in (1, (5, 7)):
            out = P.adaptive_avg_pool2d(x, size, channels_last=cl)
            parts += [out.numpy().ravel(), ember.autograd.grad(out, x, ember.ones_like(out))[0].numpy().ravel()]
print(repr(np.concatenate([p.astype(np.float64) for p in parts]).tolist()))
"""


def test_every_cpu_path_agrees():
    results = {cap: np.array(eval(run_under_capability(cap, _CAPABILITY_SCRIPT))) for cap in capabilities()}
    base = results["default"]
    for cap, got in results.items():
        np.testing.assert_allclose(got, base, rtol=1e-6, atol=1e-6, err_msg=cap)


def test_results_do_not_depend_on_the_thread_count():
    # work items split planes, rows or channel blocks; no element's sum changes order with the split
    x = ember.from_numpy(RNG.standard_normal((3, 40, 17, 19)).astype(np.float32)).requires_grad_()
    ops = [lambda t, cl: P.max_pool2d(t, 3, 2, 1, channels_last=cl),
           lambda t, cl: P.avg_pool2d(t, 3, 1, 1, channels_last=cl),
           lambda t, cl: P.adaptive_avg_pool2d(t, 1, channels_last=cl),
           lambda t, cl: P.adaptive_avg_pool2d(t, (5, 4), channels_last=cl)]
    threads = ember.get_num_threads()
    results = []
    try:
        for n in (1, 3):
            ember.set_num_threads(n)
            results.append([])
            for op in ops:
                for cl in (False, True):
                    out = op(x, cl)
                    (gx,) = ember.autograd.grad(out, x, ember.ones_like(out))
                    results[-1] += [out.numpy(), gx.numpy()]
    finally:
        ember.set_num_threads(threads)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


# ---- errors ------------------------------------------------------------------------------------------------

def test_errors_name_the_layer_and_the_shape():
    with pytest.raises(ValueError, match=r"MaxPool2d: expected a 3-d \(C, H, W\) or 4-d \(N, C, H, W\) input, "
                                         r"got shape \(28, 28\)"):
        nn.MaxPool2d(2)(ember.randn(28, 28))
    with pytest.raises(ValueError, match=r"AvgPool2d: expected a 3-d .* got shape \(1, 1, 1, 4, 4\)"):
        nn.AvgPool2d(2)(ember.randn(1, 1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d: expected a 3-d"):
        nn.AdaptiveAvgPool2d(2)(ember.randn(4))
    with pytest.raises(ValueError, match=r"max_pool2d: expected a 3-d \(H, W, C\) or 4-d \(N, H, W, C\)"):
        P.max_pool2d(ember.randn(4, 4), 2, channels_last=True)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: expected a 3-d .* got shape \(\)"):
        F.adaptive_avg_pool2d(ember.tensor(1.0), 1)
    with pytest.raises(ValueError, match="empty spatial dim"):
        F.max_pool2d(ember.randn(1, 1, 0, 4), 1)


def test_window_errors():
    x = ember.randn(1, 1, 3, 3)
    with pytest.raises(ValueError, match=r"MaxPool2d: the input's 3x3 spatial size .* kernel_size \(5, 5\).*"
                                         r"output would be 0x0"):
        nn.MaxPool2d(5)(x)
    with pytest.raises(ValueError, match="dilation"):
        F.max_pool2d(x, 2, dilation=3)
    with pytest.raises(ValueError, match=r"avg_pool2d: padding \(2, 2\) must be at most half of kernel_size \(3, 3\)"):
        F.avg_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match="at most half"):
        F.max_pool2d(x, (2, 1), padding=(1, 1))
    with pytest.raises(ValueError, match="kernel_size must be positive"):
        F.max_pool2d(x, 0)
    with pytest.raises(ValueError, match="stride must be positive"):
        F.avg_pool2d(x, 2, stride=(1, 0))
    with pytest.raises(ValueError, match="dilation must be positive"):
        F.max_pool2d(x, 2, dilation=0)
    with pytest.raises(ValueError, match="padding must be non-negative"):
        F.max_pool2d(x, 2, padding=-1)
    with pytest.raises(ValueError, match="divisor_override must be non-zero"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d: output_size must be positive, got \(0, 2\)"):
        nn.AdaptiveAvgPool2d((0, 2))(x)
    with pytest.raises(ValueError, match="output_size must be positive"):
        F.adaptive_avg_pool2d(x, -1)


def test_argument_type_errors():
    x = ember.randn(1, 1, 4, 4)
    with pytest.raises(TypeError, match="max_pool2d: expected an ember.Tensor input, got ndarray"):
        F.max_pool2d(np.zeros((1, 1, 4, 4)), 2)
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair of ints, got 2.5"):
        F.max_pool2d(x, 2.5)
    with pytest.raises(TypeError, match="stride must be an int or a pair"):
        F.avg_pool2d(x, 2, stride=(1, 2, 3))
    with pytest.raises(TypeError, match="MaxPool2d: padding must be an int or a pair"):
        nn.MaxPool2d(2, padding="same")
    with pytest.raises(TypeError, match="divisor_override must be None or an int"):
        F.avg_pool2d(x, 2, divisor_override=1.5)
    with pytest.raises(TypeError, match="output_size must be an int or a pair"):
        F.adaptive_avg_pool2d(x, (1, 2, 3))
    with pytest.raises(TypeError, match="max_pool2d: expected a float32 or float64 input, got int64"):
        F.max_pool2d(ember.zeros(1, 1, 4, 4, dtype=ember.int64), 2)
    with pytest.raises(TypeError, match="adaptive_avg_pool2d: expected a float32 or float64 input, got bool"):
        F.adaptive_avg_pool2d(ember.zeros(1, 1, 4, 4, dtype=ember.bool), 1)


def test_backward_entry_points_check_their_arguments():
    x = ember.randn(1, 2, 4, 4)
    out, idx = _C.max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1])
    bad = ember.from_numpy(np.full((1, 2, 2, 2), 16, np.int64))
    with pytest.raises(IndexError, match=r"max_pool2d_backward: an index lies outside the 4x4 input plane"):
        _C.max_pool2d_backward(out, bad, [1, 2, 4, 4])
    with pytest.raises(ValueError, match="must have one shape"):
        _C.max_pool2d_backward(out, idx[:, :1], [1, 2, 4, 4])
    with pytest.raises(ValueError, match=r"does not match the input of shape \(1, 3, 4, 4\)"):
        _C.max_pool2d_backward(out, idx, [1, 3, 4, 4])
    with pytest.raises(TypeError, match="indices must be an int64"):
        _C.max_pool2d_backward(out, out, [1, 2, 4, 4])
    with pytest.raises(ValueError, match=r"avg_pool2d_backward: grad of shape \(1, 2, 2, 2\) does not match"):
        _C.avg_pool2d_backward(out, [1, 2, 4, 4], [3, 3], [1, 1], [1, 1])
    with pytest.raises(ValueError, match="adaptive_avg_pool2d_backward: grad of shape"):
        _C.adaptive_avg_pool2d_backward(out, [2, 2, 4, 4])

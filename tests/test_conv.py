"""Convolution: conv1d / conv2d forward and backward against PyTorch in float64 over a zoo of shapes
(groups and depthwise, dilation, stride with odd sizes, 1x1, kernel == input, C_in = 1, batch 1, no
bias, 'same' with even kernels), in both layouts (channels-last against PyTorch on permuted tensors),
contiguous and strided; gradcheck on tiny shapes; Conv1d / Conv2d modules; the error paths."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember._fn.conv import conv1d as conv1d_any, conv2d as conv2d_any
from conftest import FLOAT_DTYPES, NP, capabilities, noncontiguous, run_under_capability

try:
    import torch
except ImportError:  # the PyTorch comparisons are skipped; gradcheck and the error paths still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is the reference")

RNG = np.random.default_rng(11)
# PyTorch warns that it pads a copy of the input for 'same' with even kernels (ember pads in place)
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

# (N, C_in, C_out, (H, W), kernel, keyword arguments of conv2d)
CASES_2D = {
    "3x3 pad 1": (2, 3, 5, (9, 11), (3, 3), dict(padding=1)),
    "groups 2": (2, 4, 6, (8, 7), (3, 3), dict(padding=1, groups=2)),
    "depthwise": (2, 6, 6, (9, 9), (3, 3), dict(padding=1, groups=6)),
    "depthwise x2": (1, 3, 6, (7, 8), (3, 3), dict(groups=3)),
    "dilation 2": (2, 3, 4, (11, 10), (3, 3), dict(padding=2, dilation=2)),
    "stride 2 odd": (2, 3, 4, (13, 11), (3, 3), dict(stride=2, padding=1)),
    "stride (2, 3) rect": (1, 2, 3, (10, 13), (2, 4), dict(stride=(2, 3), padding=(1, 2), dilation=(1, 2))),
    "1x1": (3, 8, 5, (7, 6), (1, 1), {}),
    "1x1 groups": (2, 8, 4, (5, 5), (1, 1), dict(groups=4)),
    "1x1 stride 2": (2, 4, 3, (7, 7), (1, 1), dict(stride=2)),
    "kernel = input": (2, 3, 4, (5, 6), (5, 6), {}),
    "C_in 1": (4, 1, 8, (12, 12), (3, 3), {}),
    "batch 1": (1, 5, 7, (9, 9), (3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    "no bias": (2, 3, 4, (6, 6), (3, 3), dict(padding=1, bias=False)),
    "same even": (2, 2, 3, (7, 8), (4, 2), dict(padding="same")),
    "same dilated": (1, 2, 3, (9, 8), (3, 2), dict(padding="same", dilation=(2, 3))),
    "valid": (2, 2, 3, (6, 7), (3, 3), dict(padding="valid")),
    # several column tiles per image, tile ends inside rows, and (with 2 threads) images shared by threads
    "tiled": (3, 64, 8, (20, 20), (3, 3), dict(padding=1)),
    "tiled batch 1": (1, 48, 4, (26, 23), (3, 3), dict(padding=1, stride=(1, 2))),
    # enough channels that channels-first convolutions go through the channels-last kernel
    "many channels": (2, 48, 56, (6, 7), (3, 3), dict(padding=(1, 2), dilation=(1, 2))),
    # fewer than 8 input channels per group: weight-gradient tiles mix taps, over a padded band
    "first layer RGB": (2, 3, 40, (11, 13), (3, 3), dict(padding=1)),
    "first layer strided dilated": (2, 1, 16, (15, 14), (5, 3), dict(stride=(2, 1), padding=(2, 1), dilation=(1, 2))),
    "few channels per group": (2, 4, 32, (9, 9), (3, 3), dict(padding=1, groups=2)),
    # 9-pixel rows: tiles run on across rows; enough channels (forward and input gradient) that the
    # weight panels are cut into chunks the tiles accumulate over
    "rows run on, chunked channels": (2, 136, 120, (7, 9), (3, 3), dict(padding=1)),
    # at most 16 output pixels per image: one GEMM over the batch, in several passes when the
    # column buffer of the whole batch would be too large (K = 4608)
    "small images": (5, 6, 7, (5, 5), (3, 3), dict(padding=1, stride=2)),
    "small images, passes": (20, 512, 8, (6, 6), (3, 3), {}),
}


def _torch_conv(x, w, b, gy, kw, spatial):
    """Output and gradients of PyTorch's convolution in float64 (NumPy arrays in, NumPy arrays out).
    Grouped convolutions run group by group: PyTorch's own grouped float64 kernel takes ~0.1 s even on
    tiny inputs."""
    kw = dict(kw)
    groups = kw.pop("groups", 1)
    x, w = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (x, w)]
    bias = torch.tensor(b, dtype=torch.float64, requires_grad=True) if b is not None else None
    fn = torch.nn.functional.conv2d if spatial == 2 else torch.nn.functional.conv1d
    cin, cout = x.shape[1] // groups, w.shape[0] // groups
    y = torch.cat([fn(x[:, g * cin:(g + 1) * cin], w[g * cout:(g + 1) * cout],
                      None if bias is None else bias[g * cout:(g + 1) * cout], **kw) for g in range(groups)], 1)
    if gy is None:
        return y.shape
    leaves = [x, w] + ([bias] if bias is not None else [])
    out = [y.detach().numpy()] + [g.numpy() for g in torch.autograd.grad(y, leaves, torch.tensor(gy))]
    return out + [None] * (4 - len(out))


def _to_layout(a, channels_last, strided, is_weight=False):
    """An NCHW-ordered (or NCL) array as an ember tensor in the requested layout."""
    if channels_last:
        # (N, C, ...) -> (N, ..., C); weights (C_out, C_in/g, ...) -> (..., C_in/g, C_out)
        order = tuple(range(2, a.ndim)) + (1, 0) if is_weight else (0,) + tuple(range(2, a.ndim)) + (1,)
        if strided:  # a permuted view of the contiguous NCHW tensor
            return ember.from_numpy(np.ascontiguousarray(a)).permute(*order)
        return ember.from_numpy(np.ascontiguousarray(a.transpose(order)))
    return noncontiguous(a) if strided else ember.from_numpy(np.ascontiguousarray(a))


def _from_layout(t, channels_last, is_weight=False):
    a = t.numpy()
    if not channels_last:
        return a
    nd = a.ndim
    order = (nd - 1, nd - 2) + tuple(range(nd - 2)) if is_weight else (0, nd - 1) + tuple(range(1, nd - 1))
    return a.transpose(order)


def _check_case(spatial, case, dtype, channels_last, strided):
    n, c_in, c_out, size, kernel, kw = case
    kw = dict(kw)
    use_bias = kw.pop("bias", True)
    groups = kw.get("groups", 1)
    np_dtype = NP[dtype]
    x = RNG.standard_normal((n, c_in) + size).astype(np_dtype)
    w = RNG.standard_normal((c_out, c_in // groups) + kernel).astype(np_dtype)
    b = RNG.standard_normal(c_out).astype(np_dtype) if use_bias else None
    y_shape = _torch_conv(x, w, b, None, kw, spatial)  # then a random output gradient of that shape
    gy = RNG.standard_normal(tuple(y_shape)).astype(np_dtype)
    ref = _torch_conv(x, w, b, gy, kw, spatial)
    # |x| * |w| convolved: the scale of each result's terms, for the float32 rounding bound
    scale = _torch_conv(np.abs(x), np.abs(w), None if b is None else np.abs(b), np.abs(gy), kw, spatial)

    ex = _to_layout(x, channels_last, strided).requires_grad_()
    ew = _to_layout(w, channels_last, strided, is_weight=True).requires_grad_()
    eb = ember.from_numpy(b).requires_grad_() if use_bias else None
    conv = conv2d_any if spatial == 2 else conv1d_any
    y = conv(ex, ew, eb, channels_last=channels_last, **kw)
    y.backward(_to_layout(gy, channels_last, False))
    got = [_from_layout(y, channels_last), _from_layout(ex.grad, channels_last),
           _from_layout(ew.grad, channels_last, is_weight=True), eb.grad.numpy() if use_bias else None]
    assert y.dtype == dtype and ex.grad.shape == ex.shape and ew.grad.shape == ew.shape
    # Each result sums L products; float32 rounding grows with sqrt(L) times the terms' magnitude.
    longest = max(math.prod(y_shape) // y_shape[1], (c_in // groups) * math.prod(kernel), c_out * math.prod(kernel))
    eps = np.finfo(np_dtype).eps
    for name, actual, expected, bound in zip(["out", "grad_x", "grad_w", "grad_b"], got, ref, scale):
        if expected is None:
            assert actual is None
            continue
        assert actual.shape == expected.shape, name
        tol = 8 * eps * math.sqrt(longest) * bound + 1e-300
        err = np.abs(actual.astype(np.float64) - expected)
        assert np.all(err <= tol), f"{name}: max error {err.max():.3g}, bound {tol.flat[err.argmax()]:.3g}"


@needs_torch
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", ["nchw", "nchw strided", "nhwc", "nhwc strided"])
@pytest.mark.parametrize("case", list(CASES_2D))
def test_conv2d_matches_torch(case, layout, dtype):
    _check_case(2, CASES_2D[case], dtype, layout.startswith("nhwc"), layout.endswith("strided"))


CASES_1D = {
    "basic": (2, 3, 4, (17,), (3,), dict(padding=1)),
    "stride dilation groups": (3, 4, 6, (20,), (3,), dict(stride=2, dilation=2, padding=2, groups=2)),
    "same even": (2, 2, 3, (9,), (4,), dict(padding="same", dilation=3)),
    "1x1": (2, 5, 3, (8,), (1,), {}),
    "C_in 1 no bias": (1, 1, 4, (30,), (5,), dict(bias=False)),
}


@needs_torch
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", ["ncl", "ncl strided", "nlc strided"])
@pytest.mark.parametrize("case", list(CASES_1D))
def test_conv1d_matches_torch(case, layout, dtype):
    _check_case(1, CASES_1D[case], dtype, layout.startswith("nlc"), layout.endswith("strided"))


@needs_torch
def test_torch_channels_last_strides_and_unbatched():
    """An NCHW-shaped input with channels-last strides (what x.to(memory_format=torch.channels_last)
    gives) and an unbatched (C, H, W) input give PyTorch's results."""
    x = RNG.standard_normal((2, 5, 6, 3))  # NHWC memory
    w = RNG.standard_normal((4, 3, 3, 3))
    ex = ember.from_numpy(x).permute(0, 3, 1, 2)
    ref = torch.nn.functional.conv2d(torch.tensor(x).permute(0, 3, 1, 2), torch.tensor(w), padding=1)
    np.testing.assert_allclose(F.conv2d(ex, ember.from_numpy(w), padding=1).numpy(), ref.numpy(), rtol=1e-12,
                               atol=1e-12)
    x1 = ember.tensor(x[0].transpose(2, 0, 1), requires_grad=True)
    out = F.conv2d(x1, ember.from_numpy(w), stride=2)
    assert out.shape == (4, 2, 2)
    out.sum().backward()
    t1 = torch.tensor(x[0].transpose(2, 0, 1), requires_grad=True)
    torch.nn.functional.conv2d(t1, torch.tensor(w), stride=2).sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), t1.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_gradcheck_float64():
    def fresh(*shape):
        return ember.tensor(RNG.standard_normal(shape), requires_grad=True)

    x, w, b = fresh(1, 2, 4, 5), fresh(3, 2, 2, 3), fresh(3)
    assert ember.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(1, 2), padding=(1, 0)), (x, w, b))
    x, w = fresh(2, 4, 3, 4), fresh(3, 2, 2, 4)  # NHWC, groups 2, asymmetric 'same'
    assert ember.autograd.gradcheck(lambda x, w: conv2d_any(x, w, None, padding="same", groups=2,
                                                            channels_last=True), (x, w))
    x, w, b = fresh(2, 2, 7), fresh(2, 1, 3), fresh(2)
    assert ember.autograd.gradcheck(lambda x, w, b: F.conv1d(x, w, b, dilation=2, groups=2), (x, w, b))
    x, w = fresh(2, 4, 4), fresh(3, 2, 2, 2)  # unbatched
    assert ember.autograd.gradcheck(lambda x, w: F.conv2d(x, w, padding=1), (x, w))


@needs_torch
@pytest.mark.parametrize("threads", [1, 2])
def test_thread_count_does_not_change_results(threads):
    """Whole images per thread, and images shared by threads (batch 3 and 1 on 2 threads)."""
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(threads)
        for n in (3, 1):
            _check_case(2, (n, 32, 16, (24, 24), (3, 3), dict(padding=1)), ember.float32, False, False)
            _check_case(2, (n, 32, 16, (24, 24), (3, 3), dict(padding=1)), ember.float32, True, False)
            for last in (False, True):  # small images: the batch's GEMM split between threads
                _check_case(2, (5 * n, 64, 16, (5, 5), (3, 3), {}), ember.float32, last, False)
    finally:
        ember.set_num_threads(before)


def test_empty_batch_and_channels():
    x = ember.zeros(0, 3, 5, 5, requires_grad=True)
    w = ember.ones(4, 3, 3, 3, requires_grad=True)
    b = ember.ones(4, requires_grad=True)
    y = F.conv2d(x, w, b)
    assert y.shape == (0, 4, 3, 3)
    y.sum().backward()
    assert x.grad.shape == (0, 3, 5, 5) and np.all(w.grad.numpy() == 0) and np.all(b.grad.numpy() == 0)
    assert F.conv2d(ember.zeros(2, 3, 5, 5), ember.zeros(0, 3, 3, 3)).shape == (2, 0, 3, 3)
    out = ember._C.conv2d(ember.zeros(2, 0, 5, 5), ember.zeros(4, 0, 3, 3), ember.ones(4), [1, 1], [0, 0], [1, 1],
                          1, False)
    np.testing.assert_array_equal(out.numpy(), np.ones((2, 4, 3, 3), np.float32))


def test_backward_returns_only_what_is_asked():
    x, w = ember.randn(2, 3, 6, 6), ember.randn(4, 3, 3, 3)
    g = ember.randn(2, 4, 4, 4)
    gx, gw, gb = ember._C.conv2d_backward(g, x, w, [1, 1], [0, 0], [1, 1], 1, False, False, True, False)
    assert gx is None and gb is None and gw.shape == (4, 3, 3, 3)
    gx, gw, gb = ember._C.conv2d_backward(g, x, w, [1, 1], [0, 0], [1, 1], 1, False, True, False, True)
    assert gw is None and gx.shape == (2, 3, 6, 6) and gb.shape == (4,)


def test_capability_paths_agree():
    """The baseline build's column-buffer path, and the SIMD paths (with the direct channels-last
    kernel), give the same forward and gradients in both layouts."""
    code = ("import numpy as np, ember\n"
            "from ember._fn.conv import conv2d\n"
            "r = np.random.default_rng(0)\n"
            "out = []\n"
            "cases = [(dict(padding=1, groups=2, stride=(1, 2)), 16, 8, 11, 12, 3),\n"
            "         (dict(padding=(2, 1), dilation=(2, 1)), 16, 8, 11, 12, 3),\n"
            "         (dict(padding=1), 9, 20, 5, 7, 3),\n"  # rows and channels shorter than the tiles
            "         (dict(padding='same'), 1, 6, 9, 9, 4),\n"  # a first layer, an even kernel
            "         (dict(padding=1, groups=10), 10, 10, 6, 6, 3),\n"  # depthwise
            "         (dict(padding=1), 24, 40, 9, 13, 3),\n"  # channels first through transposed bands
            "         (dict(padding=1), 3, 20, 9, 10, 3),\n"  # weight-gradient tiles mixing taps
            "         (dict(padding=1, groups=2), 4, 32, 7, 7, 3),\n"
            "         (dict(), 20, 12, 5, 5, 3)]\n"  # small images: one GEMM over the batch
            "for dtype, last in [(d, l) for d in (np.float64, np.float32) for l in (False, True)]:\n"
            "    for kw, c_in, c_out, h, w_, k in cases:\n"
            "        x = r.standard_normal((2, c_in, h, w_)).astype(dtype)\n"
            "        w = r.standard_normal((c_out, c_in // kw.get('groups', 1), k, k)).astype(dtype)\n"
            "        if last:\n"
            "            x, w = x.transpose(0, 2, 3, 1).copy(), w.transpose(2, 3, 1, 0).copy()\n"
            "        x, w = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)\n"
            "        b = ember.tensor(r.standard_normal(c_out).astype(dtype), requires_grad=True)\n"
            "        y = conv2d(x, w, b, channels_last=last, **kw)\n"
            "        y.backward(ember.from_numpy(r.standard_normal(y.shape).astype(dtype)))\n"
            "        out += [t.numpy().astype(np.float64).ravel() for t in (y, x.grad, w.grad, b.grad)]\n"
            "print(repr(np.concatenate(out).tolist()))\n")
    results = {cap: np.array(eval(run_under_capability(cap, code))) for cap in capabilities()}
    reference = results["default"]
    half = len(reference) // 2  # float64 results, then float32 ones
    for cap, values in results.items():
        np.testing.assert_allclose(values[:half], reference[:half], rtol=1e-12, atol=1e-12, err_msg=cap)
        # float32 sums of up to ~150 terms of order 1, in different orders
        np.testing.assert_allclose(values[half:], reference[half:], rtol=1e-4, atol=1e-4, err_msg=cap)


# ---- modules ------------------------------------------------------------------------------------------

def test_module_init_distribution():
    ember.manual_seed(5)
    layer = nn.Conv2d(16, 64, 5)
    fan_in = 16 * 25
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.shape == (64, 16, 5, 5) and b.shape == (64,) and layer.weight.dtype == ember.float32
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() / (bound / math.sqrt(3)) - 1) < 0.02 and abs(w.mean()) < 0.02 * bound
    layer = nn.Conv1d(4, 6, 3, groups=2, bias=False, dtype=ember.float64)
    assert layer.weight.shape == (6, 2, 3) and layer.bias is None and layer.weight.dtype == ember.float64
    assert np.abs(layer.weight.numpy()).max() <= 1 / math.sqrt(6)


@needs_torch
def test_module_repr_attributes_and_forward():
    configs = [((4, 6, 3), {}), ((4, 6, (3, 5)), {}), ((4, 6, 3), dict(padding="same")),
               ((4, 6, 3), dict(stride=2, padding=1, dilation=2, groups=2, bias=False)),
               ((4, 6, 3), dict(padding="valid")), ((4, 6, 2), dict(padding=(0, 1)))]
    for args, kw in configs:
        for cls in ("Conv1d", "Conv2d"):
            if cls == "Conv1d" and (isinstance(args[2], tuple) or isinstance(kw.get("padding"), tuple)):
                continue
            ours, theirs = getattr(nn, cls)(*args, **kw), getattr(torch.nn, cls)(*args, **kw)
            assert repr(ours) == repr(theirs)
            for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                         "padding_mode", "output_padding", "transposed"):
                assert getattr(ours, attr) == getattr(theirs, attr), attr
            # the same weights give the same output
            with torch.no_grad():
                theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
                if ours.bias is not None:
                    theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
            shape = (2, 4, 11) if cls == "Conv1d" else (2, 4, 11, 9)
            x = RNG.standard_normal(shape).astype(np.float32)
            np.testing.assert_allclose(ours(ember.from_numpy(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                                       rtol=1e-4, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_module_padding_modes(mode):
    """Output and gradients against PyTorch for each padding mode, with symmetric, 'same' (even
    kernel: one more after) and strided padding, batched and not."""
    configs = [("Conv2d", (2, 3, 7, 6), 3, dict(padding=2)),
               ("Conv2d", (2, 3, 7, 6), (4, 3), dict(padding="same")),
               ("Conv2d", (3, 7, 6), 3, dict(padding=(1, 2), stride=2)),
               ("Conv1d", (2, 3, 9), 3, dict(padding=3, dilation=2))]
    for cls, shape, kernel, kw in configs:
        ours = getattr(nn, cls)(3, 4, kernel, padding_mode=mode, dtype=ember.float64, **kw)
        theirs = getattr(torch.nn, cls)(3, 4, kernel, padding_mode=mode, **kw).double()
        assert repr(ours) == repr(theirs)
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
            theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
        x = RNG.standard_normal(shape)
        ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = ours(ex), theirs(tx)
        gy = RNG.standard_normal(y.shape)
        y.backward(ember.tensor(gy))
        ty.backward(torch.tensor(gy))
        for got, want in [(y, ty), (ex.grad, tx.grad), (ours.weight.grad, theirs.weight.grad)]:
            np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_module_trains_through_autograd():
    layer = nn.Conv2d(2, 3, 3, padding=1, dtype=ember.float64)
    x = ember.tensor(RNG.standard_normal((2, 2, 5, 5)))
    layer(x).sum().backward()
    assert layer.weight.grad.shape == (3, 2, 3, 3) and layer.bias.grad.shape == (3,)
    np.testing.assert_allclose(layer.bias.grad.numpy(), np.full(3, 50.0))


def test_module_errors():
    with pytest.raises(ValueError, match=r"Conv2d: expected input of shape \(N, 3, H, W\), got \(8, 1, 28, 28\)"):
        nn.Conv2d(3, 32, 3)(ember.zeros(8, 1, 28, 28))
    with pytest.raises(ValueError, match=r"Conv2d: expected input of shape \(N, 3, H, W\) or \(3, H, W\), "
                                         r"got \(1, 28, 28\)"):
        nn.Conv2d(3, 32, 3)(ember.zeros(1, 28, 28))
    with pytest.raises(ValueError, match=r"Conv2d: expected input of shape .* got \(28, 28\)"):
        nn.Conv2d(3, 32, 3)(ember.zeros(28, 28))
    with pytest.raises(ValueError, match=r"Conv1d: expected input of shape \(N, 4, L\), got \(2, 3, 9\)"):
        nn.Conv1d(4, 2, 3)(ember.zeros(2, 3, 9))
    with pytest.raises(TypeError, match="Conv2d: expected an ember.Tensor"):
        nn.Conv2d(3, 32, 3)(np.zeros((1, 3, 8, 8)))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(4, 6, 3, groups=0)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(4, 6, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="invalid padding string 'full'"):
        nn.Conv2d(4, 6, 3, padding="full")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(4, 6, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="padding_mode='reflect' needs padding smaller than the input"):
        nn.Conv2d(4, 6, 3, padding=3, padding_mode="reflect")(ember.zeros(1, 4, 3, 8))
    with pytest.raises(ValueError, match="padding_mode='circular' wraps around more than once"):
        nn.Conv1d(4, 6, 3, padding=5, padding_mode="circular")(ember.zeros(1, 4, 4))
    with pytest.raises(ValueError, match="kernel_size to be an int or a tuple of 2 ints"):
        nn.Conv2d(4, 6, (3, 3, 3))


# ---- functional errors ---------------------------------------------------------------------------------

def test_functional_errors():
    x, w = ember.zeros(2, 4, 8, 8), ember.zeros(6, 2, 3, 3)
    with pytest.raises(ValueError, match=r"conv2d: weight \(6, 2, 3, 3\) with groups=3 expects input"):
        F.conv2d(x, w, groups=3)
    with pytest.raises(ValueError, match=r"groups=4 must divide the output channels"):
        F.conv2d(x, ember.zeros(6, 1, 3, 3), groups=4)
    with pytest.raises(ValueError, match=r"conv2d: the kernel \(3, 3\) with dilation \(1, 1\) spans 3 positions but "
                                         r"the padded input is only 2 wide"):
        F.conv2d(x[:, :, :2, :2], w, groups=2)
    with pytest.raises(ValueError, match=r"spans 5 positions"):
        F.conv2d(x[:, :, :4, :4], w, groups=2, dilation=2)
    with pytest.raises(ValueError, match="padding must be non-negative"):
        F.conv2d(x, w, groups=2, padding=-1)
    with pytest.raises(ValueError, match="stride must be positive"):
        F.conv2d(x, w, groups=2, stride=0)
    with pytest.raises(ValueError, match="dilation must be positive"):
        F.conv2d(x, w, groups=2, dilation=(1, 0))
    with pytest.raises(ValueError, match=r"conv2d: expected padding to be an int or a tuple of 2 ints"):
        F.conv2d(x, w, groups=2, padding=(1, 1, 1))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        F.conv2d(x, w, groups=2, padding="same", stride=2)
    with pytest.raises(ValueError, match="invalid padding string 'foo'"):
        F.conv2d(x, w, groups=2, padding="foo")
    with pytest.raises(ValueError, match=r"conv2d: expected a 3-d \(unbatched\) or 4-d input \(N, C_in, H, W\), got "
                                         r"shape \(8, 8\)"):
        F.conv2d(x[0, 0], w)
    with pytest.raises(ValueError, match=r"conv1d: expected a 2-d \(unbatched\) or 3-d input"):
        F.conv1d(x, ember.zeros(6, 4, 3))
    with pytest.raises(ValueError, match=r"conv2d: expected a 4-d weight \(C_out, C_in / groups, kh, kw\)"):
        F.conv2d(x, ember.zeros(6, 4, 3))
    with pytest.raises(ValueError, match=r"bias must have shape \(6,\)"):
        F.conv2d(x, w, ember.zeros(4), groups=2)
    with pytest.raises(TypeError, match="conv2d: input is float64 but weight is float32"):
        F.conv2d(x.double(), w, groups=2)
    with pytest.raises(TypeError, match="conv2d: expected a float32 or float64 input, got int64"):
        F.conv2d(x.long(), w.long(), groups=2)
    with pytest.raises(TypeError, match="conv2d: expected input to be an ember.Tensor"):
        F.conv2d(np.zeros((2, 4, 8, 8)), w)
    with pytest.raises(ValueError, match=r"conv2d_backward: grad has shape \(2, 6, 5, 5\) but the convolution's "
                                         r"output has shape \(2, 6, 6, 6\)"):
        ember._C.conv2d_backward(ember.zeros(2, 6, 5, 5), x, w, [1, 1], [0, 0], [1, 1], 2, False, True, True, True)
    with pytest.raises(ValueError, match=r"expected a 4-d input \(N, H, W, C_in\)"):
        ember._C.conv2d(x[0], w, None, [1, 1], [0, 0], [1, 1], 1, True)

"""Normalization benchmarks: BatchNorm2d in training mode on (8, 64, 56, 56) in both layouts (NCHW, and
channels-last: ember's channels_last kernels against PyTorch's channels_last memory format) and LayerNorm
on (4096, 1024), forward alone and forward + backward, float32, beside PyTorch measured in the same run
(medians, and PyTorch's time over ember's).

    python -m ember.bench.norm
"""
import numpy as np

import ember
from ember._fn import norm as N

from ._timing import median_time, row, try_import_torch


def _check(name, got, want, tol):
    err = float(np.max(np.abs(got - want))) if got.size else 0.0
    if not err <= tol * max(1.0, float(np.max(np.abs(want)))):
        raise AssertionError(f"bench_norm: {name} differs from the reference by {err}")


def _reference_batch_norm(x, w, b, g, axes):
    """Training-mode batch norm output and input gradient in float64 NumPy, statistics over `axes`."""
    x = x.astype(np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    invstd = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-5)
    x_hat = (x - mean) * invstd
    g_hat = g * w
    dx = invstd * (g_hat - g_hat.mean(axis=axes, keepdims=True)
                   - x_hat * (g_hat * x_hat).mean(axis=axes, keepdims=True))
    return x_hat * w + b, dx


def _case(torch, name, size, ember_fwd, ember_inputs, torch_fwd, torch_inputs, g, torch_g, want, repeat):
    """Validates ember's output and input gradient for the upstream gradient g against `want` (output,
    dx, in ember's layout), then times forward and forward + backward for both libraries (PyTorch's
    upstream gradient: torch_g): two result rows."""
    eg = ember.from_numpy(g)
    out = ember_fwd()
    _check(f"{name} output", out.numpy(), want[0], 1e-4)
    _check(f"{name} input gradient", ember.autograd.grad(out, ember_inputs, eg)[0].numpy(), want[1], 1e-4)

    def ember_step():
        return ember.autograd.grad(ember_fwd(), ember_inputs, eg)

    rows = []
    with ember.no_grad():
        e_fwd = median_time(ember_fwd, repeat=repeat)
    e_step = median_time(ember_step, repeat=repeat)
    t_fwd = t_step = None
    if torch is not None:
        tg = torch.from_numpy(torch_g)
        if not torch_inputs[0].is_contiguous():
            tg = tg.contiguous(memory_format=torch.channels_last)

        def torch_step():
            return torch.autograd.grad(torch_fwd(), torch_inputs, tg)

        with torch.no_grad():
            t_fwd = median_time(torch_fwd, repeat=repeat)
        t_step = median_time(torch_step, repeat=repeat)
    rows.append(row(f"{name} fwd", size, None, None, e_fwd, None, t_fwd))
    rows.append(row(f"{name} f+b", size, None, None, e_step, None, t_step))
    return rows


def bench_norm(quick=False):
    torch = try_import_torch()
    repeat = 5 if quick else 11
    rng = np.random.default_rng(0)
    rows = []

    # BatchNorm2d, training mode, NCHW and channels-last
    n, c, h, w_ = 8, 64, 56, 56
    x = rng.standard_normal((n, c, h, w_)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    weight = rng.uniform(0.5, 1.5, c).astype(np.float32)
    bias = rng.standard_normal(c).astype(np.float32)
    want = _reference_batch_norm(x, weight[:, None, None], bias[:, None, None], g, (0, 2, 3))
    for channels_last in (False, True):
        to_last = (0, 2, 3, 1)
        ex_np = np.ascontiguousarray(x.transpose(to_last)) if channels_last else x
        ex = ember.from_numpy(ex_np).requires_grad_()
        ew = ember.from_numpy(weight).requires_grad_()
        eb = ember.from_numpy(bias).requires_grad_()
        rm, rv = ember.zeros(c), ember.ones(c)
        eg = np.ascontiguousarray(g.transpose(to_last)) if channels_last else g
        e_want = tuple(np.ascontiguousarray(a.transpose(to_last)) for a in want) if channels_last else want

        def ember_fwd(ex=ex, ew=ew, eb=eb, rm=rm, rv=rv, cl=channels_last):
            return N.batch_norm(ex, rm, rv, ew, eb, True, 0.1, 1e-5, channels_last=cl)

        torch_fwd = t_inputs = None
        if torch is not None:
            tx = torch.from_numpy(x)
            if channels_last:
                tx = tx.contiguous(memory_format=torch.channels_last)
            tx.requires_grad_()
            bn = torch.nn.BatchNorm2d(c)
            with torch.no_grad():
                bn.weight.copy_(torch.from_numpy(weight))
                bn.bias.copy_(torch.from_numpy(bias))
            t_inputs = [tx, bn.weight, bn.bias]
            torch_fwd = lambda bn=bn, tx=tx: bn(tx)  # noqa: E731
        name = "batch_norm2d NHWC" if channels_last else "batch_norm2d NCHW"
        rows += _case(torch, name, f"{n}x{c}x{h}x{w_}", ember_fwd, [ex, ew, eb], torch_fwd, t_inputs,
                      eg, g, e_want, repeat)

    # LayerNorm over the last dim
    r, d = 4096, 1024
    x = rng.standard_normal((r, d)).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    weight = rng.uniform(0.5, 1.5, d).astype(np.float32)
    bias = rng.standard_normal(d).astype(np.float32)
    want = _reference_batch_norm(x.T, weight[:, None], bias[:, None], g.T, (0,))  # rows as channels
    want = tuple(a.T for a in want)
    ex = ember.from_numpy(x).requires_grad_()
    ew, eb = ember.from_numpy(weight).requires_grad_(), ember.from_numpy(bias).requires_grad_()
    torch_fwd = t_inputs = None
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_()
        tw, tb = torch.from_numpy(weight).requires_grad_(), torch.from_numpy(bias).requires_grad_()
        t_inputs = [tx, tw, tb]
        torch_fwd = lambda: torch.nn.functional.layer_norm(tx, (d,), tw, tb)  # noqa: E731
    rows += _case(torch, "layer_norm", f"{r}x{d}", lambda: N.layer_norm(ex, (d,), ew, eb), [ex, ew, eb], torch_fwd,
                  t_inputs, g, g, want, repeat)
    return rows


def _print(rows):
    print(f"{'bench':<26}{'size':>14}{'ember us':>12}{'torch us':>12}{'x torch':>10}")
    for r in rows:
        torch_us = f"{r['torch']:12.1f}" if r["torch"] is not None else f"{'-':>12}"
        ratio = f"{r['vs_torch']:10.2f}" if r["vs_torch"] is not None else f"{'-':>10}"
        print(f"{r['bench']:<26}{r['size']:>14}{r['ember']:12.1f}{torch_us}{ratio}")
    print("x torch: PyTorch's time divided by ember's (above 1: ember is faster)")


if __name__ == "__main__":
    print(f"ember {ember.__version__}, {ember.get_num_threads()} threads, CPU path {ember._C.cpu_capability()}")
    _print(bench_norm())

"""Pooling benchmarks: 2x2 max pooling (stride 2) of float32 images, forward + backward through autograd
and forward alone, in NCHW and channels-last, beside PyTorch measured in the same run (medians, and
PyTorch's time over ember's).

    python -m ember.bench.pool
"""
import numpy as np

import ember
from ember._fn import pool as P

from ._timing import median_time, row, try_import_torch

SHAPES = ((32, 32, 26, 26), (8, 64, 56, 56))  # (N, C, H, W): a small CNN's first pool, a ResNet stage


def _validate(a, out, grad, g, channels_last):
    """ember's output must be the 2x2 block maxima and its gradient g at exactly one element of every
    block (the float64 definition) before anything is timed. a, g: NCHW arrays."""
    back = (lambda t: t.numpy().transpose(0, 3, 1, 2)) if channels_last else (lambda t: t.numpy())
    n, c, h, w = a.shape
    blocks = (n, c, h // 2, 2, w // 2, 2)
    gx = back(grad).reshape(blocks)
    ok = (np.array_equal(back(out), a.reshape(blocks).max(axis=(3, 5)))
          and np.array_equal(np.count_nonzero(gx, axis=(3, 5)), np.ones(g.shape, np.int64))
          and np.allclose(gx.sum(axis=(3, 5)), g))
    if not ok:
        raise AssertionError(f"bench_max_pool: ember's max_pool2d of shape {a.shape} (channels_last={channels_last}) "
                             "differs from the reference")


def bench_max_pool(shapes=SHAPES, quick=False):
    """max_pool2d(x, 2) for each (N, C, H, W): forward + backward (the input's gradient through autograd)
    and forward only, NCHW, then channels-last (ember's native NHWC kernels against PyTorch's
    channels_last memory format); times in microseconds per call."""
    torch = try_import_torch()
    repeat = 5 if quick else 15
    rng = np.random.default_rng(0)
    rows = []
    for shape in shapes:
        a = rng.standard_normal(shape, dtype=np.float32)
        g = rng.standard_normal((shape[0], shape[1], shape[2] // 2, shape[3] // 2), dtype=np.float32)
        for channels_last in (False, True):
            to_layout = (lambda v: np.ascontiguousarray(v.transpose(0, 2, 3, 1))) if channels_last else (lambda v: v)
            x = ember.from_numpy(to_layout(a)).requires_grad_()
            eg = ember.from_numpy(to_layout(g))

            def forward():
                return P.max_pool2d(x, 2, channels_last=channels_last)

            def step():
                return ember.autograd.grad(forward(), x, eg)[0]

            _validate(a, forward(), step(), g, channels_last)
            times = {"f+b": median_time(step, repeat=repeat), "fwd": median_time(forward, repeat=repeat)}
            torch_times = {"f+b": None, "fwd": None}
            if torch is not None:
                fmt = torch.channels_last if channels_last else torch.contiguous_format
                tx = torch.from_numpy(a).contiguous(memory_format=fmt).requires_grad_()
                tg = torch.from_numpy(g).contiguous(memory_format=fmt)

                def torch_forward():
                    return torch.nn.functional.max_pool2d(tx, 2)

                torch_times["f+b"] = median_time(lambda: torch.autograd.grad(torch_forward(), tx, tg)[0],
                                                 repeat=repeat)
                torch_times["fwd"] = median_time(torch_forward, repeat=repeat)
            layout = "nhwc" if channels_last else "nchw"
            for kind in ("f+b", "fwd"):
                rows.append(row(f"max_pool2d 2x2 {kind} {layout}", "x".join(map(str, shape)), None, None, times[kind],
                                None, torch_times[kind]))
    return rows


def _print(rows):
    print(f"{'bench':<28}{'size':>14}{'ember us':>12}{'torch us':>12}{'x torch':>10}")
    for r in rows:
        torch_us = f"{r['torch']:12.1f}" if r["torch"] is not None else f"{'-':>12}"
        ratio = f"{r['vs_torch']:10.2f}" if r["vs_torch"] is not None else f"{'-':>10}"
        print(f"{r['bench']:<28}{r['size']:>14}{r['ember']:12.1f}{torch_us}{ratio}")
    print("x torch: PyTorch's time divided by ember's (above 1: ember is faster)")


if __name__ == "__main__":
    print(f"ember {ember.__version__}, {ember.get_num_threads()} threads, CPU path {ember._C.cpu_capability()}")
    _print(bench_max_pool())

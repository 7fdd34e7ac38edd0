"""Reduction benchmarks: GB/s of a full float32 sum, beside NumPy (and PyTorch when installed)
measured in the same run.

    python -m ember.bench.reduce
"""
import numpy as np

import ember
from ._timing import median_time, row, try_import_torch


def _validate(x, a):
    """The ember sum must match a float64 sum before it is timed."""
    got = x.sum().item()
    exact = float(a.astype(np.float64).sum())
    if abs(got - exact) > 1e-5 * max(1.0, abs(exact)):
        raise AssertionError(f"bench_sum: ember sum {got} differs from the float64 reference {exact}")


def bench_sum(sizes=(1 << 20, 1 << 22, 1 << 24), quick=False):
    """Full float32 sums of each size: one row per size, rates in GB/s of input read."""
    torch = try_import_torch()
    repeat = 5 if quick else 15
    rows = []
    for n in sizes:
        a = np.random.default_rng(0).random(n, dtype=np.float32)
        x = ember.from_numpy(a)
        _validate(x, a)
        ember_s = median_time(lambda: ember._C.sum(x, None, False), repeat=repeat)
        numpy_s = median_time(lambda: a.sum(), repeat=repeat)
        torch_s = None
        if torch is not None:
            ta = torch.from_numpy(a)
            torch_s = median_time(lambda: ta.sum(), repeat=repeat)
        rows.append(row("sum float32", n, "GB/s", a.nbytes, ember_s, numpy_s, torch_s))
    return rows


def _print(rows):
    print(f"{'bench':<14}{'size':>10}{'ember':>10}{'numpy':>10}{'torch':>10}{'vs numpy':>10}  unit")
    for r in rows:
        def fmt(v):
            return f"{v:10.2f}" if v is not None else f"{'-':>10}"
        print(f"{r['bench']:<14}{r['size']:>10}{fmt(r['ember'])}{fmt(r['numpy'])}{fmt(r['torch'])}"
              f"{fmt(r['vs_numpy'])}  {r['unit']}")


if __name__ == "__main__":
    print(f"ember {ember.__version__}, {ember.get_num_threads()} threads, CPU path {ember._C.cpu_capability()}")
    _print(bench_sum())

"""Elementwise benchmarks: memory-bound add and relu in GB/s (bytes read + written per call), and
the per-call cost of a tiny `a + b`, each beside NumPy (and PyTorch when installed) in the same run.

    python -m ember.bench.elementwise [--quick]
"""
import sys

import numpy as np

import ember
from ._timing import median_time, row, try_import_torch


def _check(name, got, expected):
    """Benchmarks time only results that are right."""
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6, atol=0,
                               err_msg=f"bench {name}: ember disagrees with NumPy; not timing it")


def bench_elementwise(sizes=(1 << 20, 1 << 22, 1 << 24), quick=False):
    """add and relu on contiguous float32 vectors of each size, in GB/s of memory traffic.
    Each call allocates its result, as `a + b` does in all three libraries."""
    torch = try_import_torch()
    repeat = 5 if quick else 15
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        na = rng.standard_normal(n, dtype=np.float32)
        nb = rng.standard_normal(n, dtype=np.float32)
        ea, eb = ember.from_numpy(na), ember.from_numpy(nb)
        ta = tb = None
        if torch is not None:
            ta, tb = torch.from_numpy(na), torch.from_numpy(nb)
        cases = [
            ("add", 3 * 4 * n, lambda: ea + eb, lambda: na + nb,
             None if torch is None else (lambda: ta + tb)),
            ("relu", 2 * 4 * n, lambda: ea.relu(), lambda: np.maximum(na, np.float32(0)),
             None if torch is None else (lambda: torch.relu(ta))),
        ]
        for name, nbytes, ember_fn, numpy_fn, torch_fn in cases:
            _check(name, ember_fn(), numpy_fn())
            ember_s = median_time(ember_fn, repeat=repeat)
            numpy_s = median_time(numpy_fn, repeat=repeat)
            torch_s = None if torch_fn is None else median_time(torch_fn, repeat=repeat)
            r = row(f"elementwise.{name}", n, "GB/s", nbytes, ember_s, numpy_s, torch_s)
            r["threads"] = ember.get_num_threads()
            rows.append(r)
    return rows


def bench_tiny_op(quick=False):
    """Microseconds per call of `a + b` on 2-element float32 tensors: the fixed cost of one op
    (Python call, argument checks, allocation), which dominates small models."""
    torch = try_import_torch()
    na = np.array([1.0, 2.0], dtype=np.float32)
    nb = np.array([3.0, 4.0], dtype=np.float32)
    ea, eb = ember.tensor(na), ember.tensor(nb)
    _check("tiny_add", ea + eb, na + nb)
    repeat = 5 if quick else 15
    ember_s = median_time(lambda: ea + eb, repeat=repeat, min_run_s=0.01)
    numpy_s = median_time(lambda: na + nb, repeat=repeat, min_run_s=0.01)
    torch_s = None
    if torch is not None:
        ta, tb = torch.tensor(na), torch.tensor(nb)
        torch_s = median_time(lambda: ta + tb, repeat=repeat, min_run_s=0.01)
    return [row("elementwise.tiny_add", 2, None, None, ember_s, numpy_s, torch_s)]


def _print(rows):
    def fmt(v, spec):
        return "-" if v is None else format(v, spec)

    print(f"{'bench':24} {'size':>10} {'unit':>8} {'ember':>9} {'numpy':>9} {'torch':>9} "
          f"{'vs numpy':>9} {'vs torch':>9}")
    for r in rows:
        print(f"{r['bench']:24} {r['size']:>10} {r['unit']:>8} {fmt(r['ember'], '9.3f')} {fmt(r['numpy'], '9.3f')} "
              f"{fmt(r['torch'], '9.3f')} {fmt(r['vs_numpy'], '8.2f')}x {fmt(r['vs_torch'], '8.2f')}x")


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    print(f"threads: {ember.get_num_threads()}, cpu capability: {ember._C.cpu_capability()}")
    _print(bench_elementwise(quick=quick) + bench_tiny_op(quick=quick))

"""Elementwise benchmarks: memory-bound add and relu in GB/s (bytes read + written per call), the
relu and gelu backward kernels in the same unit, and the per-call cost of a tiny `a + b`, each
beside NumPy (and PyTorch when installed) in the same run.

    python -m ember.bench.elementwise [--quick]
"""
import math
import sys

import numpy as np

import ember
from ._timing import median_time, row, try_import_torch


def _check(name, got, expected, rtol=1e-6, atol=0.0):
    """Benchmarks time only results that are right."""
    np.testing.assert_allclose(np.asarray(got), expected, rtol=rtol, atol=atol,
                               err_msg=f"bench {name}: ember disagrees with the reference; not timing it")


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


def _gelu_grad_float64(x):
    """d gelu / dx in float64, to validate against: NumPy has no erf, so math.erf per element."""
    x = np.asarray(x, dtype=np.float64)
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * (1 + erf(x / math.sqrt(2))) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _numpy_gelu_tanh_backward(g, x):
    """PyTorch's gelu(approximate='tanh') derivative in float32 NumPy."""
    k, c = np.float32(math.sqrt(2 / math.pi)), np.float32(0.044715)
    t = np.tanh(k * (x + c * x * x * x))
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x))


def bench_activation_backward(sizes=(1 << 20, 1 << 22, 1 << 24), quick=False):
    """relu_backward(grad, out) and gelu_backward(grad, x) ('none' and 'tanh') on contiguous float32
    vectors, in GB/s (two inputs read, one result written), beside PyTorch's threshold_backward /
    gelu_backward and NumPy's formulas (NumPy has no erf: no NumPy peer for the exact gelu)."""
    torch = try_import_torch()
    repeat = 5 if quick else 15
    rng = np.random.default_rng(1)
    rows = []
    for n in sizes:
        nx = rng.standard_normal(n, dtype=np.float32) * 3
        ng = rng.standard_normal(n, dtype=np.float32)
        nout = np.maximum(nx, np.float32(0))
        ex, eg, eout = ember.from_numpy(nx), ember.from_numpy(ng), ember.from_numpy(nout)
        if torch is not None:
            tx, tg, tout = torch.from_numpy(nx), torch.from_numpy(ng), torch.from_numpy(nout)
            aten = torch.ops.aten
        cases = [
            ("relu_backward", lambda: ember._C.relu_backward(eg, eout),
             lambda: np.where(nout > 0, ng, np.float32(0)),
             None if torch is None else (lambda: aten.threshold_backward(tg, tout, 0)), None),
            ("gelu_backward", lambda: ember._C.gelu_backward(eg, ex), None,
             None if torch is None else (lambda: aten.gelu_backward(tg, tx)),
             lambda got: _check("gelu_backward", got.numpy()[:4096], ng[:4096] * _gelu_grad_float64(nx[:4096]),
                                rtol=1e-5, atol=1e-6)),
            ("gelu_tanh_backward", lambda: ember._C.gelu_backward(eg, ex, "tanh"),
             lambda: _numpy_gelu_tanh_backward(ng, nx),
             None if torch is None else (lambda: aten.gelu_backward(tg, tx, approximate="tanh")),
             # float32 roundings of two formulas: a few ulps, more near the derivative's zeros
             lambda got: _check("gelu_tanh_backward", got, _numpy_gelu_tanh_backward(ng, nx), rtol=1e-4, atol=1e-5)),
        ]
        for name, ember_fn, numpy_fn, torch_fn, validate in cases:
            if validate is not None:
                validate(ember_fn())
            else:
                _check(name, ember_fn(), numpy_fn())
            ember_s = median_time(ember_fn, repeat=repeat)
            numpy_s = None if numpy_fn is None else median_time(numpy_fn, repeat=repeat)
            torch_s = None if torch_fn is None else median_time(torch_fn, repeat=repeat)
            r = row(f"elementwise.{name}", n, "GB/s", 3 * 4 * n, ember_s, numpy_s, torch_s)
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
        return "-".rjust(int(spec.split(".")[0])) if v is None else format(v, spec)

    print(f"{'bench':32} {'size':>10} {'unit':>8} {'ember':>9} {'numpy':>9} {'torch':>9} "
          f"{'vs numpy':>9} {'vs torch':>9}")
    for r in rows:
        print(f"{r['bench']:32} {r['size']:>10} {r['unit']:>8} {fmt(r['ember'], '9.3f')} {fmt(r['numpy'], '9.3f')} "
              f"{fmt(r['torch'], '9.3f')} {fmt(r['vs_numpy'], '8.2f')}x {fmt(r['vs_torch'], '8.2f')}x")


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    print(f"threads: {ember.get_num_threads()}, cpu capability: {ember._C.cpu_capability()}")
    _print(bench_elementwise(quick=quick) + bench_activation_backward(quick=quick) + bench_tiny_op(quick=quick))

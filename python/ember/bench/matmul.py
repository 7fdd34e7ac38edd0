"""Square matrix products: ember against NumPy (its BLAS) and PyTorch when installed, same run.

Each size is validated against a float64 product before it is timed. Timings alternate between
the libraries in rounds, so that a burst of load on a shared machine hits all of them alike.
Between libraries the benchmark pauses: BLAS worker threads keep spinning for about 0.1 s after a
call and, on a machine with few cores, take the cores the next library's threads need (measured:
ember's 2-thread n = 512 product drops from ~140 to ~35 GFLOP/s right after a NumPy product).
"""
import time

import numpy as np

import ember

from ._timing import median_time, row, try_import_torch

_NP_DTYPES = {"float32": np.float32, "float64": np.float64}


def _repeat_for(n):
    return 15 if n <= 256 else 7 if n <= 1024 else 5


def _validate(n, a, b, out):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    # A length-n dot product rounds n times: bound the error relative to |A| @ |B|.
    eps = np.finfo(a.dtype).eps
    bound = 4 * np.sqrt(n) * eps * (np.abs(a64) @ np.abs(b64)) + 1e-30
    err = np.abs(out.astype(np.float64) - a64 @ b64)
    if not np.all(err <= bound):
        raise AssertionError(f"matmul {n}x{n}: ember differs from the float64 reference by "
                             f"{err.max():.3g} (bound {bound[np.unravel_index(err.argmax(), err.shape)]:.3g})")


_SETTLE_S = 0.2  # lets the previous library's thread pool go idle (see the module docstring)


def bench_matmul(sizes=(64, 128, 256, 512, 1024, 2048), repeat=None, quick=False, dtype="float32",
                 rounds=3):
    """For each square size n: C = A @ B with A, B (n x n) of `dtype`. Returns one row per size
    (see _timing.row): median seconds per product, GFLOP/s (2 n^3 FLOPs) and the ratios
    numpy_s / ember_s and torch_s / ember_s (> 1: ember faster). `quick` keeps n <= 512 and
    fewer repeats."""
    np_dtype = _NP_DTYPES[dtype]
    torch = try_import_torch()
    if quick:
        sizes = tuple(n for n in sizes if n <= 512) or tuple(sizes)[:1]
        rounds = 1
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        a = rng.standard_normal((n, n)).astype(np_dtype)
        b = rng.standard_normal((n, n)).astype(np_dtype)
        ea, eb = ember.from_numpy(a), ember.from_numpy(b)
        _validate(n, a, b, ember.matmul(ea, eb).numpy())

        runs = {"ember": lambda: ember.matmul(ea, eb), "numpy": lambda: a @ b}
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            runs["torch"] = lambda: ta @ tb
        reps = repeat or (5 if quick else _repeat_for(n))
        # About 50 ms of warm-up calls (at ~100 GFLOP/s) so that the thread pool is awake again.
        warmup = max(2, int(0.05 / (2.0 * n ** 3 / 1e11)))
        samples = {name: [] for name in runs}
        for _ in range(rounds):
            for name, fn in runs.items():
                time.sleep(_SETTLE_S)
                samples[name].append(median_time(fn, repeat=reps, warmup=warmup))
        med = {name: sorted(s)[len(s) // 2] for name, s in samples.items()}
        rows.append(row(f"matmul {dtype}", n, "GFLOP/s", 2.0 * n ** 3, med["ember"], med["numpy"],
                        med.get("torch")))
    return rows


if __name__ == "__main__":
    print(f"threads {ember.get_num_threads()}, cpu path {ember._C.cpu_capability()}")
    for r in bench_matmul():
        print(f"n={r['size']:5d}  ember {r['ember']:7.1f}  numpy {r['numpy']:7.1f} GFLOP/s  "
              f"ember/numpy speed {r['vs_numpy']:.2f}x")

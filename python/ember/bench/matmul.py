"""Matrix products: ember against NumPy (its BLAS) and PyTorch when installed, same run: square
sizes on all threads and on one, and the products an MLP's training step runs (784-512-512-10,
batch 128: the forward X @ W^T and the backward dY @ W and dY^T @ X, transposed operands passed as
views the way autograd passes them).

Each size is validated against a float64 product before it is timed. Timings alternate between
the libraries in rounds, so that a burst of load on a shared machine hits all of them alike.
Between libraries the benchmark pauses: BLAS worker threads keep spinning for about 0.1 s after a
call and, on a machine with few cores, take the cores the next library's threads need (measured:
ember's 2-thread n = 512 product drops from ~140 to ~35 GFLOP/s right after a NumPy product).
"""
import time

import numpy as np

import ember

from ._timing import blas_threads, median_time, row, set_blas_threads, try_import_torch

_NP_DTYPES = {"float32": np.float32, "float64": np.float64}


def _repeat_for(n):
    return 15 if n <= 256 else 7 if n <= 1024 else 5


def _validate(label, a, b, out):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    # A length-k dot product rounds k times: bound the error relative to |A| @ |B|.
    eps = np.finfo(a.dtype).eps
    bound = 4 * np.sqrt(a.shape[1]) * eps * (np.abs(a64) @ np.abs(b64)) + 1e-30
    err = np.abs(out.astype(np.float64) - a64 @ b64)
    if not np.all(err <= bound):
        raise AssertionError(f"matmul {label}: ember differs from the float64 reference by "
                             f"{err.max():.3g} (bound {bound[np.unravel_index(err.argmax(), err.shape)]:.3g})")


_SETTLE_S = 0.2  # lets the previous library's thread pool go idle (see the module docstring)


def _operand(rng, shape, transposed, np_dtype):
    """A (rows, cols) operand, or the transpose view of a contiguous (cols, rows) array."""
    if transposed:
        return rng.standard_normal(shape[::-1]).astype(np_dtype).T
    return rng.standard_normal(shape).astype(np_dtype)


def _time_calls(label, size, runs, flops, repeat, quick, rounds):
    """Calls doing `flops` of work each (runs: library name -> call) timed alternating in rounds:
    a result row."""
    reps = repeat or (5 if quick else 15 if flops <= 2 * 256 ** 3 else 7 if flops <= 2 * 1024 ** 3 else 5)
    # About 50 ms of warm-up calls (at ~100 GFLOP/s) so that the thread pool is awake again.
    warmup = max(2, int(0.05 / (flops / 1e11)))
    samples = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            time.sleep(_SETTLE_S)
            samples[name].append(median_time(fn, repeat=reps, warmup=warmup))
    med = {name: sorted(s)[len(s) // 2] for name, s in samples.items()}
    return row(label, size, "GFLOP/s", flops, med["ember"], med.get("numpy"), med.get("torch"))


def _time_product(label, size, a, b, torch, repeat, quick, rounds):
    """One product A @ B timed in ember, NumPy and PyTorch, alternating in rounds: a result row."""
    ea, eb = ember.from_numpy(a), ember.from_numpy(b)
    _validate(label, a, b, ember.matmul(ea, eb).numpy())
    runs = {"ember": lambda: ember.matmul(ea, eb), "numpy": lambda: a @ b}
    if torch is not None:
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        runs["torch"] = lambda: ta @ tb
    return _time_calls(label, size, runs, 2.0 * a.shape[0] * a.shape[1] * b.shape[1], repeat, quick, rounds)


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
        a, b = _operand(rng, (n, n), False, np_dtype), _operand(rng, (n, n), False, np_dtype)
        rows.append(_time_product(f"matmul {dtype}", n, a, b, torch, repeat, quick, rounds))
    return rows


def bench_matmul_one_thread(sizes=(256, 512, 1024), quick=False, rounds=3):
    """Square float32 products with every library on one thread (ember, NumPy's BLAS, PyTorch);
    the thread counts are restored afterwards. Without a way to set NumPy's BLAS threads the NumPy
    column is left out rather than compared at another thread count."""
    torch = try_import_torch()
    if quick:
        sizes, rounds = tuple(sizes)[:2], 1
    before = (ember.get_num_threads(), blas_threads(), torch.get_num_threads() if torch else None)
    blas_ok = set_blas_threads(1)
    ember.set_num_threads(1)
    if torch is not None:
        torch.set_num_threads(1)
    rows = []
    try:
        for n in sizes:
            rng = np.random.default_rng(n)
            a, b = _operand(rng, (n, n), False, np.float32), _operand(rng, (n, n), False, np.float32)
            r = _time_product("matmul float32, 1 thread", n, a, b, torch, None, quick, rounds)
            if not blas_ok:
                r.update(numpy=None, numpy_s=None, vs_numpy=None)
            rows.append(r)
    finally:
        ember.set_num_threads(before[0])
        if before[1] is not None:
            set_blas_threads(before[1])
        if torch is not None:
            torch.set_num_threads(before[2])
    return rows


# (label, M, K, N, A transposed, B transposed): the products of Linear layers 784 -> 512 -> 512 -> 10
# at batch 128. Forward Y = X @ W^T (W stored (out, in)); backward dX = dY @ W and dW = dY^T @ X.
MLP_PRODUCTS = [
    ("fwd X@W^T", 128, 784, 512, False, True),
    ("dx dY@W", 128, 512, 784, False, False),
    ("dw dY^T@X", 512, 128, 784, True, False),
    ("fwd X@W^T", 128, 512, 512, False, True),
    ("dx dY@W", 128, 512, 512, False, False),
    ("dw dY^T@X", 512, 128, 512, True, False),
    ("fwd X@W^T", 128, 512, 10, False, True),
    ("dx dY@W", 128, 10, 512, False, False),
    ("dw dY^T@X", 10, 128, 512, True, False),
]


def _time_linear_relu(fused, m, k, n, torch, quick, rounds):
    """relu(X @ W^T + b) of an MLP hidden layer: ember with the bias and relu in the GEMM's epilogue
    (fused) or as the linear layer followed by relu; NumPy and PyTorch as users write it."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((n, k)).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)
    ex, ew, eb = ember.from_numpy(x), ember.from_numpy(w), ember.from_numpy(b)
    C = ember._C
    call = (lambda: C.linear(ex, ew, eb, "relu")) if fused else (lambda: C.relu(C.linear(ex, ew, eb)))
    ref = np.maximum(x.astype(np.float64) @ w.T.astype(np.float64) + b, 0)
    if np.abs(call().numpy() - ref).max() > 1e-3 * (np.abs(ref).max() + 1):
        raise AssertionError("linear+relu is wrong: not timing it")
    runs = {"ember": call, "numpy": lambda: np.maximum(x @ w.T + b, 0)}
    if torch is not None:
        tx, tw, tb = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)
        runs["torch"] = lambda: torch.relu(torch.nn.functional.linear(tx, tw, tb))
    label = "mlp linear+relu " + ("fused" if fused else "unfused")
    return _time_calls(label, f"{m}x{k}x{n}", runs, 2.0 * m * k * n, None, quick, rounds)


def bench_matmul_mlp(quick=False, rounds=3):
    """The float32 products of an MLP training step (MLP_PRODUCTS), operands as autograd passes
    them, size M x K x N; then a hidden layer's relu(X @ W^T + b) with ember's epilogue fused and
    not (the difference is the epilogue's gain)."""
    torch = try_import_torch()
    if quick:
        rounds = 1
    rows = []
    for i, (label, m, k, n, ta, tb) in enumerate(MLP_PRODUCTS):
        rng = np.random.default_rng(100 + i)
        a = _operand(rng, (m, k), ta, np.float32)
        b = _operand(rng, (k, n), tb, np.float32)
        rows.append(_time_product(f"mlp matmul {label}", f"{m}x{k}x{n}", a, b, torch, None, quick, rounds))
    for fused in (True, False):
        rows.append(_time_linear_relu(fused, 128, 512, 512, torch, quick, rounds))
    return rows


if __name__ == "__main__":
    print(f"threads {ember.get_num_threads()}, cpu path {ember._C.cpu_capability()}")
    for r in bench_matmul():
        print(f"n={r['size']:5d}  ember {r['ember']:7.1f}  numpy {r['numpy']:7.1f} GFLOP/s  "
              f"ember/numpy speed {r['vs_numpy']:.2f}x")

"""Timing helpers shared by the benchmarks: medians of repeated runs, and one result row format."""
import time


def median_time(fn, repeat=15, warmup=2, min_run_s=0.002):
    """Median seconds per call of fn(). Each sample loops enough calls to last at least
    min_run_s, so that timer resolution does not dominate tiny ops."""
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-9)
    inner = max(1, int(min_run_s / one))
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    samples.sort()
    return samples[len(samples) // 2]


def training_step(lib, model, loss_fn, optimizer, x, y):
    """One training step of `model` in `lib` (ember or torch) on the NumPy batch (x, y), as users
    write it: zero_grad, forward, loss, backward, step. Returns the step; it returns the loss."""
    bx, by = lib.from_numpy(x), lib.from_numpy(y)

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(bx), by)
        loss.backward()
        optimizer.step()
        return loss
    return step


def try_import_torch():
    """PyTorch when installed (benchmarks compare with it), else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def row(bench, size, unit, work, ember_s, numpy_s=None, torch_s=None):
    """One result: medians in seconds and, from `work` (FLOPs or bytes per call; None for
    per-call times), rates in `unit`. Ratios are peer time / ember time (> 1: ember faster)."""
    def rate(s):
        if s is None:
            return None
        if work is None:
            return s * 1e6  # microseconds per call
        return work / s / 1e9

    return {
        "bench": bench, "size": size, "unit": unit if work is not None else "us/call",
        "ember_s": ember_s, "numpy_s": numpy_s, "torch_s": torch_s,
        "ember": rate(ember_s), "numpy": rate(numpy_s), "torch": rate(torch_s),
        "vs_numpy": None if numpy_s is None else numpy_s / ember_s,
        "vs_torch": None if torch_s is None else torch_s / ember_s,
    }


def _loaded_libraries(fragment):
    """Paths of the shared libraries mapped into this process whose file name contains `fragment`."""
    paths = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.rsplit(None, 1)[-1] if "/" in line else ""
                name = path.rsplit("/", 1)[-1].lower()
                if fragment in name and ".so" in name and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    return paths


def _openblas_function(name):
    """OpenBLAS's C function `name` (openblas_set_num_threads, ...) from the BLAS NumPy loaded, under
    whichever of its builds' symbol names it has, or None."""
    import ctypes
    import numpy  # noqa: F401  (loads the BLAS)

    for path in _loaded_libraries("openblas"):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for symbol in (f"scipy_{name}64_", f"scipy_{name}", f"{name}64_", name):
            fn = getattr(lib, symbol, None)
            if fn is not None:
                return fn
    return None


def set_blas_threads(n):
    """Sets the thread count of the BLAS NumPy loaded (OpenBLAS, as NumPy's wheels ship it) through
    its own C entry point; NumPy has no API for it and its environment variables are read only at
    import. Returns True when a BLAS took the setting, False when none was found (then NumPy's
    figures are at its own thread count, which the caller should say)."""
    import ctypes

    fn = _openblas_function("openblas_set_num_threads")
    if fn is None:
        return False
    fn.argtypes, fn.restype = [ctypes.c_int], None
    fn(int(n))
    return True


def blas_threads():
    """The thread count of NumPy's OpenBLAS, or None when it cannot be read."""
    import ctypes

    fn = _openblas_function("openblas_get_num_threads")
    if fn is None:
        return None
    fn.restype = ctypes.c_int
    return int(fn())

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

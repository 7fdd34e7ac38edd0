"""Shared test helpers: the per-dtype tolerance table, the shape zoo, and reference checks."""
import builtins
import os
import subprocess
import sys

import numpy as np
import pytest

import ember

# One table of tolerances per dtype, for results compared with a float64 NumPy reference.
# float32: a few ulps of relative error after one op; atol covers results near zero.
TOL = {
    ember.float32: dict(rtol=2e-5, atol=1e-6),
    ember.float64: dict(rtol=1e-12, atol=1e-14),
    ember.int64: dict(rtol=0, atol=0),
    ember.int32: dict(rtol=0, atol=0),
    ember.bool: dict(rtol=0, atol=0),
}

FLOAT_DTYPES = [ember.float32, ember.float64]
NP = {ember.float32: np.float32, ember.float64: np.float64, ember.int64: np.int64,
      ember.int32: np.int32, ember.bool: np.bool_}

# Shapes that hit the edge cases: 0-d, size-1 and size-0 dims, sizes that miss SIMD widths and tiles.
SHAPE_ZOO = [(), (1,), (0,), (7,), (33,), (129,), (1000,), (3, 0), (1, 1), (7, 33), (33, 7),
             (4, 1, 5), (2, 3, 129), (65, 129)]


def assert_close(actual, expected, dtype=None, **override):
    """Compares an ember tensor with a NumPy reference: shape, dtype, then values."""
    assert isinstance(actual, ember.Tensor), f"expected an ember.Tensor, got {type(actual).__name__}"
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != reference {expected.shape}"
    if dtype is not None:
        assert actual.dtype == dtype, f"dtype {actual.dtype} != {dtype}"
    tol = dict(TOL[actual.dtype])
    tol.update(override)
    np.testing.assert_allclose(actual.cpu().numpy(), expected, equal_nan=True, **tol)


def noncontiguous(a):
    """The same values as `a` through a strided (non-contiguous) view: a slice of a larger array."""
    a = np.asarray(a)
    big = np.zeros(tuple(2 * s + 1 for s in a.shape), dtype=a.dtype)
    idx = tuple(slice(1, 1 + 2 * s, 2) for s in a.shape)
    big[idx] = a
    t = ember.from_numpy(big)
    strides = t.stride()
    view = ember._C.as_strided(t, list(a.shape), [2 * s for s in strides], builtins.sum(strides))
    assert not view.is_contiguous() or a.size <= 1
    return view


def capabilities():
    """The CPU capability paths this machine can run."""
    order = ["default", "avx2", "avx512"]
    return order[: order.index(ember._C.cpu_best_capability()) + 1]


def run_under_capability(cap, code):
    """Runs python `code` in a subprocess with EMBER_CPU_CAPABILITY=cap; returns its stdout."""
    env = dict(os.environ, EMBER_CPU_CAPABILITY=cap)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


cuda = pytest.mark.skipif(not ember.cuda.is_available(),
                          reason=f"CUDA unavailable: {ember.cuda.unavailable_reason()}")

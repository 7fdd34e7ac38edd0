"""The global random generator: Philox4x32-10 known answers, reproducibility, independence from
the thread count, the distributions' moments, ranges, dtypes, shapes and errors."""
import math

import numpy as np
import pytest

import ember
from conftest import FLOAT_DTYPES, NP

# Random123's tests/kat_vectors, the three "philox4x32 10" lines: counter[4], key[2] -> out[4].
PHILOX_KAT = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]


@pytest.mark.parametrize("counter,key,expected", PHILOX_KAT)
def test_philox_known_answers(counter, key, expected):
    assert ember._C._philox4x32_10(counter, key) == expected


def draws():
    return [ember.rand(5, 7).numpy().copy(), ember.rand(33, dtype=ember.float64).numpy().copy(),
            ember.randn(129).numpy().copy(), ember.randn(3, dtype=ember.float64).numpy().copy(),
            ember.randint(-5, 9, (1000,)).numpy().copy()]


def test_same_seed_same_numbers():
    ember.manual_seed(2024)
    first = draws()
    ember.manual_seed(2024)
    second = draws()
    for a, b in zip(first, second):
        assert a.tobytes() == b.tobytes()
    ember.manual_seed(2025)
    assert not np.array_equal(draws()[0], first[0])
    assert ember._C.initial_seed() == 2025


def test_successive_draws_continue_the_stream():
    ember.manual_seed(7)
    a, b = ember.rand(8).numpy().copy(), ember.rand(8).numpy().copy()
    assert not np.array_equal(a, b)
    ember.manual_seed(7)
    both = ember.rand(16).numpy()
    assert np.array_equal(np.concatenate([a, b]), both)  # element i depends on (seed, offset + i) only


def test_numbers_do_not_depend_on_thread_count():
    before = ember.get_num_threads()
    runs = []
    try:
        for n in (1, 2, 3):
            ember.set_num_threads(n)
            ember.manual_seed(11)
            runs.append([ember.rand(300001).numpy().tobytes(), ember.randn(200001, dtype=ember.float64).numpy().tobytes(),
                         ember.randint(0, 1 << 40, (100001,)).numpy().tobytes()])
    finally:
        ember.set_num_threads(before)
    assert runs[0] == runs[1] == runs[2]


def test_float32_and_float64_randn_share_the_stream():
    ember.manual_seed(3)
    single = ember.randn(1001).numpy()
    ember.manual_seed(3)
    double = ember.randn(1001, dtype=ember.float64).numpy()
    assert np.array_equal(single, double.astype(np.float32))


# ---- distributions (1e6 samples: bounds of 6 standard errors) -------------------------------------------
N = 1_000_000


def ks_statistic(samples, cdf):
    x = np.sort(samples.astype(np.float64))
    f = cdf(x)
    i = np.arange(1, x.size + 1)
    return max(np.max(i / x.size - f), np.max(f - (i - 1) / x.size))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_rand_is_uniform_on_unit_interval(dtype):
    ember.manual_seed(1)
    u = ember.rand(N, dtype=dtype).numpy()
    assert u.dtype == NP[dtype] and u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 6 * math.sqrt(1 / 12 / N)
    assert abs(u.var() - 1 / 12) < 6 * math.sqrt(1 / 180 / N)
    assert ks_statistic(u, lambda x: x) < 1.95 / math.sqrt(N)  # 0.1% level
    bits = 24 if dtype == ember.float32 else 53
    assert np.all(u * 2.0**bits == np.floor(u * 2.0**bits))  # multiples of 2^-bits


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_randn_is_standard_normal(dtype):
    ember.manual_seed(2)
    z = ember.randn(N, dtype=dtype).numpy().astype(np.float64)
    assert np.all(np.isfinite(z))
    assert abs(z.mean()) < 6 / math.sqrt(N)
    assert abs(z.var() - 1) < 6 * math.sqrt(2 / N)
    assert abs(np.mean(z**3)) < 6 * math.sqrt(15 / N)  # skewness
    assert abs(np.mean(z**4) - 3) < 6 * math.sqrt(96 / N)  # kurtosis
    phi = np.vectorize(lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2))))
    assert ks_statistic(z[:100_000], phi) < 1.95 / math.sqrt(100_000)


def test_randint_range_and_counts():
    ember.manual_seed(3)
    r = ember.randint(-3, 7, (N,))
    assert r.dtype == ember.int64
    v = r.numpy()
    assert v.min() == -3 and v.max() == 6
    counts = np.bincount(v + 3, minlength=10)
    expected = N / 10
    assert np.all(np.abs(counts - expected) < 6 * math.sqrt(expected))
    assert ember.randint(5, (3, 4)).numpy().max() < 5  # randint(high, size)


def test_randint_extreme_ranges():
    lo, hi = -(2**63), 2**63 - 1
    v = ember.randint(lo, hi, (10000,)).numpy()
    assert (v < 0).any() and (v > 0).any()
    assert np.all(ember.randint(41, 42, (100,)).numpy() == 41)
    big = ember.randint(0, 2**62, (10000,)).numpy()
    assert big.max() > 2**61


@pytest.mark.parametrize("dtype", [ember.int32, ember.float32, ember.float64, ember.bool])
def test_randint_dtypes(dtype):
    low, high = (0, 2) if dtype == ember.bool else (-10, 10)
    t = ember.randint(low, high, (2000,), dtype=dtype)
    assert t.dtype == dtype
    v = t.numpy().astype(np.float64)
    assert v.min() == low and v.max() == high - 1 and np.all(v == np.round(v))


@pytest.mark.parametrize("factory", ["rand", "randn"])
@pytest.mark.parametrize("shape", [(), (0,), (3, 0), (1,), (7,), (2, 3, 4)])
def test_shapes(factory, shape):
    t = getattr(ember, factory)(*shape)
    assert t.shape == shape and t.dtype == ember.float32
    assert ember.randint(0, 3, shape).shape == shape


def test_device_arguments_and_like_factories():
    for device in (None, "cpu", ember.device("cpu")):
        assert ember.rand(3, device=device).device == "cpu"
    x = ember.zeros(4, 5, dtype=ember.float64)
    assert ember.rand_like(x).shape == (4, 5) and ember.rand_like(x).dtype == ember.float64
    assert ember.randn_like(x).dtype == ember.float64


def test_seeds_across_the_integer_range():
    for seed in (0, 1, -1, 2**63 - 1, -(2**63), 2**64 - 1):
        ember.manual_seed(seed)
        a = ember.rand(4).numpy().copy()
        ember.manual_seed(seed)
        assert np.array_equal(a, ember.rand(4).numpy())
    ember.manual_seed(-1)
    a = ember.rand(4).numpy().copy()
    ember.manual_seed(2**64 - 1)
    assert np.array_equal(a, ember.rand(4).numpy())  # negative seeds wrap modulo 2^64


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(TypeError, match="rand: .*floating dtype.*int64"):
        ember.rand(3, dtype=ember.int64)
    with pytest.raises(TypeError, match="randn: .*floating dtype.*bool"):
        ember.randn(3, dtype=ember.bool)
    with pytest.raises(ValueError, match="randint: expected low < high.*low=5, high=5"):
        ember.randint(5, 5, (3,))
    with pytest.raises(ValueError, match="randint: expected low < high"):
        ember.randint(5, 2, (3,))
    with pytest.raises(ValueError, match=r"randint: the range \[0, 4294967296\) does not fit in int32"):
        ember.randint(0, 2**32, (3,), dtype=ember.int32)
    with pytest.raises(ValueError, match="does not fit in bool"):
        ember.randint(0, 3, (3,), dtype=ember.bool)
    with pytest.raises(ValueError, match="does not fit in float32"):
        ember.randint(0, 2**25, (3,), dtype=ember.float32)
    with pytest.raises(ValueError, match="rand: negative dimension"):
        ember.rand(2, -1)
    with pytest.raises(ValueError, match="manual_seed"):
        ember.manual_seed(2**64)
    with pytest.raises(ValueError, match="device"):
        ember.rand(3, device="tpu")


@pytest.mark.cuda
def test_cuda_draws_match_cpu_draws():
    if not ember.cuda.is_available():
        pytest.skip(f"CUDA unavailable: {ember.cuda.unavailable_reason()}")
    ember.manual_seed(5)
    cpu = ember.randn(1000).numpy().copy()
    ember.manual_seed(5)
    gpu = ember.randn(1000, device="cuda")
    assert gpu.is_cuda and np.array_equal(gpu.cpu().numpy(), cpu)

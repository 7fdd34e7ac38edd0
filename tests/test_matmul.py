"""matmul: NumPy semantics, every kernel path (definition, matrix-vector, direct, packed), strided
operands, threads and CPU capabilities, against a float64 NumPy reference."""
import re

import numpy as np
import pytest

import ember
from conftest import FLOAT_DTYPES, NP, TOL, capabilities, noncontiguous, run_under_capability


def rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def check_matmul(a, b, dtype, ea=None, eb=None):
    """ember.matmul(ea, eb) against np.matmul(a, b) in float64; ea / eb default to copies of a / b
    (pass views holding the same values to test strided inputs). Returns the ember result."""
    a = np.asarray(a).astype(NP[dtype])
    b = np.asarray(b).astype(NP[dtype])
    ea = ember.from_numpy(a.copy()) if ea is None else ea
    eb = ember.from_numpy(b.copy()) if eb is None else eb
    out = ember.matmul(ea, eb)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    ref = np.matmul(a64, b64)
    assert isinstance(out, ember.Tensor)
    assert out.shape == ref.shape, f"shape {out.shape} != reference {ref.shape}"
    assert out.dtype == dtype
    # Override of the table: a length-k dot product rounds k times, so its error is bounded
    # relative to |A| @ |B| (what the products add up to), not to the possibly cancelled result.
    bound = TOL[dtype]["rtol"] * np.matmul(np.abs(a64), np.abs(b64)) + TOL[dtype]["atol"]
    err = np.abs(out.numpy().astype(np.float64) - ref)
    worst = np.unravel_index(np.argmax(err - bound), err.shape) if err.size else ()
    assert np.all(err <= bound), f"error {err[worst]} > bound {bound[worst]} at {worst}"
    return out


# (m, k, n): tiny, matrix-vector, small (direct kernel) and large (packed), exact tiles and sizes
# that miss the register tiles (14 x 32 / 6 x 16 / 4 x 8) and the cache blocks (k past 256).
SIZES_2D = [(1, 1, 1), (7, 7, 7), (33, 33, 33), (129, 129, 129), (14, 256, 32), (13, 257, 31),
            (15, 17, 33), (29, 513, 65), (100, 300, 70), (2, 1000, 3), (1000, 2, 1000),
            (1, 129, 1000), (1000, 129, 1), (1, 1000, 1), (1, 70, 3000), (200, 300, 100),
            (513, 129, 77), (333, 1001, 257)]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m,k,n", SIZES_2D)
def test_2d(m, k, n, dtype):
    check_matmul(rand((m, k), 1), rand((k, n), 2), dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_large_square(dtype):
    n = 1024
    check_matmul(rand((n, n), 3), rand((n, n), 4), dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("m,n", [(3, 4), (1, 1), (40, 70)])
def test_k_zero_gives_zeros(m, n, dtype):
    out = check_matmul(np.zeros((m, 0)), np.zeros((0, n)), dtype)
    assert np.all(out.numpy() == 0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("a_shape,b_shape", [((0, 3), (3, 4)), ((3, 4), (4, 0)), ((0, 5), (5, 0)),
                                             ((2, 0, 4, 3), (3, 5)), ((0,), (0,))])
def test_size_zero(a_shape, b_shape, dtype):
    check_matmul(rand(a_shape, 5), rand(b_shape, 6), dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("a_shape,b_shape", [
    ((7,), (7,)), ((1000,), (1000,)),           # dot product: 0-d result
    ((33,), (33, 129)), ((129,), (129, 1)),     # vector @ matrix
    ((129, 33), (33,)), ((1, 7), (7,)),         # matrix @ vector
    ((5,), (3, 5, 4)), ((3, 4, 5), (5,)),       # vector against a batch
])
def test_vectors(a_shape, b_shape, dtype):
    check_matmul(rand(a_shape, 7), rand(b_shape, 8), dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("a_shape,b_shape", [
    ((2, 3, 4, 5), (5, 6)), ((4, 5), (2, 5, 6)), ((2, 1, 4, 5), (3, 5, 6)), ((1, 4, 5), (7, 5, 6)),
    ((3, 1, 7, 33), (1, 2, 33, 9)), ((512, 4, 4), (512, 4, 4)), ((3, 100, 100), (3, 100, 100)),
    ((4, 64, 64), (64, 64)), ((2, 1, 129), (2, 129, 7)), ((6, 1, 1), (6, 1, 1)),
])
def test_batched_broadcast(a_shape, b_shape, dtype):
    check_matmul(rand(a_shape, 9), rand(b_shape, 10), dtype)


def numpy_view(kind, shape, seed, dtype):
    """(values, ember tensor holding them) for a 2-D shape, the tensor a strided view: 'T'
    transposed, 'slice' every other row and column, 'neg' negative strides, 'expand' a stride-0
    broadcast, 'nc' the conftest non-contiguous helper."""
    vals = rand(shape, seed).astype(NP[dtype])
    if kind == "T":
        return vals, ember.from_numpy(np.ascontiguousarray(vals.T)).mT
    if kind == "slice":
        big = np.zeros((2 * shape[0], 2 * shape[1]), NP[dtype])
        big[::2, 1::2] = vals
        return vals, ember.from_numpy(big[::2, 1::2])
    if kind == "neg":
        return vals, ember.from_numpy(vals[::-1, ::-1].copy()[::-1, ::-1])
    if kind == "expand":
        row = vals[:1]
        return np.broadcast_to(row, shape), ember.from_numpy(row.copy()).expand(*shape)
    return vals, noncontiguous(vals)


VIEWS = ["T", "slice", "neg", "expand", "nc"]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("a_kind", VIEWS)
@pytest.mark.parametrize("b_kind", VIEWS)
@pytest.mark.parametrize("m,k,n", [(5, 7, 3), (33, 129, 65), (1, 70, 40), (40, 70, 1)])
def test_strided_operands(a_kind, b_kind, m, k, n, dtype):
    a, ea = numpy_view(a_kind, (m, k), 11, dtype)
    b, eb = numpy_view(b_kind, (k, n), 12, dtype)
    assert ea.shape == a.shape and eb.shape == b.shape
    check_matmul(a, b, dtype, ea, eb)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_strided_batches(dtype):
    # Batch dimensions permuted in memory and matrices transposed; B expanded along the batch.
    a = rand((4, 3, 20, 30), 13).astype(NP[dtype])
    ea = ember.from_numpy(np.ascontiguousarray(a.transpose(1, 0, 3, 2))).permute(1, 0, 3, 2)
    b = rand((30, 17), 14).astype(NP[dtype])
    eb = ember.from_numpy(b.copy()).expand(4, 3, 30, 17)
    check_matmul(a, np.broadcast_to(b, (4, 3, 30, 17)), dtype, ea, eb)
    check_matmul(a, b, dtype, ea, noncontiguous(b))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_does_not_modify_inputs(dtype):
    a, b = rand((40, 50), 15).astype(NP[dtype]), rand((50, 60), 16).astype(NP[dtype])
    ea, eb = ember.from_numpy(a.copy()), ember.from_numpy(b.copy())
    ember.matmul(ea, eb)
    assert np.array_equal(ea.numpy(), a) and np.array_equal(eb.numpy(), b)


def test_operator_and_method():
    a, b = rand((6, 5), 17), rand((5, 4), 18)
    ea, eb = ember.from_numpy(a), ember.from_numpy(b)
    for out in (ea @ eb, ea.matmul(eb), ember.matmul(ea, eb)):
        np.testing.assert_allclose(out.numpy(), a @ b, **TOL[ember.float64])


@pytest.mark.parametrize("a_shape,b_shape", [((300, 200), (200, 300)), ((8, 64, 64), (8, 64, 64)),
                                             ((3, 100, 90), (90, 80)), ((1, 5000), (5000, 300)),
                                             ((5000, 300), (300,)), ((128, 512), (512, 784)),
                                             ((288, 576), (576, 64))])
def test_thread_count_does_not_change_result(a_shape, b_shape):
    # Threads split the output, never a sum, so every element is computed the same way (a 128 x 784
    # output: two threads take 400 + 384 columns, the first ending in a one-vector tile; 288 x 64:
    # 144 + 144 rows, each ending in a 4-row tile).
    a = ember.from_numpy(rand(a_shape, 19).astype(np.float32))
    b = ember.from_numpy(rand(b_shape, 20).astype(np.float32))
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        one = ember.matmul(a, b).numpy()
        ember.set_num_threads(max(2, before))
        many = ember.matmul(a, b).numpy()
    finally:
        ember.set_num_threads(before)
    assert np.array_equal(one, many)


THREADS_SCRIPT = """
import numpy as np
import ember
rng = np.random.default_rng(3)
differ = []
for m, k, n in [(4, 374, 396), (4, 600, 200), (3, 300, 500), (20, 374, 396), (32, 576, 64)]:
    a = ember.from_numpy(rng.standard_normal((m, 2 * k)).astype(np.float32))[:, ::2]  # strided A
    b = ember.from_numpy(rng.standard_normal((n, k)).astype(np.float32)).T            # transposed B
    ember.set_num_threads(1)
    one = ember.matmul(a, b).numpy().copy()
    ember.set_num_threads(2)
    if not np.array_equal(one, ember.matmul(a, b).numpy()):
        differ.append((m, k, n))
print(ember._C.cpu_capability(), differ)
"""


@pytest.mark.parametrize("cap", capabilities())
def test_thread_count_does_not_change_result_on_every_instruction_set(cap):
    # Small products with a transposed B copy B's columns to rows when the copy fits the workspace:
    # that choice, and with it the order of the sums over k, once depended on each thread's share.
    ran, differ = run_under_capability(cap, THREADS_SCRIPT).split(" ", 1)
    assert ran == cap
    assert differ.strip() == "[]", f"{cap}: results depend on the thread count for {differ.strip()}"


# ---- errors ------------------------------------------------------------------------------------

def test_shape_mismatch_message():
    a, b = ember.from_numpy(rand((3, 4), 0)), ember.from_numpy(rand((5, 2), 0))
    with pytest.raises(ValueError, match=re.escape("matmul: shapes (3, 4) and (5, 2) do not align (4 != 5)")):
        ember.matmul(a, b)


@pytest.mark.parametrize("a_shape,b_shape", [((3,), (4,)), ((2, 3), (4,)), ((3,), (4, 2)),
                                             ((2, 3, 4), (2, 5, 6))])
def test_shape_mismatch_names_shapes(a_shape, b_shape):
    a, b = ember.from_numpy(rand(a_shape, 0)), ember.from_numpy(rand(b_shape, 0))
    with pytest.raises(ValueError, match=re.escape(f"matmul: shapes {a_shape} and {b_shape} do not align")):
        ember.matmul(a, b)


def test_batch_dims_must_broadcast():
    a, b = ember.from_numpy(rand((2, 3, 4), 0)), ember.from_numpy(rand((3, 4, 5), 0))
    with pytest.raises(ValueError, match=re.escape("matmul: batch dimensions of shapes (2, 3, 4) and (3, 4, 5)")):
        ember.matmul(a, b)


@pytest.mark.parametrize("a_shape,b_shape", [((), (3,)), ((3,), ()), ((), ())])
def test_zero_dim_operand(a_shape, b_shape):
    a, b = ember.from_numpy(np.array(rand(a_shape, 0))), ember.from_numpy(np.array(rand(b_shape, 0)))
    with pytest.raises(ValueError, match=re.escape(
            f"matmul: both operands need at least 1 dimension, got shapes {a_shape} and {b_shape}")):
        ember.matmul(a, b)


def test_mixed_float_dtypes():
    a = ember.from_numpy(rand((2, 3), 0).astype(np.float32))
    b = ember.from_numpy(rand((3, 2), 0))
    with pytest.raises(TypeError, match=re.escape(
            "matmul: expected both operands to have the same dtype, got float32 and float64")):
        ember.matmul(a, b)


@pytest.mark.parametrize("np_dtype,name", [(np.int64, "int64"), (np.int32, "int32"), (np.bool_, "bool")])
def test_non_float_dtypes(np_dtype, name):
    a = ember.from_numpy(np.ones((2, 3), np_dtype))
    b = ember.from_numpy(np.ones((3, 2), np.float32))
    with pytest.raises(TypeError, match=re.escape(f"matmul: expected float32 or float64 operands, got {name} and float32")):
        ember.matmul(a, b)


# ---- every CPU capability agrees with the generic path -------------------------------------------

CAPABILITY_SCRIPT = """
import sys
import numpy as np
import ember
shapes = [((37, 129), (129, 65)), ((300, 257), (257, 200)), ((2, 29, 513), (513, 47)),
          ((1, 300), (300, 77)), ((300, 70), (70, 1)), ((8, 8), (8, 8))]
arrays = {}
for i, (sa, sb) in enumerate(shapes):
    for dt in (np.float32, np.float64):
        rng = np.random.default_rng(i)
        a, b = rng.standard_normal(sa).astype(dt), rng.standard_normal(sb).astype(dt)
        # Odd cases read a transposed B: the other packing, and no direct kernel.
        eb = ember.from_numpy(np.ascontiguousarray(b.T)).mT if i % 2 else ember.from_numpy(b)
        key = f"{i}_{dt.__name__}"
        arrays.update({"a" + key: a, "b" + key: b, "c" + key: ember.matmul(ember.from_numpy(a), eb).numpy()})
np.savez(sys.argv[1], **arrays)
print(ember._C.cpu_capability())
"""


def test_capabilities_agree_with_generic(tmp_path):
    results = {}
    for cap in capabilities():
        path = tmp_path / f"{cap}.npz"
        script = CAPABILITY_SCRIPT.replace("sys.argv[1]", repr(str(path)))
        ran = run_under_capability(cap, script).strip()
        assert ran == cap, f"asked for {cap}, ran {ran}"
        results[cap] = dict(np.load(path))
    generic = results["default"]
    for cap, res in results.items():
        for key in (k[1:] for k in res if k.startswith("c")):
            dtype = ember.float32 if key.endswith("float32") else ember.float64
            a, b = res["a" + key].astype(np.float64), res["b" + key].astype(np.float64)
            # Override: each path is within the reference bound, so two paths may differ by twice it.
            bound = 2 * (TOL[dtype]["rtol"] * (np.abs(a) @ np.abs(b)) + TOL[dtype]["atol"])
            diff = np.abs(res["c" + key].astype(np.float64) - generic["c" + key])
            assert np.all(diff <= bound), f"{cap} vs default, {key}: max diff {diff.max()}"


# ---- every blocking edge on every instruction set ---------------------------------------------------

# Each dim swept over 1..70 with the other two fixed at sizes that miss every register tile, then
# primes past the cache blocks (k past the 256-deep panels, m and n past the row and column
# blocks) and products large enough to be packed with ragged panels, with either operand
# transposed (the packing reads it in place) or strided, in float32 and float64. The script checks every product against float64 with the bound of a length-k dot
# product, k * eps * (|A| @ |B|), and prints the worst ratio of error to bound.
EDGE_SCRIPT = """
import numpy as np
import ember
rng = np.random.default_rng(7)
cases = [(m, 37, 45) for m in range(1, 71)] + [(29, k, 33) for k in range(1, 71)]
cases += [(31, 43, n) for n in range(1, 71)]
cases += [(13, 257, 17), (67, 263, 71), (521, 131, 19), (19, 131, 1031), (257, 521, 263)]
cases = [(m, k, n, i % 4) for i, (m, k, n) in enumerate(cases)]
# Past the unpacked kernels (more than 160^3 multiply-adds): a column-major A and a row-major B
# with ragged last panels (45 = 3 * 14 + 3 rows, 331 = 10 * 32 + 11 columns) go through packing.
cases += [(45, 300, 331, 0), (45, 300, 331, 1), (331, 300, 45, 1), (173, 190, 150, 1)]
worst = 0.0
for m, k, n, layout in cases:
    for dt in (np.float32, np.float64):
        a = rng.standard_normal((m, k)).astype(dt)
        b = rng.standard_normal((k, n)).astype(dt)
        ea = ember.from_numpy(np.ascontiguousarray(a.T)).mT if layout == 1 else ember.from_numpy(a)
        eb = ember.from_numpy(np.ascontiguousarray(b.T)).mT if layout == 2 else ember.from_numpy(b)
        if layout == 3:  # every other row and column of a larger array
            big = np.zeros((2 * k, 2 * n), dt)
            big[::2, ::2] = b
            eb = ember.from_numpy(big)[::2, ::2]
        got = ember.matmul(ea, eb).numpy().astype(np.float64)
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        bound = k * np.finfo(dt).eps * (np.abs(a64) @ np.abs(b64)) + 1e-300
        ratio = float((np.abs(got - a64 @ b64) / bound).max())
        if not ratio <= 1.0:
            raise SystemExit(f"{m}x{k}x{n} {dt.__name__} layout {layout}: error {ratio:.3g} x the bound")
        worst = max(worst, ratio)
print(ember._C.cpu_capability(), worst)
"""


@pytest.mark.parametrize("cap", capabilities())
def test_every_blocking_edge_on_every_instruction_set(cap):
    ran, worst = run_under_capability(cap, EDGE_SCRIPT).split()
    assert ran == cap
    assert 0.0 < float(worst) <= 1.0

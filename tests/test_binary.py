"""Binary elementwise ops and where() against NumPy references: values over the shape zoo, NumPy
broadcasting (hypothesis), strided operands, PyTorch's type promotion with tensors, 0-d tensors and
Python numbers, in-place forms, error messages, and every CPU capability path against the generic one."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember
from conftest import (FLOAT_DTYPES, NP, SHAPE_ZOO, TOL, assert_close, capabilities, cuda, noncontiguous,
                      run_under_capability)


def _floor_divide(a, b):
    with np.errstate(all="ignore"):
        return np.floor_divide(a, b)


def _remainder(a, b):
    with np.errstate(all="ignore"):
        return np.remainder(a, b)


# name -> (ember function, NumPy reference)
ARITHMETIC = {
    "add": (ember.add, np.add),
    "sub": (ember.sub, np.subtract),
    "mul": (ember.mul, np.multiply),
    "div": (ember.div, np.true_divide),
    "pow": (ember.pow, np.power),
    "floor_divide": (ember.floor_divide, _floor_divide),
    "remainder": (ember.remainder, _remainder),
    "maximum": (ember.maximum, np.maximum),
    "minimum": (ember.minimum, np.minimum),
}
COMPARISONS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
               "ge": np.greater_equal}


def _operands(name, shape_a, shape_b, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape_a) * 3
    b = rng.standard_normal(shape_b) * 3
    if name == "pow":
        a = np.abs(a) + 0.1  # real results only
    if name in ("div", "floor_divide", "remainder"):
        b = np.where(np.abs(b) < 0.1, 0.5, b)
    if name in COMPARISONS:  # equal elements too, so that eq / le / ge see ties
        a, b = np.round(a), np.round(b)
    return np.asarray(a, dtype=NP[dtype]), np.asarray(b, dtype=NP[dtype])


def _check(name, ta, tb, a, b, dtype):
    if name in COMPARISONS:
        assert_close(getattr(ember, name)(ta, tb), COMPARISONS[name](a, b), dtype=ember.bool)
        return
    fn, ref = ARITHMETIC[name]
    with np.errstate(all="ignore"):
        expected = ref(a.astype(np.float64), b.astype(np.float64))
    assert_close(fn(ta, tb), expected, dtype=dtype)


ALL_OPS = sorted(ARITHMETIC) + sorted(COMPARISONS)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name", ALL_OPS)
def test_values_over_shape_zoo(name, dtype):
    for shape in SHAPE_ZOO:
        a, b = _operands(name, shape, shape, dtype)
        _check(name, ember.from_numpy(a), ember.from_numpy(b), a, b, dtype)


@pytest.mark.parametrize("name", ALL_OPS)
def test_strided_and_broadcast_operands(name):
    dtype = ember.float64
    for shape_a, shape_b in [((7, 33), (7, 33)), ((4, 1, 5), (3, 1)), ((65, 129), (129,)), ((33, 7), ())]:
        a, b = _operands(name, shape_a, shape_b, dtype, seed=1)
        _check(name, noncontiguous(a), noncontiguous(b), a, b, dtype)
        _check(name, ember.from_numpy(a), noncontiguous(b), a, b, dtype)


@settings(max_examples=40, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=5),
       name=st.sampled_from(["add", "sub", "mul", "div", "maximum", "lt", "pow"]),
       dtype=st.sampled_from(FLOAT_DTYPES))
def test_broadcasting_matches_numpy(shapes, name, dtype):
    (shape_a, shape_b), result_shape = shapes.input_shapes, shapes.result_shape
    a, b = _operands(name, shape_a, shape_b, dtype, seed=2)
    out = getattr(ember, name)(ember.from_numpy(a), ember.from_numpy(b))
    assert out.shape == result_shape
    _check(name, ember.from_numpy(a), ember.from_numpy(b), a, b, dtype)


def test_large_operands_run_threaded_and_match():
    a, b = _operands("add", (100_003,), (100_003,), ember.float32, seed=3)
    _check("add", ember.from_numpy(a), ember.from_numpy(b), a, b, ember.float32)
    m, r = _operands("mul", (513, 257), (257,), ember.float32, seed=4)  # broadcast rows, split over threads
    _check("mul", ember.from_numpy(m), ember.from_numpy(r), m, r, ember.float32)
    _check("mul", noncontiguous(m), ember.from_numpy(r), m, r, ember.float32)


# ---- integers and bool -----------------------------------------------------------------------------
INT_A = np.array([-7, -7, 7, 7, 0, 5, -1, 3])
INT_B = np.array([2, -2, 2, -2, 3, 1, 4, 3])


@pytest.mark.parametrize("dtype", [ember.int64, ember.int32])
@pytest.mark.parametrize("name", ["add", "sub", "mul", "floor_divide", "remainder", "maximum", "minimum"])
def test_integer_arithmetic_follows_python(name, dtype):
    a, b = INT_A.astype(NP[dtype]), INT_B.astype(NP[dtype])
    fn, ref = ARITHMETIC[name]
    assert_close(fn(ember.from_numpy(a), ember.from_numpy(b)), ref(a, b), dtype=dtype)


def test_integer_pow_and_division():
    a, b = ember.from_numpy(np.array([2, -3, 1, -1, 5])), ember.from_numpy(np.array([10, 3, -4, -3, 0]))
    # negative exponents of an integer tensor: 1 for base 1, +-1 for base -1, else 0 (PyTorch)
    assert_close(a ** b, np.array([1024, -27, 1, -1, 1]), dtype=ember.int64)
    assert_close(a / b, np.array([0.2, -1.0, -0.25, 1 / 3, np.inf]), dtype=ember.float32)
    big = ember.from_numpy(np.array([np.iinfo(np.int64).min]))
    assert_close(big // -1, np.array([np.iinfo(np.int64).min]))  # wraps, as PyTorch; never traps
    assert_close(big % -1, np.array([0]))


def test_integer_overflow_wraps():
    a = np.array([np.iinfo(np.int32).max], dtype=np.int32)
    assert_close(ember.from_numpy(a) + ember.from_numpy(np.array([1], dtype=np.int32)),
                 np.array([np.iinfo(np.int32).min]), dtype=ember.int32)


def test_bool_arithmetic():
    p, q = np.array([True, True, False, False]), np.array([True, False, True, False])
    tp, tq = ember.from_numpy(p), ember.from_numpy(q)
    assert_close(tp + tq, p | q, dtype=ember.bool)
    assert_close(tp * tq, p & q, dtype=ember.bool)
    assert_close(ember.maximum(tp, tq), p | q, dtype=ember.bool)
    with np.errstate(all="ignore"):
        assert_close(tp / tq, p / q.astype(np.float64), dtype=ember.float32)
    assert_close(tp == tq, p == q, dtype=ember.bool)
    with pytest.raises(TypeError, match="sub: subtraction, the `-` operator, with a bool tensor"):
        tp - tq
    with pytest.raises(TypeError, match="sub: subtraction, the `-` operator, with a bool"):
        ember.from_numpy(np.ones(2)) - True


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_float_floor_divide_and_remainder_edge_cases(dtype):
    a = np.array([7.5, -7.5, 7.5, -7.5, 1.0, -1.0, 0.0, 5.0, -1.0, np.inf, np.nan]).astype(NP[dtype])
    b = np.array([2.0, 2.0, -2.0, -2.0, 0.0, 0.0, 0.0, np.inf, np.inf, 2.0, 1.0]).astype(NP[dtype])
    ta, tb = ember.from_numpy(a), ember.from_numpy(b)
    assert_close(ta // tb, _floor_divide(a, b), dtype=dtype)
    assert_close(ta % tb, _remainder(a, b), dtype=dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_pow_with_common_exponents(dtype):
    # x ** 2 and x ** 0.5 take a multiply / sqrt path; results must equal NumPy's, specials included.
    x = np.array([-np.inf, -2.0, -0.0, 0.0, 0.25, 3.0, 1e30, np.inf, np.nan]).astype(NP[dtype])
    t = ember.from_numpy(x)
    for exponent in [2, 2.0, 0.5, 3, -1, 0]:
        with np.errstate(all="ignore"):
            expected = np.power(x.astype(np.float64), exponent).astype(NP[dtype])
        assert_close(t ** exponent, expected, dtype=dtype)
        assert_close(noncontiguous(x) ** exponent, expected, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_nan_propagation(dtype):
    a = np.array([np.nan, 1.0, np.nan, np.inf, -np.inf]).astype(NP[dtype])
    b = np.array([1.0, np.nan, np.nan, np.nan, 1.0]).astype(NP[dtype])
    ta, tb = ember.from_numpy(a), ember.from_numpy(b)
    for name in ["add", "sub", "mul", "div", "maximum", "minimum", "pow"]:
        with np.errstate(all="ignore"):
            assert_close(ARITHMETIC[name][0](ta, tb), ARITHMETIC[name][1](a, b), dtype=dtype)
    for name, ref in COMPARISONS.items():
        assert_close(getattr(ember, name)(ta, tb), ref(a, b), dtype=ember.bool)


# ---- type promotion ----------------------------------------------------------------------------------
DTYPES = [ember.float32, ember.float64, ember.int64, ember.int32, ember.bool]
CATEGORY = {ember.bool: 0, ember.int64: 1, ember.int32: 1, ember.float32: 2, ember.float64: 2}


def _tensor(dtype, shape):
    return ember.from_numpy(np.ones(shape, dtype=NP[dtype]))


def _promote(da, db):
    """PyTorch's rule: the higher category wins (int64 with float32 is float32, unlike NumPy),
    the wider dtype within one."""
    if CATEGORY[da] != CATEGORY[db]:
        return da if CATEGORY[da] > CATEGORY[db] else db
    return da if da.itemsize >= db.itemsize else db


@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", DTYPES)
def test_promotion_between_tensors(da, db):
    assert (_tensor(da, (2,)) * _tensor(db, (2,))).dtype == _promote(da, db)
    assert (_tensor(da, ()) * _tensor(db, ())).dtype == _promote(da, db)
    # A 0-d tensor widens an n-d tensor only when of a higher category (bool < int < float).
    expected = db if CATEGORY[db] > CATEGORY[da] else da
    assert (_tensor(da, (2,)) * _tensor(db, ())).dtype == expected
    assert (_tensor(db, ()) * _tensor(da, (2,))).dtype == expected
    assert ember.eq(_tensor(da, (2,)), _tensor(db, ())).dtype == ember.bool


@pytest.mark.parametrize("dtype, number, expected", [
    (ember.float32, 2, ember.float32), (ember.float32, 2.5, ember.float32), (ember.float64, 2.5, ember.float64),
    (ember.int64, 2, ember.int64), (ember.int32, 2, ember.int32), (ember.int32, 2.5, ember.float32),
    (ember.int64, True, ember.int64), (ember.bool, True, ember.bool), (ember.bool, 2, ember.int64),
    (ember.bool, 2.5, ember.float32),
])
def test_promotion_with_python_numbers(dtype, number, expected):
    for t in (_tensor(dtype, (3,)), _tensor(dtype, ())):
        assert (t + number).dtype == expected
        assert (number * t).dtype == expected
        assert (t > number).dtype == ember.bool


def test_python_numbers_on_either_side():
    x = np.array([1.0, -2.0, 4.0], dtype=np.float32)
    t = ember.from_numpy(x)
    assert_close(2 - t, 2 - x)
    assert_close(t - 2, x - 2)
    assert_close(1 / t, 1 / x)
    assert_close(2 ** t, 2.0 ** x)
    assert_close(t ** 2, x ** 2)
    assert_close(7 // t, np.floor_divide(7, x))
    assert_close(t % 3, np.remainder(x, 3))
    assert_close(t < 1.5, x < 1.5, dtype=ember.bool)
    assert_close(ember.from_numpy(np.array([1, 2, 3])) / 2, np.array([0.5, 1.0, 1.5]), dtype=ember.float32)
    assert_close(ember.from_numpy(np.array([1, 2, 3])) < 2.5, np.array([True, True, False]))


# ---- where -----------------------------------------------------------------------------------------------
def test_where_values_broadcasting_and_numbers():
    rng = np.random.default_rng(5)
    c = rng.standard_normal((4, 1, 5)) > 0
    a = rng.standard_normal((3, 1)).astype(np.float32)
    b = rng.standard_normal((5,))
    tc, ta, tb = ember.from_numpy(c), ember.from_numpy(a), ember.from_numpy(b)
    assert_close(ember.where(tc, ta, tb), np.where(c, a, b), dtype=ember.float64)
    assert_close(ember.where(tc, ta, 0.0), np.where(c, a, np.float32(0)), dtype=ember.float32)
    assert_close(ember.where(tc, 1, 0), np.where(c, 1, 0), dtype=ember.int64)
    assert_close(ember.where(tc, 1, 0.5), np.where(c, 1, 0.5), dtype=ember.float32)
    assert_close(ember.where(tc, True, False), c, dtype=ember.bool)
    assert_close(ta.where(ember.from_numpy(a > 0), -1), np.where(a > 0, a, -1), dtype=ember.float32)
    big = rng.standard_normal((300, 301))
    assert_close(ember.where(noncontiguous(big > 0), noncontiguous(big), 0.0), np.where(big > 0, big, 0))
    # contiguous operands, each value side a tensor or one broadcast number, every dtype
    mask = rng.standard_normal(1003) > 0
    for dtype in DTYPES:
        x = (rng.standard_normal(1003) * 5).astype(NP[dtype])
        y = (rng.standard_normal(1003) * 5).astype(NP[dtype])
        tm, tx, ty = ember.from_numpy(mask), ember.from_numpy(x), ember.from_numpy(y)
        one = NP[dtype](1)
        assert_close(ember.where(tm, tx, ty), np.where(mask, x, y), dtype=dtype)
        assert_close(ember.where(tm, tx, ember.from_numpy(np.array(one))), np.where(mask, x, one), dtype=dtype)
        assert_close(ember.where(tm, ember.from_numpy(np.array(one)), ty), np.where(mask, one, y), dtype=dtype)
    assert_close(ember.where(tm, 2.0, -1.0), np.where(mask, 2.0, -1.0), dtype=ember.float32)


def test_where_errors():
    x = ember.from_numpy(np.ones(3))
    with pytest.raises(TypeError, match="where: expected a bool condition tensor, got float64"):
        ember.where(x, x, x)
    with pytest.raises(TypeError, match="where: expected a tensor, got bool"):
        ember.where(True, x, x)
    with pytest.raises(ValueError, match="where: shapes"):
        ember.where(x > 0, x, ember.from_numpy(np.ones(4)))


# ---- in place ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, ref", [("add_", np.add), ("sub_", np.subtract), ("mul_", np.multiply),
                                       ("div_", np.true_divide), ("pow_", np.power)])
def test_inplace_returns_the_same_object(name, ref):
    a = np.abs(np.random.default_rng(6).standard_normal((5, 7))) + 0.5
    b = np.random.default_rng(7).standard_normal(7)
    t = ember.from_numpy(a.copy())
    assert getattr(t, name)(ember.from_numpy(b)) is t
    assert_close(t, ref(a, b))
    s = ember.from_numpy(a.copy())
    assert getattr(s, name)(2) is s
    assert_close(s, ref(a, 2))


def test_inplace_operators_and_views():
    a = np.arange(12.0).reshape(3, 4)
    t = ember.from_numpy(a.copy())
    t2 = t
    t += 1
    t *= ember.from_numpy(np.array([1.0, 2.0, 3.0, 4.0]))
    t -= 0.5
    t /= 2
    t **= 2
    assert t is t2
    assert_close(t, (((a + 1) * [1, 2, 3, 4] - 0.5) / 2) ** 2)
    base = a.copy()
    view = ember.from_numpy(base).T  # strided destination
    view.add_(ember.from_numpy(np.ones(3)))
    np.testing.assert_array_equal(base, a + 1)


def test_inplace_with_overlapping_operand_reads_before_writing():
    a = np.arange(16.0).reshape(4, 4)
    t = ember.from_numpy(a.copy())
    t.add_(t.T)  # the other operand is a different view of the same memory
    assert_close(t, a + a.T)
    u = ember.from_numpy(a.copy())
    u.mul_(u)
    assert_close(u, a * a)


def test_inplace_computes_in_the_wider_dtype_then_casts():
    i = ember.from_numpy(np.array([1, 2], dtype=np.int32))
    i += ember.from_numpy(np.array([2 ** 31 - 1, 1]))  # int64 result, cast back into int32 (wraps)
    assert_close(i, np.array([-(2 ** 31), 3], dtype=np.int32), dtype=ember.int32)
    f = ember.from_numpy(np.array([1.0, 2.0], dtype=np.float32))
    f += ember.from_numpy(np.array([0.25, 0.5]))
    assert_close(f, np.array([1.25, 2.5]), dtype=ember.float32)


def test_inplace_errors():
    i = ember.from_numpy(np.array([1, 2]))
    cast = "result type {} can't be cast to the desired output type {}"
    with pytest.raises(RuntimeError, match="add_: " + cast.format("Float", "Long")):
        i += 1.5
    with pytest.raises(RuntimeError, match="div_: " + cast.format("Float", "Long")):
        i /= 2
    with pytest.raises(RuntimeError, match="mul_: " + cast.format("Long", "Bool")):
        ember.from_numpy(np.array([True])).mul_(2)
    with pytest.raises(RuntimeError, match=r"add_: output with shape \(3,\) doesn't match the broadcast shape \(2, 3"):
        ember.from_numpy(np.ones(3)).add_(ember.from_numpy(np.ones((2, 3))))
    with pytest.raises(RuntimeError, match=r"add_: the tensor being written has several elements in one memory location"):
        ember.from_numpy(np.ones(3)).expand(2, 3).add_(1)
    with pytest.raises(TypeError, match="add_: expected a tensor, got int"):
        ember._C.add_(1, i)


# ---- errors --------------------------------------------------------------------------------------------
def test_shape_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(3, 4\) and \(5,\) cannot be broadcast together"):
        ember.from_numpy(np.ones((3, 4))) + ember.from_numpy(np.ones(5))
    with pytest.raises(ValueError, match=r"lt: shapes \(2,\) and \(3,\) cannot be broadcast together"):
        ember.from_numpy(np.ones(2)) < ember.from_numpy(np.ones(3))


def test_integer_division_by_zero():
    a = ember.from_numpy(np.array([1, 2, 3]))
    with pytest.raises(ZeroDivisionError, match="floor_divide: integer division by zero"):
        a // ember.from_numpy(np.array([1, 0, 1]))
    with pytest.raises(ZeroDivisionError, match="remainder: integer division by zero"):
        a % 0
    with pytest.raises(ZeroDivisionError, match="floor_divide: integer division by zero"):
        5 // ember.from_numpy(np.array([0], dtype=np.int32))
    assert_close(a // 0.0, np.array([np.inf] * 3), dtype=ember.float32)  # float division: IEEE


def test_integer_to_negative_integer_power():
    with pytest.raises(ValueError, match="pow: integers to negative integer powers are not allowed"):
        ember.from_numpy(np.array([1, 2])) ** -1
    with pytest.raises(ValueError, match="pow: integers to negative integer powers are not allowed"):
        ember.from_numpy(np.array([1, 2])).pow_(-2)
    assert_close(ember.from_numpy(np.array([1, 2])) ** -1.0, np.array([1.0, 0.5]), dtype=ember.float32)


def test_argument_type_errors():
    t = ember.from_numpy(np.ones(2))
    with pytest.raises(TypeError, match="add: expected a tensor or a Python number, got str"):
        t + "a"
    with pytest.raises(TypeError, match="mul: expected at least one tensor, got two Python numbers"):
        ember.mul(2, 3)
    with pytest.raises(TypeError, match="maximum: expected two tensors, got a Python number"):
        ember.maximum(t, 1.0)
    with pytest.raises(TypeError, match="pow: not supported for bool tensors"):
        ember.from_numpy(np.array([True])) ** ember.from_numpy(np.array([True]))
    with pytest.raises(RuntimeError, match="add: value 1099511627776 cannot be converted to type int32"):
        ember.from_numpy(np.array([1], dtype=np.int32)) + 2 ** 40


# ---- every CPU capability path agrees with the generic one -----------------------------------------
_PARITY_SCRIPT = """
import numpy as np, ember
rng = np.random.default_rng(0)
x = rng.standard_normal(1031).astype(np.float32) * 4
y = rng.standard_normal(1031).astype(np.float32) * 4
tx, ty = ember.from_numpy(x), ember.from_numpy(y)
outs = [tx + ty, tx * 2.5, tx / ty, ember.maximum(tx, ty), tx < ty, tx.relu(), tx.exp(), tx.sigmoid(),
        tx.tanh(), ember.gelu(tx), ember.gelu(tx, "tanh"), ember.silu(tx), ember.where(tx > 0, tx, ty),
        ember.from_numpy(x.astype(np.float64)).exp(), ember.from_numpy((x * 10).astype(np.int64)) // 3]
print(ember._C.cpu_capability())
print(np.concatenate([o.numpy().astype(np.float64).ravel() for o in outs]).tobytes().hex())
"""


def test_capability_paths_agree_with_generic():
    results = {}
    for cap in capabilities():
        name, payload = run_under_capability(cap, _PARITY_SCRIPT).split()
        assert name == cap
        results[cap] = np.frombuffer(bytes.fromhex(payload), dtype=np.float64)
    generic = results["default"]
    for cap, values in results.items():
        # A few ulps apart at most: FMA contraction in the wider paths may round differently.
        np.testing.assert_allclose(values, generic, rtol=4 * TOL[ember.float32]["rtol"],
                                   atol=TOL[ember.float32]["atol"], equal_nan=True,
                                   err_msg=f"capability {cap} disagrees with the generic path")


@cuda
def test_add_on_cuda_matches_cpu():
    a = np.random.default_rng(8).standard_normal((33, 7)).astype(np.float32)
    b = np.random.default_rng(9).standard_normal(7)
    ga, gb = ember.from_numpy(a).cuda(), ember.from_numpy(b).cuda()
    out = ga + gb
    assert out.is_cuda and out.dtype == ember.float64
    assert_close(out.cpu(), a + b)
    assert_close((ga + 1).cpu(), a + 1)
    with pytest.raises(RuntimeError, match="mul: not implemented for CUDA tensors yet"):
        ga * ga
    with pytest.raises(RuntimeError, match="add: expected all tensors on the same device, got cuda:0 and cpu"):
        ga + ember.from_numpy(b)


def test_large_python_ints_stay_exact_with_int64_tensors():
    big = 2**62 + 1
    t = ember.tensor([0, 1], dtype=ember.int64)
    assert (t + big).tolist() == [big, big + 1]
    assert (t == big - 1 + 1).tolist() == [False, False]
    assert (t + (2**63 - 2)).tolist() == [2**63 - 2, 2**63 - 1]
    with pytest.raises(RuntimeError, match="without overflow"):
        t + 2**64
    with pytest.raises(RuntimeError, match="without overflow"):
        ember.tensor([1], dtype=ember.int32) + 2**40

"""The GEMM's fused epilogue (bias per column or per row, relu, tanh, sigmoid, accumulation) on every
CPU capability and every kernel path, and the linear layer that uses it, forward and backward.

The epilogue must give exactly what the unfused composition gives (the product, then + bias, then
the activation as its own op): the same sums, then the same roundings. So each case is compared to
the composition bit for bit, and both to a float64 reference within the bound of a length-k sum.
"""
import numpy as np
import pytest

import ember
from ember import _C
from conftest import capabilities, run_under_capability

# Shapes chosen to reach each path of the GEMM: products by the definition (m*n*k <= 1024), the
# direct kernel (small, B with contiguous rows), the transposed-B copy (small, B read by columns),
# packed panels with several 256-deep k blocks, ragged tiles on both edges, k == 0, and rows or
# columns of one. Outputs are row-major, column-major (a transposed view) or strided (every other
# column of a wider array): a column-major output swaps the operands, so a bias per column becomes
# one per row inside the GEMM.
EPILOGUE_SCRIPT = """
import numpy as np
import ember
from ember import _C

rng = np.random.default_rng(11)
shapes = [(3, 5, 7), (1, 9, 33), (33, 9, 1), (17, 40, 45), (70, 37, 29), (31, 300, 65), (129, 513, 70),
          (15, 0, 6), (200, 64, 10)]
acts = [None, "relu", "tanh", "sigmoid"]
fails = []
count = 0
for i, (m, k, n) in enumerate(shapes):
    for dt in (np.float32, np.float64):
        eps = np.finfo(dt).eps
        a = rng.standard_normal((m, k)).astype(dt)
        b = rng.standard_normal((k, n)).astype(dt)
        for layout in ("rows", "columns", "strided"):
            for b_layout in ("rows", "transposed"):
                ea = ember.from_numpy(a)
                eb = ember.from_numpy(b) if b_layout == "rows" else ember.from_numpy(np.ascontiguousarray(b.T)).mT
                for bias_kind in (None, "column", "row"):
                    bias = None
                    if bias_kind == "column":
                        bias = rng.standard_normal(n).astype(dt)
                    elif bias_kind == "row":
                        bias = rng.standard_normal(m).astype(dt)
                    for accumulate in (False, True):
                        act = acts[count % 4]
                        count += 1
                        start = rng.standard_normal((m, n)).astype(dt)
                        def fresh():
                            if layout == "rows":
                                t = ember.from_numpy(start.copy())
                            elif layout == "columns":
                                t = ember.from_numpy(start.T.copy()).mT  # a copy even when start.T is contiguous
                            else:
                                wide = np.zeros((m, 2 * n), dt)
                                wide[:, ::2] = start
                                t = ember.from_numpy(wide)[:, ::2]
                            return t
                        fused = fresh()
                        _C._matmul_into(ea, eb, fused, accumulate,
                                        None if bias is None else ember.from_numpy(bias), bias_kind == "row", act)
                        plain = fresh()
                        _C._matmul_into(ea, eb, plain, accumulate)
                        composed = np.array(plain.numpy())
                        if bias_kind == "column":
                            composed = composed + bias
                        elif bias_kind == "row":
                            composed = composed + bias[:, None]
                        if act == "relu":
                            composed = np.maximum(composed, dt(0))
                        elif act is not None:
                            composed = getattr(_C, act)(ember.from_numpy(np.ascontiguousarray(composed))).numpy()
                        got = np.array(fused.numpy())
                        ref = a.astype(np.float64) @ b.astype(np.float64)
                        if accumulate:
                            ref = ref + start
                        if bias_kind == "column":
                            ref = ref + bias
                        elif bias_kind == "row":
                            ref = ref + bias[:, None]
                        if act == "relu":
                            ref = np.maximum(ref, 0)
                        elif act == "tanh":
                            ref = np.tanh(ref)
                        elif act == "sigmoid":
                            ref = 1 / (1 + np.exp(-ref))
                        scale = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)) + 1 + np.abs(start)
                        if bias is not None:
                            scale = scale + 1
                        bound = (k + 4) * eps * scale + 4 * eps
                        case = (m, k, n, dt.__name__, layout, b_layout, bias_kind, accumulate, act)
                        if not np.array_equal(got, composed):
                            fails.append(("not the composition", case, float(np.abs(got - composed).max())))
                        elif np.any(np.abs(got - ref) > bound):
                            fails.append(("off the reference", case, float((np.abs(got - ref) / bound).max())))
print(ember._C.cpu_capability(), count, len(fails))
for f in fails[:10]:
    print(f)
"""


@pytest.mark.parametrize("cap", capabilities())
def test_epilogue_matches_composition_on_every_path(cap):
    out = run_under_capability(cap, EPILOGUE_SCRIPT).strip().splitlines()
    ran, count, failed = out[0].split()
    assert ran == cap
    assert int(count) > 500
    assert failed == "0", "\n".join(out[1:])


def test_relu_epilogue_keeps_nan_and_negative_zero():
    # rows: a NaN row, a negative row, and a -0.0 sum (0 * -1); relu keeps NaN and -0.0 as they are
    a = np.array([[np.nan, 0.0], [-2.0, 0.0], [0.0, 0.0]], np.float32)
    b = np.array([[1.0, 0.0], [0.0, -1.0]], np.float32)
    for to_layout in (lambda t: t, lambda t: ember.from_numpy(t.numpy().T.copy()).mT):
        out = to_layout(ember.zeros(3, 2))
        _C._matmul_into(ember.from_numpy(a), ember.from_numpy(b), out, False, None, False, "relu")
        plain = to_layout(ember.zeros(3, 2))
        _C._matmul_into(ember.from_numpy(a), ember.from_numpy(b), plain, False)
        composed = _C.relu(plain.contiguous()).numpy()
        got = out.numpy()
        assert np.isnan(got[0, 0]) and got[1, 0] == 0 and not np.signbit(got[1, 0])
        assert np.array_equal(got, composed, equal_nan=True)
        assert np.array_equal(np.signbit(got), np.signbit(composed))


# ---- linear with a fused activation -------------------------------------------------------------

def _reference(x, w, b, act):
    y = x.astype(np.float64) @ w.astype(np.float64).T
    if b is not None:
        y = y + b
    if act == "relu":
        return np.maximum(y, 0)
    if act == "tanh":
        return np.tanh(y)
    if act == "sigmoid":
        return 1 / (1 + np.exp(-y))
    return y


@pytest.mark.parametrize("act", [None, "relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, out_features", [((7, 5), 3), ((2, 3, 33), 17), ((33,), 65), ((128, 300), 10),
                                                   ((0, 4), 3), ((4, 0), 2)])
def test_linear_activation_forward_backward(act, dtype, x_shape, out_features):
    rng = np.random.default_rng(3)
    in_features = x_shape[-1]
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal((out_features, in_features)).astype(dtype)
    b = rng.standard_normal(out_features).astype(dtype)
    ex, ew, eb = ember.from_numpy(x), ember.from_numpy(w), ember.from_numpy(b)
    y = _C.linear(ex, ew, eb, act)
    eps = np.finfo(dtype).eps
    bound = (in_features + 4) * eps * (np.abs(x.astype(np.float64)) @ np.abs(w.T) + np.abs(b) + 1)
    np.testing.assert_array_less(np.abs(y.numpy() - _reference(x, w, b, act)), bound + 1e-300)
    # the same bits as the composition of the plain layer and the activation op
    composed = _C.linear(ex, ew, eb)
    if act is not None:
        composed = getattr(_C, act)(composed)
    assert np.array_equal(y.numpy(), composed.numpy())

    g = rng.standard_normal(y.shape).astype(dtype)
    dx, dw, db = _C.linear_backward(ember.from_numpy(g), ex, ew, True, True, True, act, y)
    # reference: the activation's derivative from the output, then the linear map's gradients
    yd = y.numpy().astype(np.float64)
    d = {None: 1.0, "relu": (yd > 0).astype(np.float64), "tanh": 1 - yd * yd, "sigmoid": yd * (1 - yd)}[act]
    rows = int(np.prod(x_shape[:-1]))
    gp = (g * d).reshape(rows, out_features)
    x2 = x.astype(np.float64).reshape(rows, in_features)
    tol = dict(rtol=50 * eps * max(rows, out_features, 1) ** 0.5, atol=50 * eps * max(rows, out_features, 1))
    np.testing.assert_allclose(dx.numpy().reshape(rows, in_features), gp @ w, **tol)
    np.testing.assert_allclose(dw.numpy(), gp.T @ x2, **tol)
    np.testing.assert_allclose(db.numpy(), gp.sum(0), **tol)


def test_linear_backward_accumulates_into_grad_weight():
    rng = np.random.default_rng(5)
    for rows in (9, 300):  # one k block, and several (the GEMM adds block by block)
        x = rng.standard_normal((rows, 20)).astype(np.float32)
        w = rng.standard_normal((6, 20)).astype(np.float32)
        g = rng.standard_normal((rows, 6)).astype(np.float32)
        old = rng.standard_normal((6, 20)).astype(np.float32)
        target = ember.from_numpy(old.copy())
        _, dw, _ = _C.linear_backward(ember.from_numpy(g), ember.from_numpy(x), ember.from_numpy(w), False, True,
                                      False, grad_weight=target)
        assert dw.data_ptr() == target.data_ptr()
        ref = old.astype(np.float64) + g.astype(np.float64).T @ x
        np.testing.assert_allclose(target.numpy(), ref, rtol=1e-5, atol=1e-4)


def test_linear_activation_errors():
    x, w = ember.zeros(2, 3), ember.zeros(4, 3)
    with pytest.raises(ValueError, match=r"linear: unknown activation 'gelu'; the fused activations are None, "
                                         r"'relu', 'tanh' and 'sigmoid'"):
        _C.linear(x, w, None, "gelu")
    with pytest.raises(ValueError, match=r"linear_backward: the 'tanh' activation's gradient needs the forward's "
                                         r"output, of shape \(2, 4\), got none"):
        _C.linear_backward(ember.zeros(2, 4), x, w, True, True, True, "tanh")
    with pytest.raises(ValueError, match=r"got \(4, 2\)"):
        _C.linear_backward(ember.zeros(2, 4), x, w, True, True, True, "relu", ember.zeros(4, 2))
    with pytest.raises(ValueError, match=r"grad_weight must be a contiguous float32 tensor of the weight's shape "
                                         r"\(4, 3\), got a non-contiguous float32 tensor of shape \(4, 3\)"):
        _C.linear_backward(ember.zeros(2, 4), x, w, False, True, False, grad_weight=ember.zeros(3, 4).mT)
    with pytest.raises(ValueError, match=r"got a float32 tensor of shape \(3, 4\)"):
        _C.linear_backward(ember.zeros(2, 4), x, w, False, True, False, grad_weight=ember.zeros(3, 4))
    with pytest.raises(TypeError, match=r"linear: expected float32 or float64 tensors, got int64"):
        _C.linear(ember.zeros(2, 3, dtype=ember.int64), ember.zeros(4, 3, dtype=ember.int64))


@pytest.mark.parametrize("act", [None, "relu", "tanh", "sigmoid"])
def test_linear_activation_node_central_differences(act):
    """The fused node's gradients (input, weight, bias) by central differences, in float64, with a
    non-contiguous input and leading dims."""
    from ember._fn.linear import linear_activation
    rng = np.random.default_rng(17)
    base = ember.from_numpy(rng.standard_normal((2, 5, 14))).requires_grad_()
    w = ember.from_numpy(rng.standard_normal((3, 7))).requires_grad_()
    b = ember.from_numpy(rng.standard_normal(3)).requires_grad_()
    assert not base[:, :, ::2].is_contiguous()
    # the node reads every other feature of base: a (2, 5, 7) strided input
    assert ember.autograd.gradcheck(lambda base, w, b: linear_activation(base[:, :, ::2], w, b, act), (base, w, b))

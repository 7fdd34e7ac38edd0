"""Gradients of every differentiable op: forward and backward against PyTorch in float64, plus
ember.autograd.gradcheck (central differences) on small shapes.

One helper, `check`, does the work for each case: it builds the inputs from NumPy, runs the op in
ember and in PyTorch on the same values, compares the outputs, back-propagates the same random
upstream gradient through both and compares every input's .grad (shape, dtype, values), then runs
gradcheck on the ember op. Without PyTorch only the gradcheck part runs.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import ember

try:
    import torch
except ImportError:  # the PyTorch comparisons are skipped, gradcheck still runs
    torch = None

RNG = np.random.default_rng(2024)
F32, F64 = ember.float32, ember.float64
TORCH_DTYPE = {} if torch is None else {F32: torch.float32, F64: torch.float64}
NP_DTYPE = {F32: np.float32, F64: np.float64}
# float64 ops agree with PyTorch to a few ulps; float32 inputs round once on the way in and out
GRAD_TOL = {F64: dict(rtol=1e-10, atol=1e-12), F32: dict(rtol=2e-5, atol=1e-6)}
GRADCHECK_MAX_NUMEL = 64  # gradcheck does one forward per input element and one backward per output one


def needs_kernel(name):
    return pytest.mark.skipif(not hasattr(ember._C, name), reason=f"backward kernel _C.{name} not built yet")


def sample(shape, low=-2.0, high=2.0):
    return RNG.uniform(low, high, size=shape)


def _leaf(a, dtype, layout):
    """An ember leaf requiring grad holding a's values; 'strided' gives a non-contiguous view of a
    larger buffer, 'transposed' a transposed view (the leaf is the view itself)."""
    if layout == "contiguous":
        return ember.tensor(a, dtype=dtype, requires_grad=True)
    if layout == "transposed":
        t = ember.tensor(np.ascontiguousarray(np.swapaxes(a, -1, -2)), dtype=dtype).transpose(-1, -2)
    else:
        big = np.zeros(tuple(2 * s for s in a.shape) or (), dtype=np.float64)
        big[tuple(slice(None, None, 2) for _ in a.shape)] = a
        t = ember.tensor(big, dtype=dtype)[tuple(slice(None, None, 2) for _ in a.shape)]
    assert not t.is_contiguous() or a.size <= 1
    return t.requires_grad_()


def _np(t):
    return np.array(t.detach().cpu(), dtype=np.float64)


def check(torch_fn, inputs, ember_fn=None, *, dtypes=None, layouts=None, gradcheck=True):
    """torch_fn / ember_fn: the op, taking the tensors in order (ember_fn defaults to torch_fn, for
    ops spelt the same in both). inputs: NumPy arrays (or shapes, filled from `sample`), all of
    which require grad. dtypes / layouts: per input. Returns the ember output."""
    ember_fn = ember_fn or torch_fn
    arrays = [np.asarray(sample(a) if isinstance(a, tuple) else a, dtype=np.float64) for a in inputs]
    dtypes = dtypes or [F64] * len(arrays)
    layouts = layouts or ["contiguous"] * len(arrays)
    leaves = [_leaf(a, d, lay) for a, d, lay in zip(arrays, dtypes, layouts)]
    out = ember_fn(*leaves)
    assert out.requires_grad and out.grad_fn is not None, "the op recorded no graph node"
    g = RNG.standard_normal(out.shape)  # not ones: a transposed or misplaced gradient shows
    out.backward(ember.tensor(g, dtype=out.dtype))
    for leaf, a, d in zip(leaves, arrays, dtypes):
        assert leaf.grad is not None, "no gradient reached an input"
        assert leaf.grad.shape == leaf.shape and leaf.grad.dtype == d, \
            f"grad {leaf.grad.shape} {leaf.grad.dtype} for input {leaf.shape} {d}"

    if torch is not None:
        t_leaves = [torch.tensor(a, dtype=TORCH_DTYPE[d], requires_grad=True) for a, d in zip(arrays, dtypes)]
        t_out = torch_fn(*t_leaves)
        assert tuple(out.shape) == tuple(t_out.shape), f"shape {out.shape} != torch {tuple(t_out.shape)}"
        assert NP_DTYPE[out.dtype] == t_out.detach().numpy().dtype, f"dtype {out.dtype} != torch {t_out.dtype}"
        np.testing.assert_allclose(_np(out), t_out.detach().double().numpy(), equal_nan=True, **GRAD_TOL[out.dtype])
        t_out.backward(torch.tensor(g, dtype=t_out.dtype))
        for i, (leaf, t_leaf, d) in enumerate(zip(leaves, t_leaves, dtypes)):
            want = t_leaf.grad.double().numpy() if t_leaf.grad is not None else np.zeros(t_leaf.shape)
            np.testing.assert_allclose(_np(leaf.grad), want, equal_nan=True, err_msg=f"gradient of input {i}",
                                       **GRAD_TOL[d])

    small = sum(a.size for a in arrays) + out.numel() <= GRADCHECK_MAX_NUMEL
    if gradcheck and small and all(d == F64 for d in dtypes):
        fresh = [ember.tensor(a, requires_grad=True) for a in arrays]
        assert ember.autograd.gradcheck(ember_fn, fresh)
    return out


def with_torch(fn):
    """Marks a test whose whole point is the PyTorch comparison."""
    return pytest.mark.skipif(torch is None, reason="PyTorch not installed")(fn)


# ---- binary arithmetic ----------------------------------------------------------------------------

BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((), (2, 3)), ((2, 3), ()), ((), ()),
                   ((3, 1), (1, 4)), ((2, 1, 3), (4, 1)), ((1,), (3,)), ((2, 3), (1, 1, 3))]
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
}


def binary_inputs(op, sa, sb):
    a = sample(sa, 0.5, 2.0) if op == "pow" else sample(sa)
    b = sample(sb)
    if op == "div":  # keep the divisor away from zero
        b = np.sign(b + 1e-3) * (np.abs(b) + 0.5)
    return [a, b]


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
@pytest.mark.parametrize("op", BINARY)
def test_binary_broadcasting(op, shapes):
    check(BINARY[op], binary_inputs(op, *shapes))


@settings(max_examples=30, deadline=None)
@given(op=st.sampled_from(sorted(BINARY)),
       shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
def test_binary_broadcasting_generated(op, shapes):
    # the gradient of a broadcast input is the sum over the dims it was broadcast along
    check(BINARY[op], binary_inputs(op, *shapes.input_shapes), gradcheck=False)


@pytest.mark.parametrize("op", ["add", "mul", "div", "pow"])
def test_binary_non_contiguous(op):
    check(BINARY[op], binary_inputs(op, (5, 6), (5, 6)), layouts=["strided", "transposed"], gradcheck=False)


SCALAR_CASES = {
    "x+s": lambda x: x + 2.5, "s+x": lambda x: 2.5 + x, "x-s": lambda x: x - 2, "s-x": lambda x: 2 - x,
    "x*s": lambda x: x * 3, "s*x": lambda x: -1.5 * x, "x/s": lambda x: x / 3, "s/x": lambda x: 3 / x,
    "x**2": lambda x: x ** 2, "x**0.5": lambda x: x ** 0.5, "x**-1.5": lambda x: x ** -1.5,
    "x**0": lambda x: x ** 0, "x**1": lambda x: x ** 1, "s**x": lambda x: 2 ** x, "x%s": lambda x: x % 0.7,
    "s%x": lambda x: 5.0 % x,
}


@pytest.mark.parametrize("case", SCALAR_CASES)
def test_tensor_scalar(case):
    # positive inputs away from remainder's jumps: the fractional parts of x / 0.7 and 5 / x stay inside (0, 1)
    x = np.array([[0.55, 1.2, 1.9], [0.8, 1.05, 1.6]])
    if case == "s%x":  # PyTorch has no derivative for remainder(Scalar, Tensor): finite differences only
        assert ember.autograd.gradcheck(SCALAR_CASES[case], ember.tensor(x, requires_grad=True))
        return
    check(SCALAR_CASES[case], [x])


def test_pow_with_zero_base_and_exponent():
    # d(a^b)/da at b == 0 is 0 (also at a == 0), d(a^b)/db at a == 0 is 0 for b >= 0, as in PyTorch
    # and a negative base with integer exponents (finite base gradient, NaN exponent gradient)
    a = np.array([0.0, 0.0, 2.0, 0.0, 1.5, -1.5, -2.0])
    b = np.array([0.0, 2.0, 0.0, 0.5, 3.0, 2.0, 3.0])
    check(lambda x, y: x ** y, [a, b], gradcheck=False)


@with_torch
@pytest.mark.parametrize("op", BINARY)
def test_mixed_float32_float64(op):
    # the result is float64; each input's gradient comes back in that input's own dtype
    out = check(BINARY[op], binary_inputs(op, (3, 4), (4,)), dtypes=[F32, F64])
    assert out.dtype == F64
    check(BINARY[op], binary_inputs(op, (4,), (3, 4)), dtypes=[F64, F32])


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_with_ties(op):
    # ties split the gradient evenly, as in PyTorch
    a = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])
    b = np.array([[1.0, 0.0, 3.5], [0.5, -2.0, 4.0]])
    fn = (lambda x, y: torch.maximum(x, y)) if op == "maximum" else (lambda x, y: torch.minimum(x, y))
    efn = getattr(ember, op)
    check(fn if torch else efn, [a, b], efn, gradcheck=False)
    check(fn if torch else efn, [a, np.array([3.0, 0.0, 3.0])], efn, gradcheck=False)  # broadcast ties
    check(fn if torch else efn, [sample((2, 3)), sample((3,))], efn)


@with_torch
@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_with_nan(op):
    # a NaN on either side: no input lost the comparison, both get the gradient (PyTorch's rule)
    fn = getattr(torch, op)
    check(fn, [np.array([np.nan, 1.0, np.nan]), np.array([0.0, np.nan, np.nan])], getattr(ember, op),
          gradcheck=False)


def test_remainder_tensor_tensor():
    a = np.array([[2.3, -1.7, 5.0], [0.4, 3.9, -4.6]])
    b = np.array([0.7, 1.1, -1.3])
    check(lambda x, y: x % y, [a, b])


def test_where():
    cond = RNG.random((3, 4)) > 0.5
    efn = lambda x, y: ember.where(ember.tensor(cond), x, y)
    tfn = (lambda x, y: torch.where(torch.tensor(cond), x, y)) if torch else efn
    check(tfn, [sample((3, 4)), sample((4,))], efn)
    check(tfn, [sample(()), sample((3, 1))], efn)
    escalar = lambda x: ember.where(ember.tensor(cond), x, 0.5)
    check((lambda x: torch.where(torch.tensor(cond), x, 0.5)) if torch else escalar, [sample((3, 4))], escalar)
    assert ember.tensor(1.0).where(ember.tensor(True), 2.0).item() == 1.0


# ---- unary math and activations -------------------------------------------------------------------

UNARY = {
    "neg": (lambda x: -x, -2, 2), "abs": (lambda x: x.abs(), -2, 2), "exp": (lambda x: x.exp(), -2, 2),
    "log": (lambda x: x.log(), 0.2, 3), "log1p": (lambda x: x.log1p(), -0.8, 3),
    "sqrt": (lambda x: x.sqrt(), 0.2, 3), "rsqrt": (lambda x: x.rsqrt(), 0.2, 3),
    "sin": (lambda x: x.sin(), -4, 4), "cos": (lambda x: x.cos(), -4, 4),
}


@pytest.mark.parametrize("op", UNARY)
@pytest.mark.parametrize("shape", [(), (5,), (2, 3)], ids=str)
def test_unary_math(op, shape):
    fn, low, high = UNARY[op]
    check(fn, [sample(shape, low, high)])


@pytest.mark.parametrize("op", ["exp", "log", "sin"])
def test_unary_non_contiguous_and_float32(op):
    fn, low, high = UNARY[op]
    check(fn, [sample((6, 7), low, high)], layouts=["strided"], gradcheck=False)
    check(fn, [sample((6, 7), low, high)], dtypes=[F32], layouts=["transposed"])


def test_abs_at_zero_has_zero_gradient():
    check(lambda x: x.abs(), [np.array([-1.0, 0.0, 2.0])], gradcheck=False)


def _torch_or_none(name, **kwargs):
    if torch is None:
        return None
    f = getattr(torch.nn.functional, name, None) or getattr(torch, name)
    return lambda x: f(x, **kwargs)


# name, backward kernel, ember function, torch function, (low, high)
ACTIVATIONS = [
    ("relu", "relu_backward", lambda x: x.relu(), lambda x: x.relu(), (-2, 2)),
    ("sigmoid", "sigmoid_backward", lambda x: x.sigmoid(), lambda x: x.sigmoid(), (-4, 4)),
    ("tanh", "tanh_backward", lambda x: x.tanh(), lambda x: x.tanh(), (-3, 3)),
    ("silu", "silu_backward", ember.silu, _torch_or_none("silu"), (-4, 4)),
    ("leaky_relu", "leaky_relu_backward", ember.leaky_relu, _torch_or_none("leaky_relu"), (-2, 2)),
    ("leaky_relu(0.2)", "leaky_relu_backward", lambda x: ember.leaky_relu(x, 0.2),
     _torch_or_none("leaky_relu", negative_slope=0.2), (-2, 2)),
    ("elu", "elu_backward", ember.elu, _torch_or_none("elu"), (-3, 2)),
    ("elu(0.5)", "elu_backward", lambda x: ember.elu(x, 0.5), _torch_or_none("elu", alpha=0.5), (-3, 2)),
    ("gelu", "gelu_backward", ember.gelu, _torch_or_none("gelu"), (-4, 4)),
    ("gelu(tanh)", "gelu_backward", lambda x: ember.gelu(x, "tanh"), _torch_or_none("gelu", approximate="tanh"),
     (-4, 4)),
    ("softplus", "softplus_backward", ember.softplus, _torch_or_none("softplus"), (-4, 4)),
    ("softplus(2, 3)", "softplus_backward", lambda x: ember.softplus(x, 2.0, 3.0),
     _torch_or_none("softplus", beta=2.0, threshold=3.0), (-4, 4)),
    ("clamp(-1, 1)", "clamp_backward", lambda x: x.clamp(-1, 1), lambda x: x.clamp(-1, 1), (-2, 2)),
    ("clamp(min)", "clamp_backward", lambda x: x.clamp(min=-0.5), lambda x: x.clamp(min=-0.5), (-2, 2)),
    ("clamp(max)", "clamp_backward", lambda x: ember.clamp(x, max=0.25), lambda x: x.clamp(max=0.25), (-2, 2)),
]


@pytest.mark.parametrize("efn,tfn,bounds", [pytest.param(*a[2:], id=a[0], marks=needs_kernel(a[1]))
                                           for a in ACTIVATIONS])
def test_activation(efn, tfn, bounds):
    low, high = bounds
    x = sample((2, 5), low, high)
    x[np.abs(x) < 0.05] = 0.3  # away from the kinks of relu / leaky_relu / elu, where gradcheck is ill-posed
    check(tfn or efn, [x], efn)
    check(tfn or efn, [sample((7, 9), low, high)], efn, dtypes=[F32], layouts=["strided"])
    check(tfn or efn, [sample((), low, high)], efn)


@needs_kernel("relu_backward")
def test_relu_gradient_at_zero_is_zero():
    check(lambda x: x.relu(), [np.array([-1.0, 0.0, 1.0])], gradcheck=False)


@needs_kernel("clamp_backward")
def test_clamp_scalar_bounds_pass_gradient_at_the_bounds():
    # PyTorch passes the gradient where min <= x <= max, bounds included
    check(lambda x: x.clamp(-1.0, 1.0), [np.array([-2.0, -1.0, 0.0, 1.0, 2.0])], gradcheck=False)


def test_clamp_tensor_bounds():
    lo, hi = sample((3, 4), -1.5, -0.2), sample((4,), 0.2, 1.5)
    check(lambda x, a, b: x.clamp(a, b), [sample((3, 4), -2, 2), lo, hi])
    check(lambda x, a: x.clamp(min=a), [sample((3, 4), -2, 2), lo])
    check(lambda x, b: x.clamp(max=b), [sample((2, 4), -2, 2), hi])
    # one tensor bound and one number (PyTorch needs both as tensors)
    efn = lambda x, a: x.clamp(a, 0.5)
    tfn = (lambda x, a: x.clamp(a, torch.tensor(0.5, dtype=x.dtype))) if torch else efn
    check(tfn, [sample((3, 4), -2, 2), lo], efn)
    efn = lambda x, b: x.clamp(-0.5, b)
    tfn = (lambda x, b: x.clamp(torch.tensor(-0.5, dtype=x.dtype), b)) if torch else efn
    check(tfn, [sample((3, 4), -2, 2), hi], efn)


@with_torch
def test_clamp_tensor_bounds_at_the_bounds():
    # x equal to a bound: the gradient goes to x, none to the bound (PyTorch's clamp, bounds included)
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    lo = np.array([-1.0, -1.0, 0.5, 0.5, 0.5, -1.0])
    hi = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    check(lambda x, a, b: x.clamp(a, b), [x, lo, hi], gradcheck=False)


# ---- reductions ----------------------------------------------------------------------------------

REDUCE_DIMS = [None, 0, -1, (0, 2), (1,)]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", REDUCE_DIMS, ids=str)
@pytest.mark.parametrize("op", ["sum", "mean", "prod", "logsumexp", "amax", "amin"])
def test_reductions(op, dim, keepdim):
    if op == "logsumexp" and dim is None:
        dim = (0, 1, 2)  # logsumexp takes no dim=None
    fn = (lambda x: getattr(x, op)(dim, keepdim)) if dim is not None else (lambda x: getattr(x, op)())
    tfn = fn
    if op == "prod" and isinstance(dim, tuple) and torch is not None:  # torch's prod takes one dim
        def tfn(x):
            for d in sorted(dim, reverse=True):
                x = x.prod(d, keepdim)
            return x
    check(tfn, [sample((2, 3, 4), 0.5, 1.5) if op == "prod" else sample((2, 3, 4))], fn)


def test_reductions_over_an_empty_dim_list_reduce_everything():
    check(lambda x: x.sum([]), [sample((2, 3))])
    check((lambda x: x.mean()) if torch else None, [sample((2, 3))], lambda x: x.mean([]))


@pytest.mark.parametrize("op", ["sum", "mean", "prod", "amax", "amin"])
def test_reductions_of_0d_and_strided(op):
    check(lambda x: getattr(x, op)(), [sample(())])
    check(lambda x: getattr(x, op)(0), [sample(())])  # dim 0 of a 0-d tensor: the tensor itself
    check(lambda x: getattr(x, op)(1), [sample((5, 6), 0.8, 1.2)], layouts=["strided"], gradcheck=False)


@with_torch
@pytest.mark.parametrize("zeros", [0, 1, 2], ids=lambda z: f"{z}zeros")
def test_prod_with_zeros(zeros):
    x = sample((3, 4), 0.5, 1.5)
    x[1, :zeros] = 0.0            # row 1 has `zeros` zeros
    x[2, 3] = 0.0                 # row 2 always has one
    for dim in (1, None):
        fn = (lambda t: t.prod(dim)) if dim is not None else (lambda t: t.prod())
        check(fn, [x], gradcheck=zeros == 0 and dim is not None)


@pytest.mark.parametrize("op", ["amax", "amin"])
def test_amax_amin_ties_share_the_gradient(op):
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, -1.0, 5.0, -4.0]])
    check(lambda t: getattr(t, op)(1), [x], gradcheck=False)
    check(lambda t: getattr(t, op)(), [x], gradcheck=False)
    check(lambda t: t.max() if op == "amax" else t.min(), [x], gradcheck=False)


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_along_dim(op, keepdim):
    for dim in (0, 1, -1):
        fn = lambda t: getattr(t, op)(dim, keepdim)[0]
        check(fn, [sample((3, 4))])
    # ties: all of the gradient goes to the one index returned (PyTorch returns the first)
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
    values, indices = getattr(ember.tensor(x, requires_grad=True), op)(1, keepdim)
    assert values.grad_fn is not None and not indices.requires_grad and indices.dtype == ember.int64
    check(lambda t: getattr(t, op)(1, keepdim).values, [x], gradcheck=False)
    check(lambda t: getattr(t, op)(0)[0], [sample(())])


@pytest.mark.parametrize("correction", [0, 1])
@pytest.mark.parametrize("dim", [None, 0, (0, 2), -1], ids=str)
@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std(op, dim, correction):
    for keepdim in (False, True):
        check(lambda x: getattr(x, op)(dim, correction=correction, keepdim=keepdim), [sample((2, 3, 4))])


@with_torch
def test_std_of_a_constant_slice_has_zero_gradient():
    x = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    check(lambda t: t.std(1), [x], gradcheck=False)
    check(lambda t: t.std(), [np.full((2, 2), 3.0)], gradcheck=False)


@pytest.mark.parametrize("op", [pytest.param(op, marks=needs_kernel(f"{op}_backward"))
                                for op in ("softmax", "log_softmax")])
def test_softmax_family(op):
    for dim in (0, 1, 2, -1):
        check(lambda x: getattr(x, op)(dim), [sample((2, 3, 4), -3, 3)], gradcheck=dim != 1)
    check(lambda x: getattr(x, op)(1), [sample((5, 9), -3, 3)], layouts=["strided"], dtypes=[F32])
    check(lambda x: getattr(x, op)(0), [sample((), -3, 3)])


# ---- matmul -------------------------------------------------------------------------------------

MATMUL_SHAPES = [((4,), (4,)), ((3,), (3, 5)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (2, 3, 4)),
                 ((2, 1, 2, 3), (3, 3, 2)), ((2, 2, 3), (3, 2)), ((3,), (2, 3, 2)), ((2, 2, 3), (3,)),
                 ((1, 3), (3, 1))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    check(lambda a, b: a @ b, [sample(shapes[0]), sample(shapes[1])])


@pytest.mark.parametrize("layouts", [("transposed", "contiguous"), ("contiguous", "transposed"),
                                     ("strided", "transposed")], ids=str)
def test_matmul_non_contiguous(layouts):
    check(lambda a, b: a @ b, [sample((9, 7)), sample((7, 5))], layouts=list(layouts), gradcheck=False)
    check(lambda a, b: a @ b, [sample((2, 9, 7)), sample((7, 5))], layouts=list(layouts), gradcheck=False)
    check(lambda a, b: a.matmul(b.mT), [sample((6, 7)), sample((5, 7))], layouts=list(layouts), gradcheck=False)


def test_matmul_float32_and_one_side_requiring_grad():
    if torch is not None:
        check(lambda a, b: a @ b, [sample((3, 4)), sample((4, 2))], dtypes=[F32, F32])
    w = ember.tensor(sample((4, 2)), requires_grad=True)
    x = ember.tensor(sample((3, 4)))
    (x @ w).sum().backward()
    np.testing.assert_allclose(_np(w.grad), np.broadcast_to(_np(x).sum(0)[:, None], (4, 2)), rtol=1e-12)
    assert x.grad is None


# ---- views ---------------------------------------------------------------------------------------

VIEWS = {
    "reshape": lambda x: x.reshape(4, 6), "reshape(-1)": lambda x: x.reshape(-1),
    "view": lambda x: x.view(2, 12), "flatten": lambda x: x.flatten(), "flatten(1)": lambda x: x.flatten(1),
    "squeeze": lambda x: x.unsqueeze(1).squeeze(), "squeeze(1)": lambda x: x.unsqueeze(1).squeeze(1),
    "unsqueeze(-1)": lambda x: x.unsqueeze(-1), "transpose": lambda x: x.transpose(0, 2),
    "permute": lambda x: x.permute(2, 0, 1), ".T": lambda x: x[0].T, ".mT": lambda x: x.mT,
    "expand": lambda x: x[:, :1].expand(2, 5, 4), "expand(-1)": lambda x: x[None].expand(3, -1, -1, -1),
    "broadcast_to": lambda x: x[0].broadcast_to((2, 3, 4)),
    "view_as": lambda x: x.sum(0).view_as(x[0]), "reshape_as": lambda x: x.reshape_as(x.permute(2, 1, 0)),
    "expand_as": lambda x: x[:1].expand_as(x), "view.view": lambda x: x.view(6, 4).view(24)[3:9],
}


@pytest.mark.parametrize("op", VIEWS)
def test_views(op):
    check(VIEWS[op], [sample((2, 3, 4))])


def test_views_of_0d_and_non_contiguous():
    check(lambda x: x.reshape(1, 1), [sample(())])
    check(lambda x: x.unsqueeze(0).expand(3), [sample(())])
    check(lambda x: x.reshape(-1), [sample((4, 5))], layouts=["transposed"], gradcheck=False)
    check(lambda x: x.T.reshape(2, 10), [sample((4, 5))], layouts=["strided"], gradcheck=False)


# ---- indexing -------------------------------------------------------------------------------------

def _index_cases():
    idx = np.array([0, 2, 0, 0, 1])  # repeats: their gradients add up
    mask = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
    return {
        "int": (1,), "negative int": (-1, 2), "slice": (slice(1, 3),), "step": (slice(None, None, 2),),
        "steps": (slice(None), slice(1, None, 2)), "step and tensor": (slice(None, None, 2), np.array([1, 1, 3])),
        "negative tensor": (np.array([-1, 0, -1]),), "0-d tensor": (np.array(1), slice(1, 3)),
        "None": (None, 1), "Ellipsis": (Ellipsis, 1), "Ellipsis None": (0, Ellipsis, None),
        "tensor": (idx,), "tensor dim 1": (slice(None), idx[:3]), "two tensors": (idx, np.array([3, 0, 3, 3, 1])),
        "2-d tensor": (np.array([[0, 2], [2, 2]]),), "mask": (mask,), "row mask": (np.array([True, False, True]),),
    }


INDEX_CASES = _index_cases()


def _to(index, module):
    convert = lambda e: module.tensor(e) if isinstance(e, np.ndarray) else e
    return tuple(convert(e) for e in index)


@pytest.mark.parametrize("case", INDEX_CASES)
def test_getitem(case):
    index = INDEX_CASES[case]
    efn = lambda x: x[_to(index, ember)]
    tfn = (lambda x: x[_to(index, torch)]) if torch else efn
    check(tfn, [sample((3, 4))], efn)


def test_getitem_repeated_indices_scatter_add_their_gradients():
    x = ember.tensor(np.arange(4.0), requires_grad=True)
    x[ember.tensor([1, 1, 3, 1])].sum().backward()
    assert x.grad.tolist() == [0.0, 3.0, 0.0, 1.0]


def test_getitem_of_3d_and_non_contiguous():
    check(lambda x: x[1:, ..., ::2], [sample((3, 2, 5))])
    check(lambda x: x[:, 1], [sample((6, 5))], layouts=["transposed"], gradcheck=False)


def _setitem_cases():
    # (index, value shape): values broadcast into the indexed region, leading size-1 dims included
    return [((1,), (4,)), ((slice(None), 2), (3,)), ((slice(0, 2), slice(1, 3)), (2, 2)),
            ((slice(None), slice(None, None, 2)), (1, 2)), ((np.array([0, 2]),), (2, 4)),
            ((np.array([[True, False, True, False]] * 3),), (6,)), ((Ellipsis, 0), ()), ((0,), (1, 1, 4)),
            ((slice(None), 1), (1,)), ((slice(1, None),), (4,))]


@pytest.mark.parametrize("index,value_shape", _setitem_cases(), ids=str)
def test_setitem_under_autograd(index, value_shape):
    # both the overwritten target (a non-leaf) and the value get gradients
    def run(mod):
        def fn(x, v):
            y = x * 1.0
            y[_to(index, mod)] = v
            return y * y
        return fn
    check(run(torch) if torch else run(ember), [sample((3, 4)), sample(value_shape)], run(ember))


def test_setitem_with_a_scalar_or_a_constant_value():
    def run(mod, constant):
        def fn(x):
            y = x.sin()
            y[0] = mod.tensor([1.0, 2.0, 3.0], dtype=mod.float64) if constant else 5.0
            return y
        return fn
    for constant in (False, True):
        check(run(torch, constant) if torch else run(ember, constant), [sample((2, 3))], run(ember, constant))
    # a value requiring grad written into a tensor that does not
    v = ember.tensor([1.0, 2.0], requires_grad=True)
    y = ember.zeros(3, dtype=F64)
    y[1:] = v
    assert y.requires_grad and not y.is_leaf
    (y * ember.tensor([3.0, 4.0, 5.0], dtype=F64)).sum().backward()
    assert v.grad.tolist() == [4.0, 5.0]


# ---- joins and splits -------------------------------------------------------------------------------

def _join(name, *args):
    """ember.<name> and torch.<name> on a list of tensors (torch only when installed)."""
    efn = lambda *ts: getattr(ember, name)(list(ts), *args)
    tfn = (lambda *ts: getattr(torch, name)(list(ts), *args)) if torch else efn
    return tfn, efn


def test_cat_and_stack():
    check(_join("cat", 1)[0], [sample((2, 1)), sample((2, 3)), sample((2, 2))], _join("cat", 1)[1])
    check(_join("cat")[0], [sample((2, 3)), sample((1, 3))], _join("cat")[1])
    check(_join("cat", -1)[0], [sample((3,)), sample((2,))], _join("cat", -1)[1])
    for dim in (0, 1, -1):
        check(_join("stack", dim)[0], [sample((2, 3)), sample((2, 3))], _join("stack", dim)[1])
    check(_join("stack")[0], [sample(()), sample(())], _join("stack")[1])


def test_cat_with_inputs_not_requiring_grad():
    a = ember.tensor(sample((2, 2)), requires_grad=True)
    b = ember.tensor(sample((3, 2)))
    out = ember.cat([b, a, b])
    (out * ember.arange(8.0, dtype=F64)[:, None]).sum().backward()
    np.testing.assert_array_equal(_np(a.grad), [[3.0, 3.0], [4.0, 4.0]])
    assert b.grad is None


def test_split_and_chunk():
    check(lambda x: x.split(2, 1)[1] * 2 + x.split(2, 1)[2].sum(), [sample((3, 5))])
    check(lambda x: x.split([1, 2], 0)[1], [sample((3, 4))])
    check(lambda x: x.chunk(3, -1)[0] - x.chunk(3, -1)[2], [sample((2, 6))])

    def all_pieces(x):
        pieces = x.chunk(2, 0)
        return pieces[0] * pieces[1]
    check(all_pieces, [sample((4, 3))])


# ---- gather / scatter ----------------------------------------------------------------------------

def test_index_select():
    idx = [2, 0, 2, 1]
    efn = lambda d: (lambda x: x.index_select(d, ember.tensor(idx)))
    tfn = lambda d: (lambda x: x.index_select(d, torch.tensor(idx))) if torch else efn(d)
    check(tfn(0), [sample((3, 4))], efn(0))
    check(tfn(1), [sample((2, 3))], efn(1))
    check(tfn(-1), [sample((3,))], efn(-1))


def test_gather():
    index = np.array([[0, 0, 2], [1, 2, 2]])
    for dim in (0, 1):
        efn = lambda x: x.gather(dim, ember.tensor(index))
        tfn = (lambda x: x.gather(dim, torch.tensor(index))) if torch else efn
        check(tfn, [sample((3, 3))], efn)


def test_scatter_add():
    index = np.array([[0, 1, 1], [2, 1, 0]])
    efn = lambda x, src: ember.scatter_add(x, 1, ember.tensor(index), src)
    tfn = (lambda x, src: torch.scatter_add(x, 1, torch.tensor(index), src)) if torch else efn
    check(tfn, [sample((2, 3)), sample((2, 3))], efn)
    check(tfn, [sample((2, 4)), sample((2, 3))], efn)
    # src only (target a constant)
    src = ember.tensor(sample((2, 3)), requires_grad=True)
    out = ember.scatter_add(ember.zeros(2, 3, dtype=F64), 1, ember.tensor(index), src)
    out.sum().backward()
    assert src.grad.tolist() == [[1.0] * 3] * 2
    # src larger than index: the elements never read get zero (PyTorch raises on the shape mismatch)
    src = ember.tensor(np.ones((2, 3)), requires_grad=True)
    weights = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=F64)
    (ember.scatter_add(ember.zeros(2, 3, dtype=F64), 1, ember.tensor(index[:, :2]), src) * weights).sum().backward()
    assert src.grad.tolist() == [[1.0, 2.0, 0.0], [6.0, 5.0, 0.0]]
    first_row = lambda s: ember.scatter_add(ember.zeros(2, 3, dtype=F64), 0, ember.tensor([[1, 0]]), s)
    assert ember.autograd.gradcheck(first_row, ember.tensor(np.ones((2, 3)), requires_grad=True))


def test_masked_fill():
    mask = np.array([[True, False, False], [False, True, True]])
    efn = lambda x: x.masked_fill(ember.tensor(mask), -1.5)
    tfn = (lambda x: x.masked_fill(torch.tensor(mask), -1.5)) if torch else efn
    check(tfn, [sample((2, 3))], efn)
    # a 0-d tensor value requiring grad gets the sum of the gradient over the masked positions
    efn = lambda x, v: x.masked_fill(ember.tensor(mask), v)
    tfn = (lambda x, v: x.masked_fill(torch.tensor(mask), v)) if torch else efn
    check(tfn, [sample((2, 3)), sample(())], efn)
    v = ember.tensor(0.5, dtype=F64, requires_grad=True)
    (ember.zeros(2, 3, dtype=F64).masked_fill(ember.tensor(mask), v) * 2).sum().backward()
    assert v.grad.item() == 6.0
    row = np.array([True, False, True])  # broadcast mask
    efn = lambda x: x.masked_fill(ember.tensor(row), 0.0)
    tfn = (lambda x: x.masked_fill(torch.tensor(row), 0.0)) if torch else efn
    check(tfn, [sample((2, 3))], efn)


# ---- copies and conversions ------------------------------------------------------------------------

def test_clone_contiguous_and_dtype_conversions():
    check(lambda x: x.clone() * 2, [sample((2, 3))])
    check(lambda x: x.T.contiguous(), [sample((2, 3))])
    check(lambda x: x.contiguous(), [sample((4, 3))], layouts=["transposed"], gradcheck=False)
    check(lambda x: x.to(torch.float64 if torch and isinstance(x, torch.Tensor) else F64) * x,
          [sample((2, 3))], dtypes=[F32])
    check(lambda x: x.float(), [sample((2, 3))], gradcheck=False)
    check(lambda x: x.float().double(), [sample((2, 3))], gradcheck=False)  # float32 rounding defeats eps
    out = ember.tensor(sample((2, 3)), requires_grad=True).float()
    assert out.dtype == F32 and out.grad_fn is not None
    assert not ember.tensor(sample(3), requires_grad=True).long().requires_grad


# ---- in-place ops on non-leaf tensors ----------------------------------------------------------------

def _inplace_cases(mod):
    def idx(i):
        return mod.tensor(i)
    return {
        "add_": lambda x, w: (x * 1).add_(w),
        "add_ scalar": lambda x, w: (x * w).add_(2.0),
        "sub_": lambda x, w: (x.sin()).sub_(w[0]),
        "mul_": lambda x, w: (x * 2).mul_(w),
        "mul_ self": lambda x, w: (x + w).mul_(x + w),
        "div_": lambda x, w: (x + 0).div_(w.abs() + 1),
        "iadd": lambda x, w: _iop(x * 1, w, "+"),
        "imul": lambda x, w: _iop(x * 1, w, "*"),
        "itruediv": lambda x, w: _iop(x * w, 2.0, "/"),
        "pow_": lambda x, w: (x.abs() + 1).pow_(2.0) * w,
        "exp_ then use": lambda x, w: (x * w).exp_() * x,
        "neg_": lambda x, w: (x * w).neg_(),
        "sqrt_": lambda x, w: (x * x + 1).sqrt_() * w,
        "copy_": lambda x, w: (x * 1).copy_(w) * x,
        "copy_ broadcast": lambda x, w: (x * 2).copy_(w[0]),
        "fill_": lambda x, w: (x * w).fill_(3.0) * x,
        "zero_": lambda x, w: (x * w).zero_() + x,
        "setitem": lambda x, w: _set(x * 1, (1,), w[0]),
        "setitem tensor": lambda x, w: _set(x.sin(), (slice(None), idx([0, 2])), w[:, :2]),
        "chain": lambda x, w: (x * 1).mul_(w).add_(x).mul_(2.0),
    }


def _iop(y, w, op):
    if op == "+":
        y += w
    elif op == "*":
        y *= w
    else:
        y /= w
    return y


def _set(y, index, v):
    y[index] = v
    return y


INPLACE = list(_inplace_cases(ember))


@pytest.mark.parametrize("case", INPLACE)
def test_inplace_on_non_leaf(case):
    efn = _inplace_cases(ember)[case]
    tfn = _inplace_cases(torch)[case] if torch else efn
    check(tfn, [sample((3, 4)), sample((3, 4))], efn)


ACTIVATIONS_INPLACE = [("relu_", "relu_backward", lambda y: y.relu_()),
                       ("sigmoid_", "sigmoid_backward", lambda y: y.sigmoid_()),
                       ("tanh_", "tanh_backward", lambda y: y.tanh_()),
                       ("clamp_", "clamp_backward", lambda y: y.clamp_(-0.5, 0.5))]


@pytest.mark.parametrize("op", [pytest.param(a[2], id=a[0], marks=needs_kernel(a[1])) for a in ACTIVATIONS_INPLACE])
def test_inplace_activation_on_non_leaf(op):
    check(lambda x, w: op(x * w) * x, [sample((3, 4)), sample((3, 4))])


def test_clamp_inplace_with_tensor_bounds():
    check(lambda x, lo: (x * 1).clamp_(min=lo), [sample((3, 4)), sample((4,))])
    check(lambda x, lo, hi: (x * 1).clamp_(lo, hi), [sample((3, 4)), sample((4,), -1, 0), sample((3, 1), 0, 1)])

"""The autograd engine: graph recording, backward semantics, grad modes, ember.autograd.grad, custom
Functions, version counters, gradient memory, deep graphs and memory over a training loop, checked
against PyTorch's behaviour (values against torch where it is installed)."""
import gc
import weakref

import numpy as np
import pytest

import ember
from ember.autograd import Function

try:
    import torch
except ImportError:
    torch = None

F32, F64 = ember.float32, ember.float64
RNG = np.random.default_rng(7)
with_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")
HAS_RELU_BACKWARD = hasattr(ember._C, "relu_backward")


def leaf(shape=(2, 3), dtype=F64, low=-2.0, high=2.0):
    return ember.tensor(RNG.uniform(low, high, size=shape), dtype=dtype, requires_grad=True)


def values(t):
    return np.array(t.detach(), dtype=np.float64)


# ---- recording --------------------------------------------------------------------------------------

def test_requires_grad_propagates_through_ops():
    a, b = leaf(), ember.tensor(np.ones((2, 3)))
    assert a.requires_grad and not b.requires_grad
    assert (a + b).requires_grad and (b * a).requires_grad and not (b * 2).requires_grad
    assert (a @ b.T).requires_grad and a.sum().requires_grad and a[0].requires_grad and a.T.requires_grad
    # integer and boolean results are never differentiable
    assert not (a > 0).requires_grad and not a.argmax().requires_grad and not a.long().requires_grad
    assert not a.max(1).indices.requires_grad
    # a tensor made from a result with ember.tensor() is a new constant
    assert not ember.tensor(a * 2).requires_grad


def test_is_leaf_and_grad_fn_names():
    a, b = leaf(), ember.ones(2, 3, dtype=F64)
    assert a.is_leaf and b.is_leaf and a.grad_fn is None
    assert (b * 2).is_leaf  # nothing to record: still a leaf, as in PyTorch
    y = (a * b + 1).sum()
    assert not y.is_leaf and not (a * b).is_leaf
    names = {"add": a + b, "mul": a * b, "sub": a - 1, "div": a / 2, "sum": a.sum(), "matmul": a @ b.T,
             "reshape": a.reshape(6), "transpose": a.T, "getitem": a[0], "exp": a.exp()}
    expected = {"add": "Add", "mul": "Mul", "sub": "Sub", "div": "Div", "sum": "Sum", "matmul": "MatMul",
                "reshape": "Reshape", "transpose": "Permute", "getitem": "GetItem", "exp": "Exp"}
    for key, out in names.items():
        assert out.grad_fn.name() == expected[key] and type(out.grad_fn).__name__ == expected[key]
    # next_functions: the producing nodes of the inputs (the leaf itself for leaves, None for constants)
    h = a * 2
    nxt = (h + b).grad_fn.next_functions
    assert nxt[0][0] is h.grad_fn and nxt[1][0] is None
    assert h.grad_fn.next_functions[0][0] is a


def test_no_graph_without_requires_grad():
    x = ember.ones(3)
    y = x.exp() * 2 + x
    assert y.grad_fn is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


# ---- backward -----------------------------------------------------------------------------------

def test_gradients_accumulate_over_backward_calls():
    x = leaf()
    (x * x).sum().backward()
    first = values(x.grad)
    np.testing.assert_allclose(first, 2 * values(x), rtol=1e-15)
    (x * x).sum().backward()
    np.testing.assert_allclose(values(x.grad), 2 * first, rtol=1e-15)
    x.grad = None
    (3 * x).sum().backward()
    np.testing.assert_array_equal(values(x.grad), np.full((2, 3), 3.0))


def test_retain_graph():
    x = leaf()
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(values(x.grad), 4 * values(x), rtol=1e-15)
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()
    z = x.exp().sum()
    z.backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.backward()


def test_backward_argument_errors():
    x = leaf((2, 3))
    with pytest.raises(RuntimeError, match=r"only for outputs with one element.*\(2, 3\)"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=r"shape \(3,\).*shape \(2, 3\)"):
        (x * 2).backward(ember.ones(3, dtype=F64))
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(3).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        with ember.no_grad():
            y = (x * 2).sum()
        y.backward()
    with pytest.raises(TypeError, match="ember.Tensor"):
        (x * 2).backward(np.ones((2, 3)))
    # a one-element non-scalar gets an implicit gradient of ones, like a 0-d one
    w = leaf((1, 1))
    (w * 3).backward()
    assert w.grad.tolist() == [[3.0]]


def test_backward_with_gradient_argument_and_dtype():
    x = leaf((2, 3), dtype=F32)
    g = np.arange(6.0).reshape(2, 3)
    (x * 2).backward(ember.tensor(g, dtype=F64))  # another float dtype is converted, as in PyTorch
    assert x.grad.dtype == F32
    np.testing.assert_array_equal(values(x.grad), 2 * g)


def test_backward_inputs_accumulates_only_into_the_given_leaves():
    a, b = leaf(), leaf()
    (a * b).sum().backward(inputs=[a])
    np.testing.assert_array_equal(values(a.grad), values(b))
    assert b.grad is None


# ---- detach, requires_grad_, .data ----------------------------------------------------------------

def test_detach_shares_memory_and_cuts_history():
    x = leaf()
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None and d._shares_storage(y)
    with ember.no_grad():
        d.add_(1.0)  # shares storage: the write shows through y
    np.testing.assert_allclose(values(y), values(d))
    z = x * 3
    assert z.detach_() is z and z.is_leaf and not z.requires_grad
    with pytest.raises(RuntimeError, match="view"):
        (x * 1)[0].detach_()


def test_requires_grad_setters():
    t = ember.ones(3)
    assert t.requires_grad_() is t and t.requires_grad and t.is_leaf
    t.requires_grad = False
    assert not t.requires_grad
    t.requires_grad_(True)
    t.requires_grad_(False)
    assert not t.requires_grad
    for make in (lambda: ember.tensor([1, 2], requires_grad=True), lambda: ember.arange(3).requires_grad_(),
                 lambda: setattr(ember.tensor([True]), "requires_grad", True),
                 lambda: ember.zeros(2, dtype=ember.int32, requires_grad=True)):
        with pytest.raises(RuntimeError, match="only floating-point tensors can require gradients.*int|bool"):
            make()
    y = leaf() * 2
    with pytest.raises(RuntimeError, match="only change requires_grad of leaf tensors.*Mul.*detach"):
        y.requires_grad = False
    y.requires_grad_(True)  # True on a non-leaf is allowed (a no-op), as in PyTorch


def test_data_is_an_untracked_alias():
    x = leaf()
    d = x.data
    assert not d.requires_grad and d.is_leaf and d._shares_storage(x)
    d.mul_(0.0)  # in place without tracking: allowed even though x is a leaf requiring grad
    assert values(x).sum() == 0.0
    x.data = ember.ones(2, 3, dtype=F64)
    assert values(x).tolist() == [[1.0] * 3] * 2 and x.requires_grad
    with pytest.raises(ValueError, match="shape"):
        x.data = ember.ones(3, dtype=F64)


# ---- grad modes ---------------------------------------------------------------------------------

def test_no_grad_enable_grad_nested_and_restored_after_errors():
    x = leaf()
    with ember.no_grad():
        assert not ember.is_grad_enabled()
        assert not (x * 2).requires_grad
        with ember.enable_grad():
            assert ember.is_grad_enabled() and (x * 2).requires_grad
            with ember.no_grad():
                assert not (x * 2).requires_grad
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert ember.is_grad_enabled()
    with pytest.raises(ValueError):
        with ember.no_grad():
            raise ValueError("inside")
    assert ember.is_grad_enabled()


def test_grad_modes_as_decorators():
    x = leaf()

    @ember.no_grad()
    def with_parens(t):
        return t * 2

    @ember.no_grad
    def without_parens(t):
        return t * 2

    @ember.enable_grad()
    def enabled(t):
        return t * 2

    @ember.set_grad_enabled(False)
    def disabled(t):
        return t * 2

    assert ember.is_grad_enabled(), "decorating must not change the mode"
    assert not with_parens(x).requires_grad and not without_parens(x).requires_grad
    assert not disabled(x).requires_grad and ember.is_grad_enabled()
    with ember.no_grad():
        assert enabled(x).requires_grad and not ember.is_grad_enabled()
    assert with_parens.__name__ == "with_parens" and without_parens.__name__ == "without_parens"

    @ember.no_grad()
    def raises():
        raise KeyError("x")
    with pytest.raises(KeyError):
        raises()
    assert ember.is_grad_enabled()


def test_set_grad_enabled_as_call_and_context():
    x = leaf()
    ember.set_grad_enabled(False)
    try:
        assert not ember.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        ember.set_grad_enabled(True)
    assert ember.is_grad_enabled()
    with ember.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with ember.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not ember.is_grad_enabled()
    assert ember.is_grad_enabled()
    with ember.no_grad():
        with ember.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not ember.is_grad_enabled()


def test_grad_mode_is_per_thread():
    # As in PyTorch: a thread inside no_grad (say, evaluating a model) does not stop the recording
    # of another, and a new thread starts with recording on whatever its parent's mode.
    import threading

    x = leaf()
    entered, release = threading.Event(), threading.Event()
    seen = {}

    def evaluate():
        with ember.no_grad():
            entered.set()
            release.wait(10)
            seen["evaluator"] = (x * 2).requires_grad, ember.is_grad_enabled()

    t = threading.Thread(target=evaluate)
    t.start()
    try:
        assert entered.wait(10)
        y = x * 2  # the other thread is inside no_grad now
        assert y.requires_grad and ember.is_grad_enabled()
        y.sum().backward()  # the backward pass switches recording off and back on in this thread only
        assert values(x.grad).tolist() == [[2.0] * 3] * 2
    finally:
        release.set()
        t.join()
    assert seen["evaluator"] == (False, False)

    def fresh():
        seen["fresh"] = (x * 2).requires_grad, ember.is_grad_enabled()

    with ember.no_grad():
        t = threading.Thread(target=fresh)
        t.start()
        t.join()
        assert not (x * 2).requires_grad
    assert seen["fresh"] == (True, True)


# ---- ember.autograd.grad -------------------------------------------------------------------------

def test_grad_multiple_inputs_and_outputs():
    a, b = leaf(), leaf()
    y1, y2 = (a * b).sum(), (a * a).sum()
    ga, gb = ember.autograd.grad([y1, y2], [a, b])
    np.testing.assert_allclose(values(ga), values(b) + 2 * values(a), rtol=1e-14)
    np.testing.assert_allclose(values(gb), values(a), rtol=1e-15)
    assert a.grad is None and b.grad is None  # returned, not accumulated
    (single,) = ember.autograd.grad((a * 3).sum(), a)
    assert single.shape == (2, 3) and values(single).tolist() == [[3.0] * 3] * 2


def test_grad_allow_unused_and_non_leaf_inputs_and_grad_outputs():
    a, b = leaf(), leaf()
    y = (a * 2).sum()
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(2, 3\)\) was not used.*allow_unused=True"):
        ember.autograd.grad(y, [a, b], retain_graph=True)
    ga, gb = ember.autograd.grad(y, [a, b], allow_unused=True, retain_graph=True)
    assert gb is None and values(ga).tolist() == [[2.0] * 3] * 2
    _, zeros = ember.autograd.grad(y, [a, b], materialize_grads=True)
    assert values(zeros).tolist() == [[0.0] * 3] * 2
    # a non-leaf input: the gradient with respect to the intermediate
    h = a * b
    out = h.exp()
    g = ember.tensor(RNG.standard_normal((2, 3)))
    (gh,) = ember.autograd.grad(out, h, grad_outputs=g)
    np.testing.assert_allclose(values(gh), values(g) * np.exp(values(h)), rtol=1e-14)
    with pytest.raises(RuntimeError, match="input 0 does not require grad"):
        ember.autograd.grad((a * 2).sum(), ember.ones(3))
    with pytest.raises(ValueError, match="grad_outputs"):
        ember.autograd.grad([(a * 2).sum()], [a], grad_outputs=[None, None])


@with_torch
def test_grad_matches_torch_on_a_small_network():
    xs, w1s, w2s = RNG.standard_normal((4, 3)), RNG.standard_normal((3, 5)), RNG.standard_normal((5, 2))
    x, w1, w2 = (ember.tensor(v, requires_grad=True) for v in (xs, w1s, w2s))
    tx, tw1, tw2 = (torch.tensor(v, requires_grad=True) for v in (xs, w1s, w2s))
    e_out = ((x @ w1).sin() @ w2).exp().mean()
    t_out = ((tx @ tw1).sin() @ tw2).exp().mean()
    e_grads = ember.autograd.grad(e_out, [x, w1, w2])
    t_grads = torch.autograd.grad(t_out, [tx, tw1, tw2])
    for e, t in zip(e_grads, t_grads):
        np.testing.assert_allclose(values(e), t.numpy(), rtol=1e-12, atol=1e-14)


# ---- retain_grad -------------------------------------------------------------------------------

def test_retain_grad_on_non_leaves():
    x = leaf()
    h = x * 2
    k = h.exp()
    h.retain_grad()
    assert h.retains_grad and not k.retains_grad
    k.sum().backward()
    np.testing.assert_allclose(values(h.grad), np.exp(values(h)), rtol=1e-15)
    assert k.grad is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        ember.ones(2).retain_grad()
    x.retain_grad()  # a leaf keeps its grad anyway
    assert x.grad is not None


# ---- custom Functions --------------------------------------------------------------------------

class ScaledSquare(Function):
    """k * x^2 * y: saves its inputs, returns no gradient for the Python number k."""

    @staticmethod
    def forward(ctx, x, y, k):
        ctx.save_for_backward(x, y)
        ctx.k = k
        ctx.seen_needs = ctx.needs_input_grad
        return x * x * y * k

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = g * 2 * ctx.k * x * y if ctx.needs_input_grad[0] else None
        gy = g * ctx.k * x * x if ctx.needs_input_grad[1] else None
        return gx, gy, None


def test_custom_function():
    x, y = leaf(), leaf()
    out = ScaledSquare.apply(x, y, 3.0)
    assert out.grad_fn.name() == "ScaledSquare" and out.grad_fn.seen_needs == (True, True, False)
    out.sum().backward()
    np.testing.assert_allclose(values(x.grad), 6 * values(x) * values(y), rtol=1e-14)
    np.testing.assert_allclose(values(y.grad), 3 * values(x) ** 2, rtol=1e-14)
    # needs_input_grad follows which inputs require grad; nothing is recorded under no_grad
    c = ember.tensor(RNG.standard_normal((2, 3)))
    out = ScaledSquare.apply(x, c, 1.0)
    assert out.grad_fn.seen_needs == (True, False, False)
    with ember.no_grad():
        out = ScaledSquare.apply(x, y, 1.0)
    assert out.grad_fn is None and not out.requires_grad
    assert ember.autograd.gradcheck(lambda a, b: ScaledSquare.apply(a, b, 2.0), (leaf((2,)), leaf((2,))))


def test_custom_function_errors():
    class WrongCount(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return g  # should be expanded to x's shape

    class ReturnsInput(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = leaf()
    with pytest.raises(RuntimeError, match=r"WrongCount.backward returned 2 gradient\(s\).*1 argument"):
        WrongCount.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match=r"WrongShape.backward returned a gradient of shape \(\) .*\(2, 3\)"):
        WrongShape.apply(x).backward()
    # also caught (and blamed on the right node) when the input is an intermediate result
    with pytest.raises(RuntimeError, match=r"WrongShape.backward returned a gradient of shape \(\) .*\(2, 3\)"):
        WrongShape.apply(x * 2).backward()
    y = ReturnsInput.apply(x)
    assert y is not x and x.is_leaf and not y.is_leaf and y._shares_storage(x)
    y.sum().backward()
    assert values(x.grad).tolist() == [[5.0] * 3] * 2
    with pytest.raises(NotImplementedError):
        Function.apply(x)


def test_nodes_receive_gradients_in_their_output_dtype():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            seen.append(g.dtype)
            return g

    a32, b64 = leaf((2,), F32), leaf((3,), F64)
    ember.cat([Probe.apply(a32), b64]).sum().backward()
    ember.stack([Probe.apply(a32), leaf((2,), F64)]).sum().backward()
    (Probe.apply(a32) * b64[:2]).sum().backward()
    assert seen == [F32, F32, F32] and a32.grad.dtype == F32


# ---- version counters and in-place rules ----------------------------------------------------------

def test_modifying_a_saved_tensor_raises_at_backward():
    x = leaf((2, 3))
    h = x * 1
    y = h.sin()  # saves h
    h.add_(1.0)
    with pytest.raises(RuntimeError, match=r"Sin: .*modified by an in-place operation.*shape \(2, 3\) is at "
                                           r"version 1; expected version 0"):
        y.sum().backward()
    # also through a write made without autograd, and through another view of the same memory
    c = ember.tensor(RNG.standard_normal(4))
    y = leaf((4,)) * c
    with ember.no_grad():
        c[1:].mul_(2.0)
    with pytest.raises(RuntimeError, match="version"):
        y.sum().backward()
    # an output saved by its node (exp saves its result)
    e = leaf((3,)).exp()
    e.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"Exp: .*shape \(3,\)"):
        e.sum().backward()


@with_torch
def test_saved_tensor_version_errors_match_torch():
    def run(mod, make):
        x = make(np.ones(3), requires_grad=True)
        h = x * 1
        y = h.sin()
        h.mul_(2)
        try:
            y.sum().backward()
        except RuntimeError:
            return "raised"
        return "ok"
    assert run(ember, ember.tensor) == run(torch, lambda a, **k: torch.tensor(a, **k)) == "raised"


def test_inplace_on_a_leaf_requiring_grad_raises():
    x = leaf()
    for op in (lambda: x.add_(1), lambda: x.mul_(2.0), lambda: x.zero_(), lambda: x.fill_(1.0),
               lambda: x.copy_(ember.ones(2, 3, dtype=F64)), lambda: x.exp_(), lambda: x.__setitem__(0, 1.0),
               lambda: x.__iadd__(1.0), lambda: x.clamp_(0, 1) if hasattr(ember._C, "clamp_backward") else x.neg_()):
        with pytest.raises(RuntimeError, match=r"in-place operation on a leaf tensor that requires grad "
                                               r"\(shape \(2, 3\)\).*no_grad"):
            op()
    with ember.no_grad():
        x.add_(1.0)  # a parameter update
    assert x.is_leaf and x.requires_grad


def test_inplace_on_a_view_of_a_tensor_requiring_grad_raises():
    x = leaf((2, 3))
    h = x * 2
    for view, op in ((h[0], lambda v: v.add_(1)), (h.T, lambda v: v.mul_(2.0)),
                     (h.reshape(6), lambda v: v.__setitem__(0, 1.0)), (x[1], lambda v: v.zero_())):
        with pytest.raises(RuntimeError, match=r"in-place operation on a view \(shape \((3|6|3, 2)(,)?\)\) of a "
                                               r"tensor that requires grad.*clone"):
            op(view)


def test_view_taken_before_an_inplace_write_to_its_base():
    x = ember.tensor([1.0, 2.0], dtype=F64, requires_grad=True)
    h = x * 2
    v = h[0:1]
    h.mul_(3.0)  # v now holds 6 * x[0]; PyTorch rebases v's history onto the mul_
    v.sum().backward()
    assert x.grad.tolist() == [6.0, 0.0]


# Views taken before an in-place write to their (non-leaf) base: each scenario run in ember and in
# PyTorch from the same values; the view's later uses must follow its new values, its earlier uses
# the old ones, and a copy made by advanced indexing must not change at all.
VIEW_SCENARIOS = {
    "slice": lambda x, w: _scenario_slice(x, w),
    "transpose, add_ of another graph": lambda x, w: _scenario_transpose(x, w),
    "reshape, setitem": lambda x, w: _scenario_reshape(x, w),
    "view of a view": lambda x, w: _scenario_nested(x, w),
    "expand": lambda x, w: _scenario_expand(x, w),
    "used before and after": lambda x, w: _scenario_before_after(x, w),
    "advanced indexing copies": lambda x, w: _scenario_copy(x, w),
}


def _scenario_slice(x, w):
    h = x * 2
    v = h[1:3]
    h.mul_(w)
    return (v * v).sum()


def _scenario_transpose(x, w):
    h = x.reshape(2, 3) * 1.5
    v = h.transpose(0, 1)
    h.add_(w.reshape(2, 3) * 3)
    return (v * v[:, :1]).sum()


def _scenario_reshape(x, w):
    h = x + 1
    v = h.reshape(3, 2)
    h[2] = w[0] * 5
    return (v ** 2).sum()


def _scenario_nested(x, w):
    h = x * x
    v = h[1:][1:3]
    h.div_(w + 3)
    return (v * 4).sum()


def _scenario_expand(x, w):
    h = x[:2].reshape(2, 1) * 2
    v = h.expand(2, 3)
    h.mul_(w[:2].reshape(2, 1))
    return (v * v).sum()


def _scenario_before_after(x, w):
    h = x * 3
    v = h[::2]
    before = v + w[1::2]  # (a product would save v, whose later change backward then refuses)
    h.mul_(2.0)
    after = v * w[::2]
    return (before + after).sum()


def _scenario_copy(x, w):
    h = x * 2
    v = h[[0, 2]]
    h.mul_(w)
    return (v * v).sum()


@with_torch
@pytest.mark.parametrize("name", list(VIEW_SCENARIOS))
def test_views_follow_inplace_writes_to_their_base_like_torch(name):
    xs, ws = RNG.uniform(-2, 2, 6), RNG.uniform(0.5, 2, 6)
    grads = []
    for make in (lambda a: ember.tensor(a, dtype=F64, requires_grad=True),
                 lambda a: torch.tensor(a, requires_grad=True)):
        x, w = make(xs), make(ws)
        loss = VIEW_SCENARIOS[name](x, w)
        loss.backward()
        grads.append([np.zeros(6) if t.grad is None else
                      np.array(t.grad.detach().numpy() if isinstance(t, torch.Tensor) else values(t.grad))
                      for t in (x, w)] + [float(loss.detach().numpy() if isinstance(loss, torch.Tensor)
                                                else loss.item())])
    (ex, ew, el), (tx, tw, tl) = grads
    np.testing.assert_allclose(el, tl, rtol=1e-13)
    np.testing.assert_allclose(ex, tx, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ew, tw, rtol=1e-13, atol=1e-13)


@with_torch
def test_inplace_sequences_match_torch():
    def run(mod, make):
        x = make(np.array([0.5, -1.0, 2.0]), requires_grad=True)
        w = make(np.array([1.5, 2.0, -0.5]), requires_grad=True)
        y = x * w
        y.mul_(w)
        y.add_(x)
        y[1] = w[0] * 3
        y.div_(2.0)
        z = (y * y).sum()
        z.backward()
        return [np.asarray(t.grad.detach().numpy() if mod is torch else values(t.grad)) for t in (x, w)]
    for e, t in zip(run(ember, ember.tensor), run(torch, lambda a, **k: torch.tensor(a, **k))):
        np.testing.assert_allclose(e, t, rtol=1e-14)


# ---- gradient memory -----------------------------------------------------------------------------

def test_leaves_never_share_gradient_memory():
    a, b = leaf(), leaf()
    (a + b).backward(ember.tensor(np.ones((2, 3))))
    assert not a.grad._shares_storage(b.grad)
    a.grad.mul_(2.0)
    assert values(b.grad).tolist() == [[1.0] * 3] * 2 and values(a.grad).tolist() == [[2.0] * 3] * 2
    # the gradient the caller passed is copied, never adopted
    g = ember.tensor(np.ones((2, 3)))
    c = leaf()
    c.backward(g)
    assert not c.grad._shares_storage(g)
    # one leaf used twice, and a leaf used through a clone
    d = leaf()
    (d + d.clone()).sum().backward()
    assert values(d.grad).tolist() == [[2.0] * 3] * 2


def test_leaf_grad_is_contiguous_and_writable():
    x = leaf((3, 4))
    x.sum().backward()  # the gradient arrives as an expanded view of one number
    assert x.grad.is_contiguous() and x.grad.shape == (3, 4)
    x.grad.add_(1.0)
    assert values(x.grad).tolist() == [[2.0] * 4] * 3
    b = leaf((1, 4))
    (b.expand(3, 4) * 1).sum().backward()
    assert b.grad.is_contiguous() and values(b.grad).tolist() == [[3.0] * 4]
    t = leaf((4, 3))
    (t.T * 2).sum().backward()
    assert t.grad.is_contiguous()
    t.grad.zero_()


def test_saved_tensors_are_released_by_backward():
    # after backward the graph keeps no activations alive, even while the loss is still referenced
    x, w = leaf((4,)), leaf((4,))
    ops = {"mul": lambda h: h * w, "rdiv": lambda h: w / h, "pow": lambda h: h ** w, "rpow": lambda h: w ** h,
           "remainder": lambda h: h % w, "sin": lambda h: (h * w).sin(), "matmul": lambda h: h @ w,
           "maximum": lambda h: ember.maximum(h, w), "clamp": lambda h: (h * 1).clamp(w - 5, w + 5)}
    losses, refs = [], {}
    for name, op in ops.items():
        h = x * 2 + 3
        refs[name] = weakref.ref(h)
        losses.append(op(h).sum())
        losses[-1].backward()
        del h
    assert [name for name, r in refs.items() if r() is not None] == [], "activations outlived backward"
    assert all(loss.grad_fn is not None for loss in losses)


def test_save_for_backward_refuses_values_that_are_not_tensors():
    # As in PyTorch: only tensors (or None) go through save_for_backward, so that each is
    # version-checked; other values belong on ctx itself.
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, factor):
            ctx.save_for_backward(x, None, factor)
            return x * factor

        @staticmethod
        def backward(ctx, g):
            return g * 2, None

    with pytest.raises(TypeError, match=r"Scale.save_for_backward can only save tensors.*argument 2 is of type int"):
        Scale.apply(leaf((3,)), 2)

    class Kept(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, None)
            return x * 3

        @staticmethod
        def backward(ctx, g):
            x, nothing = ctx.saved_tensors
            assert nothing is None and x.shape == (3,)
            return g * 3

    x = leaf((3,))
    Kept.apply(x).sum().backward()
    assert values(x.grad).tolist() == [3.0, 3.0, 3.0]

    # ember's own ops keep the message of their own argument check when recording
    with pytest.raises(TypeError, match="maximum: expected two tensors"):
        ember.maximum(leaf((3,)), 0.0)


def test_max_dim_indices_are_version_checked():
    x = leaf((2, 3))
    values_, indices = x.max(1)
    indices.zero_()
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation.*shape \(2,\)"):
        values_.sum().backward()


# ---- graph shapes ----------------------------------------------------------------------------------

def test_diamond_graph():
    xs = RNG.standard_normal((3,))
    x = ember.tensor(xs, requires_grad=True)
    left, right = x.sin(), x * x
    y = (left * right + left.exp()).sum()
    y.backward()
    want = np.cos(xs) * xs ** 2 + np.sin(xs) * 2 * xs + np.exp(np.sin(xs)) * np.cos(xs)
    np.testing.assert_allclose(values(x.grad), want, rtol=1e-13)


def test_deep_chain_has_no_recursion_limit():
    x = ember.tensor([0.3], dtype=F64, requires_grad=True)
    w = ember.tensor([1.0001], dtype=F64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * w  # each node saves its input: a 10,000-long chain through saved tensors too
    y.sum().backward()
    np.testing.assert_allclose(values(x.grad), [1.0001 ** 10_000], rtol=1e-9)
    np.testing.assert_allclose(values(w.grad), [10_000 * 0.3 * 1.0001 ** 9_999], rtol=1e-9)
    node = weakref.ref(y.grad_fn)
    del y
    assert node() is None


def test_nan_in_forward_gives_nan_gradient():
    x = ember.tensor([-1.0, 1.0, 4.0], dtype=F64, requires_grad=True)
    y = x.log() * x.sqrt()
    assert np.isnan(values(y)[0])
    y.sum().backward()
    g = values(x.grad)
    assert np.isnan(g[0]) and np.isfinite(g[1:]).all()
    z = ember.tensor([np.nan, 2.0], dtype=F64, requires_grad=True)
    (z * 3).sum().backward()
    assert values(z.grad).tolist() == [3.0, 3.0]
    (z.exp() * z).sum().backward()
    assert np.isnan(values(z.grad)[0])


def test_gradcheck_catches_a_wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g * ctx.saved_tensors[0]  # missing the factor 2

    x = leaf((3,))
    with pytest.raises(RuntimeError, match=r"gradcheck: Jacobian mismatch for input 0 \(shape \(3,\)\)"):
        ember.autograd.gradcheck(Wrong.apply, x)
    assert ember.autograd.gradcheck(Wrong.apply, x, raise_exception=False) is False
    assert ember.autograd.gradcheck(lambda t: t * t, x)
    with pytest.raises(TypeError, match="float64"):
        ember.autograd.gradcheck(lambda t: t * t, leaf((3,), F32))
    with pytest.raises(ValueError, match="requires grad"):
        ember.autograd.gradcheck(lambda t: t * t, ember.ones(3, dtype=F64))


def test_create_graph_is_refused_clearly():
    x = leaf()
    with pytest.raises(NotImplementedError, match="create_graph"):
        (x * x).sum().backward(create_graph=True)
    with pytest.raises(NotImplementedError, match="create_graph"):
        ember.autograd.grad((x * x).sum(), x, create_graph=True)


# ---- memory over a training loop -----------------------------------------------------------------

def _resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def _relu(h):
    return h.relu() if HAS_RELU_BACKWARD else ember.where(h > 0, h, 0.0)


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_training_loop_memory_stays_flat_and_graphs_are_freed():
    ember.manual_seed(0)
    x = ember.randn(64, 16)
    target = ember.randn(64, 4)
    w1 = (ember.randn(16, 32) * 0.1).requires_grad_()
    b1 = ember.zeros(32, requires_grad=True)
    w2 = (ember.randn(32, 4) * 0.1).requires_grad_()
    b2 = ember.zeros(4, requires_grad=True)
    params = [w1, b1, w2, b2]
    gc_was_enabled = gc.isenabled()
    gc.disable()  # graphs must be freed by reference counting alone: no cycles
    try:
        losses = []
        for step in range(2000):
            h = _relu(x @ w1 + b1)
            pred = h @ w2 + b2
            diff = pred - target
            loss = (diff * diff).mean()
            node = weakref.ref(loss.grad_fn)
            loss.backward()
            with ember.no_grad():
                for p in params:
                    p -= 0.05 * p.grad
                    p.grad = None
            if step % 100 == 0:
                losses.append(loss.item())
            del h, pred, diff, loss
            assert node() is None, f"step {step}: the graph outlived the step"
            if step == 200:
                warm = _resident_bytes()
        grown = _resident_bytes() - warm
    finally:
        if gc_was_enabled:
            gc.enable()
    assert losses[-1] < 0.8 * losses[0], f"the model did not train: {losses}"
    assert grown < 4 * 2 ** 20, f"resident memory grew by {grown / 2 ** 20:.1f} MiB over 1800 steps"
    assert all(p.is_leaf and p.requires_grad for p in params)


def test_views_of_a_long_lived_result_do_not_pile_up():
    # Batches sliced over and over from one recorded result: the result keeps references to its
    # live views (to re-record them after an in-place write), not to every view ever taken.
    x = leaf((64, 8))
    base = x * 2
    kept = base[0:4]
    for step in range(5000):
        batch = base[step % 60:step % 60 + 4]
        (batch * 1).sum()
        del batch
    assert len(base._views) < 100
    base.mul_(3)  # the view still alive follows the write
    kept.sum().backward()
    expected = np.zeros((64, 8))
    expected[:4] = 6.0
    assert np.array_equal(values(x.grad), expected)


def test_cpp_apply_of_ember_ops_matches_the_python_reference():
    """ember's own ops record through the C++ Function.apply; the Python apply is its reference."""
    from ember._fn.linear import Linear
    python_apply = ember.autograd.Function.apply.__func__
    x = ember.randn(3, 2)
    w = ember.randn(4, 2, requires_grad=True)
    b = ember.randn(4, requires_grad=True)
    fast, slow = Linear.apply(x, w, b), python_apply(Linear, x, w, b)
    assert (fast == slow).all().item()
    for out in (fast, slow):
        node = out.grad_fn
        assert type(node) is Linear and node.needs_input_grad == (False, True, True)
        assert node._edges[0] is None and node._edges[1] is w and node._edges[2] is b
        assert node._shape == (3, 4) and out.requires_grad and not out.is_leaf
    with ember.no_grad():
        out = Linear.apply(x, w, b)
    assert out.grad_fn is None and not out.requires_grad and out.is_leaf


def test_rebased_view_central_differences():
    x = ember.tensor(RNG.uniform(0.5, 2, 6), dtype=F64, requires_grad=True)
    w = ember.tensor(RNG.uniform(0.5, 2, 6), dtype=F64, requires_grad=True)

    def f(x, w):
        h = x * x
        v = h.reshape(2, 3)[:, 1:]
        h.mul_(w)
        return v * 3.0
    assert ember.autograd.gradcheck(f, (x, w))

"""ember.optim: every optimizer and configuration fed the same gradients as a reference, the
parameters compared after each step.

References: (1) PyTorch's single-tensor update written once below (`reference_step`) over two op
sets, float64 NumPy (the math, no PyTorch needed) and PyTorch's own tensor ops; (2) torch.optim
itself. Against PyTorch's ops the results are bit-identical (both sides use FMAs in the same
places) except that PyTorch's contiguous sqrt goes through MKL, which is not always correctly
rounded; so the bitwise test swaps in a correctly rounded sqrt, and the comparison with
torch.optim allows a few ulps of the parameters' scale.
"""
import copy

import numpy as np
import pytest

import ember
from ember import optim
from conftest import FLOAT_DTYPES, NP, capabilities, run_under_capability

SHAPES = [(), (7,), (33, 5)]
STEPS = 50

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), weight_decay=0.1, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, maximize=True)),
]
CONFIG_IDS = [name + "-" + "-".join(f"{k}={v}" for k, v in kw.items()) for name, kw in CONFIGS]
DEFAULTS = {
    "SGD": dict(lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False),
    "Adam": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False),
    "AdamW": dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False),
    "RMSprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, maximize=False),
    "Adagrad": dict(lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, maximize=False),
}


# ---- the reference: PyTorch's single-tensor updates, over an op set --------------------------------
class NumpyOps:
    """The math in float64 NumPy."""
    lerp = staticmethod(lambda a, b, w: a + w * (b - a))
    add = staticmethod(lambda a, b, alpha: a + alpha * b)
    addcmul = staticmethod(lambda a, x, y, value: a + value * x * y)
    addcdiv = staticmethod(lambda a, x, y, value: a + value * x / y)
    maximum = staticmethod(np.maximum)
    sqrt = staticmethod(np.sqrt)
    zeros_like = staticmethod(np.zeros_like)
    full_like = staticmethod(np.full_like)


class TorchOps:
    """PyTorch's tensor ops, rounding as torch.optim does, with a correctly rounded sqrt."""
    def __init__(self, torch):
        self.lerp, self.maximum, self.zeros_like, self.full_like = torch.lerp, torch.maximum, torch.zeros_like, \
            torch.full_like
        self.add = lambda a, b, alpha: torch.add(a, b, alpha=alpha)
        self.addcmul = lambda a, x, y, value: torch.addcmul(a, x, y, value=value)
        self.addcdiv = lambda a, x, y, value: torch.addcdiv(a, x, y, value=value)
        self.sqrt = lambda a: torch.from_numpy(np.asarray(np.sqrt(a.numpy())))


def reference_step(ops, name, kw, p, g, state):
    """One step of optimizer `name` (options kw over DEFAULTS) on one parameter p with gradient g;
    returns the new p. The op sequence is torch/optim/*.py's single-tensor path."""
    o = dict(DEFAULTS[name], **kw)
    g = -g if o["maximize"] else g
    lr, wd = o["lr"], o["weight_decay"]
    if name == "SGD":
        if wd:
            g = ops.add(g, p, wd)
        if o["momentum"]:
            buf = state.get("buf")
            buf = g if buf is None else ops.add(buf * o["momentum"], g, 1 - o["dampening"])
            state["buf"] = buf
            g = ops.add(g, buf, o["momentum"]) if o["nesterov"] else buf
        return ops.add(p, g, -lr)
    state["step"] = t = state.get("step", 0) + 1
    if name in ("Adam", "AdamW"):
        (beta1, beta2), eps = o["betas"], o["eps"]
        if wd and name == "AdamW":
            p = p * (1 - lr * wd)
        elif wd:
            g = ops.add(g, p, wd)
        m = state["m"] = ops.lerp(state.get("m", ops.zeros_like(p)), g, 1 - beta1)
        v = state["v"] = ops.addcmul(state.get("v", ops.zeros_like(p)) * beta2, g, g, 1 - beta2)
        if o["amsgrad"]:
            v = state["v_max"] = ops.maximum(state.get("v_max", ops.zeros_like(p)), v)
        denom = ops.sqrt(v) / (1 - beta2 ** t) ** 0.5 + eps
        return ops.addcdiv(p, m, denom, -(lr / (1 - beta1 ** t)))
    if name == "RMSprop":
        alpha, eps, momentum = o["alpha"], o["eps"], o["momentum"]
        if wd:
            g = ops.add(g, p, wd)
        sq = state["sq"] = ops.addcmul(state.get("sq", ops.zeros_like(p)) * alpha, g, g, 1 - alpha)
        if o["centered"]:
            g_avg = state["g_avg"] = ops.lerp(state.get("g_avg", ops.zeros_like(p)), g, 1 - alpha)
            avg = ops.sqrt(ops.addcmul(sq, g_avg, g_avg, -1)) + eps
        else:
            avg = ops.sqrt(sq) + eps
        if momentum > 0:
            buf = state["buf"] = ops.addcdiv(state.get("buf", ops.zeros_like(p)) * momentum, g, avg, 1)
            return ops.add(p, buf, -lr)
        return ops.addcdiv(p, g, avg, -lr)
    if wd:  # Adagrad
        g = ops.add(g, p, wd)
    clr = lr / (1 + (t - 1) * o["lr_decay"])
    s = state["sum"] = ops.addcmul(state.get("sum", ops.full_like(p, o["initial_accumulator_value"])), g, g, 1)
    return ops.addcdiv(p, g, ops.sqrt(s) + o["eps"], -clr)


# ---- helpers ------------------------------------------------------------------------------------------
def param(a):
    """An ember leaf tensor that requires gradients, holding a copy of a (an array keeps its dtype,
    Python numbers become float32)."""
    t = ember.tensor(a)
    t.requires_grad = True
    return t


def make_problem(dtype, seed=0, shapes=SHAPES, steps=STEPS):
    """Initial values and a sequence of gradients per parameter, in dtype (an ember dtype)."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(NP[dtype]) for s in shapes]
    grads = [[rng.standard_normal(s).astype(NP[dtype]) for s in shapes] for _ in range(steps)]
    return init, grads


def scale_close(actual, expected, rtol, ulps, dtype):
    """Equal within rtol, or within `ulps` ulps of the larger of 1 and the tensor's largest value:
    parameters that cross zero keep the absolute error of their neighbours."""
    expected = np.asarray(expected, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0)))
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol,
                               atol=ulps * np.finfo(NP[dtype]).eps * scale)


def fma_on_both_sides(torch):
    """PyTorch computes add-with-alpha, lerp and addcmul with FMAs on its AVX2 / AVX-512 paths;
    ember does the same on its SIMD paths and not on the generic one."""
    return ember._C.cpu_capability() != "default" and torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512")


# ---- against the references ----------------------------------------------------------------------------
@pytest.mark.parametrize("name, kw", CONFIGS, ids=CONFIG_IDS)
def test_matches_the_float64_math(name, kw):
    init, grads = make_problem(ember.float64, seed=1)
    params = [param(a) for a in init]
    opt = getattr(optim, name)(params, **kw)
    expected, states = [a.astype(np.float64) for a in init], [{} for _ in init]
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = ember.tensor(g)
        opt.step()
        expected = [reference_step(NumpyOps, name, kw, e, g, s) for e, g, s in zip(expected, step_grads, states)]
        for p, e in zip(params, expected):
            assert p.shape == e.shape and p.dtype == ember.float64
            scale_close(p.numpy(), e, rtol=1e-12, ulps=64, dtype=ember.float64)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name, kw", CONFIGS, ids=CONFIG_IDS)
def test_matches_torch_optim(name, kw, dtype):
    torch = pytest.importorskip("torch")
    init, grads = make_problem(dtype)
    params = [param(a) for a in init]
    peers = [torch.tensor(a, requires_grad=True) for a in init]
    opt, peer_opt = getattr(optim, name)(params, **kw), getattr(torch.optim, name)(peers, **kw)
    for step_grads in grads:
        for p, q, g in zip(params, peers, step_grads):
            p.grad, q.grad = ember.tensor(g), torch.tensor(g)
        opt.step()
        peer_opt.step()
        for p, q in zip(params, peers):
            if name == "SGD" and fma_on_both_sides(torch):  # no sqrt: bit for bit
                np.testing.assert_array_equal(p.numpy(), q.detach().numpy())
            else:  # MKL's sqrt is off by an ulp now and then
                scale_close(p.numpy(), q.detach().numpy(), rtol=2e-5 if dtype == ember.float32 else 1e-12, ulps=4,
                            dtype=dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("name, kw", CONFIGS, ids=CONFIG_IDS)
def test_rounds_exactly_as_torch_ops(name, kw, dtype):
    torch = pytest.importorskip("torch")
    if not fma_on_both_sides(torch):
        pytest.skip("bitwise agreement needs FMA on both sides (ember's and PyTorch's SIMD paths)")
    init, grads = make_problem(dtype, seed=2, steps=20)
    params = [param(a) for a in init]
    opt, ops = getattr(optim, name)(params, **kw), TorchOps(torch)
    expected, states = [torch.tensor(a) for a in init], [{} for _ in init]
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = ember.tensor(g)
        opt.step()
        expected = [reference_step(ops, name, kw, e, torch.tensor(g), s)
                    for e, g, s in zip(expected, step_grads, states)]
        for p, e in zip(params, expected):
            np.testing.assert_array_equal(p.numpy(), e.numpy())


def test_every_cpu_path_agrees():
    """The generic path (no FMA) and the SIMD ones differ by an ulp here and there, no more."""
    code = ("import numpy as np, ember\nfrom ember import optim\nrng = np.random.default_rng(5)\nout = []\n"
            "for name in ['SGD', 'Adam', 'RMSprop', 'Adagrad']:\n"
            "    p = ember.tensor(rng.standard_normal(1000).astype(np.float32)); p.requires_grad = True\n"
            "    opt = getattr(optim, name)([p], lr=0.01, weight_decay=0.1)\n"
            "    for _ in range(10):\n"
            "        p.grad = ember.tensor(rng.standard_normal(1000).astype(np.float32)); opt.step()\n"
            "    out.append(p.numpy())\n"
            "print(repr(np.stack(out).tolist()))\n")
    results = {cap: np.array(eval(run_under_capability(cap, code)), dtype=np.float32) for cap in capabilities()}
    for cap, got in results.items():
        scale_close(got, results["default"], rtol=2e-5, ulps=4, dtype=ember.float32)


# ---- behaviour ------------------------------------------------------------------------------------------
def test_parameter_groups_with_their_own_options():
    init, grads = make_problem(ember.float64, steps=5)
    params = [param(a) for a in init]
    opt = optim.Adam([{"params": params[:2], "lr": 0.1}, {"params": params[2:], "amsgrad": True}], lr=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["amsgrad"] for g in opt.param_groups] == [False, True]
    expected, states = [a.copy() for a in init], [{} for _ in init]
    group_kw = [dict(lr=0.1), dict(lr=0.1), dict(lr=0.01, amsgrad=True)]
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = ember.tensor(g)
        opt.step()
        expected = [reference_step(NumpyOps, "Adam", kw, e, g, s)
                    for e, g, s, kw in zip(expected, step_grads, states, group_kw)]
    for p, e in zip(params, expected):
        scale_close(p.numpy(), e, rtol=1e-12, ulps=16, dtype=ember.float64)
    assert "max_exp_avg_sq" in opt.state[params[2]] and "max_exp_avg_sq" not in opt.state[params[0]]


def test_parameter_groups_match_torch():
    torch = pytest.importorskip("torch")
    init, grads = make_problem(ember.float32, steps=10)
    params, peers = [param(a) for a in init], [torch.tensor(a, requires_grad=True) for a in init]
    opt = optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}], lr=0.1, momentum=0.9)
    peer_opt = torch.optim.SGD([{"params": peers[:1]}, {"params": peers[1:], "lr": 0.5}], lr=0.1, momentum=0.9)
    for step_grads in grads:
        for p, q, g in zip(params, peers, step_grads):
            p.grad, q.grad = ember.tensor(g), torch.tensor(g)
        opt.step()
        peer_opt.step()
    for p, q in zip(params, peers):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_parameters_without_gradient_are_skipped():
    a, b = param([1.0, 2.0]), param([3.0])
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = ember.tensor([0.5, -0.5])
    opt.step()
    assert b.tolist() == [3.0] and b not in opt.state.keys() and len(opt.state) == 1
    assert float(opt.state[a]["step"]) == 1.0 and a.tolist() != [1.0, 2.0]


def test_zero_grad_to_none_and_in_place():
    a, b = param([1.0, 2.0]), param(3.0)
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = ember.tensor([5.0, 6.0])
    grad = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and a.grad.tolist() == [0.0, 0.0] and getattr(b, "grad", None) is None
    opt.zero_grad()
    assert a.grad is None


def test_step_returns_the_closure_loss():
    p = param([1.0])
    opt = optim.SGD([p], lr=0.5)

    def closure():
        p.grad = ember.tensor([2.0])
        return 7.0
    assert opt.step(closure) == 7.0 and p.tolist() == [0.0]
    assert opt.step() is None


def test_nan_gradient_propagates_without_harm():
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad):
        p = param([1.0, 2.0, 3.0])
        opt = cls([p], lr=0.1)
        p.grad = ember.tensor([float("nan"), 1.0, float("inf")])
        opt.step()
        values = p.numpy()
        assert np.isnan(values[0]) and np.isfinite(values[1]), cls.__name__


def test_non_contiguous_parameter_and_gradient():
    base = ember.tensor(np.arange(12.0).reshape(3, 4))
    p = base.T  # a transposed view, updated through a contiguous copy written back
    p.requires_grad = True
    assert not p.is_contiguous()
    g = ember.tensor(np.ones((5, 4)))[1:4].T  # (4, 3), strided
    opt = optim.Adam([p], lr=0.1)
    p.grad = g
    opt.step()
    expected = reference_step(NumpyOps, "Adam", dict(lr=0.1), np.arange(12.0).reshape(3, 4).T, np.ones((4, 3)), {})
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(base.numpy(), expected.T, rtol=1e-12)


def test_chunks_split_inside_and_across_tensors():
    """With several threads one parallel loop covers all tensors; chunk edges fall mid-tensor."""
    sizes, threads = [40000, 7, 50001, 0, 3], ember.get_num_threads()
    init, grads = make_problem(ember.float32, seed=3, shapes=[(n,) for n in sizes], steps=2)
    params = [param(a) for a in init]
    opt = optim.RMSprop(params, lr=0.01, momentum=0.9, centered=True)
    expected, states = [a.astype(np.float64) for a in init], [{} for _ in init]
    try:
        ember.set_num_threads(3)
        for step_grads in grads:
            for p, g in zip(params, step_grads):
                p.grad = ember.tensor(g)
            opt.step()
            expected = [reference_step(NumpyOps, "RMSprop", dict(lr=0.01, momentum=0.9, centered=True), e,
                                       g.astype(np.float64), s) for e, g, s in zip(expected, step_grads, states)]
    finally:
        ember.set_num_threads(threads)
    for p, e in zip(params, expected):
        scale_close(p.numpy(), e, rtol=1e-4, ulps=16, dtype=ember.float32)


def test_defaults_and_repr():
    for name, defaults in DEFAULTS.items():
        opt = getattr(optim, name)([param([1.0])])
        assert {k: opt.defaults[k] for k in defaults} == defaults, name
    opt = optim.SGD([param([1.0])], lr=0.5)
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0\n    lr: 0.5\n    maximize: False\n"
                         "    momentum: 0\n    nesterov: False\n    weight_decay: 0\n)")
    assert optim.AdamW([param([1.0])]).defaults["decoupled_weight_decay"] is True


def test_add_param_group_and_named_parameters():
    a, b = param([1.0]), param([2.0])
    opt = optim.SGD([("a", a)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["a"]
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [b]})
    opt.add_param_group({"params": [("b", b)], "lr": 0.2})
    assert opt.param_groups[1]["lr"] == 0.2 and opt.param_groups[1]["momentum"] == 0


# ---- state_dict ---------------------------------------------------------------------------------------
ROUND_TRIP = [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)),
              ("AdamW", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
              ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1))]


def run_steps(opt, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = ember.tensor(g)
        opt.step()


@pytest.mark.parametrize("name, kw", ROUND_TRIP, ids=[n for n, _ in ROUND_TRIP])
def test_state_dict_round_trip_continues_exactly(name, kw):
    init, grads = make_problem(ember.float32, steps=20)
    params = [param(a) for a in init]
    opt = getattr(optim, name)(params, **kw)
    run_steps(opt, params, grads[:10])
    saved = copy.deepcopy(opt.state_dict())
    assert sorted(saved["state"]) == [0, 1, 2] and saved["param_groups"][0]["params"] == [0, 1, 2]
    resumed = [param(p.numpy()) for p in params]
    fresh = getattr(optim, name)(resumed, **kw)
    fresh.load_state_dict(saved)
    run_steps(opt, params, grads[10:])
    run_steps(fresh, resumed, grads[10:])
    for p, q in zip(params, resumed):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert fresh.state_dict()["param_groups"] == opt.state_dict()["param_groups"]


@pytest.mark.parametrize("name, kw", ROUND_TRIP, ids=[n for n, _ in ROUND_TRIP])
def test_loads_a_torch_state_dict(name, kw):
    torch = pytest.importorskip("torch")
    init, grads = make_problem(ember.float64, steps=20)
    peers = [torch.tensor(a, requires_grad=True) for a in init]
    peer_opt = getattr(torch.optim, name)(peers, **kw)
    for step_grads in grads[:10]:
        for q, g in zip(peers, step_grads):
            q.grad = torch.tensor(g)
        peer_opt.step()
    params = [param(q.detach().numpy()) for q in peers]
    opt = getattr(optim, name)(params, **kw)
    opt.load_state_dict(peer_opt.state_dict())  # torch tensors inside: converted on load
    run_steps(opt, params, grads[10:])
    for step_grads in grads[10:]:
        for q, g in zip(peers, step_grads):
            q.grad = torch.tensor(g)
        peer_opt.step()
    for p, q in zip(params, peers):
        scale_close(p.numpy(), q.detach().numpy(), rtol=1e-12, ulps=8, dtype=ember.float64)


def test_load_state_dict_errors():
    params = [param([1.0, 2.0]), param([3.0])]
    opt = optim.Adam(params, lr=0.1)
    for p in params:
        p.grad = ember.ones(*p.shape)
    opt.step()
    saved = opt.state_dict()
    other = optim.Adam([{"params": [param([1.0, 2.0])]}, {"params": [param([3.0])]}])
    with pytest.raises(ValueError, match="different number of parameter groups"):
        other.load_state_dict(saved)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.Adam([param([1.0, 2.0])]).load_state_dict(saved)
    swapped = optim.Adam([param([3.0]), param([1.0, 2.0])])
    with pytest.raises(ValueError, match=r"state 'exp_avg' of shape \(2,\) for parameter 0, but the parameter "
                                         r"has shape \(1,\)"):
        swapped.load_state_dict(saved)
    assert len(swapped.state) == 0  # nothing half-loaded


def test_loaded_state_is_copied_and_cast():
    p = param(np.zeros(3, dtype=np.float32))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    buffer = ember.tensor(np.ones(3))  # float64: cast to the parameter's float32
    opt.load_state_dict({"state": {0: {"momentum_buffer": buffer}}, "param_groups": [dict(opt.param_groups[0],
                                                                                         params=[0])]})
    loaded = opt.state[p]["momentum_buffer"]
    assert loaded.dtype == ember.float32 and not loaded._shares_storage(buffer)


# ---- bad input -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("params, exc, match", [
    ([], ValueError, "empty parameter list"),
    (5, TypeError, "iterable of Tensors or dicts, but got int"),
    ([np.zeros(3)], TypeError, r"can only optimize Tensors, but one of the params is numpy.ndarray"),
    ([[1.0]], TypeError, "one of the params is list"),
    ({"params": []}, TypeError, "one of the params is str"),
    ([{"params": {1}}], TypeError, "ordered collections"),
])
def test_bad_params(params, exc, match):
    with pytest.raises(exc, match=match):
        optim.SGD(params)


def test_bad_tensors():
    with pytest.raises(TypeError, match="iterable of Tensors or dicts, but got ember.Tensor"):
        optim.SGD(param([1.0]))
    with pytest.raises(TypeError, match="floating-point tensors, but parameter 0 .* has dtype ember.int64"):
        optim.SGD([ember.tensor([1, 2])])
    no_grad = ember.tensor([1.0])
    with pytest.raises(ValueError, match=r"parameter 0 of parameter group 0 \(shape \(1,\)\) does not require grad"):
        optim.Adam([no_grad])
    non_leaf = param([1.0]) * 2  # the result of a recorded op
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.Adam([non_leaf])
    p = param([1.0])
    with pytest.raises(ValueError, match="the same tensor twice: parameters 0 and 2"):
        optim.SGD([p, param([2.0]), p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}])


@pytest.mark.parametrize("make, match", [
    (lambda p: optim.SGD(p, lr=-1.0), r"Invalid learning rate: -1.0"),
    (lambda p: optim.SGD(p, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda p: optim.SGD(p, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
    (lambda p: optim.Adam(p, lr=-1.0), r"Invalid learning rate: -1.0"),
    (lambda p: optim.Adam(p, eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.AdamW(p, betas=(0.9, -0.1)), r"Invalid beta parameter at index 1: -0.1"),
    (lambda p: optim.AdamW(p, weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (lambda p: optim.RMSprop(p, alpha=-0.1), "Invalid alpha value: -0.1"),
    (lambda p: optim.RMSprop(p, momentum=-0.1), "Invalid momentum value: -0.1"),
    (lambda p: optim.RMSprop(p, eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda p: optim.Adagrad(p, lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value: -1.0"),
])
def test_bad_hyper_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make([param([1.0])])


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad])
def test_bad_gradients_name_the_optimizer_and_parameter(cls):
    p = param(np.zeros((2, 3)))
    opt = cls([p], lr=0.1)
    p.grad = ember.zeros(3, 2, dtype=ember.float64)
    with pytest.raises(ValueError, match=rf"{cls.__name__}: the gradient of parameter 0 has shape \(3, 2\), but the "
                                         r"parameter has shape \(2, 3\)"):
        opt.step()
    p.grad = ember.zeros(2, 3)
    with pytest.raises(TypeError, match=rf"{cls.__name__}: the gradient of parameter 0 \(shape \(2, 3\)\) has dtype "
                                        "float32, but the parameter has dtype float64"):
        opt.step()
    assert p.tolist() == [[0.0] * 3] * 2  # nothing changed


def test_bad_state_passed_to_the_kernel():
    p, g = ember.zeros(4), ember.ones(4)
    step = ember.zeros(())
    strided = ember.zeros(8)[::2]
    with pytest.raises(ValueError, match="Adam: the exp_avg of parameter 0 .* is not contiguous"):
        ember._C.adam_step([p], [g], [strided], [ember.zeros(4)], [], [step], 0.1, 0.9, 0.999, 1e-8, 0, False, False,
                           False)
    with pytest.raises(ValueError, match="RMSprop: got 1 parameters but 0 square_avg buffers"):
        ember._C.rmsprop_step([p], [g], [], [], [], [step], 0.1, 0.99, 1e-8, 0, 0, False, False)
    with pytest.raises(TypeError, match="Adagrad: the step count of parameter 0 must be a one-element float"):
        ember._C.adagrad_step([p], [g], [ember.zeros(4)], [ember.zeros(2)], 0.1, 0, 0, 1e-10, False)
    with pytest.raises(ValueError, match="SGD: the momentum buffer of parameter 0 shares memory with the parameter"):
        ember._C.sgd_step([p], [g], [p], 0.1, 0.9, 0, 0, False, False)
    with pytest.raises(TypeError, match="SGD: parameter 0 .* has dtype int64"):
        ember._C.sgd_step([ember.zeros(2, dtype=ember.int64)], [g], [], 0.1, 0, 0, 0, False, False)
    assert float(step) == 0.0  # failed calls leave the step counts alone

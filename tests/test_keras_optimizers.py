"""ember.keras.optimizers: every optimizer and option against Keras 3's update equations, written
below independently in float64 NumPy (`KerasReference`, following keras/src/optimizers/*.py),
over several steps and several variables; schedules against their formulas; the API (learning
rate property, legacy lr=, None gradients, get / configs) and the error paths."""
import math
import warnings

import numpy as np
import pytest

import ember
from ember import nn
from ember.keras import optimizers
from ember.keras.optimizers import schedules
from conftest import FLOAT_DTYPES, NP, TOL, capabilities, noncontiguous, run_under_capability

SHAPES = [(), (7,), (33, 5), (0,)]
STEPS = 8


# ---- the reference: Keras 3's equations in float64 NumPy --------------------------------------------

class KerasReference:
    """One Keras optimizer over NumPy float64 variables: clipping, weight decay, then the update."""

    def __init__(self, name, learning_rate=None, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, **options):
        defaults = {"SGD": 0.01}
        self.name, self.options = name, options
        self.lr = learning_rate if learning_rate is not None else defaults.get(name, 0.001)
        if name == "AdamW" and weight_decay is None:
            weight_decay = 0.004
        self.weight_decay, self.clipnorm, self.clipvalue, self.global_clipnorm = \
            weight_decay, clipnorm, clipvalue, global_clipnorm
        self.iterations = 0
        self.state = None

    def current_lr(self):
        return self.lr(self.iterations) if callable(self.lr) else self.lr

    def clip(self, grads):
        if self.clipnorm:
            return [g * self.clipnorm / max(np.sqrt(np.sum(g * g)), self.clipnorm) for g in grads]
        if self.global_clipnorm:
            norm = np.sqrt(sum(np.sum(g * g) for g in grads))
            return [g * self.global_clipnorm * min(1 / norm, 1 / self.global_clipnorm) for g in grads]
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def apply(self, grads, variables):
        o = self.options
        if self.state is None:
            init = o.get("initial_accumulator_value", 0.1) if self.name == "Adagrad" else 0.0
            self.state = [dict(m=np.zeros_like(v), v=np.zeros_like(v), v_hat=np.zeros_like(v),
                               a=np.zeros_like(v), acc=np.full_like(v, init)) for v in variables]
        lr = self.current_lr()
        grads = self.clip(grads)
        if self.weight_decay:
            for v in variables:
                v -= v * self.weight_decay * lr
        t = self.iterations + 1
        for g, var, s in zip(grads, variables, self.state):
            if self.name == "SGD":
                mom = o.get("momentum", 0.0)
                if mom:
                    s["m"] = s["m"] * mom - g * lr
                    var += s["m"] * mom - g * lr if o.get("nesterov") else s["m"]
                else:
                    var -= g * lr
            elif self.name in ("Adam", "AdamW"):
                b1, b2, eps = o.get("beta_1", 0.9), o.get("beta_2", 0.999), o.get("epsilon", 1e-7)
                alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                s["m"] += (g - s["m"]) * (1 - b1)
                s["v"] += (g * g - s["v"]) * (1 - b2)
                v = s["v"]
                if o.get("amsgrad"):
                    s["v_hat"] = np.maximum(s["v_hat"], s["v"])
                    v = s["v_hat"]
                var -= s["m"] * alpha / (np.sqrt(v) + eps)
            elif self.name == "RMSprop":
                rho, mom, eps = o.get("rho", 0.9), o.get("momentum", 0.0), o.get("epsilon", 1e-7)
                s["v"] = rho * s["v"] + (1 - rho) * g * g
                if o.get("centered"):
                    s["a"] = rho * s["a"] + (1 - rho) * g
                    denominator = s["v"] - s["a"] ** 2 + eps
                else:
                    denominator = s["v"] + eps
                increment = lr * g / np.sqrt(denominator)
                if mom > 0:
                    s["m"] = mom * s["m"] + increment
                    var -= s["m"]
                else:
                    var -= increment
            elif self.name == "Adagrad":
                s["acc"] += g * g
                var -= lr * g / np.sqrt(s["acc"] + o.get("epsilon", 1e-7))
        self.iterations += 1


CONFIGS = [
    ("SGD", {}),
    ("SGD", dict(learning_rate=0.1, momentum=0.9)),
    ("SGD", dict(learning_rate=0.05, momentum=0.5, nesterov=True)),
    ("SGD", dict(learning_rate=0.1, weight_decay=0.1)),
    ("Adam", {}),
    ("Adam", dict(learning_rate=0.01, amsgrad=True)),
    ("Adam", dict(learning_rate=0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-3, weight_decay=0.05)),
    ("AdamW", {}),
    ("AdamW", dict(learning_rate=0.01, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", {}),
    ("RMSprop", dict(learning_rate=0.01, momentum=0.9)),
    ("RMSprop", dict(learning_rate=0.01, centered=True)),
    ("RMSprop", dict(learning_rate=0.01, rho=0.8, centered=True, momentum=0.5, weight_decay=0.1)),
    ("Adagrad", {}),
    ("Adagrad", dict(learning_rate=0.1, initial_accumulator_value=0.5, epsilon=1e-4)),
    ("SGD", dict(learning_rate=0.1, momentum=0.9, clipnorm=0.5)),
    ("Adam", dict(learning_rate=0.01, clipvalue=0.3)),
    ("RMSprop", dict(learning_rate=0.01, global_clipnorm=1.0)),
    ("Adagrad", dict(learning_rate=0.1, clipnorm=2.0, weight_decay=0.01)),
]
CONFIG_IDS = [name + "-" + "-".join(f"{k}={v}" for k, v in kw.items()) for name, kw in CONFIGS]


def gradient_sequence(shapes, steps, seed=0):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) * 2 for s in shapes] for _ in range(steps)]


def run_ember(name, options, dtype, initial, grad_steps, make_grad=ember.tensor):
    opt = getattr(optimizers, name)(**options)
    variables = [nn.Parameter(ember.tensor(v, dtype=dtype)) for v in initial]
    for grads in grad_steps:
        opt.apply_gradients(zip([make_grad(np.asarray(g, dtype=NP[dtype])) for g in grads], variables))
    return opt, variables


def run_reference(name, options, initial, grad_steps):
    ref = KerasReference(name, **options)
    variables = [np.array(v, dtype=np.float64) for v in initial]
    for grads in grad_steps:
        ref.apply(grads, variables)
    return variables


def check_against_reference(name, options, dtype, make_grad=ember.tensor):
    rng = np.random.default_rng(1)
    initial = [rng.standard_normal(s) for s in SHAPES]
    grad_steps = gradient_sequence(SHAPES, STEPS)
    opt, got = run_ember(name, options, dtype, initial, grad_steps, make_grad)
    want = run_reference(name, options, initial, grad_steps)
    assert opt.iterations == STEPS
    # float32: STEPS updates each add a few roundings (rtol 2e-5 is one op's worth)
    tol = dict(rtol=2e-4, atol=2e-5) if dtype == ember.float32 else TOL[dtype]
    for g, w in zip(got, want):
        assert g.dtype == dtype and g.shape == w.shape
        np.testing.assert_allclose(g.numpy(), w, **tol)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=str)
@pytest.mark.parametrize("name,options", CONFIGS, ids=CONFIG_IDS)
def test_matches_keras_equations(name, options, dtype):
    check_against_reference(name, options, dtype)


@pytest.mark.parametrize("name,options", [CONFIGS[1], CONFIGS[5], CONFIGS[12], CONFIGS[14]], ids=str)
def test_noncontiguous_gradients_and_variables(name, options):
    check_against_reference(name, options, ember.float64, make_grad=noncontiguous)
    # a variable that is a strided view is updated in place, through the view
    rng = np.random.default_rng(2)
    base = rng.standard_normal((9, 8))
    grads = gradient_sequence([(4, 3)], 3)
    variable = noncontiguous(base[:4, :3])
    opt = getattr(optimizers, name)(**options)
    for (g,) in grads:
        opt.apply_gradients([(ember.tensor(g), variable)])
    np.testing.assert_allclose(variable.numpy(), run_reference(name, options, [base[:4, :3]], grads)[0],
                               **TOL[ember.float64])


@pytest.mark.parametrize("schedule", [
    schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5),
    schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5, staircase=True),
    schedules.PiecewiseConstantDecay([2, 5], [0.1, 0.05, 0.01]),
    schedules.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.7),
    schedules.CosineDecay(0.1, decay_steps=6, alpha=0.1),
], ids=lambda s: type(s).__name__)
def test_learning_rate_schedule_drives_the_steps(schedule):
    options = dict(learning_rate=schedule, momentum=0.9, weight_decay=0.1)
    check_against_reference("SGD", options, ember.float64)
    check_against_reference("Adam", dict(learning_rate=schedule), ember.float64)


def test_capability_paths_agree_with_the_reference():
    code = ("import sys; sys.path.insert(0, 'tests'); import ember; from test_keras_optimizers import *\n"
            "for name, options in CONFIGS:\n"
            "    for dtype in FLOAT_DTYPES: check_against_reference(name, options, dtype)\n"
            "print(ember._C.cpu_capability())")
    import os
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for cap in capabilities():
        out = run_under_capability(cap, f"import os; os.chdir({root!r})\n" + code)
        assert out.strip() == cap


def test_global_clipnorm_of_non_finite_gradients_gives_nan():
    variables = [nn.Parameter(ember.ones(3)), nn.Parameter(ember.ones(2))]
    opt = optimizers.SGD(global_clipnorm=1.0)
    opt.apply([ember.tensor([1.0, math.inf, 0.0]), ember.tensor([1.0, 1.0])], variables)
    assert np.isnan(variables[0].numpy()).all() and np.isnan(variables[1].numpy()).all()


def test_nan_gradients_propagate():
    v = nn.Parameter(ember.ones(3))
    optimizers.Adam(clipvalue=1.0).apply([ember.tensor([math.nan, 2.0, -2.0])], [v])
    got = v.numpy()
    assert np.isnan(got[0]) and np.isfinite(got[1:]).all()


# ---- schedules -------------------------------------------------------------------------------------------

def test_schedule_formulas():
    e = schedules.ExponentialDecay(0.1, 10, 0.5)
    assert e(0) == pytest.approx(0.1) and e(5) == pytest.approx(0.1 * 0.5 ** 0.5)
    assert schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)(19) == pytest.approx(0.05)
    p = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [p(s) for s in (0, 10, 11, 20, 21, 1000)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    i = schedules.InverseTimeDecay(0.1, 4, 0.5)
    assert i(6) == pytest.approx(0.1 / (1 + 0.5 * 6 / 4))
    assert schedules.InverseTimeDecay(0.1, 4, 0.5, staircase=True)(6) == pytest.approx(0.1 / 1.5)
    c = schedules.CosineDecay(0.1, 100, alpha=0.2)
    assert c(25) == pytest.approx(0.1 * (0.8 * 0.5 * (1 + math.cos(math.pi / 4)) + 0.2))
    assert c(500) == pytest.approx(0.02)
    w = schedules.CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10)
    assert w(5) == pytest.approx(0.05) and w(10) == pytest.approx(0.1)
    assert w(60) == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi / 2)))
    poly = schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0)
    assert poly(5) == pytest.approx(0.09 * 0.25 + 0.01) and poly(50) == pytest.approx(0.01)


def test_schedule_errors_and_configs():
    with pytest.raises(ValueError, match="length of boundaries should be 1 less"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="decay_steps.*> 0"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    s = schedules.CosineDecay(0.1, 100, alpha=0.2, warmup_target=0.2, warmup_steps=5)
    back = schedules.deserialize(schedules.serialize(s))
    assert type(back) is schedules.CosineDecay and back.get_config() == s.get_config()
    with pytest.raises(ValueError, match="valid names: .*ExponentialDecay"):
        schedules.deserialize({"class_name": "Nope", "config": {}})


# ---- the API -------------------------------------------------------------------------------------------

DEFAULTS = [("SGD", "SGD", 0.01), ("Adam", "adam", 0.001), ("AdamW", "adamw", 0.001),
            ("RMSprop", "rmsprop", 0.001), ("Adagrad", "adagrad", 0.001)]


@pytest.mark.parametrize("cls,name,lr", DEFAULTS)
def test_defaults(cls, name, lr):
    opt = getattr(optimizers, cls)()
    assert opt.name == name and opt.learning_rate == pytest.approx(lr) and opt.iterations == 0
    config = opt.get_config()
    if cls != "SGD":
        assert config["epsilon"] == 1e-7
    assert config["weight_decay"] == (0.004 if cls == "AdamW" else None)
    expected = {"Adam": dict(beta_1=0.9, beta_2=0.999, amsgrad=False), "RMSprop": dict(rho=0.9, momentum=0.0,
                centered=False), "Adagrad": dict(initial_accumulator_value=0.1), "SGD": dict(momentum=0.0,
                nesterov=False)}.get(cls, {})
    for key, value in expected.items():
        assert config[key] == value


def test_learning_rate_property():
    opt = optimizers.Adam(learning_rate=0.01)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5 and opt.get_config()["learning_rate"] == 0.5
    opt.learning_rate = np.float32(0.25)
    assert type(opt.learning_rate) is float and opt.learning_rate == 0.25
    scheduled = optimizers.SGD(learning_rate=schedules.ExponentialDecay(1.0, 1, 0.5))
    v = nn.Parameter(ember.zeros(1))
    for _ in range(3):
        scheduled.apply([ember.ones(1)], [v])
    assert scheduled.learning_rate == pytest.approx(0.125)
    np.testing.assert_allclose(v.numpy(), [-1.75])
    with pytest.raises(TypeError, match="LearningRateSchedule.*not settable"):
        scheduled.learning_rate = 0.1
    with pytest.raises(TypeError, match="learning_rate must be a number"):
        optimizers.SGD(learning_rate="fast")
    called = optimizers.SGD(learning_rate=lambda: 0.5)
    assert called.learning_rate == 0.5


def test_legacy_lr_keyword_warns():
    with pytest.warns(DeprecationWarning, match="`lr` argument is deprecated"):
        opt = optimizers.Adam(lr=0.02)
    assert opt.learning_rate == pytest.approx(0.02)
    with pytest.warns(UserWarning, match="`decay` is no longer supported"):
        optimizers.SGD(decay=0.1)


def test_none_gradients_are_skipped():
    a, b = nn.Parameter(ember.ones(2)), nn.Parameter(ember.ones(3))
    opt = optimizers.Adam(learning_rate=0.1)
    with pytest.warns(UserWarning, match="Gradients do not exist for variables"):
        opt.apply_gradients([(ember.ones(2), a), (None, b)])
    assert not np.allclose(a.numpy(), 1) and np.array_equal(b.numpy(), np.ones(3))
    assert opt.iterations == 1
    # b's state starts when its first gradient comes, at the optimizer's step count 2
    opt.apply_gradients([(ember.ones(2), a), (ember.ones(3), b)])
    ref = KerasReference("Adam", learning_rate=0.1)
    ref.iterations = 1
    want = np.ones(3)
    ref.apply([np.ones(3)], [want])
    np.testing.assert_allclose(b.numpy(), want, rtol=1e-6)
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply_gradients([(None, a)])


def test_apply_with_built_variables_and_numpy_gradients():
    a = nn.Parameter(ember.ones(2))
    opt = optimizers.SGD(learning_rate=0.5)
    with pytest.raises(ValueError, match="optimizer.build"):
        opt.apply([ember.ones(2)])
    opt.build([a])
    opt.apply([np.array([1.0, 2.0])])
    np.testing.assert_allclose(a.numpy(), [0.5, 0.0])
    assert len(opt.variables) == 0 and len(optimizers.Adam(amsgrad=True).variables) == 0
    adam = optimizers.Adam(amsgrad=True)
    adam.build([a])
    assert len(adam.variables) == 3


def test_each_variable_keeps_its_state_whatever_holds_the_variables():
    """The state found for a tuple of variables is reused for that same tuple; another tuple or a list
    of the same variables, in another order, still steps each variable with its own state."""
    a = nn.Parameter(ember.tensor([1.0, 2.0], dtype=ember.float64))
    b = nn.Parameter(ember.tensor([3.0], dtype=ember.float64))
    grad_a, grad_b = np.array([0.5, -1.0]), np.array([2.0])
    opt = optimizers.Adam(learning_rate=0.1)
    ref = KerasReference("Adam", learning_rate=0.1)
    want = [a.numpy().copy(), b.numpy().copy()]
    pair = (a, b)
    for variables in (pair, pair, (b, a), [a, b], pair):
        grads = {id(a): grad_a, id(b): grad_b}
        opt.apply([ember.tensor(grads[id(v)]) for v in variables], variables)
        ref.apply([grad_a, grad_b], want)
        np.testing.assert_allclose(a.numpy(), want[0], **TOL[ember.float64])
        np.testing.assert_allclose(b.numpy(), want[1], **TOL[ember.float64])


def test_exclude_from_weight_decay():
    kernel, bias = nn.Parameter(ember.ones(3)), nn.Parameter(ember.ones(2))
    bias.name = "dense/bias"
    opt = optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply([ember.zeros(3), ember.zeros(2)], [kernel, bias])
    np.testing.assert_allclose(kernel.numpy(), np.full(3, 0.95))
    np.testing.assert_allclose(bias.numpy(), np.ones(2))
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_list=[kernel])
    # the global norm still runs over every gradient, decayed or not
    grads = gradient_sequence([(3,), (2,)], 3)
    variables = [nn.Parameter(ember.tensor([1.0, -2.0, 3.0], dtype=ember.float64)),
                 nn.Parameter(ember.tensor([0.5, 4.0], dtype=ember.float64))]
    opt = optimizers.SGD(learning_rate=0.1, weight_decay=0.3, global_clipnorm=0.5)
    opt.exclude_from_weight_decay(var_list=[variables[1]])
    ref = KerasReference("SGD", learning_rate=0.1, global_clipnorm=0.5)
    want = [v.numpy().copy() for v in variables]
    for g in grads:
        opt.apply([ember.tensor(x) for x in g], variables)
        want[0] -= want[0] * 0.3 * 0.1
        ref.apply(g, want)
    for got, w in zip(variables, want):
        np.testing.assert_allclose(got.numpy(), w, **TOL[ember.float64])
    with pytest.raises(IndexError, match="no_weight_decay holds index 3, but there are 1 variables"):
        ember._C.keras_sgd_step([variables[0]], [ember.ones(3, dtype=ember.float64)], [], 0.1, 0.0, False, 0.1,
                                no_weight_decay=[3])


def test_get_and_configs():
    for name in ("sgd", "adam", "adamw", "rmsprop", "adagrad", "Adam", "RMSprop"):
        assert type(optimizers.get(name)).__name__.lower() == name.lower()
    opt = optimizers.RMSprop(learning_rate=0.01, centered=True, clipnorm=1.0)
    assert optimizers.get(opt) is opt and optimizers.get(None) is None
    back = optimizers.get(optimizers.serialize(opt))
    assert type(back) is optimizers.RMSprop and back.get_config() == opt.get_config()
    scheduled = optimizers.Adam(learning_rate=schedules.InverseTimeDecay(0.1, 10, 0.5))
    back = optimizers.Adam.from_config(scheduled.get_config())
    assert isinstance(back._learning_rate, schedules.InverseTimeDecay)
    assert back.get_config() == scheduled.get_config()
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: 'adum'.*'sgd', 'adam'"):
        optimizers.get("adum")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get(42)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm`"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match=r"`momentum` must be a float between \[0, 1\]"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="`weight_decay` must be a float. Received: weight_decay=None"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="not recognized.*betas"):
        optimizers.Adam(betas=(0.9, 0.99))
    with pytest.raises(ValueError, match="beta_1.*in \\[0, 1\\)"):
        optimizers.Adam(beta_1=1.0)
    with pytest.raises(ValueError, match="clipnorm.*>= 0"):
        optimizers.SGD(clipnorm=-1.0)
    with pytest.raises(NotImplementedError, match="use_ema"):
        optimizers.SGD(use_ema=True)


def test_bad_step_inputs():
    v = nn.Parameter(ember.ones(3))
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match=r"keras Adam: the gradient of parameter 0 has shape \(2,\), but the "
                                         r"parameter has shape \(3,\)"):
        opt.apply([ember.ones(2)], [v])
    with pytest.raises(TypeError, match="gradient of parameter 0 .* has dtype float64, but the parameter has dtype "
                                        "float32"):
        opt.apply([ember.ones(3, dtype=ember.float64)], [v])
    with pytest.raises(ValueError, match="got 2 gradients for 1 variables"):
        opt.apply([ember.ones(3), ember.ones(3)], [v])
    with pytest.raises(TypeError, match="floating-point ember tensors"):
        opt.apply([ember.ones(3)], [np.ones(3)])
    with pytest.raises(ValueError, match="learning_rate must be a finite number"):
        optimizers.SGD(learning_rate=math.nan).apply([ember.ones(3)], [v])
    with pytest.raises(ValueError, match="step must be the 1-based number"):
        ember._C.keras_adam_step([v], [ember.ones(3)], [ember.zeros(3)], [ember.zeros(3)], [], 0.0, 0.1, 0.9, 0.99,
                                 1e-7, False)


@pytest.mark.parametrize("name,learning_rate", [("sgd", 0.2), ("adam", 0.05), ("adamw", 0.05), ("rmsprop", 0.05),
                                                ("adagrad", 0.3)])
def test_training_reduces_the_loss(name, learning_rate):
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((64, 4))
    x = ember.tensor(x_np, dtype=ember.float32)
    y = ember.tensor(np.tanh(x_np @ rng.standard_normal((4, 1))), dtype=ember.float32)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optimizers.get({"class_name": name, "config": {"learning_rate": learning_rate}})
    params = list(model.parameters())
    losses = []
    for _ in range(60):
        for p in params:
            p.grad = None
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.apply_gradients(zip([p.grad for p in params], params))
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]

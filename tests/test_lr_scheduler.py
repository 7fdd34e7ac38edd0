"""Learning-rate schedulers: every schedule's sequence equals PyTorch's bit for bit over 100+ steps
(several param groups, momentum cycling, resuming), state_dict round trips and the error paths.

The schedulers only need an object with `param_groups` (and `defaults` for OneCycleLR's momentum),
so a small stand-in optimizer drives them here.
"""
import copy
import math
import warnings

import pytest

from ember.optim import lr_scheduler as sched

N_STEPS = 120


class StandInOptimizer:
    """The part of an optimizer a scheduler touches: param_groups and defaults."""

    def __init__(self, groups, **defaults):
        self.param_groups = [dict(g) for g in groups]
        self.defaults = defaults


def _torch_optimizer(torch, groups, kind):
    params = [{"params": [torch.zeros(1, requires_grad=True)], **g} for g in groups]
    if kind == "adam":
        return torch.optim.Adam(params, lr=groups[0]["lr"])
    return torch.optim.SGD(params, lr=groups[0]["lr"], momentum=groups[0].get("momentum", 0.0))


def _groups_of(kind, lrs):
    if kind == "adam":
        return [{"lr": lr, "betas": (0.9, 0.999)} for lr in lrs]
    return [{"lr": lr, "momentum": 0.9} for lr in lrs]


def _trace(optimizer, scheduler, n_steps, before_step=lambda: None, metrics=None):
    """[(lrs, momenta)] after construction and after each step."""
    def snapshot():
        momenta = [g["betas"][0] if "betas" in g else g.get("momentum") for g in optimizer.param_groups]
        return [g["lr"] for g in optimizer.param_groups], momenta, scheduler.get_last_lr()

    out = [snapshot()]
    for i in range(n_steps):
        before_step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[i])
        out.append(snapshot())
    return out


def _plateau_metrics(n):
    """A loss that improves, stalls, jitters and creeps up: exercises patience and cooldown."""
    values = []
    for i in range(n):
        base = 1.0 / (1 + i) if i < 30 else (0.033 if i < 70 else 0.033 + 0.0005 * (i - 70))
        values.append(base + 0.002 * math.sin(1.7 * i))
    return values


CASES = {
    "step": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "step_default_gamma": lambda m, o: m.StepLR(o, 30),
    "multistep": lambda m, o: m.MultiStepLR(o, milestones=[10, 30, 30, 80], gamma=0.3),
    "exponential": lambda m, o: m.ExponentialLR(o, gamma=0.97),
    "cosine": lambda m, o: m.CosineAnnealingLR(o, T_max=25, eta_min=0.001),
    "cosine_default": lambda m, o: m.CosineAnnealingLR(o, T_max=10),
    "lambda": lambda m, o: m.LambdaLR(o, lambda epoch: 0.95 ** epoch + 1 / (epoch + 1)),
    "lambda_per_group": lambda m, o: m.LambdaLR(o, [lambda e: 1.0 / (1 + e), lambda e: 0.99 ** e]),
    "onecycle": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.3], total_steps=N_STEPS),
    "onecycle_linear": lambda m, o: m.OneCycleLR(o, max_lr=0.5, epochs=10, steps_per_epoch=12,
                                                 anneal_strategy="linear", pct_start=0.25),
    "onecycle_three_phase": lambda m, o: m.OneCycleLR(o, max_lr=2.0, total_steps=N_STEPS, three_phase=True,
                                                      div_factor=10.0, final_div_factor=100.0),
    "onecycle_momenta": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=N_STEPS, base_momentum=[0.8, 0.7],
                                                  max_momentum=(0.99, 0.9)),
    "onecycle_no_momentum": lambda m, o: m.OneCycleLR(o, max_lr=0.1, total_steps=N_STEPS, cycle_momentum=False),
}


# the optimizer kind matters only to OneCycleLR, which cycles SGD's momentum or Adam's beta1
SEQUENCE_CASES = [(case, "sgd") for case in sorted(CASES)] + \
    [(case, "adam") for case in sorted(CASES) if case.startswith("onecycle")]


@pytest.mark.parametrize("case, kind", SEQUENCE_CASES)
def test_sequence_matches_torch(case, kind):
    torch = pytest.importorskip("torch")
    groups = _groups_of(kind, [0.1, 0.03])
    ours = StandInOptimizer(groups, **groups[0])
    theirs = _torch_optimizer(torch, groups, kind)
    expected = _trace(theirs, CASES[case](torch.optim.lr_scheduler, theirs), N_STEPS, theirs.step)
    actual = _trace(ours, CASES[case](sched, ours), N_STEPS)
    assert actual == expected  # exact: same formulas in the same order
    assert {k: v for k, v in ours.param_groups[0].items()} == \
        {k: v for k, v in theirs.param_groups[0].items() if k in ours.param_groups[0]}


PLATEAU_CASES = [
    dict(),
    dict(mode="min", factor=0.5, patience=3, threshold=0.01, cooldown=2, min_lr=1e-3),
    dict(mode="min", factor=0.5, patience=2, threshold=1e-3, threshold_mode="abs", min_lr=[0.01, 0.0]),
    dict(mode="max", factor=0.2, patience=4, cooldown=5, eps=1e-3),
    dict(mode="max", threshold_mode="abs", threshold=0.001, patience=0),
]


@pytest.mark.parametrize("settings", PLATEAU_CASES, ids=range(len(PLATEAU_CASES)))
def test_reduce_on_plateau_matches_torch(settings):
    torch = pytest.importorskip("torch")
    metrics = _plateau_metrics(N_STEPS)
    if settings.get("mode") == "max":
        metrics = [-m for m in metrics]
    groups = _groups_of("sgd", [0.1, 0.03])
    ours = StandInOptimizer(groups)
    theirs = _torch_optimizer(torch, groups, "sgd")
    expected = _trace(theirs, torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **settings), N_STEPS,
                      theirs.step, metrics)
    actual = _trace(ours, sched.ReduceLROnPlateau(ours, **settings), N_STEPS, metrics=metrics)
    assert actual == expected
    assert len({tuple(lrs) for lrs, _, _ in actual}) > 1 or settings.get("mode") == "max"


@pytest.mark.parametrize("case", ["step", "exponential", "cosine", "multistep"])
def test_resuming_with_last_epoch_matches_torch(case):
    torch = pytest.importorskip("torch")
    groups = [{"lr": 0.05, "initial_lr": 0.1, "momentum": 0.9}, {"lr": 0.02, "initial_lr": 0.03, "momentum": 0.9}]
    ours = StandInOptimizer(groups)
    theirs = _torch_optimizer(torch, groups, "sgd")
    make = {"step": lambda m, o: m.StepLR(o, 7, last_epoch=13),
            "exponential": lambda m, o: m.ExponentialLR(o, 0.9, last_epoch=4),
            "cosine": lambda m, o: m.CosineAnnealingLR(o, 20, eta_min=0.01, last_epoch=9),
            "multistep": lambda m, o: m.MultiStepLR(o, [20, 40], last_epoch=19)}[case]
    expected = _trace(theirs, make(torch.optim.lr_scheduler, theirs), 50, theirs.step)
    assert _trace(ours, make(sched, ours), 50) == expected


@pytest.mark.parametrize("case", ["step", "multistep", "exponential", "cosine"])
def test_step_with_epoch_uses_the_closed_form_like_torch(case):
    torch = pytest.importorskip("torch")
    groups = _groups_of("sgd", [0.1])
    ours, theirs = StandInOptimizer(groups), _torch_optimizer(torch, groups, "sgd")
    ember_s, torch_s = CASES[case](sched, ours), CASES[case](torch.optim.lr_scheduler, theirs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.step()
        for epoch in (5, 31, 17, 90):
            with pytest.warns(UserWarning, match="deprecated"):
                ember_s.step(epoch)
            torch_s.step(epoch)
            assert ember_s.get_last_lr() == torch_s.get_last_lr()


def test_values_without_torch():
    opt = StandInOptimizer([{"lr": 1.0}])
    s = sched.StepLR(opt, step_size=2, gamma=0.5)
    lrs = [s.get_last_lr()[0]]
    for _ in range(5):
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert s.last_epoch == 5 and opt.param_groups[0]["initial_lr"] == 1.0

    opt = StandInOptimizer([{"lr": 0.2}])
    s = sched.CosineAnnealingLR(opt, T_max=8, eta_min=0.02)
    for epoch in range(1, 30):
        s.step()
        closed = 0.02 + (0.2 - 0.02) * (1 + math.cos(math.pi * epoch / 8)) / 2
        assert s.get_last_lr()[0] == pytest.approx(closed, rel=1e-12, abs=1e-15)


def test_onecycle_endpoints_and_overstep():
    opt = StandInOptimizer([{"lr": 0.0, "momentum": 0.0}], momentum=0.0)
    s = sched.OneCycleLR(opt, max_lr=1.0, total_steps=100)
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0 / 25.0)
    assert opt.param_groups[0]["momentum"] == 0.95
    for _ in range(29):
        s.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.85)
    for _ in range(70):
        s.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0 / 25.0 / 1e4)
    s.step()  # step total_steps itself is allowed, as in PyTorch
    with pytest.raises(ValueError, match="Tried to step 101 times. The specified number of total steps is 100"):
        s.step()


def _run(scheduler, optimizer, n):
    for _ in range(n):
        scheduler.step()
    return [g["lr"] for g in optimizer.param_groups]


class _Warmup:
    """A callable object with state, which LambdaLR's state_dict keeps (plain functions it cannot)."""

    def __init__(self, steps):
        self.steps = steps

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.steps)


@pytest.mark.parametrize("case", sorted(CASES) + ["lambda_object"])
def test_state_dict_round_trip(case):
    make = CASES.get(case, lambda m, o: m.LambdaLR(o, _Warmup(10)))
    groups = _groups_of("sgd", [0.1, 0.03])
    reference_opt = StandInOptimizer(groups, momentum=0.9)
    reference = make(sched, reference_opt)
    _run(reference, reference_opt, 40)
    saved = copy.deepcopy(reference.state_dict())
    assert "optimizer" not in saved

    resumed_opt = StandInOptimizer(groups, momentum=0.9)
    resumed = make(sched, resumed_opt)
    if case == "lambda_object":
        resumed.lr_lambdas[0].steps = 1  # overwritten by the load
    resumed.load_state_dict(saved)
    resumed_opt.param_groups = copy.deepcopy(reference_opt.param_groups)  # as optimizer.load_state_dict does
    assert resumed.last_epoch == reference.last_epoch == 40
    assert _run(resumed, resumed_opt, 60) == _run(reference, reference_opt, 60)
    assert resumed.get_last_lr() == reference.get_last_lr()


def test_reduce_on_plateau_state_dict_round_trip():
    metrics = _plateau_metrics(N_STEPS)
    opt_a, opt_b = StandInOptimizer([{"lr": 0.1}]), StandInOptimizer([{"lr": 0.1}])
    a = sched.ReduceLROnPlateau(opt_a, patience=2, cooldown=1, factor=0.5)
    for m in metrics[:50]:
        a.step(m)
    b = sched.ReduceLROnPlateau(opt_b, mode="max")
    b.load_state_dict(copy.deepcopy(a.state_dict()))
    opt_b.param_groups[0]["lr"] = opt_a.param_groups[0]["lr"]
    assert b.mode == "min" and b.patience == 2
    for m in metrics[50:]:
        a.step(m)
        b.step(m)
        assert a.get_last_lr() == b.get_last_lr()
    assert a.best == b.best and a.num_bad_epochs == b.num_bad_epochs


def _opt(**defaults):
    return StandInOptimizer([{"lr": 0.1, "momentum": 0.9}], **defaults)


@pytest.mark.parametrize("make, error, match", [
    (lambda: sched.StepLR(object(), 3), TypeError, "object is not an Optimizer"),
    (lambda: sched.StepLR(_opt(), 0), ValueError, "Expected positive integer step_size, but got 0"),
    (lambda: sched.CosineAnnealingLR(_opt(), T_max=0), ValueError, "Expected positive number T_max"),
    (lambda: sched.ExponentialLR(_opt(), 0.9, last_epoch=3), KeyError, r"param 'initial_lr' is not specified in "
                                                                       r"param_groups\[0\]"),
    (lambda: sched.LambdaLR(_opt(), [lambda e: 1.0] * 2), ValueError, "Expected 1 lr_lambdas, but got 2"),
    (lambda: sched.LambdaLR(_opt(), 0.5), TypeError, "lr_lambda must be callable"),
    (lambda: sched.ReduceLROnPlateau(_opt(), factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda: sched.ReduceLROnPlateau(_opt(), mode="mean"), ValueError, "mode mean is unknown"),
    (lambda: sched.ReduceLROnPlateau(_opt(), threshold_mode="pct"), ValueError, "threshold mode pct is unknown"),
    (lambda: sched.ReduceLROnPlateau(_opt(), min_lr=[0.0, 0.1]), ValueError, "expected 1 min_lrs, got 2"),
    (lambda: sched.OneCycleLR(_opt(momentum=0.9), 1.0), ValueError,
     r"You must define either total_steps OR \(epochs AND steps_per_epoch\)"),
    (lambda: sched.OneCycleLR(_opt(momentum=0.9), 1.0, total_steps=0), ValueError,
     "Expected positive integer total_steps, but got 0"),
    (lambda: sched.OneCycleLR(_opt(momentum=0.9), 1.0, epochs=2, steps_per_epoch=-1), ValueError,
     "Expected positive integer steps_per_epoch, but got -1"),
    (lambda: sched.OneCycleLR(_opt(momentum=0.9), 1.0, epochs=2.5, steps_per_epoch=4), ValueError,
     "Expected positive integer epochs, but got 2.5"),
    (lambda: sched.OneCycleLR(_opt(momentum=0.9), 1.0, total_steps=10, pct_start=1.5), ValueError,
     "Expected float between 0 and 1 pct_start, but got 1.5"),
    (lambda: sched.OneCycleLR(_opt(momentum=0.9), 1.0, total_steps=10, pct_start=0), ValueError,
     "Expected float between 0 and 1 pct_start, but got 0"),
    (lambda: sched.OneCycleLR(_opt(momentum=0.9), 1.0, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear', instead got 'exp'"),
    (lambda: sched.OneCycleLR(_opt(momentum=0.9), [1.0, 2.0], total_steps=10), ValueError,
     "max_lr must have the same length as optimizer.param_groups. max_lr has 2 values, param_groups has 1."),
    (lambda: sched.OneCycleLR(_opt(), 1.0, total_steps=10), ValueError,
     "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"),
])
def test_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_errors_agree_with_torch_on_type():
    """Where PyTorch validates, it raises the same exception type for the same bad settings."""
    torch = pytest.importorskip("torch")
    t_opt = _torch_optimizer(torch, [{"lr": 0.1}], "sgd")
    e_opt = _opt(momentum=0.9)
    for kwargs in [dict(total_steps=0), dict(), dict(total_steps=10, pct_start=1.5),
                   dict(total_steps=10, anneal_strategy="exp"), dict(epochs=0, steps_per_epoch=3)]:
        with pytest.raises(ValueError):
            torch.optim.lr_scheduler.OneCycleLR(t_opt, 1.0, **kwargs)
        with pytest.raises(ValueError):
            sched.OneCycleLR(e_opt, 1.0, **kwargs)
    with pytest.raises(KeyError):
        torch.optim.lr_scheduler.StepLR(_torch_optimizer(torch, [{"lr": 0.1}], "sgd"), 3, last_epoch=2)


def test_reduce_on_plateau_groups_added_later():
    opt = StandInOptimizer([{"lr": 1.0}])
    s = sched.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0])
    s.step(1.0)
    opt.param_groups.append({"lr": 1.0})
    with pytest.raises(RuntimeError, match="has 2 param groups but min_lr was given for 1"):
        s.step(2.0)
    opt = StandInOptimizer([{"lr": 1.0}])
    s = sched.ReduceLROnPlateau(opt, patience=0, min_lr=0.25)
    s.step(1.0)
    opt.param_groups.append({"lr": 1.0})
    s.step(2.0)
    s.step(3.0)
    assert s.get_last_lr() == [0.25, 0.25]

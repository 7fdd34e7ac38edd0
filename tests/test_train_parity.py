"""The same MLP, initial weights, data and batches trained in ember and in PyTorch follows the same
loss curve: 50 steps with every optimizer configuration, in float32 (1e-4 relative) and float64
(1e-9 relative)."""
import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")

OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=1e-3, betas=(0.8, 0.99))),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1)),
    ("AdamW", dict(lr=1e-2, amsgrad=True)),
    ("RMSprop", dict(lr=1e-2)),
    ("RMSprop", dict(lr=1e-3, momentum=0.9, centered=True, weight_decay=1e-3)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=1e-3, weight_decay=1e-3, initial_accumulator_value=0.1)),
]
CURVE_RTOL = {ember.float32: 1e-4, ember.float64: 1e-9}


def _models(dtype, act="Tanh", sizes=(5, 16, 8, 3)):
    layers_e, layers_t = [], []
    for i in range(len(sizes) - 1):
        layers_e.append(nn.Linear(sizes[i], sizes[i + 1]))
        layers_t.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers_e.append(getattr(nn, act)())
            layers_t.append(getattr(torch.nn, act)())
    em, tm = nn.Sequential(*layers_e), torch.nn.Sequential(*layers_t)
    if dtype == ember.float64:
        em, tm = em.double(), tm.double()
    with torch.no_grad():
        for tp, ep in zip(tm.parameters(), em.parameters()):
            tp.copy_(torch.from_numpy(np.array(ep.detach())))
    return em, tm


def _batches(dtype, n_steps=50, batch=7, n_in=5, n_classes=3, regression=False):
    rng = np.random.default_rng(1)
    npdt = np.float32 if dtype == ember.float32 else np.float64
    teacher = rng.standard_normal((n_in, n_classes))  # a learnable target: a fixed linear map of x
    out = []
    for _ in range(n_steps):
        x = rng.standard_normal((batch, n_in)).astype(npdt)
        y = (x @ teacher).astype(npdt) if regression else np.argmax(x @ teacher, axis=1)
        out.append((x, y))
    return out


def _train(model, opt, loss_fn, batches, lib, extra=None):
    losses = []
    for x, y in batches:
        xb, yb = (ember.from_numpy(x), ember.from_numpy(np.asarray(y))) if lib is ember else \
                 (torch.from_numpy(x), torch.from_numpy(np.asarray(y)))
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        if extra:
            extra(model)
        opt.step()
        losses.append(loss.item())
    return np.array(losses)


def _check_curves(ours, theirs, dtype):
    assert np.all(np.isfinite(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=CURVE_RTOL[dtype], atol=CURVE_RTOL[dtype] * 1e-2)
    assert theirs[-10:].mean() < theirs[:10].mean(), "the reference run should learn, else the test proves little"


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,options", OPTIMIZERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZERS)])
def test_optimizer_follows_pytorch_loss_curve(name, options, dtype):
    ember.manual_seed(0)
    em, tm = _models(dtype)
    batches = _batches(dtype)
    ours = _train(em, getattr(ember.optim, name)(em.parameters(), **options), nn.CrossEntropyLoss(), batches, ember)
    theirs = _train(tm, getattr(torch.optim, name)(tm.parameters(), **options), torch.nn.CrossEntropyLoss(),
                    batches, torch)
    _check_curves(ours, theirs, dtype)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
def test_mse_relu_with_clipping_and_scheduler_follows_pytorch(dtype):
    ember.manual_seed(1)
    em, tm = _models(dtype, act="ReLU")
    batches = _batches(dtype, regression=True)
    eo = ember.optim.SGD(em.parameters(), lr=0.05, momentum=0.9)
    to = torch.optim.SGD(tm.parameters(), lr=0.05, momentum=0.9)
    es = ember.optim.lr_scheduler.StepLR(eo, step_size=10, gamma=0.5)
    ts = torch.optim.lr_scheduler.StepLR(to, step_size=10, gamma=0.5)

    def train(model, opt, sched, loss_fn, lib, clip):
        losses = []
        for x, y in batches:
            xb, yb = (lib.from_numpy(x), lib.from_numpy(y))
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            clip(model.parameters(), 0.5)
            opt.step()
            sched.step()
            losses.append(loss.item())
        return np.array(losses)

    ours = train(em, eo, es, nn.MSELoss(), ember, nn.utils.clip_grad_norm_)
    theirs = train(tm, to, ts, torch.nn.MSELoss(), torch, torch.nn.utils.clip_grad_norm_)
    _check_curves(ours, theirs, dtype)


def test_l1_penalty_training_follows_pytorch():
    dtype = ember.float64
    ember.manual_seed(2)
    em, tm = _models(dtype)
    batches = _batches(dtype)
    eo = ember.optim.SGD(em.parameters(), lr=0.05)
    to = torch.optim.SGD(tm.parameters(), lr=0.05)
    ours, theirs = [], []
    for x, y in batches:
        eo.zero_grad()
        loss = nn.CrossEntropyLoss()(em(ember.from_numpy(x)), ember.from_numpy(y)) + \
            1e-3 * nn.utils.l1_penalty(em.parameters())
        loss.backward()
        eo.step()
        ours.append(loss.item())
        to.zero_grad()
        tloss = torch.nn.CrossEntropyLoss()(tm(torch.from_numpy(x)), torch.from_numpy(y)) + \
            1e-3 * sum(p.abs().sum() for p in tm.parameters())
        tloss.backward()
        to.step()
        theirs.append(tloss.item())
    _check_curves(np.array(ours), np.array(theirs), dtype)


def _resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_full_stack_training_memory_stays_flat():
    """2,000 steps through Module, DataLoader, CrossEntropyLoss, clipping, Adam and a scheduler leave
    the resident memory flat once warm (graphs, saved tensors and batches are all released)."""
    ember.manual_seed(0)
    x = ember.randn(256, 12)
    y = (x[:, :3].sum(dim=1) > 0).long()
    loader = ember.data.DataLoader(ember.data.TensorDataset(x, y), batch_size=32, shuffle=True)
    model = nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 2))
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=50, gamma=0.9)
    loss_fn = nn.CrossEntropyLoss()
    step, warm = 0, None
    while step < 2000:
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            if step == 300:
                warm = _resident_bytes()
        sched.step()
    grown = _resident_bytes() - warm
    assert loss.item() < 0.5, f"the model did not train: final loss {loss.item()}"
    assert grown < 4 * 2 ** 20, f"resident memory grew by {grown / 2 ** 20:.1f} MiB over 1700 steps"

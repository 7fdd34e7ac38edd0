"""Convolutional networks trained in ember and in PyTorch from the same weights and batches follow the same
loss curve (20 steps), and BatchNorm's running statistics end equal."""
import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")
CURVE_RTOL = {ember.float32: 1e-4, ember.float64: 1e-9}


def _lenet(lib):
    n = lib.nn
    return n.Sequential(n.Conv2d(1, 6, 5, padding=2), n.ReLU(), n.MaxPool2d(2), n.Conv2d(6, 16, 5), n.ReLU(),
                        n.MaxPool2d(2), n.Flatten(), n.Linear(16 * 5 * 5, 120), n.ReLU(), n.Linear(120, 84), n.ReLU(),
                        n.Linear(84, 10))


def _bn_net(lib):
    # Convolutions feeding BatchNorm have no bias (as usual): BatchNorm removes it, so its gradient is only
    # rounding noise, which Adam would amplify into different (harmless) bias paths in the two libraries.
    n = lib.nn
    return n.Sequential(n.Conv2d(3, 8, 3, padding=1, bias=False), n.BatchNorm2d(8), n.ReLU(),
                        n.AvgPool2d(2), n.Conv2d(8, 12, 3, stride=2, padding="valid", groups=4, bias=False), n.BatchNorm2d(12),
                        n.ReLU(), n.AdaptiveAvgPool2d(1), n.Flatten(), n.Linear(12, 5))


def _pair(build, dtype):
    ember.manual_seed(0)
    em, tm = build(ember), build(torch)
    if dtype == ember.float64:
        em, tm = em.double(), tm.double()
    with torch.no_grad():
        for tp, ep in zip(tm.parameters(), em.parameters()):
            assert tuple(tp.shape) == ep.shape
            tp.copy_(torch.from_numpy(np.array(ep.detach())))
    return em, tm


def _batches(dtype, shape, classes, steps=20, batch=8):
    rng = np.random.default_rng(3)
    npdt = np.float32 if dtype == ember.float32 else np.float64
    return [(rng.standard_normal((batch,) + shape).astype(npdt), rng.integers(0, classes, batch)) for _ in range(steps)]


def _train(lib, model, opt, batches):
    losses = []
    loss_fn = lib.nn.CrossEntropyLoss()
    for x, y in batches:
        opt.zero_grad()
        loss = loss_fn(model(lib.from_numpy(x)), lib.from_numpy(y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
def test_lenet_follows_pytorch_loss_curve(dtype):
    em, tm = _pair(_lenet, dtype)
    batches = _batches(dtype, (1, 28, 28), 10)
    ours = _train(ember, em, ember.optim.SGD(em.parameters(), lr=0.05, momentum=0.9), batches)
    theirs = _train(torch, tm, torch.optim.SGD(tm.parameters(), lr=0.05, momentum=0.9), batches)
    np.testing.assert_allclose(ours, theirs, rtol=CURVE_RTOL[dtype])


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
def test_batchnorm_cnn_follows_pytorch_and_running_stats_match(dtype):
    em, tm = _pair(_bn_net, dtype)
    batches = _batches(dtype, (3, 15, 15), 5)
    ours = _train(ember, em, ember.optim.Adam(em.parameters(), lr=1e-2), batches)
    theirs = _train(torch, tm, torch.optim.Adam(tm.parameters(), lr=1e-2), batches)
    np.testing.assert_allclose(ours, theirs, rtol=CURVE_RTOL[dtype])
    ours_state, theirs_state = em.state_dict(), tm.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key in theirs_state:
        if "running" in key:
            np.testing.assert_allclose(np.array(ours_state[key]), theirs_state[key].numpy(),
                                       rtol=CURVE_RTOL[dtype], err_msg=key)
        elif "num_batches_tracked" in key:
            assert int(ours_state[key].item()) == int(theirs_state[key].item()) == len(batches)
    em.eval()
    tm.eval()
    x = batches[0][0]
    np.testing.assert_allclose(np.array(em(ember.from_numpy(x)).detach()), tm(torch.from_numpy(x)).detach().numpy(),
                               rtol=CURVE_RTOL[dtype] * 10, atol=CURVE_RTOL[dtype] * 1e-2)

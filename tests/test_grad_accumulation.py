"""loss.backward() into existing .grad: the linear layers add their weight gradient straight into the
weight's .grad (the GEMM accumulates, no temporary). Every case must give what summing separately
computed gradients gives, and the cases where that shortcut must not be taken (a weight used twice,
a non-contiguous .grad, autograd.grad) must still be right."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.keras import layers


def _grads(model):
    return [p.grad.numpy().astype(np.float64).copy() for p in model.parameters()]


def _model(dtype=ember.float32):
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(9, 16), nn.ReLU(), nn.Linear(16, 12), nn.Linear(12, 3)).to(dtype)


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_micro_batches_accumulate_in_place(dtype):
    rng = np.random.default_rng(0)
    np_dtype = np.float32 if dtype == ember.float32 else np.float64
    batches = [rng.standard_normal((n, 9)).astype(np_dtype) for n in (5, 300, 7)]  # 300: several k blocks
    model = _model(dtype)
    # reference: each micro-batch's gradients on their own, summed in float64
    expected = None
    for x in batches:
        model.zero_grad()
        (model(ember.from_numpy(x)) ** 2).mean().backward()
        g = _grads(model)
        expected = g if expected is None else [a + b for a, b in zip(expected, g)]
    model.zero_grad()
    pointers = None
    for x in batches:
        (model(ember.from_numpy(x)) ** 2).mean().backward()
        if pointers is None:
            pointers = [p.grad.data_ptr() for p in model.parameters()]
    assert [p.grad.data_ptr() for p in model.parameters()] == pointers  # accumulated in place
    eps = np.finfo(np_dtype).eps
    for got, want in zip(_grads(model), expected):
        np.testing.assert_allclose(got, want, rtol=300 * eps, atol=300 * eps * np.abs(want).max())


def test_shared_weight_and_retain_graph():
    ember.manual_seed(1)
    layer = nn.Linear(4, 4)
    x = ember.randn(6, 4)
    layer(layer(x)).sum().backward()
    once = layer.weight.grad.numpy().copy()
    # the weight reaches this graph by two edges: summed by the pass, then added to .grad
    layer(layer(x)).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), 2 * once, rtol=1e-6, atol=1e-6)
    layer.zero_grad()
    y = layer(x).sum()
    y.backward(retain_graph=True)
    first = layer.weight.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), 2 * first, rtol=1e-6, atol=1e-6)


def test_autograd_grad_and_foreign_grads_untouched():
    ember.manual_seed(2)
    layer = nn.Linear(3, 2)
    x = ember.randn(5, 3)
    layer(x).sum().backward()
    before = layer.weight.grad.numpy().copy()
    (gw,) = ember.autograd.grad(layer(x).sum(), [layer.weight])
    assert np.array_equal(layer.weight.grad.numpy(), before)
    np.testing.assert_allclose(gw.numpy(), before, rtol=1e-6)
    # a non-contiguous .grad is added to, not written through as if contiguous
    layer.weight.grad = ember.from_numpy(before.T.copy()).mT
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), 2 * before, rtol=1e-6)
    # a .grad that is dropped between passes is rebuilt fresh
    layer.weight.grad = None
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), before, rtol=1e-6)


def test_keras_dense_accumulates():
    layer = layers.Dense(5, activation="relu")
    x = ember.from_numpy(np.random.default_rng(3).standard_normal((8, 6)).astype(np.float32))
    layer(x).sum().backward()
    once = layer.kernel.grad.numpy().copy()
    pointer = layer.kernel.grad.data_ptr()
    layer(x).sum().backward()
    assert layer.kernel.grad.data_ptr() == pointer
    np.testing.assert_allclose(layer.kernel.grad.numpy(), 2 * once, rtol=1e-6, atol=1e-7)


def test_matches_torch_gradient_accumulation():
    torch = pytest.importorskip("torch")
    model = _model()
    tmodel = torch.nn.Sequential(torch.nn.Linear(9, 16), torch.nn.ReLU(), torch.nn.Linear(16, 12),
                                 torch.nn.Linear(12, 3))
    with torch.no_grad():
        for tp, ep in zip(tmodel.parameters(), model.parameters()):
            tp.copy_(torch.from_numpy(ep.detach().numpy()))
    rng = np.random.default_rng(4)
    for n in (4, 33, 9):
        x = rng.standard_normal((n, 9)).astype(np.float32)
        (model(ember.from_numpy(x)) ** 2).mean().backward()
        (tmodel(torch.from_numpy(x)) ** 2).mean().backward()
    for ep, tp in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=2e-5, atol=2e-6)

"""nn.Sequential runs a Linear followed by ReLU, Tanh or Sigmoid as one fused node. The fusion must
be invisible: the same outputs and gradients to the bit as the modules one by one, and never when a
hook or a replaced forward would see (or change) the intermediate result."""
import numpy as np
import pytest

import ember
from ember import nn
import ember.nn.container as container

ACTIVATIONS = [nn.ReLU, nn.Tanh, nn.Sigmoid]


def _run(model, x, fused):
    saved = container._FUSABLE
    if not fused:
        container._FUSABLE = {}
    try:
        model.zero_grad()
        xe = ember.from_numpy(x.copy()).requires_grad_()
        out = model(xe)
        out.sum().backward()
        grads = [p.grad.numpy().copy() for p in model.parameters()]
        return out.detach().numpy().copy(), xe.grad.numpy().copy(), grads, out.grad_fn
    finally:
        container._FUSABLE = saved


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_fused_sequential_matches_module_by_module(act, dtype):
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(13, 33), act(), nn.Linear(33, 7), act(), nn.Linear(7, 3)).to(dtype)
    x = np.random.default_rng(1).standard_normal((2, 5, 13)).astype(np.float64 if dtype == ember.float64
                                                                    else np.float32)
    out_f, gx_f, grads_f, fn_f = _run(model, x, fused=True)
    out_u, gx_u, grads_u, fn_u = _run(model, x, fused=False)
    assert type(fn_u).__name__ == "Linear"
    assert np.array_equal(out_f, out_u) and np.array_equal(gx_f, gx_u)
    for a, b in zip(grads_f, grads_u):
        assert np.array_equal(a, b)
    # the fused node really ran: the second Linear's input came from one
    assert type(fn_f._edges[0]).__name__ == "Linear" + act.__name__.capitalize()


def test_fused_node_types():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    y = model(ember.randn(2, 3))
    assert type(y.grad_fn).__name__ == "LinearRelu"
    with ember.no_grad():
        assert model(ember.randn(2, 3)).grad_fn is None


def test_inplace_relu_and_trailing_linear():
    ember.manual_seed(3)
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(inplace=True), nn.Linear(6, 2))
    x = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    fused, unfused = _run(model, x, True), _run(model, x, False)
    assert np.array_equal(fused[0], unfused[0]) and np.array_equal(fused[1], unfused[1])


def test_hooks_and_replaced_forward_disable_fusion():
    ember.manual_seed(4)
    lin, act = nn.Linear(3, 4), nn.ReLU()
    model = nn.Sequential(lin, act)
    x = ember.randn(2, 3)
    seen = []
    handle = lin.register_forward_hook(lambda m, i, o: seen.append(o.detach().numpy().copy()))
    y = model(x)
    handle.remove()
    assert len(seen) == 1 and np.array_equal(np.maximum(seen[0], 0), y.detach().numpy())
    # a hook on the activation that changes its output is honoured
    handle = act.register_forward_hook(lambda m, i, o: o * 0 + 7)
    assert np.all(model(x).detach().numpy() == 7)
    handle.remove()
    handle = act.register_forward_pre_hook(lambda m, args: (args[0] * 0 - 1,))
    assert np.all(model(x).detach().numpy() == 0)
    handle.remove()
    # a forward replaced on the instance is called
    act.forward = lambda inp: inp * 2
    assert np.allclose(model(x).detach().numpy(), 2 * lin(x).detach().numpy())
    del act.forward
    assert type(model(x).grad_fn).__name__ == "LinearRelu"


def test_subclasses_are_not_fused():
    class MyReLU(nn.ReLU):
        def forward(self, input):
            return super().forward(input) + 1

    model = nn.Sequential(nn.Linear(3, 4), MyReLU())
    x = ember.randn(2, 3)
    assert np.allclose(model(x).detach().numpy(), np.maximum(model[0](x).detach().numpy(), 0) + 1)


def test_fused_errors_name_the_linear_layer():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    with pytest.raises(ValueError, match=r"linear: input has 5 features \(shape \(2, 5\)\) but weight expects 3"):
        model(ember.zeros(2, 5))


@pytest.mark.parametrize("pool", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                  dict(kernel_size=2, stride=1, dilation=2), dict(kernel_size=3, ceil_mode=True)])
@pytest.mark.parametrize("inplace", [False, True])
def test_relu_then_maxpool_matches_module_by_module(pool, inplace):
    ember.manual_seed(5)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(inplace=inplace), nn.MaxPool2d(**pool), nn.Flatten(),
                          nn.Linear(3 * _pooled(7, pool) ** 2, 2))
    x = np.random.default_rng(6).standard_normal((2, 2, 9, 9)).astype(np.float32)
    x[0, :, :4, :4] = -1.0  # whole windows of negatives: ties at zero after the relu
    relu_shapes = []
    real_relu = container._relu
    container._relu = lambda t: relu_shapes.append(t.shape) or real_relu(t)
    try:
        out_f, gx_f, grads_f, _ = _run(model, x, fused=True)
    finally:
        container._relu = real_relu
    assert relu_shapes == [(2, 3, _pooled(7, pool), _pooled(7, pool))]  # the relu ran after the pooling
    saved = container._CLASS_FORWARDS
    container._CLASS_FORWARDS = {}  # nothing counts as plain: every module runs on its own
    try:
        out_u, gx_u, grads_u, _ = _run(model, x, fused=True)
    finally:
        container._CLASS_FORWARDS = saved
    assert np.array_equal(out_f, out_u) and np.array_equal(gx_f, gx_u)
    for a, b in zip(grads_f, grads_u):
        assert np.array_equal(a, b)


def _pooled(size, pool):
    k, s = pool["kernel_size"], pool.get("stride", pool["kernel_size"])
    p, d = pool.get("padding", 0), pool.get("dilation", 1)
    span = size + 2 * p - d * (k - 1) - 1
    return (-(-span // s) if pool.get("ceil_mode") else span // s) + 1


def test_relu_maxpool_with_indices_or_hooks_runs_as_written():
    ember.manual_seed(7)
    relu, pool = nn.ReLU(), nn.MaxPool2d(2, return_indices=True)
    x = ember.randn(1, 1, 4, 4)
    out, idx = nn.Sequential(relu, pool)(x)
    ref_out, ref_idx = pool(relu(x))
    assert np.array_equal(out.numpy(), ref_out.numpy()) and np.array_equal(idx.numpy(), ref_idx.numpy())
    seen = []
    relu.register_forward_hook(lambda m, i, o: seen.append(o.shape))
    nn.Sequential(relu, nn.MaxPool2d(2))(x)
    assert seen == [(1, 1, 4, 4)]

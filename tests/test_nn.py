"""ember.nn.Module, Parameter and the containers: registration, traversal order and names, repr,
state_dict round trips with PyTorch, train/eval, hooks, conversion, copying."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn
from conftest import TOL, cuda


def _ops_differentiable():
    return ember.ones(1).requires_grad_().relu().requires_grad


needs_autograd = pytest.mark.skipif(not _ops_differentiable(),
                                    reason="needs differentiable tensor ops (relu, matmul, add, ...), not on this "
                                           "build yet")


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def build_net(nn, ones):
    """The same nested structure in ember.nn or torch.nn: every container, a buffer, a non-persistent
    buffer, a loose parameter and a weight shared by two modules."""

    class Block(nn.Module):
        def __init__(self, width):
            super().__init__()
            self.fc = nn.Linear(width, width)
            self.act = nn.ReLU()
            self.register_buffer("scale", ones(width))
            self.register_buffer("scratch", ones(2), persistent=False)

        def forward(self, x):
            return self.act(self.fc(x)) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(3, 4)
            self.blocks = nn.ModuleList([Block(4), Block(4)])
            self.heads = nn.ModuleDict({"cls": nn.Linear(4, 2), "reg": nn.Linear(4, 1, bias=False)})
            self.tail = nn.Sequential(OrderedDict([("drop", nn.Dropout(0.25)), ("out", nn.Linear(4, 4))]))
            self.tail.out.weight = self.blocks[0].fc.weight  # tied
            self.temperature = nn.Parameter(ones(1))
            self.extras = nn.ParameterList([nn.Parameter(ones(2, 2)), nn.Parameter(ones(3))])

        def forward(self, x):
            h = self.embed(x)
            for block in self.blocks:
                h = block(h)
            h = self.tail(h)
            return self.heads["cls"](h) * self.temperature

    return Net()


@pytest.fixture
def pair(torch):
    return build_net(nn, ember.ones), build_net(torch.nn, torch.ones)


def names(pairs):
    return [n for n, _ in pairs]


# ---- Parameter ------------------------------------------------------------------------------------------

def test_nn_is_imported_with_ember():
    assert ember.nn is nn and "nn" in ember.__all__ and set(nn.__all__) <= set(dir(nn))


def test_parameter_is_a_marked_alias():
    data = ember.ones(2, 3)
    p = nn.Parameter(data)
    assert type(p) is ember.Tensor and isinstance(p, nn.Parameter) and isinstance(p, ember.Tensor)
    assert not isinstance(data, nn.Parameter) and not isinstance(p.detach(), nn.Parameter)
    assert p.requires_grad and p.is_leaf and not data.requires_grad
    assert p._shares_storage(data)
    assert repr(p).startswith("Parameter containing:\ntensor(") and str(p).startswith("Parameter containing:")
    assert not repr(data).startswith("Parameter")
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)


def test_parameter_errors():
    with pytest.raises(TypeError, match="must be an ember.Tensor"):
        nn.Parameter(np.ones(3))
    with pytest.raises(RuntimeError, match="only floating-point"):
        nn.Parameter(ember.arange(3))
    assert not nn.Parameter(ember.arange(3), requires_grad=False).requires_grad


def test_parameter_pickle_and_deepcopy_keep_the_mark():
    p = nn.Parameter(ember.randn(3), requires_grad=False)
    for q in (pickle.loads(pickle.dumps(p)), copy.deepcopy(p)):
        assert isinstance(q, nn.Parameter) and not q.requires_grad and not q._shares_storage(p)
        np.testing.assert_array_equal(q.numpy(), p.numpy())


# ---- registration ------------------------------------------------------------------------------------------

class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.b = nn.Parameter(ember.zeros(2))
        self.child = nn.Linear(2, 2)
        self.a = nn.Parameter(ember.zeros(1))
        self.register_buffer("running", ember.zeros(2))
        self.note = "plain attribute"


def test_registration_order_and_kinds():
    m = Plain()
    assert list(m._parameters) == ["b", "a"] and list(m._modules) == ["child"] and list(m._buffers) == ["running"]
    assert names(m.named_parameters()) == ["b", "a", "child.weight", "child.bias"]
    assert names(m.named_parameters(recurse=False)) == ["b", "a"]
    assert names(m.named_parameters(prefix="net")) == ["net.b", "net.a", "net.child.weight", "net.child.bias"]
    assert [p is q for p, q in zip(m.parameters(), [m.b, m.a, m.child.weight, m.child.bias])] == [True] * 4
    assert names(m.named_buffers()) == ["running"] and list(m.buffers())[0] is m.running
    assert names(m.named_modules()) == ["", "child"] and list(m.children()) == [m.child]
    assert m.note == "plain attribute" and "note" not in m._parameters
    assert {"a", "b", "child", "running", "forward"} <= set(dir(m))


def test_reassignment_moves_between_registries():
    m = Plain()
    m.b = None  # a parameter slot can hold None: skipped by traversals and state_dict
    assert "b" in m._parameters and names(m.named_parameters(recurse=False)) == ["a"]
    m.child = nn.Parameter(ember.zeros(3))  # a parameter replaces a submodule of the same name
    assert "child" not in m._modules and m.child.shape == (3,)
    m.running = ember.ones(2)  # assigning a tensor to a buffer name updates the buffer
    assert m._buffers["running"] is m.running
    del m.a, m.running
    assert "a" not in m._parameters and "running" not in m._buffers
    with pytest.raises(AttributeError, match="'Plain' object has no attribute 'a'"):
        m.a


def test_registration_errors():
    m = Plain()
    with pytest.raises(TypeError, match=r"cannot assign 'ember.Tensor' as parameter 'a' \(ember.nn.Parameter"):
        m.a = ember.zeros(1)
    with pytest.raises(TypeError, match="cannot assign 'str' as child module 'child'"):
        m.child = "x"
    with pytest.raises(TypeError, match="cannot assign 'int' as buffer 'running'"):
        m.running = 3
    with pytest.raises(KeyError, match="cannot contain"):
        m.register_parameter("x.y", None)
    with pytest.raises(KeyError, match="cannot be the empty string"):
        m.register_buffer("", None)
    with pytest.raises(KeyError, match="attribute 'note' already exists"):
        m.register_buffer("note", ember.zeros(1))
    with pytest.raises(TypeError, match="to buffer 'np'"):
        m.register_buffer("np", np.zeros(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("bad", ember.zeros(1))
    with pytest.raises(TypeError, match="to parameter 'p'"):
        m.register_parameter("p", ember.zeros(1))

    class Forgot(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.zeros(1))
    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Forgot()
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_named_members_match_torch(pair):
    ours, theirs = pair
    assert names(ours.named_parameters()) == names(theirs.named_parameters())
    all_ours, all_theirs = ours.named_parameters(remove_duplicate=False), theirs.named_parameters(remove_duplicate=False)
    assert names(all_ours) == names(all_theirs)
    assert names(ours.named_buffers()) == names(theirs.named_buffers())
    assert names(ours.named_modules()) == names(theirs.named_modules())
    assert names(ours.named_children()) == names(theirs.named_children())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    shared = ours.blocks[0].fc.weight
    assert sum(p is shared for p in ours.parameters()) == 1


def test_repr_matches_torch(pair, torch):
    ours, theirs = pair
    assert repr(ours) == repr(theirs).replace("torch.", "ember.")
    mlp = lambda nn: nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2),  # noqa: E731
                                   nn.Sequential(nn.Linear(128, 64, bias=False), nn.ReLU(inplace=True)),
                                   nn.Linear(64, 10), nn.LogSoftmax(dim=1))
    assert repr(mlp(nn)) == repr(mlp(torch.nn))
    stack = lambda nn: nn.ModuleList([nn.Linear(2, 2)] * 3 + [nn.ReLU(), nn.Sequential(nn.Tanh())] * 2)  # noqa: E731
    assert repr(stack(nn)) == repr(stack(torch.nn))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList()) and repr(nn.Sequential()) == repr(torch.nn.Sequential())
    plist = lambda nn, t: nn.ParameterList([nn.Parameter(t.ones(2, 3)), nn.Parameter(t.ones(4))])  # noqa: E731
    assert repr(plist(nn, ember)) == repr(plist(torch.nn, torch)).replace("torch.", "ember.")


# ---- state_dict ---------------------------------------------------------------------------------------------

def test_state_dict_is_detached_and_ordered(pair):
    ours, _ = pair
    sd = ours.state_dict()
    assert isinstance(sd, OrderedDict)
    assert "blocks.0.scale" in sd and "blocks.0.scratch" not in sd  # non-persistent buffers stay out
    w = sd["embed.weight"]
    assert not w.requires_grad and not isinstance(w, nn.Parameter) and w._shares_storage(ours.embed.weight)
    kept = ours.state_dict(keep_vars=True)
    assert kept["embed.weight"] is ours.embed.weight
    assert list(ours.state_dict(prefix="m.")) == ["m." + k for k in sd]
    dest = {}
    assert ours.state_dict(dest) is dest and list(dest) == list(sd)


def _torch_mlp(torch):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3)).double()


def _mlp():
    return nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3)).double()


@pytest.mark.parametrize("via", ["numpy", "torch"])
def test_load_state_dict_from_torch_gives_identical_outputs(torch, via):
    theirs, ours = _torch_mlp(torch), _mlp()
    params_before = list(ours.parameters())
    sd = theirs.state_dict()
    if via == "numpy":
        sd = OrderedDict((k, v.numpy()) for k, v in sd.items())
    result = ours.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert all(p is q for p, q in zip(ours.parameters(), params_before))  # copied in place, identity kept
    x = np.random.default_rng(0).standard_normal((11, 5))
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    got = ours(ember.tensor(x))
    np.testing.assert_allclose(got.numpy(), expected, **TOL[ember.float64])
    # and back: our state_dict loads into torch through NumPy
    theirs.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in ours.state_dict().items()})


def test_load_state_dict_casts_into_float32_params(torch):
    theirs, ours = _torch_mlp(torch), nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))
    ours.load_state_dict(theirs.state_dict())  # float64 checkpoint, float32 model
    assert ours[0].weight.dtype == ember.float32
    x = np.random.default_rng(1).standard_normal((4, 5))
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    # float32 parameters and input against a float64 run: rounding of inputs and weights dominates
    np.testing.assert_allclose(ours(ember.tensor(x, dtype=ember.float32)).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_load_state_dict_strict_and_non_strict_reports():
    ours = _mlp()
    sd = ours.state_dict()
    sd.pop("2.bias")
    sd["2.extra"] = ember.zeros(1)
    sd["9.weight"] = ember.zeros(1)
    with pytest.raises(RuntimeError) as info:
        ours.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Sequential:\n\t")
    assert 'Missing key(s) in state_dict: "2.bias".' in msg
    # PyTorch's order: the root's unexpected keys first, then each child's
    assert 'Unexpected key(s) in state_dict: "9.weight", "2.extra".' in msg
    result = ours.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["9.weight", "2.extra"]


def test_load_state_dict_shape_mismatch_lists_every_problem():
    class Net(nn.Module):
        def __init__(self, n_in):
            super().__init__()
            self.fc = nn.Linear(n_in, 10)
            self.out = nn.Linear(10, n_in)

    sd = Net(5).state_dict()
    ours = Net(4)
    before = ours.fc.weight.numpy().copy()
    for strict in (True, False):
        with pytest.raises(RuntimeError) as info:
            ours.load_state_dict(sd, strict=strict)
        msg = str(info.value)
        assert ("size mismatch for fc.weight: copying a param with shape (10, 5) from checkpoint, the shape in "
                "current model is (10, 4).") in msg
        assert "size mismatch for out.weight: copying a param with shape (5, 10)" in msg
        assert "size mismatch for out.bias: copying a param with shape (5,)" in msg
    np.testing.assert_array_equal(ours.fc.weight.numpy(), before)
    with pytest.raises(RuntimeError, match='While copying the parameter named "fc.bias", expected'):
        Net(5).load_state_dict({**sd, "fc.bias": "oops"})
    with pytest.raises(TypeError, match="dict-like"):
        ours.load_state_dict([1, 2])


def test_load_state_dict_buffers_and_scalar_compat():
    m = nn.Module()
    m.register_buffer("count", ember.zeros((), dtype=ember.int64))
    m.register_buffer("tmp", ember.zeros(2), persistent=False)
    m.load_state_dict({"count": np.array([7])})  # a 1-element checkpoint for a 0-d buffer
    assert m.count.item() == 7 and m.count.dtype == ember.int64
    assert list(m.state_dict()) == ["count"]


# ---- modes, gradients, apply ----------------------------------------------------------------------------------

def test_train_eval_propagate(pair):
    ours, _ = pair
    assert ours.training and all(m.training for m in ours.modules())
    assert ours.eval() is ours
    assert not any(m.training for m in ours.modules())
    ours.blocks.train()
    assert ours.blocks[1].act.training and not ours.tail.training and not ours.training
    with pytest.raises(ValueError, match="expected to be a bool"):
        ours.train("yes")


def test_dropout_follows_the_mode():
    ember.manual_seed(0)
    drop = nn.Dropout(0.5)
    x = ember.ones(1000)
    y = drop(x).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 350 < (y == 0).sum() < 650
    drop.eval()
    assert drop(x) is x


def test_requires_grad_and_zero_grad():
    m = _mlp()
    assert m.requires_grad_(False) is m and not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    for p in m.parameters():
        p.grad = ember.ones(*p.shape, dtype=p.dtype)
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_apply_visits_children_first():
    m = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "ReLU", "Sequential", "Sequential"]


def test_get_submodule_parameter_buffer(pair):
    ours, _ = pair
    assert ours.get_submodule("blocks.1.fc") is ours.blocks[1].fc and ours.get_submodule("") is ours
    assert ours.get_parameter("heads.cls.bias") is ours.heads["cls"].bias
    assert ours.get_buffer("blocks.0.scale") is ours.blocks[0].scale
    with pytest.raises(AttributeError, match="has no submodule `nope`"):
        ours.get_submodule("blocks.nope")


# ---- conversion and copying ------------------------------------------------------------------------------------

def test_to_and_double_convert_floats_only():
    m = nn.Linear(3, 2)
    m.register_buffer("steps", ember.zeros(1, dtype=ember.int64))
    same = m.weight
    assert m.to(ember.float32) is m and m.weight is same and m.float().weight is same  # nothing to convert
    m.weight.grad = ember.ones(2, 3)
    m.double()
    assert m.weight.dtype == ember.float64 and m.bias.dtype == ember.float64 and m.steps.dtype == ember.int64
    assert isinstance(m.weight, nn.Parameter) and m.weight.requires_grad and m.weight.grad.dtype == ember.float64
    np.testing.assert_allclose(m.weight.numpy(), same.numpy())
    assert m.to("cpu", dtype=ember.float32).weight.dtype == ember.float32
    assert m.to(ember.zeros(1, dtype=ember.float64)).bias.dtype == ember.float64
    assert m.cpu() is m
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        m.to(ember.int64)


def test_conversion_keeps_shared_parameters_shared(pair):
    ours, _ = pair
    ours.double()
    assert ours.tail.out.weight is ours.blocks[0].fc.weight and ours.tail.out.weight.dtype == ember.float64
    assert ours.blocks[0].scale.dtype == ember.float64


def _record_hook(module, args, output):
    return output * 1.0


@cuda
def test_module_moves_to_cuda_and_back():
    m = nn.Sequential(nn.Linear(5, 3), nn.ReLU())
    m.register_buffer("steps", ember.arange(2))
    x = ember.randn(4, 5)
    expected = m(x).numpy()
    assert m.cuda() is m and all(t.is_cuda for t in list(m.parameters()) + list(m.buffers()))
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    np.testing.assert_allclose(m(x.cuda()).cpu().numpy(), expected, rtol=1e-5, atol=1e-6)  # GEMM order differs
    m.to("cpu")
    assert not any(t.is_cuda for t in m.state_dict().values())


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_copies_keep_structure_parameters_and_sharing(how):
    net = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5)))
    net[2][0].weight = net[0].weight
    net[1].register_buffer("steps", ember.arange(2))
    net[2].register_forward_hook(_record_hook)
    net.eval()
    clone = copy.deepcopy(net) if how == "deepcopy" else pickle.loads(pickle.dumps(net))
    assert repr(clone) == repr(net) and not clone[2][1].training
    for (n1, p1), (n2, p2) in zip(net.named_parameters(), clone.named_parameters()):
        assert n1 == n2 and isinstance(p2, nn.Parameter) and p2.requires_grad and not p2._shares_storage(p1)
        np.testing.assert_array_equal(p1.numpy(), p2.numpy())
    assert clone[2][0].weight is clone[0].weight and clone[1].steps.tolist() == [0, 1]
    assert len(clone[2]._forward_hooks) == 1
    x = ember.randn(2, 3)
    np.testing.assert_array_equal(clone(x).numpy(), net(x).numpy())


# ---- hooks ------------------------------------------------------------------------------------------------------

def test_forward_hooks_modify_and_remove():
    m = nn.Identity()
    order = []
    h_pre = m.register_forward_pre_hook(lambda mod, args: (order.append("pre"), args[0] * 2)[1])
    h_post = m.register_forward_hook(lambda mod, args, out: (order.append("post"), out + 1)[1])
    m.register_forward_pre_hook(lambda mod, args: order.append("first"), prepend=True)
    assert m(ember.tensor(3.0)).item() == 7.0 and order == ["first", "pre", "post"]
    h_pre.remove()
    h_post.remove()
    h_post.remove()  # removing twice is harmless
    assert m(ember.tensor(3.0)).item() == 3.0


def test_forward_hooks_with_kwargs_and_always_call():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            if factor < 0:
                raise ValueError("negative")
            return x * factor

    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": kwargs.get("factor", 1.0) * 10}),
                                with_kwargs=True)
    seen = []
    with m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs["factor"]), with_kwargs=True):
        assert m(ember.tensor(2.0), factor=3.0).item() == 60.0
    assert seen == [30.0] and not m._forward_hooks
    failures = []
    m.register_forward_hook(lambda mod, args, out: failures.append(out), always_call=True)
    with pytest.raises(ValueError, match="negative"):
        m(ember.tensor(1.0), factor=-1.0)
    assert failures == [None]


# ---- containers -------------------------------------------------------------------------------------------------

def test_sequential_indexing_and_editing():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    s = nn.Sequential(a, b, c)
    assert len(s) == 3 and list(s) == [a, b, c] and s[0] is a and s[-1] is c
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c] and list(sub._modules) == ["1", "2"]
    assert s(ember.ones(4, 2)).shape == (4, 1)
    t = nn.Identity()
    s.insert(1, t)
    assert list(s) == [a, t, b, c] and list(s._modules) == ["0", "1", "2", "3"]
    del s[1]
    assert list(s) == [a, b, c] and list(s._modules) == ["0", "1", "2"]
    s.append(t).extend([nn.Tanh()])
    assert len(s) == 5 and s.pop(-1).__class__ is nn.Tanh
    both = nn.Sequential(a) + nn.Sequential(b)
    assert list(both) == [a, b]
    s[0] = t
    assert s[0] is t
    named = nn.Sequential(OrderedDict([("enc", a), ("act", b)]))
    assert named.enc is a and names(named.named_parameters()) == ["enc.weight", "enc.bias"]
    with pytest.raises(IndexError, match="out of range"):
        s[10]
    with pytest.raises(ValueError, match="only objects of Sequential"):
        s + [a]


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(layers) == 3 and names(layers.named_parameters())[:2] == ["0.weight", "0.bias"]
    layers.append(nn.ReLU())
    layers.insert(0, nn.Tanh())
    assert [type(m).__name__ for m in layers] == ["Tanh", "Linear", "Linear", "Linear", "ReLU"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2", "3"]
    layers += [nn.Identity()]
    assert len(layers) == 5 and len(layers + nn.ModuleList([nn.ReLU()])) == 6
    with pytest.raises(TypeError, match="iterable"):
        layers.extend(nn.ReLU)
    d = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
    assert list(d) == ["b", "a"] and "a" in d and len(d) == 2
    d.update([("c", nn.Identity())])
    assert list(d.keys()) == ["b", "a", "c"] and d.pop("b").__class__ is nn.ReLU
    with pytest.raises(ValueError, match="has length 3"):
        d.update([("x", nn.ReLU(), 1)])


def test_parameter_list_and_dict():
    plist = nn.ParameterList([ember.zeros(2), nn.Parameter(ember.ones(3))])
    assert all(isinstance(p, nn.Parameter) for p in plist) and len(plist) == 2
    plist.append(ember.zeros(1))
    assert names(plist.named_parameters()) == ["0", "1", "2"] and plist[-1].shape == (1,)
    with pytest.raises(RuntimeError, match="should not be called"):
        plist(1)
    pdict = nn.ParameterDict({"w": ember.ones(2), "b": ember.zeros(1)})
    assert list(pdict) == ["b", "w"]  # a plain dict's keys are sorted, as in PyTorch
    assert isinstance(pdict["w"], nn.Parameter) and names(pdict.named_parameters()) == ["b", "w"]
    pdict["z"] = nn.Parameter(ember.ones(1))
    assert pdict.pop("b").shape == (1,) and list(pdict.keys()) == ["w", "z"]
    assert "Parameter containing: [ember.float32 of size 2]" in repr(pdict)
    with pytest.raises(TypeError, match="keys must be strings"):
        pdict[3] = ember.ones(1)


# ---- end to end with autograd -------------------------------------------------------------------------------------

@needs_autograd
def test_backward_gradients_match_torch(torch):
    theirs, ours = _torch_mlp(torch), _mlp()
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(2).standard_normal((6, 5))
    theirs(torch.from_numpy(x)).pow(2).sum().backward()
    out = ours(ember.tensor(x))
    (out * out).sum().backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert p.grad is not None, name
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())


def test_save_load_round_trip_of_state_dicts(tmp_path):
    model = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.ReLU(), ember.nn.Linear(4, 2))
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    model(ember.randn(5, 3)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.pt"
    ember.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    ckpt = ember.load(path, map_location="cpu")
    fresh = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.ReLU(), ember.nn.Linear(4, 2))
    fresh.load_state_dict(ckpt["model"])
    x = ember.randn(2, 3)
    assert (fresh(x) == model(x)).all().item()
    opt2 = ember.optim.Adam(fresh.parameters(), lr=1e-2)
    opt2.load_state_dict(ckpt["optimizer"])
    assert ckpt["epoch"] == 3 and opt2.state_dict()["param_groups"][0]["lr"] == 1e-2


def test_utils_data_is_ember_data():
    from ember.utils.data import DataLoader, TensorDataset
    assert DataLoader is ember.data.DataLoader and TensorDataset is ember.data.TensorDataset

"""Recurrent layers: RNN / LSTM / GRU and their cells against PyTorch (outputs, final states and every
gradient, for the same weights), the functional layer (ember._fn.rnn.rnn_layer) against a float64
NumPy reference for the activations and gate orders PyTorch lacks, gradcheck, PyTorch's constructor
arguments, init, state_dict names and repr, the error paths, and a small model trained in both."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember._fn.rnn import gru_cell, lstm_cell, rnn_cell, rnn_layer
from conftest import TOL, capabilities, noncontiguous, run_under_capability

RNG = np.random.default_rng(11)
# Gradients of a whole sequence pass through steps * layers products; float32 keeps a few ulps per
# product, so its results are compared a little looser than one op's.
SEQ_TOL = {ember.float32: dict(rtol=2e-4, atol=2e-5), ember.float64: dict(rtol=1e-10, atol=1e-12)}


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _np(t):
    return np.array(t.detach().cpu().numpy() if hasattr(t, "cpu") and not isinstance(t, ember.Tensor) else t,
                    dtype=np.float64)


def _e(t, dtype):
    return ember.tensor(t.detach().numpy().copy()).to(dtype)


def _twin(torch, cls, dtype, *args, **kwargs):
    """The same layer in PyTorch and ember, ember's weights loaded from PyTorch's state_dict."""
    tdtype = torch.float32 if dtype == ember.float32 else torch.float64
    tm = getattr(torch.nn, cls)(*args, **kwargs).to(tdtype)
    em = getattr(nn, cls)(*args, **kwargs, dtype=dtype)
    em.load_state_dict({k: _e(v, dtype) for k, v in tm.state_dict().items()})
    return tm, em


def _close(actual, expected, dtype):
    assert tuple(actual.shape) == tuple(expected.shape), f"{actual.shape} != {expected.shape}"
    np.testing.assert_allclose(_np(actual), _np(expected), **SEQ_TOL[dtype])


def _flat(out):
    return [out] if not isinstance(out, tuple) else [t for o in out for t in _flat(o)]


def _run_and_compare(torch, tm, em, x, hx, dtype):
    """Forward and backward of a loss weighting every output; compares outputs, states and grads."""
    tdtype = torch.float32 if dtype == ember.float32 else torch.float64
    xt = torch.tensor(x, dtype=tdtype, requires_grad=True)
    xe = ember.tensor(x).to(dtype).requires_grad_()
    hxt = hxe = None
    if hx is not None:
        hxt = tuple(torch.tensor(h, dtype=tdtype, requires_grad=True) for h in hx)
        hxe = tuple(ember.tensor(h).to(dtype).requires_grad_() for h in hx)
    ot = tm(xt, None if hxt is None else (hxt if len(hxt) == 2 else hxt[0]))
    oe = em(xe, None if hxe is None else (hxe if len(hxe) == 2 else hxe[0]))
    ft, fe = _flat(ot), _flat(oe)
    assert len(ft) == len(fe)
    for a, b in zip(fe, ft):
        _close(a, b, dtype)
    seeds = [RNG.standard_normal(tuple(t.shape)) for t in ft]
    sum((t * torch.tensor(s, dtype=tdtype)).sum() for t, s in zip(ft, seeds)).backward()
    sum((t * ember.tensor(s).to(dtype)).sum() for t, s in zip(fe, seeds)).backward()
    _close(xe.grad, xt.grad, dtype)
    for name, p in tm.named_parameters():
        _close(getattr(em, name).grad, p.grad, dtype)
    if hx is not None:
        for a, b in zip(hxe, hxt):
            _close(a.grad, b.grad, dtype)


# ---- layers against PyTorch ---------------------------------------------------------------------------

@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
def test_layers_match_torch(torch, cls, batch_first, bidirectional, dtype):
    tm, em = _twin(torch, cls, dtype, 5, 7, num_layers=2, batch_first=batch_first, bidirectional=bidirectional)
    x = RNG.standard_normal((3, 4, 5) if batch_first else (4, 3, 5))
    _run_and_compare(torch, tm, em, x, None, dtype)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
def test_initial_states_and_their_gradients(torch, cls):
    tm, em = _twin(torch, cls, ember.float64, 3, 6, num_layers=3, bidirectional=True)
    x = RNG.standard_normal((5, 2, 3))
    hx = tuple(RNG.standard_normal((6, 2, 6)) for _ in range(2 if cls == "LSTM" else 1))
    _run_and_compare(torch, tm, em, x, hx, ember.float64)


@pytest.mark.parametrize("kwargs", [dict(nonlinearity="relu"), dict(bias=False), dict(nonlinearity="relu", bias=False,
                                                                                          batch_first=True)])
def test_rnn_options(torch, kwargs):
    tm, em = _twin(torch, "RNN", ember.float64, 4, 9, 2, **kwargs)
    x = RNG.standard_normal((6, 3, 4))
    _run_and_compare(torch, tm, em, x, (RNG.standard_normal((2, 6 if kwargs.get("batch_first") else 3, 9)),),
                     ember.float64)


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_no_bias_and_odd_sizes(torch, cls):
    tm, em = _twin(torch, cls, ember.float32, 33, 17, num_layers=2, bias=False)
    assert list(em.state_dict()) == list(tm.state_dict())
    _run_and_compare(torch, tm, em, RNG.standard_normal((9, 1, 33)), None, ember.float32)


@pytest.mark.parametrize("cls", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input(torch, cls, batch_first):
    tm, em = _twin(torch, cls, ember.float64, 4, 5, num_layers=2, bidirectional=True, batch_first=batch_first)
    x = RNG.standard_normal((6, 4))
    _run_and_compare(torch, tm, em, x, None, ember.float64)
    hx = tuple(RNG.standard_normal((4, 5)) for _ in range(2 if cls == "LSTM" else 1))
    _run_and_compare(torch, tm, em, x, hx, ember.float64)


def test_threaded_batch_matches_torch_and_one_thread(torch):
    """Batches large enough to be split over threads: the same results as PyTorch, and states bit-identical
    to a one-thread run (each row is computed in the same order whichever thread takes it)."""
    tm, em = _twin(torch, "LSTM", ember.float32, 24, 64, num_layers=2)
    x = RNG.standard_normal((7, 40, 24))
    _run_and_compare(torch, tm, em, x, None, ember.float32)
    threads = ember.get_num_threads()
    xe = ember.tensor(x).float()
    with ember.no_grad():
        many = em(xe)[0].numpy().copy()
        ember.set_num_threads(1)
        try:
            one = em(xe)[0].numpy().copy()
        finally:
            ember.set_num_threads(threads)
    np.testing.assert_array_equal(many, one)


def test_empty_batch(torch):
    em = nn.GRU(3, 4, 2, bidirectional=True)
    out, h = em(ember.zeros(5, 0, 3))
    assert out.shape == (5, 0, 8) and h.shape == (4, 0, 4)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("batch,n_in,hidden", [(0, 4, 5), (2, 0, 5), (2, 4, 0)])
def test_size_zero_dims_forward_and_backward(cell, batch, n_in, hidden):
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    x = ember.randn(3, batch, n_in).requires_grad_()
    w_ih = ember.randn(gates * hidden, n_in).requires_grad_()
    w_hh = ember.randn(gates * hidden, hidden).requires_grad_()
    b = ember.randn(gates * hidden).requires_grad_()
    out, h, c = rnn_layer(cell, x, w_ih, w_hh, b, b)
    assert out.shape == (3, batch, hidden) and h.shape == (batch, hidden)
    (out.sum() + h.sum()).backward()
    assert x.grad.shape == x.shape and w_hh.grad.shape == w_hh.shape and b.grad.shape == b.shape
    if batch == 0 or hidden == 0:
        assert not np.any(w_hh.grad.numpy())


# ---- cells ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls,kwargs", [("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu")), ("LSTMCell", {}),
                                        ("GRUCell", {}), ("GRUCell", dict(bias=False))])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cells_match_torch(torch, cls, kwargs, batched, with_state):
    tm, em = _twin(torch, cls, ember.float64, 5, 6, **kwargs)
    lead = (3,) if batched else ()
    x = RNG.standard_normal(lead + (5,))
    n_states = 2 if cls == "LSTMCell" else 1
    states = [RNG.standard_normal(lead + (6,)) for _ in range(n_states)] if with_state else None
    xt = torch.tensor(x, requires_grad=True)
    xe = ember.tensor(x).requires_grad_()
    st = [torch.tensor(s, requires_grad=True) for s in states] if states else None
    se = [ember.tensor(s).requires_grad_() for s in states] if states else None
    ot = tm(xt, None if st is None else (tuple(st) if n_states == 2 else st[0]))
    oe = em(xe, None if se is None else (tuple(se) if n_states == 2 else se[0]))
    ft, fe = _flat(ot), _flat(oe)
    for a, b in zip(fe, ft):
        _close(a, b, ember.float64)
    seeds = [RNG.standard_normal(tuple(t.shape)) for t in ft]
    sum((t * torch.tensor(s)).sum() for t, s in zip(ft, seeds)).backward()
    sum((t * ember.tensor(s)).sum() for t, s in zip(fe, seeds)).backward()
    _close(xe.grad, xt.grad, ember.float64)
    for name, p in tm.named_parameters():
        _close(getattr(em, name).grad, p.grad, ember.float64)
    for a, b in zip(se or [], st or []):
        _close(a.grad, b.grad, ember.float64)


def test_functional_cells_match_modules():
    x, h, c = (ember.tensor(RNG.standard_normal(s)) for s in [(2, 3), (2, 4), (2, 4)])
    lstm, gru = nn.LSTMCell(3, 4).double(), nn.GRUCell(3, 4).double()
    rnn = nn.RNNCell(3, 4, nonlinearity="relu").double()
    p = lambda m: (m.weight_ih, m.weight_hh, m.bias_ih, m.bias_hh)  # noqa: E731
    for a, b in zip(lstm_cell(x, h, c, *p(lstm)), lstm(x, (h, c))):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    np.testing.assert_array_equal(gru_cell(x, h, *p(gru)).detach().numpy(), gru(x, h).detach().numpy())
    np.testing.assert_array_equal(rnn_cell(x, h, *p(rnn), nonlinearity="relu").detach().numpy(),
                                  rnn(x, h).detach().numpy())


# ---- the functional layer: activations and gate orders beyond PyTorch's -----------------------------------

def _act(name, x):
    return {"tanh": np.tanh, "sigmoid": lambda v: 0.5 + 0.5 * np.tanh(v / 2), "relu": lambda v: np.maximum(v, 0),
            "hard_sigmoid": lambda v: np.clip(v + 3, 0, 6) / 6, "linear": lambda v: v}[name](x)


def _reference_layer(cell, x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse, act, rec, order, mask=None):
    """float64 NumPy loop over the cell equations of ember/_fn/rnn.py; where mask (T, B) is False the
    state is carried over."""
    steps, hidden = x.shape[0], w_hh.shape[1]
    block = lambda a, q: a[..., order[q] * hidden:(order[q] + 1) * hidden]  # noqa: E731
    h, c, outs = h0, c0, [None] * steps
    for t in (range(steps - 1, -1, -1) if reverse else range(steps)):
        xp, hp = x[t] @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        h_old, c_old = h, c
        if cell == "rnn":
            h = _act(act, xp + hp)
        elif cell == "lstm":
            i, f, g, o = (_act(act if q == 2 else rec, block(xp, q) + block(hp, q)) for q in range(4))
            c = f * c + i * g
            h = o * _act(act, c)
        else:
            r, z = (_act(rec, block(xp, q) + block(hp, q)) for q in range(2))
            n = _act(act, block(xp, 2) + r * block(hp, 2))
            h = (1 - z) * n + z * h
        if mask is not None:
            keep = mask[t][:, None]
            h = np.where(keep, h, h_old)
            c = None if c is None else np.where(keep, c, c_old)
        outs[t] = h
    return np.stack(outs), h, c


@pytest.mark.parametrize("cell,act,rec,order", [
    ("lstm", "tanh", "hard_sigmoid", [0, 1, 2, 3]),
    ("lstm", "relu", "sigmoid", [3, 1, 0, 2]),
    ("lstm", "sigmoid", "tanh", [2, 3, 1, 0]),
    ("gru", "tanh", "hard_sigmoid", [1, 0, 2]),   # Keras's z, r, h block order
    ("gru", "sigmoid", "relu", [2, 0, 1]),
    ("rnn", "hard_sigmoid", "sigmoid", [0]),
    ("rnn", "linear", "sigmoid", None),
])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64], ids=["float32", "float64"])
def test_rnn_layer_matches_numpy(cell, act, rec, order, reverse, dtype):
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    steps, batch, n_in, hidden = 5, 3, 4, 19  # hidden misses every vector width
    # weights small enough that no activation (linear, relu) lets the states grow without bound
    x, w_ih, w_hh, b_ih, b_hh, h0, c0 = (RNG.standard_normal(s) * scale for s, scale in [
        ((steps, batch, n_in), 1.0), ((gates * hidden, n_in), 0.5), ((gates * hidden, hidden), 0.2),
        ((gates * hidden,), 0.5), ((gates * hidden,), 0.5), ((batch, hidden), 1.0), ((batch, hidden), 1.0)])
    if cell != "lstm":
        c0 = None
    ref = _reference_layer(cell, x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse, act, rec, order or list(range(gates)))
    e = lambda a: None if a is None else ember.tensor(a).to(dtype)  # noqa: E731
    out, h_n, c_n = rnn_layer(cell, e(x), e(w_ih), e(w_hh), e(b_ih), e(b_hh), e(h0), e(c0), reverse=reverse,
                              activation=act, recurrent_activation=rec, gate_order=order)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == ember.float32 else TOL[dtype]
    np.testing.assert_allclose(out.numpy(), ref[0], **tol)
    np.testing.assert_allclose(h_n.numpy(), ref[1], **tol)
    if cell == "lstm":
        np.testing.assert_allclose(c_n.numpy(), ref[2], **tol)
    else:
        assert c_n is None


@pytest.mark.parametrize("cell,act,rec,order", [
    ("lstm", "tanh", "sigmoid", None), ("lstm", "tanh", "hard_sigmoid", [1, 3, 0, 2]),
    ("gru", "tanh", "sigmoid", [1, 0, 2]), ("gru", "relu", "sigmoid", None), ("rnn", "tanh", "sigmoid", None)])
@pytest.mark.parametrize("reverse", [False, True])
def test_rnn_layer_gradcheck(cell, act, rec, order, reverse):
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    hidden = 3
    shapes = [(3, 2, 2), (gates * hidden, 2), (gates * hidden, hidden), (gates * hidden,), (gates * hidden,),
              (2, hidden), (2, hidden)]
    args = [ember.tensor(RNG.standard_normal(s) * 0.8).requires_grad_() for s in shapes]
    if cell != "lstm":
        args[6] = None

    def fn(*a):
        out, h, c = rnn_layer(cell, *a, reverse=reverse, activation=act, recurrent_activation=rec, gate_order=order)
        return (out, c) if c is not None else (out,)
    assert ember.autograd.gradcheck(fn, tuple(args))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_masked_steps_carry_the_state(cell, reverse, batch_first):
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    steps, batch, n_in, hidden = 6, 4, 3, 5
    x, w_ih, w_hh, b_ih, b_hh, h0, c0 = (RNG.standard_normal(s) * 0.6 for s in [
        (steps, batch, n_in), (gates * hidden, n_in), (gates * hidden, hidden), (gates * hidden,), (gates * hidden,),
        (batch, hidden), (batch, hidden)])
    c0 = c0 if cell == "lstm" else None
    mask = RNG.random((steps, batch)) < 0.6
    mask[:, 0] = np.arange(steps) < 2  # a padded row
    ref = _reference_layer(cell, x, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse, "tanh", "sigmoid", list(range(gates)),
                           mask)
    e = lambda a: None if a is None else ember.tensor(a)  # noqa: E731
    tb = (lambda a: a.transpose(1, 0, *range(2, a.ndim)).copy()) if batch_first else (lambda a: a)  # noqa: E731
    out, h_n, c_n = rnn_layer(cell, e(tb(x)), e(w_ih), e(w_hh), e(b_ih), e(b_hh), e(h0), e(c0), reverse=reverse,
                              batch_first=batch_first, mask=ember.tensor(tb(mask)))
    np.testing.assert_allclose(out.numpy(), tb(ref[0]), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(h_n.numpy(), ref[1], rtol=1e-12, atol=1e-14)
    if c0 is not None:
        np.testing.assert_allclose(c_n.numpy(), ref[2], rtol=1e-12, atol=1e-14)
    args = [ember.tensor(a * 1.0).requires_grad_() for a in (x[:3, :2], w_ih, w_hh, b_ih, b_hh, h0[:2])]
    args.append(ember.tensor(c0[:2]).requires_grad_() if c0 is not None else None)
    small_mask = ember.tensor(mask[:3, :2])

    def fn(*a):
        o, h, c = rnn_layer(cell, *a, reverse=reverse, mask=small_mask)
        return (o, h) if c is None else (o, h, c)
    assert ember.autograd.gradcheck(fn, tuple(args))


def test_mask_matches_torch_packed_sequences(torch):
    """A suffix mask (padding after each sequence) gives PyTorch's packed-sequence results: the same
    final states, in both directions, and the same outputs at the unpadded steps."""
    lengths = np.array([5, 2, 4, 1])
    x = RNG.standard_normal((5, 4, 3))
    for cls, cell in (("LSTM", "lstm"), ("GRU", "gru")):
        tm = getattr(torch.nn, cls)(3, 6, bidirectional=True).double()
        packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths), enforce_sorted=False)
        out_t, state_t = tm(packed)
        out_t = torch.nn.utils.rnn.pad_packed_sequence(out_t)[0].detach().numpy()
        h_t = (state_t[0] if cls == "LSTM" else state_t).detach().numpy()
        mask = ember.tensor(np.arange(5)[:, None] < lengths[None, :])
        valid = (np.arange(5)[:, None] < lengths[None, :])[:, :, None]
        for d, sfx in enumerate(("", "_reverse")):
            w = [ember.tensor(getattr(tm, f"{n}_l0{sfx}").detach().numpy()) for n in
                 ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            out, h, c = rnn_layer(cell, ember.tensor(x), *w, reverse=d == 1, mask=mask)
            np.testing.assert_allclose(h.numpy(), h_t[d], rtol=1e-12)
            np.testing.assert_allclose(np.where(valid, out.numpy(), 0), out_t[:, :, 6 * d:6 * (d + 1)], rtol=1e-12,
                                       atol=1e-15)


def test_batch_first_functional_layer_matches_time_major():
    x = RNG.standard_normal((3, 5, 4))
    w_ih, w_hh, b = RNG.standard_normal((12, 4)), RNG.standard_normal((12, 4)), RNG.standard_normal(12)
    xe = ember.tensor(x).requires_grad_()
    xt = ember.tensor(x.transpose(1, 0, 2).copy()).requires_grad_()
    a = rnn_layer("gru", xe, ember.tensor(w_ih), ember.tensor(w_hh), ember.tensor(b), batch_first=True)
    b_ = rnn_layer("gru", xt, ember.tensor(w_ih), ember.tensor(w_hh), ember.tensor(b))
    np.testing.assert_allclose(a[0].detach().numpy(), b_[0].detach().numpy().transpose(1, 0, 2), rtol=1e-14)
    a[0].sum().backward()
    b_[0].sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy().transpose(1, 0, 2), rtol=1e-13)


def test_transposed_weight_views_work():
    """Weights given as transposed views (how Keras's (input, units) kernels arrive) read correctly."""
    k, rk, b = RNG.standard_normal((4, 20)), RNG.standard_normal((5, 20)), RNG.standard_normal(20)
    kern, rec = ember.tensor(k).requires_grad_(), ember.tensor(rk).requires_grad_()
    x = ember.tensor(RNG.standard_normal((6, 2, 4)))
    out, h, c = rnn_layer("lstm", x, kern.T, rec.T, ember.tensor(b))
    ref = rnn_layer("lstm", x, ember.tensor(k.T.copy()), ember.tensor(rk.T.copy()), ember.tensor(b))
    np.testing.assert_allclose(out.detach().numpy(), ref[0].numpy(), rtol=1e-13)
    (out.sum() + c.sum()).backward()
    assert kern.grad.shape == (4, 20) and rec.grad.shape == (5, 20)


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_noncontiguous_input_and_state(cls):
    """Strided inputs and initial states give what their contiguous copies give, gradients too."""
    ember.manual_seed(3)
    layer = cls(5, 7, num_layers=2, batch_first=True, dtype=ember.float64)
    x, h0 = RNG.standard_normal((3, 6, 5)), RNG.standard_normal((2, 3, 7))
    results = []
    for make in (ember.tensor, noncontiguous):
        xt, ht = make(x).requires_grad_(), make(h0).requires_grad_()
        out, _ = layer(xt, (ht, make(h0)) if cls is nn.LSTM else ht)
        out.sum().backward()
        results.append((out.detach().numpy(), xt.grad.numpy(), ht.grad.numpy()))
        layer.zero_grad()
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


# ---- module construction, state, repr -----------------------------------------------------------------------

def test_state_dict_names_shapes_and_init(torch):
    ember.manual_seed(0)
    em = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    tm = torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    assert [(k, tuple(v.shape)) for k, v in em.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    bound = 1 / math.sqrt(20)
    values = np.concatenate([p.numpy().ravel() for p in em.parameters()])
    assert values.min() >= -bound and values.max() <= bound and values.std() > bound / 2
    assert len(em.all_weights) == 4 and em._flat_weights_names == tm._flat_weights_names
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    np.testing.assert_array_equal(em.weight_hh_l1_reverse.detach().numpy(), tm.weight_hh_l1_reverse.detach().numpy())


@pytest.mark.parametrize("cls,args,kwargs", [
    ("LSTM", (10, 20), {}),
    ("LSTM", (10, 20, 2), dict(batch_first=True, dropout=0.5, bidirectional=True)),
    ("GRU", (3, 4), dict(bias=False)),
    ("RNN", (3, 4), dict(nonlinearity="relu", num_layers=3)),
    ("RNNCell", (3, 4), dict(nonlinearity="relu", bias=False)),
    ("LSTMCell", (3, 4), {}),
    ("GRUCell", (5, 6), dict(bias=False)),
])
def test_repr_matches_torch(torch, cls, args, kwargs):
    assert repr(getattr(nn, cls)(*args, **kwargs)) == repr(getattr(torch.nn, cls)(*args, **kwargs))


def test_dropout_between_layers_is_seeded_and_off_in_eval():
    em = nn.GRU(4, 8, num_layers=3, dropout=0.5)
    x = ember.tensor(RNG.standard_normal((5, 3, 4))).float()
    ember.manual_seed(5)
    a = em(x)[0].detach().numpy()
    ember.manual_seed(5)
    b = em(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    em.eval()
    plain = em(x)[0].detach().numpy()
    assert not np.allclose(a, plain)
    em.dropout = 0.0
    em.train()
    np.testing.assert_array_equal(em(x)[0].detach().numpy(), plain)


def test_single_layer_dropout_warns():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)


# ---- errors ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make,exc,match", [
    (lambda: nn.LSTM(3, 0), ValueError, "hidden_size must be greater than zero"),
    (lambda: nn.GRU(3, -2), ValueError, "hidden_size must be greater than zero"),
    (lambda: nn.RNN(0, 4), ValueError, "input_size must be greater than zero"),
    (lambda: nn.LSTM(3, 4.0), TypeError, "hidden_size should be of type int, got: float"),
    (lambda: nn.LSTM(3, 4, num_layers=0), ValueError, "num_layers must be greater than zero"),
    (lambda: nn.RNN(3, 4, nonlinearity="gelu"), ValueError, "Unknown nonlinearity 'gelu'"),
    (lambda: nn.GRU(3, 4, dropout=1.5), ValueError, r"dropout should be a number in range \[0, 1\]"),
    (lambda: nn.LSTM(3, 4, bias="yes"), TypeError, "bias should be of type bool"),
    (lambda: nn.LSTM(3, 4, proj_size=2), NotImplementedError, "proj_size"),
    (lambda: nn.LSTMCell(3, 0), ValueError, "hidden_size must be greater than zero"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="sigmoid"), ValueError, "Unknown nonlinearity"),
])
def test_constructor_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_forward_errors():
    lstm, gru = nn.LSTM(3, 4, num_layers=2), nn.GRU(3, 4, batch_first=True)
    x = ember.zeros(5, 2, 3)
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        lstm(ember.zeros(5, 2, 3, 1))
    with pytest.raises(RuntimeError, match="input_size. Expected 3, got 6"):
        lstm(ember.zeros(5, 2, 6))
    with pytest.raises(ValueError, match="input dtype .*float64.* does not match weight dtype"):
        lstm(ember.zeros(5, 2, 3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match=r"Expected hx\[0\] size \(2, 2, 4\), got \[1, 2, 4\]"):
        lstm(x, (ember.zeros(1, 2, 4), ember.zeros(2, 2, 4)))
    with pytest.raises(RuntimeError, match=r"Expected hx\[1\] size \(2, 2, 4\), got \[2, 3, 4\]"):
        lstm(x, (ember.zeros(2, 2, 4), ember.zeros(2, 3, 4)))
    with pytest.raises(TypeError, match="hx must be a tuple"):
        lstm(x, ember.zeros(2, 2, 4))
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D but got 2-D"):
        gru(ember.zeros(2, 5, 3), ember.zeros(2, 4))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D but got 3-D"):
        gru(ember.zeros(5, 3), ember.zeros(1, 1, 4))
    with pytest.raises(RuntimeError, match=r"Expected hx size \(1, 2, 4\), got \[1, 5, 4\]"):
        gru(ember.zeros(2, 5, 3), ember.zeros(1, 5, 4))
    with pytest.raises(RuntimeError, match="sequence length to be larger than 0"):
        lstm(ember.zeros(0, 2, 3))
    with pytest.raises(TypeError, match="expected an ember.Tensor input, got list"):
        gru([[1.0, 2.0, 3.0]])


def test_cell_errors():
    cell = nn.LSTMCell(3, 4)
    with pytest.raises(RuntimeError, match="inconsistent input_size: got 5 expected 3"):
        cell(ember.zeros(2, 5))
    with pytest.raises(ValueError, match="Expected input to be 1D or 2D, got 3D"):
        nn.GRUCell(3, 4)(ember.zeros(2, 2, 3))
    with pytest.raises(RuntimeError, match="Input batch size 2 doesn't match hx batch size 3"):
        nn.GRUCell(3, 4)(ember.zeros(2, 3), ember.zeros(3, 4))
    with pytest.raises(RuntimeError, match=r"hx\[1\] has inconsistent hidden_size: got 5, expected 4"):
        cell(ember.zeros(2, 3), (ember.zeros(2, 4), ember.zeros(2, 5)))


def test_functional_and_kernel_errors():
    x, w_ih, w_hh = ember.zeros(4, 2, 3), ember.zeros(8, 3), ember.zeros(8, 2)
    with pytest.raises(ValueError, match="unknown cell 'lstmx'"):
        rnn_layer("lstmx", x, w_ih, w_hh)
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        rnn_layer("lstm", x, w_ih, w_hh, activation="gelu")
    with pytest.raises(ValueError, match=r"weight_hh must have shape \(4 \* hidden_size, hidden_size\), got \(8, 3\)"):
        rnn_layer("lstm", x, w_ih, ember.zeros(8, 3))
    with pytest.raises(ValueError, match="input has 5 features"):
        rnn_layer("lstm", ember.zeros(4, 2, 5), w_ih, w_hh)
    with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 2\)"):
        rnn_layer("lstm", x, w_ih, w_hh, h0=ember.zeros(3, 2))
    with pytest.raises(ValueError, match="c0 is given but a gru cell"):
        rnn_layer("gru", x, ember.zeros(6, 3), ember.zeros(6, 2), c0=ember.zeros(2, 2))
    with pytest.raises(TypeError, match="expected a floating-point input"):
        rnn_layer("gru", x.long(), ember.zeros(6, 3), ember.zeros(6, 2))
    with pytest.raises(ValueError, match="gate_order must be a permutation of 0..3"):
        rnn_layer("lstm", x, w_ih, w_hh, gate_order=[0, 1, 1, 2])
    with pytest.raises(ValueError, match=r"expected a mask of shape \(4, 2\) \(steps, batch\), got \(2, 4\)"):
        rnn_layer("lstm", x, w_ih, w_hh, mask=ember.ones(2, 4, dtype=ember.bool))
    # the kernels check their own arguments too
    with pytest.raises(TypeError, match="mask must be a bool tensor, got float32"):
        ember._C.rnn_forward("lstm", ember.zeros(4, 2, 8), w_hh, None, None, None, mask=ember.ones(4, 2))
    with pytest.raises(ValueError, match=r"input projections of shape \(steps, batch, 8\)"):
        ember._C.rnn_forward("lstm", ember.zeros(4, 2, 6), w_hh, None, None, None)
    with pytest.raises(TypeError, match="w_hh is float64 but the input is float32"):
        ember._C.rnn_forward("lstm", ember.zeros(4, 2, 8), w_hh.double(), None, None, None)
    with pytest.raises(ValueError, match="unknown recurrent_activation 'swish'"):
        ember._C.rnn_forward("gru", ember.zeros(4, 2, 6), ember.zeros(6, 2), None, None, None, False, "tanh", "swish")
    states, saved = ember._C.rnn_forward("lstm", ember.zeros(4, 2, 8), w_hh, None, None, None)
    with pytest.raises(ValueError, match="must match the states"):
        ember._C.rnn_backward("lstm", ember.zeros(1, 5, 2, 2), states, saved, w_hh)
    with pytest.raises(ValueError, match="expected the saved gates"):
        ember._C.rnn_backward("lstm", ember.zeros(2, 5, 2, 2), states, None, w_hh)


# ---- CPU paths ------------------------------------------------------------------------------------------

def test_every_cpu_path_agrees():
    """Forward and backward of each cell on every SIMD path this CPU has, against the portable one."""
    code = ("import numpy as np, ember\n"
            "from ember._fn.rnn import rnn_layer\n"
            "r = np.random.default_rng(0)\n"
            "t = lambda *s: ember.tensor(0.3 * r.standard_normal(s)).float().requires_grad_()\n"
            "values = []\n"
            "for c, g in (('lstm', 4), ('gru', 3), ('rnn', 1)):\n"
            "    x, w = t(6, 5, 3), t(g * 21, 21)\n"
            "    out = rnn_layer(c, x, t(g * 21, 3), w, t(g * 21), t(g * 21))[0]\n"
            "    (out * out).sum().backward()\n"
            "    values += [out.detach(), x.grad, w.grad]\n"
            "print(repr(np.concatenate([v.numpy().ravel() for v in values]).tolist()))\n")
    results = {cap: np.array(eval(run_under_capability(cap, code))) for cap in capabilities()}
    base = results.pop("default")
    for cap, values in results.items():
        np.testing.assert_allclose(values, base, rtol=1e-5, atol=1e-5, err_msg=cap)


# ---- training end to end -------------------------------------------------------------------------------

def test_lstm_training_follows_torch_loss_curve(torch):
    """An LSTM + linear head learning to tell whether a sequence's running sum ends positive: the same
    weights, data and Adam steps give the same loss curve as PyTorch."""
    steps, batch, length = 25, 16, 12

    class Model:
        def __init__(self, lib, mod):
            self.rnn = mod.LSTM(2, 16, num_layers=2, batch_first=True)
            self.head = mod.Linear(16, 2)

        def params(self):
            return list(self.rnn.parameters()) + list(self.head.parameters())

        def __call__(self, x):
            out, (h, c) = self.rnn(x)
            return self.head(out[:, -1] + h[0])

    tm, em = Model(torch, torch.nn), Model(ember, nn)
    tm.rnn.double(), tm.head.double(), em.rnn.double(), em.head.double()
    with torch.no_grad():
        for p_t, p_e in zip(tm.params(), em.params()):
            p_t.copy_(torch.from_numpy(p_e.detach().numpy().copy()))
    opt_t = torch.optim.Adam(tm.params(), lr=0.02)
    opt_e = ember.optim.Adam(em.params(), lr=0.02)
    rng = np.random.default_rng(3)
    losses_t, losses_e = [], []
    for _ in range(steps):
        x = rng.standard_normal((batch, length, 2))
        y = (x[:, :, 0].sum(1) > 0).astype(np.int64)
        for lib, model, opt, losses, F in ((torch, tm, opt_t, losses_t, torch.nn.functional),
                                           (ember, em, opt_e, losses_e, nn.functional)):
            opt.zero_grad()
            loss = F.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            opt.step()
            losses.append(loss.item())
    np.testing.assert_allclose(losses_e, losses_t, rtol=1e-9)
    assert np.mean(losses_t[-5:]) < 0.8 * np.mean(losses_t[:5])

"""Embedding lookup: the gather against NumPy over id shapes and layouts, the scatter-add gradient with
repeated ids, padding_idx and scale_grad_by_freq, max_norm, nn.Embedding's init, repr and
from_pretrained against PyTorch, gradcheck and the error paths."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from conftest import FLOAT_DTYPES, NP, noncontiguous

RNG = np.random.default_rng(5)
ID_SHAPES = [(), (0,), (1,), (7,), (3, 5), (2, 0, 4), (33, 2)]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("id_dtype", [np.int64, np.int32])
@pytest.mark.parametrize("shape", ID_SHAPES)
def test_lookup_matches_numpy(dtype, id_dtype, shape):
    table = RNG.standard_normal((10, 6)).astype(NP[dtype])
    ids = RNG.integers(0, 10, size=shape).astype(id_dtype)
    out = F.embedding(ember.from_numpy(ids), ember.from_numpy(table))
    assert out.dtype == dtype and out.shape == shape + (6,)
    np.testing.assert_array_equal(out.numpy(), table[ids])


def test_lookup_noncontiguous_ids_and_table():
    table = RNG.standard_normal((9, 7))
    ids = RNG.integers(0, 9, size=(4, 3))
    out = F.embedding(noncontiguous(ids), noncontiguous(table))
    np.testing.assert_array_equal(out.numpy(), table[ids])
    out = F.embedding(ember.from_numpy(ids).T, ember.from_numpy(table).T.contiguous().T)
    np.testing.assert_array_equal(out.numpy(), table[ids.T])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_gradient_scatter_adds_repeats_and_skips_padding(dtype, padding_idx):
    table = ember.from_numpy(RNG.standard_normal((8, 33)).astype(NP[dtype])).requires_grad_()
    ids = np.array([[2, 7, 2, 2], [0, 7, 5, 2], [7, 7, 1, 3]])
    grad = RNG.standard_normal(ids.shape + (33,)).astype(NP[dtype])
    out = F.embedding(ember.from_numpy(ids), table, padding_idx=padding_idx)
    out.backward(ember.from_numpy(grad))
    expected = np.zeros((8, 33))
    np.add.at(expected, ids, grad.astype(np.float64))
    if padding_idx is not None:
        expected[padding_idx % 8] = 0
    np.testing.assert_allclose(table.grad.numpy(), expected, rtol=1e-6 if dtype == ember.float32 else 1e-14)


def test_large_gradient_is_deterministic_over_threads():
    """Enough ids to split over threads: each table row is still summed by one thread in id order."""
    ids = RNG.integers(0, 50, size=(40000,))
    grad = RNG.standard_normal((40000, 16)).astype(np.float32)
    results = []
    threads = ember.get_num_threads()
    for n in (1, max(threads, 2)):
        ember.set_num_threads(n)
        try:
            results.append(ember._C.embedding_backward(ember.from_numpy(grad), ember.from_numpy(ids), 50).numpy())
        finally:
            ember.set_num_threads(threads)
    np.testing.assert_array_equal(results[0], results[1])
    expected = np.zeros((50, 16))
    np.add.at(expected, ids, grad.astype(np.float64))
    np.testing.assert_allclose(results[0], expected, rtol=1e-4, atol=1e-4)


def test_matches_torch_with_scale_grad_by_freq_and_max_norm(torch):
    weight = RNG.standard_normal((12, 5))
    ids = np.array([[1, 3, 3, 11], [4, 3, 1, 0]])
    tw = torch.tensor(weight, requires_grad=True)
    ew = ember.tensor(weight).requires_grad_()
    for kwargs in (dict(scale_grad_by_freq=True), dict(padding_idx=3, scale_grad_by_freq=True)):
        tw.grad, ew.grad = None, None
        seed = RNG.standard_normal(ids.shape + (5,))
        (torch.nn.functional.embedding(torch.tensor(ids), tw, **kwargs) * torch.tensor(seed)).sum().backward()
        (F.embedding(ember.tensor(ids), ew, **kwargs) * ember.tensor(seed)).sum().backward()
        np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-14)
    tw2, ew2 = torch.tensor(weight), ember.tensor(weight)
    out_t = torch.nn.functional.embedding(torch.tensor(ids), tw2, max_norm=1.5, norm_type=3.0)
    out_e = F.embedding(ember.tensor(ids), ew2, max_norm=1.5, norm_type=3.0)
    np.testing.assert_allclose(out_e.numpy(), out_t.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ew2.numpy(), tw2.numpy(), rtol=1e-12)  # the table was renormalised in place


def test_gradcheck():
    weight = ember.tensor(RNG.standard_normal((5, 3))).requires_grad_()
    ids = ember.tensor(np.array([[0, 4, 4], [1, 0, 2]]))
    # no padding_idx: its row's gradient is zero by definition, which finite differences cannot see
    assert ember.autograd.gradcheck(lambda w: F.embedding(ids, w, scale_grad_by_freq=False), (weight,))


# ---- the module ----------------------------------------------------------------------------------------

def test_module_init_padding_row_and_state_dict(torch):
    ember.manual_seed(1)
    em = nn.Embedding(1000, 20, padding_idx=-2)
    w = em.weight.detach().numpy()
    assert em.padding_idx == 998 and np.all(w[998] == 0)
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02
    tm = torch.nn.Embedding(1000, 20, padding_idx=-2)
    assert list(em.state_dict()) == list(tm.state_dict()) == ["weight"]
    em.load_state_dict({"weight": ember.tensor(tm.weight.detach().numpy())})
    ids = RNG.integers(0, 1000, size=(4, 9))
    np.testing.assert_array_equal(em(ember.tensor(ids)).detach().numpy(),
                                  tm(torch.tensor(ids)).detach().numpy())


@pytest.mark.parametrize("args,kwargs", [((10, 3), {}), ((10, 3), dict(padding_idx=-1)),
                                         ((10, 3), dict(max_norm=1.0, norm_type=3, scale_grad_by_freq=True))])
def test_repr_matches_torch(torch, args, kwargs):
    assert repr(nn.Embedding(*args, **kwargs)) == repr(torch.nn.Embedding(*args, **kwargs))


def test_from_pretrained_shares_and_freezes():
    table = ember.tensor(RNG.standard_normal((4, 2)))
    frozen = nn.Embedding.from_pretrained(table, padding_idx=1)
    assert not frozen.weight.requires_grad and frozen.padding_idx == 1
    assert repr(frozen) == "Embedding(4, 2, padding_idx=1)"
    np.testing.assert_array_equal(frozen.weight.numpy(), table.numpy())  # the padding row is left as given
    out = frozen(ember.tensor([3, 1]))
    assert not out.requires_grad
    tuned = nn.Embedding.from_pretrained(table, freeze=False)
    tuned(ember.tensor([3, 3, 0])).sum().backward()
    np.testing.assert_array_equal(tuned.weight.grad.numpy()[:, 0], [1, 0, 0, 2])


def test_embedding_feeds_a_recurrent_classifier(torch):
    """Embedding + GRU + linear head: logits and every gradient equal PyTorch's for the same weights."""
    te, tg, tl = torch.nn.Embedding(20, 6, padding_idx=0), torch.nn.GRU(6, 8, batch_first=True), torch.nn.Linear(8, 3)
    ee, eg, el = nn.Embedding(20, 6, padding_idx=0), nn.GRU(6, 8, batch_first=True), nn.Linear(8, 3)
    for t, e in ((te, ee), (tg, eg), (tl, el)):
        e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    ids = RNG.integers(0, 20, size=(5, 7))
    ids[:, 5:] = 0
    logits_t = tl(tg(te(torch.tensor(ids)))[1][0])
    logits_e = el(eg(ee(ember.tensor(ids)))[1][0])
    np.testing.assert_allclose(logits_e.detach().numpy(), logits_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    logits_t.logsumexp(1).sum().backward()
    logits_e.logsumexp(1).sum().backward()
    for t, e in ((te, ee), (tg, eg), (tl, el)):
        for name, p in t.named_parameters():
            np.testing.assert_allclose(getattr(e, name).grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert np.all(ee.weight.grad.numpy()[0] == 0)


# ---- errors ------------------------------------------------------------------------------------------------

def test_errors():
    table = ember.zeros(10, 3)
    with pytest.raises(IndexError, match=r"index 10 is out of range for an embedding table of 10 rows; ids must lie "
                                         r"in \[0, 10\)"):
        F.embedding(ember.tensor([1, 10, 2]), table)
    with pytest.raises(IndexError, match="index -1 is out of range for an embedding table of 10 rows"):
        nn.Embedding(10, 3)(ember.tensor([[0, -1]]))
    with pytest.raises(TypeError, match="input must hold integer ids .* got ember.float32"):
        F.embedding(ember.tensor([1.0]), table)
    with pytest.raises(TypeError, match="indices must be an integer tensor .* got bool"):
        ember._C.embedding(table, ember.tensor([True]))
    with pytest.raises(ValueError, match=r"weight must be 2-D \(num_embeddings, embedding_dim\), got shape \(10,\)"):
        F.embedding(ember.tensor([1]), ember.zeros(10))
    with pytest.raises(ValueError, match=r"padding_idx must be within num_embeddings \(10\), got 10"):
        nn.Embedding(10, 3, padding_idx=10)
    with pytest.raises(ValueError, match=r"padding_idx must be within num_embeddings \(10\), got -11"):
        F.embedding(ember.tensor([1]), table, padding_idx=-11)
    with pytest.raises(ValueError, match="num_embeddings must be a non-negative int"):
        nn.Embedding(-1, 3)
    with pytest.raises(NotImplementedError, match="sparse=True"):
        nn.Embedding(10, 3, sparse=True)
    with pytest.raises(ValueError, match="embeddings parameter is expected to be 2-dimensional"):
        nn.Embedding.from_pretrained(ember.zeros(3))
    with pytest.raises(ValueError, match="must have the indices' shape"):
        ember._C.embedding_backward(ember.zeros(2, 3), ember.tensor([1, 2, 3]), 10)

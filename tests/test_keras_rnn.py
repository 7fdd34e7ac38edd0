"""ember.keras recurrent layers (SimpleRNN, LSTM, GRU), Embedding, Bidirectional and TimeDistributed:
every forward against a float64 NumPy transcription of Keras 3's equations and scan rules, built
from the layer's own get_weights(); gradients by central differences in float64 on each of the
three ways through a sequence (fused, fused with a mask, step by step); training through fit;
masks from Embedding(mask_zero=True); Keras's weight layouts, defaults, configs, summary counts,
saving, and error messages. LSTM and GRU are also checked against PyTorch when it is installed."""
import re

import numpy as np
import pytest

import ember
from conftest import TOL
from ember.keras import layers, models, regularizers
from ember.keras.layers.utils import reset_names

RNG = np.random.default_rng(11)
gradcheck = ember.autograd.gradcheck


@pytest.fixture(autouse=True)
def _fresh_names():
    reset_names()


def t(a, dtype=np.float64, grad=False):
    x = ember.from_numpy(np.array(a, dtype=dtype))
    return x.requires_grad_() if grad else x


def close(actual, expected, dtype=ember.float64, **override):
    tol = dict(TOL[dtype])
    tol.update(override)
    actual = actual.detach().numpy() if isinstance(actual, ember.Tensor) else np.asarray(actual)
    assert actual.shape == np.shape(expected), f"shape {actual.shape} != {np.shape(expected)}"
    np.testing.assert_allclose(actual, expected, **tol)


# ---- the reference: Keras 3's cells and its scan over time (keras/src/backend/*/rnn.py) ---------------------

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softsign(x):
    return x / (1 + np.abs(x))


NP_ACTIVATIONS = {"tanh": np.tanh, "sigmoid": sigmoid, "relu": lambda x: np.maximum(x, 0), "linear": lambda x: x,
                  "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6, "softsign": softsign}


def _per_gate(mask, gates):
    return [None] * gates if mask is None else (list(mask) if isinstance(mask, (list, tuple)) else [mask] * gates)


def keras_reference(kind, x, weights, units, *, activation="tanh", recurrent_activation="sigmoid", reset_after=True,
                    go_backwards=False, mask=None, zero_output_for_mask=False, h0=None, c0=None,
                    input_masks=None, recurrent_masks=None):
    """(output sequence in processing order, last output, h, c) of Keras's layer `kind` on x (B, T, F).
    input_masks / recurrent_masks: one mask or one per gate (Keras's implementation 1)."""
    act, rec = NP_ACTIVATIONS[activation], NP_ACTIVATIONS[recurrent_activation]
    kernel, recurrent = weights[0], weights[1]
    gates = kernel.shape[1] // units
    bias = weights[2] if len(weights) > 2 else np.zeros((2, gates * units) if kind == "gru" and reset_after
                                                        else gates * units)
    in_bias, rec_bias = (bias[0], bias[1]) if kind == "gru" and reset_after else (bias, np.zeros(gates * units))
    batch, steps, _ = x.shape
    h = np.zeros((batch, units)) if h0 is None else h0
    c = np.zeros((batch, units)) if c0 is None else c0
    blocks = [slice(g * units, (g + 1) * units) for g in range(gates)]
    outs = []
    for step in (range(steps - 1, -1, -1) if go_backwards else range(steps)):
        xs = [x[:, step] if m is None else x[:, step] * m for m in _per_gate(input_masks, gates)]
        hs = [h if m is None else h * m for m in _per_gate(recurrent_masks, gates)]
        xp = [xs[g] @ kernel[:, blocks[g]] + in_bias[blocks[g]] for g in range(gates)]
        hp = [hs[g] @ recurrent[:, blocks[g]] + rec_bias[blocks[g]] for g in range(gates)]
        new_c = c
        if kind == "rnn":
            new_h = act(xp[0] + hp[0])
        elif kind == "lstm":
            i, f, o = rec(xp[0] + hp[0]), rec(xp[1] + hp[1]), rec(xp[3] + hp[3])
            new_c = f * c + i * act(xp[2] + hp[2])
            new_h = o * act(new_c)
        else:
            z, r = rec(xp[0] + hp[0]), rec(xp[1] + hp[1])
            candidate = act(xp[2] + r * hp[2]) if reset_after else act(xp[2] + (r * hs[2]) @ recurrent[:, blocks[2]])
            new_h = z * h + (1 - z) * candidate
        if mask is None:
            h, c, out = new_h, new_c, new_h
        else:
            keep = mask[:, step][:, None]
            out = np.where(keep, new_h, 0.0 if zero_output_for_mask else h)
            h, c = np.where(keep, new_h, h), np.where(keep, new_c, c)
        outs.append(out)
    return np.stack(outs, 1), outs[-1], h, c


KINDS = {"rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}


def make(kind, units, **kwargs):
    kwargs.setdefault("dtype", "float64")
    return KINDS[kind](units, **kwargs)


def randomize(layer, scale=0.5):
    """Non-trivial weights (the default biases are zeros or ones)."""
    layer.set_weights([RNG.standard_normal(w.shape) * scale for w in layer.get_weights()])


# ---- forward against the reference ---------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("return_sequences,go_backwards", [(False, False), (True, False), (True, True), (False, True)])
def test_forward_matches_keras_equations(kind, return_sequences, go_backwards):
    x = RNG.standard_normal((3, 7, 5))
    layer = make(kind, 4, return_sequences=return_sequences, go_backwards=go_backwards, return_state=True)
    layer(t(x))
    randomize(layer)
    out, *states = layer(t(x))
    seq, last, h, c = keras_reference(kind, x, layer.get_weights(), 4, go_backwards=go_backwards)
    close(out, seq if return_sequences else last)
    close(states[0], h)
    assert len(states) == (2 if kind == "lstm" else 1)
    if kind == "lstm":
        close(states[1], c)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_float32_use_bias_false_and_other_activations(kind):
    x = RNG.standard_normal((2, 5, 3))
    layer = make(kind, 6, dtype="float32", use_bias=False, return_sequences=True, activation="relu",
                 **({} if kind == "rnn" else {"recurrent_activation": "hard_sigmoid"}))
    layer(t(x, np.float32))
    assert len(layer.get_weights()) == 2
    randomize(layer, 0.3)
    expected = keras_reference(kind, x.astype(np.float32).astype(np.float64), layer.get_weights(), 6,
                               activation="relu", recurrent_activation="hard_sigmoid")[0]
    close(layer(t(x, np.float32)), expected, ember.float32, rtol=1e-4, atol=1e-5)  # float32 through 5 steps


@pytest.mark.parametrize("kind,options", [("rnn", {}), ("lstm", {}), ("gru", {}), ("gru", {"reset_after": False}),
                                          ("lstm", {"recurrent_activation": "hard_sigmoid"})])
def test_step_by_step_path_matches_keras_equations(kind, options):
    """softsign is not among the kernels' activations: the layer runs the cell step by step."""
    x = RNG.standard_normal((3, 6, 4))
    layer = make(kind, 5, activation="softsign", return_sequences=True, return_state=True, **options)
    layer(t(x))
    randomize(layer)
    out, h, *rest = layer(t(x))
    seq, _, h_ref, c_ref = keras_reference(kind, x, layer.get_weights(), 5, activation="softsign",
                                           recurrent_activation=options.get("recurrent_activation", "sigmoid"),
                                           reset_after=options.get("reset_after", True))
    close(out, seq)
    close(h, h_ref)
    if rest:
        close(rest[0], c_ref)


def test_gru_reset_after_false_with_kernel_activations():
    x = RNG.standard_normal((2, 4, 3))
    layer = make("gru", 3, reset_after=False, go_backwards=True)
    layer(t(x))
    assert layer.bias.shape == (9,)
    randomize(layer)
    close(layer(t(x)), keras_reference("gru", x, layer.get_weights(), 3, reset_after=False, go_backwards=True)[1])


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_initial_state(kind):
    x = RNG.standard_normal((2, 4, 3))
    layer = make(kind, 5, return_sequences=True)
    layer(t(x))
    randomize(layer)
    h0, c0 = RNG.standard_normal((2, 5)), RNG.standard_normal((2, 5))
    given = [t(h0), t(c0)] if kind == "lstm" else t(h0)
    expected = keras_reference(kind, x, layer.get_weights(), 5, h0=h0, c0=c0 if kind == "lstm" else None)[0]
    close(layer(t(x), initial_state=given), expected)
    with pytest.raises(ValueError, match=r"initial_state\[0\] has shape \(2, 4\), expected \(2, 5\)"):
        layer(t(x), initial_state=[t(np.zeros((2, 4)))] * (2 if kind == "lstm" else 1))
    with pytest.raises(ValueError, match="expects (1|2) initial state tensor"):
        layer(t(x), initial_state=[t(h0)] * 3)


def test_lstm_and_gru_match_torch():
    torch = pytest.importorskip("torch")
    x = RNG.standard_normal((3, 6, 4))
    lstm, gru = make("lstm", 5, return_sequences=True), make("gru", 5, return_sequences=True)
    for layer in (lstm, gru):
        layer(t(x))
        randomize(layer)
    kernel, recurrent, bias = lstm.get_weights()
    ref = torch.nn.LSTM(4, 5, batch_first=True, dtype=torch.float64)
    ref.load_state_dict({"weight_ih_l0": torch.tensor(kernel.T), "weight_hh_l0": torch.tensor(recurrent.T),
                         "bias_ih_l0": torch.tensor(bias), "bias_hh_l0": torch.zeros(20, dtype=torch.float64)})
    close(lstm(t(x)), ref(torch.tensor(x))[0].detach().numpy(), rtol=1e-10, atol=1e-12)  # another summation order
    kernel, recurrent, bias = gru.get_weights()
    torch_order = np.r_[5:10, 0:5, 10:15]  # Keras's z, r, h -> PyTorch's r, z, n
    ref = torch.nn.GRU(4, 5, batch_first=True, dtype=torch.float64)
    ref.load_state_dict({"weight_ih_l0": torch.tensor(kernel[:, torch_order].T.copy()),
                         "weight_hh_l0": torch.tensor(recurrent[:, torch_order].T.copy()),
                         "bias_ih_l0": torch.tensor(bias[0, torch_order]),
                         "bias_hh_l0": torch.tensor(bias[1, torch_order])})
    close(gru(t(x)), ref(torch.tensor(x))[0].detach().numpy(), rtol=1e-10, atol=1e-12)


# ---- masks -------------------------------------------------------------------------------------------------

PADDED = np.array([[3, 1, 4, 1, 5, 0, 0],    # post-padding
                   [0, 0, 0, 2, 6, 5, 3],    # pre-padding
                   [5, 0, 8, 0, 9, 7, 9],    # holes
                   [2, 7, 1, 8, 2, 8, 1],    # none
                   [0, 0, 0, 0, 0, 0, 0]])   # all masked: the initial state throughout


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("go_backwards,zero_output,activation",
                         [(False, False, "tanh"), (True, False, "tanh"), (False, True, "tanh"), (True, True, "tanh"),
                          (False, False, "softsign"), (True, True, "softsign")])
def test_masks_from_mask_zero(kind, go_backwards, zero_output, activation):
    embedding = layers.Embedding(10, 3, mask_zero=True, dtype="float64")
    layer = make(kind, 4, return_sequences=True, return_state=True, go_backwards=go_backwards,
                 zero_output_for_mask=zero_output, activation=activation)
    embedded = embedding(PADDED)
    assert embedded._keras_mask.numpy().tolist() == (PADDED != 0).tolist()
    layer(embedded)
    randomize(layer)
    embedded = embedding(PADDED)
    out, h, *rest = layer(embedded)
    x = embedding.get_weights()[0][PADDED]
    seq, _, h_ref, c_ref = keras_reference(kind, x, layer.get_weights(), 4, activation=activation, mask=PADDED != 0,
                                           go_backwards=go_backwards, zero_output_for_mask=zero_output)
    close(out, seq)
    close(h, h_ref)
    if rest:
        close(rest[0], c_ref)
    assert out._keras_mask is embedded._keras_mask  # return_sequences passes the mask on, as Keras does


def test_mask_last_output_and_propagation_through_dropout_and_stacked_layers():
    model = models.Sequential([layers.Input(shape=(7,), dtype="int64"), layers.Embedding(10, 3, mask_zero=True),
                               layers.Dropout(0.5), layers.LSTM(4, return_sequences=True), layers.GRU(2)],
                              dtype="float64")
    model(PADDED)
    embedding, _, lstm, gru = model.layers
    for layer in (lstm, gru):
        randomize(layer)
    x = embedding.get_weights()[0][PADDED].astype(np.float32).astype(np.float64)
    seq = keras_reference("lstm", x, lstm.get_weights(), 4, mask=PADDED != 0)[0]
    expected = keras_reference("gru", seq, gru.get_weights(), 2, mask=PADDED != 0)[1]
    close(model(PADDED), expected, ember.float32, rtol=1e-5, atol=1e-6)


def test_mask_argument_and_functional_model():
    x = RNG.standard_normal((5, 7, 3))
    mask = PADDED != 0
    inputs = layers.Input(shape=(7, 3))
    h = layers.LSTM(4, return_sequences=True, dtype="float64")(inputs)
    model = models.Model(inputs, h)
    lstm = model.layers[1]
    randomize(lstm)
    close(lstm(t(x), mask=t(mask, np.bool_)), keras_reference("lstm", x, lstm.get_weights(), 4, mask=mask)[0])
    tokens = layers.Input(shape=(7,), dtype="int64")
    out = layers.Bidirectional(layers.GRU(3))(layers.Embedding(10, 2, mask_zero=True)(tokens))
    classifier = models.Model(tokens, layers.Dense(1)(out))
    assert classifier(PADDED).shape == (5, 1)


def test_encoder_states_as_decoder_initial_state_in_a_functional_model(tmp_path):
    encoder_inputs, decoder_inputs = layers.Input(shape=(5, 3)), layers.Input(shape=(4, 2))
    _, h, c = layers.LSTM(6, return_state=True)(encoder_inputs)
    decoded = layers.LSTM(6, return_sequences=True)(decoder_inputs, initial_state=[h, c])
    model = models.Model([encoder_inputs, decoder_inputs], layers.TimeDistributed(layers.Dense(2))(decoded))
    encoder, decoder = model.layers[2], model.layers[3]
    x1, x2 = RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 4, 2))
    as_f32 = lambda a: a.astype(np.float32).astype(np.float64)  # noqa: E731
    _, _, h_ref, c_ref = keras_reference("lstm", as_f32(x1), encoder.get_weights(), 6)
    expected = keras_reference("lstm", as_f32(x2), decoder.get_weights(), 6, h0=h_ref, c0=c_ref)[0]
    kernel, bias = model.layers[-1].get_weights()
    close(model([x1, x2]), expected @ kernel + bias, ember.float32, rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "seq2seq.keras")
    np.testing.assert_array_equal(models.load_model(tmp_path / "seq2seq.keras")([x1, x2]).numpy(),
                                  model([x1, x2]).numpy())


def test_a_layer_without_mask_support_drops_the_mask_with_keras_warning():
    embedded = layers.Embedding(10, 3, mask_zero=True)(PADDED)
    with pytest.warns(UserWarning, match="does not support masking and will therefore destroy the mask"):
        flat = layers.Flatten()(embedded)
    assert not hasattr(flat, "_keras_mask")
    assert layers.Dense(2)(embedded)._keras_mask is embedded._keras_mask


# ---- gradients ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,options", [
    ("lstm", {}), ("gru", {}), ("rnn", {"go_backwards": True}),
    ("lstm", {"mask": True}), ("gru", {"mask": True, "go_backwards": True}),
    ("lstm", {"activation": "softsign"}), ("gru", {"reset_after": False, "mask": True})])
def test_gradients_central_differences(kind, options):
    options = dict(options)
    masked = options.pop("mask", False)
    layer = make(kind, 2, return_sequences=True, **options)
    x = t(RNG.standard_normal((3, 4, 2)), grad=True)
    layer(x)
    randomize(layer)
    mask = t(np.array([[1, 1, 0, 0], [0, 1, 1, 1], [1, 0, 1, 0]]), np.bool_) if masked else None
    weights = (layer.kernel, layer.recurrent_kernel, layer.bias)
    assert gradcheck(lambda x, *w: layer(x, mask=mask), (x,) + weights)


def test_regularizers_add_their_penalties():
    layer = make("gru", 3, kernel_regularizer=regularizers.l2(0.1), recurrent_regularizer=regularizers.l1(0.2),
                 bias_regularizer=regularizers.l2(0.3))
    layer(t(RNG.standard_normal((2, 3, 4))))
    randomize(layer)
    kernel, recurrent, bias = layer.get_weights()
    expected = [0.1 * (kernel ** 2).sum(), 0.2 * np.abs(recurrent).sum(), 0.3 * (bias ** 2).sum()]
    np.testing.assert_allclose([loss.item() for loss in layer.losses], expected, rtol=1e-12)
    assert all(loss.requires_grad for loss in layer.losses)


def test_initial_state_and_dropout_gradients():
    layer = make("lstm", 2, dropout=0.3)
    x, h0, c0 = (t(RNG.standard_normal(s), grad=True) for s in ((2, 3, 2), (2, 2), (2, 2)))
    layer(x)
    assert gradcheck(lambda x, h, c: layer(x, initial_state=[h, c]), (x, h0, c0))


# ---- dropout --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("dropout,recurrent_dropout", [(0.3, 0.0), (0.0, 0.4), (0.3, 0.4)])
def test_dropout_masks_follow_keras(kind, dropout, recurrent_dropout):
    """With the layer's masks known, training equals Keras's equations with them: one input mask for
    every step, and with recurrent dropout (LSTM / GRU) one mask per gate for inputs and states."""
    x = RNG.standard_normal((3, 5, 4))
    layer = make(kind, 3, dropout=dropout, recurrent_dropout=recurrent_dropout, return_sequences=True)
    layer(t(x))
    randomize(layer)
    drawn = layer._dropout_masks(t(x), True)
    input_masks, recurrent_masks = ([m.numpy() for m in d] if isinstance(d, list) else None if d is None
                                    else d.numpy() for d in drawn)
    for masks, rate in ((input_masks, dropout), (recurrent_masks, recurrent_dropout)):
        per_gate = kind != "rnn" and recurrent_dropout > 0
        assert (masks is None) == (rate == 0) and (masks is None or isinstance(masks, list) == per_gate)
        for m in (masks if isinstance(masks, list) else [masks] if masks is not None else []):
            assert set(np.unique(m)) <= {0.0, 1 / (1 - rate)}
    layer._dropout_masks = lambda sequences, training: drawn if training else (None, None)
    expected = keras_reference(kind, x, layer.get_weights(), 3, input_masks=input_masks,
                               recurrent_masks=recurrent_masks)[0]
    close(layer(t(x), training=True), expected)
    close(layer(t(x)), keras_reference(kind, x, layer.get_weights(), 3)[0])  # inference: no dropout


def test_dropout_is_seeded_and_training_only():
    x = t(RNG.standard_normal((4, 6, 3)), np.float32)
    layer = layers.LSTM(5, dropout=0.5, recurrent_dropout=0.5)
    inference = layer(x).numpy()
    np.testing.assert_array_equal(layer(x, training=False).numpy(), inference)
    ember.manual_seed(3)
    first = layer(x, training=True).numpy()
    ember.manual_seed(3)
    np.testing.assert_array_equal(layer(x, training=True).numpy(), first)
    assert not np.allclose(first, inference)


# ---- weights, initialisers, summary ---------------------------------------------------------------------

def test_weights_layouts_and_keras_initializers():
    ember.manual_seed(0)
    lstm, gru, rnn = layers.LSTM(8), layers.GRU(8), layers.SimpleRNN(8)
    x = t(RNG.standard_normal((2, 3, 5)), np.float32)
    for layer in (lstm, gru, rnn):
        layer(x)
    assert [w.shape for w in lstm.get_weights()] == [(5, 32), (8, 32), (32,)]
    assert [w.shape for w in gru.get_weights()] == [(5, 24), (8, 24), (2, 24)]
    assert [w.shape for w in rnn.get_weights()] == [(5, 8), (8, 8), (8,)]
    assert [w.name for w in lstm.weights] == ["kernel", "recurrent_kernel", "bias"]
    kernel, recurrent, bias = lstm.get_weights()
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(8), atol=1e-5)  # orthogonal rows
    assert np.abs(kernel).max() <= np.sqrt(6 / (5 + 32)) and kernel.std() > 0
    np.testing.assert_array_equal(bias, np.r_[np.zeros(8), np.ones(8), np.zeros(16)])  # unit_forget_bias
    plain = layers.LSTM(2, unit_forget_bias=False)
    plain(x)
    np.testing.assert_array_equal(plain.get_weights()[2], 0)
    np.testing.assert_array_equal(gru.get_weights()[2], 0)
    square = rnn.get_weights()[1]
    np.testing.assert_allclose(square.T @ square, np.eye(8), atol=1e-5)
    embedding = layers.Embedding(50, 7)
    embedding(np.array([[1, 2]]))
    table = embedding.get_weights()[0]
    assert table.shape == (50, 7) and np.abs(table).max() <= 0.05 and table.std() > 0.02


def _summary_counts(model):
    lines = []
    model.summary(print_fn=lines.append)
    rows = [line for line in lines if line.startswith("│")]
    counts = [int(row.split("│")[3].strip().replace(",", "")) for row in rows]
    total = int(re.search(r"Total params: ([\d,]+)", "\n".join(lines)).group(1).replace(",", ""))
    return counts, total


def test_summary_param_counts_follow_keras_formulas():
    d, u = 6, 5
    model = models.Sequential([layers.Input(shape=(9,)), layers.Embedding(20, d, mask_zero=True),
                               layers.LSTM(u, return_sequences=True), layers.GRU(u, return_sequences=True),
                               layers.GRU(u, reset_after=False, return_sequences=True),
                               layers.SimpleRNN(u, return_sequences=True),
                               layers.Bidirectional(layers.LSTM(u, return_sequences=True)),
                               layers.TimeDistributed(layers.Dense(3))])
    counts, total = _summary_counts(model)
    expected = [20 * d, 4 * (u * (d + u) + u), 3 * (u * (u + u) + 2 * u), 3 * (u * (u + u) + u), u * (u + u) + u,
                2 * 4 * (u * (u + u) + u), 2 * u * 3 + 3]
    assert counts == expected and total == sum(expected)
    assert model.output_shape == (None, 9, 3)
    assert [layer._output_shape for layer in model.layers[:2]] == [(None, 9, d), (None, 9, u)]


# ---- wrappers ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_bidirectional_merge_modes(merge_mode, return_sequences):
    x = RNG.standard_normal((3, 5, 4))
    layer = layers.Bidirectional(make("lstm", 3, return_sequences=return_sequences), merge_mode=merge_mode)
    layer(t(x))
    randomize(layer)
    forward, backward = layer.forward_layer, layer.backward_layer
    assert (forward.name, backward.name, backward.go_backwards) == ("forward_lstm", "backward_lstm", True)
    fw = keras_reference("lstm", x, forward.get_weights(), 3)
    bw = keras_reference("lstm", x, backward.get_weights(), 3, go_backwards=True)
    y, y_rev = (fw[0], bw[0][:, ::-1]) if return_sequences else (fw[1], bw[1])
    expected = {"concat": np.concatenate([y, y_rev], -1), "sum": y + y_rev, "mul": y * y_rev,
                "ave": (y + y_rev) / 2, None: None}[merge_mode]
    out = layer(t(x))
    if merge_mode is None:
        close(out[0], y)
        close(out[1], y_rev)
    else:
        close(out, expected)
    assert len(layer.get_weights()) == 6


def test_bidirectional_states_masks_and_backward_layer():
    x = RNG.standard_normal((5, 7, 3))
    mask = PADDED != 0
    layer = layers.Bidirectional(make("gru", 2, return_sequences=True, return_state=True))
    out, h_forward, h_backward = layer(t(x), mask=t(mask, np.bool_))
    fw = keras_reference("gru", x, layer.forward_layer.get_weights(), 2, mask=mask, zero_output_for_mask=True)
    bw = keras_reference("gru", x, layer.backward_layer.get_weights(), 2, mask=mask, go_backwards=True,
                         zero_output_for_mask=True)
    close(out, np.concatenate([fw[0], bw[0][:, ::-1]], -1))  # masked steps are zeros in both halves
    close(h_forward, fw[2])
    close(h_backward, bw[2])
    custom = layers.Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(2, go_backwards=True))
    assert custom(t(x, np.float32)).shape == (5, 5)
    with pytest.raises(ValueError, match="should have different `go_backwards` value"):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(3))
    with pytest.raises(ValueError, match="same value for attribute \"return_sequences\""):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(3, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="Invalid merge mode"):
        layers.Bidirectional(layers.LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="Layer` instance"):
        layers.Bidirectional("lstm")


def test_time_distributed_dense_and_inner_layers():
    x = RNG.standard_normal((2, 4, 3))
    layer = layers.TimeDistributed(layers.Dense(5, activation="tanh", dtype="float64"))
    out = layer(t(x))
    kernel, bias = layer.get_weights()
    close(out, np.tanh(x @ kernel + bias))
    assert layer.compute_output_shape((None, 4, 3)) == (None, 4, 5)
    images = RNG.standard_normal((2, 3, 6, 6, 1))
    conv = layers.TimeDistributed(layers.Conv2D(2, 3))
    assert conv(t(images, np.float32)).shape == (2, 3, 4, 4, 2)
    with pytest.raises(ValueError, match="expected min_ndim=3, found ndim=2"):
        layer(t(x[:, 0]))
    with pytest.raises(ValueError, match="Layer` instance"):
        layers.TimeDistributed(None)


# ---- training ----------------------------------------------------------------------------------------------

def test_small_lstm_regression_trains():
    ember.manual_seed(0)
    x = RNG.standard_normal((128, 6, 2)).astype(np.float32)
    y = (x[:, :, 0].sum(1, keepdims=True) * 0.3).astype(np.float32)
    model = models.Sequential([layers.Input(shape=(6, 2)), layers.LSTM(8, kernel_regularizer=regularizers.l2(1e-4)),
                               layers.Dense(1)])
    model.compile(optimizer=ember.keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, batch_size=32, epochs=10, verbose=0).history["loss"]
    assert history[-1] < 0.2 * history[0], history
    assert len(model.losses) == 1


def test_embedding_lstm_classifier_learns_with_masked_padding():
    """Variable-length token sequences (padded with 0 at either end): is token 3 among them?"""
    ember.manual_seed(1)
    rng = np.random.default_rng(5)
    n, steps = 512, 10
    tokens = rng.integers(4, 20, (n, steps))
    lengths = rng.integers(2, steps + 1, n)
    labels = rng.integers(0, 2, n)
    for i in range(n):
        if labels[i]:
            tokens[i, rng.integers(0, lengths[i])] = 3
        tokens[i, lengths[i]:] = 0
        if i % 2:
            tokens[i] = np.roll(tokens[i], steps - lengths[i])  # pre-padding for half of them
    model = models.Sequential([layers.Input(shape=(steps,), dtype="int64"), layers.Embedding(20, 8, mask_zero=True),
                               layers.LSTM(16), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=ember.keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(tokens, labels.astype(np.float32), batch_size=32, epochs=8, validation_split=0.25, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.9, history.history
    # padding is skipped: where the zeros go does not change the prediction
    moved = np.array([np.roll(row, steps - length) if i % 2 == 0 else np.roll(row, length - steps)
                      for i, (row, length) in enumerate(zip(tokens[:8], lengths[:8]))])
    np.testing.assert_allclose(model.predict(moved, verbose=0), model.predict(tokens[:8], verbose=0), rtol=1e-5,
                               atol=1e-6)


# ---- configs, saving -------------------------------------------------------------------------------------

def test_configs_round_trip():
    for layer in (layers.LSTM(4, recurrent_activation="hard_sigmoid", unit_forget_bias=False, dropout=0.1,
                              return_sequences=True, go_backwards=True, kernel_regularizer="l2"),
                  layers.GRU(3, reset_after=False, return_state=True, recurrent_dropout=0.2),
                  layers.SimpleRNN(2, activation="relu", use_bias=False, zero_output_for_mask=True),
                  layers.Embedding(10, 4, mask_zero=True, embeddings_initializer="normal"),
                  layers.Bidirectional(layers.GRU(2, return_sequences=True), merge_mode="sum"),
                  layers.TimeDistributed(layers.Dense(3, activation="relu"))):
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config, type(layer).__name__
    assert "recurrent_activation" not in layers.SimpleRNN(2).get_config()


def test_save_and_load_model_round_trip(tmp_path):
    tokens = layers.Input(shape=(7,), dtype="int64")
    h = layers.Embedding(10, 4, mask_zero=True)(tokens)
    h = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="ave")(h)
    h = layers.GRU(3, return_sequences=True, go_backwards=True)(h)
    h = layers.SimpleRNN(2, return_sequences=True)(h)
    out = layers.TimeDistributed(layers.Dense(2))(h)
    model = models.Model(tokens, out)
    path = tmp_path / "rnn.keras"
    model.save(path)
    loaded = models.load_model(path)
    np.testing.assert_array_equal(loaded(PADDED).numpy(), model(PADDED).numpy())
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    sequential = models.Sequential([layers.Input(shape=(5, 3)), layers.LSTM(4), layers.Dense(1)])
    sequential.save(tmp_path / "s.keras")
    x = t(RNG.standard_normal((2, 5, 3)), np.float32)
    np.testing.assert_array_equal(models.load_model(tmp_path / "s.keras")(x).numpy(), sequential(x).numpy())


# ---- bad input ---------------------------------------------------------------------------------------------

def test_bad_input_messages():
    layer = layers.LSTM(3)
    with pytest.raises(ValueError, match=r'Input 0 of layer "lstm" is incompatible with the layer: expected ndim=3, '
                                         r"found ndim=2. Full shape received: \(4, 5\)"):
        layer(t(np.zeros((4, 5)), np.float32))
    layer(t(np.zeros((2, 3, 4)), np.float32))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 4, but received input with "
                                         r"shape \(2, 3, 5\)"):
        layer(t(np.zeros((2, 3, 5)), np.float32))
    with pytest.raises(ValueError, match="at least one time step"):
        layer(t(np.zeros((2, 0, 4)), np.float32))
    with pytest.raises(ValueError, match=r"expects a mask of shape \(2, 3\)"):
        layer(t(np.zeros((2, 3, 4)), np.float32), mask=t(np.ones((2, 4)), np.bool_))
    embedding = layers.Embedding(10, 2)
    with pytest.raises(IndexError, match=r'"embedding".*index 12 is out of range for an embedding table of 10 rows'):
        embedding(np.array([[1, 12]]))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        embedding(np.array([[-1, 2]]))
    with pytest.raises(ValueError, match="expected a positive integer, got 0"):
        layers.GRU(0)
    with pytest.raises(ValueError, match="`input_dim` and `output_dim` should be positive"):
        layers.Embedding(0, 3)
    with pytest.raises(TypeError, match="SimpleRNN has no gates"):
        layers.SimpleRNN(2, recurrent_activation="sigmoid")
    with pytest.warns(UserWarning, match="input_length` is deprecated"):
        layers.Embedding(5, 2, input_length=3)


def test_integer_ids_reach_embedding_exactly():
    """Ids past 2^24 have no exact float32: fit / predict / a direct call keep integer x as integers
    up to the Embedding (float layers cast integer inputs to their own dtype themselves)."""
    big = 2 ** 24 + 1  # float32(big) == 2 ** 24
    model = models.Sequential([layers.Input((1,), dtype="int64"), layers.Embedding(big + 1, 1), layers.Flatten()])
    table = np.zeros((big + 1, 1), np.float32)
    table[big] = 7.0
    model.layers[0].set_weights([table])
    ids = np.array([[big], [big - 1]])
    np.testing.assert_array_equal(model.predict(ids, verbose=0), [[7.0], [0.0]])
    np.testing.assert_array_equal(model(ids).numpy(), [[7.0], [0.0]])


def test_integer_x_into_dense_computes_in_float():
    model = models.Sequential([layers.Input((3,)), layers.Dense(2, activation="relu"), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.array([[1, 2, 3], [4, 5, 6], [-7, 8, 9]])
    y = np.array([[1.0], [2.0], [3.0]], np.float32)
    expected = model.predict(x.astype(np.float32), verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), expected)
    np.testing.assert_array_equal(model(x).numpy(), expected)
    np.testing.assert_array_equal(model(ember.tensor(x)).numpy(), expected)
    assert np.isfinite(model.fit(x, y, epochs=2, verbose=0).history["loss"]).all()


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_stateful_layer_carries_its_states_between_calls(cls):
    """Two halves of a sequence through a stateful layer give what the whole sequence gives; after
    reset_states() it starts from zeros again; the carried states need one batch size."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((4, 10, 3)).astype(np.float32)
    whole = cls(5, return_sequences=True)
    whole.build((4, 10, 3))
    stateful = cls(5, return_sequences=True, stateful=True)
    stateful.build((4, 10, 3))
    stateful.set_weights(whole.get_weights())
    expected = whole(x).numpy()
    halves = np.concatenate([stateful(x[:, :6]).numpy(), stateful(x[:, 6:]).numpy()], axis=1)
    np.testing.assert_allclose(halves, expected, rtol=1e-6, atol=1e-6)
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x).numpy(), expected, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match=r"carries states for batches of 4 samples but received a batch of 2"):
        stateful(x[:2])
    # an explicit initial state wins over the carried one
    zeros = [np.zeros((4, 5), np.float32)] * (2 if cls is layers.LSTM else 1)
    np.testing.assert_allclose(stateful(x, initial_state=zeros).numpy(), expected, rtol=1e-6, atol=1e-6)
    assert stateful.get_config()["stateful"] is True
    with pytest.raises(AttributeError, match="is not stateful"):
        whole.reset_states()


def test_stateful_model_fit_and_reset_states():
    model = models.Sequential([layers.Input((5, 2), batch_size=4), layers.LSTM(3, stateful=True), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(13)
    x, y = rng.standard_normal((8, 5, 2)).astype(np.float32), rng.standard_normal((8, 1)).astype(np.float32)
    model.fit(x, y, batch_size=4, shuffle=False, epochs=2, verbose=0)
    carried = model.layers[0]._carried
    assert carried is not None and carried[0].shape == (4, 3) and not carried[0].requires_grad
    model.reset_states()
    assert model.layers[0]._carried is None
    first = model.predict(x[:4], batch_size=4, verbose=0)
    model.reset_states()
    np.testing.assert_array_equal(model.predict(x[:4], batch_size=4, verbose=0), first)

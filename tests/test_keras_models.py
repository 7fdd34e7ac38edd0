"""ember.keras models: Sequential, functional and subclassed Model; shape inference, summary text
(parameter counts equal Keras's for the same architectures), weights, what the training loop reads,
saving (zip of config JSON + safetensors weights, read back here by an independent safetensors
parser), JSON round trips, and error paths."""
import json
import struct
import zipfile

import numpy as np
import pytest

import ember
import ember as tf
import ember.nn.functional as F
from ember.keras import layers, models, saving
from ember.keras.layers.utils import reset_names

RNG = np.random.default_rng(11)


@pytest.fixture(autouse=True)
def _fresh_names():
    reset_names()


def t(a, dtype=np.float32):
    return ember.from_numpy(np.array(a, dtype=dtype))


def mnist_convnet():
    """Keras's "Simple MNIST convnet" example: 34,826 parameters."""
    return models.Sequential([
        layers.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


def branching_model():
    inputs = tf.keras.Input(shape=(6,), name="features")
    a = layers.Dense(8, activation="relu")(inputs)
    b = layers.Dense(8, activation="tanh")(inputs)
    merged = layers.Add()([a, b])
    joined = layers.Concatenate()([merged, inputs])
    outputs = layers.Dense(3, activation="softmax")(layers.BatchNormalization()(joined))
    return tf.keras.Model(inputs, outputs, name="branchy")


# ---- the import paths a Keras program uses ---------------------------------------------------------------

def test_keras_import_paths():
    from ember.keras.layers import Dense
    from ember.keras.models import Sequential
    assert tf.keras.Sequential is Sequential and tf.keras.layers.Dense is Dense
    assert tf.keras.Model is models.Model and tf.keras.Input is layers.Input
    assert callable(tf.keras.models.load_model) and callable(tf.keras.models.model_from_json)


# ---- Sequential and shape inference ----------------------------------------------------------------------

def test_sequential_builds_from_input_shape_input_dim_and_input():
    for first in (layers.Dense(4, input_shape=(3,)), layers.Dense(4, input_dim=3)):
        model = models.Sequential([first, layers.Dense(2)])
        assert model.built and model.layers[1].kernel.shape == (4, 2) and model.output_shape == (None, 2)
    model = models.Sequential()
    model.add(layers.Input(shape=(3,)))
    model.add(layers.Dense(5))
    assert model.built and model.input_shape == (None, 3) and model.count_params() == 20
    lazy = models.Sequential([layers.Dense(4), layers.Dense(1)])
    assert not lazy.built and lazy.weights == []
    out = lazy(np.ones((7, 3)))  # built by the first call
    assert out.shape == (7, 1) and lazy.built and lazy.layers[0].kernel.shape == (3, 4)
    assert lazy.layers[1].output_shape == (None, 1)


def test_sequential_add_pop_and_errors():
    model = models.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    popped = model.pop()
    assert popped.name == "dense_1" and len(model.layers) == 1 and model.output_shape == (None, 4)
    model.add(layers.Dense(6))
    assert model(ember.ones(2, 3)).shape == (2, 6)
    with pytest.raises(TypeError, match="Only instances of `keras.Layer` can be added to a Sequential model"):
        model.add("dense")
    with pytest.raises(ValueError, match="should have unique names"):
        model.add(layers.Dense(1, name="dense"))
    with pytest.raises(ValueError, match=r'Input 0 of layer "dense" is incompatible with the layer: expected axis -1 '
                                         r"of input shape to have value 3, but received input with shape \(32, 5\)"):
        model(ember.zeros(32, 5))
    with pytest.raises(TypeError, match="There are no layers in the model"):
        models.Sequential().pop()


def test_sequential_numerics_match_manual_composition():
    model = models.Sequential([layers.Dense(5, activation="relu", input_shape=(4,)), layers.Dense(2)], name="mlp")
    x = RNG.standard_normal((6, 4))
    k1, b1, k2, b2 = model.get_weights()
    expected = np.maximum(x @ k1 + b1, 0) @ k2 + b2
    np.testing.assert_allclose(model(t(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model(t(x), training=True).numpy(), expected, rtol=1e-5, atol=1e-6)


# ---- summary -------------------------------------------------------------------------------------------

def test_summary_of_the_mnist_convnet_matches_keras():
    lines = []
    mnist_convnet().summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert lines[0] == 'Model: "sequential"'
    assert "┃ Layer (type)" in lines[2] and "Output Shape" in lines[2] and "Param # ┃" in lines[2]
    expected_rows = [("conv2d (Conv2D)", "(None, 26, 26, 32)", "320"),
                     ("max_pooling2d (MaxPooling2D)", "(None, 13, 13, 32)", "0"),
                     ("conv2d_1 (Conv2D)", "(None, 11, 11, 64)", "18,496"),
                     ("max_pooling2d_1 (MaxPooling2D)", "(None, 5, 5, 64)", "0"),
                     ("flatten (Flatten)", "(None, 1600)", "0"),
                     ("dropout (Dropout)", "(None, 1600)", "0"),
                     ("dense (Dense)", "(None, 10)", "16,010")]
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines if line.startswith("│")]
    assert [tuple(r) for r in rows] == expected_rows
    assert lines[-3:] == [" Total params: 34,826 (136.04 KB)", " Trainable params: 34,826 (136.04 KB)",
                          " Non-trainable params: 0 (0.00 B)"]
    assert "InputLayer" not in text  # Keras's Sequential summary leaves the input out
    widths = {len(line) for line in lines[1:-3]}
    assert len(widths) == 1  # every table line has the same width


def test_summary_dense_counts_batchnorm_and_functional_connections(capsys):
    lines = []
    branching_model().summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text and "features (InputLayer)" in text and "dense[0][0], dense_1[0][0]" in text
    assert "add[0][0], features[0][0]" in text
    model = models.Sequential([layers.Dense(64, input_shape=(784,)), layers.BatchNormalization(), layers.Dense(10)])
    model.summary()
    out = capsys.readouterr().out
    assert "50,240" in out and "256" in out and "650" in out
    assert " Total params: 51,146 (199.79 KB)" in out
    assert " Trainable params: 51,018 (199.29 KB)" in out and " Non-trainable params: 128 (512.00 B)" in out


# ---- functional models ---------------------------------------------------------------------------------

def test_functional_branch_and_merge():
    model = branching_model()
    assert isinstance(model, models.Functional) and isinstance(model, models.Model)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense", "Dense", "Add", "Concatenate",
                                                                 "BatchNormalization", "Dense"]
    x = RNG.standard_normal((5, 6))
    k1, b1, k2, b2, gamma, beta, mm, mv, k3, b3 = model.get_weights()
    joined = np.concatenate([np.maximum(x @ k1 + b1, 0) + np.tanh(x @ k2 + b2), x], -1)
    logits = ((joined - mm) / np.sqrt(mv + 1e-3) * gamma + beta) @ k3 + b3
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(model(t(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert model.output_activation_name == "softmax"
    assert model.inputs[0].shape == (None, 6) and model.outputs[0].shape == (None, 3)


def test_functional_multiple_inputs_outputs_and_shared_layer():
    a_in, b_in = layers.Input(shape=(3,)), layers.Input(shape=(3,))
    shared = layers.Dense(2, name="shared")
    a, b = shared(a_in), shared(b_in)
    model = models.Model(inputs=[a_in, b_in], outputs=[layers.Subtract()([a, b]), a])
    xa, xb = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    diff, first = model([t(xa), t(xb)])
    kernel, bias = shared.get_weights()
    np.testing.assert_allclose(diff.numpy(), (xa - xb) @ kernel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(first.numpy(), xa @ kernel + bias, rtol=1e-5, atol=1e-6)
    assert model.count_params() == 8  # the shared layer counts once
    with pytest.raises(ValueError, match="expects 2 input"):
        model(t(xa))


def test_functional_errors():
    inputs = layers.Input(shape=(4,))
    other = layers.Input(shape=(4,))
    out = layers.Add()([layers.Dense(4)(inputs), other])
    with pytest.raises(ValueError, match="Graph disconnected"):
        models.Model(inputs, out)
    with pytest.raises(ValueError, match="All `outputs` values must be KerasTensors"):
        models.Model(inputs, ember.zeros(3))
    with pytest.raises(ValueError, match="must come from `keras.Input`"):
        hidden = layers.Dense(3)(inputs)
        models.Model(hidden, layers.Dense(1)(hidden))
    with pytest.raises(TypeError, match="arithmetic on symbolic tensors"):
        inputs + inputs
    model = models.Model(inputs, layers.Dense(1, name="head")(inputs))
    with pytest.raises(ValueError, match=r'Input 0 of layer "head" is incompatible with the layer: expected axis -1 of '
                                         r"input shape to have value 4, but received input with shape \(2, 5\)"):
        model(ember.zeros(2, 5))


# ---- subclassed models and what the training loop reads --------------------------------------------------

class TwoLayer(models.Model):
    def __init__(self, hidden=8, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.dense = layers.Dense(hidden, activation="relu")
        self.drop = layers.Dropout(0.999)
        self.out = layers.Dense(1, activation="sigmoid")

    def call(self, inputs, training=None):
        return self.out(self.drop(self.dense(inputs)))


def test_subclassed_model_layers_weights_and_training_flag():
    model = TwoLayer()
    assert not model.built
    x = ember.ones(16, 3)
    inference = model(x).numpy()
    assert model.built
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dropout", "Dense"]
    assert len(model.weights) == 4 and model.count_params() == 3 * 8 + 8 + 8 + 1
    trained = model(x, training=True).numpy()  # the flag reaches the Dropout inside call()
    assert not np.allclose(trained, inference)
    np.testing.assert_allclose(model(x, training=False).numpy(), inference)
    lines = []
    model.summary(print_fn=lines.append)
    assert " Total params: 41 (164.00 B)" in lines


def test_training_loop_interface():
    model = models.Sequential([layers.Dense(8, activation="relu", input_shape=(3,), kernel_regularizer="l2"),
                               layers.Dense(1, activation="sigmoid")])
    assert model.optimizer is None and model.stop_training is False and model.built
    assert model.output_activation_name == "sigmoid"
    assert models.Sequential([layers.Dense(2, input_shape=(1,))]).output_activation_name is None
    assert models.Sequential([layers.Dense(2, input_shape=(1,)), layers.Activation("softmax")]).output_activation_name == "softmax"
    weights = model.trainable_weights
    assert len(weights) == 4 and all(w.requires_grad for w in weights)
    x, y = t(RNG.standard_normal((64, 3))), t((RNG.standard_normal((64, 1)) > 0).astype(np.float32))
    optimizer = ember.optim.SGD(weights, lr=0.5)
    losses = []
    for _ in range(30):
        out = model(x, training=True)
        assert isinstance(out, ember.Tensor) and out.shape == (64, 1)
        loss = F.binary_cross_entropy(out, y)
        regularization = model.losses
        assert len(regularization) == 1 and regularization[0].requires_grad
        total = loss + regularization[0]
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.9


# ---- saving -------------------------------------------------------------------------------------------

def parse_safetensors(path):
    """A minimal safetensors reader written from the format's specification, independent of ember.io."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    dtypes = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "BOOL": "?"}
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        out[name] = np.frombuffer(body[begin:end], dtype=dtypes[entry["dtype"]]).reshape(entry["shape"])
    return header.get("__metadata__"), out


def test_save_weights_is_readable_safetensors(tmp_path):
    model = models.Sequential([layers.Dense(3, input_shape=(2,)), layers.BatchNormalization(), layers.Dense(1)])
    path = tmp_path / "model.weights.safetensors"
    model.save_weights(path)
    metadata, arrays = parse_safetensors(path)
    assert metadata == {"format": "ember.keras"}
    keys = ["layers/dense/vars/0", "layers/dense/vars/1", "layers/batch_normalization/vars/0",
            "layers/batch_normalization/vars/1", "layers/batch_normalization/vars/2",
            "layers/batch_normalization/vars/3", "layers/dense_1/vars/0", "layers/dense_1/vars/1"]
    assert sorted(arrays) == sorted(keys)
    for key, value in zip(keys, model.get_weights()):
        np.testing.assert_array_equal(arrays[key], value)
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
    assert (8 + length) % 8 == 0  # the data section starts 8-byte aligned


def test_ember_io_round_trip_and_errors(tmp_path):
    tensors = {"a": ember.randn(3, 4), "b": np.arange(5, dtype=np.int64), "c": np.array(True), "d": ember.zeros(0, 2)}
    path = tmp_path / "t.safetensors"
    ember.io.save_file(tensors, path, metadata={"note": "x"})
    back = ember.io.load_file(path)
    assert ember.io.read_metadata(path) == {"note": "x"}
    for name, value in tensors.items():
        np.testing.assert_array_equal(np.asarray(back[name]), np.asarray(value))
        assert back[name].shape == tuple(np.shape(value))
    _, independent = parse_safetensors(path)
    np.testing.assert_array_equal(independent["a"], np.asarray(tensors["a"]))
    (tmp_path / "bad").write_bytes(b"\x05\x00\x00\x00\x00\x00\x00\x00{oops")
    with pytest.raises(ValueError, match="not valid JSON"):
        ember.io.load_file(tmp_path / "bad")
    with pytest.raises(FileNotFoundError, match="no such file"):
        ember.io.load_file(tmp_path / "missing")


def test_save_and_load_model_give_identical_predictions(tmp_path):
    model = models.Sequential([layers.Input(shape=(8, 8, 1)), layers.Conv2D(4, 3, padding="same", activation="relu"),
                               layers.BatchNormalization(), layers.MaxPooling2D(), layers.Flatten(),
                               layers.Dropout(0.2), layers.Dense(3, activation="softmax")])
    x = t(RNG.standard_normal((5, 8, 8, 1)))
    model(x, training=True)  # moves the BatchNormalization statistics off their initial values
    path = tmp_path / "cnn.keras"
    model.save(path)
    assert zipfile.is_zipfile(path)
    loaded = models.load_model(path)
    assert type(loaded) is models.Sequential and [layer.name for layer in loaded.layers] == [l.name for l in model.layers]
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    functional = branching_model()
    functional.save(tmp_path / "f.keras")
    again = models.load_model(tmp_path / "f.keras")
    xf = t(RNG.standard_normal((4, 6)))
    np.testing.assert_array_equal(again(xf).numpy(), functional(xf).numpy())
    assert again.name == "branchy" and again.output_activation_name == "softmax"


def test_save_load_custom_and_subclassed(tmp_path):
    @saving.register_keras_serializable(package="tests")
    class Doubling(layers.Layer):
        def call(self, inputs):
            return inputs * 2.0

    model = models.Sequential([layers.Dense(3, input_shape=(2,)), Doubling()])
    model.save(tmp_path / "custom.keras")
    loaded = models.load_model(tmp_path / "custom.keras")
    x = t(RNG.standard_normal((3, 2)))
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())

    class Unregistered(layers.Layer):
        def call(self, inputs):
            return inputs + 1.0

    plain = models.Sequential([layers.Dense(2, input_shape=(2,)), Unregistered()])
    plain.save(tmp_path / "plain.keras")
    with pytest.raises(ValueError, match="Could not locate class 'Unregistered'.*custom_objects"):
        models.load_model(tmp_path / "plain.keras")
    back = models.load_model(tmp_path / "plain.keras", custom_objects={"Unregistered": Unregistered})
    np.testing.assert_array_equal(back(x).numpy(), plain(x).numpy())

    sub = TwoLayer(hidden=5)
    sub(x)
    sub.save(tmp_path / "sub.keras")
    revived = models.load_model(tmp_path / "sub.keras", custom_objects={"TwoLayer": TwoLayer})
    assert revived.hidden == 5
    np.testing.assert_array_equal(revived(x).numpy(), sub(x).numpy())


def test_load_weights_checks_architecture(tmp_path):
    model = models.Sequential([layers.Dense(3, input_shape=(2,)), layers.Dense(1)])
    model.save_weights(tmp_path / "w.safetensors")
    twin = models.Sequential([layers.Dense(3, input_shape=(2,), name="first"), layers.Dense(1, name="second")])
    twin.load_weights(tmp_path / "w.safetensors")  # keyed by position, not by the layers' names
    for a, b in zip(twin.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    wider = models.Sequential([layers.Dense(4, input_shape=(2,)), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"layers/dense/vars/0.*shape \(2, 4\) in the model but \(2, 3\)"):
        wider.load_weights(tmp_path / "w.safetensors")
    deeper = models.Sequential([layers.Dense(3, input_shape=(2,)), layers.Dense(1), layers.Dense(1)])
    with pytest.raises(ValueError, match="missing weights.*layers/dense_2/vars/0"):
        deeper.load_weights(tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="has not yet been built"):
        models.Sequential([layers.Dense(1)]).load_weights(tmp_path / "w.safetensors")


def test_json_round_trip_and_clone():
    for model in (mnist_convnet(), branching_model()):
        text = model.to_json()
        config = json.loads(text)
        rebuilt = models.model_from_json(text)
        assert json.loads(rebuilt.to_json())["config"] == config["config"]
        assert rebuilt.count_params() == model.count_params()
    clone = models.clone_model(mnist_convnet())
    assert clone.count_params() == 34826


def test_model_dtype_follows_its_layers():
    model = models.Sequential([layers.Dense(3, input_shape=(2,), dtype="float64"), layers.Dense(1, dtype="float64")])
    out = model(ember.ones(4, 2, dtype=ember.float64))
    assert out.dtype == ember.float64
    x = RNG.standard_normal((4, 2))
    np.testing.assert_allclose(model(x).numpy(), model(t(x, np.float64)).numpy(), rtol=1e-15)  # no float32 detour
    assert models.Sequential([layers.Dense(1, input_shape=(2,))])(np.ones((3, 2))).dtype == ember.float32


def test_nested_models(tmp_path):
    block = models.Sequential([layers.Dense(4, activation="relu"), layers.Dense(4)], name="block")
    inputs = layers.Input(shape=(3,))
    encoder = models.Model(inputs, layers.Dense(4)(inputs), name="encoder")
    outer_in = layers.Input(shape=(3,))
    outputs = layers.Dense(1)(block(encoder(outer_in)))
    model = models.Model(outer_in, outputs)
    x = t(RNG.standard_normal((5, 3)))
    expected = model.layers[-1](block(encoder(x))).numpy()
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-6)
    assert model.count_params() == 16 + 20 + 20 + 5
    stacked = models.Sequential([layers.Input(shape=(3,)), models.Sequential([layers.Dense(2)]), layers.Dense(1)])
    assert stacked.output_shape == (None, 1) and stacked.count_params() == 8 + 3
    for m in (model, stacked):
        m.save(tmp_path / "nested.keras")
        np.testing.assert_array_equal(models.load_model(tmp_path / "nested.keras")(x).numpy(), m(x).numpy())

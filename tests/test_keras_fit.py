"""compile / fit / evaluate / predict: the training loop against a hand-written ember loop (same
weights after an epoch), the logs, validation, callbacks, class weights, regularization, the
one-batch methods, the progress output, Keras's import paths, and the error paths."""
import io
import contextlib
import warnings

import numpy as np
import pytest

import ember
import ember as tf
from ember import keras
from ember.keras import layers

RNG = np.random.default_rng(5)


def _regression(n=256, features=3):
    x = RNG.standard_normal((n, features)).astype(np.float32)
    y = (x @ np.arange(1, features + 1, dtype=np.float32)[:, None] - 0.5).astype(np.float32)
    return x, y


def _classes(n=300, classes=3, features=4):
    centers = 3 * RNG.standard_normal((classes, features))
    labels = RNG.integers(0, classes, n)
    x = (centers[labels] + RNG.standard_normal((n, features))).astype(np.float32)
    return x, labels.astype(np.int64)


def _dense_model(features=3, units=1, **kwargs):
    ember.manual_seed(0)
    return keras.Sequential([layers.Dense(units, input_shape=(features,), **kwargs)])


# ---- the loop itself ------------------------------------------------------------------------------------

def test_fit_matches_a_hand_written_loop():
    """One epoch of fit (SGD, no shuffling) ends at the weights of the same loop written by hand."""
    x, y = _regression(100)
    model = _dense_model()
    kernel, bias = model.get_weights()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)

    w, b = kernel.astype(np.float64), bias.astype(np.float64)
    losses = []
    for start in range(0, len(x), 16):
        xb, yb = x[start:start + 16].astype(np.float64), y[start:start + 16].astype(np.float64)
        err = xb @ w + b - yb
        losses.append((np.mean(err ** 2), len(xb)))
        w -= 0.05 * 2 * xb.T @ err / err.size
        b -= 0.05 * 2 * err.sum(0) / err.size
    got_w, got_b = model.get_weights()
    np.testing.assert_allclose(got_w, w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_b, b, rtol=1e-4, atol=1e-5)
    # the logged loss is the batch-size-weighted mean over the epoch
    expected = sum(v * n for v, n in losses) / sum(n for _, n in losses)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-4)


def test_regression_learns_and_history_has_every_epoch():
    x, y = _regression()
    model = _dense_model()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=5, verbose=0)
    assert list(history.history) == ["loss"] and len(history.history["loss"]) == 5
    assert history.epoch == [0, 1, 2, 3, 4] and model.history is history
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_classifier_reaches_high_accuracy_with_each_label_form():
    x, labels = _classes()
    for loss, y in (("sparse_categorical_crossentropy", labels), ("sparse_categorical_crossentropy", labels[:, None]),
                    ("categorical_crossentropy", keras.utils.to_categorical(labels, 3))):
        ember.manual_seed(0)
        model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(16, activation="relu"),
                                  layers.Dense(3, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss=loss, metrics=["accuracy"])
        history = model.fit(x, y, batch_size=32, epochs=15, verbose=0)
        assert history.history["accuracy"][-1] > 0.9, loss
        loss_value, accuracy = model.evaluate(x, y, verbose=0)
        predicted = model.predict(x, verbose=0).argmax(1)
        assert accuracy == pytest.approx(np.mean(predicted == labels), abs=1e-6)


def test_evaluate_and_predict_forms():
    x, y = _regression(70)
    model = _dense_model()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    loss, mae = model.evaluate(x, y, batch_size=16, verbose=0)
    pred = model.predict(x, batch_size=16, verbose=0)
    assert isinstance(pred, np.ndarray) and pred.shape == (70, 1)
    np.testing.assert_allclose(pred, model.predict(x, batch_size=70, verbose=0), rtol=1e-6)
    assert loss == pytest.approx(np.mean((pred - y) ** 2), rel=1e-5)
    assert mae == pytest.approx(np.mean(np.abs(pred - y)), rel=1e-5)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": pytest.approx(loss),
                                                                "mae": pytest.approx(mae)}
    model.compile(optimizer="sgd", loss="mse")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    # ember tensors and lists are accepted too
    assert model.evaluate(ember.from_numpy(x), ember.from_numpy(y), verbose=0) == pytest.approx(loss, rel=1e-6)
    assert model.predict(x.tolist(), verbose=0).shape == (70, 1)


def test_one_batch_methods():
    x, y = _regression(20)
    model = _dense_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = model.test_on_batch(x, y)
    first = model.train_on_batch(x, y)
    assert first == pytest.approx(before, rel=1e-6)  # the loss before the step
    assert model.test_on_batch(x, y) < before
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict(x, verbose=0), rtol=1e-6)


def test_validation_split_and_validation_data():
    x, labels = _classes(200)
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3)])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, labels, epochs=2, validation_split=0.25, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    val = model.evaluate(x[150:], labels[150:], verbose=0, return_dict=True)
    assert history.history["val_loss"][-1] == pytest.approx(val["loss"], rel=1e-5)
    history = model.fit(x[:150], labels[:150], epochs=1, validation_data=(x[150:], labels[150:]), verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[150:], labels[150:], verbose=0)[0],
                                                           rel=1e-5)


def test_initial_epoch_and_dataset_input():
    x, y = _regression(64)
    model = _dense_model()
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, epochs=3, initial_epoch=1, verbose=0)
    assert history.epoch == [1, 2]
    loader = ember.data.DataLoader(ember.data.TensorDataset(ember.from_numpy(x), ember.from_numpy(y)), batch_size=16)
    history = model.fit(loader, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2

    def batches():
        for start in range(0, 64, 16):
            yield x[start:start + 16], y[start:start + 16]
    assert model.evaluate(batches(), verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)


def test_class_weight_scales_each_class():
    x, labels = _classes(90)
    weights = {0: 1.0, 1: 3.0, 2: 0.5}
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    weighted = model.fit(x, labels, batch_size=90, epochs=1, class_weight=weights, verbose=0).history["loss"][0]
    logits = model.predict(x, verbose=0).astype(np.float64)
    per_sample = np.log(np.exp(logits).sum(1)) - logits[np.arange(90), labels]
    expected = np.mean(per_sample * np.vectorize(weights.get)(labels))
    assert weighted == pytest.approx(expected, rel=1e-5)


def test_regularization_penalty_is_part_of_the_loss():
    x, y = _regression(40)
    model = _dense_model(kernel_regularizer=keras.regularizers.l2(0.1))
    model.compile(optimizer="sgd", loss="mse")
    kernel, bias = model.get_weights()
    mse = np.mean((x @ kernel + bias - y) ** 2)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(mse + 0.1 * np.sum(kernel ** 2), rel=1e-5)


def _sgd_on_mse(x, y, kernel, bias, lr, batch, kernel_l2=0.0, activity_l2=0.0, activity_from_step=0):
    """The weights and the per-step losses of plain SGD on the MSE of a linear model, in float64, with
    an L2 kernel penalty and an L2 activity penalty (from step `activity_from_step` on)."""
    w, b = kernel.astype(np.float64), bias.astype(np.float64)
    losses = []
    for step, start in enumerate(range(0, len(x), batch)):
        xb, yb = x[start:start + batch].astype(np.float64), y[start:start + batch].astype(np.float64)
        out = xb @ w + b
        err = out - yb
        activity = activity_l2 if step >= activity_from_step else 0.0
        losses.append(np.mean(err ** 2) + kernel_l2 * np.sum(w ** 2) + activity * np.sum(out ** 2))
        grad_out = 2 * err / err.size + 2 * activity * out
        w, b = w - lr * (xb.T @ grad_out + 2 * kernel_l2 * w), b - lr * grad_out.sum(0)
    return w, b, losses


def test_fit_steps_add_the_penalties():
    """Penalties count in every step: those of weights that the first step's forward creates (a model
    built lazily), and those of an activity regularizer that a callback sets during fit."""
    x = np.random.default_rng(7).standard_normal((48, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [2.0], [3.0]], np.float32) - 0.5).astype(np.float32)
    model = keras.Sequential([layers.Dense(1, kernel_initializer=keras.initializers.Constant(0.5),
                                           kernel_regularizer=keras.regularizers.l2(0.1))])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    w, b, losses = _sgd_on_mse(x, y, np.full((3, 1), 0.5), np.zeros(1), lr=0.05, batch=16, kernel_l2=0.1)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-4, atol=1e-5)
    assert history.history["loss"][0] == pytest.approx(np.mean(losses), rel=1e-4)

    model = _dense_model()
    kernel, bias = model.get_weights()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")

    def regularize_from_now(batch, logs):
        if batch == 0:
            model.layers[0].activity_regularizer = keras.regularizers.l2(0.01)
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0,
                        callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=regularize_from_now)])
    w, b, losses = _sgd_on_mse(x, y, kernel, bias, lr=0.05, batch=16, activity_l2=0.01, activity_from_step=1)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-4, atol=1e-5)
    assert history.history["loss"][0] == pytest.approx(np.mean(losses), rel=1e-4)


def test_a_sequential_subclass_trains_through_its_own_call():
    class Doubled(keras.Sequential):
        def call(self, inputs, training=None):
            return super().call(inputs, training=training) * 2.0

    x = np.random.default_rng(8).standard_normal((32, 3)).astype(np.float32)
    y = x.sum(1, keepdims=True)
    ember.manual_seed(0)
    model = Doubled([layers.Dense(1, input_shape=(3,))])
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), 2 * (x @ kernel + bias), rtol=1e-5, atol=1e-6)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    history = model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(np.mean((2 * (x @ kernel + bias) - y) ** 2), rel=1e-5)


def test_callbacks_drive_training():
    x, y = _regression(64)
    model = _dense_model()
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")  # no progress: early stopping fires
    history = model.fit(x, y, epochs=10, verbose=0,
                        callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=2)])
    assert len(history.history["loss"]) == 3
    seen = []
    model.fit(x, y, epochs=2, verbose=0, callbacks=[keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append((epoch, sorted(logs))),
        on_train_batch_end=lambda batch, logs: seen.append(batch))])
    assert seen == [0, 1, (0, ["loss"]), 0, 1, (1, ["loss"])]
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=3, verbose=0,
              callbacks=[keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1 / 3)


def test_progress_output(capsys):
    x, y = _regression(64)
    model = _dense_model()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert out.count("2/2 - ") == 2 and " - loss: " in out and " - mae: " in out
    model.fit(x, y, epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert capsys.readouterr().out == ""


def test_subclassed_and_functional_models_train():
    x, y = _regression(64)

    class Linear(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, inputs, training=None):
            return self.dense(inputs)

    inputs = keras.Input(shape=(3,))
    hidden = layers.Dense(8, activation="tanh")(inputs)
    functional = keras.Model(inputs, layers.Add()([layers.Dense(1)(hidden), layers.Dense(1)(inputs)]))
    for model in (Linear(), functional):
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
        history = model.fit(x, y, batch_size=8, epochs=10, verbose=0)
        assert history.history["loss"][-1] < 0.1 * history.history["loss"][0], type(model).__name__


def test_save_and_load_keep_the_compile_settings(tmp_path):
    x, y = _regression(32)
    model = _dense_model()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)
    loaded.fit(x, y, epochs=1, verbose=0)


# ---- Keras's import paths -------------------------------------------------------------------------------

def test_keras_import_paths():
    from ember.keras import layers as layers_module, models
    from ember.keras.layers import Dense
    from ember.keras.models import Sequential
    from ember.keras.optimizers import SGD
    model = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=(3,))])
    assert isinstance(model, Sequential) and models.Sequential is Sequential and layers_module.Dense is Dense
    model.compile(optimizer=SGD(), loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert model.fit(np.zeros((4, 3), np.float32), np.array([0, 1, 0, 1]), verbose=0).history["loss"]


# ---- bad input ------------------------------------------------------------------------------------------

def test_fit_before_compile():
    model = _dense_model()
    with pytest.raises(RuntimeError, match=r"fit: you must call `compile\(\)`"):
        model.fit(*_regression(8), verbose=0)
    with pytest.raises(RuntimeError, match="evaluate: you must call"):
        model.evaluate(*_regression(8), verbose=0)


def test_errors_name_what_is_wrong():
    x, y = _regression(10)
    model = _dense_model()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="10.*9|9.*10"):
        model.fit(x, y[:9], verbose=0)
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3.*\\(32, 5\\)|"
                                         "expected axis -1 of input shape to have value 3.*\\(10, 5\\)"):
        model.fit(np.zeros((10, 5), np.float32), y, verbose=0)
    with pytest.raises(ValueError, match="adam"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="mean_squared_error|mse"):
        model.compile(optimizer="sgd", loss="msee")
    with pytest.raises(ValueError, match="accuracy"):
        model.compile(optimizer="sgd", loss="mse", metrics=["acuracy"])
    classifier = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(4)])
    classifier.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(ValueError, match="7.*4|4.*7"):
        classifier.fit(x[:2], np.array([1, 7]), verbose=0)


def test_from_logits_on_a_softmax_output_warns():
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(4, activation="softmax")])
    with pytest.warns(UserWarning, match="from_logits=True.*Softmax"):
        model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")

"""Models with several outputs: per-output losses (list, dict by output name, or one for all),
loss_weights, per-output metrics, targets and sample weights by structure, Keras's log names, and
the training step minimizing the weighted sum."""
import numpy as np
import pytest

import ember
from ember import keras
from ember.keras import layers

RNG = np.random.default_rng(21)
X = RNG.random((40, 4)).astype(np.float32)
Y_REG = RNG.random((40, 1)).astype(np.float32)
Y_CLS = RNG.integers(0, 3, 40)


def two_headed(dict_outputs=False, seed=0):
    ember.manual_seed(seed)
    inp = keras.Input((4,))
    h = layers.Dense(8, activation="relu")(inp)
    reg = layers.Dense(1, name="reg")(h)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    return keras.Model(inp, {"r": reg, "c": cls} if dict_outputs else [reg, cls])


def manual_losses(model):
    reg, cls = model.predict(X, verbose=0)
    mse = float(((reg.astype(np.float64) - Y_REG) ** 2).mean())
    ce = float(-np.log(cls.astype(np.float64)[np.arange(40), Y_CLS]).mean())
    return reg, cls, mse, ce


def test_losses_weights_and_metrics_by_output_name():
    model = two_headed()
    assert model.output_names == ["reg", "cls"]
    model.compile(optimizer="sgd", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  loss_weights={"cls": 0.5}, metrics={"cls": ["accuracy"], "reg": ["mae"]})
    logs = model.evaluate(X, [Y_REG, Y_CLS], verbose=0, return_dict=True)
    reg, cls, mse, ce = manual_losses(model)
    assert list(logs) == ["loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy"]
    assert logs["loss"] == pytest.approx(mse + 0.5 * ce, rel=1e-5)
    assert logs["reg_loss"] == pytest.approx(mse, rel=1e-5) and logs["cls_loss"] == pytest.approx(ce, rel=1e-5)
    assert logs["reg_mae"] == pytest.approx(np.abs(reg - Y_REG).mean(), rel=1e-5)
    assert logs["cls_accuracy"] == pytest.approx((cls.argmax(1) == Y_CLS).mean())
    # targets as a dict by output name; evaluate's list follows metrics_names
    values = model.evaluate(X, {"cls": Y_CLS, "reg": Y_REG}, verbose=0)
    assert model.metrics_names == list(logs) and values == pytest.approx(list(logs.values()))


def test_list_losses_and_one_loss_for_every_output():
    model = two_headed()
    model.compile(optimizer="sgd", loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[2.0, 1.0],
                  metrics=[["mae"], ["accuracy"]])
    logs = model.evaluate(X, [Y_REG, Y_CLS], verbose=0, return_dict=True)
    _, _, mse, ce = manual_losses(model)
    assert logs["loss"] == pytest.approx(2 * mse + ce, rel=1e-5)
    # one loss applies to each output (here two regression heads)
    ember.manual_seed(1)
    inp = keras.Input((4,))
    a, b = layers.Dense(1, name="a")(inp), layers.Dense(2, name="b")(inp)
    model = keras.Model(inp, [a, b])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    yb = RNG.random((40, 2)).astype(np.float32)
    logs = model.evaluate(X, [Y_REG, yb], verbose=0, return_dict=True)
    pa, pb = model.predict(X, verbose=0)
    mse_a, mse_b = ((pa - Y_REG) ** 2).mean(), ((pb - yb) ** 2).mean()
    assert logs["loss"] == pytest.approx(mse_a + mse_b, rel=1e-5)
    assert set(logs) == {"loss", "a_loss", "b_loss", "a_mae", "b_mae"}


def test_dict_outputs_and_sample_weights():
    model = two_headed(dict_outputs=True)
    assert model.output_names == ["r", "c"]
    model.compile(optimizer="sgd", loss={"r": "mse", "c": "sparse_categorical_crossentropy"})
    weights = RNG.random(40).astype(np.float32)
    logs = model.evaluate(X, {"r": Y_REG, "c": Y_CLS}, sample_weight=weights, verbose=0, return_dict=True)
    out = model.predict(X, verbose=0)
    reg, cls = (out["r"], out["c"]) if isinstance(out, dict) else out
    per_reg = ((reg - Y_REG) ** 2).mean(axis=1)
    per_cls = -np.log(cls[np.arange(40), Y_CLS])
    # Keras's sum_over_batch_size: the weighted sum over the batch size
    expected = (per_reg * weights).sum() / 40 + (per_cls * weights).sum() / 40
    assert logs["loss"] == pytest.approx(expected, rel=1e-4)
    # per-output sample weights: none for the classifier
    logs2 = model.evaluate(X, {"r": Y_REG, "c": Y_CLS}, sample_weight={"r": weights}, verbose=0,
                           return_dict=True)
    assert logs2["c_loss"] == pytest.approx(per_cls.mean(), rel=1e-4)
    assert logs2["r_loss"] == pytest.approx(logs["r_loss"], rel=1e-6)


def test_fit_minimizes_the_weighted_sum_like_a_hand_written_loop():
    model = two_headed(seed=3)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                  loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[1.0, 0.25])
    reference = two_headed(seed=3)
    history = model.fit(X, [Y_REG, Y_CLS], epochs=4, batch_size=40, shuffle=False, verbose=0).history
    # the same step written by hand with ember's autograd
    params = reference.trainable_weights
    x, y_reg, y_cls = ember.from_numpy(X), ember.from_numpy(Y_REG), ember.from_numpy(Y_CLS)
    losses = []
    for _ in range(4):
        reg, cls = reference(x)
        loss = ((reg - y_reg) ** 2).mean() + 0.25 * ember.nn.functional.nll_loss(cls.log(), y_cls)
        losses.append(loss.item())
        for p in params:
            p.grad = None
        loss.backward()
        with ember.no_grad():
            for p in params:
                p.sub_(0.1 * p.grad)
    np.testing.assert_allclose(history["loss"], losses, rtol=2e-5)
    assert history["loss"][-1] < history["loss"][0]


def test_compile_config_and_save_round_trip(tmp_path):
    model = two_headed()
    model.compile(optimizer="adam", loss={"reg": "mse", "cls": keras.losses.SparseCategoricalCrossentropy()},
                  loss_weights={"reg": 3.0}, metrics={"cls": ["accuracy"]})
    before = model.evaluate(X, [Y_REG, Y_CLS], verbose=0, return_dict=True)
    path = tmp_path / "two.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    after = loaded.evaluate(X, [Y_REG, Y_CLS], verbose=0, return_dict=True)
    assert list(after) == list(before) and list(after.values()) == pytest.approx(list(before.values()), rel=1e-6)


def test_structure_errors():
    model = two_headed()
    model.compile(optimizer="sgd", loss=["mse"])
    with pytest.raises(ValueError, match=r"got 1 losses for a model with 2 output\(s\) \['reg', 'cls'\]"):
        model.evaluate(X, [Y_REG, Y_CLS], verbose=0)
    model.compile(optimizer="sgd", loss={"reg": "mse", "clss": "mse"})
    with pytest.raises(ValueError, match=r"losses names \['clss'\], which are not outputs of the model; its "
                                         r"outputs are \['reg', 'cls'\]"):
        model.evaluate(X, [Y_REG, Y_CLS], verbose=0)
    model.compile(optimizer="sgd", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"})
    with pytest.raises(ValueError, match=r"evaluate: the model has 2 outputs \['reg', 'cls'\] but y is one array"):
        model.evaluate(X, Y_REG, verbose=0)
    with pytest.raises(ValueError, match=r"class_weight is only supported for a model with a single output"):
        model.fit(X, [Y_REG, Y_CLS], class_weight={0: 1.0}, verbose=0)

"""ember.keras.callbacks and the progress bar, driven through CallbackList exactly as Keras's fit
loop calls them, on a stand-in model that has only the interface callbacks may use."""
import csv
import math
import re

import numpy as np
import pytest

from ember.keras import callbacks as cbks
from ember.keras import utils as kutils


# ---- a stand-in model and Keras's fit loop ------------------------------------------------------
class StandInOptimizer:
    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate


class StandInModel:
    """stop_training, get/set_weights, save/save_weights, optimizer.learning_rate: nothing more."""

    def __init__(self, learning_rate=0.1):
        self.stop_training = False
        self.optimizer = StandInOptimizer(learning_rate)
        self.weights = [np.zeros(2)]
        self.saved = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, path):
        open(path, "w").write("model")
        self.saved.append(("model", path))

    def save_weights(self, path):
        open(path, "w").write("weights")
        self.saved.append(("weights", path))


def weights_after(epoch, steps):
    """The stand-in's weights at the end of `epoch`: each step writes epoch * 10 + step."""
    return epoch * 10 + steps - 1


def fit(model, callbacks, epoch_logs, steps=3, batch_logs=None, verbose=0):
    """Keras's fit loop over given per-epoch logs; returns (history, epochs run)."""
    callback_list = cbks.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                                      verbose=verbose, epochs=len(epoch_logs), steps=steps)
    model.stop_training = False
    callback_list.on_train_begin()
    logs, run = None, 0
    for epoch, values in enumerate(epoch_logs):
        callback_list.on_epoch_begin(epoch)
        for step in range(steps):
            callback_list.on_train_batch_begin(step)
            model.weights = [np.full(2, float(epoch * 10 + step))]
            callback_list.on_train_batch_end(step, (batch_logs or {}).get((epoch, step), {"loss": 1.0}))
            if model.stop_training:
                break
        logs = dict(values)
        callback_list.on_epoch_end(epoch, logs)
        run += 1
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return callback_list.history, run


def val_losses(*values):
    return [{"loss": 1.0, "val_loss": v} for v in values]


# ---- CallbackList and History ------------------------------------------------------------------
def test_callback_list_calls_hooks_in_keras_order():
    calls = []

    class Recorder(cbks.Callback):
        def set_params(self, params):
            calls.append(("params", params["epochs"], params["steps"]))

        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(("epoch_begin", epoch))

        def on_batch_begin(self, batch, logs=None):  # the old alias still fires
            calls.append(("batch_begin", batch))

        def on_train_batch_end(self, batch, logs=None):
            calls.append(("batch_end", batch, logs))

        def on_epoch_end(self, epoch, logs=None):
            calls.append(("epoch_end", epoch, logs))

        def on_train_end(self, logs=None):
            calls.append(("train_end", logs))

    model = StandInModel()
    history, _ = fit(model, [Recorder()], val_losses(0.5), steps=2)
    assert calls == [("params", 1, 2), "train_begin", ("epoch_begin", 0),
                     ("batch_begin", 0), ("batch_end", 0, {"loss": 1.0}),
                     ("batch_begin", 1), ("batch_end", 1, {"loss": 1.0}),
                     ("epoch_end", 0, {"loss": 1.0, "val_loss": 0.5}), ("train_end", {"loss": 1.0, "val_loss": 0.5})]
    assert model.history is history


def test_history_records_every_epoch():
    model = StandInModel()
    history, run = fit(model, [], val_losses(0.5, 0.4, 0.3))
    assert run == 3
    assert history.history == {"loss": [1.0, 1.0, 1.0], "val_loss": [0.5, 0.4, 0.3]}
    assert history.epoch == [0, 1, 2]
    assert model.history is history


def test_batch_logs_reach_callbacks_sorted_and_as_floats():
    np_scalar = np.float32(0.25)
    seen = []
    lam = cbks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs))
    fit(StandInModel(), [lam], val_losses(1.0), steps=1, batch_logs={(0, 0): {"mse": np_scalar, "loss": 2}})
    assert list(seen[0]) == ["loss", "mse"] and all(type(v) is float for v in seen[0].values())


def test_callback_list_rejects_classes_and_non_callbacks():
    with pytest.raises(TypeError, match=r"the class EarlyStopping \(create an instance"):
        cbks.CallbackList([cbks.EarlyStopping])
    with pytest.raises(TypeError, match="Callback instances, got a str"):
        cbks.CallbackList(["early"])


def test_needs_batch_hooks_tells_when_batch_calls_can_be_skipped():
    quiet = cbks.CallbackList([cbks.EarlyStopping(), cbks.CSVLogger("unused.csv")], add_history=True,
                              add_progbar=True, verbose=2, epochs=3, steps=10)
    assert not quiet.needs_batch_hooks("train")
    assert cbks.CallbackList([cbks.TerminateOnNaN()]).needs_batch_hooks("train")
    assert cbks.CallbackList([cbks.LambdaCallback(on_train_batch_end=print)]).needs_batch_hooks("train")
    live = cbks.CallbackList([], add_progbar=True, verbose=1, epochs=1, steps=10)
    assert live.needs_batch_hooks("train")


# ---- EarlyStopping -----------------------------------------------------------------------------
@pytest.mark.parametrize("losses, patience, stopped_at", [
    ((1.0, 0.9, 0.95, 0.93, 0.8), 2, 3),     # two epochs without improvement after the best
    ((1.0, 1.1, 0.5), 0, 1),                 # patience 0 stops at the first miss after epoch 0
    ((1.0, 0.9, 0.9, 0.9), 0, 2),            # equal is no improvement
    ((1.0, 1.0, 1.0, 1.0, 1.0, 1.0), 3, 3),  # Keras's docstring: constant loss, patience 3 -> 4 epochs
    ((1.0, 0.9, 0.8, 0.7), 1, None),         # always improving: runs out its epochs
])
def test_early_stopping_patience_and_wait_counter(losses, patience, stopped_at):
    model = StandInModel()
    stopper = cbks.EarlyStopping(monitor="val_loss", patience=patience)
    _, run = fit(model, [stopper], val_losses(*losses))
    assert run == (len(losses) if stopped_at is None else stopped_at + 1)
    assert stopper.stopped_epoch == (stopped_at or 0)


@pytest.mark.parametrize("min_delta", [0.1, -0.1])
def test_early_stopping_min_delta_is_an_absolute_margin(min_delta):
    stopper = cbks.EarlyStopping(monitor="val_loss", min_delta=min_delta, patience=1)
    _, run = fit(StandInModel(), [stopper], val_losses(1.0, 0.95, 0.85, 0.7))
    assert run == 2  # 0.95 is not 0.1 better than 1.0
    stopper = cbks.EarlyStopping(monitor="val_accuracy", min_delta=min_delta, patience=1)
    logs = [{"val_accuracy": a} for a in (0.5, 0.65, 0.7, 0.9)]
    _, run = fit(StandInModel(), [stopper], logs)
    assert run == 3  # +0.15 counts, +0.05 does not


@pytest.mark.parametrize("monitor, direction", [
    ("val_loss", "min"), ("loss", "min"), ("val_accuracy", "max"), ("acc", "max"), ("val_auc", "max"),
    ("val_precision", "max"), ("recall", "max"), ("val_categorical_accuracy", "max"), ("val_mae", "min"),
    ("val_mean_squared_error", "min"), ("something_else", "min"),
])
def test_auto_mode_direction_from_the_name(monitor, direction):
    stopper = cbks.EarlyStopping(monitor=monitor, patience=0)
    rising = [{monitor: v} for v in (0.1, 0.2, 0.3)]
    _, run = fit(StandInModel(), [stopper], rising)
    assert stopper.direction == direction
    assert run == (3 if direction == "max" else 2)


def test_auto_mode_follows_a_metric_direction_and_explicit_modes():
    class Metric:
        name, _direction = "custom", "up"

    model = StandInModel()
    model.metrics = [Metric()]
    stopper = cbks.EarlyStopping(monitor="val_custom")
    fit(model, [stopper], [{"val_custom": 1.0}])
    assert stopper.direction == "max"
    assert cbks.EarlyStopping(monitor="val_accuracy", mode="min").mode == "min"
    with pytest.warns(UserWarning, match="mode 'sideways' is unknown"):
        assert cbks.EarlyStopping(mode="sideways").mode == "auto"


def test_restore_best_weights_when_stopping_early():
    model, steps = StandInModel(), 3
    stopper = cbks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True, verbose=1)
    _, run = fit(model, [stopper], val_losses(1.0, 0.5, 0.7, 0.8, 0.1), steps=steps)
    assert run == 4 and stopper.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], np.full(2, weights_after(1, steps)))


def test_restore_best_weights_also_when_training_runs_out_its_epochs():
    # Keras 3 restores in on_train_end whenever best weights exist, not only after a stop
    model, steps = StandInModel(), 2
    stopper = cbks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    _, run = fit(model, [stopper], val_losses(1.0, 0.3, 0.6), steps=steps)
    assert run == 3 and stopper.stopped_epoch == 0
    np.testing.assert_array_equal(model.weights[0], np.full(2, weights_after(1, steps)))
    model = StandInModel()
    fit(model, [cbks.EarlyStopping(monitor="val_loss", patience=5)], val_losses(1.0, 0.3, 0.6), steps=steps)
    np.testing.assert_array_equal(model.weights[0], np.full(2, weights_after(2, steps)))  # not asked: untouched


def test_early_stopping_messages(capsys):
    stopper = cbks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True, verbose=1)
    fit(StandInModel(), [stopper], val_losses(1.0, 0.5, 0.7, 0.8))
    assert capsys.readouterr().out == ("Epoch 3: early stopping\n"
                                       "Restoring model weights from the end of the best epoch: 2.\n")


def test_baseline_must_be_beaten_to_reset_the_wait():
    stopper = cbks.EarlyStopping(monitor="val_loss", patience=2, baseline=0.5)
    _, run = fit(StandInModel(), [stopper], val_losses(1.0, 1.0, 1.0, 1.0))
    assert run == 2  # the first epoch improves on nothing yet misses the baseline: wait 1, then 2
    stopper = cbks.EarlyStopping(monitor="val_loss", patience=1, baseline=0.5)
    _, run = fit(StandInModel(), [stopper], val_losses(0.4, 0.45, 0.45))
    assert run == 2  # beat the baseline at epoch 0, then one miss


def test_baseline_never_beaten_restores_the_best_epoch_seen():
    model, steps = StandInModel(), 2
    stopper = cbks.EarlyStopping(monitor="val_loss", patience=2, baseline=0.1, restore_best_weights=True)
    fit(model, [stopper], val_losses(1.0, 0.8, 0.9, 0.95), steps=steps)
    np.testing.assert_array_equal(model.weights[0], np.full(2, weights_after(1, steps)))


def test_start_from_epoch_ignores_the_warm_up():
    stopper = cbks.EarlyStopping(monitor="val_loss", patience=0, start_from_epoch=2)
    _, run = fit(StandInModel(), [stopper], val_losses(1.0, 2.0, 3.0, 3.5, 4.0))
    assert run == 4 and stopper.best == 3.0


def test_missing_monitor_warns_and_never_stops():
    stopper = cbks.EarlyStopping(monitor="val_accuracy", patience=0)
    missing = r"`val_accuracy` which is not available. Available metrics are: loss,val_loss"
    with pytest.warns(UserWarning, match=missing):
        _, run = fit(StandInModel(), [stopper], val_losses(1.0, 2.0, 3.0))
    assert run == 3


def test_early_stopping_instance_can_be_reused():
    stopper = cbks.EarlyStopping(monitor="val_loss", patience=1)
    fit(StandInModel(), [stopper], val_losses(0.1, 0.2, 0.3))
    _, run = fit(StandInModel(), [stopper], val_losses(5.0, 4.0, 3.0))
    assert run == 3  # the previous run's best (0.1) is forgotten


# ---- ReduceLROnPlateau -------------------------------------------------------------------------
def test_reduce_lr_patience_factor_and_cooldown():
    model = StandInModel(learning_rate=0.1)
    reducer = cbks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, cooldown=1)
    history, _ = fit(model, [reducer], val_losses(*[1.0] * 7))
    # reductions at epochs 2, 4, 6: two misses, then one cooldown epoch that resets the wait
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.0125)


def test_reduce_lr_respects_min_lr_and_min_delta():
    model = StandInModel(learning_rate=0.1)
    fit(model, [cbks.ReduceLROnPlateau(factor=0.1, patience=1, min_lr=0.05)], val_losses(*[1.0] * 6))
    assert model.optimizer.learning_rate == 0.05
    model = StandInModel(learning_rate=0.1)
    fit(model, [cbks.ReduceLROnPlateau(factor=0.5, patience=1, min_delta=0.01)], val_losses(1.0, 0.995))
    assert model.optimizer.learning_rate == 0.05  # 0.005 better is within min_delta: a miss
    model = StandInModel(learning_rate=0.1)
    fit(model, [cbks.ReduceLROnPlateau(factor=0.5, patience=1, min_delta=0.01)], val_losses(1.0, 0.98))
    assert model.optimizer.learning_rate == 0.1


def test_reduce_lr_max_mode_and_bad_factor(capsys):
    model = StandInModel(learning_rate=0.2)
    reducer = cbks.ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1, verbose=1)
    fit(model, [reducer], [{"val_accuracy": a} for a in (0.5, 0.6, 0.6)])
    assert model.optimizer.learning_rate == 0.1
    assert "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.1." in capsys.readouterr().out
    with pytest.raises(ValueError, match="factor >= 1.0"):
        cbks.ReduceLROnPlateau(factor=1.5)


# ---- ModelCheckpoint ---------------------------------------------------------------------------
def test_checkpoint_formats_the_filepath_every_epoch(tmp_path):
    model = StandInModel()
    path = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    fit(model, [cbks.ModelCheckpoint(path)], val_losses(0.9, 1.234))
    assert model.saved == [("model", str(tmp_path / "ckpt-01-0.90.keras")),
                           ("model", str(tmp_path / "ckpt-02-1.23.keras"))]


def test_checkpoint_save_best_only_and_weights_only(tmp_path, capsys):
    model = StandInModel()
    path = str(tmp_path / "sub" / "best-{epoch}.weights.safetensors")
    checkpoint = cbks.ModelCheckpoint(path, save_best_only=True, save_weights_only=True, verbose=1)
    fit(model, [checkpoint], val_losses(1.0, 1.2, 0.8, 0.8))
    assert model.saved == [("weights", path.format(epoch=1)), ("weights", path.format(epoch=3))]
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from None to 1.00000, saving model to" in out
    assert "Epoch 2: val_loss did not improve from 1.00000" in out


def test_checkpoint_max_mode_threshold_and_batch_frequency(tmp_path):
    model = StandInModel()
    path = str(tmp_path / "m.keras")
    checkpoint = cbks.ModelCheckpoint(path, monitor="val_accuracy", save_best_only=True, initial_value_threshold=0.7)
    fit(model, [checkpoint], [{"val_accuracy": a} for a in (0.6, 0.75, 0.72, 0.8)])
    assert len(model.saved) == 2
    model = StandInModel()
    path = str(tmp_path / "e{epoch}b{batch}.keras")
    fit(model, [cbks.ModelCheckpoint(path, save_freq=2)], val_losses(1.0, 1.0), steps=3)
    assert [p for _, p in model.saved] == [str(tmp_path / n) for n in ("e1b2.keras", "e2b1.keras", "e2b3.keras")]


def test_checkpoint_errors(tmp_path):
    unknown_field = r"Failed to format this callback filepath.*no val_acc in the logs \(available: epoch, loss, val_loss"
    with pytest.raises(KeyError, match=unknown_field):
        fit(StandInModel(), [cbks.ModelCheckpoint(str(tmp_path / "{val_acc:.2f}.keras"))], val_losses(1.0))
    with pytest.raises(ValueError, match="save_freq"):
        cbks.ModelCheckpoint("x.keras", save_freq="daily")


# ---- LearningRateScheduler ---------------------------------------------------------------------
def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    model = StandInModel(learning_rate=0.01)
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return lr if epoch < 2 else lr * math.exp(-0.1)

    history, _ = fit(model, [cbks.LearningRateScheduler(schedule)], val_losses(*[1.0] * 4))
    assert seen[:3] == [(0, 0.01), (1, 0.01), (2, 0.01)]
    assert model.optimizer.learning_rate == pytest.approx(0.01 * math.exp(-0.2))
    assert history.history["learning_rate"] == pytest.approx([0.01, 0.01, 0.01 * math.exp(-0.1), 0.01 * math.exp(-0.2)])


def test_learning_rate_scheduler_one_argument_form_and_bad_output(capsys):
    model = StandInModel()
    fit(model, [cbks.LearningRateScheduler(lambda epoch: 0.5 ** epoch, verbose=1)], val_losses(1.0, 1.0))
    assert model.optimizer.learning_rate == 0.5
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.5." in capsys.readouterr().out
    with pytest.raises(ValueError, match="should be a float. Got: 'fast'"):
        fit(StandInModel(), [cbks.LearningRateScheduler(lambda epoch, lr: "fast")], val_losses(1.0))


# ---- CSVLogger, TerminateOnNaN, LambdaCallback -------------------------------------------------
def test_csv_logger_header_columns_and_append(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"val_loss": 0.5, "loss": 1.0, "accuracy": 0.25}, {"val_loss": 0.4, "loss": 0.75}]
    fit(StandInModel(), [cbks.CSVLogger(path)], logs)
    raw = path.read_bytes().decode()
    assert raw == "epoch,accuracy,loss,val_loss\r\n0,0.25,1.0,0.5\r\n1,NA,0.75,0.4\r\n"
    fit(StandInModel(), [cbks.CSVLogger(path, separator=";", append=True)], logs[:1])
    rows = list(csv.reader(path.read_text().splitlines()))
    assert rows[-1] == ["0;0.25;1.0;0.5"] and sum(r[0].startswith("epoch") for r in rows) == 1


def test_csv_logger_adds_expected_validation_columns(tmp_path):
    model = StandInModel()
    model.metrics_names = ["loss", "val_loss"]
    path = tmp_path / "log.csv"
    fit(model, [cbks.CSVLogger(path)], [{"loss": 1.0}])
    assert path.read_text().splitlines() == ["epoch,loss,val_loss", "0,1.0,NA"]


def test_terminate_on_nan(capsys):
    model = StandInModel()
    bad = {(1, 1): {"loss": float("nan")}}
    _, run = fit(model, [cbks.TerminateOnNaN()], val_losses(1.0, 1.0, 1.0), batch_logs=bad)
    assert run == 2 and model.stop_training
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0"):
        fit(StandInModel(), [cbks.TerminateOnNaN(raise_error=True)], val_losses(1.0),
            batch_logs={(0, 0): {"loss": float("inf")}})


def test_lambda_callback():
    calls = []
    lam = cbks.LambdaCallback(on_epoch_end=lambda epoch, logs: calls.append(("end", epoch, logs["val_loss"])),
                              on_train_begin=lambda logs: calls.append("begin"),
                              on_train_batch_begin=lambda batch, logs: calls.append(("batch", batch)),
                              on_train_end=lambda logs: calls.append("done"))
    fit(StandInModel(), [lam], val_losses(0.5), steps=2)
    assert calls == ["begin", ("batch", 0), ("batch", 1), ("end", 0, 0.5), "done"]
    with pytest.raises(TypeError, match="unknown hook"):
        cbks.LambdaCallback(on_epoch_ends=print)


# ---- the progress bar --------------------------------------------------------------------------
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class FakeClock:
    def __init__(self, start=1000.0):
        self.now = start

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(kutils, "_now", fake)
    return fake


@pytest.fixture
def terminal(monkeypatch):
    monkeypatch.setattr(kutils, "_is_interactive", lambda: True)


def run_bar(clock, bar, steps, seconds_per_step, values):
    for step in range(1, steps + 1):
        clock.now += seconds_per_step
        bar.update(step, values)


def test_progbar_live_line_is_keras_format(clock, terminal, capsys):
    bar = kutils.Progbar(44, interval=0)
    run_bar(clock, bar, 44, 0.002, [("accuracy", 0.9712), ("loss", 0.0915)])
    out = capsys.readouterr().out
    updates = out.split("\r")[1:]
    assert len(updates) == 44
    assert updates[-1] == ("\x1b[1m44/44\x1b[0m \x1b[32m" + "━" * 20 + "\x1b[0m\x1b[37m\x1b[0m \x1b[1m0s\x1b[0m "
                           "2ms/step - accuracy: 0.9712 - loss: 0.0915\n")
    halfway = ANSI.sub("", updates[21]).rstrip("\b")
    assert halfway == "22/44 " + "━" * 20 + " 0s 2ms/step - accuracy: 0.9712 - loss: 0.0915"
    assert updates[21].count("\x1b[32m" + "━" * 10 + "\x1b[0m\x1b[37m" + "━" * 10) == 1
    visible = len(halfway)
    assert updates[22].startswith("\x1b[1m23/44") and updates[21].endswith("\b" * visible)  # erased, then \r


def test_progbar_eta_while_running_and_elapsed_when_done(clock, terminal, capsys):
    bar = kutils.Progbar(200, interval=0)
    run_bar(clock, bar, 100, 0.5, [("loss", 1.0)])
    mid = ANSI.sub("", capsys.readouterr().out.split("\r")[-1]).rstrip("\b")
    assert mid == "100/200 " + "━" * 20 + " 50s 500ms/step - loss: 1.0000"
    clock.now += 100  # the last 100 steps take 100 s in all
    bar.update(200, [("loss", 1.0)])
    final = ANSI.sub("", capsys.readouterr().out.split("\r")[-1])
    # per step: (150 - 0.5) / 199, the first step left out
    assert final == "200/200 " + "━" * 20 + " 150s 751ms/step - loss: 1.0000\n"


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (12.7, "12s"), (60, "60s"), (62, "1:02"), (3599, "59:59"),
                                           (3725, "1:02:05")])
def test_eta_format(seconds, text):
    assert kutils._format_eta(seconds) == text


@pytest.mark.parametrize("seconds, text", [(0, " 0s/step"), (1.0, " 1s/step"), (2.4, " 2s/step"),
                                           (0.0021, " 2ms/step"), (0.00012, " 120us/step"), (0.001, " 1ms/step")])
def test_step_time_format(seconds, text):
    assert kutils._format_step_time(seconds, "step") == text


@pytest.mark.parametrize("value, text", [(0.09153, " 0.0915"), (12.5, " 12.5000"), (-0.5, " -0.5000"),
                                         (0.0005, " 5.0000e-04"), (0.0, " 0.0000e+00"), (float("nan"), " nan")])
def test_metric_value_format(value, text):
    assert kutils._format_value(value) == text


def test_progbar_not_a_terminal_prints_one_line_when_done(clock, capsys):
    bar = kutils.Progbar(44, interval=0)
    run_bar(clock, bar, 43, 0.002, [("loss", 0.0915)])
    assert capsys.readouterr().out == ""
    clock.now += 0.002
    bar.update(44, [("accuracy", 0.9712), ("loss", 0.0915)])
    assert capsys.readouterr().out == "44/44 " + "━" * 20 + " 0s 2ms/step - loss: 0.0915 - accuracy: 0.9712\n"


def test_progbar_verbose_2_and_0(clock, capsys):
    bar = kutils.Progbar(44, verbose=2)
    run_bar(clock, bar, 44, 0.0001, [("accuracy", 0.9712), ("loss", 0.0915)])
    assert capsys.readouterr().out == "44/44 - 0s - 100us/step - accuracy: 0.9712 - loss: 0.0915\n"
    bar = kutils.Progbar(44, verbose=0)
    run_bar(clock, bar, 44, 0.01, [("loss", 0.1)])
    assert capsys.readouterr().out == ""


def test_progbar_averages_until_the_final_update(clock, terminal, capsys):
    bar = kutils.Progbar(4, interval=0, stateful_metrics=["accuracy"])
    bar.update(1, [("loss", 1.0), ("accuracy", 0.1)])
    bar.update(3, [("loss", 0.0), ("accuracy", 0.3)])  # two steps at 0.0 -> weighted mean 1/3
    assert ANSI.sub("", capsys.readouterr().out).endswith("- loss: 0.3333 - accuracy: 0.3000")
    bar.update(4, [("loss", 0.25), ("accuracy", 0.4)])
    assert ANSI.sub("", capsys.readouterr().out).endswith("- loss: 0.2500 - accuracy: 0.4000\n")


def test_progbar_unknown_target_and_interval(clock, terminal, capsys):
    bar = kutils.Progbar(None, interval=0)
    clock.now += 1
    bar.update(3, [("loss", 0.5)])
    assert ANSI.sub("", capsys.readouterr().out).lstrip("\r") == "      3/Unknown 1s 333ms/step - loss: 0.5000"
    bar = kutils.Progbar(10)  # the default 0.05 s interval skips updates that come faster
    bar.update(1, [("loss", 0.5)])
    clock.now += 0.01
    bar.update(2, [("loss", 0.5)])
    assert capsys.readouterr().out.count("\r") == 1


def test_progbar_logger_in_fit_verbose_auto_off_a_terminal(clock, capsys):
    logs = [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "val_loss": 0.5}]
    fit(StandInModel(), [], logs, steps=3, verbose="auto")
    assert capsys.readouterr().out == ("Epoch 1/2\n3/3 - 0s - 0s/step - loss: 0.5000 - val_loss: 0.7500\n"
                                       "Epoch 2/2\n3/3 - 0s - 0s/step - loss: 0.2500 - val_loss: 0.5000\n")


def test_progbar_logger_in_fit_on_a_terminal(clock, terminal, capsys):
    fit(StandInModel(), [], [{"loss": 0.5}], steps=2, verbose="auto")
    out = capsys.readouterr().out
    assert not out.startswith("Epoch")  # one epoch: no "Epoch 1/1" line, as Keras
    assert ANSI.sub("", out.split("\r")[-1]) == "2/2 " + "━" * 20 + " 0s 0s/step - loss: 0.5000\n"


def test_progbar_logger_learns_an_unknown_step_count(clock, capsys):
    callback_list = cbks.CallbackList([], add_progbar=True, verbose=2, epochs=2, steps=None)
    callback_list.on_train_begin()
    for epoch in range(2):
        callback_list.on_epoch_begin(epoch)
        for step in range(5):
            callback_list.on_train_batch_end(step, {"loss": 1.0})
        callback_list.on_epoch_end(epoch, {"loss": 1.0})
    assert capsys.readouterr().out.count("5/5 - 0s") == 2


def test_progbar_logger_evaluate_and_silent_validation(clock, capsys):
    callback_list = cbks.CallbackList([], add_progbar=True, verbose=2, epochs=1, steps=4)
    callback_list.on_test_begin()
    for step in range(4):
        callback_list.on_test_batch_end(step, {"loss": 0.5})
    callback_list.on_test_end({"loss": 0.5})
    assert capsys.readouterr().out == "4/4 - 0s - 0s/step - loss: 0.5000\n"
    callback_list.on_train_begin()
    callback_list.on_test_begin()
    callback_list.on_test_end({"loss": 0.5})
    assert capsys.readouterr().out == ""


def test_progbar_logger_verbose_auto_on_a_terminal_is_1(terminal):
    logger = cbks.ProgbarLogger()
    logger.set_params({"verbose": "auto", "epochs": 1, "steps": 1})
    assert logger.verbose == 1

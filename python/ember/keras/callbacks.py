"""ember.keras.callbacks: hooks into fit / evaluate / predict, with Keras 3's names, signatures
and behaviour.

Callbacks act on the model only through `model.stop_training`, `model.get_weights()` /
`set_weights()`, `model.save(path)` / `save_weights(path)` and `model.optimizer.learning_rate`
(a settable float). The training loop drives them through a CallbackList, as Keras's fit does:

    callbacks = CallbackList(user_callbacks, add_history=True, add_progbar=verbose != 0, model=model,
                             verbose=verbose, epochs=epochs, steps=steps_per_epoch)
    callbacks.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        callbacks.on_epoch_begin(epoch)
        for step, batch in epoch_iterator:
            callbacks.on_train_batch_begin(step)
            logs = train_step(batch)                  # running results, e.g. {"loss": ..., "accuracy": ...}
            callbacks.on_train_batch_end(step, logs)
        callbacks.on_epoch_end(epoch, epoch_logs)     # training results, then the val_ ones
        if model.stop_training: break
    callbacks.on_train_end(epoch_logs)
"""
import collections
import csv
import inspect
import math
import numbers
import os
import warnings

import numpy as np

from ._callback_base import _HOOKS, Callback, CallbackList, History, ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping", "ModelCheckpoint",
           "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger", "TerminateOnNaN", "LambdaCallback"]


# ---- monitoring a quantity ---------------------------------------------------------------------
_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "fmeasure", "iou")


def _checked_mode(mode, owner):
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{owner} mode {mode!r} is unknown, fallback to auto mode.", stacklevel=3)
        return "auto"
    return mode


def _direction(monitor, mode, model):
    """'min' or 'max'. 'auto': the loss is minimised; a compiled metric says its own direction
    (a `_direction` of 'up' / 'down') when it has one; otherwise names containing acc, auc,
    precision, recall, f1 or iou are maximised and everything else minimised."""
    if mode in ("min", "max"):
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss":
        return "min"
    for metric in getattr(model, "metrics", None) or []:
        for inner in [metric, *(getattr(metric, "metrics", None) or [])]:
            if getattr(inner, "name", None) == name and getattr(inner, "_direction", None) in ("up", "down"):
                return "max" if inner._direction == "up" else "min"
    return "max" if any(word in name for word in _HIGHER_IS_BETTER) else "min"


def _improves(current, reference, direction, min_delta):
    """Whether `current` beats `reference` by more than min_delta (None is always beaten)."""
    if reference is None:
        return True
    if direction == "min":
        return current + min_delta < reference
    return current - min_delta > reference


def _monitored(logs, monitor, owner):
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{owner} conditioned on metric `{monitor}` which is not available. Available metrics are: "
                      f"{','.join(list((logs or {}).keys()))}", stacklevel=3)
        return None
    return float(value)


class EarlyStopping(Callback):
    """Stops training when `monitor` has stopped improving, as keras.callbacks.EarlyStopping.

    Each epoch from `start_from_epoch` on: an improvement (by more than min_delta) over the best
    value so far records it (and, with restore_best_weights, the weights) and resets the wait
    counter, though only when it also beats `baseline` if one is given; otherwise the counter
    grows, and once it reaches `patience` (after the first epoch) training stops. With
    restore_best_weights, the best epoch's weights are put back when training ends, whether it
    stopped early or ran all its epochs.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.mode = _checked_mode(mode, "EarlyStopping")
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0
        self.direction = None

    def on_epoch_end(self, epoch, logs=None):
        if self.direction is None:
            self.direction = _direction(self.monitor, self.mode, self.model)
        current = _monitored(logs, self.monitor, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()  # the fallback when nothing ever improves
            self.best_epoch = epoch
        self.wait += 1
        if _improves(current, self.best, self.direction, self.min_delta):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or _improves(current, self.baseline, self.direction, self.min_delta):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Saves the model (model.save) or its weights (model.save_weights) after every epoch, or
    every `save_freq` batches, as keras.callbacks.ModelCheckpoint.

    filepath may hold format fields filled from the epoch (counting from 1) and the logs, e.g.
    "ckpt-{epoch:02d}-{val_loss:.2f}.weights.safetensors". With save_best_only, a save happens
    only when `monitor` improves on the best so far (or on initial_value_threshold).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, numbers.Integral)
                                     or save_freq <= 0):
            raise ValueError(f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or a positive "
                             "integer (a number of batches)")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = _checked_mode(mode, "ModelCheckpoint")
        self.save_freq = save_freq
        self.best = initial_value_threshold
        self.direction = None
        self._current_epoch = 0
        self._batches_since_save = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _uses_batch_hooks(self, mode):
        return mode == "train" and self.save_freq != "epoch"

    def _file_path(self, epoch, batch, logs):
        fields = dict(logs or {})
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in fields:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as err:
            raise KeyError(f"Failed to format this callback filepath: {self.filepath}. Reason: no {err.args[0]} in the "
                           f"logs (available: {', '.join(sorted(fields))})") from None

    def _should_save(self, epoch, logs, filepath):
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        if self.direction is None:
            self.direction = _direction(self.monitor, self.mode, self.model)
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=3)
            return True
        current = float(current)
        best_text = "None" if self.best is None else f"{self.best:.5f}"
        if _improves(current, self.best, self.direction, 0.0):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_text} to {current:.5f}, "
                      f"saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_text}")
        return False

    def _save(self, epoch, batch, logs):
        filepath = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IsADirectoryError(f"Please specify a non-directory filepath for ModelCheckpoint. Filepath used is "
                                    f"an existing directory: {filepath}")
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` once `monitor` has not improved (by more than
    min_delta) for `patience` epochs, never below min_lr; then waits `cooldown` epochs before
    counting again. Adds 'learning_rate' to each epoch's logs. As keras.callbacks.ReduceLROnPlateau
    ('auto' mode infers the direction as EarlyStopping does)."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = _checked_mode(mode, "ReduceLROnPlateau")
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.cooldown_counter = 0
        self.wait = 0
        self.best = None
        self.direction = None

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        if self.direction is None:
            self.direction = _direction(self.monitor, self.mode, self.model)
        current = _monitored(logs, self.monitor, "Learning rate reduction")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if _improves(current, self.best, self.direction, self.min_delta):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                # the rate may be held in float32: compare with min_lr rounded the same way, so a rate
                # already at min_lr is not "reduced" to itself forever
                if old_lr > float(np.float32(self.min_lr)):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


def _takes_learning_rate(schedule):
    """Whether schedule is called as schedule(epoch, lr) (else schedule(epoch), the old form)."""
    try:
        parameters = inspect.signature(schedule).parameters.values()
    except (TypeError, ValueError):
        return True
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2


class LearningRateScheduler(Callback):
    """At each epoch's start sets the learning rate to schedule(epoch, lr) (epoch from 0, lr the
    current rate as a float; a one-argument schedule(epoch) works too). Adds 'learning_rate' to
    each epoch's logs."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be callable as schedule(epoch, lr), got "
                            f"{type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        if _takes_learning_rate(self.schedule):
            learning_rate = self.schedule(epoch, float(optimizer.learning_rate))
        else:
            learning_rate = self.schedule(epoch)
        try:
            if isinstance(learning_rate, (bool, str)):
                raise TypeError
            learning_rate = float(learning_rate)
        except (TypeError, ValueError):
            raise ValueError("The output of the `schedule` function should be a float. "
                             f"Got: {learning_rate!r}") from None
        optimizer.learning_rate = learning_rate
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class CSVLogger(Callback):
    """Writes one CSV row per epoch: an 'epoch' column (from 0) then the log keys, sorted, fixed by
    the first epoch (plus the model's expected 'val_' metrics); 'NA' where a value is missing.
    append=True continues an existing file (its header is kept). As keras.callbacks.CSVLogger."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        self.append_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as existing:
                self.append_header = not existing.readline()
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
            for name in getattr(self.model, "metrics_names", None) or []:
                if name.startswith("val_") and name not in self.keys:
                    self.keys.append(name)
        if self.writer is None:
            dialect = type("Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict(epoch=epoch)
        row.update((key, _csv_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _csv_value(value):
    """A log value as Keras's CSVLogger writes it: sequences as "[a, b]", everything else as is."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, collections.abc.Iterable) and not isinstance(value, str):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class TerminateOnNaN(Callback):
    """Stops training (model.stop_training) when a batch's loss is NaN or infinite; with
    raise_error=True raises RuntimeError at once instead."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isnan(loss) or math.isinf(loss):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                                   "Terminating training immediately.")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions: on_epoch_begin / on_epoch_end(epoch, logs),
    on_train_begin / on_train_end(logs), on_train_batch_begin / on_train_batch_end(batch, logs),
    and any other hook by its name as a keyword."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        unknown = sorted(set(kwargs) - set(_HOOKS))
        if unknown:
            raise TypeError(f"LambdaCallback: unknown hook(s) {', '.join(unknown)}; hooks are {', '.join(_HOOKS)}")
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        for name, function in hooks.items():
            if function is not None:
                if not callable(function):
                    raise TypeError(f"LambdaCallback: {name} must be callable, got {type(function).__name__}")
                setattr(self, name, function)

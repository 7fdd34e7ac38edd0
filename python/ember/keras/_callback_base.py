"""The callback machinery: the Callback base class, CallbackList (what the training loop calls),
History and the progress-bar logger. ember.keras.callbacks re-exports all of it."""
from . import utils as _utils

_HOOKS = ("on_batch_begin", "on_batch_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
          "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin",
          "on_predict_batch_end", "on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
          "on_predict_begin", "on_predict_end")
_BATCH_HOOKS = {"train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"),
                "test": ("on_test_batch_begin", "on_test_batch_end"),
                "predict": ("on_predict_batch_begin", "on_predict_batch_end")}


class Callback:
    """Base class of callbacks: override the hooks you need. `self.model` is the model being
    trained, `self.params` fit's parameters ({'verbose', 'epochs', 'steps'})."""

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """Alias of on_train_batch_begin kept for older callbacks."""

    def on_batch_end(self, batch, logs=None):
        """Alias of on_train_batch_end kept for older callbacks."""

    def on_epoch_begin(self, epoch, logs=None):
        """Start of a training epoch (epoch counts from 0)."""

    def on_epoch_end(self, epoch, logs=None):
        """End of a training epoch; logs hold the epoch's results, validation ones prefixed 'val_'."""

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """logs: the metrics' running results over the epoch so far."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Start of a batch in evaluate (and in fit's validation)."""

    def on_test_batch_end(self, batch, logs=None):
        """End of a batch in evaluate (and in fit's validation)."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Start of a batch in predict."""

    def on_predict_batch_end(self, batch, logs=None):
        """End of a batch in predict; logs={'outputs': ...}."""

    def on_train_begin(self, logs=None):
        """Start of fit."""

    def on_train_end(self, logs=None):
        """End of fit; logs are the last epoch's."""

    def on_test_begin(self, logs=None):
        """Start of evaluate (or of fit's validation)."""

    def on_test_end(self, logs=None):
        """End of evaluate (or of fit's validation)."""

    def on_predict_begin(self, logs=None):
        """Start of predict."""

    def on_predict_end(self, logs=None):
        """End of predict."""

    def _uses_batch_hooks(self, mode):
        """Whether this callback does anything per batch in `mode` ('train', 'test', 'predict')."""
        return any(name in vars(self) or getattr(type(self), name) is not getattr(Callback, name)
                   for name in _BATCH_HOOKS[mode])


def _pythonify_logs(logs):
    """Logs with sorted keys and plain floats (ember or NumPy scalars converted), as Keras passes
    batch logs; nested dicts are merged in."""
    result = {}
    for key, value in sorted(logs.items()):
        if isinstance(value, dict):
            result.update(_pythonify_logs(value))
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            pass
        result[key] = value
    return result


class CallbackList(Callback):
    """Calls every callback's hook in turn, adding History and the progress bar when asked.

    params given as keywords (verbose, epochs, steps) reach every callback's set_params. Batch
    logs are passed on with sorted keys and float values. needs_batch_hooks(mode) tells the loop
    whether any callback acts per batch, so it can skip the calls (and building batch logs).
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        self.callbacks = []
        for callback in _flatten(callbacks):
            self.append(callback)
        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self.set_model(model)
        self.set_params(params)

    def append(self, callback):
        if isinstance(callback, type) or not all(callable(getattr(callback, name, None)) for name in
                                                 ("set_model", "set_params", "on_epoch_end")):
            what = f"the class {callback.__name__} (create an instance: {callback.__name__}(...))" \
                if isinstance(callback, type) else f"a {type(callback).__name__}"
            raise TypeError(f"callbacks must be ember.keras.callbacks.Callback instances, got {what}")
        self.callbacks.append(callback)

    @property
    def history(self):
        """The History callback, when there is one."""
        return self._history

    def set_params(self, params):
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def set_model(self, model):
        if model is None:
            return
        super().set_model(model)
        if self._history is not None:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def needs_batch_hooks(self, mode="train"):
        return any(_uses_batch_hooks(callback, mode) for callback in self.callbacks)

    def _call(self, name, *args):
        for callback in self.callbacks:
            getattr(callback, name)(*args)

    def _call_batch(self, name, batch, logs):
        for callback in self.callbacks:
            getattr(callback, name)(batch, logs=logs)

    def on_batch_begin(self, batch, logs=None):
        self._call_batch("on_batch_begin", batch, logs or {})

    def on_batch_end(self, batch, logs=None):
        self._call_batch("on_batch_end", batch, _pythonify_logs(logs or {}))

    def on_train_batch_begin(self, batch, logs=None):
        self._call_batch("on_train_batch_begin", batch, logs or {})

    def on_train_batch_end(self, batch, logs=None):
        self._call_batch("on_train_batch_end", batch, _pythonify_logs(logs or {}))

    def on_test_batch_begin(self, batch, logs=None):
        self._call_batch("on_test_batch_begin", batch, logs or {})

    def on_test_batch_end(self, batch, logs=None):
        self._call_batch("on_test_batch_end", batch, _pythonify_logs(logs or {}))

    def on_predict_batch_begin(self, batch, logs=None):
        self._call_batch("on_predict_batch_begin", batch, logs or {})

    def on_predict_batch_end(self, batch, logs=None):
        self._call_batch("on_predict_batch_end", batch, logs or {})

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, {} if logs is None else logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs or {})

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs or {})

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs or {})

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs or {})

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs or {})

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs or {})


def _flatten(callbacks):
    if callbacks is None:
        return []
    if isinstance(callbacks, (list, tuple)):
        return [c for item in callbacks for c in _flatten(item)]
    return [callbacks]


def _uses_batch_hooks(callback, mode):
    probe = getattr(callback, "_uses_batch_hooks", None)
    return True if probe is None else probe(mode)


class History(Callback):
    """Records each epoch's logs: `history.history['loss']` is the list of epoch losses and
    `history.epoch` the epoch indices. fit returns it; it is also `model.history`."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints progress: `Epoch 3/10` (when epochs > 1), then the Progbar line for each epoch.
    verbose='auto' is 1 on a terminal or notebook and 2 otherwise (one line per epoch). During
    fit, validation is silent; evaluate and predict get their own bar."""

    def __init__(self):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params):
        verbose = params.get("verbose", 1)
        self.verbose = (1 if _utils._is_interactive() else 2) if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _uses_batch_hooks(self, mode):
        if mode == "test" and self._called_in_fit:
            return False  # fit's validation is silent
        return self.verbose == 1 or self.target is None

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", flush=True)

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)  # predictions are not shown

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = _utils.Progbar(target=self.target, verbose=self.verbose, unit_name="step")

    def _update_progbar(self, batch, logs):
        if self.progbar is None:
            self._reset_progbar()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize_progbar(self, logs):
        if self.progbar is None:
            self._reset_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)

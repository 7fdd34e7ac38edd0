"""compile / fit / evaluate / predict: Keras's training loop, run by ember's autograd and kernels.

`Trainer` is a base class of `ember.keras.Model`: it relies on the model being callable as
`model(x, training=...)` and on `trainable_weights` and `losses` (the regularization penalties of
the step's forward pass). A training step is what a hand-written PyTorch-style loop does -- forward,
loss, backward, one fused optimizer call -- plus the bookkeeping Keras reports: a running mean of
the loss weighted by batch size, the compiled metrics, and the callbacks' hooks (skipped when no
callback acts per batch).

Loss values in the logs include the regularization penalties, as Keras's do. The mask of the
predictions (`_keras_mask`, e.g. from Embedding(mask_zero=True) through recurrent layers with
return_sequences=True) weighs the loss and the metrics, as in Keras 3: the loss and metric objects
read it from y_pred (see losses.apply_mask), so padded time steps do not count.
"""
import warnings

import numpy as np

from .. import _C
from ..autograd import _backward_scalar, no_grad
from . import _data
from . import _outputs
from . import callbacks as callbacks_module
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .layers.base import _CallContext

__all__ = ["Trainer"]

Tensor = _C.Tensor

_LOGIT_ACTIVATIONS = {"softmax": "Softmax", "sigmoid": "Sigmoid"}
# The batch size of the one-batch methods: all of x.
_ONE_BATCH = 1 << 62


class _MeanTracker:
    """The running mean of per-batch values weighted by the batch size, in Python floats."""
    __slots__ = ("total", "count")

    def __init__(self):
        self.total, self.count = 0.0, 0

    def update(self, value, weight):
        self.total += value * weight
        self.count += weight

    def result(self):
        return self.total / self.count if self.count else 0.0


def _batch_size(x):
    """Samples in a batch: the leading dimension of its first tensor."""
    if type(x) is Tensor:
        return x.shape[0] if x.ndim else 1
    while isinstance(x, (tuple, list)):
        x = x[0]
    if isinstance(x, dict):
        return _batch_size(next(iter(x.values())))
    return x.shape[0] if x.ndim else 1


def _numpy(y):
    if isinstance(y, (tuple, list)):
        return type(y)(_numpy(v) for v in y)
    if isinstance(y, dict):
        return {k: _numpy(v) for k, v in y.items()}
    return y.numpy()


class Trainer:
    """compile / fit / evaluate / predict and their one-batch forms."""
    optimizer = None
    compiled = False
    stop_training = False
    history = None

    # ---- compile --------------------------------------------------------------------------------------

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True):
        """Sets the optimizer (a name or an instance), the loss (a name, a Loss or a callable
        (y_true, y_pred) -> scalar tensor) and the metrics (names or Metric instances) that fit and
        evaluate use. A model with several outputs takes a loss per output (a list in output order,
        a dict keyed by output name, or one loss for all), `loss_weights` (list or dict) and metrics
        per output (a dict, or a list of lists); see keras/_outputs.py. run_eagerly,
        steps_per_execution, jit_compile and auto_scale_loss are accepted for compatibility: ember
        always runs eagerly."""
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        self._compile_args = dict(optimizer=optimizer, loss=loss, metrics=metrics, weighted_metrics=weighted_metrics,
                                  loss_weights=loss_weights)
        self._output_metrics = None  # [(log name, metric, output index, weighted)] once outputs resolve
        self._output_trackers = []
        if _outputs.is_structured_compile(loss, loss_weights, metrics, weighted_metrics):
            # per-output losses or metrics: resolved against the outputs on the first batch
            self._loss_fn = self._output_losses()
            self._compiled_metrics, self._weighted = [], []
            self.compiled = True
            return
        self._loss_fn = _make_loss(loss)
        self._compiled_metrics = [metrics_module.get(m, loss=self._loss_fn) for m in _as_list(metrics, "metrics")]
        self._compiled_metrics += [metrics_module.get(m, loss=self._loss_fn)
                                   for m in _as_list(weighted_metrics, "weighted_metrics")]
        n_weighted = len(_as_list(weighted_metrics, "weighted_metrics"))
        self._weighted = [False] * (len(self._compiled_metrics) - n_weighted) + [True] * n_weighted
        self.compiled = True
        self._warn_if_logits_meet_probabilities()

    def _output_losses(self):
        args = self._compile_args
        return _outputs.OutputLosses(args["loss"], args["loss_weights"], _make_loss,
                                     lambda: getattr(self, "output_names", None))

    def _resolve_outputs(self, y_pred, op):
        """On the first batch whose prediction is a structure (several outputs) or after a structured
        compile: the per-output losses, metrics and log trackers. Other batches: nothing."""
        if self._output_metrics is not None or (type(y_pred) is Tensor and
                                                not isinstance(self._loss_fn, _outputs.OutputLosses)):
            return
        if not isinstance(self._loss_fn, _outputs.OutputLosses):
            self._loss_fn = self._output_losses()
        losses = self._loss_fn
        losses.op = op
        if losses.names is None:
            losses.resolve(_outputs.split_outputs(y_pred, getattr(self, "output_names", None))[1])
        args = self._compile_args
        self._output_metrics = _outputs.output_metrics(
            args["metrics"], args["weighted_metrics"], losses.names, losses.fns,
            lambda m, loss: metrics_module.get(m, loss=loss))
        self._compiled_metrics = [metric for _, metric, _, _ in self._output_metrics]
        self._weighted = [weighted for _, _, _, weighted in self._output_metrics]
        multi = len(losses.names) > 1
        self._output_trackers = [(f"{name}_loss", i, _MeanTracker()) for i, name in enumerate(losses.names)
                                 if multi and losses.fns[i] is not None]

    def get_compile_config(self):
        """What compile() was given, serialized (saved with the model by save())."""
        if not self.compiled:
            return None
        args = self._compile_args

        def metric_list(values):
            if isinstance(values, dict):
                return {k: metric_list(v) for k, v in values.items()}
            if not isinstance(values, (list, tuple)):
                values = [] if values is None else [values]
            return [metric_list(m) if isinstance(m, (list, tuple, dict)) else
                    m if isinstance(m, str) or m is None else metrics_module.serialize(metrics_module.get(m))
                    for m in values]
        loss = args["loss"]
        if isinstance(self._loss_fn, _outputs.OutputLosses) or isinstance(loss, (list, tuple, dict)):
            loss_config = self._output_losses().serialize(losses_module.serialize)
        else:
            loss_config = loss if isinstance(loss, str) or loss is None else losses_module.serialize(self._loss_fn)
        config = {"optimizer": optimizers_module.serialize(self.optimizer), "loss": loss_config,
                  "metrics": metric_list(args["metrics"]), "weighted_metrics": metric_list(args["weighted_metrics"])}
        if args.get("loss_weights") is not None:
            config["loss_weights"] = args["loss_weights"]
        return config

    def compile_from_config(self, config):
        """compile() from what get_compile_config() returned (fresh optimizer state)."""
        def restore(value, deserialize):
            """Names and None as they are, serialized objects deserialized, through lists and
            per-output dicts."""
            if isinstance(value, list):
                return [restore(v, deserialize) for v in value]
            if isinstance(value, dict) and "class_name" not in value:
                return {k: restore(v, deserialize) for k, v in value.items()}
            return value if isinstance(value, (str, type(None))) else deserialize(value)
        self.compile(optimizer=optimizers_module.deserialize(config["optimizer"]),
                     loss=restore(config["loss"], losses_module.deserialize),
                     metrics=restore(config["metrics"], metrics_module.deserialize),
                     weighted_metrics=restore(config.get("weighted_metrics", []), metrics_module.deserialize),
                     loss_weights=config.get("loss_weights"))

    def _warn_if_logits_meet_probabilities(self):
        """Keras's warning when a loss expecting logits follows a softmax or sigmoid output."""
        if not getattr(self._loss_fn, "from_logits", False):
            return
        activation = getattr(self, "output_activation_name", None)
        if activation in _LOGIT_ACTIVATIONS:
            name = getattr(self._loss_fn, "name", type(self._loss_fn).__name__)
            warnings.warn(f'"`{name}` received `from_logits=True`, but the `output` argument was produced by a '
                          f'{_LOGIT_ACTIVATIONS[activation]} activation and thus does not represent logits. '
                          f'Was this intended?', UserWarning, stacklevel=3)

    def _check_compiled(self, op):
        if not self.compiled:
            raise RuntimeError(f"{op}: you must call `compile()` before using the model "
                               f"(e.g. model.compile(optimizer='adam', loss='mse'))")
        if self._loss_fn is None and op != "predict":
            raise ValueError(f"{op}: the model was compiled without a loss; pass loss= to compile()")

    @property
    def metrics(self):
        """The compiled metrics (the loss is tracked separately, as 'loss' in the logs)."""
        return list(getattr(self, "_compiled_metrics", []))

    @property
    def metrics_names(self):
        """The names evaluate() returns values for, in order (as the logs name them)."""
        if self._output_metrics is not None:
            return (["loss"] + [name for name, _, _ in self._output_trackers]
                    + [name for name, _, _, _ in self._output_metrics])
        return ["loss"] + [m.name for m in self.metrics]

    # ---- one batch ----------------------------------------------------------------------------------------

    def _loss_value(self, y, y_pred, sample_weight):
        """The compiled loss of a batch plus the model's regularization penalties."""
        loss = self._loss_fn(y, y_pred, sample_weight=sample_weight) if sample_weight is not None \
            else self._loss_fn(y, y_pred)
        penalties = self.losses
        if penalties:
            for penalty in penalties:
                loss = loss + penalty
        return loss

    def _make_train_step(self):
        """A training step for one fit or train_on_batch call: (x, y, sample_weight) -> (the loss as
        a float, y_pred). It runs forward, loss (with the penalties), backward and one optimizer
        call. The trainable weights are read after the first forward, which builds a lazily built
        model, and kept for the call; what the model's structure decides (whether calling it is
        calling a stack of layers in turn, whether any layer records penalties) is looked up again
        only when the structure changes (_CallContext.version moves)."""
        ctx = _CallContext
        params = stack = None
        stack_version = penalties_version = -1
        penalized = True

        self._name_loss_call("fit")

        def train_step(x, y, sample_weight):
            nonlocal params, stack, stack_version, penalties_version, penalized
            if stack_version != ctx.version:
                stack, stack_version = self._layers_called_in_turn(), ctx.version
            if stack is not None and type(x) is Tensor:
                y_pred = x
                for layer in stack:
                    y_pred = layer(y_pred)
            else:
                y_pred = self(x, training=True)
            if params is None:
                params = tuple(self.trainable_weights)
            if penalties_version != ctx.version:
                penalized, penalties_version = self._may_record_losses(), ctx.version
            self._resolve_outputs(y_pred, "fit")
            loss = self._loss_fn(y, y_pred) if sample_weight is None \
                else self._loss_fn(y, y_pred, sample_weight=sample_weight)
            if penalized:
                for penalty in self.losses:
                    loss = loss + penalty
            for p in params:
                p.grad = None
            if loss._grad_fn is not None:
                _backward_scalar(loss, None)  # what loss.backward() runs for a recorded loss
            else:
                loss.backward()  # the general path, which also says why when nothing requires grad
            self.optimizer.apply([p.grad for p in params], params)
            return loss.item(), y_pred
        return train_step

    def _name_loss_call(self, op):
        """Names `op` (fit, evaluate) in the messages of a multi-output loss; returns the name it
        replaces (None for a single loss)."""
        losses = self._loss_fn
        if not isinstance(losses, _outputs.OutputLosses):
            return None
        previous, losses.op = losses.op, op
        return previous

    def _test_batch(self, x, y, sample_weight):
        with no_grad():
            y_pred = self(x, training=False)
            self._resolve_outputs(y_pred, "evaluate")
            return self._loss_value(y, y_pred, sample_weight).item(), y_pred

    def _update_metrics(self, y, y_pred, sample_weight):
        if self._output_trackers:
            n = _batch_size(y_pred)
            for (_, i, tracker) in self._output_trackers:
                tracker.update(self._loss_fn.last[i], n)
        if not self._compiled_metrics:
            return
        if self._output_metrics is not None:
            self._update_output_metrics(y, y_pred, sample_weight)
            return
        y_pred = _detached(y_pred)
        for metric, weighted in zip(self._compiled_metrics, self._weighted):
            if weighted and sample_weight is not None:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
            else:
                metric.update_state(y, y_pred)

    def _update_output_metrics(self, y, y_pred, sample_weight):
        losses = self._loss_fn
        preds, _ = _outputs.split_outputs(y_pred, losses.names)
        ys = losses.targets(y, "y")
        sws = losses.targets(sample_weight, "sample_weight")
        for _, metric, i, weighted in self._output_metrics:
            pred = _detached(preds[i])
            if weighted and sws[i] is not None:
                metric.update_state(ys[i], pred, sample_weight=sws[i])
            else:
                metric.update_state(ys[i], pred)

    def _logs(self, tracker, prefix=""):
        logs = {prefix + "loss": tracker.result()}
        for name, _, output_tracker in self._output_trackers:
            logs[prefix + name] = output_tracker.result()
        if self._output_metrics is not None:
            for name, metric, _, _ in self._output_metrics:
                logs[prefix + name] = float(metric.result())
            return logs
        for metric in self._compiled_metrics:
            logs[prefix + metric.name] = float(metric.result())
        return logs

    def _reset_metrics(self):
        for metric in self._compiled_metrics:
            metric.reset_state()
        self._output_trackers = [(name, i, _MeanTracker()) for name, i, _ in self._output_trackers]

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimizer step on one batch; the loss (and metrics) of that batch."""
        self._check_compiled("train_on_batch")
        it = _data.EpochIterator(x, y, sample_weight, batch_size=_ONE_BATCH, class_weight=class_weight,
                                 op="train_on_batch")
        self._reset_metrics()
        tracker = _MeanTracker()
        train_step = self._make_train_step()
        for _, (xb, yb, swb) in it:
            loss, y_pred = train_step(xb, yb, swb)
            tracker.update(loss, _batch_size(xb))
            self._update_metrics(yb, y_pred, swb)
        return self._result(self._logs(tracker), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) of one batch, without training."""
        self._check_compiled("test_on_batch")
        self._reset_metrics()
        return self._result(self._evaluate_iterator(
            _data.EpochIterator(x, y, sample_weight, batch_size=_ONE_BATCH, op="test_on_batch"), None), return_dict)

    def predict_on_batch(self, x):
        """The model's output for one batch, as a NumPy array."""
        for _, (xb, _, _) in _data.EpochIterator(x, batch_size=_ONE_BATCH, op="predict_on_batch"):
            with no_grad():
                return _numpy(self(xb, training=False))
        raise ValueError("predict_on_batch: x holds no samples")

    def _result(self, logs, return_dict):
        if return_dict:
            return logs
        if self._output_metrics is not None:
            values = [logs[name] for name in self.metrics_names]
        else:
            values = [logs["loss"]] + [logs[m.name] for m in self._compiled_metrics]
        return values[0] if len(values) == 1 else values

    # ---- fit ----------------------------------------------------------------------------------------------

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Trains for `epochs` epochs (from `initial_epoch`) and returns the History: x and y as NumPy
        arrays, ember tensors or lists (batch_size 32 by default), or x as a dataset / generator of
        (x, y[, sample_weight]) batches."""
        self._check_compiled("fit")
        train_it, val_it = _data.make_fit_iterators(
            x, y, sample_weight, batch_size=batch_size or 32, shuffle=shuffle, validation_split=validation_split,
            validation_data=validation_data, validation_batch_size=validation_batch_size,
            steps_per_epoch=steps_per_epoch, validation_steps=validation_steps, class_weight=class_weight)
        cbl = callbacks_module.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                            verbose=verbose, epochs=epochs, steps=train_it.num_batches)
        batch_hooks = cbl.needs_batch_hooks("train")
        self.stop_training = False
        train_step = self._make_train_step()
        epoch_logs = {}
        cbl.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            tracker = _MeanTracker()
            cbl.on_epoch_begin(epoch)
            seen = 0
            for step, (xb, yb, swb) in train_it:
                if batch_hooks:
                    cbl.on_train_batch_begin(step)
                loss, y_pred = train_step(xb, yb, swb)
                tracker.update(loss, xb.shape[0] if type(xb) is Tensor else _batch_size(xb))
                if self._compiled_metrics or self._output_trackers:
                    self._update_metrics(yb, y_pred, swb)
                seen += 1
                if batch_hooks:
                    cbl.on_train_batch_end(step, self._logs(tracker))
                if self.stop_training:
                    break
            if seen == 0:
                break
            epoch_logs = self._logs(tracker)
            if val_it is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_iterator(val_it, cbl, prefix="val_")
                epoch_logs = {**dict(sorted(epoch_logs.items())), **dict(sorted(val_logs.items()))}
            else:
                epoch_logs = dict(sorted(epoch_logs.items()))
            cbl.on_epoch_end(epoch, epoch_logs)
            if self.stop_training or train_it.ran_out:
                break
        cbl.on_train_end(epoch_logs)
        return cbl.history

    # ---- evaluate / predict -------------------------------------------------------------------------------

    def _evaluate_iterator(self, it, cbl, prefix=""):
        """Loss and metrics over one pass of `it`, with the test hooks of `cbl` (if any)."""
        previous = self._name_loss_call("evaluate")
        try:
            return self._evaluate_pass(it, cbl, prefix)
        finally:
            if previous is not None:
                self._name_loss_call(previous)

    def _evaluate_pass(self, it, cbl, prefix):
        self._reset_metrics()
        tracker = _MeanTracker()
        batch_hooks = cbl is not None and cbl.needs_batch_hooks("test")
        if cbl is not None:
            cbl.on_test_begin()
        for step, (xb, yb, swb) in it:
            if batch_hooks:
                cbl.on_test_batch_begin(step)
            loss, y_pred = self._test_batch(xb, yb, swb)
            tracker.update(loss, _batch_size(xb))
            self._update_metrics(yb, y_pred, swb)
            if batch_hooks:
                cbl.on_test_batch_end(step, self._logs(tracker))
        logs = self._logs(tracker, prefix)
        if cbl is not None:
            cbl.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """The loss over the data, or [loss, *metrics] when metrics were compiled (a dict with
        return_dict=True)."""
        self._check_compiled("evaluate")
        it = _data.EpochIterator(x, y, sample_weight, batch_size=batch_size or 32, steps_per_epoch=steps,
                                 op="evaluate")
        cbl = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                                            epochs=1, steps=it.num_batches)
        logs = self._evaluate_iterator(it, cbl)
        return self._result(logs, return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for x, batch by batch, as one NumPy array (a list of arrays for a
        model with several outputs, a dict for a dict of outputs)."""
        it = _data.EpochIterator(x, batch_size=batch_size or 32, steps_per_epoch=steps, op="predict")
        cbl = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                                            epochs=1, steps=it.num_batches)
        batch_hooks = cbl.needs_batch_hooks("predict")
        outputs = []
        cbl.on_predict_begin()
        with no_grad():
            for step, (xb, _, _) in it:
                if batch_hooks:
                    cbl.on_predict_batch_begin(step)
                out = _numpy(self(xb, training=False))
                outputs.append(out)
                if batch_hooks:
                    cbl.on_predict_batch_end(step, {"outputs": out})
        cbl.on_predict_end()
        if not outputs:
            raise ValueError("predict: the input yielded no batches")
        if isinstance(outputs[0], (tuple, list)):
            return [np.concatenate(parts) for parts in zip(*outputs)]
        if isinstance(outputs[0], dict):
            return {k: np.concatenate([out[k] for out in outputs]) for k in outputs[0]}
        return np.concatenate(outputs)


def _make_loss(identifier):
    """The compiled form of a loss identifier: a Loss, functions of (y_true, y_pred) giving per-sample
    values wrapped to reduce as Keras does; None for None."""
    fn = losses_module.get(identifier)
    if fn is not None and not isinstance(fn, losses_module.Loss):
        name = identifier if isinstance(identifier, str) else getattr(fn, "__name__", None)
        fn = losses_module.LossFunctionWrapper(fn, name=name)
    return fn


def _detached(y_pred):
    """y_pred cut from the graph, keeping its mask (the metrics weigh by it, as the loss does)."""
    mask = getattr(y_pred, "_keras_mask", None)
    y_pred = y_pred.detach()
    if mask is not None:
        y_pred._keras_mask = mask
    return y_pred


def _as_list(value, name):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, dict):
        raise NotImplementedError(f"compile: {name} as a dict (per output) is not supported; pass a list")
    return [value]

"""ember.keras.utils: one-hot labels, Keras's progress bar and a plot of a training history.

    from ember.keras.utils import to_categorical, plot_history
    y_onehot = to_categorical(labels, num_classes=10)
    plot_history(model.fit(...), "history.png")
"""
import math
import os
import sys
import time

import numpy as np

from .. import _C
from ..tensor import Tensor

__all__ = ["to_categorical", "Progbar", "plot_history"]


# ---- one-hot labels ----------------------------------------------------------------------------
def to_categorical(x, num_classes=None, dtype="float32"):
    """One-hot encoding of integer class labels, as keras.utils.to_categorical.

    Labels of shape (N,) or (N, 1) (a trailing size-1 axis is dropped, as Keras) become
    (N, num_classes); any other shape S becomes S + (num_classes,). num_classes defaults to
    max(label) + 1. Returns a NumPy array of `dtype` (float32), or an ember tensor when x is one.
    """
    as_ember = isinstance(x, Tensor)
    labels = np.asarray(x.numpy() if as_ember else x)
    if labels.dtype.kind not in "biuf":
        raise TypeError(f"to_categorical: labels must be integers, got NumPy dtype {labels.dtype}")
    if labels.dtype.kind == "f":
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise ValueError("to_categorical: labels must be whole numbers (class indices), got non-integer values "
                             f"such as {labels[labels != np.round(labels)][:3].tolist()}")
    labels = labels.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if num_classes is None:
        num_classes = int(flat.max()) + 1 if flat.size else 0
    num_classes = int(num_classes)
    if flat.size and (flat.min() < 0 or flat.max() >= num_classes):
        bad = flat[(flat < 0) | (flat >= num_classes)][0]
        raise ValueError(f"to_categorical: label {bad} is outside [0, {num_classes}) for num_classes={num_classes}")
    onehot = np.zeros((flat.size, num_classes), dtype=np.dtype(dtype))
    onehot[np.arange(flat.size), flat] = 1
    onehot = onehot.reshape(shape + (num_classes,))
    return _C.from_numpy(onehot) if as_ember else onehot


# ---- progress bar ------------------------------------------------------------------------------
def _now():
    return time.time()


def _is_interactive():
    """Whether stdout shows a live, rewritable line (a terminal or a notebook)."""
    stream = sys.stdout
    return bool((hasattr(stream, "isatty") and stream.isatty()) or "ipykernel" in sys.modules
                or "PYCHARM_HOSTED" in os.environ)


def _format_value(value):
    """A metric value as Keras prints it: 4 decimals, scientific notation at or below 1e-3."""
    return f" {value:.4f}" if abs(value) > 1e-3 else f" {value:.4e}"


def _format_step_time(seconds, unit_name):
    """' 2ms/step', ' 120us/step', ' 1s/step' (' 0s/step' before any step)."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit_name}"
    return f" {seconds * 1e6:.0f}us/{unit_name}"


def _format_eta(seconds):
    """'12s', '1:02' past a minute, '1:00:05' past an hour."""
    if seconds > 3600:
        return "%d:%02d:%02d" % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
    if seconds > 60:
        return "%d:%02d" % (seconds // 60, seconds % 60)
    return "%ds" % seconds


def _as_number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return float(np.mean(np.asarray(value)))


class Progbar:
    """Keras 3's progress bar.

        bar = Progbar(target=44)
        for step in range(44):
            bar.update(step + 1, [("loss", loss_value)])

    verbose=1 on a terminal rewrites one line in place (`\\r`):
    `44/44 ━━━━━━━━━━━━━━━━━━━━ 0s 2ms/step - accuracy: 0.9712 - loss: 0.0915`, showing the time
    left while running and the time taken once finished. Without a terminal, verbose=1 prints
    that line once, when finished, without colours. verbose=2 prints only the final line,
    `44/44 - 0s - 2ms/step - loss: 0.0915`; verbose=0 prints nothing.

    Values are averaged over the steps seen (weighted by steps) unless their name is in
    stateful_metrics (or, with stateless_metrics given, unless it is in it); the final update
    shows the given values as they are, as Keras.
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, stateless_metrics=None,
                 unit_name="step"):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Progbar: give stateful_metrics (names shown as given) or stateless_metrics (names "
                             "averaged over steps), not both")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = None if stateless_metrics is not None else set(stateful_metrics or ())
        self.stateless_metrics = None if stateless_metrics is None else set(stateless_metrics)
        self._dynamic_display = _is_interactive()
        self._seen_so_far = 0
        self._values = {}
        self._values_order = []
        self._start = _now()
        self._last_update = 0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def _is_averaged(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def _record(self, current, values, finalize):
        for name, value in values:
            if name not in self._values_order:
                self._values_order.append(name)
            value = _as_number(value)
            if self._is_averaged(name) and not finalize:
                weight = max(current - self._seen_so_far, 1)
                total, count = self._values.get(name, (0.0, 0))
                self._values[name] = (total + value * weight, count + weight)
            else:
                self._values[name] = (value, 1)
        self._seen_so_far = current

    def _metrics_text(self):
        return "".join(f" - {name}:{_format_value(total / max(1, count))}"
                       for name in self._values_order for total, count in [self._values[name]])

    def update(self, current, values=None, finalize=None):
        """Shows progress at step `current`. values: (name, value) pairs for this step.
        finalize: whether this is the last update (default: current >= target)."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values or [], finalize)
        now = _now()
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            if self._dynamic_display:
                self._write_live_line(current, now, time_per_unit, finalize)
            elif finalize:
                self._write(self._plain_line(current, now, time_per_unit) + "\n")
        elif self.verbose == 2 and finalize and self.target is not None and self.target > 0:
            count = f"%{int(math.log10(self.target)) + 1}d/%d" % (current, self.target)
            self._write(f"{count} - {now - self._start:.0f}s -{_format_step_time(time_per_unit, self.unit_name)}"
                        f"{self._metrics_text()}\n")
        self._last_update = now

    def add(self, n, values=None):
        """Advances by n steps."""
        self.update(self._seen_so_far + n, values)

    def _write(self, text):
        sys.stdout.write(text)
        sys.stdout.flush()

    def _plain_line(self, current, now, time_per_unit):
        if self.target is not None and self.target > 0:
            count = f"%{int(math.log10(self.target)) + 1}d/%d" % (current, self.target)
            bar = f"{count} {'━' * self.width}"
        else:
            bar = "%7d/Unknown" % current
        return (f"{bar} {now - self._start:.0f}s{_format_step_time(time_per_unit, self.unit_name)}"
                f"{self._metrics_text()}")

    def _write_live_line(self, current, now, time_per_unit, finalize):
        """Keras's in-place line: erase the previous one (backspaces, then carriage return), bold
        count, green done / grey left bar, bold time; colour codes do not count towards width."""
        message = "\b" * self._prev_total_width + "\r"
        special_char_len = 0
        if self.target is not None and self.target > 0:
            count = f"%{int(math.log10(self.target)) + 1}d/%d" % (current, self.target)
            bar = f"\x1b[1m{count}\x1b[0m "
            special_char_len += 8
            done = int(self.width * float(current) / self.target)
            if done > 0:
                bar += f"\x1b[32m{'━' * done}\x1b[0m"
                special_char_len += 9
            bar += f"\x1b[37m{'━' * (self.width - done)}\x1b[0m"
            special_char_len += 9
        else:
            bar = "%7d/Unknown" % current
        if self.target is not None and self.target > 0 and not finalize:
            info = f" \x1b[1m{_format_eta(time_per_unit * (self.target - current))}\x1b[0m"
        else:
            info = f" \x1b[1m{now - self._start:.0f}s\x1b[0m"
        special_char_len += 8
        info += _format_step_time(time_per_unit, self.unit_name) + self._metrics_text()
        message += bar + info
        total_width = len(bar) + len(info) - special_char_len
        if self._prev_total_width > total_width:
            message += " " * (self._prev_total_width - total_width)
        if finalize:
            message += "\n"
        self._write(message)
        self._prev_total_width = total_width

    def _estimate_step_duration(self, current, now):
        """Seconds per step, leaving out the first step (compilation / warm-up in Keras, first
        allocations here) once later steps exist."""
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            per_step = (now - self._time_after_first_step) / (current - 1)
        else:
            per_step = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_step


# ---- plotting a history ------------------------------------------------------------------------
def _history_dict(history):
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(f"plot_history: expected a History (what fit returns) or a dict of lists, got "
                        f"{type(history).__name__}")
    if not logs or not any(len(v) for v in logs.values()):
        raise ValueError("plot_history: the history is empty (no epoch has been recorded)")
    return logs


def plot_history(history, path, title=None):
    """Writes a PNG to `path` with one panel per quantity (loss first, then each metric), the
    training curve and, when recorded, the validation ('val_' ...) curve against the epoch.
    `history` is what fit returns (a History) or its .history dict. Returns `path`.

    Needs matplotlib (`pip install "ember[plot]"`); draws off-screen, leaving pyplot's state alone.
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError as err:
        raise ImportError('plot_history needs matplotlib, which is not installed: pip install "ember[plot]" '
                          "(or pip install matplotlib)") from err
    logs = _history_dict(history)
    names = []
    for key in logs:
        name = key[4:] if key.startswith("val_") else key
        if name not in names:
            names.append(name)
    names.sort(key=lambda name: name != "loss")
    epochs = getattr(history, "epoch", None)
    figure = Figure(figsize=(5 * len(names), 4), layout="constrained")
    FigureCanvasAgg(figure)
    for position, name in enumerate(names, 1):
        axes = figure.add_subplot(1, len(names), position)
        for key, label in ((name, "training"), ("val_" + name, "validation")):
            if key in logs and len(logs[key]):
                values = [float(v) for v in logs[key]]
                xs = [e + 1 for e in epochs] if epochs and len(epochs) == len(values) else range(1, len(values) + 1)
                axes.plot(list(xs), values, marker="o" if len(values) < 30 else None, label=label)
        axes.set_xlabel("epoch")
        axes.set_ylabel(name)
        axes.set_title(name)
        axes.grid(True, alpha=0.3)
        axes.legend()
    if title:
        figure.suptitle(title)
    figure.savefig(os.fspath(path), format="png")
    return path

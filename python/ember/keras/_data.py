"""Turning the x, y, sample_weight of fit / evaluate / predict into per-epoch iterators of
ember-tensor batches, with Keras 3's rules.

Two kinds of source:
- In-memory arrays: NumPy arrays, ember tensors, nested lists of numbers, or a tuple / list / dict
  of arrays for a model with several inputs (or outputs). They are converted once per call to
  contiguous ember tensors (sharing memory where the dtype already fits); each batch is then a
  view `t[start:stop]`, or one index_select per tensor when shuffled. Nothing else runs per batch.
- Batch sources: an ember.data DataLoader, a Python generator or iterator, any other iterable of
  batches `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`; each batch is converted as it comes.
  An ember.data TensorDataset is read as arrays; any other map-style Dataset of (x, y) samples is
  batched by a DataLoader(batch_size, shuffle).

dtypes: floats become float32 (ember's default float dtype, Keras's floatx), as Keras casts
float64 NumPy data. Integer x stays integer (int64; int32 kept): an Embedding reads the ids
exactly (a float32 id is exact only up to 2^24), and the built-in layers that compute in float
cast an integer input to their dtype, as Keras's type promotion does inside Dense. Bool x becomes float32. Integer labels y
stay integers (int64; int32 kept); bool labels become float32 as Keras's losses cast them. Sample
weights are float32.

Batches are 3-tuples (x, y, sample_weight); y and sample_weight may be None.
"""
import builtins
import math
import numbers
import types
import warnings

import numpy as np

from .. import _C
from .. import _dtype
from ..data import DataLoader, Dataset, TensorDataset
from ..generator import generator_or_global
from ..tensor import Tensor

__all__ = ["EpochIterator", "make_fit_iterators", "class_weight_to_sample_weights"]

_RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset or "
            "generator can generate at least `steps_per_epoch * epochs` batches.")


# ---- conversion of one array-like --------------------------------------------------------------
def _target_dtype(kind, is_int32, role):
    """The ember dtype that data of NumPy kind `kind` ('b', 'i', 'u', 'f') becomes in `role`."""
    if role in ("x", "y") and kind in "iu":
        return _dtype.int32 if is_int32 else _dtype.int64
    return _dtype.get_default_dtype()


def _to_tensor(value, role, name, op):
    """`value` (tensor, NumPy array, nested list of numbers) as a contiguous ember tensor with a
    first (sample) dimension, of the dtype `role` ('x', 'y' or 'sample_weight') asks for."""
    if isinstance(value, Tensor):
        t = value.detach() if value.requires_grad else value
        kind = "f" if t.dtype in (_dtype.float32, _dtype.float64) else ("b" if t.dtype == _dtype.bool else "i")
        target = _target_dtype(kind, t.dtype == _dtype.int32, role)
        if t.dtype != target:
            t = _C.to_dtype(t, target)
        if not t.is_contiguous():
            t = _C.contiguous(t)
    else:
        arr = value if isinstance(value, np.ndarray) else np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{op}: {name} must hold numbers, got data of NumPy dtype {arr.dtype} "
                            f"(from {type(value).__name__}); convert it to a numeric array first")
        target = _target_dtype(arr.dtype.kind, arr.dtype == np.int32, role)
        if arr.ndim == 0:
            raise ValueError(f"{op}: {name} is a scalar; it needs a first dimension counting samples")
        arr = np.ascontiguousarray(arr, dtype=_dtype.TO_NUMPY[target])
        t = _C.from_numpy(arr)
    if t.ndim == 0:
        raise ValueError(f"{op}: {name} is 0-d; it needs a first dimension counting samples")
    return t


def _is_array(value):
    """A tensor, a NumPy array or anything NumPy reads as one (pandas, other frameworks' tensors)."""
    return isinstance(value, (Tensor, np.ndarray)) or hasattr(value, "__array__")


def _convert(data, role, op):
    """x, y or sample_weight as a tensor, a tuple of tensors (several inputs or outputs: a list or
    tuple of arrays) or a dict of tensors; None stays None."""
    if data is None:
        return None
    if isinstance(data, dict):
        return {key: _to_tensor(value, role, f"{role}[{key!r}]", op) for key, value in data.items()}
    if isinstance(data, (list, tuple)) and data and builtins.all(_is_array(v) for v in data):
        if len(data) == 1:
            return _to_tensor(data[0], role, role, op)
        return tuple(_to_tensor(value, role, f"{role}[{i}]", op) for i, value in enumerate(data))
    return _to_tensor(data, role, role, op)


def _leaves(data, role):
    """(name, tensor) pairs of a converted structure."""
    if data is None:
        return []
    if isinstance(data, Tensor):
        return [(role, data)]
    if isinstance(data, tuple):
        return [(f"{role}[{i}]", t) for i, t in enumerate(data)]
    return [(f"{role}[{key!r}]", t) for key, t in data.items()]


def _map(fn, data):
    """`fn` applied to every tensor of a converted structure."""
    if data is None:
        return None
    if isinstance(data, Tensor):
        return fn(data)
    if isinstance(data, tuple):
        return tuple(fn(t) for t in data)
    return {key: fn(t) for key, t in data.items()}


def _sample_count(x, y, sample_weight, op):
    """The shared first dimension of every array; a ValueError naming both lengths otherwise."""
    named = _leaves(x, "x") + _leaves(y, "y") + _leaves(sample_weight, "sample_weight")
    if not named:
        raise ValueError(f"{op}: no input data (x is None)")
    first_name, first = named[0]
    n = first.shape[0]
    for name, t in named[1:]:
        if t.shape[0] != n:
            raise ValueError(f"{op}: {first_name} and {name} must have the same number of samples, got "
                             f"{first_name} with {n} samples and {name} with {t.shape[0]} samples "
                             f"(shapes {tuple(first.shape)} and {tuple(t.shape)}); data cardinality is ambiguous")
    return n


# ---- class weights -----------------------------------------------------------------------------
def class_weight_to_sample_weights(y, class_weight):
    """Per-sample weights `class_weight[label]` (1.0 for classes not in the dict), as a float32
    NumPy array; labels are y itself, y[:, 0] for (N, 1), or argmax for one-hot rows (Keras)."""
    if isinstance(y, (tuple, dict)):
        raise ValueError("class_weight is only supported for a model with a single output (one y array)")
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict mapping class index to weight, got "
                        f"{type(class_weight).__name__}")
    labels = np.asarray(y)
    if labels.ndim > 1:
        labels = labels[..., 0] if labels.shape[-1] == 1 else np.argmax(labels, axis=-1)
    if labels.ndim != 1:
        raise ValueError(f"class_weight needs labels of shape (N,), (N, 1) or one-hot (N, classes); got y of "
                         f"shape {np.shape(y)}")
    labels = np.round(labels).astype(np.int64)
    weights = np.ones(labels.shape[0], dtype=_dtype.TO_NUMPY[_dtype.get_default_dtype()])
    for label, weight in class_weight.items():
        weights[labels == builtins.int(label)] = weight
    return weights


# ---- in-memory arrays --------------------------------------------------------------------------
class _ArraySource:
    """Batches of converted tensors: views when in order, one index_select per tensor when shuffled."""

    one_shot = False

    def __init__(self, x, y, sample_weight, num_samples, batch_size, shuffle, op):
        if shuffle not in (True, False, "batch"):
            raise ValueError(f"{op}: shuffle must be True, False or 'batch', got {shuffle!r}")
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.num_samples = num_samples
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.op = op
        self.num_batches = math.ceil(num_samples / batch_size)
        first = (_leaves(x, "x") or [(None, None)])[0][1]
        self.device = None if first is None or str(first.device) == "cpu" else first.device

    def _on_device(self, index):
        """Indices where the data lives (the order is drawn on the host)."""
        return index if self.device is None else _C.to_device(index, self.device)

    def _shuffled_batches(self):
        """This pass's batches as index tensors into the data, from ember's global generator (so
        ember.manual_seed repeats them): slices of one permutation, or for shuffle='batch' the
        batch-sized chunks in random order, each shuffled within (tf.keras's 'batch' mode)."""
        n, size = self.num_samples, self.batch_size
        generator = generator_or_global(None, self.op)
        if self.shuffle != "batch":
            order = self._on_device(_C.from_numpy(generator.permutation(n)))
            return (_C.getitem(order, slice(start, start + size)) for start in range(0, n, size))
        starts = np.arange(0, n, size)[generator.permutation(self.num_batches)]
        return (self._on_device(_C.from_numpy(start + generator.permutation(min(size, n - start)))) for start in starts)

    def __iter__(self):
        x, y, sw, size = self.x, self.y, self.sample_weight, self.batch_size
        if not self.shuffle:
            if type(x) is Tensor and (y is None or type(y) is Tensor) and sw is None:  # the common case, lean
                getitem = _C.getitem
                for start in range(0, self.num_samples, size):
                    rows = slice(start, start + size)
                    yield (getitem(x, rows), None if y is None else getitem(y, rows), None)
                return
            for start in range(0, self.num_samples, size):
                rows = slice(start, start + size)
                take = lambda t: _C.getitem(t, rows)  # noqa: E731  a view, no copy
                yield (_map(take, x), _map(take, y), _map(take, sw))
            return
        for index in self._shuffled_batches():
            take = lambda t: _C.index_select(t, 0, index)  # noqa: E731
            yield (_map(take, x), _map(take, y), _map(take, sw))

    def split(self, validation_split):
        """(training source, validation source): the LAST fraction of the samples validates, taken
        before any shuffling, as Keras."""
        n = self.num_samples
        split_at = math.floor(n * (1.0 - validation_split))
        if split_at == 0 or split_at == n:
            raise ValueError(f"{self.op}: training data contains {n} samples, which is not sufficient to split "
                             f"it into a validation and training set as specified by "
                             f"validation_split={validation_split}; provide more data or a different value")
        head = lambda t: _C.getitem(t, slice(0, split_at))  # noqa: E731
        tail = lambda t: _C.getitem(t, slice(split_at, n))  # noqa: E731
        arrays = (self.x, self.y, self.sample_weight)
        train = _ArraySource(*(_map(head, a) for a in arrays), split_at, self.batch_size, self.shuffle, self.op)
        val = _ArraySource(*(_map(tail, a) for a in arrays), n - split_at, self.batch_size, False, self.op)
        return train, val


# ---- batch sources -----------------------------------------------------------------------------
def _unpack_batch(batch, op):
    """A source's batch as (x, y, sample_weight): tuples and lists are (x,), (x, y) or
    (x, y, sample_weight); anything else is x alone."""
    if isinstance(batch, (tuple, list)) and not hasattr(batch, "_fields"):
        if len(batch) == 1:
            return batch[0], None, None
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch[0], batch[1], batch[2]
        raise ValueError(f"{op}: each batch must be x, (x,), (x, y) or (x, y, sample_weight); got a "
                         f"{type(batch).__name__} of {len(batch)} items")
    return batch, None, None


class _BatchSource:
    """Batches from an iterable, converted as they come. A generator or iterator is read once
    (one_shot): later epochs continue it; other iterables start a new pass each epoch."""

    def __init__(self, iterable, class_weight, op):
        self.iterable = iterable
        self.one_shot = iter(iterable) is iterable
        self.class_weight = class_weight
        self.op = op
        try:
            self.num_batches = None if self.one_shot else len(iterable)
        except TypeError:
            self.num_batches = None

    def __iter__(self):
        op = self.op
        for batch in self.iterable:
            x, y, sw = _unpack_batch(batch, op)
            x, y, sw = _convert(x, "x", op), _convert(y, "y", op), _convert(sw, "sample_weight", op)
            _sample_count(x, y, sw, op)
            if self.class_weight is not None and y is not None:
                if sw is not None:
                    raise ValueError(f"{op}: you cannot use class_weight and sample_weight at the same time "
                                     "(this batch carries sample weights)")
                sw = _C.from_numpy(class_weight_to_sample_weights(y.numpy(), self.class_weight))
            yield (x, y, sw)


def _is_batch_source(x):
    if isinstance(x, (DataLoader, types.GeneratorType)):
        return True
    if isinstance(x, (list, tuple, dict, set, frozenset, str, bytes, numbers.Number)) or x is None or _is_array(x):
        return False
    return hasattr(x, "__iter__")


def _check_count(value, name, op):
    if isinstance(value, builtins.bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{op}: {name} must be a positive integer, got {value!r}")
    return builtins.int(value)


def _make_source(x, y, sample_weight, batch_size, shuffle, class_weight, op):
    """The source behind an EpochIterator (see the module docstring)."""
    if batch_size is None:
        batch_size = 32
    batch_size = _check_count(batch_size, "batch_size", op)
    if isinstance(x, TensorDataset) and y is None and sample_weight is None and len(x.tensors) <= 3:
        x, y, sample_weight = (list(x.tensors) + [None, None])[:3]
    elif isinstance(x, Dataset):
        x = DataLoader(x, batch_size=batch_size, shuffle=builtins.bool(shuffle))
    if _is_batch_source(x):
        for value, name, what in ((y, "y", "the targets"), (sample_weight, "sample_weight", "the sample weights")):
            if value is not None:
                raise ValueError(f"{op}: when x is a {type(x).__name__} (a source of batches), `{name}` should "
                                 f"not be passed; {what} should be part of each batch it yields")
        return _BatchSource(x, class_weight, op)
    if not (x is None or _is_array(x) or isinstance(x, (list, tuple, dict, numbers.Number))):
        raise TypeError(f"{op}: unsupported type for x: {type(x).__name__}; pass NumPy arrays, ember tensors, "
                        "lists, an ember.data Dataset / DataLoader, or a generator of batches")
    x, y, sw = _convert(x, "x", op), _convert(y, "y", op), _convert(sample_weight, "sample_weight", op)
    n = _sample_count(x, y, sw, op)
    if n == 0 and op != "predict":
        raise ValueError(f"{op}: x has 0 samples; there is nothing to {'train on' if op == 'fit' else 'evaluate'}")
    if class_weight is not None and y is not None:
        if sw is not None:
            raise ValueError(f"{op}: you cannot use class_weight and sample_weight at the same time")
        sw = _C.from_numpy(class_weight_to_sample_weights(y.numpy() if isinstance(y, Tensor) else y, class_weight))
    return _ArraySource(x, y, sw, n, batch_size, shuffle, op)


# ---- the per-epoch iterator --------------------------------------------------------------------
class EpochIterator:
    """One pass per `iter()`: `for step, (x, y, sample_weight) in iterator`, with step counting
    from 0 within the epoch.

    num_batches: batches per epoch (steps_per_epoch when given), or None while unknown (a
        generator's length is learnt at the end of its first pass).
    ran_out: set when a generator or iterator has no more data; the training loop stops after
        the current epoch (an epoch that yielded no batch at all should not be logged).

    With steps_per_epoch, an epoch takes that many batches and the next epoch continues where it
    stopped (a new pass, reshuffled, begins once the data is used up), as Keras; a source with
    fewer batches ends the epoch early with Keras's "ran out of data" warning.
    """

    def __init__(self, x=None, y=None, sample_weight=None, batch_size=None, steps_per_epoch=None,
                 shuffle=False, class_weight=None, op="fit", *, _source=None):
        self.op = op
        if _source is None:
            _source = _make_source(x, y, sample_weight, batch_size, shuffle, class_weight, op)
        self._source = _source
        if steps_per_epoch is not None:
            steps_per_epoch = _check_count(steps_per_epoch, "steps_per_epoch" if op == "fit" else "steps", op)
        self.steps_per_epoch = steps_per_epoch
        self._iterator = None
        self._steps_seen = 0
        self.ran_out = False

    @property
    def num_batches(self):
        return self.steps_per_epoch if self.steps_per_epoch is not None else self._source.num_batches

    @property
    def num_samples(self):
        """Samples per pass for in-memory arrays; None for batch sources."""
        return getattr(self._source, "num_samples", None)

    def _ran_out(self):
        warnings.warn(_RAN_OUT, UserWarning, stacklevel=3)
        if self._source.one_shot:
            self.ran_out = True

    def __iter__(self):
        source = self._source
        if self.steps_per_epoch is None and not source.one_shot and source.num_batches is not None:
            return enumerate(source)  # a whole pass over data that can be read again: nothing to track
        return self._epoch()

    def _epoch(self):
        """One pass that keeps track of where it stopped: steps_per_epoch continuing across epochs,
        a generator read once, a source whose length is learnt by reading it."""
        if self.ran_out:
            return
        if self.steps_per_epoch is None:
            if self._source.one_shot and self._steps_seen:  # a generator read to its end already
                self._ran_out()
                return
            steps = 0
            for steps, batch in enumerate(self._source, 1):
                yield steps - 1, batch
            self._steps_seen = steps
            if self._source.num_batches is None:
                self._source.num_batches = steps
            if steps == 0 and self._source.one_shot:
                self._ran_out()
            return
        known = self._source.num_batches
        for step in range(self.steps_per_epoch):
            if known is not None and self._steps_seen >= known:
                self._ran_out()
                break
            if self._iterator is None:
                self._iterator, self._steps_seen = iter(self._source), 0
            try:
                batch = next(self._iterator)
            except StopIteration:
                if self._source.num_batches is None:
                    self._source.num_batches = self._steps_seen
                self._iterator, self._steps_seen = None, 0
                self._ran_out()
                break
            self._steps_seen += 1
            yield step, batch
        if known is not None and self._steps_seen >= known:
            self._iterator = None
            self._steps_seen = 0


def _validation_iterator(validation_data, batch_size, steps, op):
    if isinstance(validation_data, (tuple, list)):
        if len(validation_data) not in (2, 3):
            raise ValueError(f"{op}: validation_data must be (x_val, y_val) or (x_val, y_val, val_sample_weight), "
                             f"or a dataset / generator of batches; got a {type(validation_data).__name__} of "
                             f"{len(validation_data)} items")
        x, y, sw = (list(validation_data) + [None])[:3]
        return EpochIterator(x, y, sw, batch_size=batch_size, steps_per_epoch=steps, op=op)
    return EpochIterator(validation_data, batch_size=batch_size, steps_per_epoch=steps, op=op)


def make_fit_iterators(x=None, y=None, sample_weight=None, batch_size=None, shuffle=True, validation_split=0.0,
                       validation_data=None, validation_batch_size=None, steps_per_epoch=None,
                       validation_steps=None, class_weight=None):
    """fit's (training EpochIterator, validation EpochIterator or None).

    validation_data wins over validation_split (as Keras); validation_split keeps the last
    fraction of in-memory arrays for validation, taken before shuffling.
    """
    op = "fit"
    if validation_steps is not None:
        _check_count(validation_steps, "validation_steps", op)
    validation_split = validation_split or 0.0
    if not isinstance(validation_split, numbers.Real) or not 0.0 <= validation_split < 1.0:
        raise ValueError(f"{op}: validation_split must be a float in [0, 1), got {validation_split!r}")
    source = _make_source(x, y, sample_weight, batch_size, shuffle, class_weight, op)
    if validation_data is not None:
        val = _validation_iterator(validation_data, validation_batch_size or batch_size, validation_steps, op)
    elif validation_split:
        if not isinstance(source, _ArraySource):
            raise ValueError(f"{op}: validation_split is only supported for NumPy arrays, ember tensors and lists, "
                             f"not for x of type {type(x).__name__}; pass validation_data instead")
        source, val_source = source.split(validation_split)
        if validation_batch_size is not None:
            val_source.batch_size = _check_count(validation_batch_size, "validation_batch_size", op)
            val_source.num_batches = math.ceil(val_source.num_samples / val_source.batch_size)
        val = EpochIterator(steps_per_epoch=validation_steps, op=op, _source=val_source)
    else:
        val = None
    return EpochIterator(steps_per_epoch=steps_per_epoch, op=op, _source=source), val

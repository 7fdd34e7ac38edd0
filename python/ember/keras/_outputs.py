"""compile() for models with several outputs, with Keras's rules: a loss per output (a list in output
order, a dict keyed by output name, or one loss for every output), `loss_weights` (list or dict; 1.0
where not given), and metrics per output (a dict keyed by output name, a list of lists in output
order, or one flat list that every output gets its own copies of). The loss minimized is the
weighted sum of the per-output losses (plus the model's penalties); the logs hold it as 'loss', each
output's unweighted loss as '<output>_loss' and each metric as '<output>_<metric>'.

Everything resolves on the first batch, when the outputs' structure is known: names come from a dict
of outputs, else from the model's output layer names (model.output_names), else 'output_<i>'. Targets
and sample weights follow the same structure (a list in output order or a dict by name; one sample
weight array applies to every output).
"""
import copy

from .. import _C

Tensor = _C.Tensor


def is_structured_compile(loss, loss_weights, metrics, weighted_metrics):
    """True when compile() names per-output losses, weights or metrics."""
    def nested(values):
        return isinstance(values, dict) or (isinstance(values, (list, tuple)) and
                                            any(isinstance(v, (list, tuple, dict)) for v in values))
    return (isinstance(loss, (list, tuple, dict)) or loss_weights is not None or nested(metrics)
            or nested(weighted_metrics))


def split_outputs(y_pred, model_names):
    """(outputs as a list, their names) of a model's prediction."""
    if isinstance(y_pred, dict):
        return list(y_pred.values()), [str(k) for k in y_pred]
    if isinstance(y_pred, (list, tuple)):
        n = len(y_pred)
        names = list(model_names) if model_names is not None and len(model_names) == n else \
            [f"output_{i + 1}" for i in range(n)]
        return list(y_pred), names
    names = list(model_names) if model_names is not None and len(model_names) == 1 else ["output_1"]
    return [y_pred], names


def _per_output(value, names, what, op, default=None):
    """`value` (None, one value for all, a list in output order or a dict by name) as one entry per
    output; ValueError naming the counts or the unknown names when it does not fit."""
    n = len(names)
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"{op}: {what} names {unknown}, which are not outputs of the model; its outputs "
                             f"are {names}")
        return [value.get(name, default) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{op}: got {len(value)} {what} for a model with {n} output(s) {names}; pass one "
                             f"per output in order, or a dict keyed by output name")
        return list(value)
    return [default if value is None else value] * n


class OutputLosses:
    """The compiled loss of a model with several outputs: (y, y_pred[, sample_weight]) -> the weighted
    sum of per-output losses; `last` holds the per-output values of the latest call as floats."""

    def __init__(self, loss, loss_weights, make_loss, model_names):
        self.spec, self.weights_spec = loss, loss_weights
        self.make_loss = make_loss  # identifier -> a Loss (functions wrapped as Keras does)
        self.model_names = model_names  # () -> the model's output names, or None
        self.names = self.fns = self.weights = None
        self.last = []
        self.op = "fit"  # the call its messages name (the trainer sets it: fit, evaluate, ...)

    def resolve(self, names, op=None):
        op = op or self.op
        self.names = names
        specs = _per_output(self.spec, names, "losses", op)
        self.fns = [None if s is None else self.make_loss(s) for s in specs]
        if all(fn is None for fn in self.fns):
            raise ValueError(f"{op}: no loss for any output of the model (outputs {names}); pass loss= to "
                             "compile()")
        weights = _per_output(self.weights_spec, names, "loss weights", op, default=1.0)
        self.weights = [float(w) for w in weights]

    def targets(self, y, what):
        """y (or sample weights) as one entry per output."""
        op, names = self.op, self.names
        if y is None:
            return [None] * len(names)
        if isinstance(y, Tensor):
            if what == "sample_weight" or len(names) == 1:
                return [y] * len(names)
            raise ValueError(f"{op}: the model has {len(names)} outputs {names} but y is one array; pass one "
                             f"target per output (a list in output order, or a dict keyed by output name)")
        return _per_output(y if isinstance(y, dict) else list(y), names, "targets" if what == "y" else what, op)

    def __call__(self, y, y_pred, sample_weight=None):
        preds, names = split_outputs(y_pred, self.model_names())
        if self.names is None:
            self.resolve(names)
        ys = self.targets(y, "y")
        sws = self.targets(sample_weight, "sample_weight")
        total, last = None, []
        for fn, weight, target, pred, sw in zip(self.fns, self.weights, ys, preds, sws):
            if fn is None:
                last.append(None)
                continue
            if target is None:
                raise ValueError(f"{self.op}: output {names[len(last)]!r} has a loss but no target; pass y for it")
            value = fn(target, pred) if sw is None else fn(target, pred, sample_weight=sw)
            last.append(value.item())
            term = value if weight == 1.0 else value * weight
            total = term if total is None else total + term
        self.last = last
        return total

    def serialize(self, serialize_loss):
        def one(spec):
            return spec if isinstance(spec, str) or spec is None else serialize_loss(self.make_loss(spec))
        spec = self.spec
        if isinstance(spec, dict):
            return {k: one(v) for k, v in spec.items()}
        if isinstance(spec, (list, tuple)):
            return [one(v) for v in spec]
        return one(spec)


def output_metrics(metrics, weighted_metrics, names, losses, make_metric, op="fit"):
    """[(log name, metric, output index, weighted)] for the compiled metrics of a model with the
    outputs `names`; `losses` are the outputs' loss functions (they choose what 'accuracy' means)."""
    multi = len(names) > 1
    out = []
    for spec, weighted in ((metrics, False), (weighted_metrics, True)):
        if spec is None:
            continue
        if isinstance(spec, dict):
            per_output = _per_output(spec, names, "metrics", op, default=[])
        elif isinstance(spec, (list, tuple)) and spec and all(isinstance(v, (list, tuple)) or v is None
                                                              for v in spec):
            per_output = _per_output(list(spec), names, "metric lists", op)
        else:
            flat = list(spec) if isinstance(spec, (list, tuple)) else [spec]
            # every output gets its own instances: a Metric object is copied for the outputs after the first
            per_output = [flat if i == 0 else [copy.deepcopy(m) if not isinstance(m, str) else m for m in flat]
                          for i in range(len(names))]
        for i, entries in enumerate(per_output):
            if entries is None:
                continue
            for entry in (entries if isinstance(entries, (list, tuple)) else [entries]):
                metric = make_metric(entry, losses[i])
                out.append((f"{names[i]}_{metric.name}" if multi else metric.name, metric, i, weighted))
    return out

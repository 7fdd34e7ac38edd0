"""Reverse-mode automatic differentiation, recorded as operations run (define-by-run).

Every differentiable operation is a `Function` subclass with `forward` and `backward` side by side;
`Function.apply` runs the forward (one `_C` call) and, when an input requires grad, records the call
as a node of the graph: the output's `grad_fn`. `Tensor.backward()` walks the nodes in reverse
topological order, calls each `backward` (again `_C` kernels, never NumPy) and accumulates into the
`.grad` of the leaves. Saved tensors are released after a backward pass unless `retain_graph=True`,
so a training loop's memory stays flat; each saved tensor remembers its storage's version counter,
so an in-place write to it between forward and backward raises instead of producing wrong gradients.
"""
import functools
import sys
import threading
import weakref

import numpy as np

from . import _C

Tensor = _C.Tensor

_this_module = sys.modules[__name__]

__all__ = ["Function", "backward", "grad", "gradcheck", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled"]


class _ModeState(threading.local):
    """Grad mode, read on every op. Per thread, as in PyTorch: `no_grad` in one thread (an
    evaluation or data thread) leaves recording on in the others, and a new thread starts with
    recording on (the class attribute, until the thread sets its own)."""
    enabled = True


_Mode = _ModeState()
_C._set_grad_mode_holder(_Mode)  # the C++ fast path of Function.apply reads the mode here


def is_grad_enabled():
    """Whether operations on tensors that require grad are being recorded."""
    return _Mode.enabled


class _GradModeContext:
    """A context manager that is also a decorator (with or without parentheses)."""
    _mode = True

    def __new__(cls, orig_func=None):
        self = super().__new__(cls)
        if orig_func is not None:
            if not callable(orig_func):
                raise TypeError(f"{cls.__name__}() takes no arguments, got {orig_func!r}")
            return self(orig_func)
        return self

    def __enter__(self):
        self._prev = _Mode.enabled
        _Mode.enabled = self._mode

    def __exit__(self, *exc):
        _Mode.enabled = self._prev
        return False

    def __call__(self, func):
        mode = self._mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = _Mode.enabled
            _Mode.enabled = mode
            try:
                return func(*args, **kwargs)
            finally:
                _Mode.enabled = prev
        return wrapper


class no_grad(_GradModeContext):
    """Stops recording: `with ember.no_grad(): ...` or `@ember.no_grad()` on a function. The mode
    is per thread, as in PyTorch."""
    _mode = False


class enable_grad(_GradModeContext):
    """Records again inside a no_grad region."""
    _mode = True


class set_grad_enabled(_GradModeContext):
    """Sets grad mode: as a function call, or for a `with` block (restored on exit)."""

    def __new__(cls, mode):
        self = object.__new__(cls)
        self._mode = bool(mode)
        self._prev = _Mode.enabled
        _Mode.enabled = self._mode
        return self

    def __enter__(self):
        pass

    def __call__(self, func):
        # As a decorator the mode applies to calls only: undo what __new__ set at decoration time
        _Mode.enabled = self._prev
        return super().__call__(func)


_FREED = object()  # marks a node whose saved tensors were released by a backward pass
_C._set_freed_marker(_FREED)


class Function:
    """A differentiable operation: subclass it with static `forward(ctx, *args)` and
    `backward(ctx, grad_output)` and call `YourFunction.apply(*args)`.

    `forward` runs with grad recording off and returns one tensor; it may call
    `ctx.save_for_backward(*tensors)` and store plain values on `ctx`. `backward` receives the gradient
    of the loss with respect to the output and returns one gradient per forward argument (None for
    arguments that are not tensors or need none; `ctx.needs_input_grad[i]` says which are needed).
    The instance `ctx` becomes the output's `grad_fn`.
    """
    _edges = None
    _saved = ()
    _versions = ()
    _retained = None
    _builtin = False  # ember's own ops set it: their forward calls only _C (see _fn/common.py)
    needs_input_grad = ()
    # Nodes of the linear layers set _accumulates_weight: loss.backward() may then hand them, as
    # _weight_grad_into, the weight's existing .grad to add their weight gradient into in place.
    _accumulates_weight = False
    _weight_grad_into = None

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("Function subclasses must define a static forward(ctx, ...)")

    @staticmethod
    def backward(ctx, grad_output):
        raise NotImplementedError("Function subclasses must define a static backward(ctx, grad_output)")

    # save_for_backward(*tensors): keeps tensors for backward; an in-place change to any of them
    # before backward raises. saved_tensors: them, after that check (and after checking that a
    # backward pass has not released them). Both in C++ (csrc/bindings/autograd.cpp): they run for
    # every recorded op and every node of a backward pass.
    save_for_backward = _C._save_for_backward
    saved_tensors = property(_C._saved_tensors)

    @property
    def next_functions(self):
        """The nodes (or leaf tensors) this node's gradients flow into, one per forward argument."""
        return tuple((e, 0) for e in self._edges or ())

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} object at {id(self):#x}>"

    @classmethod
    def apply(cls, *args):
        ctx = object.__new__(cls)
        edges = None
        if _Mode.enabled:
            for i, a in enumerate(args):
                if type(a) is Tensor and a._requires_grad:
                    if edges is None:
                        edges = [None] * len(args)
                    fn = a._grad_fn
                    edges[i] = a if fn is None else fn
        if edges is not None:
            ctx.needs_input_grad = tuple([e is not None for e in edges])
        else:
            ctx.needs_input_grad = (False,) * len(args)  # a custom forward may read it unconditionally
        if cls._builtin:
            out = cls.forward(ctx, *args)
            if edges is not None:
                ctx._edges = edges
                ctx._shape = out.shape  # the shape every gradient arriving at this node must have
                out._grad_fn = ctx
                out._requires_grad = True
            return out
        prev = _Mode.enabled
        _Mode.enabled = False
        try:
            out = cls.forward(ctx, *args)
        finally:
            _Mode.enabled = prev
        if edges is not None:
            if type(out) is not Tensor:
                raise TypeError(f"{cls.__name__}.forward must return one ember.Tensor, got {type(out).__name__}")
            if out.dtype.is_floating_point:
                for a in args:
                    if out is a:  # forward returned an input: record on an alias, never on the input itself
                        out = _C.alias(out)
                        break
                ctx._edges = edges
                ctx._shape = out.shape  # the shape every gradient arriving at this node must have
                out._grad_fn = ctx
                out._requires_grad = True
        return out


def _saved_output(out):
    """The forward's output as backward keeps it: the same memory and version counter, but no
    grad_fn, so output -> node -> output is not a reference cycle."""
    return _C.alias(out)


# ---- the engine ---------------------------------------------------------------------------------------

def _exclusive(holder, key):
    """True when holder[key] is referenced only by holder and owns its storage alone, so it can
    become a leaf's .grad without a copy (later in-place updates of .grad touch nothing else)."""
    g = holder[key]
    return sys.getrefcount(g) <= 3 and g._storage_refs == 1 and g.is_contiguous()


def _check_grad(t, g, what):
    if type(g) is not Tensor:
        raise TypeError(f"backward: {what} must be an ember.Tensor, got {type(g).__name__}")
    if g.shape != t.shape:
        raise RuntimeError(f"backward: {what} has shape {g.shape}, but the output it belongs to has shape "
                           f"{t.shape}; they must match")
    if g.dtype is not t.dtype:
        g = _C.to_dtype(g, t.dtype)
    return g


def _retain_hook(fn, g):
    """A node whose output asked for retain_grad(): that tensor's .grad gets the gradient."""
    out = fn._retained()
    if out is not None:
        _accumulate_grad(out, g, copy=True)


def _not_recorded(fn):
    raise RuntimeError(f"backward: {type(fn).__name__} is not part of a recorded graph")


def _accumulate(outputs, grads, retain_graph):
    """Backpropagates into the leaves' .grad: the C++ pass (csrc/bindings/autograd.cpp), whose
    reference is _run below."""
    _C._run_backward(outputs, grads, retain_graph, _FREED, _this_module)


def _bad_grad_shape(fn, g, shape):
    raise RuntimeError(f"{type(fn).__name__}.backward returned a gradient of shape {g.shape} for an input of "
                       f"shape {shape}; each gradient must have its input's shape")


def _run(outputs, grad_outputs, retain_graph, capture=None):
    """Backpropagates grad_outputs from outputs. With capture (a list of tensors) returns their
    gradients instead of accumulating into leaves' .grad."""
    buffers = {}
    leaf_grads = {}
    roots = []
    capture_at = {}
    if capture is not None:
        for i, t in enumerate(capture):
            key = t._grad_fn if t._grad_fn is not None else id(t)
            capture_at.setdefault(key, []).append(i)
    captured = [None] * (len(capture) if capture is not None else 0)

    for t, g in zip(outputs, grad_outputs):
        fn = t._grad_fn
        if fn is None:
            entry = leaf_grads.get(id(t))
            if entry is None:
                leaf_grads[id(t)] = [t, g]
            else:
                entry[1] = _C.add(entry[1], g)
        else:
            prev = buffers.get(fn)
            buffers[fn] = g if prev is None else _C.add(prev, g)
            roots.append(fn)

    # dependency counts: how many recorded edges point at each node reachable from the roots
    deps = {}
    stack = roots[:]
    while stack:
        fn = stack.pop()
        edges = fn._edges
        if edges is None:
            raise RuntimeError(f"backward: {type(fn).__name__} is not part of a recorded graph")
        for e in edges:
            if e is None or type(e) is Tensor:
                continue
            if e in deps:
                deps[e] += 1
            else:
                deps[e] = 1
                stack.append(e)

    ready = [fn for fn in set(roots) if fn not in deps]
    add = _C.add
    prev_mode = _Mode.enabled
    _Mode.enabled = False
    try:
        while ready:
            fn = ready.pop()
            g = buffers.pop(fn, None)
            edges = fn._edges
            if g is not None:
                if capture_at and fn in capture_at:
                    for i in capture_at[fn]:
                        captured[i] = g
                retained = fn._retained
                if retained is not None and retained() is not None and capture is None:
                    _accumulate_grad(retained(), g, copy=True)
                grads = fn.backward(fn, g)
                if type(grads) is not tuple:
                    grads = (grads,)
                if len(grads) != len(edges):
                    raise RuntimeError(f"{type(fn).__name__}.backward returned {len(grads)} gradient(s); "
                                       f"its forward took {len(edges)} argument(s)")
                if not retain_graph:
                    fn._saved = _FREED
                del g
            else:
                grads = (None,) * len(edges)
            gi = None
            check = not fn._builtin  # ember's own backward formulas are tested to return the right shapes
            for e, gi in zip(edges, grads):
                if e is None:
                    continue
                if type(e) is Tensor:
                    if gi is not None:
                        if check and gi.shape != e.shape:
                            _bad_grad_shape(fn, gi, e.shape)
                        entry = leaf_grads.get(id(e))
                        if entry is None:
                            leaf_grads[id(e)] = [e, gi]
                        else:
                            entry[1] = add(entry[1], gi)
                    continue
                if gi is not None:
                    if check and gi.shape != e._shape:
                        _bad_grad_shape(fn, gi, e._shape)
                    prev = buffers.get(e)
                    buffers[e] = gi if prev is None else add(prev, gi)
                left = deps[e] - 1
                deps[e] = left
                if left == 0:
                    ready.append(e)
            del grads, gi
    finally:
        _Mode.enabled = prev_mode

    if capture is not None:
        for key, entry in leaf_grads.items():
            for i in capture_at.get(key, ()):
                captured[i] = entry[1]
        return captured
    stolen = set()
    for entry in leaf_grads.values():
        t, g = entry[0], entry[1]
        if t.grad is None and g.dtype is t.dtype and id(g) not in stolen:
            stolen.add(id(g))
            del g
            # sole owner of fresh contiguous memory: becomes .grad without a copy
            t.grad = entry[1] if _exclusive(entry, 1) else _C.clone(entry[1])
        else:
            del g
            _accumulate_grad(t, entry[1], copy=True)
    return None


def _accumulate_grad(t, g, copy):
    if g.dtype is not t.dtype:
        g = _C.to_dtype(g, t.dtype)
        copy = False
    current = t.grad
    if current is None:
        t.grad = _C.clone(g) if copy or not g.is_contiguous() else g
    else:
        _C.add_(current, g)


def _make_grads(outputs, grad_outputs):
    grads = []
    for i, t in enumerate(outputs):
        if type(t) is not Tensor:
            raise TypeError(f"backward: expected ember tensors to differentiate, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError(f"backward: element {i} of the tensors does not require grad and has no grad_fn; "
                               "create the inputs with requires_grad=True (or call .requires_grad_()) and do not "
                               "compute it under no_grad()")
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(f"backward: grad can be implicitly created only for outputs with one element, "
                                   f"got shape {t.shape}; pass gradient= (a tensor of that shape), or reduce "
                                   "the output first (e.g. .sum())")
            g = _C.full(list(t.shape), 1.0, t.dtype, str(t.device) if t.is_cuda else None)
        else:
            g = _check_grad(t, g, f"the gradient for output {i}")
        grads.append(g)
    return grads


def _as_list(x):
    if type(x) is Tensor:
        return [x]
    return list(x)


def _backward_scalar(t, retain_graph):
    """loss.backward() for a recorded output: the seed gradient is 1 (one element required)."""
    if t.numel() != 1:
        _make_grads([t], None)  # raises the error naming the shape
    _accumulate([t], [_C.full(list(t.shape), 1.0, t.dtype, str(t.device) if t.is_cuda else None)], bool(retain_graph))


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates d(tensors)/d(leaf) into the .grad of every leaf that requires grad."""
    if create_graph:
        raise NotImplementedError("backward: create_graph=True (higher-order gradients) is not supported yet")
    tensors = _as_list(tensors)
    if grad_tensors is not None:
        grad_tensors = _as_list(grad_tensors)
        if len(grad_tensors) != len(tensors):
            raise ValueError(f"backward: got {len(grad_tensors)} gradients for {len(tensors)} tensors")
    grads = _make_grads(tensors, grad_tensors)
    if inputs is not None:
        inputs = _as_list(inputs)
        found = _run(tensors, grads, bool(retain_graph), capture=inputs)
        for t, g in zip(inputs, found):
            if g is not None:
                _accumulate_grad(t, g, copy=True)
        return
    _accumulate(tensors, grads, bool(retain_graph))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """The gradients of outputs with respect to inputs, returned (not accumulated into .grad)."""
    if create_graph:
        raise NotImplementedError("grad: create_graph=True (higher-order gradients) is not supported yet")
    outputs = _as_list(outputs)
    single = type(inputs) is Tensor
    inputs = _as_list(inputs)
    for i, t in enumerate(inputs):
        if type(t) is not Tensor or not t._requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad; only tensors with requires_grad=True "
                               "can be differentiated with respect to")
    if grad_outputs is not None:
        grad_outputs = _as_list(grad_outputs)
        if len(grad_outputs) != len(outputs):
            raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    grads = _make_grads(outputs, grad_outputs)
    found = _run(outputs, grads, bool(retain_graph), capture=inputs)
    result = []
    for i, (t, g) in enumerate(zip(inputs, found)):
        if g is None:
            if materialize_grads:
                g = _C.full(list(t.shape), 0.0, t.dtype, str(t.device))
            elif not allow_unused:
                raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                                   "pass allow_unused=True to get None for it")
        elif g.dtype is not t.dtype:
            g = _C.to_dtype(g, t.dtype)
        result.append(g)
    return tuple(result)


def retain_grad(t):
    """Makes a non-leaf tensor keep its .grad after backward."""
    if not t._requires_grad:
        raise RuntimeError("retain_grad: the tensor does not require grad")
    fn = t._grad_fn
    if fn is not None:
        fn._retained = weakref.ref(t)


# ---- finite-difference check --------------------------------------------------------------------------

def _flat_outputs(out):
    return [out] if type(out) is Tensor else [o for o in out if type(o) is Tensor]


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compares the gradients autograd computes for fn(*inputs) with central differences.

    inputs: a tensor or a tuple of arguments; the float64 tensors among them that require grad are
    checked. Every output element's vector-Jacobian product is compared with the numerical Jacobian
    (f(x + eps) - f(x - eps)) / (2 eps). Returns True, or raises (or returns False) naming the input,
    the element and both values.
    """
    if type(inputs) is Tensor:
        inputs = (inputs,)
    inputs = tuple(inputs)
    checked = [i for i, a in enumerate(inputs) if type(a) is Tensor and a.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; create inputs with requires_grad=True")
    for i in checked:
        if inputs[i].dtype != _C.dtype.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences need float64 inputs "
                            "(use .double())")

    def evaluate():
        with no_grad():
            return [np.array(o.cpu(), dtype=np.float64, copy=True) for o in _flat_outputs(fn(*inputs))]

    outputs = _flat_outputs(fn(*inputs))
    sizes = [o.numel() for o in outputs]
    analytic = {i: np.zeros((sum(sizes), inputs[i].numel())) for i in checked}
    row = 0
    for k, out in enumerate(outputs):
        if not out.requires_grad:
            row += sizes[k]
            continue
        for j in range(sizes[k]):
            seed = np.zeros(out.shape, dtype=np.float64).reshape(-1)
            seed[j] = 1.0
            g = _C.from_numpy(seed.reshape(out.shape))
            found = grad([out], [inputs[i] for i in checked], [g], retain_graph=True, allow_unused=True)
            for i, gi in zip(checked, found):
                if gi is not None:
                    analytic[i][row + j] = np.array(gi.cpu(), dtype=np.float64).reshape(-1)
        row += sizes[k]

    for i in checked:
        x = inputs[i]
        flat = x.numpy().reshape(-1) if x.is_contiguous() else None
        if flat is None:
            raise ValueError(f"gradcheck: input {i} must be contiguous")
        numeric = np.zeros_like(analytic[i])
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = np.concatenate([o.reshape(-1) for o in evaluate()] or [np.zeros(0)])
            flat[j] = orig - eps
            minus = np.concatenate([o.reshape(-1) for o in evaluate()] or [np.zeros(0)])
            flat[j] = orig
            numeric[:, j] = (plus - minus) / (2 * eps)
        bad = ~np.isclose(analytic[i], numeric, rtol=rtol, atol=atol)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            msg = (f"gradcheck: Jacobian mismatch for input {i} (shape {x.shape}) at output element {r}, "
                   f"input element {c}: autograd {analytic[i][r, c]!r}, finite differences {numeric[r, c]!r}")
            if raise_exception:
                raise RuntimeError(msg)
            return False
    return True

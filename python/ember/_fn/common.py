"""Helpers shared by the differentiable ops."""
from .. import _C
from .. import autograd
from ..autograd import _Mode, _saved_output


class Function(autograd.Function):
    """Base of ember's own ops: their forwards call `_C` only and return a new float tensor, so
    apply() can skip switching grad mode around them and checking their result, and runs in C++
    (`_C._apply_builtin`, the same steps as autograd.Function.apply's builtin branch)."""
    _builtin = True
    apply = classmethod(_C._apply_builtin)

Tensor = _C.Tensor

__all__ = ["Function", "Tensor", "_Mode", "_saved_output", "needs_grad", "needs_grad2", "sum_to", "meta",
           "numbers_only", "cast_grad", "inplace"]


def needs_grad(x):
    """True when an op on x must be recorded."""
    return _Mode.enabled and type(x) is Tensor and x._requires_grad


def needs_grad2(a, b):
    return _Mode.enabled and ((type(a) is Tensor and a._requires_grad) or (type(b) is Tensor and b._requires_grad))


def sum_to(g, shape):
    """Reduces a broadcast gradient back to an input's shape (sums the broadcast dims)."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    dims = list(range(lead))
    for i, s in enumerate(shape):
        if s == 1 and gshape[lead + i] != 1:
            dims.append(lead + i)
    if dims:
        g = _C.sum(g, dims, True)
    return _C.reshape(g, list(shape))


def meta(x):
    """(shape, dtype) of a tensor argument, None for a Python scalar."""
    return (x.shape, x.dtype) if type(x) is Tensor else None


def numbers_only(*args):
    """args with tensors replaced by None: what a node may keep outside save_for_backward. A tensor
    kept on ctx directly would outlive the backward pass (saved tensors are released after it) and
    hold a layer's activations until the next forward replaces the graph."""
    return tuple(None if type(a) is Tensor else a for a in args)


def cast_grad(g, m):
    """The gradient for an input with meta m: summed to its shape, in its dtype."""
    g = sum_to(g, m[0])
    return g if g.dtype is m[1] else _C.to_dtype(g, m[1])


def inplace(x, op, *args):
    """x op= args under autograd: the out-of-place op is recorded (its node's edges hold x's old
    history), then the result is written into x and x takes the new node as its grad_fn."""
    if x._requires_grad and x._grad_fn is None:
        raise RuntimeError(f"in-place operation on a leaf tensor that requires grad (shape {x.shape}); "
                           "wrap it in `with ember.no_grad():` if it is a parameter update, or use an "
                           "out-of-place operation")
    if getattr(x, "_grad_view", False):
        raise RuntimeError(f"in-place operation on a view (shape {x.shape}) of a tensor that requires grad is "
                           "not supported by autograd; use an out-of-place operation or .clone() the view")
    out = op(x, *args)
    node = out._grad_fn
    if node is not None and any(t is x for t in node._saved):
        # the node needs x's old value, which the write below would destroy: keep a copy
        node.save_for_backward(*[_C.clone(t) if t is x else t for t in node._saved])
    _C.copy_(x, out)
    if node is not None:
        x._grad_fn = node
        x._requires_grad = True
        if "_views" in x.__dict__:
            rebase_views(x)
    return x


class AsStridedView(Function):
    """The history of a view whose base was written in place after the view was taken: the view
    is the region (shape, strides, storage offset) of the base's new value. Backward scatters the
    gradient into zeros laid out like the base (broadcast dims of the view summed first)."""

    @staticmethod
    def backward(ctx, g):
        bshape, bstrides, boffset = ctx.base_geometry
        vshape, vstrides, voffset = ctx.view_geometry
        span = 1
        for size, stride in zip(bshape, bstrides):
            if size == 0:
                span = 0
                break
            span += (size - 1) * stride
        buf = _C.full([span], 0.0, g.dtype, str(g.device))
        broadcast = [d for d, (size, stride) in enumerate(zip(vshape, vstrides)) if stride == 0 and size > 1]
        if broadcast:
            g = _C.sum(g, broadcast, True)
            vshape = [1 if d in broadcast else size for d, size in enumerate(vshape)]
        if span:
            _C.add_(_C.as_strided(buf, list(vshape), list(vstrides), voffset - boffset), g)
        return _C.as_strided(buf, list(bshape), list(bstrides), 0)


def rebase_views(base):
    """Re-records every live registered view of `base` (just written in place under autograd; views
    of its views are registered with it too) as a region of the base's new value."""
    alive = []
    for ref in base._views:
        v = ref()
        if v is None:
            continue
        alive.append(ref)
        node = object.__new__(AsStridedView)
        node.needs_input_grad = (True,)
        node._edges = [base._grad_fn]
        node._shape = v.shape
        node.base_geometry = (base.shape, base.stride(), base.storage_offset())
        node.view_geometry = (v.shape, v.stride(), v.storage_offset())
        v._grad_fn = node
    base._views = alive

"""Differentiable views, joins, indexing and conversions.

Views (reshape, transpose, slicing, expand, ...) share memory with their input; their backward maps
the gradient back to the input's layout (reshape back, transpose back, sum over expanded dims, or
scatter into zeros for slices and indexing, adding up repeated positions).
"""
import builtins
import weakref

from .. import _C
from .common import Function, Tensor, _Mode, cast_grad, inplace, meta, needs_grad, sum_to


def _zeros(shape, like):
    return _C.full(list(shape), 0.0, like.dtype, str(like.device))


def _mark_view(out, base):
    """Marks a recorded view and, when the tensor whose memory it views (its base, or the base's own
    root for a view of a view) is a result of recorded ops, registers it there: an in-place op on
    that tensor later re-records the view onto its new history (common.rebase_views), as PyTorch
    does, so that the view's gradient follows the values it now holds."""
    out._grad_view = True
    root = base.__dict__.get("_view_root", base)
    if root._grad_fn is not None and out._shares_storage(root):  # (reshape and indexing may copy)
        out._view_root = root
        views = root.__dict__.get("_views")
        if views is None:
            root._views = views = [weakref.ref(out)]
        else:
            views.append(weakref.ref(out))
        # Views taken over and over from one long-lived result (batches sliced from it) would
        # pile up dead references: drop them whenever the list doubles, amortised O(1) per view.
        if len(views) >= root.__dict__.get("_views_prune_at", 32):
            views[:] = [ref for ref in views if ref() is not None]
            root._views_prune_at = 2 * len(views) + 32
    return out


class Reshape(Function):
    @staticmethod
    def forward(ctx, x, shape, cfn):
        ctx.shape = x.shape
        return cfn(x, shape)

    @staticmethod
    def backward(ctx, g):
        return _C.reshape(g, list(ctx.shape)), None, None


class Transpose(Function):
    @staticmethod
    def forward(ctx, x, d0, d1):
        ctx.dims = (d0, d1)
        return _C.transpose(x, d0, d1)

    @staticmethod
    def backward(ctx, g):
        return _C.transpose(g, *ctx.dims), None, None


class Permute(Function):
    @staticmethod
    def forward(ctx, x, dims):
        n = x.ndim
        ctx.inverse = [0] * n
        for i, d in enumerate(dims):
            ctx.inverse[d % n if n else 0] = i
        return _C.permute(x, dims)

    @staticmethod
    def backward(ctx, g):
        return _C.permute(g, ctx.inverse), None


class Expand(Function):
    @staticmethod
    def forward(ctx, x, shape, cfn):
        ctx.shape = x.shape
        return cfn(x, shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.shape), None, None


class GetItem(Function):
    @staticmethod
    def forward(ctx, x, index):
        ctx.shape = x.shape
        ctx.index = index
        return _C.getitem(x, index)

    @staticmethod
    def backward(ctx, g):
        gx = _zeros(ctx.shape, g)
        _C.index_put_(gx, ctx.index, g, True)
        return gx, None


class IndexPut(Function):
    """out = x with out[index] = value (the out-of-place form of x[index] = value)."""

    @staticmethod
    def forward(ctx, x, index, value):
        ctx.index = index
        ctx.value_meta = meta(value)
        out = _C.clone(x)
        _C.setitem(out, index, value)
        return out

    @staticmethod
    def backward(ctx, g):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = _C.clone(g)
            _C.setitem(gx, ctx.index, 0.0)
        if ctx.needs_input_grad[2]:
            picked = _C.getitem(g, ctx.index)
            shape, dtype = ctx.value_meta
            trimmed = tuple(shape)
            while len(trimmed) > picked.ndim and trimmed[0] == 1:
                trimmed = trimmed[1:]  # setitem drops a value's leading size-1 dims
            gv = _C.reshape(cast_grad(picked, (trimmed, dtype)), list(shape))
        return gx, None, gv


class Copy(Function):
    """out = src broadcast to x's shape in x's dtype. x's old values were overwritten: their gradient
    is zeros (not None, as in PyTorch, so an optimizer still sees a gradient for them)."""

    @staticmethod
    def forward(ctx, x, src):
        ctx.src_meta = meta(src)
        out = _C.full(list(x.shape), 0.0, x.dtype, str(x.device))
        return _C.copy_(out, src)

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        return (_zeros(g.shape, g) if need[0] else None,
                cast_grad(g, ctx.src_meta) if need[1] else None)


class Fill(Function):
    """fill_ / zero_: x's old values were overwritten, their gradient is zeros (as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, value):
        return _C.full(list(x.shape), value, x.dtype, str(x.device))

    @staticmethod
    def backward(ctx, g):
        return _zeros(g.shape, g), None


class Identity(Function):
    """clone() and contiguous(): a copy whose gradient passes straight through."""

    @staticmethod
    def forward(ctx, x, cfn):
        return cfn(x)

    @staticmethod
    def backward(ctx, g):
        return g, None


class ToDtype(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return _C.to_dtype(x, dtype)

    @staticmethod
    def backward(ctx, g):
        return _C.to_dtype(g, ctx.dtype), None


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, device):
        ctx.device = str(x.device)
        return _C.to_device(x, device)

    @staticmethod
    def backward(ctx, g):
        return _C.to_device(g, ctx.device), None


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        out = _C.cat(list(tensors), dim)
        ctx.dim = dim % out.ndim if out.ndim else 0
        ctx.metas = [meta(t) for t in tensors]
        return out

    @staticmethod
    def backward(ctx, g):
        sizes = [m[0][ctx.dim] if len(m[0]) else 0 for m in ctx.metas]
        parts = _C.split(g, sizes, ctx.dim)
        need = ctx.needs_input_grad
        # inputs of several dtypes were promoted: each gradient goes back in its input's dtype
        return (None,) + tuple(cast_grad(p, m) if need[i + 1] else None
                               for i, (p, m) in enumerate(zip(parts, ctx.metas)))


class Stack(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        out = _C.stack(list(tensors), dim)
        ctx.dim = dim % out.ndim
        ctx.metas = [meta(t) for t in tensors]
        return out

    @staticmethod
    def backward(ctx, g):
        pre = (slice(None),) * ctx.dim
        need = ctx.needs_input_grad
        return (None,) + tuple(cast_grad(_C.getitem(g, pre + (i,)), m) if need[i + 1] else None
                               for i, m in enumerate(ctx.metas))


class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape = x.shape
        ctx.dim = dim % x.ndim if x.ndim else 0
        ctx.save_for_backward(index)
        return _C.index_select(x, dim, index)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        gx = _zeros(ctx.shape, g)
        if len(ctx.shape) == 0:
            return _C.add(gx, _C.sum(g, None, False)), None, None
        _C.index_put_(gx, (slice(None),) * ctx.dim + (index,), g, True)
        return gx, None, None


class Gather(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape = x.shape
        ctx.dim = dim
        ctx.save_for_backward(index)
        return _C.gather(x, dim, index)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        gx = _zeros(ctx.shape, g)
        _C.scatter_add_(gx, ctx.dim, index, g)
        return gx, None, None


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim = dim
        ctx.src_meta = meta(src)
        ctx.save_for_backward(index)
        return _C.scatter_add_(_C.clone(x), dim, index, src)

    @staticmethod
    def backward(ctx, g):
        (index,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gsrc = None
        if need[3]:
            gsrc = _C.gather(g, ctx.dim, index)
            src_shape, src_dtype = ctx.src_meta
            if gsrc.shape != src_shape:
                # src may be larger than index: the elements scatter_add never read get zero
                padded = _C.full(list(src_shape), 0.0, src_dtype, str(g.device))
                _C.setitem(padded, tuple(slice(0, n) for n in index.shape), gsrc)
                gsrc = padded
        return (g if need[0] else None, None, None, gsrc)


class MaskedFill(Function):
    """value may be a 0-d tensor requiring grad: it receives the sum of the gradient where mask is set."""

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        ctx.shape = x.shape
        ctx.value_meta = meta(value)
        return _C.masked_fill(x, mask, value)

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx = sum_to(_C.where(mask, 0.0, g), ctx.shape) if need[0] else None
        gv = cast_grad(_C.sum(_C.where(mask, g, 0.0), None, False), ctx.value_meta) if need[2] else None
        return gx, None, gv


# ---- the ops ----------------------------------------------------------------------------------------

def reshape(x, shape):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return _mark_view(Reshape.apply(x, shape, _C.reshape), x)
    return _C.reshape(x, shape)


def view(x, shape):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return _mark_view(Reshape.apply(x, shape, _C.view), x)
    return _C.view(x, shape)


def flatten(x, start_dim=0, end_dim=-1):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return _mark_view(Reshape.apply(x, (start_dim, end_dim), lambda t, se: _C.flatten(t, *se)), x)
    return _C.flatten(x, start_dim, end_dim)


def squeeze(x, dims=None):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return _mark_view(Reshape.apply(x, dims, _C.squeeze), x)
    return _C.squeeze(x, dims)


def unsqueeze(x, dim):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return _mark_view(Reshape.apply(x, dim, _C.unsqueeze), x)
    return _C.unsqueeze(x, dim)


def transpose(x, dim0, dim1):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return _mark_view(Transpose.apply(x, dim0, dim1), x)
    return _C.transpose(x, dim0, dim1)


def permute(x, dims):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return _mark_view(Permute.apply(x, dims), x)
    return _C.permute(x, dims)


def expand(x, shape):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return _mark_view(Expand.apply(x, shape, _C.expand), x)
    return _C.expand(x, shape)


def broadcast_to(x, shape):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return _mark_view(Expand.apply(x, shape, _C.broadcast_to), x)
    return _C.broadcast_to(x, shape)


def getitem(x, index):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return _mark_view(GetItem.apply(x, index), x)
    return _C.getitem(x, index)


def setitem(x, index, value):
    if _Mode.enabled and (x._requires_grad or needs_grad(value)):
        inplace(x, IndexPut.apply, index, value)
        return
    _C.setitem(x, index, value)


def copy_(x, src):
    if _Mode.enabled and (x._requires_grad or needs_grad(src)):
        return inplace(x, Copy.apply, src)
    return _C.copy_(x, src)


def fill_(x, value):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return inplace(x, Fill.apply, value)
    return _C.copy_(x, _C.full([], value, x.dtype, None))


def clone(x):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return Identity.apply(x, _C.clone)
    return _C.clone(x)


def contiguous(x):
    if x.is_contiguous():
        return x
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return Identity.apply(x, _C.contiguous)
    return _C.contiguous(x)


def to_dtype(x, dtype):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad and dtype.is_floating_point:
        return ToDtype.apply(x, dtype)
    return _C.to_dtype(x, dtype)


def to_device(x, device):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return ToDevice.apply(x, device)
    return _C.to_device(x, device)


def _any_grad(tensors):
    if not _Mode.enabled:
        return False
    for t in tensors:
        if type(t) is Tensor and t._requires_grad:
            return True
    return False


def cat(tensors, dim=0):
    """Joins tensors along an existing dimension."""
    tensors = list(tensors)
    if _any_grad(tensors):
        return Cat.apply(dim, *tensors)
    return _C.cat(tensors, dim)


def stack(tensors, dim=0):
    """Joins tensors along a new dimension."""
    tensors = list(tensors)
    if _any_grad(tensors):
        return Stack.apply(dim, *tensors)
    return _C.stack(tensors, dim)


def _pieces(x, sizes, dim):
    """Slices of x along dim with the given sizes, each a differentiable view."""
    dim = dim % x.ndim if x.ndim else dim
    pre = (slice(None),) * dim
    out, start = [], 0
    for s in sizes:
        out.append(getitem(x, pre + (slice(start, start + s),)))
        start += s
    return tuple(out)


def split(x, split_size_or_sections, dim=0):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return _pieces(x, [p.shape[dim] for p in _C.split(x, split_size_or_sections, dim)], dim)
    return _C.split(x, split_size_or_sections, dim)


def chunk(x, chunks, dim=0):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return _pieces(x, [p.shape[dim] for p in _C.chunk(x, chunks, dim)], dim)
    return _C.chunk(x, chunks, dim)


def index_select(x, dim, index):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return IndexSelect.apply(x, dim, index)
    return _C.index_select(x, dim, index)


def gather(x, dim, index):
    if _Mode.enabled and type(x) is Tensor and x._requires_grad:
        return Gather.apply(x, dim, index)
    return _C.gather(x, dim, index)


def scatter_add(x, dim, index, src):
    if _any_grad((x, src)):
        return ScatterAdd.apply(x, dim, index, src)
    return _C.scatter_add_(_C.clone(x), dim, index, src)


def scatter_add_(x, dim, index, src):
    if _any_grad((x, src)):
        return inplace(x, scatter_add, dim, index, src)
    return _C.scatter_add_(x, dim, index, src)


def masked_fill(x, mask, value):
    if _any_grad((x, value)):
        return MaskedFill.apply(x, mask, value)
    return _C.masked_fill(x, mask, value)


def masked_fill_(x, mask, value):
    if _any_grad((x, value)):
        return inplace(x, masked_fill, mask, value)
    return _C.copy_(x, _C.masked_fill(x, mask, value))

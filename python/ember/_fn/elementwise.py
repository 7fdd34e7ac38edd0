"""Differentiable elementwise ops: arithmetic with broadcasting, math functions and activations.

Gradients of broadcast inputs are summed back to the input's shape (`cast_grad`). Activations whose
derivative is a formula of their own call one fused `_C.<op>_backward` kernel; the rest combine
existing `_C` kernels.
"""
from .. import _C
from .common import (Function, Tensor, _Mode, _saved_output, cast_grad, inplace, meta, needs_grad, needs_grad2,
                     numbers_only)


# ---- binary arithmetic ------------------------------------------------------------------------------

class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.metas = (meta(a), meta(b))
        return _C.add(a, b)

    @staticmethod
    def backward(ctx, g):
        ma, mb = ctx.metas
        need = ctx.needs_input_grad
        return (cast_grad(g, ma) if need[0] else None, cast_grad(g, mb) if need[1] else None)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.metas = (meta(a), meta(b))
        return _C.sub(a, b)

    @staticmethod
    def backward(ctx, g):
        ma, mb = ctx.metas
        need = ctx.needs_input_grad
        return (cast_grad(g, ma) if need[0] else None, cast_grad(_C.neg(g), mb) if need[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.metas = (meta(a), meta(b))
        need = ctx.needs_input_grad
        ctx.save_for_backward(b if need[0] and type(b) is Tensor else None,
                              a if need[1] and type(a) is Tensor else None)
        ctx.scalars = numbers_only(a, b)
        return _C.mul(a, b)

    @staticmethod
    def backward(ctx, g):
        b_saved, a_saved = ctx.saved_tensors
        ma, mb = ctx.metas
        a, b = ctx.scalars
        need = ctx.needs_input_grad
        ga = cast_grad(_C.mul(g, b_saved if b_saved is not None else b), ma) if need[0] else None
        gb = cast_grad(_C.mul(g, a_saved if a_saved is not None else a), mb) if need[1] else None
        return ga, gb


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.metas = (meta(a), meta(b))
        out = _C.div(a, b)
        need = ctx.needs_input_grad
        ctx.save_for_backward(b if type(b) is Tensor else None, _saved_output(out) if need[1] else None)
        (ctx.b,) = numbers_only(b)
        return out

    @staticmethod
    def backward(ctx, g):
        b_saved, out = ctx.saved_tensors
        b = b_saved if b_saved is not None else ctx.b
        ma, mb = ctx.metas
        need = ctx.needs_input_grad
        ga = cast_grad(_C.div(g, b), ma) if need[0] else None
        # d(a/b)/db = -a/b^2 = -out/b
        gb = cast_grad(_C.neg(_C.div(_C.mul(g, out), b)), mb) if need[1] else None
        return ga, gb


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.metas = (meta(a), meta(b))
        out = _C.pow(a, b)
        ctx.save_for_backward(a if type(a) is Tensor else None, b if type(b) is Tensor else None,
                              _saved_output(out) if ctx.needs_input_grad[1] else None)
        ctx.scalars = numbers_only(a, b)
        return out

    @staticmethod
    def backward(ctx, g):
        a_t, b_t, out = ctx.saved_tensors
        a = a_t if a_t is not None else ctx.scalars[0]
        b = b_t if b_t is not None else ctx.scalars[1]
        ma, mb = ctx.metas
        need = ctx.needs_input_grad
        ga = gb = None
        if need[0]:
            # b * a^(b-1); where b == 0 the gradient is 0 (also at a == 0), as in PyTorch
            if type(b) is Tensor:
                ga = _C.mul(g, _C.mul(b, _C.pow(a, _C.sub(b, 1))))
                ga = _C.where(_C.eq(b, 0), 0.0, ga)
            elif b == 0:
                ga = _C.full(list(g.shape), 0.0, g.dtype, str(g.device))
            else:
                # a Python exponent stays a Python number (b - 1, not _C.sub of two numbers)
                ga = _C.mul(g, _C.mul(_C.pow(a, b - 1), b))
            ga = cast_grad(ga, ma)
        if need[1]:
            if type(a) is not Tensor:
                # a Python base: a 0-d tensor of the output's dtype, so log and the == 0 test below apply
                a = _C.full([], a, out.dtype, str(out.device))
            elif a.dtype != out.dtype:
                a = _C.to_dtype(a, out.dtype)  # log of a float32 base would cost a float64 exponent its precision
            # a^b * log(a); 0 where a == 0 and b >= 0, as in PyTorch
            gb = _C.mul(g, _C.mul(out, _C.log(a)))
            both = _C.mul(_C.eq(a, 0), _C.ge(b, 0))  # bool * bool: logical and
            gb = _C.where(both, 0.0, gb)
            gb = cast_grad(gb, mb)
        return ga, gb


class Maximum(Function):
    """Ties split the gradient evenly between the two inputs; an input gets no gradient only where
    it lost the comparison, so a NaN on either side passes the gradient to both, as in PyTorch."""
    _compare = staticmethod(_C.gt)

    @staticmethod
    def forward(ctx, a, b):
        ctx.metas = (meta(a), meta(b))
        ctx.save_for_backward(a, b)
        return _C.maximum(a, b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        ma, mb = ctx.metas
        need = ctx.needs_input_grad
        half = _C.mul(g, 0.5)
        tie = _C.eq(a, b)
        ga = gb = None
        if need[0]:
            ga = cast_grad(_C.where(ctx._compare(b, a), 0.0, _C.where(tie, half, g)), ma)
        if need[1]:
            gb = cast_grad(_C.where(ctx._compare(a, b), 0.0, _C.where(tie, half, g)), mb)
        return ga, gb


class Minimum(Maximum):
    _compare = staticmethod(_C.lt)

    @staticmethod
    def forward(ctx, a, b):
        ctx.metas = (meta(a), meta(b))
        ctx.save_for_backward(a, b)
        return _C.minimum(a, b)


class Remainder(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.metas = (meta(a), meta(b))
        ctx.save_for_backward(a if type(a) is Tensor else None, b if type(b) is Tensor else None)
        ctx.scalars = numbers_only(a, b)
        return _C.remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a_t, b_t = ctx.saved_tensors
        a = a_t if a_t is not None else ctx.scalars[0]
        b = b_t if b_t is not None else ctx.scalars[1]
        ma, mb = ctx.metas
        need = ctx.needs_input_grad
        ga = cast_grad(g, ma) if need[0] else None
        gb = cast_grad(_C.neg(_C.mul(g, _C.floor_divide(a, b))), mb) if need[1] else None
        return ga, gb


class Where(Function):
    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.metas = (None, meta(x), meta(y))
        ctx.save_for_backward(condition)
        return _C.where(condition, x, y)

    @staticmethod
    def backward(ctx, g):
        (condition,) = ctx.saved_tensors
        _, mx, my = ctx.metas
        need = ctx.needs_input_grad
        gx = cast_grad(_C.where(condition, g, 0.0), mx) if need[1] else None
        gy = cast_grad(_C.where(condition, 0.0, g), my) if need[2] else None
        return None, gx, gy


def _binary(cfn, fn_cls):
    apply = fn_cls.apply

    def op(a, b):
        if _Mode.enabled and ((type(a) is Tensor and a._requires_grad) or (type(b) is Tensor and b._requires_grad)):
            return apply(a, b)
        return cfn(a, b)
    op.__name__ = cfn.__name__
    op.__doc__ = cfn.__doc__
    return op


add = _binary(_C.add, Add)
sub = _binary(_C.sub, Sub)
mul = _binary(_C.mul, Mul)
div = _binary(_C.div, Div)
pow = _binary(_C.pow, Pow)
maximum = _binary(_C.maximum, Maximum)
minimum = _binary(_C.minimum, Minimum)
remainder = _binary(_C.remainder, Remainder)


def where(condition, x, y):
    """Elements of x where condition is true, else of y (tensors or Python scalars, broadcast)."""
    if needs_grad2(x, y):
        return Where.apply(condition, x, y)
    return _C.where(condition, x, y)


def _binary_inplace(cfn_, op):
    def op_(a, b):
        if _Mode.enabled and ((type(a) is Tensor and a._requires_grad) or (type(b) is Tensor and b._requires_grad)):
            return inplace(a, op, b)
        return cfn_(a, b)
    op_.__name__ = cfn_.__name__
    return op_


add_ = _binary_inplace(_C.add_, add)
sub_ = _binary_inplace(_C.sub_, sub)
mul_ = _binary_inplace(_C.mul_, mul)
div_ = _binary_inplace(_C.div_, div)
pow_ = _binary_inplace(_C.pow_, pow)


# ---- unary math -----------------------------------------------------------------------------------

class _SavesInput(Function):
    """Unary op whose derivative needs the input x."""
    forward_fn = None

    @classmethod
    def forward(cls, ctx, x, *params):
        ctx.save_for_backward(x)
        ctx.params = params
        return cls.forward_fn(x, *params)


class _SavesOutput(Function):
    """Unary op whose derivative is a function of its output y."""
    forward_fn = None

    @classmethod
    def forward(cls, ctx, x):
        out = cls.forward_fn(x)
        ctx.save_for_backward(_saved_output(out))
        return out


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return _C.neg(x)

    @staticmethod
    def backward(ctx, g):
        return _C.neg(g)


class Abs(_SavesInput):
    forward_fn = staticmethod(_C.abs)

    @staticmethod
    def backward(ctx, g):
        return _C.mul(g, _C.sign(ctx.saved_tensors[0]))


class Exp(_SavesOutput):
    forward_fn = staticmethod(_C.exp)

    @staticmethod
    def backward(ctx, g):
        return _C.mul(g, ctx.saved_tensors[0])


class Log(_SavesInput):
    forward_fn = staticmethod(_C.log)

    @staticmethod
    def backward(ctx, g):
        return _C.div(g, ctx.saved_tensors[0])


class Log1p(_SavesInput):
    forward_fn = staticmethod(_C.log1p)

    @staticmethod
    def backward(ctx, g):
        return _C.div(g, _C.add(ctx.saved_tensors[0], 1))


class Sqrt(_SavesOutput):
    forward_fn = staticmethod(_C.sqrt)

    @staticmethod
    def backward(ctx, g):
        return _C.div(g, _C.mul(ctx.saved_tensors[0], 2))


class Rsqrt(_SavesOutput):
    forward_fn = staticmethod(_C.rsqrt)

    @staticmethod
    def backward(ctx, g):
        y = ctx.saved_tensors[0]
        return _C.mul(_C.mul(g, -0.5), _C.mul(y, _C.mul(y, y)))


class Sin(_SavesInput):
    forward_fn = staticmethod(_C.sin)

    @staticmethod
    def backward(ctx, g):
        return _C.mul(g, _C.cos(ctx.saved_tensors[0]))


class Cos(_SavesInput):
    forward_fn = staticmethod(_C.cos)

    @staticmethod
    def backward(ctx, g):
        return _C.neg(_C.mul(g, _C.sin(ctx.saved_tensors[0])))


class Tanh(_SavesOutput):
    forward_fn = staticmethod(_C.tanh)

    @staticmethod
    def backward(ctx, g):
        return _C.tanh_backward(g, ctx.saved_tensors[0])


class Sigmoid(_SavesOutput):
    forward_fn = staticmethod(_C.sigmoid)

    @staticmethod
    def backward(ctx, g):
        return _C.sigmoid_backward(g, ctx.saved_tensors[0])


class Relu(_SavesOutput):
    forward_fn = staticmethod(_C.relu)

    @staticmethod
    def backward(ctx, g):
        return _C.relu_backward(g, ctx.saved_tensors[0])


class Silu(_SavesInput):
    forward_fn = staticmethod(_C.silu)

    @staticmethod
    def backward(ctx, g):
        return _C.silu_backward(g, ctx.saved_tensors[0])


class LeakyRelu(_SavesInput):
    forward_fn = staticmethod(_C.leaky_relu)

    @staticmethod
    def backward(ctx, g):
        return _C.leaky_relu_backward(g, ctx.saved_tensors[0], *ctx.params), None


class Elu(_SavesInput):
    forward_fn = staticmethod(_C.elu)

    @staticmethod
    def backward(ctx, g):
        return _C.elu_backward(g, ctx.saved_tensors[0], *ctx.params), None


class Gelu(_SavesInput):
    forward_fn = staticmethod(_C.gelu)

    @staticmethod
    def backward(ctx, g):
        return _C.gelu_backward(g, ctx.saved_tensors[0], *ctx.params), None


class Softplus(_SavesInput):
    forward_fn = staticmethod(_C.softplus)

    @staticmethod
    def backward(ctx, g):
        return _C.softplus_backward(g, ctx.saved_tensors[0], *ctx.params), None, None


class Clamp(_SavesInput):
    forward_fn = staticmethod(_C.clamp)

    @staticmethod
    def backward(ctx, g):
        return _C.clamp_backward(g, ctx.saved_tensors[0], *ctx.params), None, None


def _clamp_bounds(x, lo, hi):
    """max(x, lo) then min(., hi); each bound a tensor (broadcast), a Python number or None."""
    out = x
    if lo is not None:
        out = _C.maximum(out, lo) if type(lo) is Tensor else _C.clamp(out, lo, None)
    if hi is not None:
        out = _C.minimum(out, hi) if type(hi) is Tensor else _C.clamp(out, None, hi)
    return out


class ClampBounds(Function):
    """clamp with at least one tensor bound. The gradient goes to x where lo <= x <= hi (bounds
    included, no even split at ties as maximum / minimum would give), to lo where x < lo < hi and
    to hi where x > hi or hi < lo, as in PyTorch."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.metas = (meta(x), meta(lo), meta(hi))
        ctx.save_for_backward(x, lo if type(lo) is Tensor else None, hi if type(hi) is Tensor else None)
        ctx.scalars = numbers_only(lo, hi)
        return _clamp_bounds(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        x, lo_t, hi_t = ctx.saved_tensors
        lo = lo_t if lo_t is not None else ctx.scalars[0]
        hi = hi_t if hi_t is not None else ctx.scalars[1]
        mx, mlo, mhi = ctx.metas
        need = ctx.needs_input_grad
        inside = to_lo = to_hi = None
        if lo is not None:
            inside, to_lo = _C.ge(x, lo), _C.lt(x, lo)
        if hi is not None:
            above = _C.le(x, hi)
            inside = above if inside is None else _C.mul(inside, above)  # bool * bool: and
            to_hi = _C.gt(x, hi)
        if lo is not None and hi is not None:
            to_lo = _C.mul(to_lo, _C.lt(lo, hi))
            to_hi = _C.add(to_hi, _C.lt(hi, lo))  # bool + bool: or
        gx = cast_grad(_C.where(inside, g, 0.0), mx) if need[0] else None
        glo = cast_grad(_C.where(to_lo, g, 0.0), mlo) if need[1] else None
        ghi = cast_grad(_C.where(to_hi, g, 0.0), mhi) if need[2] else None
        return gx, glo, ghi


class Sign(Function):
    @staticmethod
    def forward(ctx, x):
        return _C.sign(x)

    @staticmethod
    def backward(ctx, g):
        return _C.mul(g, 0.0)


def _unary(cfn, fn_cls):
    apply = fn_cls.apply

    def op(x, *params):
        if _Mode.enabled and type(x) is Tensor and x._requires_grad:
            return apply(x, *params)
        return cfn(x, *params)
    op.__name__ = cfn.__name__
    op.__doc__ = cfn.__doc__
    return op


neg = _unary(_C.neg, Neg)
abs = _unary(_C.abs, Abs)
sign = _unary(_C.sign, Sign)
exp = _unary(_C.exp, Exp)
log = _unary(_C.log, Log)
log1p = _unary(_C.log1p, Log1p)
sqrt = _unary(_C.sqrt, Sqrt)
rsqrt = _unary(_C.rsqrt, Rsqrt)
sin = _unary(_C.sin, Sin)
cos = _unary(_C.cos, Cos)
tanh = _unary(_C.tanh, Tanh)
sigmoid = _unary(_C.sigmoid, Sigmoid)
relu = _unary(_C.relu, Relu)
silu = _unary(_C.silu, Silu)
_leaky_relu = _unary(_C.leaky_relu, LeakyRelu)
_elu = _unary(_C.elu, Elu)
_gelu = _unary(_C.gelu, Gelu)
_softplus = _unary(_C.softplus, Softplus)
_clamp_scalar = _unary(_C.clamp, Clamp)


def leaky_relu(x, negative_slope=0.01):
    return _leaky_relu(x, negative_slope)


def elu(x, alpha=1.0):
    return _elu(x, alpha)


def gelu(x, approximate="none"):
    """GELU: x * Phi(x) exactly, or its tanh approximation with approximate='tanh'."""
    return _gelu(x, approximate)


def softplus(x, beta=1.0, threshold=20.0):
    return _softplus(x, beta, threshold)


def clamp(x, min=None, max=None):
    """Limits every element to [min, max] (either bound may be None, or a tensor)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if type(min) is Tensor or type(max) is Tensor:
        if needs_grad(x) or needs_grad(min) or needs_grad(max):
            return ClampBounds.apply(x, min, max)
        return _clamp_bounds(x, min, max)
    return _clamp_scalar(x, min, max)


def _unary_inplace(cfn_, op):
    def op_(x, *params):
        if _Mode.enabled and type(x) is Tensor and x._requires_grad:
            return inplace(x, op, *params)
        return cfn_(x, *params)
    op_.__name__ = cfn_.__name__
    return op_


neg_ = _unary_inplace(_C.neg_, neg)
abs_ = _unary_inplace(_C.abs_, abs)
exp_ = _unary_inplace(_C.exp_, exp)
log_ = _unary_inplace(_C.log_, log)
sqrt_ = _unary_inplace(_C.sqrt_, sqrt)
tanh_ = _unary_inplace(_C.tanh_, tanh)
sigmoid_ = _unary_inplace(_C.sigmoid_, sigmoid)
relu_ = _unary_inplace(_C.relu_, relu)


def clamp_(x, min=None, max=None):
    if needs_grad(x) or needs_grad(min) or needs_grad(max):
        return inplace(x, clamp, min, max)
    return _C.copy_(x, clamp(x, min, max))

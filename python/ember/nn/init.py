"""ember.nn.init: in-place initialisation of parameters, with PyTorch's formulas and fan rules.

Every function fills its tensor in place (without recording for autograd) and returns it. The random
ones draw from ember's one seeded generator (ember.manual_seed makes them repeat); the distributions
are PyTorch's, the random streams are ember's own.

Fans follow PyTorch's convention for weights of shape (out_features, in_features, *kernel):
fan_in = in_features * prod(kernel), fan_out = out_features * prod(kernel).
"""
import math
import warnings

from .. import _C
from ..autograd import no_grad

Tensor = _C.Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The recommended scale of the weights' std for a nonlinearity (PyTorch's table): 1 for linear
    and sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu, 3/4 for selu."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                         f"(got shape {tensor.shape})")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _check(tensor, op, generator=None):
    if type(tensor) is not Tensor:
        raise TypeError(f"{op}: expected an ember.Tensor, got {type(tensor).__name__}")
    if generator is not None:
        raise ValueError(f"{op}: ember has one global random generator; pass generator=None and seed it "
                         "with ember.manual_seed(seed)")


def _uniform(tensor, low, high):
    """Samples uniform in [low, high) with tensor's shape, dtype and device."""
    r = _C.rand(list(tensor.shape), tensor.dtype, tensor.device)
    return _C.add(_C.mul(r, high - low), low)


def _normal(tensor, mean, std):
    return _C.add(_C.mul(_C.randn(list(tensor.shape), tensor.dtype, tensor.device), std), mean)


def _fill(tensor, values):
    with no_grad():
        _C.copy_(tensor, values)
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fills tensor with samples from U(a, b)."""
    _check(tensor, "uniform_", generator)
    return _fill(tensor, _uniform(tensor, a, b))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fills tensor with samples from N(mean, std^2)."""
    _check(tensor, "normal_", generator)
    return _fill(tensor, _normal(tensor, mean, std))


def _outside(values, low, high):
    # values < low and values > high never hold together, so "differ" is "either"
    return _C.ne(_C.lt(values, low), _C.gt(values, high))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fills tensor with samples from N(mean, std^2) conditioned on [a, b] (a and b are absolute
    values, not multiples of std). Rejection sampling, as PyTorch does it: normal proposals when
    [a, b] holds much of the mass, uniform proposals on [a, b] otherwise."""
    _check(tensor, "trunc_normal_", generator)
    if not a <= b:
        raise ValueError(f"trunc_normal_: the bounds must satisfy a <= b, got a={a}, b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)

    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    mass = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
    if mass > 0.3:
        result = _normal(tensor, mean, std)
        rejected = _outside(result, a, b)
        while _C.any(rejected, None, False).item():
            result = _C.where(rejected, _normal(tensor, mean, std), result)
            rejected = _outside(result, a, b)
    else:
        # accept a uniform proposal x with probability pdf(x) / pdf(mode of the truncated density)
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2

        def propose():
            x = _uniform(tensor, a, b)
            log_ratio = _C.sub(_C.mul(_C.pow(_C.div(_C.sub(x, mean), std), 2), -0.5), log_peak)
            return x, _C.gt(_C.log(_uniform(tensor, 0.0, 1.0)), log_ratio)

        result, rejected = propose()
        while _C.any(rejected, None, False).item():
            candidate, candidate_rejected = propose()
            result = _C.where(rejected, candidate, result)
            rejected = _C.where(rejected, candidate_rejected, rejected)
    return _fill(tensor, result)


def constant_(tensor, val):
    _check(tensor, "constant_")
    return _fill(tensor, _C.full([], val, tensor.dtype, tensor.device))


def ones_(tensor):
    return constant_(tensor, 1)


def zeros_(tensor):
    return constant_(tensor, 0)


def eye_(tensor):
    """Fills a 2-D tensor with the identity (ones on the main diagonal)."""
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    return _fill(tensor, _C.eye(tensor.shape[0], tensor.shape[1], tensor.dtype, tensor.device))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    _check(tensor, "xavier_uniform_", generator)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill(tensor, _uniform(tensor, -bound, bound))


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    _check(tensor, "xavier_normal_", generator)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill(tensor, _normal(tensor, 0.0, std))


def _kaiming_std(tensor, a, mode, nonlinearity):
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015); `a` is the negative
    slope for leaky_relu, `mode` picks fan_in (forward variance) or fan_out (backward variance)."""
    _check(tensor, "kaiming_uniform_", generator)
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return _fill(tensor, _uniform(tensor, -bound, bound))


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with std = gain / sqrt(fan)."""
    _check(tensor, "kaiming_normal_", generator)
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    return _fill(tensor, _normal(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity)))

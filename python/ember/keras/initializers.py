"""ember.keras.initializers: Keras's weight initializers (callables `init(shape, dtype=None)` returning an
ember tensor), by class or by name.

    layers.Dense(64, kernel_initializer="he_normal", bias_initializer=initializers.Constant(0.1))

Fans follow Keras: a 2-d shape is (fan_in, fan_out); a conv kernel (kh, kw, in, out) has
fan_in = kh * kw * in and fan_out = kh * kw * out. Unseeded initializers draw from ember's global
generator (seeded by ember.manual_seed); an initializer given seed= draws the same values on every
call, as Keras documents.
"""
import math

import numpy as np

from .. import _C
from .. import _dtype
from ..nn import init as _nn_init
from ._registry import ConfigObject, deserialize_object, get_object, serialize_object

Tensor = _C.Tensor

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal", "TruncatedNormal",
           "VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform",
           "LecunNormal", "Identity", "Orthogonal", "get", "serialize", "deserialize",
           "zeros", "ones", "constant", "random_uniform", "random_normal", "truncated_normal", "variance_scaling",
           "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
           "identity", "orthogonal"]

# stddev of the standard normal truncated to [-2, 2]: VarianceScaling divides by it so that the
# truncated samples keep the requested variance (Keras's constant)
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape, as Keras computes them."""
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _as_dtype(dtype):
    return _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype, "initializer")


def _shape_list(shape):
    if isinstance(shape, int):
        return [shape]
    return [int(s) for s in shape]


def _from_numpy(values, dtype):
    return _C.from_numpy(np.asarray(values, dtype=_dtype.TO_NUMPY[dtype], order="C"))


class Initializer(ConfigObject):
    """Base class: subclasses implement __call__(shape, dtype=None) and get_config()."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype=None)")

    def get_config(self):
        return {}

    def clone(self):
        return type(self).from_config(self.get_config())


class Constant(Initializer):
    """Every element equal to `value`."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return _C.full(_shape_list(shape), float(self.value), _as_dtype(dtype), None)

    def get_config(self):
        return {"value": self.value}


class Zeros(Constant):
    def __init__(self):
        super().__init__(0.0)

    def get_config(self):
        return {}


class Ones(Constant):
    def __init__(self):
        super().__init__(1.0)

    def get_config(self):
        return {}


class _Random(Initializer):
    """Draws from ember's global generator, or, with a seed, from a fresh NumPy stream of that seed
    (the same values on each call)."""

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"{type(self).__name__}: seed must be an int or None, got {seed!r}")
        self.seed = seed

    def _uniform(self, shape, dtype, low, high):
        if self.seed is None:
            return _C.add(_C.mul(_C.rand(shape, dtype, None), high - low), low)
        return _from_numpy(np.random.default_rng(self.seed).uniform(low, high, shape), dtype)

    def _normal(self, shape, dtype, mean, std):
        if self.seed is None:
            return _C.add(_C.mul(_C.randn(shape, dtype, None), std), mean)
        return _from_numpy(np.random.default_rng(self.seed).normal(mean, std, shape), dtype)

    def _truncated_normal(self, shape, dtype, mean, std):
        """N(mean, std^2) restricted to mean +- 2 std."""
        if self.seed is None:
            return _nn_init.trunc_normal_(_C.empty(shape, dtype, None), mean, std, mean - 2 * std, mean + 2 * std)
        rng = np.random.default_rng(self.seed)
        values = rng.standard_normal(shape)
        outside = np.abs(values) > 2.0
        while outside.any():
            values[outside] = rng.standard_normal(int(outside.sum()))
            outside = np.abs(values) > 2.0
        return _from_numpy(values * std + mean, dtype)

    def get_config(self):
        return {"seed": self.seed}


class RandomUniform(_Random):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        return self._uniform(_shape_list(shape), _as_dtype(dtype), float(self.minval), float(self.maxval))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(_Random):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return self._normal(_shape_list(shape), _as_dtype(dtype), float(self.mean), float(self.stddev))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal samples more than two standard deviations from the mean are redrawn."""

    def __call__(self, shape, dtype=None):
        return self._truncated_normal(_shape_list(shape), _as_dtype(dtype), float(self.mean), float(self.stddev))


class VarianceScaling(_Random):
    """Samples with variance scale / n, n = fan_in, fan_out or their mean (mode); distribution
    'truncated_normal', 'untruncated_normal' or 'uniform' (limit sqrt(3 * scale / n))."""
    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if mode not in self._MODES:
            raise ValueError(f"VarianceScaling: invalid mode {mode!r}; valid modes are {', '.join(self._MODES)}")
        if distribution == "normal":  # Keras's older name
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"VarianceScaling: invalid distribution {distribution!r}; valid distributions are "
                             f"{', '.join(self._DISTRIBUTIONS)}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape_list(shape), _as_dtype(dtype)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return self._uniform(shape, dtype, -limit, limit)
        if self.distribution == "untruncated_normal":
            return self._normal(shape, dtype, 0.0, math.sqrt(variance))
        return self._truncated_normal(shape, dtype, 0.0, math.sqrt(variance) / _TRUNCATED_STD)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _preset(name, scale, mode, distribution, doc):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc,
                                           "__module__": __name__})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform",
                        "U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)): Keras's default kernel init.")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                       "Truncated normal with stddev sqrt(2 / (fan_in + fan_out)).")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform", "U(-limit, limit), limit = sqrt(6 / fan_in).")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal", "Truncated normal with stddev sqrt(2 / fan_in).")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform", "U(-limit, limit), limit = sqrt(3 / fan_in).")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal",
                      "Truncated normal with stddev sqrt(1 / fan_in).")


class Identity(Initializer):
    """gain times the identity matrix (2-d shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape_list(shape)
        if len(shape) != 2:
            raise ValueError(f"Identity initializer can only be used for 2D matrices, got shape {tuple(shape)}")
        return _from_numpy(np.eye(shape[0], shape[1]) * self.gain, _as_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


class Orthogonal(_Random):
    """A (semi-)orthogonal matrix times gain, from the QR decomposition of a normal sample; shapes of
    more than 2 dims are flattened to (prod(shape[:-1]), shape[-1])."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape_list(shape), _as_dtype(dtype)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer requires a shape of at least 2 dims, got {tuple(shape)}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        sample = np.array(self._normal([max(rows, cols), min(rows, cols)], _dtype.float64, 0.0, 1.0))
        q, r = np.linalg.qr(sample)
        q = q * np.sign(np.diag(r))  # makes the decomposition unique, so the result is uniformly distributed
        if rows < cols:
            q = q.T
        return _from_numpy(self.gain * q.reshape(shape), dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


# Keras's snake_case aliases are the classes themselves
zeros, ones, constant = Zeros, Ones, Constant
random_uniform, random_normal, truncated_normal = RandomUniform, RandomNormal, TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal, lecun_uniform, lecun_normal = HeUniform, HeNormal, LecunUniform, LecunNormal
identity, orthogonal = Identity, Orthogonal

_CLASSES = {cls.__name__: cls for cls in (Zeros, Ones, Constant, RandomUniform, RandomNormal, TruncatedNormal,
                                          VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal,
                                          LecunUniform, LecunNormal, Identity, Orthogonal)}
_BY_NAME = {"zeros": Zeros, "ones": Ones, "constant": Constant, "random_uniform": RandomUniform,
            "random_normal": RandomNormal, "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
            "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform,
            "he_normal": HeNormal, "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
            "identity": Identity, "orthogonal": Orthogonal,
            "uniform": RandomUniform, "normal": RandomNormal}  # Keras's short aliases


def serialize(initializer):
    """{'class_name': ..., 'config': {...}}, what `get` / `deserialize` turn back into the initializer."""
    return serialize_object(initializer, Initializer, "ember.keras.initializers", "initializer")


def deserialize(config, custom_objects=None):
    return deserialize_object(config, _CLASSES, get, "initializer", custom_objects)


def get(identifier):
    """An initializer from a name ('glorot_uniform', 'GlorotUniform', ...), a config dict, an
    Initializer or any callable(shape, dtype) (returned as it is). None stays None."""
    return get_object(identifier, Initializer, _CLASSES, _BY_NAME, deserialize, "initializer",
                      " (or their class names, e.g. 'GlorotUniform')")

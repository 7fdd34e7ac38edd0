"""ember: a deep-learning framework with hand-written C++ (SIMD + OpenMP) and CUDA kernels.

    import ember
    x = ember.randn(128, 784)
    w = ember.randn(784, 10) * 0.01
    y = (x @ w).relu().softmax(dim=1)
"""
# Developer builds put the compiled module in build/python/ember beside this source tree.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)

# OpenMP threads that finish a parallel region spin before they sleep; GNU OpenMP spins up to
# 300000 rounds by default. On a machine shared with other busy processes, a spinning thread takes
# the core its descheduled teammate needs and each threaded op waits a scheduler slice (measured on
# 2 cores under load: 1M-element add 8 ms, with 10000 rounds 0.7 ms; on a quiet machine no
# difference). The runtime reads GOMP_SPINCOUNT once, when it loads with _C; the variable is set
# only for that moment, so other libraries loaded later (PyTorch's own OpenMP copy) and child
# processes keep their defaults. A value the user set is left alone.
import os as _os

_spin_count_unset = "GOMP_SPINCOUNT" not in _os.environ
if _spin_count_unset:
    _os.environ["GOMP_SPINCOUNT"] = "10000"
try:
    from . import _C
finally:
    if _spin_count_unset:
        del _os.environ["GOMP_SPINCOUNT"]
del _os, _spin_count_unset
from ._dtype import (float32, float64, int64, int32, bool, float, double, long, int,
                     get_default_dtype, set_default_dtype)
from .tensor import Tensor
from .creation import (tensor, as_tensor, from_numpy, from_dlpack, empty, zeros, ones, full,
                       empty_like, zeros_like, ones_like, full_like, arange, linspace, eye,
                       manual_seed, rand, randn, randint, rand_like, randn_like)
from .functional_ops import (add, sub, mul, div, true_divide, pow, floor_divide, remainder, maximum,
                             minimum, eq, ne, lt, le, gt, ge, matmul, neg, abs, sign, exp, log, log1p,
                             sqrt, rsqrt, sin, cos, tanh, sigmoid, relu, silu, leaky_relu, elu, gelu,
                             softplus, clamp, clip, where, sum, mean, prod, amax, amin, max, min,
                             argmax, argmin, var, std, all, any, logsumexp, softmax, log_softmax,
                             reshape, transpose, permute, squeeze, unsqueeze, flatten, broadcast_to,
                             broadcast_shapes, cat, concatenate, stack, split, chunk)
from .functional_ops import index_select, gather, scatter_add, masked_fill, nonzero
from .generator import Generator
from . import cuda
from . import autograd
from . import data
from . import utils
from .serialization import save, load
from . import nn
from .autograd import no_grad, enable_grad, set_grad_enabled, is_grad_enabled
from . import optim
from . import datasets
from . import keras

device = _C.device
dtype = _C.dtype
get_num_threads = _C.get_num_threads
set_num_threads = _C.set_num_threads
set_flush_denormal = _C.set_flush_denormal

__version__ = "0.1.0"

__all__ = [
    "Tensor", "dtype", "device", "float32", "float64", "int64", "int32", "bool", "float", "double",
    "long", "int", "get_default_dtype", "set_default_dtype",
    "tensor", "as_tensor", "from_numpy", "from_dlpack", "empty", "zeros", "ones", "full", "empty_like",
    "zeros_like", "ones_like", "full_like", "arange", "linspace", "eye", "manual_seed", "rand", "randn",
    "randint", "rand_like", "randn_like",
    "add", "sub", "mul", "div", "true_divide", "pow", "floor_divide", "remainder", "maximum", "minimum",
    "eq", "ne", "lt", "le", "gt", "ge", "matmul", "neg", "abs", "sign", "exp", "log", "log1p", "sqrt",
    "rsqrt", "sin", "cos", "tanh", "sigmoid", "relu", "silu", "leaky_relu", "elu", "gelu", "softplus",
    "clamp", "clip", "where", "sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin",
    "var", "std", "all", "any", "logsumexp", "softmax", "log_softmax", "reshape", "transpose", "permute",
    "squeeze", "unsqueeze", "flatten", "broadcast_to", "broadcast_shapes", "cat", "concatenate", "stack",
    "split", "chunk", "cuda", "get_num_threads", "set_num_threads", "set_flush_denormal",
    "index_select", "gather", "scatter_add", "masked_fill", "nonzero", "Generator",
    "autograd", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "data", "nn",
    "optim", "utils", "save", "load", "datasets", "keras",
]

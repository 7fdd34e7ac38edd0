"""Normalization layers and channel dropout: BatchNorm1d, BatchNorm2d, LayerNorm, Dropout2d, with
PyTorch's arguments, parameter and buffer names (so state_dict keys match), init, repr and train /
eval behaviour."""
import numbers

from .. import _C
from .. import _dtype
from .._fn import norm as _norm
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout2d"]


class _BatchNorm(Module):
    """Shared by BatchNorm1d / BatchNorm2d: weight (ones) and bias (zeros) when affine; buffers
    running_mean (zeros), running_var (ones) and num_batches_tracked (int64 0) when
    track_running_stats. momentum=None averages the batches cumulatively (factor 1 / batches seen)."""
    _version = 2
    _input_dims = ()      # the input ranks the layer accepts
    _input_layout = ""    # how its error message describes them

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        if not isinstance(num_features, numbers.Integral) or isinstance(num_features, bool) or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        if momentum is not None and (isinstance(momentum, bool) or not isinstance(momentum, numbers.Real)):
            raise TypeError(f"{name}: momentum must be a float or None, got {momentum!r}")
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype, name)
        shape = [self.num_features]
        if affine:
            self.weight = Parameter(_C.empty(shape, dtype, device))
            if bias:
                self.bias = Parameter(_C.empty(shape, dtype, device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", _C.full(shape, 0.0, dtype, device))
            self.register_buffer("running_var", _C.full(shape, 1.0, dtype, device))
            self.register_buffer("num_batches_tracked", _C.full([], 0, _dtype.int64, device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input(self, input):
        if type(input) is not _C.Tensor:
            raise TypeError(f"{type(self).__name__}: expected an ember.Tensor input, got {type(input).__name__}")
        shape = input.shape
        if len(shape) not in self._input_dims:
            raise ValueError(f"{type(self).__name__}: expected {self._input_layout}, got shape {shape}")
        if shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}: expected {self.num_features} channels (num_features="
                             f"{self.num_features}), got an input of shape {shape} with {shape[1]} channels")

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / self.num_batches_tracked.item()
        # batch statistics in training, and in eval when there are no running statistics
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        # the running statistics are updated only when tracked, and read only in eval
        track = not self.training or self.track_running_stats
        return _norm.batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                                self.weight, self.bias, use_batch_stats, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        # checkpoints written before num_batches_tracked existed load with the module's own count
        version = local_metadata.get("version")
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats and key not in state_dict:
            state_dict[key] = (self.num_batches_tracked if self.num_batches_tracked is not None
                               else _C.full([], 0, _dtype.int64, None))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) inputs: each channel normalised by its mean and
    biased variance over the batch (and L), then scaled by weight and shifted by bias."""
    _input_dims = (2, 3)
    _input_layout = "a 2-d input (N, C) or a 3-d input (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) inputs: each channel normalised by its mean and biased
    variance over N, H and W, then scaled by weight and shifted by bias."""
    _input_dims = (4,)
    _input_layout = "a 4-d input (N, C, H, W)"


class LayerNorm(Module):
    """Normalises each sample over its trailing normalized_shape dims (mean and biased variance of
    those values), then applies an elementwise weight (ones) and bias (zeros) of normalized_shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = tuple(_norm._shape_list("LayerNorm", normalized_shape))
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype, "LayerNorm")
        shape = list(self.normalized_shape)
        if elementwise_affine:
            self.weight = Parameter(_C.empty(shape, dtype, device))
            if bias:
                self.bias = Parameter(_C.empty(shape, dtype, device))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        return _norm.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class Dropout2d(Module):
    """Zeroes whole channels of (N, C, H, W) or (C, H, W) inputs with probability p in training mode and
    scales the rest by 1 / (1 - p); the identity in eval mode."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return _norm.dropout2d(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"

"""Embedding: a lookup table of num_embeddings vectors of size embedding_dim, with PyTorch's
arguments, initialisation (N(0, 1), the padding row zeroed), from_pretrained and repr."""
import numbers

from .. import _C
from .. import _dtype
from ..autograd import no_grad
from .._fn.rnn import embedding as _embedding
from . import init
from .module import Module
from .parameter import Parameter

Tensor = _C.Tensor

__all__ = ["Embedding"]


def _size(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"Embedding: {name} must be a non-negative int, got {value!r}")
    return int(value)


class Embedding(Module):
    """Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
    scale_grad_by_freq=False, sparse=False): forward(ids (*)) -> (*, embedding_dim).

    weight (num_embeddings, embedding_dim) ~ N(0, 1). padding_idx (a negative one counts from the end)
    names a row that starts at zero and never receives a gradient, for padding tokens."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = _size("num_embeddings", num_embeddings)
        self.embedding_dim = _size("embedding_dim", embedding_dim)
        if padding_idx is not None:
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, numbers.Integral):
                raise TypeError(f"Embedding: padding_idx must be an int or None, got {padding_idx!r}")
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within num_embeddings ({self.num_embeddings}), "
                                 f"got {padding_idx}")
            padding_idx = int(padding_idx) % self.num_embeddings
        if sparse:
            raise NotImplementedError("Embedding: sparse=True (sparse gradients) is not supported; use sparse=False")
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        shape = [self.num_embeddings, self.embedding_dim]
        if _weight is None:
            dtype = _dtype.get_default_dtype() if dtype is None else _dtype.as_dtype(dtype, "Embedding")
            self.weight = Parameter(_C.empty(shape, dtype, device), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if type(_weight) is not Tensor:
                raise TypeError(f"Embedding: _weight must be an ember.Tensor, got {type(_weight).__name__}")
            if list(_weight.shape) != shape:
                raise ValueError(f"Embedding: shape of weight {_weight.shape} does not match num_embeddings and "
                                 f"embedding_dim {tuple(shape)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        return _embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                          self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += f", sparse={self.sparse}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is `embeddings` (num_embeddings, embedding_dim), shared, not copied;
        frozen (no gradient) unless freeze=False. The padding row is left as given."""
        if type(embeddings) is not Tensor:
            raise TypeError(f"Embedding.from_pretrained: embeddings must be an ember.Tensor, got "
                            f"{type(embeddings).__name__}")
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings parameter is expected to be 2-dimensional, got "
                             f"shape {embeddings.shape}")
        rows, cols = embeddings.shape
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)

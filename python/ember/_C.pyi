"""
ember's compiled core: tensors and hand-written CPU / CUDA kernels
"""
from __future__ import annotations
import collections.abc
import numpy
import typing
import typing_extensions
__all__: list[str] = ['Tensor', 'abs', 'abs_', 'adagrad_step', 'adam_step', 'adaptive_avg_pool2d', 'adaptive_avg_pool2d_backward', 'add', 'add_', 'alias', 'all', 'amax', 'amin', 'any', 'arange', 'argmax', 'argmin', 'as_strided', 'avg_pool2d', 'avg_pool2d_backward', 'batch_norm', 'batch_norm_backward', 'binary_cross_entropy', 'binary_cross_entropy_backward', 'binary_cross_entropy_with_logits', 'binary_cross_entropy_with_logits_backward', 'broadcast_shapes', 'broadcast_to', 'cat', 'chunk', 'clamp', 'clamp_backward', 'clone', 'contiguous', 'conv1d', 'conv1d_backward', 'conv2d', 'conv2d_backward', 'copy_', 'cos', 'cpu_best_capability', 'cpu_capability', 'cross_entropy', 'cross_entropy_backward', 'cuda_device_count', 'cuda_empty_cache', 'cuda_is_built', 'cuda_memory_allocated', 'cuda_memory_reserved', 'cuda_synchronize', 'cuda_unavailable_reason', 'device', 'div', 'div_', 'dropout', 'dropout_backward', 'dtype', 'elu', 'elu_backward', 'embedding', 'embedding_backward', 'embedding_renorm_', 'empty', 'eq', 'exp', 'exp_', 'expand', 'eye', 'flatten', 'floor_divide', 'from_dlpack_capsule', 'from_numpy', 'full', 'gather', 'ge', 'gelu', 'gelu_backward', 'get_num_threads', 'getitem', 'gt', 'huber_loss', 'huber_loss_backward', 'index_put_', 'index_select', 'initial_seed', 'keras_adagrad_step', 'keras_adam_step', 'keras_rmsprop_step', 'keras_sgd_step', 'l1_loss', 'l1_loss_backward', 'layer_norm', 'layer_norm_backward', 'le', 'leaky_relu', 'leaky_relu_backward', 'linear', 'linear_backward', 'linspace', 'log', 'log1p', 'log_', 'log_softmax', 'log_softmax_backward', 'logsumexp', 'lt', 'manual_seed', 'masked_fill', 'matmul', 'max_dim', 'max_pool2d', 'max_pool2d_backward', 'maximum', 'mean', 'min_dim', 'minimum', 'mse_loss', 'mse_loss_backward', 'mul', 'mul_', 'ne', 'neg', 'neg_', 'nll_loss', 'nll_loss_backward', 'nonzero', 'permute', 'pow', 'pow_', 'prod', 'rand', 'randint', 'randn', 'relu', 'relu_', 'relu_backward', 'remainder', 'reshape', 'rmsprop_step', 'rnn_backward', 'rnn_forward', 'rsqrt', 'scatter_add_', 'set_default_float_dtype', 'set_num_threads', 'setitem', 'sgd_step', 'sigmoid', 'sigmoid_', 'sigmoid_backward', 'sign', 'silu', 'silu_backward', 'sin', 'smooth_l1_loss', 'smooth_l1_loss_backward', 'softmax', 'softmax_backward', 'softplus', 'softplus_backward', 'split', 'sqrt', 'sqrt_', 'squeeze', 'stack', 'std', 'sub', 'sub_', 'sum', 'tanh', 'tanh_', 'tanh_backward', 'to_device', 'to_dlpack', 'to_dtype', 'transpose', 'unsqueeze', 'var', 'view', 'where']
class dtype:
    """
    Element type of a tensor (ember.float32, ember.int64, ...).
    
    Members:
    
      float32
    
      float64
    
      int64
    
      int32
    
      bool
    """
    __members__: typing.ClassVar[dict[str, dtype]]
    bool: typing.ClassVar[dtype]
    float32: typing.ClassVar[dtype]
    float64: typing.ClassVar[dtype]
    int32: typing.ClassVar[dtype]
    int64: typing.ClassVar[dtype]
    @typing.overload
    def __eq__(self: numpy.dtype[typing.Any], other: numpy.dtype[typing.Any]) -> bool:
        ...
    @typing.overload
    def __eq__(self: numpy.dtype[typing.Any], other: typing.Any) -> bool:
        ...
    def __getstate__(self) -> int:
        ...
    def __hash__(self) -> int:
        ...
    def __index__(self: numpy.dtype[typing.Any]) -> int:
        ...
    def __init__(self: numpy.dtype[typing.Any], value: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __int__(self: numpy.dtype[typing.Any]) -> int:
        ...
    @typing.overload
    def __ne__(self: numpy.dtype[typing.Any], other: numpy.dtype[typing.Any]) -> bool:
        ...
    @typing.overload
    def __ne__(self: numpy.dtype[typing.Any], other: typing.Any) -> bool:
        ...
    def __repr__(self):
        ...
    def __setstate__(self: numpy.dtype[typing.Any], state: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __str__(self):
        ...
    @property
    def is_floating_point(self) -> bool:
        ...
    @property
    def itemsize(self) -> int:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def value(self) -> int:
        ...
class device:
    """
    A device: ember.device('cpu'), ember.device('cuda:0').
    """
    def __eq__(self, arg0: typing.Any) -> bool:
        ...
    def __hash__(self) -> int:
        ...
    @typing.overload
    def __init__(self, spec: str) -> None:
        ...
    @typing.overload
    def __init__(self, type: str, index: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    def __repr__(self) -> str:
        ...
    def __str__(self) -> str:
        ...
    @property
    def index(self) -> typing.Any:
        ...
    @property
    def type(self) -> str:
        ...
class Tensor:
    """
    A multi-dimensional array of one dtype on one device, with NumPy broadcasting,
    zero-copy views (reshape, transpose, slicing, expand) and NumPy / DLPack interop.
    """
    _grad_fn = None
    _is_ember_tensor: typing.ClassVar[bool] = True
    _requires_grad: typing.ClassVar[bool] = False
    grad = None
    @staticmethod
    def __add__(a, b):
        """
        add(a: object, b: object) -> ember._C.Tensor
        
        a + b with broadcasting and PyTorch's type promotion (bool: logical or).
        """
    @staticmethod
    def __iadd__(a, b):
        ...
    @staticmethod
    def __imul__(a, b):
        ...
    @staticmethod
    def __ipow__(a, b):
        ...
    @staticmethod
    def __isub__(a, b):
        ...
    @staticmethod
    def __itruediv__(a, b):
        ...
    @staticmethod
    def __matmul__(a, b):
        ...
    @staticmethod
    def __mul__(a, b):
        """
        mul(a: object, b: object) -> ember._C.Tensor
        
        a * b (bool: logical and).
        """
    @staticmethod
    def __neg__(x, *params):
        """
        neg(x: object) -> ember._C.Tensor
        
        -x elementwise; integers stay integers (bool: TypeError).
        """
    @staticmethod
    def __pow__(a, b):
        """
        pow(a: object, b: object) -> ember._C.Tensor
        
        a ** b; integer tensors to negative integer numbers: ValueError.
        """
    @staticmethod
    def __sub__(a, b):
        """
        sub(a: object, b: object) -> ember._C.Tensor
        
        a - b (bool operands: TypeError).
        """
    @staticmethod
    def __truediv__(a, b):
        """
        div(a: object, b: object) -> ember._C.Tensor
        
        True division a / b; integer operands give float32.
        """
    @staticmethod
    def abs(x, *params):
        """
        abs(x: object) -> ember._C.Tensor
        
        |x| elementwise; integers stay integers.
        """
    @staticmethod
    def abs_(x, *params):
        ...
    @staticmethod
    def add(a, b):
        """
        add(a: object, b: object) -> ember._C.Tensor
        
        a + b with broadcasting and PyTorch's type promotion (bool: logical or).
        """
    @staticmethod
    def add_(a, b):
        ...
    @staticmethod
    def cos(x, *params):
        """
        cos(x: object) -> ember._C.Tensor
        
        Cosine (radians); integer inputs give the default float dtype.
        """
    @staticmethod
    def div(a, b):
        """
        div(a: object, b: object) -> ember._C.Tensor
        
        True division a / b; integer operands give float32.
        """
    @staticmethod
    def div_(a, b):
        ...
    @staticmethod
    def exp(x, *params):
        """
        exp(x: object) -> ember._C.Tensor
        
        e**x elementwise; integer inputs give the default float dtype.
        """
    @staticmethod
    def exp_(x, *params):
        ...
    @staticmethod
    def log(x, *params):
        """
        log(x: object) -> ember._C.Tensor
        
        Natural logarithm; integer inputs give the default float dtype.
        """
    @staticmethod
    def log1p(x, *params):
        """
        log1p(x: object) -> ember._C.Tensor
        
        log(1 + x), accurate for small x; integer inputs give the default float dtype.
        """
    @staticmethod
    def log_(x, *params):
        ...
    @staticmethod
    def maximum(a, b):
        """
        maximum(a: object, b: object) -> ember._C.Tensor
        
        Elementwise maximum of two tensors (NaN propagates).
        """
    @staticmethod
    def minimum(a, b):
        """
        minimum(a: object, b: object) -> ember._C.Tensor
        
        Elementwise minimum of two tensors (NaN propagates).
        """
    @staticmethod
    def mul(a, b):
        """
        mul(a: object, b: object) -> ember._C.Tensor
        
        a * b (bool: logical and).
        """
    @staticmethod
    def mul_(a, b):
        ...
    @staticmethod
    def neg(x, *params):
        """
        neg(x: object) -> ember._C.Tensor
        
        -x elementwise; integers stay integers (bool: TypeError).
        """
    @staticmethod
    def neg_(x, *params):
        ...
    @staticmethod
    def pow(a, b):
        """
        pow(a: object, b: object) -> ember._C.Tensor
        
        a ** b; integer tensors to negative integer numbers: ValueError.
        """
    @staticmethod
    def pow_(a, b):
        ...
    @staticmethod
    def relu(x, *params):
        """
        relu(x: object) -> ember._C.Tensor
        
        max(x, 0) elementwise (NaN stays NaN); integers stay integers.
        """
    @staticmethod
    def relu_(x, *params):
        ...
    @staticmethod
    def remainder(a, b):
        """
        remainder(a: object, b: object) -> ember._C.Tensor
        
        a % b with the sign of b, as Python's %.
        """
    @staticmethod
    def rsqrt(x, *params):
        """
        rsqrt(x: object) -> ember._C.Tensor
        
        1 / sqrt(x); integer inputs give the default float dtype.
        """
    @staticmethod
    def sigmoid(x, *params):
        """
        sigmoid(x: object) -> ember._C.Tensor
        
        1 / (1 + e**-x), stable for large |x|; integer inputs give the default float dtype.
        """
    @staticmethod
    def sigmoid_(x, *params):
        ...
    @staticmethod
    def sign(x, *params):
        """
        sign(x: object) -> ember._C.Tensor
        
        -1, 0 or 1 by the sign of each element (NaN stays NaN).
        """
    @staticmethod
    def sin(x, *params):
        """
        sin(x: object) -> ember._C.Tensor
        
        Sine (radians); integer inputs give the default float dtype.
        """
    @staticmethod
    def sqrt(x, *params):
        """
        sqrt(x: object) -> ember._C.Tensor
        
        Square root; integer inputs give the default float dtype.
        """
    @staticmethod
    def sqrt_(x, *params):
        ...
    @staticmethod
    def sub(a, b):
        """
        sub(a: object, b: object) -> ember._C.Tensor
        
        a - b (bool operands: TypeError).
        """
    @staticmethod
    def sub_(a, b):
        ...
    @staticmethod
    def tanh(x, *params):
        """
        tanh(x: object) -> ember._C.Tensor
        
        Hyperbolic tangent; integer inputs give the default float dtype.
        """
    @staticmethod
    def tanh_(x, *params):
        ...
    @classmethod
    def __new__(cls, *args, **kwargs):
        ...
    def __abs__(self):
        ...
    def __array__(self, dtype = None, copy = None):
        ...
    def __bool__(self):
        ...
    def __copy__(self):
        ...
    def __deepcopy__(self, memo):
        """
        A new leaf with copied values, the same requires_grad, .grad and attributes.
        """
    def __dlpack__(self, *, stream = None, max_version = None, dl_device = None, copy = None):
        ...
    def __dlpack_device__(self):
        ...
    def __eq__(self, other):
        ...
    def __float__(self):
        ...
    def __floordiv__(self, other):
        ...
    def __format__(self, spec):
        """
        A 0-d tensor formats as its value (f"{loss:.4f}"); others only with an empty spec.
        """
    def __ge__(self, other):
        ...
    def __getitem__(self, index):
        ...
    def __gt__(self, other):
        ...
    def __hash__(self):
        ...
    def __index__(self):
        ...
    def __int__(self):
        ...
    def __iter__(self):
        ...
    def __le__(self, other):
        ...
    def __len__(self) -> int:
        ...
    def __lt__(self, other):
        ...
    def __mod__(self, other):
        ...
    def __ne__(self, other):
        ...
    def __pos__(self):
        ...
    def __radd__(self, other):
        ...
    def __reduce__(self):
        """
        A parameter pickles as its values plus requires_grad and comes back a parameter.
        """
    def __repr__(self):
        ...
    def __rfloordiv__(self, other):
        ...
    def __rmatmul__(self, other):
        ...
    def __rmod__(self, other):
        ...
    def __rmul__(self, other):
        ...
    def __rpow__(self, other):
        ...
    def __rsub__(self, other):
        ...
    def __rtruediv__(self, other):
        ...
    def __setitem__(self, index, value):
        ...
    def __str__(self):
        ...
    def _shares_storage(self, arg0: Tensor) -> bool:
        ...
    def _storage_nbytes(self) -> int:
        ...
    def all(self, dim = None, keepdim = False):
        ...
    def amax(self, dim = None, keepdim = False):
        ...
    def amin(self, dim = None, keepdim = False):
        ...
    def any(self, dim = None, keepdim = False):
        ...
    def argmax(self, dim = None, keepdim = False):
        ...
    def argmin(self, dim = None, keepdim = False):
        ...
    def backward(self, gradient = None, retain_graph = None, create_graph = False, inputs = None):
        """
        Accumulates the gradient of this tensor into .grad of every leaf it depends on.
        """
    def bool(self):
        ...
    def broadcast_to(self, shape):
        ...
    def chunk(self, chunks, dim = 0):
        ...
    def clamp(self, min = None, max = None):
        """
        Limits every element to [min, max] (either bound may be None, or a tensor).
        """
    def clamp_(self, min = None, max = None):
        ...
    def clip(self, min = None, max = None):
        """
        Limits every element to [min, max] (either bound may be None, or a tensor).
        """
    def clone(self):
        ...
    def contiguous(self):
        ...
    def copy_(self, src):
        """
        Copies src (broadcast to this shape, converted to this dtype and device) into self.
        """
    def cpu(self):
        ...
    def cuda(self, device = None):
        ...
    def data_ptr(self) -> int:
        ...
    def detach(self):
        """
        The same memory, cut out of the graph (requires_grad False).
        """
    def detach_(self):
        """
        Cuts this tensor out of the graph in place.
        """
    def dim(self) -> int:
        ...
    def double(self):
        ...
    def element_size(self) -> int:
        ...
    def eq(self, other):
        ...
    def expand(self, *sizes):
        ...
    def expand_as(self, other):
        ...
    def fill_(self, value):
        ...
    def flatten(self, start_dim = 0, end_dim = -1):
        ...
    def float(self):
        ...
    def floor_divide(self, other):
        ...
    def gather(self, dim, index):
        ...
    def ge(self, other):
        ...
    def gt(self, other):
        ...
    def index_select(self, dim, index):
        ...
    def int(self):
        ...
    def is_contiguous(self) -> bool:
        ...
    def is_floating_point(self):
        ...
    def item(self) -> typing.Any:
        ...
    def le(self, other):
        ...
    def log_softmax(self, dim):
        ...
    def logsumexp(self, dim, keepdim = False):
        ...
    def long(self):
        ...
    def lt(self, other):
        ...
    def masked_fill(self, mask, value):
        ...
    def matmul(self, other):
        ...
    def max(self, dim = None, keepdim = False):
        """
        max(): the largest element; max(dim): (values, indices) along dim; max(tensor): maximum.
        """
    def mean(self, dim = None, keepdim = False):
        ...
    def min(self, dim = None, keepdim = False):
        """
        min(): the smallest element; min(dim): (values, indices) along dim; min(tensor): minimum.
        """
    def ne(self, other):
        ...
    def nonzero(self, *, as_tuple = False):
        """
        Positions of the nonzero elements: (count, ndim) int64, or one 1-d tensor per dim.
        """
    def numel(self) -> int:
        ...
    def numpy(self):
        """
        A NumPy array sharing this tensor's memory (CPU tensors only).
        """
    def permute(self, *dims):
        ...
    def prod(self, dim = None, keepdim = False):
        ...
    def ravel(self):
        ...
    def requires_grad_(self, requires_grad = True):
        """
        Sets requires_grad in place and returns self.
        """
    def reshape(self, *shape):
        """
        Same data in a new shape; a view when the strides allow it, else a copy.
        """
    def reshape_as(self, other):
        ...
    def retain_grad(self):
        """
        Keeps .grad on this non-leaf tensor after backward().
        """
    def scatter_add_(self, dim, index, src):
        ...
    def size(self, dim = None):
        """
        The shape, or the size of one dimension.
        """
    def softmax(self, dim):
        ...
    def split(self, split_size_or_sections, dim = 0):
        ...
    def squeeze(self, dim = None):
        ...
    def std(self, dim = None, *, correction = 1, keepdim = False, unbiased = None):
        ...
    def storage_offset(self) -> int:
        ...
    def stride(self, dim = None):
        """
        Strides in elements, or the stride of one dimension.
        """
    def sum(self, dim = None, keepdim = False, dtype = None):
        ...
    def t(self):
        ...
    def to(self, *args, dtype = None, device = None, copy = False):
        """
        to(dtype), to(device), to(device, dtype), to(other_tensor): converted (a copy only when
                something changes, or copy=True).
        """
    def tolist(self):
        """
        Nested Python lists of Python scalars (a scalar for a 0-d tensor).
        """
    def transpose(self, dim0, dim1):
        ...
    def type(self, dtype = None):
        ...
    def unsqueeze(self, dim):
        ...
    def var(self, dim = None, *, correction = 1, keepdim = False, unbiased = None):
        ...
    def view(self, *shape):
        """
        Same data in a new shape, always a view (RuntimeError when impossible: use reshape).
        """
    def view_as(self, other):
        ...
    def where(self, condition, other):
        """
        Elements of self where condition holds, else of other.
        """
    def zero_(self):
        ...
    @property
    def T(self):
        """
        All dimensions reversed (a view).
        """
    @property
    def _storage_refs(self) -> int:
        ...
    @property
    def _strides(self) -> tuple:
        ...
    @property
    def _version(self) -> int:
        ...
    @property
    def data(self):
        """
        The same memory without autograd history (like detach()).
        """
    @data.setter
    def data(self, value):
        ...
    @property
    def device(self) -> device:
        ...
    @property
    def dtype(self) -> typing.Any:
        ...
    @property
    def grad_fn(self):
        """
        The graph node that produced this tensor (None for leaves).
        """
    @property
    def is_cuda(self) -> bool:
        ...
    @property
    def is_leaf(self):
        """
        True for tensors not produced by a recorded operation (inputs and parameters).
        """
    @property
    def mT(self):
        """
        The last two dimensions swapped (a view).
        """
    @property
    def ndim(self) -> int:
        ...
    @property
    def requires_grad(self):
        """
        Whether operations on this tensor are recorded for backward().
        """
    @requires_grad.setter
    def requires_grad(self, value):
        ...
    @property
    def retains_grad(self):
        ...
    @property
    def shape(self) -> tuple:
        ...
def _apply_builtin(arg0: typing.Any, *args) -> typing.Any:
    """
    Function.apply for ember's own ops: run forward, record the node when an input requires grad.
    """
def _matmul_into(a: Tensor, b: Tensor, out: Tensor, accumulate: bool, bias: Tensor | None = None, bias_per_row: bool = False, activation: str | None = None) -> None:
    """
    out = act(a @ b [+ out] + bias) in place (2-d; testing hook for the GEMM epilogue).
    """
def _philox4x32_10(counter: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(4)"], key: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"]) -> typing.Annotated[list[int], "FixedSize(4)"]:
    """
    The Philox4x32-10 bijection of one (counter, key).
    """
def _run_backward(outputs: list, grads: list, retain_graph: bool, freed: typing.Any, helpers: typing.Any) -> typing.Any:
    """
    The backward pass of loss.backward() (autograd._run is the reference, and serves autograd.grad()).
    """
def _saved_tensors(arg0: typing.Any) -> typing.Any:
    """
    ctx.saved_tensors: the saved tensors, checked against in-place writes.
    """
def _set_freed_marker(arg0: typing.Any) -> None:
    """
    Tells saved_tensors which object marks tensors released by a backward pass (autograd._FREED).
    """
def _set_grad_mode_holder(arg0: typing.Any) -> None:
    """
    Tells the C++ fast path where the grad mode lives (autograd._Mode).
    """
def abs(x: typing.Any) -> Tensor:
    """
    |x| elementwise; integers stay integers.
    """
def abs_(x: typing.Any) -> typing.Any:
    """
    In-place abs; returns x.
    """
def adagrad_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], state_sums: collections.abc.Sequence[Tensor], steps: collections.abc.Sequence[Tensor], lr: typing.SupportsFloat | typing.SupportsIndex, lr_decay: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, maximize: bool) -> None:
    """
    One Adagrad step over params; increments each step count.
    """
def adam_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], exp_avgs: collections.abc.Sequence[Tensor], exp_avg_sqs: collections.abc.Sequence[Tensor], max_exp_avg_sqs: collections.abc.Sequence[Tensor], steps: collections.abc.Sequence[Tensor], lr: typing.SupportsFloat | typing.SupportsIndex, beta1: typing.SupportsFloat | typing.SupportsIndex, beta2: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, amsgrad: bool, decoupled_weight_decay: bool, maximize: bool) -> None:
    """
    One Adam (or, with decoupled_weight_decay, AdamW) step over params; increments each step
    count (a one-element float tensor). max_exp_avg_sqs is used only with amsgrad.
    """
def adaptive_avg_pool2d(input: Tensor, output_size: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], channels_last: bool = False, name: str = 'adaptive_avg_pool2d') -> Tensor:
    """
    2-d adaptive average pooling to output_size (OH, OW) as torch.nn.functional.adaptive_avg_pool2d;
    (1, 1) is global average pooling.
    """
def adaptive_avg_pool2d_backward(grad: Tensor, input_shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], channels_last: bool = False) -> Tensor:
    """
    Gradient of adaptive_avg_pool2d with respect to its input.
    """
def add(a: typing.Any, b: typing.Any) -> Tensor:
    """
    a + b with broadcasting and PyTorch's type promotion (bool: logical or).
    """
def add_(a: typing.Any, b: typing.Any) -> typing.Any:
    """
    a += b in place (b broadcasts to a); returns a.
    """
def alias(arg0: Tensor) -> Tensor:
    ...
def all(x: Tensor, dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None = None, keepdim: bool = False) -> Tensor:
    """
    True where every element over dims is nonzero.
    """
def amax(x: Tensor, dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None = None, keepdim: bool = False) -> Tensor:
    """
    Largest element over dims (None: all); NaN propagates.
    """
def amin(x: Tensor, dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None = None, keepdim: bool = False) -> Tensor:
    """
    Smallest element over dims (None: all); NaN propagates.
    """
def any(x: Tensor, dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None = None, keepdim: bool = False) -> Tensor:
    """
    True where some element over dims is nonzero.
    """
def arange(arg0: typing.SupportsFloat | typing.SupportsIndex, arg1: typing.SupportsFloat | typing.SupportsIndex, arg2: typing.SupportsFloat | typing.SupportsIndex, arg3: numpy.dtype[typing.Any], arg4: typing.Any) -> Tensor:
    ...
def argmax(x: Tensor, dim: typing.SupportsInt | typing.SupportsIndex | None = None, keepdim: bool = False) -> Tensor:
    """
    Index of the first largest element along dim (None: flattened).
    """
def argmin(x: Tensor, dim: typing.SupportsInt | typing.SupportsIndex | None = None, keepdim: bool = False) -> Tensor:
    """
    Index of the first smallest element along dim (None: flattened).
    """
def as_strided(arg0: Tensor, arg1: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg2: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg3: typing.SupportsInt | typing.SupportsIndex | None) -> Tensor:
    ...
def avg_pool2d(input: Tensor, kernel_size: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], stride: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], padding: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: typing.SupportsInt | typing.SupportsIndex | None = None, channels_last: bool = False, name: str = 'avg_pool2d') -> Tensor:
    """
    2-d average pooling as torch.nn.functional.avg_pool2d.
    """
def avg_pool2d_backward(grad: Tensor, input_shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], kernel_size: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], stride: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], padding: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: typing.SupportsInt | typing.SupportsIndex | None = None, channels_last: bool = False) -> Tensor:
    """
    Gradient of avg_pool2d with respect to its input: each output's gradient shared over its window.
    """
def batch_norm(x: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None, running_var: Tensor | None, training: bool, momentum: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, channels_last: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """
    (out, save_mean, save_invstd): x (N, C, *) normalised per channel (channels last with channels_last). Training: batch statistics, running_mean / running_var updated in place (unbiased variance); eval: the running statistics. save_mean / save_invstd are float64 (C,), for batch_norm_backward.
    """
def batch_norm_backward(grad: Tensor, x: Tensor, weight: Tensor | None, save_mean: Tensor, save_invstd: Tensor, training: bool, channels_last: bool, need_input: bool, need_weight: bool, need_bias: bool) -> tuple:
    """
    (grad_x, grad_weight, grad_bias) of batch_norm; None where not asked for.
    """
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = 'mean') -> Tensor:
    """
    -weight (t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1], each log clamped at -100;
    target of the input's shape, weight broadcast to it.
    """
def binary_cross_entropy_backward(grad: Tensor, input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = 'mean') -> Tensor:
    """
    d(binary_cross_entropy)/d(input) times grad: weight (p - t) / max(p (1 - p), 1e-12).
    """
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = 'mean', pos_weight: Tensor | None = None) -> Tensor:
    """
    weight ((1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)) on logits x, computed without overflow;
    target of the input's shape, weight and pos_weight broadcast to it.
    """
def binary_cross_entropy_with_logits_backward(grad: Tensor, input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = 'mean', pos_weight: Tensor | None = None) -> Tensor:
    """
    d(binary_cross_entropy_with_logits)/d(input) times grad: weight ((1 + (pos_weight - 1) t) sigmoid(x)
    - pos_weight t).
    """
def broadcast_shapes(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> list[int]:
    ...
def broadcast_to(arg0: Tensor, arg1: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    ...
def cat(tensors: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    ...
def chunk(x: Tensor, chunks: typing.SupportsInt | typing.SupportsIndex, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
    ...
def clamp(x: typing.Any, min: float | int | bool | None = None, max: float | int | bool | None = None) -> Tensor:
    """
    Limits every element to [min, max]; either bound may be None, not both. Bounds promote the dtype as PyTorch's (an integer tensor with a float bound gives float32).
    """
def clamp_backward(grad: typing.Any, x: typing.Any, min: typing.SupportsFloat | typing.SupportsIndex | None = None, max: typing.SupportsFloat | typing.SupportsIndex | None = None) -> Tensor:
    """
    grad where min <= x <= max (an absent bound always holds), else 0; NaN x gives 0.
    """
def clone(arg0: Tensor) -> Tensor:
    ...
def contiguous(arg0: Tensor) -> Tensor:
    ...
def conv1d(x: Tensor, weight: Tensor, bias: Tensor | None, stride: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], padding: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dilation: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], groups: typing.SupportsInt | typing.SupportsIndex, channels_last: bool) -> Tensor:
    """
    1-d convolution plus bias (or None). channels_last=False: x (N, C_in, L), weight (C_out, C_in/groups, k); True: x (N, L, C_in), weight (k, C_in/groups, C_out). stride, dilation: (s,); padding: (p,) or (left, right).
    """
def conv1d_backward(grad: Tensor, x: Tensor, weight: Tensor, stride: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], padding: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dilation: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], groups: typing.SupportsInt | typing.SupportsIndex, channels_last: bool, need_input: bool, need_weight: bool, need_bias: bool) -> tuple:
    """
    (grad_x, grad_weight, grad_bias) of conv1d from the output's gradient; None where not asked for.
    """
def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None, stride: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], padding: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dilation: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], groups: typing.SupportsInt | typing.SupportsIndex, channels_last: bool) -> Tensor:
    """
    2-d convolution (cross-correlation) plus bias (or None). channels_last=False: x (N, C_in, H, W), weight (C_out, C_in/groups, kh, kw) -> (N, C_out, OH, OW); True: x (N, H, W, C_in), weight (kh, kw, C_in/groups, C_out) -> (N, OH, OW, C_out). stride, dilation: (h, w); padding: (h, w) or (top, bottom, left, right).
    """
def conv2d_backward(grad: Tensor, x: Tensor, weight: Tensor, stride: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], padding: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dilation: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], groups: typing.SupportsInt | typing.SupportsIndex, channels_last: bool, need_input: bool, need_weight: bool, need_bias: bool) -> tuple:
    """
    (grad_x, grad_weight, grad_bias) of conv2d from the output's gradient; None where not asked for.
    """
def copy_(arg0: Tensor, arg1: Tensor) -> Tensor:
    ...
def cos(x: typing.Any) -> Tensor:
    """
    Cosine (radians); integer inputs give the default float dtype.
    """
def cpu_best_capability() -> str:
    """
    The best SIMD path this CPU supports.
    """
def cpu_capability() -> str:
    """
    The SIMD path in use: 'default', 'avx2' or 'avx512' (EMBER_CPU_CAPABILITY clamps it).
    """
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: typing.SupportsInt | typing.SupportsIndex = -100, reduction: str = 'mean', label_smoothing: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> tuple[Tensor, Tensor]:
    """
    Softmax cross-entropy of logits (N, C, ...) or (C,) against int64 class indices (N, ...) or class
    probabilities (the input's shape), as torch.nn.functional.cross_entropy. Returns (loss, row_max):
    row_max, the largest logit of each row, is what cross_entropy_backward needs besides the inputs.
    """
def cross_entropy_backward(grad: Tensor, input: Tensor, target: Tensor, row_max: Tensor, weight: Tensor | None = None, ignore_index: typing.SupportsInt | typing.SupportsIndex = -100, reduction: str = 'mean', label_smoothing: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> Tensor:
    """
    d(cross_entropy)/d(input) times grad: (softmax - target distribution) * scale per row.
    """
def cuda_device_count() -> int:
    ...
def cuda_empty_cache() -> None:
    ...
def cuda_is_built() -> bool:
    ...
def cuda_memory_allocated(arg0: typing.SupportsInt | typing.SupportsIndex) -> int:
    ...
def cuda_memory_reserved(arg0: typing.SupportsInt | typing.SupportsIndex) -> int:
    ...
def cuda_synchronize(arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
    ...
def cuda_unavailable_reason() -> str:
    ...
def div(a: typing.Any, b: typing.Any) -> Tensor:
    """
    True division a / b; integer operands give float32.
    """
def div_(a: typing.Any, b: typing.Any) -> typing.Any:
    """
    a /= b in place (a must be a float tensor); returns a.
    """
def dropout(x: typing.Any, p: typing.SupportsFloat | typing.SupportsIndex = 0.5, seed: typing.SupportsInt | typing.SupportsIndex | None = None, first_block: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple[Tensor, Tensor]:
    """
    (out, mask): mask keeps each element with probability 1 - p (a bool tensor from the global generator, or with seed from blocks first_block, ... of that seed's stream: ceil(numel / 4) of them), out = x * mask / (1 - p); p == 1 gives zeros.
    """
def dropout_backward(grad: typing.Any, mask: typing.Any, p: typing.SupportsFloat | typing.SupportsIndex) -> Tensor:
    """
    grad * mask / (1 - p), the gradient of dropout with its saved mask; 0 for p == 1.
    """
def elu(x: typing.Any, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    x for x > 0, else alpha * (e**x - 1).
    """
def elu_backward(grad: typing.Any, x: typing.Any, alpha: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    grad where x > 0, else grad * alpha * e**x (x: elu's input; NaN gives NaN).
    """
def embedding(weight: Tensor, indices: Tensor) -> Tensor:
    """
    weight (num_embeddings, dim) rows picked by integer indices (*) -> (*, dim); IndexError for ids outside the table.
    """
def embedding_backward(grad: Tensor, indices: Tensor, num_weights: typing.SupportsInt | typing.SupportsIndex, padding_idx: typing.SupportsInt | typing.SupportsIndex | None = None, scale_grad_by_freq: bool = False) -> Tensor:
    """
    (num_weights, dim): grad (*, dim) rows added into the rows their ids name (repeats add up); the padding_idx row gets none.
    """
def embedding_renorm_(weight: Tensor, indices: Tensor, max_norm: typing.SupportsFloat | typing.SupportsIndex, norm_type: typing.SupportsFloat | typing.SupportsIndex = 2.0) -> Tensor:
    """
    In place: rows of weight named by indices with a norm_type-norm above max_norm are scaled to max_norm.
    """
def empty(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: numpy.dtype[typing.Any], arg2: typing.Any) -> Tensor:
    ...
def eq(a: typing.Any, b: typing.Any) -> Tensor:
    """
    a == b as a bool tensor.
    """
def exp(x: typing.Any) -> Tensor:
    """
    e**x elementwise; integer inputs give the default float dtype.
    """
def exp_(x: typing.Any) -> typing.Any:
    """
    In-place exp (float tensors); returns x.
    """
def expand(arg0: Tensor, arg1: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    ...
def eye(arg0: typing.SupportsInt | typing.SupportsIndex, arg1: typing.SupportsInt | typing.SupportsIndex | None, arg2: numpy.dtype[typing.Any], arg3: typing.Any) -> Tensor:
    ...
def flatten(arg0: Tensor, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    ...
def floor_divide(a: typing.Any, b: typing.Any) -> Tensor:
    """
    floor(a / b) as Python's //; integers by zero: ZeroDivisionError.
    """
def from_dlpack_capsule(capsule: typing_extensions.CapsuleType) -> Tensor:
    ...
def from_numpy(array: numpy.ndarray) -> Tensor:
    """
    Zero-copy view of a NumPy array.
    """
def full(arg0: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], arg1: float | int | bool, arg2: numpy.dtype[typing.Any], arg3: typing.Any) -> Tensor:
    ...
def gather(x: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor) -> Tensor:
    ...
def ge(a: typing.Any, b: typing.Any) -> Tensor:
    """
    a >= b as a bool tensor.
    """
def gelu(x: typing.Any, approximate: str = 'none') -> Tensor:
    """
    x * Phi(x) (approximate='none') or its tanh approximation (approximate='tanh').
    """
def gelu_backward(grad: typing.Any, x: typing.Any, approximate: str = 'none') -> Tensor:
    """
    grad * d gelu(x) / dx, for approximate='none' (erf) or 'tanh', as PyTorch's gelu_backward.
    """
def get_num_threads() -> int:
    ...
def getitem(arg0: Tensor, arg1: typing.Any) -> Tensor:
    """
    x[index] with NumPy's rules: a view for basic indices, a new tensor for arrays and masks.
    """
def gt(a: typing.Any, b: typing.Any) -> Tensor:
    """
    a > b as a bool tensor.
    """
def huber_loss(input: Tensor, target: Tensor, reduction: str = 'mean', delta: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    0.5 d^2 where |d| < delta, else delta (|d| - delta / 2), d = input - target; delta > 0.
    """
def huber_loss_backward(grad: Tensor, input: Tensor, target: Tensor, reduction: str = 'mean', delta: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    d(huber_loss)/d(input) times grad: d clamped to [-delta, delta].
    """
def index_put_(x: typing.Any, indices: typing.Any, values: typing.Any, accumulate: bool = False) -> typing.Any:
    """
    x[indices] = values (accumulate=False) or x[indices] += values counting repeated positions once each.
    """
def index_select(x: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor) -> Tensor:
    ...
def initial_seed() -> int:
    """
    The seed of the global generator.
    """
def keras_adagrad_step(variables: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], accumulators: collections.abc.Sequence[Tensor], learning_rate: typing.SupportsFloat | typing.SupportsIndex, epsilon: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex = 0.0, clipnorm: typing.SupportsFloat | typing.SupportsIndex = 0.0, clipvalue: typing.SupportsFloat | typing.SupportsIndex = 0.0, global_clipnorm: typing.SupportsFloat | typing.SupportsIndex = 0.0, no_weight_decay: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] = []) -> None:
    """
    One Keras Adagrad step over variables, in place (accumulators start at
    initial_accumulator_value).
    """
def keras_adam_step(variables: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], momentums: collections.abc.Sequence[Tensor], velocities: collections.abc.Sequence[Tensor], velocity_hats: collections.abc.Sequence[Tensor], step: typing.SupportsFloat | typing.SupportsIndex, learning_rate: typing.SupportsFloat | typing.SupportsIndex, beta_1: typing.SupportsFloat | typing.SupportsIndex, beta_2: typing.SupportsFloat | typing.SupportsIndex, epsilon: typing.SupportsFloat | typing.SupportsIndex, amsgrad: bool, weight_decay: typing.SupportsFloat | typing.SupportsIndex = 0.0, clipnorm: typing.SupportsFloat | typing.SupportsIndex = 0.0, clipvalue: typing.SupportsFloat | typing.SupportsIndex = 0.0, global_clipnorm: typing.SupportsFloat | typing.SupportsIndex = 0.0, no_weight_decay: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] = []) -> None:
    """
    One Keras Adam (AdamW with weight_decay) step over variables, in place. step is the 1-based
    number of this step (iterations + 1); velocity_hats is used only with amsgrad.
    """
def keras_rmsprop_step(variables: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], velocities: collections.abc.Sequence[Tensor], average_gradients: collections.abc.Sequence[Tensor], momentums: collections.abc.Sequence[Tensor], learning_rate: typing.SupportsFloat | typing.SupportsIndex, rho: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex, epsilon: typing.SupportsFloat | typing.SupportsIndex, centered: bool, weight_decay: typing.SupportsFloat | typing.SupportsIndex = 0.0, clipnorm: typing.SupportsFloat | typing.SupportsIndex = 0.0, clipvalue: typing.SupportsFloat | typing.SupportsIndex = 0.0, global_clipnorm: typing.SupportsFloat | typing.SupportsIndex = 0.0, no_weight_decay: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] = []) -> None:
    """
    One Keras RMSprop step over variables, in place. average_gradients is used only when
    centered, momentums only with momentum > 0.
    """
def keras_sgd_step(variables: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], momentums: collections.abc.Sequence[Tensor], learning_rate: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex, nesterov: bool, weight_decay: typing.SupportsFloat | typing.SupportsIndex = 0.0, clipnorm: typing.SupportsFloat | typing.SupportsIndex = 0.0, clipvalue: typing.SupportsFloat | typing.SupportsIndex = 0.0, global_clipnorm: typing.SupportsFloat | typing.SupportsIndex = 0.0, no_weight_decay: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] = []) -> None:
    """
    One Keras SGD step over variables, in place. momentums: [] when momentum is 0, else one
    zero-initialised buffer per variable.
    """
def l1_loss(input: Tensor, target: Tensor, reduction: str = 'mean') -> Tensor:
    """
    |input - target| per element, reduced; input and target broadcast.
    """
def l1_loss_backward(grad: Tensor, input: Tensor, target: Tensor, reduction: str = 'mean') -> Tensor:
    """
    d(loss)/d(input) times grad, of the broadcast shape; d/d(target) is its negation.
    """
def layer_norm(x: Tensor, normalized_shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], weight: Tensor | None, bias: Tensor | None, eps: typing.SupportsFloat | typing.SupportsIndex) -> tuple[Tensor, Tensor, Tensor]:
    """
    (out, mean, rstd): x normalised over its trailing normalized_shape dims; mean / rstd are float64 with x's leading dims, for layer_norm_backward.
    """
def layer_norm_backward(grad: Tensor, x: Tensor, normalized_shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], weight: Tensor | None, mean: Tensor, rstd: Tensor, need_input: bool, need_weight: bool, need_bias: bool) -> tuple:
    """
    (grad_x, grad_weight, grad_bias) of layer_norm; None where not asked for.
    """
def le(a: typing.Any, b: typing.Any) -> Tensor:
    """
    a <= b as a bool tensor.
    """
def leaky_relu(x: typing.Any, negative_slope: typing.SupportsFloat | typing.SupportsIndex = 0.01) -> Tensor:
    """
    x for x > 0, else negative_slope * x.
    """
def leaky_relu_backward(grad: typing.Any, x: typing.Any, negative_slope: typing.SupportsFloat | typing.SupportsIndex = 0.01) -> Tensor:
    """
    grad where x > 0, else grad * negative_slope (x = 0 and NaN take the slope, as PyTorch).
    """
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None, activation: str | None = None) -> Tensor:
    """
    activation(x @ weight^T + bias) in one call: the bias and the activation (None, 'relu', 'tanh' or 'sigmoid') are applied by the GEMM as each tile of the output is final.
    """
def linear_backward(grad: Tensor, x: Tensor, weight: Tensor, need_input: bool, need_weight: bool, need_bias: bool, activation: str | None = None, output: Tensor | None = None, grad_weight: Tensor | None = None) -> tuple[typing.Any, typing.Any, typing.Any]:
    """
    (grad_x, grad_weight, grad_bias) of linear; None where not asked for. With an activation, `output` is the forward's result; with grad_weight, the weight gradient is added into it in place (and returned).
    """
def linspace(arg0: typing.SupportsFloat | typing.SupportsIndex, arg1: typing.SupportsFloat | typing.SupportsIndex, arg2: typing.SupportsInt | typing.SupportsIndex, arg3: numpy.dtype[typing.Any], arg4: typing.Any) -> Tensor:
    ...
def log(x: typing.Any) -> Tensor:
    """
    Natural logarithm; integer inputs give the default float dtype.
    """
def log1p(x: typing.Any) -> Tensor:
    """
    log(1 + x), accurate for small x; integer inputs give the default float dtype.
    """
def log_(x: typing.Any) -> typing.Any:
    """
    In-place log (float tensors); returns x.
    """
def log_softmax(x: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    (x - max) - log(sum(exp(x - max))) along dim.
    """
def log_softmax_backward(grad: Tensor, out: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    Gradient of log_softmax along dim from its output: grad - exp(out) * sum(grad, dim).
    """
def logsumexp(x: Tensor, dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None = None, keepdim: bool = False) -> Tensor:
    """
    log(sum(exp(x))) over dims, computed without overflow.
    """
def lt(a: typing.Any, b: typing.Any) -> Tensor:
    """
    a < b as a bool tensor.
    """
def manual_seed(seed: int) -> None:
    """
    Seeds the global generator and rewinds its stream.
    """
def masked_fill(x: Tensor, mask: Tensor, value: typing.Any) -> Tensor:
    ...
def matmul(a: Tensor, b: Tensor) -> Tensor:
    """
    Matrix product with NumPy's matmul semantics (1-D operands, broadcast batch dimensions); float32 or float64, both operands of the same dtype.
    """
def max_dim(x: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, keepdim: bool = False) -> tuple[Tensor, Tensor]:
    """
    (values, int64 indices) of the largest elements along dim.
    """
def max_pool2d(input: Tensor, kernel_size: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], stride: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], padding: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], dilation: typing.Annotated[collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], "FixedSize(2)"], ceil_mode: bool = False, channels_last: bool = False, name: str = 'max_pool2d') -> tuple[Tensor, Tensor]:
    """
    (out, indices) of 2-d max pooling as torch.nn.functional.max_pool2d(..., return_indices=True):
    indices are int64 flat positions ih * W + iw inside each input plane (either layout).
    """
def max_pool2d_backward(grad: Tensor, indices: Tensor, input_shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], channels_last: bool = False) -> Tensor:
    """
    Gradient of max_pool2d with respect to its input: grad added at the positions the indices name.
    """
def maximum(a: typing.Any, b: typing.Any) -> Tensor:
    """
    Elementwise maximum of two tensors (NaN propagates).
    """
def mean(x: Tensor, dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None = None, keepdim: bool = False) -> Tensor:
    """
    Mean over dims (None: all); floating inputs only.
    """
def min_dim(x: Tensor, dim: typing.SupportsInt | typing.SupportsIndex, keepdim: bool = False) -> tuple[Tensor, Tensor]:
    """
    (values, int64 indices) of the smallest elements along dim.
    """
def minimum(a: typing.Any, b: typing.Any) -> Tensor:
    """
    Elementwise minimum of two tensors (NaN propagates).
    """
def mse_loss(input: Tensor, target: Tensor, reduction: str = 'mean') -> Tensor:
    """
    (input - target)^2 per element, reduced; input and target broadcast.
    """
def mse_loss_backward(grad: Tensor, input: Tensor, target: Tensor, reduction: str = 'mean') -> Tensor:
    """
    d(loss)/d(input) times grad, of the broadcast shape; d/d(target) is its negation.
    """
def mul(a: typing.Any, b: typing.Any) -> Tensor:
    """
    a * b (bool: logical and).
    """
def mul_(a: typing.Any, b: typing.Any) -> typing.Any:
    """
    a *= b in place; returns a.
    """
def ne(a: typing.Any, b: typing.Any) -> Tensor:
    """
    a != b as a bool tensor.
    """
def neg(x: typing.Any) -> Tensor:
    """
    -x elementwise; integers stay integers (bool: TypeError).
    """
def neg_(x: typing.Any) -> typing.Any:
    """
    In-place neg; returns x.
    """
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: typing.SupportsInt | typing.SupportsIndex = -100, reduction: str = 'mean') -> Tensor:
    """
    Negative log-likelihood of log-probabilities (N, C, ...) at int64 class indices (N, ...), as
    torch.nn.functional.nll_loss.
    """
def nll_loss_backward(grad: Tensor, input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: typing.SupportsInt | typing.SupportsIndex = -100, reduction: str = 'mean') -> Tensor:
    """
    d(nll_loss)/d(input) times grad: -weight[target] * scale at each target class, 0 elsewhere.
    """
def nonzero(x: Tensor) -> Tensor:
    ...
def permute(arg0: Tensor, arg1: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    ...
def pow(a: typing.Any, b: typing.Any) -> Tensor:
    """
    a ** b; integer tensors to negative integer numbers: ValueError.
    """
def pow_(a: typing.Any, b: typing.Any) -> typing.Any:
    """
    a **= b in place; returns a.
    """
def prod(x: Tensor, dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None = None, keepdim: bool = False) -> Tensor:
    """
    Product over dims (None: all); bool/int inputs give int64.
    """
def rand(shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dtype: numpy.dtype[typing.Any] = ..., device: typing.Any = None) -> Tensor:
    """
    Uniform samples in [0, 1).
    """
def randint(low: typing.SupportsInt | typing.SupportsIndex, high: typing.SupportsInt | typing.SupportsIndex, shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dtype: numpy.dtype[typing.Any] = ..., device: typing.Any = None) -> Tensor:
    """
    Integers uniform in [low, high).
    """
def randn(shape: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], dtype: numpy.dtype[typing.Any] = ..., device: typing.Any = None) -> Tensor:
    """
    Standard normal samples.
    """
def relu(x: typing.Any) -> Tensor:
    """
    max(x, 0) elementwise (NaN stays NaN); integers stay integers.
    """
def relu_(x: typing.Any) -> typing.Any:
    """
    In-place relu; returns x.
    """
def relu_backward(grad: typing.Any, out: typing.Any) -> Tensor:
    """
    grad where out > 0, else 0 (out: relu's result; NaN out passes grad, as PyTorch).
    """
def remainder(a: typing.Any, b: typing.Any) -> Tensor:
    """
    a % b with the sign of b, as Python's %.
    """
def reshape(arg0: Tensor, arg1: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    ...
def rmsprop_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], square_avgs: collections.abc.Sequence[Tensor], grad_avgs: collections.abc.Sequence[Tensor], momentum_buffers: collections.abc.Sequence[Tensor], steps: collections.abc.Sequence[Tensor], lr: typing.SupportsFloat | typing.SupportsIndex, alpha: typing.SupportsFloat | typing.SupportsIndex, eps: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex, centered: bool, maximize: bool) -> None:
    """
    One RMSprop step over params; increments each step count. grad_avgs is used only when
    centered, momentum_buffers only with momentum > 0.
    """
def rnn_backward(cell: str, grad_states: Tensor, states: Tensor, saved: Tensor | None, w_hh: Tensor, reverse: bool = False, activation: str = 'tanh', recurrent_activation: str = 'sigmoid', gate_order: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None = None, mask: Tensor | None = None, need_w_hh: bool = True, need_b_hh: bool = True) -> tuple[Tensor, Tensor, typing.Any, typing.Any, typing.Any]:
    """
    (grad_x_proj, grad_h0, grad_c0, grad_w_hh, grad_b_hh) of rnn_forward from the gradient of its states; grad_c0 for 'lstm' only, the weights' None where not asked for. grad_x_proj is also the gradient of b_ih summed over steps and batch.
    """
def rnn_forward(cell: str, x_proj: Tensor, w_hh: Tensor, b_hh: Tensor | None, h0: Tensor | None, c0: Tensor | None, reverse: bool = False, activation: str = 'tanh', recurrent_activation: str = 'sigmoid', gate_order: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None = None, mask: Tensor | None = None, keep_saved: bool = True) -> tuple[Tensor, typing.Any]:
    """
    (states, saved): one recurrent layer ('rnn', 'lstm' or 'gru' cell) run through x_proj (steps, batch, gates * hidden) = W_ih x + b_ih, from h0 (and c0) (batch, hidden) or zeros. states (S, steps + 1, batch, hidden): plane 0 hidden, plane 1 (lstm) cell states; slot 0 holds h0 and slot t + 1 step t's state (reverse: h0 in slot steps, step t's state in slot t). saved: the gate activations for rnn_backward (None for 'rnn' or without keep_saved). gate_order[q]: the weight block of canonical gate q (lstm i, f, g, o; gru r, z, n); activations 'tanh', 'sigmoid', 'relu', 'hard_sigmoid', 'linear'. mask (steps, batch) bool: where false the step leaves the row's state unchanged (its output slot holds the carried state).
    """
def rsqrt(x: typing.Any) -> Tensor:
    """
    1 / sqrt(x); integer inputs give the default float dtype.
    """
def scatter_add_(x: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex, index: Tensor, src: Tensor) -> typing.Any:
    ...
def set_default_float_dtype(arg0: ...) -> None:
    ...
def set_num_threads(arg0: typing.SupportsInt | typing.SupportsIndex) -> None:
    ...
def setitem(arg0: Tensor, arg1: typing.Any, arg2: typing.Any) -> None:
    """
    x[index] = value, writing through to x's memory.
    """
def sgd_step(params: collections.abc.Sequence[Tensor], grads: collections.abc.Sequence[Tensor], momentum_buffers: collections.abc.Sequence[Tensor | None], lr: typing.SupportsFloat | typing.SupportsIndex, momentum: typing.SupportsFloat | typing.SupportsIndex, dampening: typing.SupportsFloat | typing.SupportsIndex, weight_decay: typing.SupportsFloat | typing.SupportsIndex, nesterov: bool, maximize: bool) -> list[Tensor | None]:
    """
    One SGD step over params. momentum_buffers: [] without momentum, else one per parameter (None
    where none exists yet). Returns, with momentum, each parameter's new buffer or None where one
    was given; [] without momentum.
    """
def sigmoid(x: typing.Any) -> Tensor:
    """
    1 / (1 + e**-x), stable for large |x|; integer inputs give the default float dtype.
    """
def sigmoid_(x: typing.Any) -> typing.Any:
    """
    In-place sigmoid (float tensors); returns x.
    """
def sigmoid_backward(grad: typing.Any, out: typing.Any) -> Tensor:
    """
    grad * (1 - out) * out (out: sigmoid's result).
    """
def sign(x: typing.Any) -> Tensor:
    """
    -1, 0 or 1 by the sign of each element (NaN stays NaN).
    """
def silu(x: typing.Any) -> Tensor:
    """
    x * sigmoid(x) (float tensors).
    """
def silu_backward(grad: typing.Any, x: typing.Any) -> Tensor:
    """
    grad * s * (1 + x * (1 - s)), s = sigmoid(x).
    """
def sin(x: typing.Any) -> Tensor:
    """
    Sine (radians); integer inputs give the default float dtype.
    """
def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = 'mean', beta: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    0.5 d^2 / beta where |d| < beta, else |d| - beta / 2, d = input - target; beta = 0 is L1.
    """
def smooth_l1_loss_backward(grad: Tensor, input: Tensor, target: Tensor, reduction: str = 'mean', beta: typing.SupportsFloat | typing.SupportsIndex = 1.0) -> Tensor:
    """
    d(smooth_l1_loss)/d(input) times grad: d / beta clamped to [-1, 1].
    """
def softmax(x: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    exp(x - max) / sum along dim.
    """
def softmax_backward(grad: Tensor, out: Tensor, dim: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    """
    Gradient of softmax along dim from its output: out * (grad - sum(grad * out, dim)).
    """
def softplus(x: typing.Any, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, threshold: typing.SupportsFloat | typing.SupportsIndex = 20.0) -> Tensor:
    """
    log(1 + e**(beta x)) / beta, and x where beta x > threshold.
    """
def softplus_backward(grad: typing.Any, x: typing.Any, beta: typing.SupportsFloat | typing.SupportsIndex = 1.0, threshold: typing.SupportsFloat | typing.SupportsIndex = 20.0) -> Tensor:
    """
    grad where x * beta > threshold, else grad * sigmoid(beta * x).
    """
def split(x: Tensor, split_size_or_sections: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple:
    ...
def sqrt(x: typing.Any) -> Tensor:
    """
    Square root; integer inputs give the default float dtype.
    """
def sqrt_(x: typing.Any) -> typing.Any:
    """
    In-place sqrt (float tensors); returns x.
    """
def squeeze(arg0: Tensor, arg1: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None) -> Tensor:
    ...
def stack(tensors: typing.Any, dim: typing.SupportsInt | typing.SupportsIndex = 0) -> Tensor:
    ...
def std(x: Tensor, dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None = None, correction: typing.SupportsFloat | typing.SupportsIndex = 1.0, keepdim: bool = False) -> Tensor:
    """
    Standard deviation: the square root of var.
    """
def sub(a: typing.Any, b: typing.Any) -> Tensor:
    """
    a - b (bool operands: TypeError).
    """
def sub_(a: typing.Any, b: typing.Any) -> typing.Any:
    """
    a -= b in place; returns a.
    """
def sum(x: Tensor, dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None = None, keepdim: bool = False) -> Tensor:
    """
    Sum over dims (None: all); bool/int inputs give int64.
    """
def tanh(x: typing.Any) -> Tensor:
    """
    Hyperbolic tangent; integer inputs give the default float dtype.
    """
def tanh_(x: typing.Any) -> typing.Any:
    """
    In-place tanh (float tensors); returns x.
    """
def tanh_backward(grad: typing.Any, out: typing.Any) -> Tensor:
    """
    grad * (1 - out * out) (out: tanh's result).
    """
def to_device(arg0: Tensor, arg1: typing.Any) -> Tensor:
    ...
def to_dlpack(tensor: Tensor, versioned: bool) -> typing.Any:
    ...
def to_dtype(arg0: Tensor, arg1: numpy.dtype[typing.Any]) -> Tensor:
    ...
def transpose(arg0: Tensor, arg1: typing.SupportsInt | typing.SupportsIndex, arg2: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    ...
def unsqueeze(arg0: Tensor, arg1: typing.SupportsInt | typing.SupportsIndex) -> Tensor:
    ...
def var(x: Tensor, dims: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex] | None = None, correction: typing.SupportsFloat | typing.SupportsIndex = 1.0, keepdim: bool = False) -> Tensor:
    """
    Variance over dims with sum((x - mean)^2) / (N - correction).
    """
def view(arg0: Tensor, arg1: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex]) -> Tensor:
    ...
def where(condition: typing.Any, x: typing.Any, y: typing.Any) -> Tensor:
    """
    Elements of x where condition (a bool tensor) holds, else of y; tensors or numbers, broadcast.
    """

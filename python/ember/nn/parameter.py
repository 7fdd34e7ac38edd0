"""Parameter: a tensor that a Module registers as trainable state.

ember.Tensor is the extension's own type and cannot usefully be subclassed, so a Parameter is an
ordinary ember.Tensor: a detached alias of the data (same memory) that carries the mark
`_is_param = True` and requires grad. `Parameter` itself is a factory whose metaclass answers
`isinstance(x, Parameter)` from that mark, so code written for PyTorch (`isinstance(v, nn.Parameter)`)
works unchanged, and autograd sees a plain leaf tensor.

Because a Parameter has no class of its own, the Tensor behaviours that must tell a parameter apart
(repr and str print PyTorch's "Parameter containing:" header; pickling must bring the mark back) are
extended below to look at the mark; for every other tensor they delegate to the original methods
unchanged. deepcopy needs nothing: Tensor.__deepcopy__ copies a tensor's attributes, the mark included.
"""
from .. import _C

Tensor = _C.Tensor

__all__ = ["Parameter"]


def _is_param(obj):
    return type(obj) is Tensor and obj.__dict__.get("_is_param", False)


class _ParameterMeta(type):
    def __instancecheck__(cls, obj):
        return _is_param(obj)


class Parameter(metaclass=_ParameterMeta):
    """Parameter(data=None, requires_grad=True): an ember.Tensor marked as a module parameter.

    It shares memory with `data` (like torch.nn.Parameter) but has no autograd history of its own:
    it is a leaf. `data=None` gives an empty float tensor. The result's type is ember.Tensor;
    `isinstance(p, ember.nn.Parameter)` tells parameters apart.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from .. import empty
            data = empty(0)
        if type(data) is not Tensor:
            raise TypeError(f"Parameter: data must be an ember.Tensor, got {type(data).__name__}; "
                            "convert first with ember.tensor(...)")
        param = _C.alias(data)
        param._is_param = True
        if requires_grad and not data.dtype.is_floating_point:
            raise RuntimeError(f"Parameter: only floating-point tensors can require gradients, got {data.dtype}; "
                               "pass requires_grad=False or convert the data with .float()")
        param.requires_grad_(bool(requires_grad))
        return param


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


# ---- Tensor behaviours that differ for parameters ------------------------------------------------------

def _repr(self):
    text = _tensor_repr(self)
    return "Parameter containing:\n" + text if _is_param(self) else text


def _str(self):
    text = _tensor_str(self)
    return "Parameter containing:\n" + text if _is_param(self) else text


def _reduce(self):
    """A parameter pickles as its values plus requires_grad and comes back a parameter."""
    if _is_param(self):
        return _rebuild_parameter, (_C.alias(self), self.requires_grad)
    return _tensor_reduce(self)


# Installed once, even if this module is executed again (importlib.reload): wrapping a wrapper would
# print the header twice.
if not getattr(Tensor.__repr__, "_parameter_aware", False):
    _tensor_repr, _tensor_str = Tensor.__repr__, Tensor.__str__
    _tensor_reduce = Tensor.__reduce__
    for _name, _fn in (("__repr__", _repr), ("__str__", _str), ("__reduce__", _reduce)):
        _fn._parameter_aware = True
        setattr(Tensor, _name, _fn)
    del _name, _fn

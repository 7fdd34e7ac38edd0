"""Module: the base class of layers and models, with PyTorch's registration and traversal rules.

Assigning a Parameter, a Module or (through register_buffer) a tensor to a module attribute registers
it in `_parameters`, `_modules` or `_buffers`; every traversal (parameters(), state_dict(), train(),
to(), repr) walks those three ordered dicts, children before grandchildren, in assignment order, so
names and orders match PyTorch's for the same structure (e.g. "encoder.0.weight").
"""
import itertools
from collections import OrderedDict, namedtuple

import numpy as np

from .. import _C
from .. import _dtype
from ..autograd import no_grad
from .parameter import Parameter

Tensor = _C.Tensor

__all__ = ["Module", "RemovableHandle"]


def _typename(obj):
    if type(obj) is Tensor:
        return "ember.nn.Parameter" if isinstance(obj, Parameter) else "ember.Tensor"
    cls = type(obj)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _addindent(text, n_spaces):
    """Indents every line but the first (a child's repr nested under "(name): ")."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * n_spaces + line for line in lines[1:])


class RemovableHandle:
    """Returned by the register_*_hook methods: `handle.remove()` unregisters the hook (also usable as
    a context manager, which removes it on exit)."""
    _next_id = itertools.count()

    def __init__(self, hooks, *extra):
        self.id = next(RemovableHandle._next_id)
        self._dicts = (hooks,) + extra

    def remove(self):
        for d in self._dicts:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns: the keys it expected but did not find, and those it did not use."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _checkpoint_tensor(value):
    """A state_dict value as an ember tensor: ember tensors as they are, NumPy arrays and PyTorch (or
    other array-library) tensors converted; None when the value is not array-like."""
    if type(value) is Tensor:
        return value
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, possibly requiring grad
        value = value.detach().cpu()
    if isinstance(value, (np.ndarray, np.generic)) or hasattr(value, "__array__"):
        arr = np.asarray(value)
        if arr.dtype.kind == "f" and arr.dtype not in (np.float32, np.float64):
            arr = arr.astype(np.float32)  # float16 checkpoints: widened here, cast to the parameter's dtype below
        elif arr.dtype.kind in "iu" and arr.dtype not in (np.int32, np.int64):
            arr = arr.astype(np.int64)
        if arr.dtype.kind in "biuf":
            return _C.from_numpy(np.array(arr, order="C"))  # our own copy: later edits of the source stay out
    return None


class Module:
    """Base class of every layer and model: subclass it, create parameters and submodules in
    __init__ (after super().__init__()) and define forward(); call the module, not forward."""
    _version = 1
    training: bool

    def __init__(self):
        # object.__setattr__: these are the registries __setattr__ itself needs
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks_with_kwargs", {})
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks_with_kwargs", {})
        object.__setattr__(self, "_forward_hooks_always_called", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    # ---- registration ----------------------------------------------------------------------------
    def _check_new_name(self, name, kind, registry):
        if registry not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {_typename(name)}")
        if "." in name:
            raise KeyError(f"{kind} name cannot contain '.', got {name}")
        if name == "":
            raise KeyError(f"{kind} name cannot be the empty string")
        if hasattr(self, name) and name not in self.__dict__[registry]:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        """Adds a parameter (or None, a placeholder that traversals skip) under `name`."""
        self._check_new_name(name, "parameter", "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(ember.nn.Parameter or None required)")
        self._parameters[name] = param
        # Mirrored in the instance dict so that reading self.weight is a plain attribute lookup
        # (forward reads every parameter on every call); __setattr__, __delattr__ and _apply keep
        # the two in step.
        self.__dict__[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Adds a tensor that is module state but not a parameter (e.g. running statistics). A
        non-persistent buffer is left out of state_dict()."""
        self._check_new_name(name, "buffer", "_buffers")
        if tensor is not None and type(tensor) is not Tensor:
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(ember.Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Adds a child module (or None) under `name`."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        self._check_new_name(name, "module", "_modules")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at a dotted path such as "encoder.0" ("" is the module itself)."""
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if not isinstance(child, Module):
                raise AttributeError(f"{module._get_name()} has no submodule `{part}` (looking up `{target}`)")
            module = child
        return module

    def get_parameter(self, target):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._parameters:
            raise AttributeError(f"{module._get_name()} has no parameter `{name}` (looking up `{target}`)")
        return module._parameters[name]

    def get_buffer(self, target):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._buffers:
            raise AttributeError(f"{module._get_name()} has no buffer `{name}` (looking up `{target}`)")
        return module._buffers[name]

    def __getattr__(self, name):
        # only reached when normal lookup fails: the registries hold the registered names
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, "_buffers", "_modules")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' (ember.nn.Parameter "
                                "or None expected; wrap a tensor with ember.nn.Parameter(t))")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if d.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, "_parameters", "_buffers")
            self._modules[name] = value
        elif name in d.get("_modules", ()):
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(ember.nn.Module or None expected)")
            self._modules[name] = value
        elif name in d.get("_buffers", ()):
            if value is not None and type(value) is not Tensor:
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' (ember.Tensor or None "
                                "expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, *registries):
        """Drops `name` from the instance dict and the given registries (before re-registering it)."""
        d = self.__dict__
        d.pop(name, None)
        for registry in registries:
            d[registry].pop(name, None)
        if "_buffers" in registries:
            self._non_persistent_buffers_set.discard(name)

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
            self.__dict__.pop(name, None)
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = itertools.chain(dir(type(self)), self.__dict__, self._parameters, self._modules, self._buffers)
        return sorted({k for k in keys if not k[0].isdigit()})

    # ---- traversal ---------------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every descendant, depth first, each once."""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self, remove_duplicate=True):
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()  # ids: == on tensors is elementwise
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, parameter) pairs; a parameter shared by several modules comes once, under its
        first name."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def apply(self, fn):
        """Calls fn(module) on every child (recursively), then on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients -----------------------------------------------------------------------
    def train(self, mode=True):
        """Sets training mode (True) or evaluation mode (False) on this module and its descendants."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: training mode is expected to be a bool, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Turns gradient recording on or off for every parameter (e.g. to freeze a backbone)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clears the parameters' gradients: sets .grad to None, or fills it with zeros."""
        with no_grad():
            for param in self.parameters():
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    if param.grad.grad_fn is not None:
                        param.grad.detach_()
                    param.grad.zero_()

    # ---- conversion -----------------------------------------------------------------------------------
    def _apply(self, fn, memo=None):
        """Replaces every parameter and buffer t by fn(t). A parameter that fn returns unchanged keeps
        its identity; one that changes dtype or device becomes a new Parameter (an ember tensor cannot
        change dtype in place) with the same requires_grad and a converted .grad. A parameter shared
        by several modules is converted once and stays shared."""
        memo = {} if memo is None else memo
        for module in self.children():
            module._apply(fn, memo)
        with no_grad():
            for name, param in self._parameters.items():
                if param is None:
                    continue
                if id(param) not in memo:
                    memo[id(param)] = (param, self._converted_parameter(param, fn))
                self._parameters[name] = self.__dict__[name] = memo[id(param)][1]
            for name, buf in self._buffers.items():
                if buf is not None:
                    self._buffers[name] = fn(buf)
        return self

    @staticmethod
    def _converted_parameter(param, fn):
        new = fn(param)
        if new is param:
            return param
        out = Parameter(new, param.requires_grad)
        if param.grad is not None:
            out.grad = fn(param.grad)
        return out

    def to(self, *args, **kwargs):
        """to(device), to(dtype), to(device, dtype), to(tensor): moves and/or casts the parameters and
        buffers. A dtype applies to floating-point tensors only (integer buffers keep theirs). Returns
        self. Parameters that change become new objects: create optimizers after calling to()."""
        device, dtype = _parse_to(args, kwargs)

        def convert(t):
            return t.to(device=device, dtype=dtype if t.dtype.is_floating_point else None)
        return self._apply(convert)

    def cpu(self):
        return self._apply(lambda t: t.cpu())

    def cuda(self, device=None):
        return self._apply(lambda t: t.cuda(device))

    def float(self):
        return self._apply(lambda t: t.float() if t.dtype.is_floating_point else t)

    def double(self):
        return self._apply(lambda t: t.double() if t.dtype.is_floating_point else t)

    def type(self, dst_type):
        dst_type = _dtype.as_dtype(dst_type, "Module.type")
        return self._apply(lambda t: t.to(dst_type))

    # ---- calling ---------------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(f"forward pre-hook registered with with_kwargs=True must return None or "
                                           f"a tuple (args, kwargs), got {result!r}")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        try:
            output = self.forward(*args, **kwargs)
        except Exception:
            for hook_id, hook in list(self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called:
                    self._run_forward_hook(hook_id, hook, args, kwargs, None)
            raise
        for hook_id, hook in list(self._forward_hooks.items()):
            result = self._run_forward_hook(hook_id, hook, args, kwargs, output)
            if result is not None:
                output = result
        return output

    def _run_forward_hook(self, hook_id, hook, args, kwargs, output):
        if hook_id in self._forward_hooks_with_kwargs:
            return hook(self, args, kwargs, output)
        return hook(self, args, output)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) runs before forward; a non-None result replaces the positional args
        (a single value is wrapped in a tuple). with_kwargs=True: hook(module, args, kwargs) returns
        None or (args, kwargs)."""
        handle = RemovableHandle(self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) runs after forward; a non-None result replaces the output.
        with_kwargs=True: hook(module, args, kwargs, output). always_call=True: also runs (with output
        None) when forward raises."""
        handle = RemovableHandle(self._forward_hooks, self._forward_hooks_with_kwargs,
                                 self._forward_hooks_always_called)
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    # ---- state_dict --------------------------------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An OrderedDict from dotted names to the parameters and persistent buffers, detached (sharing
        memory with the module's tensors; keep_vars=True gives the parameters themselves)."""
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Copies this module's own entries (not its children's) from state_dict, collecting problems."""
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(), persistent.items())
                       if v is not None}
        for name, current in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = _checkpoint_tensor(state_dict[key])
            if value is None:
                error_msgs.append(f'While copying the parameter named "{key}", expected an ember.Tensor, a NumPy '
                                  f"array or a torch.Tensor from the checkpoint but received "
                                  f"{_typename(state_dict[key])}")
                continue
            if current.ndim == 0 and value.shape == (1,):
                value = value.reshape(())
            if value.shape != current.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape {value.shape} from "
                                  f"checkpoint, the shape in current model is {current.shape}.")
                continue
            try:
                with no_grad():
                    current.copy_(value)
            except Exception as exc:  # noqa: BLE001 -- reported with every other problem below
                error_msgs.append(f'While copying the parameter named "{key}" (shape {current.shape} in the model, '
                                  f"{value.shape} in the checkpoint) an exception occurred: {exc}")
        if strict:
            for key in state_dict:
                if not key.startswith(prefix):
                    continue
                head = key[len(prefix):].split(".", 1)
                if (head[0] not in self._modules) if len(head) > 1 else (head[0] not in local_state):
                    unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True):
        """Copies values from state_dict into the parameters and buffers, in place (their identity is
        kept, so optimizers holding them stay valid). Values may be ember tensors, NumPy arrays or
        PyTorch tensors; they are cast to each parameter's dtype. Returns (missing_keys,
        unexpected_keys); with strict=True either being non-empty raises, and a shape mismatch raises
        always, in one RuntimeError that lists every problem."""
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict: expected a dict-like state_dict, got {_typename(state_dict)}")
        missing, unexpected, errors = [], [], []
        state_dict = OrderedDict(state_dict)

        def load(module, local, prefix):
            module._load_from_state_dict(local, prefix, {}, True, missing, unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    load(child, {k: v for k, v in local.items() if k.startswith(child_prefix)}, child_prefix)

        load(self, state_dict, "")
        if strict:
            quoted = lambda keys: ", ".join(f'"{k}"' for k in keys)  # noqa: E731
            if unexpected:
                errors.insert(0, f"Unexpected key(s) in state_dict: {quoted(unexpected)}. ")
            if missing:
                errors.insert(0, f"Missing key(s) in state_dict: {quoted(missing)}. ")
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(type(self).__name__,
                                                                                   "\n\t".join(errors)))
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ------------------------------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The module's own settings for its repr; override to show constructor arguments."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


def _parse_to(args, kwargs):
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"Module.to: unexpected keyword argument(s) {sorted(kwargs)}")
    for a in args:
        if type(a) is Tensor:
            device, dtype = a.device, a.dtype
        elif isinstance(a, (str, _C.device)):
            device = a
        elif a is not None:
            dtype = a
    if dtype is not None:
        dtype = _dtype.as_dtype(dtype, "Module.to")
        if not dtype.is_floating_point:
            raise TypeError(f"Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
    return device, dtype

"""The optimizer base class: parameter groups, per-parameter state, zero_grad, and state_dict /
load_state_dict in PyTorch's format."""
import copy
import itertools
from collections import defaultdict

from .. import _C, _dtype
from ..creation import from_dlpack
from ..tensor import Tensor


class _RequiredParameter:
    """Marks a hyper-parameter that every parameter group must set (it has no default)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj):
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _scalar_dtype():
    """The dtype of step counters, as PyTorch picks it: float64 when that is the default dtype."""
    return _dtype.float64 if _dtype.get_default_dtype() == _dtype.float64 else _dtype.float32


def _zeros_like(p):
    return _C.full(list(p.shape), 0.0, p.dtype, p.device)


def _full_like(p, value):
    return _C.full(list(p.shape), value, p.dtype, p.device)


def _new_step():
    return _C.full([], 0.0, _scalar_dtype(), None)


def _as_ember(value):
    """An ember tensor for a tensor of another library (PyTorch, NumPy: anything with __dlpack__);
    anything else unchanged."""
    if isinstance(value, Tensor) or not hasattr(value, "__dlpack__"):
        return value
    return from_dlpack(value)


class Optimizer:
    """Base class of ember's optimizers, with PyTorch's interface.

    params is an iterable of tensors, or of dicts that each define a parameter group: a "params"
    entry (the group's tensors) plus any hyper-parameters that differ from `defaults` for that
    group. Every parameter must be a floating-point leaf tensor that requires gradients, and may
    appear only once. Subclasses implement step(); the state of each parameter lives in
    `state[param]` (a dict), created on its first step.

    Attributes: defaults (the constructor's hyper-parameters), param_groups (a list of dicts),
    state (per-parameter dicts, keyed by the parameter tensor).
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got ember.Tensor; wrap it in a list: [tensor]")
        try:
            param_groups = list(params)
        except TypeError:
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {_typename(params)}") from None
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ---- parameter groups --------------------------------------------------------------------------

    def add_param_group(self, param_group):
        """Adds a parameter group (a dict with a "params" entry and optional hyper-parameters);
        options it does not set take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry holding its tensors")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            params = [p[1] for p in params]
        group_index = len(self.param_groups)
        for i, p in enumerate(params):
            self._check_param(p, group_index, i)

        group = dict(param_group)
        group["params"] = params
        if names:
            group["param_names"] = names
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)

        seen = {}
        for i, p in enumerate(params):
            if id(p) in seen:
                raise ValueError(f"optimizer got the same tensor twice: parameters {seen[id(p)]} and {i} of "
                                 f"parameter group {group_index} (shape {p.shape}); pass each parameter once")
            seen[id(p)] = i
        for other in self.param_groups:
            if any(id(p) in seen for p in other["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
            if ("param_names" in other) != ("param_names" in group):
                which = "with names" if "param_names" in group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        self.param_groups.append(group)

    @staticmethod
    def _check_param(p, group_index, i):
        where = f"parameter {i} of parameter group {group_index}"
        if not isinstance(p, Tensor):
            raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(p)} ({where})")
        if not p.dtype.is_floating_point:
            raise TypeError(f"optimizer can only optimize floating-point tensors, but {where} (shape {p.shape}) "
                            f"has dtype {p.dtype}")
        if getattr(p, "grad_fn", None) is not None:
            raise ValueError(f"can't optimize a non-leaf Tensor ({where}, shape {p.shape}); optimize the leaf "
                             "tensors it was computed from")
        if not getattr(p, "requires_grad", False):
            raise ValueError(f"{where} (shape {p.shape}) does not require gradients, so it would never change; "
                             "set requires_grad = True on it, or leave it out of the optimizer")

    # ---- gradients and steps ---------------------------------------------------------------------------

    def zero_grad(self, set_to_none=True):
        """Resets the gradients of every parameter: to None (the default), or to zeros in place
        with set_to_none=False."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = getattr(p, "grad", None)
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if getattr(grad, "grad_fn", None) is not None:
                        grad = p.grad = grad.detach()
                    grad.zero_()

    def step(self, closure=None):
        """Performs one optimization step; returns closure() when a closure (which re-evaluates
        the model and returns the loss) is given, else None."""
        raise NotImplementedError(f"{self.__class__.__name__} does not implement step()")

    def _params_with_grad(self, group):
        """(params, grads): the group's parameters that have a gradient, in order."""
        params, grads = [], []
        for p in group["params"]:
            grad = getattr(p, "grad", None)
            if grad is not None:
                params.append(p)
                grads.append(grad)
        return params, grads

    # ---- state_dict ------------------------------------------------------------------------------------

    def state_dict(self):
        """The optimizer's state in PyTorch's format: {"state": {index: {name: value}},
        "param_groups": [{option: value, ..., "params": [index, ...]}]}, parameters numbered in
        order across groups. State tensors are the optimizer's own (not copies)."""
        index_of = {}
        for p in itertools.chain.from_iterable(g["params"] for g in self.param_groups):
            index_of.setdefault(id(p), len(index_of))
        param_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            param_groups.append(packed)
        state = {(index_of[id(k)] if isinstance(k, Tensor) else k): dict(v) for k, v in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict):
        """Loads a state saved by state_dict() (from ember, or from PyTorch: tensors of other
        libraries are converted). Groups must match this optimizer's in number and size; state
        tensors must have their parameter's shape and are copied, cast to its dtype and device."""
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups ({len(saved_groups)}) "
                             f"than this optimizer ({len(groups)})")
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                                 f"optimizer's group: group {i} has {len(saved['params'])} parameters in the state "
                                 f"dict and {len(group['params'])} in this optimizer")
        param_of = dict(zip(itertools.chain.from_iterable(g["params"] for g in saved_groups),
                            itertools.chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            if index not in param_of:
                state[index] = values
                continue
            param = param_of[index]
            state[param] = {key: self._loaded_value(param, index, key, value) for key, value in values.items()}
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for name, default in self.defaults.items():
                saved.setdefault(name, default)
        self.state = state
        self.param_groups = saved_groups

    @staticmethod
    def _loaded_value(param, index, key, value):
        """An entry of a loaded per-parameter state as the optimizer keeps it: a tensor of its own."""
        value = _as_ember(value)
        if key == "step":
            if isinstance(value, Tensor):
                if value.numel() != 1:
                    raise ValueError(f"loaded state dict has a step count of shape {value.shape} for parameter "
                                     f"{index}; expected one element")
                value = value.item()
            return _C.full([], float(value), _scalar_dtype(), None)
        if not isinstance(value, Tensor):
            return copy.deepcopy(value)
        if tuple(value.shape) != tuple(param.shape):
            raise ValueError(f"loaded state dict has state '{key}' of shape {value.shape} for parameter {index}, "
                             f"but the parameter has shape {param.shape}")
        out = _C.full(list(param.shape), 0.0, param.dtype, param.device)
        return _C.copy_(out, value)


def _run_closure(closure):
    """closure() re-evaluates the model and returns the loss; it records a graph even when step()
    itself runs under no_grad, as in PyTorch."""
    if closure is None:
        return None
    from ..autograd import enable_grad
    with enable_grad():
        return closure()

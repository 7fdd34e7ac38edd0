"""Helpers of the layer machinery: Keras's automatic names, input specs and their checks (with
Keras's messages), shape normalisation, masks carried by tensors, and the automatic config of
user-written layers."""
import inspect
import numbers
import re
import warnings

from ... import _C
from .graph import flatten, is_shape

Tensor = _C.Tensor

__all__ = ["InputSpec", "check_spec", "unique_name", "reset_names", "to_snake_case", "standardize_shape",
           "flatten_shapes", "written_by_user", "auto_config", "attached_mask", "attach_output_masks"]

_name_counts = {}


def unique_name(prefix):
    """'dense', then 'dense_1', 'dense_2', ... (Keras's automatic layer names)."""
    count = _name_counts.get(prefix, 0)
    _name_counts[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names():
    """Restarts the automatic names (what keras.backend.clear_session does for them)."""
    _name_counts.clear()


def to_snake_case(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class InputSpec:
    """What a layer accepts: ndim (exact), min_ndim, max_ndim, and axes {axis: size}."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None, name=None):
        self.dtype, self.name = dtype, name
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.axes = {int(k): v for k, v in (axes or {}).items()}

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in (("ndim", self.ndim), ("max_ndim", self.max_ndim), ("min_ndim", self.min_ndim),
                                        ("axes", self.axes or None)) if v is not None]
        return f"InputSpec({', '.join(parts)})"

    def fast_check(self):
        """(min_ndim, max_ndim, axis, size) for the call path's one-line check, or None when the spec
        needs the full check (several axes)."""
        axes = [(a, v) for a, v in self.axes.items() if v is not None]
        if len(axes) > 1 or self.shape is not None:
            return None
        low, high = self.ndim or self.min_ndim or 0, self.ndim or self.max_ndim or 1 << 30
        if not axes:
            return (low, high, None, None) if low or high != 1 << 30 else (0, 0, None, None)
        axis, size = axes[0]
        return max(low, axis + 1 if axis >= 0 else -axis), high, axis, size


def check_spec(layer_name, index, spec, shape):
    """Raises Keras's ValueError when one input shape breaks one InputSpec."""
    if shape is None or spec is None:
        return
    shape = tuple(shape)
    ndim = len(shape)
    start = f'Input {index} of layer "{layer_name}" is incompatible with the layer: '
    if spec.ndim is not None and ndim != spec.ndim:
        raise ValueError(start + f"expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: {shape}")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(start + f"expected max_ndim={spec.max_ndim}, found ndim={ndim}. Full shape received: {shape}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(start + f"expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape received: {shape}")
    for axis, size in spec.axes.items():
        if size is None:
            continue
        if not -ndim <= axis < ndim:
            raise ValueError(start + f"expected axis {axis} of input shape to have value {size}, but received input "
                             f"with shape {shape}")
        if shape[axis] is not None and shape[axis] != size:
            raise ValueError(start + f"expected axis {axis} of input shape to have value {size}, but received input "
                             f"with shape {shape}")
    if spec.shape is not None:
        for want, got in zip(spec.shape, shape):
            if want is not None and got is not None and want != got:
                raise ValueError(start + f"expected shape={spec.shape}, found shape={shape}")


def standardize_shape(shape, what):
    if shape is None:
        return None
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        return (int(shape),)
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a tuple of ints (None for unknown sizes), got {shape!r}") from None


def flatten_shapes(shapes):
    """The shapes inside a shape or a nesting of shapes, as a flat list."""
    if is_shape(shapes):
        return [tuple(shapes)]
    if isinstance(shapes, dict):
        return [s for key in sorted(shapes) for s in flatten_shapes(shapes[key])]
    return [s for item in shapes for s in flatten_shapes(item)]


def written_by_user(cls, method):
    """Whether the class that defines `method` for cls is outside ember.keras (a user's subclass)."""
    for klass in cls.__mro__:
        if method in klass.__dict__:
            return not klass.__module__.startswith("ember.keras")
    return False


def _json_value(value):
    return value is None or isinstance(value, (bool, int, float, str)) or (
        isinstance(value, (list, tuple)) and all(_json_value(v) for v in value)) or (
        isinstance(value, dict) and all(isinstance(k, str) and _json_value(v) for k, v in value.items()))


def auto_config(layer):
    """A custom layer's constructor arguments, when they are plain JSON values (Keras's automatic config)."""
    args, kwargs = layer._init_arguments
    try:
        bound = inspect.signature(type(layer).__init__).bind(layer, *args, **kwargs)
    except TypeError:
        bound = None
    config = {}
    if bound is not None:
        for name, value in list(bound.arguments.items())[1:]:
            param = inspect.signature(type(layer).__init__).parameters[name]
            if param.kind is param.VAR_KEYWORD:
                config.update(value)
            elif param.kind is not param.VAR_POSITIONAL:
                config[name] = value
    for name, value in config.items():
        if not _json_value(value):
            raise NotImplementedError(f"Layer {type(layer).__name__} was created with argument {name}={value!r}, which "
                                      "cannot be saved automatically; implement get_config() (and from_config() if "
                                      "needed) on the class")
    return config


# ---- masks ---------------------------------------------------------------------------------------------
# As in Keras 3, a mask travels as the `_keras_mask` attribute of the tensor it describes.

def attached_mask(inputs):
    """The mask(s) that earlier layers attached to the input tensor(s): one mask, a list of them
    (None for the unmasked inputs), or None when no input carries one."""
    if type(inputs) is Tensor:
        return getattr(inputs, "_keras_mask", None)
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(t, "_keras_mask", None) if type(t) is Tensor else None for t in inputs]
        return masks if any(m is not None for m in masks) else None
    return None


def attach_output_masks(layer, inputs, outputs, mask):
    """Attaches layer.compute_mask's result to the outputs (Keras 3's rule: an output that already
    carries a mask keeps it); a layer that does not support masking drops the input mask, with
    Keras's warning (once per layer)."""
    if not layer.supports_masking:
        if not layer.__dict__.get("_mask_warned"):
            object.__setattr__(layer, "_mask_warned", True)
            warnings.warn(f"Layer '{layer.name}' (of type {type(layer).__name__}) was passed an input with a mask "
                          "attached to it. However, this layer does not support masking and will therefore destroy "
                          "the mask information. Downstream layers will not see the mask.", UserWarning, stacklevel=5)
        return
    out_masks = layer.compute_mask(inputs, mask)
    if out_masks is None:
        return
    flat_masks = [out_masks] if type(out_masks) is Tensor else flatten(out_masks)
    for out, out_mask in zip(flatten(outputs), flat_masks):
        if type(out) is Tensor and out_mask is not None and not hasattr(out, "_keras_mask"):
            out._keras_mask = out_mask

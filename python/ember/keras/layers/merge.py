"""Merge layers: combine a list of tensors into one (the joins of functional graphs).

Add, Subtract (exactly two inputs), Multiply, Average, Maximum, Minimum work elementwise with NumPy
broadcasting; Concatenate joins along `axis`, the other dims matching.
"""
from ... import functional_ops as _ops
from .base import Layer

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate"]


def _broadcast_dims(a, b, shapes):
    if a is None or b is None:
        return b if a == 1 else a if b == 1 else (a if a is not None else b)
    if a == b or b == 1:
        return a
    if a == 1:
        return b
    raise ValueError(f"Inputs have incompatible shapes. Received shapes {', '.join(str(tuple(s)) for s in shapes)}")


def _as_shape_list(layer, input_shape):
    if not isinstance(input_shape, (list, tuple)) or not input_shape or not all(
            isinstance(s, (list, tuple)) for s in input_shape):
        raise ValueError(f'A merge layer ("{layer.name}") should be called on a list of inputs. Received: '
                         f"input_shape={input_shape}")
    return [tuple(s) for s in input_shape]


class _Merge(Layer):
    _casts_integer_input = True  # computes in float: integer inputs are cast (Layer._convert_input)
    _leaf = True
    _min_inputs = 1
    _exact_inputs = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def _check_count(self, shapes):
        n = len(shapes)
        if self._exact_inputs is not None and n != self._exact_inputs:
            raise ValueError(f'A `{type(self).__name__}` layer ("{self.name}") should be called on exactly '
                             f"{self._exact_inputs} inputs. Received: {n} inputs.")
        if n < self._min_inputs:
            raise ValueError(f'A `{type(self).__name__}` layer ("{self.name}") should be called on a list of at least '
                             f"{self._min_inputs} input(s). Received: {n} inputs.")

    def build(self, input_shape):
        shapes = _as_shape_list(self, input_shape)
        self._check_count(shapes)
        self.compute_output_shape(shapes)  # raises for incompatible shapes
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = _as_shape_list(self, input_shape)
        ndim = max(len(s) for s in shapes)
        out = [1] * ndim
        for s in shapes:
            padded = (1,) * (ndim - len(s)) + s
            out = [_broadcast_dims(a, b, shapes) for a, b in zip(out, padded)]
        return tuple(out)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f'A merge layer ("{self.name}") should be called on a list of inputs. Received: '
                             f"{type(inputs).__name__}")
        self._check_count(inputs)
        return self._merge(list(inputs))


class Add(_Merge):
    """The elementwise sum of the inputs."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """inputs[0] - inputs[1]."""
    _exact_inputs = 2

    def _merge(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """The elementwise product of the inputs."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """The elementwise mean of the inputs."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out / float(len(inputs))


class Maximum(_Merge):
    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = _ops.maximum(out, x)
        return out


class Minimum(_Merge):
    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = _ops.minimum(out, x)
        return out


class Concatenate(_Merge):
    """Joins the inputs along `axis` (the last by default); their other dims must match."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        shapes = _as_shape_list(self, input_shape)
        ndim = len(shapes[0])
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if any(len(s) != ndim for s in shapes) or not 0 <= axis < ndim:
            raise ValueError(f"A `Concatenate` layer should be called on inputs of the same rank, with "
                             f"axis={self.axis} inside it. Received: input_shape={shapes}")
        out = list(shapes[0])
        for s in shapes[1:]:
            for d in range(ndim):
                if d == axis:
                    out[d] = None if out[d] is None or s[d] is None else out[d] + s[d]
                elif out[d] is not None and s[d] is not None and out[d] != s[d]:
                    raise ValueError(f"A `Concatenate` layer requires inputs with matching shapes except for the "
                                     f"concatenation axis. Received: input_shape={shapes}")
                elif out[d] is None:
                    out[d] = s[d]
        return tuple(out)

    def _merge(self, inputs):
        return _ops.cat(inputs, self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def _functional(cls):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)
    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = f"{cls.__name__}(**kwargs)(inputs): the functional form."
    return merge


add, subtract, multiply, average = _functional(Add), _functional(Subtract), _functional(Multiply), _functional(Average)
maximum, minimum, concatenate = _functional(Maximum), _functional(Minimum), _functional(Concatenate)

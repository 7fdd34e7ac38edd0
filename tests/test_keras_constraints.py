"""ember.keras.constraints: each constraint against Keras 3's formula written below in float64 NumPy
(keras/src/constraints/constraints.py), over several shapes and axes; get / serialize /
deserialize; the optimizer applying the constraints after each update (fit, apply_gradients);
the layers' configs and saved models keeping them; the error paths."""
import numpy as np
import pytest

import ember
from ember import keras
from ember.keras import constraints, layers, optimizers
from conftest import FLOAT_DTYPES, NP, TOL, assert_close, noncontiguous

EPSILON = 1e-7  # Keras's backend.epsilon()


# ---- the reference: Keras 3's formulas in float64 NumPy -------------------------------------------------

def ref_norms(w, axis):
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


def ref_max_norm(w, max_value, axis):
    norms = ref_norms(w, axis)
    return w * (np.clip(norms, 0, max_value) / (EPSILON + norms))


def ref_min_max_norm(w, min_value, max_value, rate, axis):
    norms = ref_norms(w, axis)
    desired = rate * np.clip(norms, min_value, max_value) + (1 - rate) * norms
    return w * (desired / (EPSILON + norms))


def ref_unit_norm(w, axis):
    return w / (EPSILON + ref_norms(w, axis))


# (shape, axis): a Dense kernel either way, a Conv2D kernel per filter, several axes, size-1 and
# size-0 dims
SHAPES_AXES = [((7,), 0), ((7, 33), 0), ((7, 33), 1), ((33, 7), -1), ((33, 7), [0, 1]), ((1, 1), 0),
               ((3, 3, 4, 8), [0, 1, 2]), ((2, 3, 129), (0, 2)), ((4, 1, 5), [-1]), ((3, 0), 0), ((0, 5), 0)]


def weight_values(shape, seed=0):
    """Units of very different norms (some above, some below the bounds used here) and one unit of
    zeros, which every norm constraint must keep at zero (epsilon avoids 0 / 0)."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape) * rng.choice([0.01, 0.3, 3.0], size=shape[-1:] or None)
    if w.ndim and w.shape[-1] > 1:
        w[..., 0] = 0.0
    return w


def as_ember(w, dtype, strided):
    w = np.asarray(w, NP[dtype])
    return noncontiguous(w) if strided else ember.from_numpy(np.array(w, order="C"))  # ascontiguousarray makes 0-d 1-d


CASES = [
    (lambda axis: constraints.MaxNorm(0.5, axis=axis), lambda w, axis: ref_max_norm(w, 0.5, axis)),
    (lambda axis: constraints.MaxNorm(axis=axis), lambda w, axis: ref_max_norm(w, 2, axis)),
    (lambda axis: constraints.MinMaxNorm(0.2, 1.0, axis=axis),
     lambda w, axis: ref_min_max_norm(w, 0.2, 1.0, 1.0, axis)),
    (lambda axis: constraints.MinMaxNorm(0.5, 2.0, rate=0.3, axis=axis),
     lambda w, axis: ref_min_max_norm(w, 0.5, 2.0, 0.3, axis)),
    (lambda axis: constraints.UnitNorm(axis=axis), ref_unit_norm),
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_norm_constraints_match_keras_formulas(case, shape, axis, dtype):
    make, reference = CASES[case]
    w = weight_values(shape, seed=case)
    w_typed = np.asarray(w, NP[dtype])  # the reference sees the same (rounded) input
    for strided in (False, True):
        out = make(axis)(as_ember(w, dtype, strided))
        assert_close(out, reference(w_typed.astype(np.float64), axis), dtype=dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (0,), (7,), (33,), (1000,), (3, 0), (7, 33), (2, 3, 129)])
def test_non_neg_is_maximum_with_zero(shape, dtype):
    w = np.asarray(np.random.default_rng(1).standard_normal(shape), NP[dtype])
    for strided in (False, True):
        assert_close(constraints.NonNeg()(as_ember(w, dtype, strided)), np.maximum(w, 0), dtype=dtype)


def test_nan_and_inf_propagate_as_in_keras():
    w = np.array([-1.0, np.nan, 2.0, -np.inf, np.inf])
    assert_close(constraints.NonNeg()(ember.tensor(w)), np.maximum(w, 0))
    col = np.array([[np.nan, 1.0], [1.0, 1.0]])  # a NaN poisons its own unit only
    assert_close(constraints.MaxNorm(1.0)(ember.tensor(col)), ref_max_norm(col, 1.0, 0))


def test_inputs_other_than_float_tensors():
    assert_close(constraints.NonNeg()(ember.tensor([-2, 3])), np.array([0, 3]), dtype=ember.int64)
    out = constraints.UnitNorm()(ember.tensor([[3, 0], [4, 0]]))  # integer weights: float norms, as Keras
    assert_close(out, ref_unit_norm(np.array([[3.0, 0.0], [4.0, 0.0]]), 0), dtype=ember.float32)
    assert_close(constraints.MaxNorm(1.0)([[3.0], [4.0]]), np.array([[0.6], [0.8]]), rtol=1e-6)


# ---- get / serialize / deserialize --------------------------------------------------------------------

def test_module_names_and_aliases():
    assert keras.constraints is constraints and ember.keras.constraints.MaxNorm is constraints.MaxNorm
    assert (constraints.max_norm, constraints.min_max_norm, constraints.non_neg, constraints.unit_norm) == \
        (constraints.MaxNorm, constraints.MinMaxNorm, constraints.NonNeg, constraints.UnitNorm)
    w = ember.tensor([1.0, -2.0])
    assert constraints.Constraint()(w) is w  # the base leaves the weight as it is, as Keras's does


@pytest.mark.parametrize("name,cls", [("max_norm", constraints.MaxNorm), ("MaxNorm", constraints.MaxNorm),
                                      ("min_max_norm", constraints.MinMaxNorm), ("non_neg", constraints.NonNeg),
                                      ("NonNeg", constraints.NonNeg), ("unit_norm", constraints.UnitNorm)])
def test_get_by_name(name, cls):
    assert type(constraints.get(name)) is cls


def test_get_by_config_instance_class_and_callable():
    original = constraints.MinMaxNorm(0.1, 0.9, rate=0.5, axis=[0, 1, 2])
    config = constraints.serialize(original)
    assert config == {"module": "ember.keras.constraints", "class_name": "MinMaxNorm",
                      "config": {"min_value": 0.1, "max_value": 0.9, "rate": 0.5, "axis": [0, 1, 2]}}
    for revived in (constraints.get(config), constraints.deserialize(config)):
        assert type(revived) is constraints.MinMaxNorm and revived.get_config() == original.get_config()
    assert constraints.get(original) is original
    assert type(constraints.get(constraints.UnitNorm)) is constraints.UnitNorm
    clip = lambda w: w.clamp(-1.0, 1.0)  # noqa: E731
    assert constraints.get(clip) is clip
    assert constraints.get(None) is None and constraints.serialize(None) is None
    assert constraints.deserialize("non_neg").get_config() == {}
    assert constraints.MaxNorm.from_config({"max_value": 3, "axis": 1}).get_config() == {"max_value": 3, "axis": 1}


def test_get_errors_name_the_valid_choices():
    with pytest.raises(ValueError, match=r"Unknown constraint: 'maxnorm'.*max_norm, min_max_norm, non_neg, unit_norm"):
        constraints.get("maxnorm")
    with pytest.raises(ValueError, match=r"Unknown constraint: 'Clip'.*MaxNorm.*custom_objects"):
        constraints.get({"class_name": "Clip", "config": {}})
    with pytest.raises(TypeError, match="Could not interpret constraint identifier: 3"):
        constraints.get(3)
    with pytest.raises(ValueError, match=r"Unknown constraint: 'nonneg'.*non_neg"):
        layers.Dense(2, bias_constraint="nonneg")
    with pytest.raises(TypeError, match="MaxNorm: axis must be an int or a non-empty list of ints, got '0'"):
        constraints.MaxNorm(axis="0")
    with pytest.raises(TypeError, match="MinMaxNorm: rate must be a number, got None"):
        constraints.MinMaxNorm(rate=None)
    with pytest.raises(IndexError, match=r"MaxNorm\(axis=3\) on a weight of shape \(4, 3\).*out of range"):
        constraints.MaxNorm(axis=3)(ember.zeros(4, 3))


# ---- the optimizer applies them -------------------------------------------------------------------------

def regression_data(bias=0.0):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 6)).astype(np.float32)
    y = (x @ rng.uniform(-3, 3, (6, 3)) + bias).astype(np.float32)
    return x, y


def fit_dense(x, y, **constraint_args):
    ember.manual_seed(0)
    model = keras.Sequential([keras.Input((x.shape[1],)), layers.Dense(y.shape[1], **constraint_args)])
    model.compile(optimizer=optimizers.Adam(0.05), loss="mse")
    model.fit(x, y, batch_size=32, epochs=4, verbose=0)
    return model


def test_fit_keeps_max_norm_kernel_and_non_neg_bias():
    x, y = regression_data(bias=-2.0)
    free = fit_dense(x, y)
    kernel, bias = free.get_weights()
    assert np.linalg.norm(kernel, axis=0).max() > 1.0 and bias.min() < -0.5  # what the constraints must prevent
    constrained = fit_dense(x, y, kernel_constraint=constraints.MaxNorm(0.5), bias_constraint="non_neg")
    kernel, bias = constrained.get_weights()
    assert np.linalg.norm(kernel, axis=0).max() <= 0.5 + 1e-6
    assert np.all(bias >= 0)


def test_constraint_set_on_a_weight_between_fits_is_applied():
    x, y = regression_data()
    model = fit_dense(x, y)
    model.layers[0].kernel.constraint = constraints.UnitNorm()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    np.testing.assert_allclose(np.linalg.norm(model.get_weights()[0], axis=0), 1.0, rtol=1e-5)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_apply_gradients_projects_after_the_update(dtype):
    """SGD's update, then NonNeg on the first variable only; a variable without a gradient is neither
    updated nor projected (Keras filters it out first)."""
    values = [np.array([0.5, -0.2, 1.0]), np.array([[-1.0, 2.0]]), np.array([-3.0])]
    grads = [np.array([1.0, -1.0, 2.0]), np.array([[1.0, 1.0]]), None]
    variables = [ember.tensor(v, dtype=dtype, requires_grad=True) for v in values]
    variables[0].constraint = constraints.NonNeg()
    variables[2].constraint = constraints.NonNeg()
    optimizer = optimizers.SGD(learning_rate=0.1)
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        optimizer.apply_gradients(zip([None if g is None else ember.tensor(g, dtype=dtype) for g in grads], variables))
    assert_close(variables[0], np.maximum(values[0] - 0.1 * grads[0], 0), dtype=dtype)
    assert_close(variables[1], values[1] - 0.1 * grads[1], dtype=dtype)
    assert_close(variables[2], values[2], dtype=dtype)
    assert optimizer.iterations == 1 and variables[0].requires_grad


def test_constraint_removed_or_replaced_is_followed():
    w = ember.tensor([1.0, -1.0], requires_grad=True)
    w.constraint = constraints.NonNeg()
    optimizer, grads = optimizers.SGD(learning_rate=1.0), (ember.tensor([0.0, 0.0]),)
    step = (w,)
    optimizer.apply(grads, step)
    assert w.tolist() == [1.0, 0.0]
    w.constraint = None
    optimizer.apply((ember.tensor([0.0, 1.0]),), step)  # the same tuple: the plan is reused, the None seen
    assert w.tolist() == [1.0, -1.0]
    w.constraint = lambda v: v * 2.0
    optimizer.apply(grads, [w])  # a new list: which variables have a constraint is read again
    assert w.tolist() == [2.0, -2.0]


def test_constraint_returning_a_wrong_shape_is_an_error():
    w = ember.tensor([1.0, 2.0], requires_grad=True)
    w.name = "kernel"
    w.constraint = lambda v: v.sum()
    with pytest.raises(ValueError, match=r"constraint .* of kernel returned shape \(\); it must return a tensor "
                                         r"of the variable's shape \(2,\)"):
        optimizers.SGD().apply([ember.tensor([1.0, 1.0])], [w])


def test_add_weight_resolves_the_constraint():
    layer = layers.Dense(2)
    w = layer.add_weight(shape=(3, 2), constraint="max_norm", name="extra")
    assert type(w.constraint) is constraints.MaxNorm
    assert layer.add_weight(shape=(2,), name="plain").constraint is None


# ---- configs and saved models ---------------------------------------------------------------------------

LAYERS_WITH_CONSTRAINTS = [
    (layers.Dense, dict(units=3), ("kernel", "bias")),
    (layers.Conv2D, dict(filters=2, kernel_size=3), ("kernel", "bias")),
    (layers.LSTM, dict(units=2), ("kernel", "recurrent", "bias")),
    (layers.BatchNormalization, {}, ("beta", "gamma")),
    (layers.Embedding, dict(input_dim=5, output_dim=2), ("embeddings",)),
]


@pytest.mark.parametrize("cls,args,names", LAYERS_WITH_CONSTRAINTS)
def test_layer_configs_round_trip_constraints(cls, args, names):
    given = {f"{n}_constraint": c for n, c in zip(names, [constraints.MaxNorm(0.5, axis=[0, 1]), "non_neg",
                                                          constraints.UnitNorm(axis=1)])}
    layer = cls(**args, **given)
    config = layer.get_config()
    revived = cls.from_config(config)
    for key in given:
        assert config[key] == constraints.serialize(constraints.get(given[key]))
        assert isinstance(getattr(revived, key), constraints.Constraint)
        assert constraints.serialize(getattr(revived, key)) == config[key]
    assert revived.get_config() == config
    assert all(cls(**args).get_config()[key] is None for key in given)


class ClipValue(constraints.Constraint):
    def __init__(self, limit=1.0):
        self.limit = limit

    def __call__(self, w):
        return w.clamp(-self.limit, self.limit)

    def get_config(self):
        return {"limit": self.limit}


def test_save_and_load_model_keep_the_constraints(tmp_path):
    x, y = regression_data(bias=-2.0)
    model = fit_dense(x, y, kernel_constraint=constraints.MaxNorm(0.5), bias_constraint=ClipValue(0.25))
    path = tmp_path / "constrained.keras"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"ClipValue": ClipValue})
    dense = loaded.layers[0]
    assert dense.kernel_constraint.get_config() == {"max_value": 0.5, "axis": 0}
    assert type(dense.bias.constraint) is ClipValue and dense.bias.constraint.limit == 0.25
    loaded.compile(optimizer=optimizers.Adam(0.05), loss="mse")
    loaded.fit(x, y, batch_size=32, epochs=1, verbose=0)
    kernel, bias = loaded.get_weights()
    assert np.linalg.norm(kernel, axis=0).max() <= 0.5 + 1e-6 and np.abs(bias).max() <= 0.25
    with pytest.raises(ValueError, match=r"Unknown constraint: 'ClipValue'.*custom_objects"):
        keras.models.load_model(path)

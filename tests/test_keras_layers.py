"""ember.keras layers, activations, initializers and regularizers: every layer's forward against a
float64 NumPy reference written from Keras's equations (and against PyTorch where the op maps onto
one), gradients by central differences in float64, weights in Keras's layouts, Keras's defaults, the
Layer machinery (names, build on first call, training flag, losses, trainability) and error messages."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from conftest import TOL, noncontiguous
from ember.keras import activations, initializers, layers, regularizers
from ember.keras.layers.utils import reset_names

RNG = np.random.default_rng(7)
gradcheck = ember.autograd.gradcheck
erf = np.vectorize(math.erf)


@pytest.fixture(autouse=True)
def _fresh_names():
    reset_names()


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def t(a, dtype=np.float32, grad=False):
    x = ember.from_numpy(np.array(a, dtype=dtype))  # a copy: tensors made from one array stay independent
    return x.requires_grad_() if grad else x


def close(actual, expected, dtype=ember.float32, **override):
    tol = dict(TOL[dtype])
    tol.update(override)
    actual = actual.detach().numpy() if isinstance(actual, ember.Tensor) else np.asarray(actual)
    assert actual.shape == np.shape(expected), f"shape {actual.shape} != {np.shape(expected)}"
    np.testing.assert_allclose(actual, expected, **tol)


# ---- activations ----------------------------------------------------------------------------------------

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "softmax": lambda x: np.exp(x - x.max(-1, keepdims=True)) / np.exp(x - x.max(-1, keepdims=True)).sum(-1,
                                                                                                        keepdims=True),
    "linear": lambda x: x,
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1 + erf(x / np.sqrt(2))),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "swish": lambda x: x * _sigmoid(x),
    "silu": lambda x: x * _sigmoid(x),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_activation_by_name_matches_keras_formula(name, dtype):
    x = RNG.standard_normal((4, 7)) * 3
    np_dtype = np.float32 if dtype == ember.float32 else np.float64
    expected = ACTIVATIONS[name](x.astype(np_dtype).astype(np.float64))
    atol = 1e-6 if dtype == ember.float32 else 1e-12  # results near zero (exp, erf of large negatives)
    close(activations.get(name)(t(x, np_dtype)), expected, dtype, atol=atol)
    close(layers.Activation(name, dtype=dtype)(t(x, np_dtype)), expected, dtype, atol=atol)


def test_activation_options_and_identifiers():
    x = np.linspace(-3, 8, 23)
    close(activations.relu(t(x, np.float64), max_value=6.0), np.clip(x, 0, 6), ember.float64)
    close(activations.relu(t(x, np.float64), negative_slope=0.1, threshold=1.0),
          np.where(x > 1, x, 0) - 0.1 * np.maximum(1 - x, 0), ember.float64)
    close(activations.gelu(t(x, np.float64), approximate=True),
          0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))), ember.float64)
    assert activations.get(None) is activations.linear
    assert activations.get(np.tanh) is np.tanh
    assert activations.serialize(activations.get("swish")) in ("silu", "swish")
    assert activations.get(activations.serialize(activations.softmax)) is activations.softmax


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown activation function: 'relu7'.*elu.*leaky_relu.*softmax"):
        activations.get("relu7")
    with pytest.raises(ValueError, match="Unknown activation function: 'bogus'"):
        layers.Dense(3, activation="bogus")


# ---- initializers and regularizers --------------------------------------------------------------------

def test_initializer_distributions():
    ember.manual_seed(0)
    w = initializers.get("glorot_uniform")((300, 200)).numpy()
    limit = math.sqrt(6 / 500)
    assert np.abs(w).max() <= limit and abs(w.std() - limit / math.sqrt(3)) < 0.02 * limit
    w = initializers.HeNormal()((400, 300)).numpy()  # truncated at 2 std, rescaled to keep the variance
    assert abs(w.std() - math.sqrt(2 / 400)) < 0.03 * math.sqrt(2 / 400)
    assert np.abs(w).max() <= 2 * math.sqrt(2 / 400) / 0.87962566103423978 + 1e-6
    conv = initializers.GlorotUniform()((3, 3, 4, 8)).numpy()  # fans (kh * kw * in, kh * kw * out)
    assert np.abs(conv).max() <= math.sqrt(6 / (36 + 72))
    assert (initializers.get("zeros")((2, 3)).numpy() == 0).all()
    assert (initializers.Ones()((4,), dtype="float64").numpy() == 1).all()
    assert (initializers.Constant(0.5)((2,)).numpy() == 0.5).all()
    a, b = initializers.RandomNormal(seed=3)((5, 5)), initializers.RandomNormal(seed=3)((5, 5))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    q = initializers.Orthogonal(seed=1)((6, 4)).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)


def test_unknown_initializer_and_regularizer_list_valid_names():
    with pytest.raises(ValueError, match=r"Unknown initializer: 'glorot'.*glorot_normal.*glorot_uniform.*he_normal"):
        layers.Dense(2, kernel_initializer="glorot")
    with pytest.raises(ValueError, match=r"Unknown regularizer: 'l3'.*l1, l1_l2, l2"):
        layers.Dense(2, kernel_regularizer="l3")


def test_regularizers_keras_formulas_with_gradients():
    x = RNG.standard_normal((3, 4))
    for reg, value, grad in ((regularizers.l1(0.3), 0.3 * np.abs(x).sum(), 0.3 * np.sign(x)),
                             (regularizers.L2(0.2), 0.2 * (x ** 2).sum(), 0.4 * x),
                             (regularizers.l1_l2(l1=0.1, l2=0.5), 0.1 * np.abs(x).sum() + 0.5 * (x ** 2).sum(),
                              0.1 * np.sign(x) + x)):
        w = t(x, np.float64, grad=True)
        penalty = reg(w)
        assert penalty.shape == ()
        close(penalty, value, ember.float64)
        penalty.backward()
        close(w.grad, grad, ember.float64)
    assert regularizers.get("l2").l2 == 0.01 and regularizers.get(None) is None
    assert regularizers.get(regularizers.serialize(regularizers.L1L2(0.1, 0.2))).get_config() == {"l1": 0.1, "l2": 0.2}


# ---- Dense ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
@pytest.mark.parametrize("shape", [(5, 3), (1, 1), (0, 4), (2, 3, 7)])
def test_dense_forward_matches_reference(dtype, shape):
    np_dtype = np.float32 if dtype == ember.float32 else np.float64
    layer = layers.Dense(6, activation="tanh", dtype=dtype)
    x = RNG.standard_normal(shape)
    out = layer(t(x, np_dtype))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (shape[-1], 6) and bias.shape == (6,) and (bias == 0).all()  # Keras's layout, zeros
    assert out.dtype == dtype
    atol = 1e-6 if np_dtype == np.float32 else 1e-12  # sums of products cancel to near zero
    close(out, np.tanh(x.astype(np_dtype) @ kernel.astype(np.float64) + bias), dtype, atol=atol)


def test_dense_gradients_central_differences():
    layer = layers.Dense(3, activation="sigmoid", dtype="float64", kernel_regularizer=regularizers.l2(0.1))
    x = t(RNG.standard_normal((4, 5)), np.float64, grad=True)
    layer(x)
    assert gradcheck(lambda x, k, b: layer(x), (x, layer.kernel, layer.bias))
    x3 = t(RNG.standard_normal((2, 3, 5)), np.float64, grad=True)
    assert gradcheck(lambda x, k, b: layer(x) * 2.0, (x3, layer.kernel, layer.bias))
    assert gradcheck(lambda k: layer.losses[0], (layer.kernel,))


def test_dense_gradients_match_torch(torch):
    layer = layers.Dense(4, dtype="float64")
    x = RNG.standard_normal((6, 3))
    xe = t(x, np.float64, grad=True)
    (layer(xe) ** 2).sum().backward()
    kernel, bias = layer.get_weights()
    xt = torch.tensor(x, requires_grad=True)
    wt, bt = torch.tensor(kernel, requires_grad=True), torch.tensor(bias, requires_grad=True)
    ((xt @ wt + bt) ** 2).sum().backward()
    for ours, theirs in ((xe.grad, xt.grad), (layer.kernel.grad, wt.grad), (layer.bias.grad, bt.grad)):
        close(ours, theirs.numpy(), ember.float64)
    assert layer.kernel.grad.is_contiguous()


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", activations.relu, "elu"])
def test_dense_fused_activation_is_the_composition(act):
    """relu, tanh and sigmoid run inside the dense kernel: the same bits, forward and backward, as
    Dense without activation followed by the Activation layer; other activations stay separate."""
    fused = layers.Dense(7, activation=act)
    plain = layers.Dense(7)
    after = layers.Activation(act)
    x = RNG.standard_normal((3, 4, 9)).astype(np.float32)
    fused.build((None, 4, 9))
    plain.build((None, 4, 9))
    plain.set_weights(fused.get_weights())
    results = []
    for model in (lambda v: fused(v), lambda v: after(plain(v))):
        xe = t(x, np.float32, grad=True)
        out = model(xe)
        (out * out).sum().backward()
        results.append((out.detach().numpy(), xe.grad.numpy()))
    assert np.array_equal(results[0][0], results[1][0]) and np.array_equal(results[0][1], results[1][1])
    assert np.array_equal(fused.kernel.grad.numpy(), plain.kernel.grad.numpy())
    assert np.array_equal(fused.bias.grad.numpy(), plain.bias.grad.numpy())
    name = act if isinstance(act, str) else "relu"
    node = type(fused(t(x, np.float32, grad=True)).grad_fn).__name__
    assert node == {"relu": "_DenseRelu", "tanh": "_DenseTanh", "sigmoid": "_DenseSigmoid"}.get(name, "Elu")


def test_dense_input_checks_and_shape_inference():
    layer = layers.Dense(2)
    layer(np.ones((32, 4)))  # NumPy float64 input: converted to the layer's float32
    assert layer.built and layer.kernel.shape == (4, 2)
    with pytest.raises(ValueError, match=r'Input 0 of layer "dense" is incompatible with the layer: expected axis -1 '
                                         r"of input shape to have value 4, but received input with shape \(32, 5\)"):
        layer(ember.zeros(32, 5))
    with pytest.raises(ValueError, match=r"expected min_ndim=2, found ndim=1"):
        layers.Dense(2)(ember.zeros(5))
    out = layer(ember.ones(3, 4, dtype=ember.float64))  # autocast to the layer's dtype, as Keras
    assert out.dtype == ember.float32
    assert layers.Dense(3, input_dim=7)._batch_input_shape == (None, 7)
    assert layers.Dense(3, input_shape=(7,), batch_size=8)._batch_input_shape == (8, 7)
    with pytest.raises(ValueError, match="positive integer"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to Dense"):
        layers.Dense(3, unknown_option=1)


def test_dense_use_bias_false_and_initializers():
    layer = layers.Dense(3, use_bias=False, kernel_initializer="ones")
    out = layer(t(np.ones((2, 4))))
    assert layer.bias is None and len(layer.weights) == 1
    close(out, np.full((2, 3), 4.0))
    layer = layers.Dense(2, bias_initializer=initializers.Constant(0.5))
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.bias.numpy(), [0.5, 0.5])


# ---- Conv2D ---------------------------------------------------------------------------------------------

def ref_conv2d(x, kernel, bias, strides, padding, dilation, groups):
    """Keras's convolution on NHWC float64 arrays, straight from the definition (TF's 'same' padding)."""
    n, h, w, c = x.shape
    kh, kw, cin_g, filters = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    if padding == "same":
        pads = []
        for size, k, s, d in ((h, kh, sh, dh), (w, kw, sw, dw)):
            out = -(-size // s)
            total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    oh = (x.shape[1] - dh * (kh - 1) - 1) // sh + 1
    ow = (x.shape[2] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, oh, ow, filters))
    per_group = filters // groups
    for g in range(groups):
        xs = x[..., g * cin_g:(g + 1) * cin_g]
        ks = kernel[..., g * per_group:(g + 1) * per_group]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, i * dh: i * dh + sh * (oh - 1) + 1: sh, j * dw: j * dw + sw * (ow - 1) + 1: sw, :]
                out[..., g * per_group:(g + 1) * per_group] += patch @ ks[i, j]
    return out + (0 if bias is None else bias)


CONV_CASES = [
    dict(filters=4, kernel_size=3),
    dict(filters=2, kernel_size=(2, 3), padding="same"),
    dict(filters=3, kernel_size=3, strides=2, padding="same"),  # even input: TF pads more after
    dict(filters=4, kernel_size=2, strides=(2, 1), padding="same"),
    dict(filters=2, kernel_size=3, dilation_rate=2, padding="same"),
    dict(filters=4, kernel_size=1, groups=2, use_bias=False),
    dict(filters=6, kernel_size=3, strides=3, groups=3),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv2d_matches_reference(case, data_format):
    layer = layers.Conv2D(data_format=data_format, bias_initializer="glorot_uniform", dtype="float64", **case)
    x = RNG.standard_normal((2, 8, 7, 6))
    given = x if data_format == "channels_last" else x.transpose(0, 3, 1, 2)
    out = layer(t(given, np.float64)).numpy()
    weights = layer.get_weights()
    assert weights[0].shape == layer.kernel_size + (6 // layer.groups, case["filters"])
    expected = ref_conv2d(x, weights[0], weights[1] if len(weights) > 1 else None, layer.strides, layer.padding,
                          layer.dilation_rate, layer.groups)
    if data_format == "channels_first":
        expected = expected.transpose(0, 3, 1, 2)
    close(out, expected, ember.float64, atol=1e-12)
    assert layer.compute_output_shape((None,) + given.shape[1:]) == (None,) + expected.shape[1:]


def test_conv2d_matches_torch_and_gradients(torch):
    layer = layers.Conv2D(3, 3, strides=2, padding="same", activation="relu", dtype="float64")
    x = RNG.standard_normal((2, 6, 6, 2))
    xe = t(x, np.float64, grad=True)
    out = layer(xe)
    kernel, bias = layer.get_weights()
    xt = torch.tensor(x.transpose(0, 3, 1, 2), requires_grad=True)
    wt = torch.tensor(kernel.transpose(3, 2, 0, 1))
    # TF's 'same' for stride 2 on 6: total padding 1, all of it after
    ref = torch.relu(torch.nn.functional.conv2d(torch.nn.functional.pad(xt, (0, 1, 0, 1)), wt, torch.tensor(bias), 2))
    close(out, ref.detach().numpy().transpose(0, 2, 3, 1), ember.float64)
    small = layers.Conv2D(2, 2, padding="same", dtype="float64")
    xs = t(RNG.standard_normal((1, 3, 3, 2)), np.float64, grad=True)
    small(xs)
    assert gradcheck(lambda x, k, b: small(x), (xs, small.kernel, small.bias))


def test_conv2d_errors():
    with pytest.raises(ValueError, match="evenly divisible by the number of groups"):
        layers.Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction with `dilation_rate > 1`"):
        layers.Conv2D(2, 3, strides=2, dilation_rate=2)
    layer = layers.Conv2D(2, 3, name="conv")
    layer(ember.zeros(1, 5, 5, 3))
    with pytest.raises(ValueError, match=r'layer "conv" is incompatible.*expected axis -1 of input shape to have value 3'):
        layer(ember.zeros(1, 5, 5, 4))
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        layer(ember.zeros(5, 5, 3))


# ---- pooling ----------------------------------------------------------------------------------------------

def ref_pool(x, pool, strides, padding, kind):
    """Keras's pooling on NHWC float64 arrays: 'same' pads TF's way and padding never counts."""
    n, h, w, c = x.shape
    out_dims, starts = [], []
    for size, p, s in zip((h, w), pool, strides):
        if padding == "same":
            out = -(-size // s)
            before = max((out - 1) * s + p - size, 0) // 2
        else:
            out, before = (size - p) // s + 1, 0
        out_dims.append(out)
        starts.append([i * s - before for i in range(out)])
    res = np.empty((n, out_dims[0], out_dims[1], c))
    for i, r in enumerate(starts[0]):
        for j, q in enumerate(starts[1]):
            window = x[:, max(r, 0):r + pool[0], max(q, 0):q + pool[1], :]
            res[:, i, j] = window.max((1, 2)) if kind == "max" else window.mean((1, 2))
    return res


POOL_GRID = [((2, 2), None), ((3, 3), (2, 2)), ((2, 2), (1, 1)), ((3, 2), (1, 2)), ((4, 4), (3, 3)), ((5, 5), (2, 2))]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("pool,strides", POOL_GRID)
def test_pooling_matches_reference(kind, padding, pool, strides):
    cls = layers.MaxPooling2D if kind == "max" else layers.AveragePooling2D
    for h, w in ((7, 6), (4, 5), (3, 3)):  # odd and even sizes, and inputs smaller than some windows
        if padding == "valid" and (h < pool[0] or w < pool[1]):
            continue
        x = RNG.standard_normal((2, h, w, 3))
        layer = cls(pool, strides, padding, dtype="float64")
        expected = ref_pool(x, pool, strides or pool, padding, kind)
        close(layer(t(x, np.float64)), expected, ember.float64)
        assert layer.compute_output_shape((None, h, w, 3)) == (None,) + expected.shape[1:]
        first = cls(pool, strides, padding, data_format="channels_first", dtype="float64")
        close(first(t(x.transpose(0, 3, 1, 2), np.float64)), expected.transpose(0, 3, 1, 2), ember.float64)


def test_pooling_matches_torch_and_gradients(torch):
    x = RNG.standard_normal((2, 9, 8, 3))
    for cls, ref in ((layers.MaxPooling2D, torch.nn.functional.max_pool2d),
                     (layers.AveragePooling2D, torch.nn.functional.avg_pool2d)):
        out = cls(3, 2, dtype="float64")(t(x, np.float64))
        expected = ref(torch.tensor(x.transpose(0, 3, 1, 2)), 3, 2).numpy().transpose(0, 2, 3, 1)
        close(out, expected, ember.float64)
    for cls in (layers.MaxPooling2D, layers.AveragePooling2D):
        for pool, strides in (((2, 2), (1, 1)), ((3, 3), (2, 2)), ((2, 2), None)):  # explicit, ceil-mode, plain
            layer = cls(pool, strides, "same", dtype="float64")
            xs = t(RNG.standard_normal((1, 5, 4, 2)), np.float64, grad=True)
            assert gradcheck(layer, (xs,))


def test_global_pooling():
    x = RNG.standard_normal((2, 4, 5, 3))
    close(layers.GlobalAveragePooling2D(dtype="float64")(t(x, np.float64)), x.mean((1, 2)), ember.float64)
    out = layers.GlobalAveragePooling2D(keepdims=True, dtype="float64")(t(x, np.float64))
    close(out, x.mean((1, 2), keepdims=True), ember.float64)
    first = layers.GlobalAveragePooling2D(data_format="channels_first", dtype="float64")
    close(first(t(x.transpose(0, 3, 1, 2), np.float64)), x.mean((1, 2)), ember.float64)
    close(layers.GlobalMaxPooling2D(dtype="float64")(t(x, np.float64)), x.max((1, 2)), ember.float64)
    assert layers.GlobalAveragePooling2D().compute_output_shape((None, 4, 5, 3)) == (None, 3)
    xs = t(RNG.standard_normal((2, 3, 3, 2)), np.float64, grad=True)
    assert gradcheck(layers.GlobalAveragePooling2D(dtype="float64"), (xs,))


# ---- Flatten, Reshape, Dropout, Activation, merges --------------------------------------------------------

def test_flatten_keeps_keras_order():
    x = RNG.standard_normal((2, 3, 4, 5))
    close(layers.Flatten(dtype="float64")(t(x, np.float64)), x.reshape(2, -1), ember.float64)
    # channels_first input flattens in (H, W, C) order, as Keras does
    first = layers.Flatten(data_format="channels_first", dtype="float64")
    close(first(t(x, np.float64)), x.transpose(0, 2, 3, 1).reshape(2, -1), ember.float64)
    close(layers.Flatten()(t(np.arange(3.0))), np.arange(3.0).reshape(3, 1))
    assert layers.Flatten().compute_output_shape((None, 3, None)) == (None, None)
    assert layers.Flatten()(ember.zeros(0, 2, 3)).shape == (0, 6)


def test_reshape():
    x = RNG.standard_normal((2, 12))
    close(layers.Reshape((3, -1), dtype="float64")(t(x, np.float64)), x.reshape(2, 3, 4), ember.float64)
    assert layers.Reshape((2, 6)).compute_output_shape((None, 12)) == (None, 2, 6)
    assert layers.Reshape((-1, 2)).compute_output_shape((None, None)) == (None, None, 2)
    with pytest.raises(ValueError, match=r"total size of the tensor must be unchanged.*target_shape=\(5, -1\)"):
        layers.Reshape((5, -1))(t(x))
    with pytest.raises(ValueError, match=r"total size of the tensor must be unchanged.*target_shape=\(5, 2\)"):
        layers.Reshape((5, 2))(t(x))
    with pytest.raises(ValueError, match="at most one unknown dimension"):
        layers.Reshape((-1, -1))


def test_dropout_training_flag_and_scaling():
    x = ember.ones(200, 50)
    layer = layers.Dropout(0.3)
    assert layer(x) is x and layer(x, training=False) is x  # training=None means inference, as Keras
    ember.manual_seed(1)
    out = layer(x, training=True).numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    assert abs(kept.mean() - 0.7) < 0.02
    shared = layers.Dropout(0.5, noise_shape=(None, 1))(x, training=True).numpy()
    assert ((shared == 0).all(1) | (shared != 0).all(1)).all()  # one decision per row
    with pytest.raises(ValueError, match=r"Expected a float value between 0 and 1. Received: rate=1.5"):
        layers.Dropout(1.5)


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]),
       st.sampled_from([((3, 4), (3, 4)), ((3, 4), (3, 1)), ((2, 1, 5), (2, 3, 5))]))
def test_merge_layers_elementwise(name, shapes):
    a, b = RNG.standard_normal(shapes[0]), RNG.standard_normal(shapes[1])
    expected = {"Add": a + b, "Subtract": a - b, "Multiply": a * b, "Average": (a + b) / 2,
                "Maximum": np.maximum(a, b), "Minimum": np.minimum(a, b)}[name]
    layer = getattr(layers, name)(dtype="float64")
    close(layer([t(a, np.float64), t(b, np.float64)]), expected, ember.float64)
    assert layer.compute_output_shape([(None,) + shapes[0][1:], (None,) + shapes[1][1:]]) == (None,) + expected.shape[1:]


def test_concatenate_and_merge_errors():
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 3, 2))
    close(layers.Concatenate(dtype="float64")([t(a, np.float64), t(b, np.float64)]), np.concatenate([a, b], -1),
          ember.float64)
    close(layers.concatenate([t(a), t(a)], axis=1), np.concatenate([a, a], 1).astype(np.float32))
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        layers.Concatenate(axis=1)([t(a), t(b)])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([t(a), t(a), t(a)])
    with pytest.raises(ValueError, match="should be called on a list of inputs"):
        layers.Add()(t(a))
    xa, xb = t(a, np.float64, grad=True), t(a, np.float64, grad=True)
    assert gradcheck(lambda p, q: layers.Multiply(dtype="float64")([p, q]), (xa, xb))


# ---- BatchNormalization ----------------------------------------------------------------------------------

def test_batch_normalization_training_inference_and_moving_statistics():
    layer = layers.BatchNormalization(dtype="float64")
    assert (layer.momentum, layer.epsilon) == (0.99, 1e-3)
    batches = [RNG.standard_normal((16, 3)) * [1, 2, 3] + [0, 1, -2] for _ in range(2)]
    moving_mean, moving_var = np.zeros(3), np.ones(3)
    for x in batches:
        out = layer(t(x, np.float64), training=True)
        mean, var = x.mean(0), x.var(0)  # the biased variance normalises AND feeds the moving average
        close(out, (x - mean) / np.sqrt(var + 1e-3), ember.float64)
        moving_mean = moving_mean * 0.99 + mean * 0.01
        moving_var = moving_var * 0.99 + var * 0.01
    gamma, beta, mm, mv = layer.get_weights()  # Keras's order
    close(mm, moving_mean, ember.float64)
    close(mv, moving_var, ember.float64)
    x = batches[0]
    close(layer(t(x, np.float64)), (x - moving_mean) / np.sqrt(moving_var + 1e-3), ember.float64)
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2


def test_batch_normalization_axes_gradients_and_frozen():
    x = RNG.standard_normal((4, 3, 5, 2))
    for axis in (1, 2, -1):
        layer = layers.BatchNormalization(axis=axis, dtype="float64", gamma_initializer="glorot_uniform")
        out = layer(t(x, np.float64), training=True)
        reduce = tuple(d for d in range(4) if d != axis % 4)
        gamma = layer.gamma.numpy().reshape([-1 if d == axis % 4 else 1 for d in range(4)])
        expected = (x - x.mean(reduce, keepdims=True)) / np.sqrt(x.var(reduce, keepdims=True) + 1e-3) * gamma
        close(out, expected, ember.float64)
    layer = layers.BatchNormalization(dtype="float64", center=False)
    xs = t(RNG.standard_normal((5, 3)), np.float64, grad=True)
    layer(xs)
    assert gradcheck(lambda x, g: layer(x, training=True), (xs, layer.gamma))
    assert gradcheck(lambda x, g: layer(x), (xs, layer.gamma))
    frozen = layers.BatchNormalization()
    frozen(ember.ones(4, 2))
    frozen.trainable = False
    before = frozen.get_weights()
    frozen(t(RNG.standard_normal((4, 2))), training=True)  # a frozen BN normalises with its moving statistics
    for a, b in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 4
    assert not frozen.gamma.requires_grad


# ---- the Layer machinery ---------------------------------------------------------------------------------

def test_layers_accept_non_contiguous_inputs():
    x = RNG.standard_normal((3, 6, 5, 4))
    for layer in (layers.Dense(3, dtype="float64"), layers.Conv2D(2, 3, padding="same", dtype="float64"),
                  layers.MaxPooling2D(padding="same", dtype="float64"), layers.AveragePooling2D(dtype="float64"),
                  layers.BatchNormalization(dtype="float64"), layers.Flatten(dtype="float64"),
                  layers.GlobalAveragePooling2D(dtype="float64")):
        expected = layer(t(x, np.float64), training=True).numpy()
        strided = noncontiguous(x)
        assert not strided.is_contiguous()
        close(layer(strided, training=True), expected, ember.float64)


def test_automatic_names_follow_keras():
    names = [layers.Dense(1).name, layers.Dense(1).name, layers.Conv2D(1, 1).name, layers.MaxPooling2D().name,
             layers.BatchNormalization().name, layers.GlobalAveragePooling2D().name, layers.Dense(1, name="out").name]
    assert names == ["dense", "dense_1", "conv2d", "max_pooling2d", "batch_normalization", "global_average_pooling2d",
                     "out"]


class Scale(layers.Layer):
    """A custom layer written the Keras way."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w",
                                 regularizer=regularizers.l1(0.5))
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count")

    def call(self, inputs, training=None):
        self.add_loss((inputs * 0.0).sum() + 1.0)
        out = inputs * self.w * self.factor
        return out * 2.0 if training else out


def test_custom_layer_weights_losses_and_training_flag():
    layer = Scale(3.0)
    x = t(np.ones((2, 4)))
    close(layer(x), np.full((2, 4), 3.0))
    close(layer(x, training=True), np.full((2, 4), 6.0))
    assert [w.name for w in layer.weights] == ["w", "count"] and layer.weights[0].path == "scale/w"
    assert layer.count_params() == 5 and len(layer.trainable_weights) == 1
    losses = layer.losses
    assert len(losses) == 2  # the add_loss penalty of the latest call, then the weight regularizer's
    close(losses[0], 1.0)
    close(losses[1], 0.5 * 4)
    losses[1].backward()
    close(layer.w.grad, np.full(4, 0.5))
    layer(x)
    assert len(layer.losses) == 2  # replaced, not accumulated, by the next call
    assert layer.get_config()["factor"] == 3.0
    assert Scale.from_config(layer.get_config()).factor == 3.0


def test_activity_regularizer_and_trainable_toggle():
    layer = layers.Dense(2, kernel_initializer="ones", activity_regularizer=regularizers.l2(0.1))
    out = layer(t(np.ones((3, 2))))
    (penalty,) = layer.losses
    close(penalty, 0.1 * (out.numpy() ** 2).sum())
    layer.trainable = False
    assert layer.trainable_weights == [] and not layer.kernel.requires_grad and not layer.kernel.trainable
    layer.trainable = True
    assert len(layer.trainable_weights) == 2 and layer.kernel.requires_grad


def test_training_flag_reaches_nested_layers():
    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.drop = layers.Dropout(0.99)

        def call(self, inputs):
            return self.drop(inputs)

    block = Block()
    x = ember.ones(50, 50)
    assert (block(x).numpy() == 1).all()
    assert (block(x, training=True).numpy() == 0).mean() > 0.9


def test_weights_round_trip_and_errors():
    layer = layers.Dense(3)
    with pytest.raises(ValueError, match="isn't built"):
        layer.count_params()
    layer.build((None, 2))
    before = layer.kernel
    new = [RNG.standard_normal((2, 3)), RNG.standard_normal(3)]
    layer.set_weights(new)
    assert layer.kernel is before  # set in place: optimizers holding the parameter stay valid
    for got, want in zip(layer.get_weights(), new):
        np.testing.assert_allclose(got, want.astype(np.float32))
    copies = layer.get_weights()
    copies[0][:] = 0
    assert layer.kernel.numpy().any()  # get_weights returns copies
    with pytest.raises(ValueError, match=r"weight shape \(2, 3\) is not compatible with provided weight shape \(3, 3\)"):
        layer.set_weights([np.zeros((3, 3)), np.zeros(3)])
    with pytest.raises(ValueError, match="with a weight list of length 1, but the layer was expecting 2 weights"):
        layer.set_weights([np.zeros((2, 3))])


def test_configs_round_trip():
    for layer in (layers.Dense(4, activation="relu", kernel_regularizer="l2"), layers.Conv2D(3, (2, 3), strides=2),
                  layers.MaxPooling2D(3, padding="same"), layers.BatchNormalization(momentum=0.9),
                  layers.Dropout(0.2), layers.Flatten(), layers.Reshape((2, -1)), layers.Activation("gelu"),
                  layers.Concatenate(axis=1), layers.GlobalAveragePooling2D(keepdims=True)):
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config


def test_direct_build_gives_the_short_call_path():
    layer = layers.Dense(2)
    layer.build((None, 3))
    assert layer.built and layer._fast is not None
    assert layer(ember.ones(4, 3)).shape == (4, 2)
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(ember.ones(4, 2))


def test_integer_inputs_stay_integer_unless_the_layer_computes_in_float():
    """Keras's rules: a custom layer and Flatten see integer inputs as integers; Dense (and the other
    float-computing built-ins) cast them to their dtype."""
    seen = []

    class Probe(layers.Layer):
        def call(self, inputs):
            seen.append(inputs.dtype)
            return inputs

    ids = np.array([[1, 2], [3, 4]])
    Probe()(ids)
    Probe()(ember.tensor(ids))
    assert seen == [ember.int64, ember.int64]
    assert layers.Flatten()(ids).dtype == ember.int64
    dense = layers.Dense(1, kernel_initializer="ones")
    out = dense(ids)
    assert out.dtype == ember.float32 and out.numpy().tolist() == [[3.0], [7.0]]
    assert dense(ember.tensor(ids)).dtype == ember.float32
    assert layers.Dense(1)(np.array([[0.5, 1.5]])).dtype == ember.float32  # float64 NumPy: autocast


def test_dropout_seed_gives_its_own_repeatable_stream():
    x = ember.ones(4, 8)
    first, second, other = layers.Dropout(0.5, seed=3), layers.Dropout(0.5, seed=3), layers.Dropout(0.5, seed=4)
    masks = [first(x, training=True).numpy() for _ in range(3)]
    ember.rand(100)  # draws from the global generator in between change nothing
    again = [second(x, training=True).numpy() for _ in range(3)]
    assert all(np.array_equal(a, b) for a, b in zip(masks, again))
    assert not np.array_equal(masks[0], masks[1])  # the stream advances call after call
    assert not np.array_equal(masks[0], other(x, training=True).numpy())
    assert set(np.unique(masks[0])) <= {0.0, 2.0}
    shared = [layers.Dropout(0.5, noise_shape=(None, 1), seed=1)(x, training=True).numpy() for _ in range(2)]
    assert np.array_equal(shared[0], shared[1]) and all((row == row[0]).all() for row in shared[0])
    xg = ember.ones(4, 8, requires_grad=True)
    y = layers.Dropout(0.25, seed=9)(xg, training=True)
    y.sum().backward()
    assert np.array_equal(xg.grad.numpy(), y.detach().numpy())  # d(sum)/dx is the mask times the scale
    with pytest.raises(ValueError, match=r"Dropout: seed must be a non-negative int or None, got 1.5"):
        layers.Dropout(0.5, seed=1.5)

"""ember.nn.init: PyTorch's gains and fan rules exactly, the distributions statistically (mean, std,
bounds on 10^5 samples), seeding, in-place behaviour and the error messages."""
import math

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn import init

N = 100_000  # samples per distribution check: the sample mean's std is std / sqrt(N) ~ 0.3% of std


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
    ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)])
def test_calculate_gain_matches_torch(torch, nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity swish"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(2, 3), (1, 1), (5, 3, 4), (6, 2, 3, 3), (4, 0, 2), (3, 7, 1, 2, 2)])
def test_fans_match_torch(torch, shape):
    ours = init._calculate_fan_in_and_fan_out(ember.empty(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_correct_fan(ember.empty(*shape), "FAN_OUT") == ours[1]


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ember.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported, please use one of"):
        init.kaiming_uniform_(ember.empty(3, 3), mode="fan_avg")


def _check_uniform(t, low, high):
    a = t.numpy().astype(np.float64)
    assert a.min() >= low and a.max() <= high
    width = high - low
    assert abs(a.mean() - (low + high) / 2) < 0.02 * width
    assert abs(a.std() / (width / math.sqrt(12)) - 1) < 0.02
    # both ends are reached: the samples fill the interval
    assert a.min() < low + 0.01 * width and a.max() > high - 0.01 * width


def _check_normal(t, mean, std):
    a = t.numpy().astype(np.float64)
    assert abs(a.mean() - mean) < 0.02 * std and abs(a.std() / std - 1) < 0.02
    # about 4.6% of a normal lies beyond 2 std
    assert 0.040 < np.mean(np.abs(a - mean) > 2 * std) < 0.052


@pytest.mark.parametrize("dtype", [ember.float32, ember.float64])
def test_uniform_and_normal(dtype):
    ember.manual_seed(0)
    t = ember.empty(N, dtype=dtype)
    assert init.uniform_(t, -3.0, 5.0) is t and t.dtype == dtype
    _check_uniform(t, -3.0, 5.0)
    _check_uniform(init.uniform_(ember.empty(N)), 0.0, 1.0)
    _check_normal(init.normal_(t, 2.0, 0.5), 2.0, 0.5)


def test_xavier(torch):
    shape = (200, 300, 2)
    fan_in, fan_out = 600, 400
    ember.manual_seed(1)
    bound = 1.5 * math.sqrt(6 / (fan_in + fan_out))
    _check_uniform(init.xavier_uniform_(ember.empty(*shape), gain=1.5), -bound, bound)
    _check_normal(init.xavier_normal_(ember.empty(*shape), gain=0.5), 0.0, 0.5 * math.sqrt(2 / (fan_in + fan_out)))


@pytest.mark.parametrize("mode,nonlinearity,a", [("fan_in", "leaky_relu", 0), ("fan_out", "relu", 0),
                                                 ("fan_in", "leaky_relu", math.sqrt(5)), ("fan_out", "tanh", 0)])
def test_kaiming(mode, nonlinearity, a):
    shape = (250, 100, 4)
    fan = 400 if mode == "fan_in" else 1000
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    ember.manual_seed(2)
    _check_uniform(init.kaiming_uniform_(ember.empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity),
                   -math.sqrt(3) * std, math.sqrt(3) * std)
    _check_normal(init.kaiming_normal_(ember.empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity), 0.0, std)


def test_kaiming_zero_element_is_a_noop():
    t = ember.empty(0, 3)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert init.kaiming_uniform_(t) is t
    with pytest.warns(UserWarning, match="no-op"):
        init.kaiming_normal_(t)


def _truncated_normal_moments(mean, std, a, b):
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: (1 + math.erf(x / math.sqrt(2))) / 2  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    m = mean + std * (pdf(alpha) - pdf(beta)) / z
    var = std ** 2 * (1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - ((pdf(alpha) - pdf(beta)) / z) ** 2)
    return m, math.sqrt(var)


# wide bounds take the normal-proposal path, narrow ones the uniform-proposal path
@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (1.0, 0.02, 0.97, 1.05), (0.0, 1.0, 0.5, 0.9),
                                          (0.0, 1.0, -0.3, 3.0)])
def test_trunc_normal(mean, std, a, b):
    ember.manual_seed(3)
    t = init.trunc_normal_(ember.empty(N, dtype=ember.float64), mean, std, a, b)
    x = t.numpy()
    assert x.min() >= a and x.max() <= b
    m, s = _truncated_normal_moments(mean, std, a, b)
    assert abs(x.mean() - m) < 0.02 * s and abs(x.std() / s - 1) < 0.02


def test_trunc_normal_warns_and_checks_bounds():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        x = init.trunc_normal_(ember.empty(1000), mean=0.0, std=1.0, a=3.0, b=4.0).numpy()
    assert x.min() >= 3.0 and x.max() <= 4.0
    with pytest.raises(ValueError, match="a <= b"):
        init.trunc_normal_(ember.empty(3), a=1.0, b=0.0)


def test_constant_ones_zeros_eye():
    t = ember.empty(3, 4)
    assert init.constant_(t, 2.5) is t and (t.numpy() == 2.5).all()
    assert (init.ones_(t).numpy() == 1).all() and not init.zeros_(t).numpy().any()
    np.testing.assert_array_equal(init.eye_(t).numpy(), np.eye(3, 4))
    assert init.constant_(ember.empty(2, dtype=ember.int64), 7).tolist() == [7, 7]
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(ember.empty(2, 2, 2))


def test_seeded_repeat_and_parameters_in_place():
    layer = nn.Linear(20, 10)
    weight = layer.weight
    ember.manual_seed(9)
    first = init.xavier_normal_(layer.weight).numpy().copy()
    ember.manual_seed(9)
    init.xavier_normal_(layer.weight)
    assert layer.weight is weight and weight.requires_grad and weight.is_leaf
    np.testing.assert_array_equal(weight.numpy(), first)


def test_argument_errors():
    with pytest.raises(TypeError, match="uniform_: expected an ember.Tensor, got ndarray"):
        init.uniform_(np.zeros(3))
    with pytest.raises(ValueError, match="one global random generator"):
        init.normal_(ember.empty(3), generator=object())

"""Training-step benchmarks: a whole step (zero_grad, forward, loss, backward, optimizer step) of
the same model in ember and in PyTorch, from the same initial weights and data, in the same run.

    mlp_tiny   2-4-1, tanh, batch 100, MSE, SGD(lr=0.1)
    mlp_mnist  784-512-512-10, ReLU, batch 128, cross-entropy, SGD(lr=0.01, momentum=0.9)
    cnn_mnist  Conv2d(1,32,3)-ReLU-MaxPool(2)-Conv2d(32,64,3)-ReLU-MaxPool(2)-Conv2d(64,64,3)-ReLU-
               Flatten-Linear(576,64)-ReLU-Linear(64,10), 28x28 inputs, batch 32, cross-entropy, Adam

Before timing, a few steps of both must follow the same loss curve; a benchmark of a wrong step
would be meaningless.

    python -m ember.bench --only train
"""
import numpy as np

import ember
from ._timing import median_time, row, training_step, try_import_torch

CONFIGS = {
    "mlp_tiny": dict(sizes=(2, 4, 1), batch=100, act="Tanh", loss="mse", optimizer="SGD", opt=dict(lr=0.1)),
    "mlp_mnist": dict(sizes=(784, 512, 512, 10), batch=128, act="ReLU", loss="ce", optimizer="SGD",
                      opt=dict(lr=0.01, momentum=0.9)),
    "cnn_mnist": dict(sizes=None, input=(1, 28, 28), classes=10, batch=32, loss="ce", optimizer="Adam",
                      opt=dict(lr=1e-3)),
}


def _cnn(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(), nn.Linear(576, 64),
                         nn.ReLU(), nn.Linear(64, 10))


def _layers(lib, sizes, act):
    if sizes is None:
        return _cnn(lib)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(lib.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(getattr(lib.nn, act)())
    return lib.nn.Sequential(*layers)


def _data(cfg, rng):
    shape = cfg["input"] if cfg["sizes"] is None else (cfg["sizes"][0],)
    outputs = cfg["classes"] if cfg["sizes"] is None else cfg["sizes"][-1]
    x = rng.standard_normal((cfg["batch"],) + tuple(shape)).astype(np.float32)
    if cfg["loss"] == "mse":
        y = rng.standard_normal((cfg["batch"], outputs)).astype(np.float32)
    else:
        y = rng.integers(0, outputs, cfg["batch"]).astype(np.int64)
    return x, y


def _loss_and_optimizer(lib, cfg, model):
    loss_fn = lib.nn.MSELoss() if cfg["loss"] == "mse" else lib.nn.CrossEntropyLoss()
    return loss_fn, getattr(lib.optim, cfg["optimizer"])(model.parameters(), **cfg["opt"])


def _ember_step(cfg, x, y):
    model = _layers(ember, cfg["sizes"], cfg.get("act"))
    return model, training_step(ember, model, *_loss_and_optimizer(ember, cfg, model), x, y)


def _torch_step(torch, cfg, x, y, ember_model):
    model = _layers(torch, cfg["sizes"], cfg.get("act"))
    with torch.no_grad():
        for tp, ep in zip(model.parameters(), ember_model.parameters()):
            tp.copy_(torch.from_numpy(np.array(ep.detach())))
    return training_step(torch, model, *_loss_and_optimizer(torch, cfg, model), x, y)


def bench_train(quick=False, names=tuple(CONFIGS)):
    torch = try_import_torch()
    repeat = 5 if quick else 15
    rows = []
    for name in names:
        cfg = CONFIGS[name]
        x, y = _data(cfg, np.random.default_rng(0))
        ember.manual_seed(0)
        model, ember_step = _ember_step(cfg, x, y)
        torch_step = _torch_step(torch, cfg, x, y, model) if torch is not None else None
        if torch_step is not None:
            for i in range(3):
                a, b = ember_step().item(), torch_step().item()
                if not abs(a - b) <= 1e-4 * max(1.0, abs(b)):
                    raise AssertionError(f"bench_train {name}: step {i} loss {a} differs from PyTorch's {b}")
        ember_s = median_time(ember_step, repeat=repeat, min_run_s=0.02)
        torch_s = median_time(torch_step, repeat=repeat, min_run_s=0.02) if torch_step else None
        rows.append(row(name, cfg["batch"], "us/step", None, ember_s, None, torch_s))
    return rows


if __name__ == "__main__":
    for r in bench_train():
        print(r)

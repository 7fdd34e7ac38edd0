"""Keras-style fit against hand-written loops: the per-step cost of `model.fit` for a one-neuron
regression (Dense(1) on 3 features, batch 32, SGD(0.01), MSE, 100 steps per epoch, no shuffling),
beside the same training written by hand in ember's PyTorch style and in PyTorch, in the same run.
Each loop reads the loss of every step as a float, as fit does for its logs.

Before timing, one epoch of each from the same initial weights must end at the same weights.

    python -m ember.bench --only keras
"""
import numpy as np

import ember
from ember import keras
from ._timing import median_time, row, try_import_torch

SAMPLES, FEATURES, BATCH, LR = 3200, 3, 32, 0.01


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SAMPLES, FEATURES)).astype(np.float32)
    y = (x @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3
         + 0.1 * rng.standard_normal((SAMPLES, 1))).astype(np.float32)
    return x, y


def _keras_epoch(x, y, kernel, bias):
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(FEATURES,))])
    model.set_weights([kernel, bias])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=LR), loss="mse")

    def epoch():
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
    return epoch, lambda: [w.copy() for w in model.get_weights()]


def _loop_epoch(lib, x, y, kernel, bias):
    """One epoch of the loop PyTorch users write, in `lib` (ember or torch)."""
    model = lib.nn.Linear(FEATURES, 1)
    with lib.no_grad():
        model.weight.copy_(lib.from_numpy(np.ascontiguousarray(kernel.T)))
        model.bias.copy_(lib.from_numpy(bias))
    opt = lib.optim.SGD(model.parameters(), lr=LR)
    loss_fn = lib.nn.MSELoss()
    tx, ty = lib.from_numpy(x), lib.from_numpy(y)

    def epoch():
        total = 0.0
        for i in range(0, SAMPLES, BATCH):
            xb, yb = tx[i:i + BATCH], ty[i:i + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item()
        return total
    return epoch, lambda: [model.weight.detach().numpy().T.copy(), model.bias.detach().numpy().copy()]


def bench_keras_fit(quick=False):
    torch = try_import_torch()
    x, y = _data()
    rng = np.random.default_rng(1)
    kernel = rng.uniform(-1, 1, (FEATURES, 1)).astype(np.float32)
    bias = np.zeros(1, np.float32)
    runs = {"keras fit": _keras_epoch(x, y, kernel, bias), "ember loop": _loop_epoch(ember, x, y, kernel, bias)}
    if torch is not None:
        runs["torch loop"] = _loop_epoch(torch, x, y, kernel, bias)
    weights = {}
    for name, (epoch, get_weights) in runs.items():
        epoch()
        weights[name] = get_weights()
    for name, got in weights.items():
        for a, b in zip(got, weights["ember loop"]):
            if not np.allclose(a, b, rtol=1e-4, atol=1e-5):
                raise AssertionError(f"bench_keras_fit: after one epoch, {name}'s weights {a.ravel()} differ from "
                                     f"the ember loop's {b.ravel()}")
    repeat = 5 if quick else 15
    steps = SAMPLES // BATCH
    times = {name: median_time(epoch, repeat=repeat, min_run_s=0.02) / steps for name, (epoch, _) in runs.items()}
    torch_s = times.get("torch loop")
    return [row("keras_fit_dense1 (per step)", BATCH, "us/step", None, times["keras fit"], None, torch_s),
            row("ember_loop_dense1 (per step)", BATCH, "us/step", None, times["ember loop"], None, torch_s)]


if __name__ == "__main__":
    for r in bench_keras_fit():
        print(r)

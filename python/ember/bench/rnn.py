"""Recurrent training-step benchmarks: a whole step (zero_grad, forward, loss, backward, optimizer
step) of the same model in ember and in PyTorch, from the same initial weights and data, in the same
run.

    lstm2      LSTM(64, 256, num_layers=2), sequence 50, batch 32, Linear(256, 10) on the last output,
               cross-entropy, SGD(lr=0.01, momentum=0.9)
    gru2       the same with a GRU
    text_lstm  Embedding(5000, 64, padding_idx=0) + LSTM(64, 128, batch_first=True) + Linear(128, 4) on
               h_n, token ids (32, 50) with padding, cross-entropy, Adam(lr=1e-3)

Before timing, three steps of both must follow the same loss curve. The two steps are timed in
alternation, so that load from other processes on a shared machine falls on both alike; the ratio
is PyTorch's median time over ember's (above 1: ember is faster).

    python -m ember.bench --only rnn
"""
import time

import numpy as np

import ember
from ._timing import median_time, row, training_step, try_import_torch

CONFIGS = {
    "lstm2": dict(cell="LSTM", input=64, hidden=256, layers=2, steps=50, batch=32, classes=10, vocab=None,
                  optimizer="SGD", opt=dict(lr=0.01, momentum=0.9)),
    "gru2": dict(cell="GRU", input=64, hidden=256, layers=2, steps=50, batch=32, classes=10, vocab=None,
                 optimizer="SGD", opt=dict(lr=0.01, momentum=0.9)),
    "text_lstm": dict(cell="LSTM", input=64, hidden=128, layers=1, steps=50, batch=32, classes=4, vocab=5000,
                      optimizer="Adam", opt=dict(lr=1e-3)),
}


def _model(lib, cfg):
    nn = lib.nn

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            text = cfg["vocab"] is not None
            self.embed = nn.Embedding(cfg["vocab"], cfg["input"], padding_idx=0) if text else None
            self.rnn = getattr(nn, cfg["cell"])(cfg["input"], cfg["hidden"], num_layers=cfg["layers"],
                                                batch_first=text)
            self.head = nn.Linear(cfg["hidden"], cfg["classes"])

        def forward(self, x):
            if self.embed is not None:
                _, state = self.rnn(self.embed(x))
                h = state[0] if isinstance(state, tuple) else state
                return self.head(h[-1])
            out, _ = self.rnn(x)
            return self.head(out[-1])
    return Classifier()


def _data(cfg, rng):
    if cfg["vocab"] is not None:
        x = rng.integers(1, cfg["vocab"], (cfg["batch"], cfg["steps"])).astype(np.int64)
        lengths = rng.integers(cfg["steps"] // 2, cfg["steps"] + 1, cfg["batch"])
        x[np.arange(cfg["steps"]) >= lengths[:, None]] = 0  # padded tails
    else:
        x = rng.standard_normal((cfg["steps"], cfg["batch"], cfg["input"])).astype(np.float32)
    y = rng.integers(0, cfg["classes"], cfg["batch"]).astype(np.int64)
    return x, y


def _step(lib, model, cfg, x, y):
    optimizer = getattr(lib.optim, cfg["optimizer"])(model.parameters(), **cfg["opt"])
    return training_step(lib, model, lib.nn.CrossEntropyLoss(), optimizer, x, y)


def _alternating_medians(fns, repeat, warmup=2):
    """Median seconds per call of each of fns, their calls interleaved one by one."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    samples = [[] for _ in fns]
    for _ in range(repeat):
        for fn, times in zip(fns, samples):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return [sorted(times)[len(times) // 2] for times in samples]


def bench_rnn(quick=False, names=tuple(CONFIGS)):
    torch = try_import_torch()
    repeat = 5 if quick else 11
    rows = []
    for name in names:
        cfg = CONFIGS[name]
        x, y = _data(cfg, np.random.default_rng(0))
        ember.manual_seed(0)
        model = _model(ember, cfg)
        ember_step = _step(ember, model, cfg, x, y)
        torch_step = None
        if torch is not None:
            twin = _model(torch, cfg)
            twin.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in model.state_dict().items()})
            torch_step = _step(torch, twin, cfg, x, y)
            for i in range(3):
                a, b = ember_step().item(), torch_step().item()
                if not abs(a - b) <= 1e-4 * max(1.0, abs(b)):
                    raise AssertionError(f"bench_rnn {name}: step {i} loss {a} differs from PyTorch's {b}")
        if torch_step is None:
            ember_s, torch_s = median_time(ember_step, repeat=repeat, min_run_s=0.02), None
        else:
            ember_s, torch_s = _alternating_medians([ember_step, torch_step], repeat)
        rows.append(row(name, cfg["batch"], "us/step", None, ember_s, None, torch_s))
    return rows


if __name__ == "__main__":
    for r in bench_rnn():
        print(r)

"""Loss benchmarks: softmax cross-entropy forward + backward on float32 logits, beside PyTorch measured in
the same run (medians, and PyTorch's time over ember's).

    python -m ember.bench.loss
"""
import numpy as np

import ember
from ember.nn import _losses as L

from ._timing import median_time, row, try_import_torch


def _step(x, target):
    """One forward + backward: the loss and d(loss)/d(logits)."""
    loss = L.cross_entropy(x, target)
    return loss, ember.autograd.grad(loss, x)[0]


def _validate(x, target, logits, labels):
    """ember's loss and gradient must match a float64 NumPy reference before they are timed."""
    loss, grad = _step(x, target)
    a = logits.astype(np.float64)
    shifted = a - a.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    want = -log_probs[rows, labels].mean()
    want_grad = np.exp(log_probs)
    want_grad[rows, labels] -= 1
    want_grad /= len(labels)
    if abs(loss.item() - want) > 1e-4 * max(1.0, abs(want)) or np.abs(grad.numpy() - want_grad).max() > 1e-6:
        raise AssertionError(f"bench_cross_entropy: ember's loss {loss.item()} or gradient differs from the "
                             f"float64 reference (loss {want})")


def bench_cross_entropy(shapes=((128, 10), (4096, 1000)), quick=False):
    """cross_entropy(logits, labels) forward + backward for each (N, C): one row per shape, times in
    microseconds per step."""
    torch = try_import_torch()
    repeat = 5 if quick else 15
    rows = []
    rng = np.random.default_rng(0)
    for n, c in shapes:
        logits = (3 * rng.standard_normal((n, c))).astype(np.float32)
        labels = rng.integers(0, c, n)
        x = ember.from_numpy(logits).requires_grad_()
        target = ember.from_numpy(labels)
        _validate(x, target, logits, labels)
        ember_s = median_time(lambda: _step(x, target), repeat=repeat)
        torch_s = None
        if torch is not None:
            tx = torch.from_numpy(logits).requires_grad_()
            tt = torch.from_numpy(labels)

            def torch_step():
                loss = torch.nn.functional.cross_entropy(tx, tt)
                return loss, torch.autograd.grad(loss, tx)[0]

            torch_s = median_time(torch_step, repeat=repeat)
        rows.append(row("cross_entropy f+b", f"{n}x{c}", None, None, ember_s, None, torch_s))
    return rows


def _print(rows):
    print(f"{'bench':<20}{'size':>12}{'ember us':>12}{'torch us':>12}{'x torch':>10}")
    for r in rows:
        torch_us = f"{r['torch']:12.1f}" if r["torch"] is not None else f"{'-':>12}"
        ratio = f"{r['vs_torch']:10.2f}" if r["vs_torch"] is not None else f"{'-':>10}"
        print(f"{r['bench']:<20}{r['size']:>12}{r['ember']:12.1f}{torch_us}{ratio}")
    print("x torch: PyTorch's time divided by ember's (above 1: ember is faster)")


if __name__ == "__main__":
    print(f"ember {ember.__version__}, {ember.get_num_threads()} threads, CPU path {ember._C.cpu_capability()}")
    _print(bench_cross_entropy())

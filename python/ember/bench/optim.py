"""Optimizer benchmark: one Adam step over the parameters of a 784-512-512-10 MLP (669,706 float32
values in six tensors), beside PyTorch's Adam with foreach=True and with fused=True (when PyTorch is
installed) measured in the same run. Rates are GB/s of memory traffic: an Adam step reads the
parameter, gradient and both moments and writes the parameter and both moments (28 bytes per
float32 value).

    python -m ember.bench.optim [--quick]
"""
import sys

import numpy as np

import ember
from ._timing import median_time, row, try_import_torch

MLP_SHAPES = [(512, 784), (512,), (512, 512), (512,), (10, 512), (10,)]
BYTES_PER_VALUE = 7 * 4


def _ember_adam(values, grads):
    params = []
    for v, g in zip(values, grads):
        p = ember.tensor(v)
        p.requires_grad = True
        p.grad = ember.tensor(g)
        params.append(p)
    return params, ember.optim.Adam(params, lr=1e-3)


def _torch_adam(torch, values, grads, **kwargs):
    params = []
    for v, g in zip(values, grads):
        p = torch.tensor(v, requires_grad=True)
        p.grad = torch.tensor(g)
        params.append(p)
    return params, torch.optim.Adam(params, lr=1e-3, **kwargs)


def _validate(ember_params, torch_params, name):
    """Benchmarks time only results that are right: after the same steps ember and PyTorch agree."""
    for e, t in zip(ember_params, torch_params):
        np.testing.assert_allclose(e.numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=f"bench {name}: ember's Adam disagrees with PyTorch's; not timing it")


def bench_adam(quick=False):
    """One Adam step on the MLP's parameters: ember, and PyTorch foreach / fused as the peers.
    One row per PyTorch variant (the ember time is measured once)."""
    torch = try_import_torch()
    repeat = 5 if quick else 21
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s, dtype=np.float32) for s in MLP_SHAPES]
    grads = [rng.standard_normal(s, dtype=np.float32) for s in MLP_SHAPES]
    n = sum(v.size for v in values)
    ember_params, ember_opt = _ember_adam(values, grads)
    peers = {}
    if torch is not None:
        for variant in ("foreach", "fused"):
            peers[variant] = _torch_adam(torch, values, grads, **{variant: True})
    for _ in range(3):
        ember_opt.step()
        for _, opt in peers.values():
            opt.step()
    for variant, (params, _) in peers.items():
        _validate(ember_params, params, f"adam vs torch {variant}")
    ember_s = median_time(ember_opt.step, repeat=repeat)
    if not peers:
        return [row("optim.adam", n, "GB/s", BYTES_PER_VALUE * n, ember_s)]
    rows = []
    for variant, (_, opt) in peers.items():
        r = row(f"optim.adam/{variant}", n, "GB/s", BYTES_PER_VALUE * n, ember_s,
                torch_s=median_time(opt.step, repeat=repeat))
        r["threads"] = ember.get_num_threads()
        rows.append(r)
    return rows


def _print(rows):
    def fmt(v, spec):
        return "-" if v is None else format(v, spec)

    print(f"{'bench':22} {'size':>8} {'ember ms':>9} {'torch ms':>9} {'ember GB/s':>11} {'torch GB/s':>11} "
          f"{'x torch':>8}")
    for r in rows:
        torch_ms = None if r["torch_s"] is None else r["torch_s"] * 1e3
        print(f"{r['bench']:22} {r['size']:>8} {r['ember_s'] * 1e3:9.3f} {fmt(torch_ms, '9.3f')} "
              f"{fmt(r['ember'], '11.2f')} {fmt(r['torch'], '11.2f')} {fmt(r['vs_torch'], '7.2f')}x")
    print("x torch: PyTorch's time divided by ember's (above 1: ember is faster)")


if __name__ == "__main__":
    print(f"threads: {ember.get_num_threads()}, cpu capability: {ember._C.cpu_capability()}")
    _print(bench_adam(quick="--quick" in sys.argv))

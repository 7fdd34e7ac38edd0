"""Convolution benchmarks: conv2d forward and forward + backward in both memory layouts, ember
beside PyTorch measured in the same run (medians, GFLOP/s, PyTorch's time over ember's).

    python -m ember.bench.conv
    python -m ember.bench --only conv

ember's NCHW path is ember.nn.functional.conv2d; its NHWC path is the same op with
channels_last=True (x (N, H, W, C), weight (kh, kw, C_in, C_out)). PyTorch runs NCHW tensors and
channels-last ones (x.to(memory_format=torch.channels_last)). Each layout's row compares like with
like; the "best" rows compare each library's faster layout. Every configuration is validated
against PyTorch (float64) before it is timed, and the libraries alternate in rounds with a pause
between them, so that a burst of load on a shared machine hits all of them alike.
"""
import time

import numpy as np

import ember
from ember._fn.conv import conv2d as _conv2d_any

from ._timing import median_time, row, try_import_torch

# (name, N, C_in, C_out, H = W, kernel, padding, input needs a gradient)
CONFIGS = [
    ("conv3x3 64->64 56x56", 8, 64, 64, 56, 3, 1, True),
    ("conv3x3 1->32 28x28", 32, 1, 32, 28, 3, 0, False),  # a first layer: the image needs no gradient
]
_SETTLE_S = 0.2  # lets the other library's threads go idle (see bench/matmul.py)


def _flops(n, c_in, c_out, size, k, pad):
    out = size + 2 * pad - k + 1
    return 2.0 * n * c_out * out * out * c_in * k * k


class _EmberCase:
    """ember's forward and forward + backward in one layout."""

    def __init__(self, x, w, b, gy, pad, channels_last, input_grad):
        if channels_last:
            x, w, gy = x.transpose(0, 2, 3, 1), w.transpose(2, 3, 1, 0), gy.transpose(0, 2, 3, 1)
        to = lambda a: ember.from_numpy(np.ascontiguousarray(a))  # noqa: E731
        self.x, self.w, self.b, self.gy = to(x), to(w), to(b), to(gy)
        self.x.requires_grad_(input_grad)
        self.w.requires_grad_()
        self.b.requires_grad_()
        self.pad, self.last = pad, channels_last

    def forward(self):
        with ember.no_grad():
            return _conv2d_any(self.x, self.w, self.b, padding=self.pad, channels_last=self.last)

    def forward_backward(self):
        y = _conv2d_any(self.x, self.w, self.b, padding=self.pad, channels_last=self.last)
        inputs = [self.x, self.w, self.b] if self.x.requires_grad else [self.w, self.b]
        return y, ember.autograd.grad(y, inputs, self.gy)

    def results(self):
        """Output and gradients, as NCHW float64 arrays (gradients in x, w, b order)."""
        y, grads = self.forward_backward()
        if not self.x.requires_grad:
            grads = [None] + list(grads)
        out = [y.numpy()] + [None if g is None else g.numpy() for g in grads]
        if self.last:
            out[0] = out[0].transpose(0, 3, 1, 2)
            out[1] = None if out[1] is None else out[1].transpose(0, 3, 1, 2)
            out[2] = out[2].transpose(3, 2, 0, 1)
        return [None if a is None else a.astype(np.float64) for a in out]


def _torch_case(torch, x, w, b, gy, pad, channels_last, input_grad):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    tx = torch.from_numpy(x).to(memory_format=fmt).requires_grad_(input_grad)
    tw = torch.from_numpy(w).to(memory_format=fmt).requires_grad_()
    tb = torch.from_numpy(b).requires_grad_()
    tgy = torch.from_numpy(gy).to(memory_format=fmt)

    def forward():
        with torch.no_grad():
            return torch.nn.functional.conv2d(tx, tw, tb, padding=pad)

    def forward_backward():
        y = torch.nn.functional.conv2d(tx, tw, tb, padding=pad)
        return y, torch.autograd.grad(y, [tx, tw, tb] if input_grad else [tw, tb], tgy)

    return forward, forward_backward


def _validate(name, case, reference):
    """ember's output and gradients against PyTorch's float64 ones: each is a sum of up to a few
    thousand float32 products, so the bound is relative to the largest reference value."""
    for what, got, want in zip(["output", "grad_x", "grad_w", "grad_b"], case.results(), reference):
        if want is None:
            continue
        err = np.abs(got - want).max()
        if not err <= 1e-4 * max(1.0, np.abs(want).max()):
            raise AssertionError(f"bench_conv {name}: ember's {what} differs from PyTorch's by {err:.3g}")


def _reference(torch, x, w, b, gy, pad, input_grad):
    t = [torch.from_numpy(a.astype(np.float64)).requires_grad_() for a in (x, w, b)]
    y = torch.nn.functional.conv2d(t[0], t[1], t[2], padding=pad)
    grads = torch.autograd.grad(y, t, torch.from_numpy(gy.astype(np.float64)))
    return [y.detach().numpy(), grads[0].numpy() if input_grad else None, grads[1].numpy(), grads[2].numpy()]


def bench_conv(configs=CONFIGS, quick=False, rounds=3):
    """Rows (see _timing.row) of GFLOP/s for each configuration: forward and forward + backward, each
    for NCHW, NHWC and each library's best layout. `quick` runs one round of fewer repeats."""
    torch = try_import_torch()
    repeat, rounds = (5, 1) if quick else (9, rounds)
    rows = []
    for name, n, c_in, c_out, size, k, pad, input_grad in configs:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((n, c_in, size, size)).astype(np.float32)
        w = (rng.standard_normal((c_out, c_in, k, k)) / np.sqrt(c_in * k * k)).astype(np.float32)
        b = rng.standard_normal(c_out).astype(np.float32)
        out = size + 2 * pad - k + 1
        gy = rng.standard_normal((n, c_out, out, out)).astype(np.float32)
        cases = {last: _EmberCase(x, w, b, gy, pad, last, input_grad) for last in (False, True)}
        if torch is not None:
            reference = _reference(torch, x, w, b, gy, pad, input_grad)
            for last, case in cases.items():
                _validate(f"{name} {'NHWC' if last else 'NCHW'}", case, reference)

        runs = {}
        for last, case in cases.items():
            layout = "NHWC" if last else "NCHW"
            runs[("ember", "fwd", layout)] = case.forward
            runs[("ember", "fwd+bwd", layout)] = case.forward_backward
            if torch is not None:
                fwd, fwd_bwd = _torch_case(torch, x, w, b, gy, pad, last, input_grad)
                runs[("torch", "fwd", layout)] = fwd
                runs[("torch", "fwd+bwd", layout)] = fwd_bwd
        samples = {key: [] for key in runs}
        for _ in range(rounds):
            for key, fn in runs.items():
                time.sleep(_SETTLE_S)
                samples[key].append(median_time(fn, repeat=repeat, warmup=3))
        med = {key: sorted(s)[len(s) // 2] for key, s in samples.items()}

        flops = _flops(n, c_in, c_out, size, k, pad)
        for what, work in (("fwd", flops), ("fwd+bwd", flops * (3 if input_grad else 2))):
            for layout in ("NCHW", "NHWC"):
                rows.append(row(f"{name} {what} {layout}", f"b{n}", "GFLOP/s", work, med[("ember", what, layout)],
                                None, med.get(("torch", what, layout))))
            best = lambda lib: min((med[key] for key in med if key[0] == lib and key[1] == what),  # noqa: E731
                                   default=None)
            rows.append(row(f"{name} {what} best", f"b{n}", "GFLOP/s", work, best("ember"), None, best("torch")))
    return rows


def _print(rows):
    print(f"{'bench':<40}{'size':>6}{'ember':>10}{'torch':>10}{'x torch':>10}   (GFLOP/s)")
    for r in rows:
        torch_rate = f"{r['torch']:10.1f}" if r["torch"] is not None else f"{'-':>10}"
        ratio = f"{r['vs_torch']:10.2f}" if r["vs_torch"] is not None else f"{'-':>10}"
        print(f"{r['bench']:<40}{r['size']:>6}{r['ember']:10.1f}{torch_rate}{ratio}")
    print("x torch: PyTorch's time divided by ember's (above 1: ember is faster)")


if __name__ == "__main__":
    print(f"ember {ember.__version__}, {ember.get_num_threads()} threads, CPU path {ember._C.cpu_capability()}")
    _print(bench_conv())

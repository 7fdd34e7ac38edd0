"""python -m ember.bench: ember's microbenchmarks beside NumPy (and PyTorch when installed),
measured in the same run, as medians and ratios.

    python -m ember.bench              # everything
    python -m ember.bench --quick      # fewer sizes and repeats
    python -m ember.bench --json out.json
"""
import argparse
import json
import os
import platform
import sys

import numpy as np

import ember
from ember.bench._timing import try_import_torch


def _machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    torch = try_import_torch()
    return {
        "cpu": cpu, "cores": os.cpu_count(), "threads": ember.get_num_threads(),
        "capability": ember._C.cpu_capability(), "python": platform.python_version(),
        "numpy": np.__version__, "torch": torch.__version__ if torch else None,
        "ember": ember.__version__,
    }


def _fmt(v, width=9):
    if v is None:
        return "-".rjust(width)
    return f"{v:{width}.2f}" if abs(v) < 1e5 else f"{v:{width}.3g}"


def _print_table(rows):
    print(f"{'benchmark':<32}{'size':>10}{'unit':>10}{'ember':>10}{'numpy':>10}{'torch':>10}"
          f"{'x numpy':>10}{'x torch':>10}")
    for r in rows:
        print(f"{r['bench']:<32}{str(r['size']):>10}{r['unit']:>10} {_fmt(r['ember'])} {_fmt(r['numpy'])} "
              f"{_fmt(r['torch'])} {_fmt(r['vs_numpy'])} {_fmt(r['vs_torch'])}")
    print("x numpy / x torch: the peer's time divided by ember's (above 1: ember is faster)")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ember.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--threads", type=int, help="thread count for ember, NumPy's BLAS and PyTorch")
    parser.add_argument("--only", choices=["matmul", "elementwise", "reduce", "tiny", "train", "optim", "loss", "norm", "pool", "conv", "keras", "rnn", "matmul1"], action="append",
                        help="run only these groups (repeatable)")
    args = parser.parse_args(argv)

    if args.threads:
        ember.set_num_threads(args.threads)
        from ember.bench._timing import set_blas_threads
        if not set_blas_threads(args.threads):
            print("note: NumPy's BLAS thread count could not be set; its figures use its own", flush=True)
        torch = try_import_torch()
        if torch:
            torch.set_num_threads(args.threads)
    from ember.bench.conv import bench_conv
    from ember.bench.keras import bench_keras_fit
    from ember.bench.elementwise import bench_activation_backward, bench_elementwise, bench_tiny_op
    from ember.bench.loss import bench_cross_entropy
    from ember.bench.matmul import bench_matmul, bench_matmul_mlp, bench_matmul_one_thread
    from ember.bench.norm import bench_norm
    from ember.bench.optim import bench_adam
    from ember.bench.pool import bench_max_pool
    from ember.bench.reduce import bench_sum
    from ember.bench.rnn import bench_rnn
    from ember.bench.train import bench_train

    groups = {
        "matmul": lambda: bench_matmul(quick=args.quick) + bench_matmul_mlp(quick=args.quick),
        "elementwise": lambda: bench_elementwise(quick=args.quick) + bench_activation_backward(quick=args.quick),
        "reduce": lambda: bench_sum(quick=args.quick),
        "loss": lambda: bench_cross_entropy(quick=args.quick),
        "norm": lambda: bench_norm(quick=args.quick),
        "tiny": lambda: bench_tiny_op(),
        "train": lambda: bench_train(quick=args.quick),
        "optim": lambda: bench_adam(quick=args.quick),
        "pool": lambda: bench_max_pool(quick=args.quick),
        "conv": lambda: bench_conv(quick=args.quick),
        "keras": lambda: bench_keras_fit(quick=args.quick),
        "rnn": lambda: bench_rnn(quick=args.quick),
        # last: changing PyTorch's thread count and back leaves its OpenMP pool in another state
        # (measured after it: its cnn_mnist step 9.5 -> 7.4 ms, its mlp_tiny step 152 -> 224 us)
        "matmul1": lambda: bench_matmul_one_thread(quick=args.quick),
    }
    machine = _machine()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in machine.items()), flush=True)
    rows = []
    for name, run in groups.items():
        if args.only and name not in args.only:
            continue
        got = run()
        rows.extend(got)
        _print_table(got)
        sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine, "results": rows}, f, indent=1)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

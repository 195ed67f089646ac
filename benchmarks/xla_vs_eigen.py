"""labkit's dense Adagrad step against TF1's fused kernel: XLA vs Eigen, same math.

labkit compiles a large dense step with XLA; ``tf.compat.v1.train`` calls one hand-written
Eigen kernel per variable. This script times the two engines on identical updates, without
any optimizer class around them (no Python overhead on either side), so that the ratios show
the engines alone:

- gradient descent ``v -= lr * g``: one pass over the data in both engines;
- Adagrad, both halves: ``n += g*g`` then ``v -= lr * g / sqrt(n)``, with the accumulator
  written as labkit writes it (``add_square``) and written plainly ``n + g*g``;
- the accumulator pass alone, both ways: plainly written, XLA on CPU compiles it with its
  tiled emitter, which copies every 16 elements through the stack; ``add_square`` sends it to
  the loop emitter (compare it with gradient descent, which moves the same bytes);
- the Adagrad kernel with ``update_slots=False`` (only the second half), which shows that the
  Eigen kernel, too, makes two passes over memory (it is two Eigen expressions);
- the fixed cost of one call on a tiny (1,024-element) variable;

and the CPU time per wall time of each (how well each keeps both cores busy).

Prints ratios; never asserts a time.

    .venv/bin/python benchmarks/xla_vs_eigen.py            # about 30 s
    .venv/bin/python benchmarks/xla_vs_eigen.py --quick    # tiny sizes, smoke test
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from optimizers import median_ratio, time_steps  # noqa: E402

from labkit._tf_private import flat_caller as _flat_caller  # noqa: E402
from labkit.train.streamed import add_square  # noqa: E402


def _compiled(fn, g: tf.Tensor):
    """``fn(g)`` compiled with XLA, called the way labkit's eager step calls its function."""
    def body(g: tf.Tensor) -> None:
        fn(g)
    call = _flat_caller(tf.function(body, jit_compile=True, autograph=False)
                        .get_concrete_function(g))
    return lambda: call([g])


def engines(n: int) -> dict:
    """The timed cases: name -> zero-argument callable."""
    g = tf.constant(np.random.default_rng(0).normal(size=n).astype(np.float32) * 1e-3)
    lr = tf.constant(0.01)
    var = {k: tf.Variable(tf.zeros([n]))
           for k in ("e_gd", "x_gd", "e_ada", "e_half", "x_ada", "x_plain")}
    acc = {k: tf.Variable(tf.fill([n], 0.1))
           for k in ("e_ada", "e_half", "x_ada", "x_plain", "x_acc", "x_acc_plain")}

    def x_gd(g):
        var["x_gd"].assign_sub(lr * g, read_value=False)

    def adagrad(key, accumulate):
        def step(g):
            new_acc = accumulate(acc[key], g)
            acc[key].assign(new_acc, read_value=False)
            var[key].assign(var[key] - g * lr * tf.math.rsqrt(new_acc), read_value=False)
        return step

    def accumulate_only(key, accumulate):
        def step(g):
            acc[key].assign(accumulate(acc[key], g), read_value=False)
        return step

    def plain(n, g):
        return n + g * g

    compiled = {"gd": _compiled(x_gd, g), "ada": _compiled(adagrad("x_ada", add_square), g),
                "ada plain": _compiled(adagrad("x_plain", plain), g),
                "acc": _compiled(accumulate_only("x_acc", add_square), g),
                "acc plain": _compiled(accumulate_only("x_acc_plain", plain), g)}
    raw = tf.raw_ops
    return {
        "GD Eigen": lambda: raw.ResourceApplyGradientDescent(var=var["e_gd"].handle, alpha=lr,
                                                             delta=g),
        "GD XLA": compiled["gd"],
        "Adagrad Eigen": lambda: raw.ResourceApplyAdagrad(var=var["e_ada"].handle,
                                                          accum=acc["e_ada"].handle, lr=lr,
                                                          grad=g),
        "Adagrad XLA": compiled["ada"],
        "Adagrad XLA, n + g*g": compiled["ada plain"],
        "XLA n += g^2 only": compiled["acc"],
        "XLA n += g^2 only, n + g*g": compiled["acc plain"],
        "Adagrad Eigen, 2nd half only": lambda: raw.ResourceApplyAdagrad(
            var=var["e_half"].handle, accum=acc["e_half"].handle, lr=lr, grad=g,
            update_slots=False),
    }


def cpu_per_wall(fn, calls: int) -> float:
    """Process CPU seconds per wall second while calling fn (2.0 = both cores busy)."""
    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime
    fn()
    c, t = cpu(), time.perf_counter()
    for _ in range(calls):
        fn()
    return (cpu() - c) / (time.perf_counter() - t)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    args = ap.parse_args(argv)
    n, tiny, repeats, inner = ((1 << 12, 1 << 10, 1, 1) if args.quick
                               else (1 << 22, 1 << 10, 21, 5))
    print(f"TensorFlow {tf.__version__}; load average {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} CPUs; {n:,} float32 elements; medians of {repeats} interleaved "
          "repeats, ratios: medians of the per-repeat ratios")
    fns = engines(n)
    samples = time_steps(fns, repeats, inner)
    print(f"{'case':<30} {'ms':>8} {'cpu/wall':>9}")
    for k, fn in fns.items():
        print(f"{k:<30} {statistics.median(samples[k]) * 1e3:8.3f} "
              f"{cpu_per_wall(fn, 3 if args.quick else 100):9.2f}")
    half = median_ratio(samples["Adagrad Eigen, 2nd half only"], samples["Adagrad Eigen"])
    print(f"XLA/Eigen, gradient descent: {median_ratio(samples['GD XLA'], samples['GD Eigen']):.2f}")
    print(f"XLA/Eigen, Adagrad: {median_ratio(samples['Adagrad XLA'], samples['Adagrad Eigen']):.2f}")
    print("XLA/Eigen, Adagrad written n + g*g: "
          f"{median_ratio(samples['Adagrad XLA, n + g*g'], samples['Adagrad Eigen']):.2f}")
    print("accumulator pass alone, n + g*g / add_square: "
          f"{median_ratio(samples['XLA n += g^2 only, n + g*g'], samples['XLA n += g^2 only']):.2f}"
          " (the tiled emitter's stack copies)")
    print("accumulator pass alone (add_square) / gradient descent (XLA), same traffic: "
          f"{median_ratio(samples['XLA n += g^2 only'], samples['GD XLA']):.2f}")
    print(f"Eigen Adagrad, second half alone / whole kernel: {half:.2f} "
          "(well below 1: the kernel's first half is a pass of its own)")
    small = engines(tiny)
    s = time_steps({k: small[k] for k in ("GD Eigen", "GD XLA")}, repeats, inner * 10)
    print(f"fixed cost of one call ({tiny:,} elements): Eigen "
          f"{statistics.median(s['GD Eigen']) * 1e6:.0f} us, XLA "
          f"{statistics.median(s['GD XLA']) * 1e6:.0f} us")


if __name__ == "__main__":
    main()

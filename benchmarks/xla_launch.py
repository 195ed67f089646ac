"""What one XLA launch costs when a learner's ``tf.function`` calls a compiled step.

Inside a learner's ``tf.function`` labkit's dense step is one XLA computation, called from the
learner's graph once per training step (``StepEngine.apply_fused_in_function``); TF1's fused
optimizer runs one Eigen kernel per variable in the same graph. This script separates the
update's arithmetic from the cost of launching it: the same Adam update of a 4M-parameter
variable (``m``, ``v`` and the variable, three passes in both engines), ``--steps`` times,

- ``eigen``: TF1's fused kernel (``ResourceApplyAdam``) in a ``tf.range`` loop of a ``tf.function``;
- ``xla, one launch``: the whole loop compiled as one XLA computation (the update's own cost);
- ``xla, launch per step from a graph``: a ``tf.range`` loop of a ``tf.function`` calling the
  compiled update once per step (what a learner's ``tf.function`` does);
- ``xla, launch per step from eager``: the compiled update called eagerly once per step, the
  way labkit's eager path calls it (``flat_caller``).

Reported per step, medians of interleaved repeats, with ratios to ``eigen``. Run it with
``--intra-op-threads 1`` too: with one thread the launches cost nothing measurable, so the
difference is in how the parallel loops of a graph-launched computation are run.
Prints ratios; never asserts a time.

    .venv/bin/python benchmarks/xla_launch.py                       # about 30 s
    .venv/bin/python benchmarks/xla_launch.py --intra-op-threads 1
    .venv/bin/python benchmarks/xla_launch.py --quick               # tiny sizes, smoke test
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from labkit._tf_private import flat_caller  # noqa: E402

LR, BETA1, BETA2, EPSILON = 0.001, 0.9, 0.999, 1e-8


def _variables(n: int) -> list[tf.Variable]:
    return [tf.Variable(tf.zeros([n])) for _ in range(3)]  # var, m, v


def _adam(var: tf.Variable, m: tf.Variable, v: tf.Variable, g: tf.Tensor) -> None:
    """Adam's update as TF1's kernel computes it, with fixed bias-correction powers."""
    m.assign_add((g - m) * (1 - BETA1))
    v.assign_add((tf.square(g) - v) * (1 - BETA2))
    var.assign_sub(m * LR / (tf.sqrt(v) + EPSILON))


def cases(n: int, steps: int, g: tf.Tensor) -> dict:
    out = {}
    var, m, v = _variables(n)

    @tf.function
    def eigen() -> None:
        for _ in tf.range(steps):
            tf.raw_ops.ResourceApplyAdam(
                var=var.handle, m=m.handle, v=v.handle, beta1_power=tf.constant(BETA1),
                beta2_power=tf.constant(BETA2), lr=tf.constant(LR), beta1=tf.constant(BETA1),
                beta2=tf.constant(BETA2), epsilon=tf.constant(EPSILON), grad=g)
    out["eigen"] = eigen

    one = _variables(n)

    @tf.function(jit_compile=True)
    def one_launch() -> None:
        for _ in tf.range(steps):
            _adam(*one, g)
    out["xla, one launch"] = one_launch

    per = _variables(n)
    step_fn = tf.function(lambda: _adam(*per, g), jit_compile=True, autograph=False)

    @tf.function
    def per_step_graph() -> None:
        for _ in tf.range(steps):
            step_fn()
    out["xla, launch per step from a graph"] = per_step_graph

    eager = _variables(n)
    call = flat_caller(tf.function(lambda: _adam(*eager, g), jit_compile=True,
                                   autograph=False).get_concrete_function())

    def per_step_eager() -> None:
        for _ in range(steps):
            call([])
    out["xla, launch per step from eager"] = per_step_eager
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    ap.add_argument("--intra-op-threads", type=int, default=0,
                    help="TensorFlow's intra-op threads (0: TensorFlow's default)")
    args = ap.parse_args(argv)
    if args.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)
    n, steps, repeats = (1 << 12, 3, 3) if args.quick else (1 << 22, 20, 9)
    g = tf.constant(np.random.default_rng(0).normal(size=n).astype(np.float32) * 1e-3)
    fns = cases(n, steps, g)
    for fn in fns.values():  # trace and compile
        fn()
    ms: dict[str, list[float]] = {k: [] for k in fns}
    order = list(fns)
    for r in range(repeats):
        for k in order[r % len(order):] + order[:r % len(order)]:  # rotated, interleaved
            t0 = time.perf_counter()
            fns[k]()
            ms[k].append((time.perf_counter() - t0) / steps * 1e3)
    threads = args.intra_op_threads or "default"
    print(f"TensorFlow {tf.__version__}; Adam on {n:,} float32 parameters, {steps} steps per "
          f"timing, medians of {repeats} interleaved repeats; intra-op threads: {threads}; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for k in fns:
        ratio = statistics.median(a / b for a, b in zip(ms[k], ms["eigen"], strict=True))
        print(f"{k:<36} {statistics.median(ms[k]):8.3f} ms/step   / eigen {ratio:5.2f}")


if __name__ == "__main__":
    main()

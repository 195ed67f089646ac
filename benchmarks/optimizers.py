"""Step time of labkit.train optimizers vs tf.compat.v1.train (fused kernels) vs Keras 3.

Prints, per optimizer, for a dense update (default 4M float32 parameters) and a sparse one
(default 200k x 64 embedding, 1024 gradient rows with duplicates): the median step time of
each implementation over interleaved repeats, the ratios labkit/fused and labkit/Keras, the
ratio fused/Keras (TF1's own hand-written kernels against Keras: how far below Keras an
implementation gets that makes TF1's passes over memory), and labkit's effective GB/s against
a memory bandwidth measured in the same run (an in-place ``a += b``: two reads and a write).

Each is measured where learners run it: ``eager`` (``opt.apply_gradients`` called eagerly;
labkit compiles the step itself) and, dense only, inside the learner's own ``tf.function``
with ``jit_compile`` off (``function``) and on (``function-jit``), each implementation's step
wrapped the same way.

Prints ratios; never asserts a time (timings on a shared machine are noisy).

    .venv/bin/python benchmarks/optimizers.py            # full run, three paths (about 4 minutes)
    .venv/bin/python benchmarks/optimizers.py --paths eager   # the eager path only
    .venv/bin/python benchmarks/optimizers.py --quick    # tiny sizes, smoke test
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import labkit.train as lt  # noqa: E402

V1 = tf.compat.v1.train
K = tf.keras.optimizers

# name -> (labkit/TF1 kwargs, slots per variable, Keras factory or None)
OPTIMIZERS = {
    "GradientDescent": ({"learning_rate": 0.01}, 0, lambda: K.SGD(0.01)),
    "Momentum": ({"learning_rate": 0.01, "momentum": 0.9}, 1,
                 lambda: K.SGD(0.01, momentum=0.9)),
    "Adagrad": ({"learning_rate": 0.01}, 1, lambda: K.Adagrad(0.01)),
    "AdagradDA": ({"learning_rate": 0.01}, 2, None),
    "Adadelta": ({"learning_rate": 1.0}, 2, lambda: K.Adadelta(1.0)),
    "RMSProp": ({"learning_rate": 0.01}, 2, lambda: K.RMSprop(0.01)),
    "Adam": ({"learning_rate": 0.001}, 2, lambda: K.Adam(0.001)),
    "Ftrl": ({"learning_rate": 0.01}, 2, lambda: K.Ftrl(0.01)),
    "ProximalGradientDescent": ({"learning_rate": 0.01}, 0, None),
    "ProximalAdagrad": ({"learning_rate": 0.01}, 1, None),
}


def make(module, name: str, step: tf.Variable):
    kw = dict(OPTIMIZERS[name][0])
    if name == "AdagradDA":
        kw["global_step"] = step
    return getattr(module, f"{name}Optimizer")(**kw)


def bandwidth_gbs(n: int, repeats: int) -> float:
    """Streaming bandwidth: GB/s of an in-place ``a += b`` over n float32 (TF's multi-threaded
    AssignAddVariableOp: read a and b, write a -- the memory traffic of a gradient-descent step).
    """
    a = tf.Variable(tf.zeros([n]))
    b = tf.random.normal([n])
    a.assign_add(b, read_value=False)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a.assign_add(b, read_value=False)
        a[0].numpy()  # make sure it ran
        times.append(time.perf_counter() - t)
    return 3 * 4 * n / min(times) / 1e9  # the best repeat: what the memory system can do


def time_steps(fns: dict, repeats: int, inner: int) -> dict:
    """Seconds per call of each fn in each repeat, the implementations interleaved (in an
    order rotated every repeat), so that the ratios of one repeat compare runs made side by
    side under the same machine load."""
    for fn in fns.values():  # warm up (traces, XLA compilation, slot creation)
        fn()
        fn()
    samples = {k: [] for k in fns}
    names = list(fns)
    for r in range(repeats):
        # rotate the order every repeat, so that no implementation always runs first (or
        # always right after the slow Keras step, whose temporaries evict the caches)
        for k in names[r % len(names):] + names[: r % len(names)]:
            fn = fns[k]
            t = time.perf_counter()
            for _ in range(inner):
                fn()
            samples[k].append((time.perf_counter() - t) / inner)
    return samples


def median_ratio(a: list[float], b: list[float]) -> float:
    """Median over repeats of the per-repeat ratio a/b."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


PATHS = ("eager", "function", "function-jit")


def _wrap(fn, path: str):
    """The step as a learner runs it on ``path``."""
    if path == "eager":
        return fn
    def step() -> None:
        fn()  # an op or None: a tf.function returns nothing here

    return tf.function(step, jit_compile=path == "function-jit")


def case(name: str, sparse: bool, n_dense: int, rows: int, cols: int, nnz: int,
         repeats: int, inner: int, path: str = "eager") -> dict:
    rng = np.random.default_rng(0)
    fns, variables = {}, []
    if sparse:
        shape = (rows, cols)
        idx = rng.integers(0, rows, size=nnz)
        idx[: nnz // 8] = idx[0]  # duplicates
        grad = tf.IndexedSlices(tf.constant(rng.normal(size=(nnz, cols)).astype(np.float32)),
                                tf.constant(idx), tf.constant(shape, tf.int64))
    else:
        shape = (n_dense,)
        grad = tf.constant(rng.normal(size=shape).astype(np.float32) * 1e-3)
    impls = [("labkit", lt), ("fused", V1)]
    keras_factory = OPTIMIZERS[name][2]
    if keras_factory is not None:
        impls.append(("keras", None))
    for label, module in impls:
        v = tf.Variable(tf.zeros(shape))
        step = tf.Variable(0, dtype=tf.int64)
        opt = keras_factory() if module is None else make(module, name, step)
        variables.append(v)
        if module is None:
            fns[label] = lambda opt=opt, v=v: opt.apply_gradients([(grad, v)])
        else:
            fns[label] = lambda opt=opt, v=v, step=step: opt.apply_gradients(
                [(grad, v)], global_step=step)
    fns = {k: _wrap(fn, path) for k, fn in fns.items()}
    samples = time_steps(fns, repeats, inner)
    times = {k: statistics.median(v) for k, v in samples.items()}
    ratios = {k: median_ratio(samples["labkit"], v) for k, v in samples.items() if k != "labkit"}
    if "keras" in samples:
        ratios["fused/keras"] = median_ratio(samples["fused"], samples["keras"])
    nslots = OPTIMIZERS[name][1]
    if sparse:  # bytes of the touched rows (Adam's sparse update is dense: whole tables)
        touched = (rows if name == "Adam" else len(np.unique(idx))) * cols
    else:
        touched = n_dense
    # read grad + var + slots, write var + slots
    bytes_moved = 4 * touched * (1 + 2 * (1 + nslots))
    return {"times": times, "ratios": ratios, "gbs": bytes_moved / times["labkit"] / 1e9}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    ap.add_argument("--only", nargs="*", help="optimizer names to run (default: all)")
    ap.add_argument("--paths", nargs="*", choices=PATHS, default=list(PATHS),
                    help="where the step runs (default: all three)")
    args = ap.parse_args(argv)
    if args.quick:
        n_dense, rows, cols, nnz, repeats, inner = 1 << 12, 500, 8, 32, 1, 1
    else:
        n_dense, rows, cols, nnz, repeats, inner = 1 << 22, 200_000, 64, 1024, 11, 5
    names = args.only or list(OPTIMIZERS)
    bw = bandwidth_gbs(n_dense if args.quick else max(n_dense, 1 << 22), 25)
    print(f"TensorFlow {tf.__version__}; measured streaming bandwidth: {bw:.1f} GB/s; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"dense: {n_dense:,} float32 parameters; sparse: {rows:,} x {cols} table, "
          f"{nnz} gradient rows with duplicates; times: medians of {repeats} interleaved "
          f"repeats; ratios: medians of the {repeats} per-repeat ratios")
    header = (f"{'path':<12} {'optimizer':<24} {'kind':<6} {'labkit ms':>9} {'fused ms':>9} "
              f"{'keras ms':>9} {'lab/fused':>9} {'lab/keras':>9} {'fus/keras':>9} {'GB/s':>6} "
              f"{'of bw':>6}")
    print(header)
    print("-" * len(header))
    for path in args.paths:
        worst = {"dense": 0.0, "sparse": 0.0, "keras": 0.0, "fused/keras": 0.0}
        for name in names:
            for sparse in ((False, True) if path == "eager" else (False,)):
                r = case(name, sparse, n_dense, rows, cols, nnz, repeats, inner, path)
                t, q = r["times"], r["ratios"]
                kind = "sparse" if sparse else "dense"
                worst[kind] = max(worst[kind], q["fused"])
                if not sparse and "keras" in q:
                    worst["keras"] = max(worst["keras"], q["keras"])
                    worst["fused/keras"] = max(worst["fused/keras"], q["fused/keras"])
                keras, rk, fk = t.get("keras"), q.get("keras"), q.get("fused/keras")
                print(f"{path:<12} {name:<24} {kind:<6} {t['labkit'] * 1e3:9.3f} "
                      f"{t['fused'] * 1e3:9.3f} "
                      f"{(f'{keras * 1e3:9.3f}') if keras else '        -'} "
                      f"{q['fused']:9.2f} "
                      f"{(f'{rk:9.2f}') if rk else '        -'} "
                      f"{(f'{fk:9.2f}') if fk else '        -'} "
                      f"{r['gbs']:6.1f} {r['gbs'] / bw:6.0%}", flush=True)
        sparse_txt = (f", sparse labkit/fused {worst['sparse']:.2f} (target <= 1.25)"
                      if path == "eager" else "")
        print(f"worst ratios on {path}: dense labkit/fused {worst['dense']:.2f} (target <= 1.10)"
              f"{sparse_txt}, dense labkit/Keras {worst['keras']:.2f} (target <= 0.5; TF1's own "
              f"kernels: fused/Keras up to {worst['fused/keras']:.2f}); load average now "
              f"{os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

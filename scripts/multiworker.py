"""Two worker processes on 127.0.0.1 train the digits model with MultiWorkerMirroredStrategy.

Introduced in notebooks/12_scale_out.ipynb. Run from the repository root::

    .venv/bin/python scripts/multiworker.py --workers 2 --steps 60 --ckpt-dir /tmp/mw

The launcher (this script without ``--worker-index``) picks free ports on 127.0.0.1, starts one
child process per worker with its own ``TF_CONFIG`` (worker 0 is the chief), waits at most
``--timeout`` seconds, and always cleans up: a child still running at the end is terminated,
then killed. Each worker builds the digits MLP inside ``strategy.scope()``, trains it with a
``labkit.train`` optimizer wrapped in :class:`labkit.distribute.DistributedOptimizer` (gradients
are all-reduced across the two processes), and checkpoints with ``tf.train.Checkpoint``. Every
worker must take part in saving (the variables may need collectives), but only the chief's
checkpoint is kept: the other workers write into a temporary folder that is deleted at once.

The launcher prints one JSON line per worker (``worker``, ``loss``, ``accuracy``,
``weights_sum``, ``checkpoint``) and exits non-zero if any worker failed or timed out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from labkit.digits.run import OPTIMIZERS, int_at_least, positive_float  # noqa: E402  (light: no TensorFlow)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int_at_least(1), default=2, help="worker processes (default 2)")
    p.add_argument("--steps", type=int_at_least(1), default=60, help="training steps (default 60)")
    p.add_argument("--batch-size", type=int_at_least(1), default=64,
                   help="GLOBAL batch size, split across the workers (default 64)")
    p.add_argument("--optimizer", default="Adam", choices=OPTIMIZERS,
                   help="labkit.train optimizer (default Adam)")
    p.add_argument("--learning-rate", type=positive_float, default=None,
                   help="learning rate (default: labkit.digits.run.DEFAULT_LEARNING_RATES)")
    p.add_argument("--ckpt-dir", default=None,
                   help="where the chief writes its checkpoint (default: a temporary folder)")
    p.add_argument("--timeout", type=positive_float, default=180.0,
                   help="seconds before the launcher kills the workers (default 180)")
    p.add_argument("--seed", type=int_at_least(0), default=0)
    p.add_argument("--worker-index", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.batch_size % args.workers:
        p.error(f"argument --batch-size: must be divisible by --workers ({args.workers}), "
                f"got {args.batch_size}")
    return args


def free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1 (bound, read, released)."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


# ----------------------------------------------------------------------------- worker
def run_worker(args: argparse.Namespace) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    from labkit.data import load_digits
    from labkit.digits.model import build_mlp
    from labkit.digits.run import make_optimizer
    from labkit.distribute import DistributedOptimizer, make_distributed_train_step
    from labkit.distribute import trainable_tf_variables as tf_vars
    from labkit.seeding import seed_everything

    seed_everything(args.seed, deterministic_ops=False)
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    resolver = strategy.cluster_resolver
    is_chief = resolver.task_id == 0
    split = load_digits(seed=args.seed)
    with strategy.scope():
        model = build_mlp(seed=args.seed)
        opt = DistributedOptimizer(make_optimizer(args.optimizer, args.learning_rate))
    # Every worker makes the same shuffled stream; the strategy gives each worker its shard.
    ds = (tf.data.Dataset.from_tensor_slices((split.x_train, split.y_train))
          .shuffle(len(split.x_train), seed=args.seed).repeat().batch(args.batch_size,
                                                                      drop_remainder=True))
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dist = iter(strategy.experimental_distribute_dataset(ds.with_options(options)))
    step = make_distributed_train_step(strategy, model, opt, args.batch_size)
    loss = float("nan")
    for _ in range(args.steps):
        x, y = next(dist)
        loss = float(step(x, y))

    ckpt = tf.train.Checkpoint(model=model, optimizer=opt.optimizer)
    ckpt_dir = args.ckpt_dir if is_chief else tempfile.mkdtemp(prefix=f"mw-worker{resolver.task_id}-")
    path = ckpt.save(os.path.join(ckpt_dir, "ckpt"))
    if not is_chief:
        shutil.rmtree(ckpt_dir, ignore_errors=True)
        path = None
    logits = model(split.x_test, training=False)
    accuracy = float(np.mean(np.argmax(logits, axis=1) == split.y_test))
    weights_sum = float(sum(np.abs(v.numpy()).sum() for v in tf_vars(model)))
    return {"worker": int(resolver.task_id), "loss": round(loss, 6),
            "accuracy": round(accuracy, 4), "weights_sum": weights_sum,
            "steps": int(opt.optimizer.iterations.numpy()), "checkpoint": path}


# ----------------------------------------------------------------------------- launcher
def _stop(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Terminate one child's process group, then kill it if it does not exit."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def launch(args: argparse.Namespace) -> int:
    from labkit.distribute import tf_config

    own_tmp = args.ckpt_dir is None
    ckpt_dir = args.ckpt_dir or tempfile.mkdtemp(prefix="mw-chief-")
    if os.path.isdir(ckpt_dir):  # a rerun overwrites what the previous run wrote
        for child in Path(ckpt_dir).glob("ckpt-*"):
            child.unlink()
        (Path(ckpt_dir) / "checkpoint").unlink(missing_ok=True)
    ports = free_ports(args.workers)
    procs: list[subprocess.Popen] = []
    results: list[dict] = []
    status = 0
    started = time.monotonic()
    try:
        for i in range(args.workers):
            env = dict(os.environ, TF_CONFIG=tf_config(ports, i), TF_CPP_MIN_LOG_LEVEL="2",
                       PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker-index", str(i),
                   "--workers", str(args.workers), "--steps", str(args.steps),
                   "--batch-size", str(args.batch_size), "--optimizer", args.optimizer,
                   "--ckpt-dir", ckpt_dir, "--seed", str(args.seed)]
            if args.learning_rate is not None:
                cmd += ["--learning-rate", str(args.learning_rate)]
            procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True,
                                          start_new_session=True))
        for i, proc in enumerate(procs):
            remaining = max(0.1, args.timeout - (time.monotonic() - started))
            try:
                out, err = proc.communicate(timeout=remaining)
            except subprocess.TimeoutExpired:
                print(f"worker {i}: timed out after {args.timeout:g} s; stopping all workers",
                      file=sys.stderr)
                status = 3
                break
            if proc.returncode != 0:
                print(f"worker {i} failed (exit {proc.returncode}):\n{err[-3000:]}",
                      file=sys.stderr)
                status = 2
                break
            lines = [ln for ln in out.splitlines() if ln.startswith("{")]
            results.append(json.loads(lines[-1]))
    finally:
        for proc in procs:
            _stop(proc)
    for r in results:
        print(json.dumps(r, sort_keys=True))
    print(json.dumps({"elapsed_s": round(time.monotonic() - started, 1), "status": status,
                      "pids": [p.pid for p in procs]}))
    if own_tmp and status != 0:
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    return status


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker_index is None:
        return launch(args)
    print(json.dumps(run_worker(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

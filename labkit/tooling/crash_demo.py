"""A small training run that saves every few steps and resumes exactly -- to be killed on purpose.

Used by tests/tooling/test_crash_resume.py, which SIGKILLs it at random moments, including during
saves (notebooks/09_saver.ipynb teaches interrupt-and-resume with Keras's BackupAndRestore).

Run it::

    python -m labkit.tooling.crash_demo --steps 200 --ckpt notebooks/checkpoints/crash --save-every 10

Each run resumes from the newest complete checkpoint in ``--ckpt`` (model, Adam with its slots
and beta powers, global step, and the shuffling ``tf.data`` iterator), so a killed-and-resumed
run ends with weights bit-identical to an uninterrupted one. It prints one line per event:
``ready <step>``, ``loss <step> <value>``, ``saving <step>``, ``saved <step> <prefix>``,
``done <step>``; the same lines are appended to ``<ckpt>/events.log`` and losses to
``<ckpt>/loss.csv`` (so a resumed run continues the same loss curve). At the end the final
weights go to ``<ckpt>/final.npz``, with the optimizer's whole state (slots, beta powers,
counters) and the global step.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from labkit.train.saver import Saver, latest_checkpoint, list_checkpoints


class MLP(tf.Module):
    """A plain MLP on tf.Variables (no Keras: starts fast in a fresh process)."""

    def __init__(self, sizes: tuple[int, ...], seed: int = 0) -> None:
        super().__init__(name="mlp")
        rng = np.random.RandomState(seed)
        self.weights_ = []
        self.biases = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            w = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out)).astype(np.float32)
            self.weights_.append(tf.Variable(w, name=f"w{i}"))
            self.biases.append(tf.Variable(np.zeros(n_out, np.float32), name=f"b{i}"))

    @property
    def params(self) -> list[tf.Variable]:
        return [v for pair in zip(self.weights_, self.biases, strict=True) for v in pair]

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        for i, (w, b) in enumerate(zip(self.weights_, self.biases, strict=True)):
            x = tf.matmul(x, w) + b
            if i < len(self.weights_) - 1:
                x = tf.nn.relu(x)
        return x


def make_optimizer(learning_rate: float = 0.01, optimizer: str = "labkit"):
    """An Adam with the TF1 API: ``labkit.train``'s (default) or TF's ``tf.compat.v1.train`` one.

    Both keep the slots ``m``/``v`` and the beta powers, and both are trackable.
    """
    if optimizer == "labkit":
        from labkit.train import AdamOptimizer

        return AdamOptimizer(learning_rate=learning_rate)
    if optimizer == "tf1":
        return tf.compat.v1.train.AdamOptimizer(learning_rate=learning_rate)
    raise ValueError(f"`optimizer` must be 'labkit' or 'tf1'. Received: optimizer={optimizer!r}")


def build(hidden: int = 64, features: int = 16, seed: int = 0, lr: float = 0.01, optimizer: str = "labkit"):
    """Model, optimizer, global step, data iterator and a Saver over all of them."""
    model = MLP((features, hidden, hidden, 1), seed=seed)
    opt = make_optimizer(lr, optimizer)
    step = tf.Variable(0, dtype=tf.int64, name="global_step")
    rng = np.random.RandomState(seed + 1)
    x = rng.normal(size=(512, features)).astype(np.float32)
    y = (np.sin(x[:, :1] * 2.0) + 0.5 * x[:, 1:2] ** 2).astype(np.float32)
    ds = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(512, seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(32)
    )
    iterator = iter(ds)
    saver = Saver(
        {"model": model, "optimizer": opt, "global_step": step, "data": iterator}, max_to_keep=3
    )
    return model, opt, step, iterator, saver


def train(
    steps: int,
    ckpt_dir: str,
    save_every: int = 10,
    hidden: int = 64,
    seed: int = 0,
    lr: float = 0.01,
    emit: Callable[[str], None] | None = None,
    sleep: float = 0.0,
    optimizer: str = "labkit",
    quiet: bool = False,
) -> dict[str, Any]:
    """Train to ``steps`` global steps, resuming from ``ckpt_dir``; return a small summary.

    ``emit`` receives each event line (default: print, nothing if ``quiet``). ``sleep`` seconds
    are waited after every step (time to press Ctrl-C in a demo). ``optimizer``:
    ``"labkit"`` or ``"tf1"`` (see :func:`make_optimizer`).
    """
    for arg, value, low in (("steps", steps, 1), ("save_every", save_every, 1), ("hidden", hidden, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"`{arg}` must be an integer >= {low}. Received: {arg}={value!r}")
    tf.random.set_seed(seed)
    np.random.seed(seed)
    tf.config.experimental.enable_op_determinism()
    os.makedirs(ckpt_dir, exist_ok=True)
    log_path = os.path.join(ckpt_dir, "events.log")

    def _emit(line: str) -> None:
        fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        if emit is not None:
            emit(line)
        elif not quiet:
            print(line, flush=True)

    model, opt, step, _iterator, saver = build(hidden=hidden, seed=seed, lr=lr, optimizer=optimizer)
    latest = latest_checkpoint(ckpt_dir)
    if latest is not None:
        saver.restore(None, latest)
        saver.recover_last_checkpoints(list_checkpoints(ckpt_dir))
    _emit(f"ready {int(step.numpy())}")
    it = saver.checkpoint.data
    loss_csv = os.path.join(ckpt_dir, "loss.csv")
    start = int(step.numpy())
    params = model.params

    def train_step(xb: tf.Tensor, yb: tf.Tensor) -> tf.Tensor:
        # eager on purpose: a fresh process starts training at once (no tracing)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(xb) - yb) ** 2)
        grads = tape.gradient(loss, params)
        opt.apply_gradients(list(zip(grads, params, strict=True)), global_step=step)
        return loss

    while int(step.numpy()) < steps:
        xb, yb = next(it)
        loss = train_step(xb, yb)
        s = int(step.numpy())
        _append(loss_csv, f"{s},{float(loss.numpy())!r}\n")
        _emit(f"loss {s} {float(loss.numpy()):.6f}")
        if s % save_every == 0 or s == steps:
            _emit(f"saving {s}")
            prefix = saver.save(None, os.path.join(ckpt_dir, "model.ckpt"), global_step=s)
            _emit(f"saved {s} {prefix}")
        if sleep:
            import time

            time.sleep(sleep)
    # the whole training state: weights, the optimizer's slots, beta powers and counters, step
    state = [*model.params, *opt.variables(), step]
    if hasattr(opt, "iterations"):  # labkit's step counter (TF1's optimizer has none)
        state.append(opt.iterations)
    final = {v.name: v.numpy() for v in state}
    if len(final) != len(state):
        raise RuntimeError(f"two variables share a name: {sorted(v.name for v in state)}")
    tmp = os.path.join(ckpt_dir, f".final.tmp-{os.getpid()}.npz")
    np.savez(tmp, **final)
    os.replace(tmp, os.path.join(ckpt_dir, "final.npz"))
    _emit(f"done {int(step.numpy())}")
    return {"start": start, "end": int(step.numpy())}


def _append(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def read_losses(ckpt_dir: str) -> tuple[np.ndarray, np.ndarray]:
    """The (steps, losses) a run (and its resumptions) logged, last value per step wins.

    A killed run may have logged steps after its last checkpoint; the resumed run redoes them
    and logs them again -- with bit-identical values, which is the point of exact resume.
    """
    path = os.path.join(ckpt_dir, "loss.csv")
    by_step: dict[int, float] = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) == 2 and parts[0].isdigit():
                    try:
                        by_step[int(parts[0])] = float(parts[1])
                    except ValueError:  # a line cut by a kill
                        continue
    steps = np.array(sorted(by_step), dtype=int)
    return steps, np.array([by_step[s] for s in steps], dtype=float)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (``python -m labkit.tooling.crash_demo``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--ckpt", required=True, help="checkpoint folder (created)")
    parser.add_argument("--save-every", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds to wait after each step")
    parser.add_argument("--optimizer", choices=("labkit", "tf1"), default="labkit")
    args = parser.parse_args(argv)
    train(
        args.steps, args.ckpt, args.save_every, args.hidden, args.seed, args.lr,
        sleep=args.sleep, optimizer=args.optimizer,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The capstone training run, as a function and as a command line.

The capstone's program as a command line (notebooks/11_capstone.ipynb has the learner write
it). Everything from the lab in one loop: a
``labkit.train`` optimizer (any of the ten), optional gradient clipping, summaries for
TensorBoard (``labkit.summary.FileWriter``), checkpoints every N steps with exact resume
(``labkit.train.saver.Saver`` over model, optimizer slots, global step *and* the tf.data
iterator), and a held-out evaluation. The same run outside Jupyter::

    python -m labkit.digits.run --optimizer Adam --steps 600 --batch-size 64 \\
        --logdir runs/capstone --ckpt-dir checkpoints/capstone --clip-norm 5 --seed 0
    # interrupted? continue from the newest periodic checkpoint:
    python -m labkit.digits.run ... --resume
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from labkit.registry import SHORT_NAMES, short_name

__all__ = [
    "OPTIMIZERS",
    "DEFAULT_LEARNING_RATES",
    "TrainResult",
    "make_optimizer",
    "train_digits",
    "build_parser",
    "main",
]

#: The ten labkit optimizers by short name (the ``--optimizer`` values), in the seed's order.
OPTIMIZERS: tuple[str, ...] = SHORT_NAMES

#: Learning rates that train the digits MLP in a few hundred steps. ``None`` keeps the
#: optimizer's TF1 default (Adam's 0.001); TF1 made ``learning_rate`` a required argument of
#: most of the others, and Adadelta's default (0.001) barely moves in a few hundred steps.
DEFAULT_LEARNING_RATES: dict[str, float | None] = {
    "GradientDescent": 0.5, "Momentum": 0.1, "Adagrad": 0.1, "AdagradDA": 0.1,
    "Adadelta": 1.0, "RMSProp": 0.001, "Adam": None, "Ftrl": 0.1,
    "ProximalGradientDescent": 0.5, "ProximalAdagrad": 0.1,
}


def _canonical(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"`optimizer` must be a string, one of {', '.join(OPTIMIZERS)}. "
                        f"Received: optimizer={name!r}")
    short = short_name(name)
    for known in OPTIMIZERS:
        if short.lower() == known.lower():
            return known
    raise ValueError(f"`optimizer` must be one of {', '.join(OPTIMIZERS)} (with or without the "
                     f"'Optimizer' suffix). Received: optimizer={name!r}")


def make_optimizer(name: str, learning_rate: float | None = None, global_step: Any = None) -> Any:
    """A ``labkit.train`` optimizer by name (``"Adam"`` or ``"AdamOptimizer"``).

    ``learning_rate=None`` uses
    :data:`DEFAULT_LEARNING_RATES` (Adam keeps its TF1 default); Momentum gets
    ``momentum=0.9``. Every other hyperparameter keeps its TF1 default. ``AdagradDA`` needs
    the global step (as in TF1): pass the integer variable your loop increments (a new zero
    variable is made when None).

    Raises:
        ValueError: unknown name, or a learning rate that is not a positive number.
    """
    import labkit.train as lt

    short = _canonical(name)
    if learning_rate is not None and (isinstance(learning_rate, bool)
                                      or not isinstance(learning_rate, (int, float))
                                      or not math.isfinite(learning_rate) or learning_rate <= 0):
        raise ValueError(f"`learning_rate` must be a number > 0 or None. "
                         f"Received: learning_rate={learning_rate!r}")
    lr = learning_rate if learning_rate is not None else DEFAULT_LEARNING_RATES[short]
    kwargs: dict[str, Any] = {} if lr is None else {"learning_rate": float(lr)}
    if short == "Momentum":
        kwargs["momentum"] = 0.9
    if short == "AdagradDA":
        if global_step is None:
            import tensorflow as tf

            global_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        kwargs["global_step"] = global_step
    return lt.OPTIMIZERS[f"{short}Optimizer"](**kwargs)


@dataclass
class TrainResult:
    """What :func:`train_digits` returns (introduced in notebooks/11_capstone.ipynb)."""

    optimizer: str
    start_step: int
    step: int
    interrupted: bool
    train_loss: float
    test_loss: float
    test_accuracy: float
    seconds: float
    checkpoint: str | None
    history: list[tuple[int, float]] = field(default_factory=list)
    eval_history: list[tuple[int, float, float]] = field(default_factory=list)
    model: Any = field(default=None, repr=False)
    split: Any = field(default=None, repr=False)


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
    return value


def _check_positive_or_none(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or value <= 0):
        raise ValueError(f"`{name}` must be a number > 0 or None. Received: {name}={value!r}")
    return float(value)


def train_digits(
    optimizer: str | Any = "Adam",
    steps: int = 600,
    batch_size: int = 64,
    learning_rate: float | None = None,
    clip_norm: float | None = None,
    logdir: str | os.PathLike | None = None,
    ckpt_dir: str | os.PathLike | None = None,
    resume: bool = False,
    save_every: int = 100,
    log_every: int = 10,
    stop_at: int | None = None,
    seed: int = 0,
    hidden: Sequence[int] = (64,),
    progress: bool = False,
    callback: Callable[[int, float], Any] | None = None,
) -> TrainResult:
    """Train the digits MLP to global step ``steps``; the capstone run.

    The capstone as one call (the CLI ``python -m labkit.digits.run`` calls
    it). Deterministic for a seed: ops are deterministic, the data order is a seeded shuffle,
    and a resumed run continues the *same* data stream (the tf.data iterator is checkpointed),
    so "train 300, stop, resume to 600" gives the same weights as "train 600".

    Args:
        optimizer: a short name from :data:`OPTIMIZERS` (``"Adam"``, ``"AdamOptimizer"``...)
            or an optimizer object from ``labkit.train``.
        steps: global step to train to, >= 0 (a resumed run counts from its checkpoint).
        batch_size: examples per step, >= 1.
        learning_rate: None for :data:`DEFAULT_LEARNING_RATES`; ignored for an object.
        clip_norm: clip the gradients to this global norm (``tf.clip_by_global_norm``) or None.
        logdir: run folder for TensorBoard summaries (``loss``, ``test/loss``,
            ``test/accuracy``, ``learning/grad_norm``), or None.
        ckpt_dir: folder for checkpoints (every ``save_every`` steps and at the end), or None.
        resume: restore the newest checkpoint in ``ckpt_dir`` first (none there: start at 0).
        save_every: checkpoint period in steps, >= 1.
        log_every: summary / history / callback period in steps, >= 1.
        stop_at: simulate an interruption: stop (after checkpointing) at this global step.
        seed: non-negative integer for weights, data split and order.
        hidden: hidden layer sizes of the MLP.
        progress: show a tqdm progress bar.
        callback: called as ``callback(step, loss)`` every ``log_every`` steps.
    """
    steps = _check_int("steps", steps, 0)
    batch_size = _check_int("batch_size", batch_size, 1)
    save_every = _check_int("save_every", save_every, 1)
    log_every = _check_int("log_every", log_every, 1)
    seed = _check_int("seed", seed, 0)
    clip_norm = _check_positive_or_none("clip_norm", clip_norm)
    if stop_at is not None:
        stop_at = _check_int("stop_at", stop_at, 0)
    if resume and ckpt_dir is None:
        raise ValueError("`resume=True` needs a `ckpt_dir` to resume from. Received: ckpt_dir=None")
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable or None. Received: callback={callback!r}")

    from labkit.seeding import seed_everything

    seed_everything(seed)
    import tensorflow as tf
    from tqdm.auto import tqdm

    from labkit.data import load_digits
    from labkit.digits.model import build_mlp, evaluate, make_train_step
    from labkit.train.saver import Saver, latest_checkpoint, list_checkpoints

    global_step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
    if isinstance(optimizer, str):
        name = _canonical(optimizer)
        opt = make_optimizer(name, learning_rate, global_step=global_step)
    elif hasattr(optimizer, "apply_gradients") and hasattr(optimizer, "compute_gradients"):
        opt, name = optimizer, type(optimizer).__name__.removesuffix("Optimizer")
    else:
        raise TypeError(f"`optimizer` must be a name from {', '.join(OPTIMIZERS)} or a "
                        f"labkit.train optimizer. Received: optimizer={optimizer!r}")

    split = load_digits(seed=seed)
    model = build_mlp(hidden=tuple(hidden), seed=seed)
    train_step = make_train_step(model, opt, clip_norm=clip_norm)
    ds = (tf.data.Dataset.from_tensor_slices((split.x_train, split.y_train))
          .shuffle(len(split.x_train), seed=seed, reshuffle_each_iteration=True)
          .repeat().batch(batch_size, drop_remainder=True))
    data = iter(ds)
    saver = None
    restored_from = None
    if ckpt_dir is not None:
        ckpt_dir = os.fspath(ckpt_dir)
        # The optimizer's slots (Adam's m and v...) are saved with the model's weights: labkit
        # optimizers key a Keras 3 weight and its tf.Variable alike (tests/train/test_optimizer.py).
        saver = Saver({"model": model, "optimizer": opt, "global_step": global_step,
                       "data": data}, max_to_keep=3)
        if resume:
            restored_from = latest_checkpoint(ckpt_dir)
            if restored_from is not None:
                saver.restore(None, restored_from)
                # keep rotating the checkpoints already there (max_to_keep holds across resumes)
                saver.recover_last_checkpoints(list_checkpoints(ckpt_dir))
    writer = None
    if logdir is not None:
        from labkit.summary import FileWriter

        writer = FileWriter(os.fspath(logdir), flush_secs=5)

    start = int(global_step.numpy())
    end = steps if stop_at is None else min(steps, stop_at)
    history: list[tuple[int, float]] = []
    eval_history: list[tuple[int, float, float]] = []
    loss = float("nan")
    last_saved = None
    t0 = time.perf_counter()
    bar = tqdm(total=max(0, end - start), initial=0, desc=f"{name}", unit="step",
               disable=not progress, leave=True)

    def save() -> str | None:
        if saver is None:
            return None
        return saver.save(None, os.path.join(ckpt_dir, "model.ckpt"),
                          global_step=int(global_step.numpy()))

    def log_eval(step: int) -> tuple[float, float]:
        test_loss, test_acc = evaluate(model, split.x_test, split.y_test)
        eval_history.append((step, float(test_loss), float(test_acc)))
        if writer is not None:
            writer.add_scalar("test/loss", float(test_loss), step)
            writer.add_scalar("test/accuracy", float(test_acc), step)
        return float(test_loss), float(test_acc)

    try:
        for _ in range(start, end):
            x, y = next(data)
            loss_t = train_step(x, y)
            global_step.assign_add(1)
            step = int(global_step.numpy())
            if step % log_every == 0 or step == end:
                loss = float(loss_t)
                history.append((step, loss))
                if writer is not None:
                    writer.add_scalar("loss", loss, step)
                if callback is not None:
                    callback(step, loss)
                bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
            if step % save_every == 0:
                last_saved = save()
                log_eval(step)
            bar.update(1)
    finally:
        bar.close()
    seconds = time.perf_counter() - t0
    step = int(global_step.numpy())
    if step == start and restored_from is not None:
        last_saved = restored_from  # nothing new to save: the restored checkpoint is current
    elif saver is not None and (last_saved is None or not last_saved.endswith(f"-{step}")):
        last_saved = save()
    test_loss, test_acc = log_eval(step)
    if writer is not None:
        writer.close()
    return TrainResult(optimizer=name, start_step=start, step=step, interrupted=step < steps,
                       train_loss=loss, test_loss=test_loss, test_accuracy=test_acc,
                       seconds=seconds, checkpoint=last_saved, history=history,
                       eval_history=eval_history, model=model, split=split)


# ----------------------------------------------------------------------------- CLI
def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer >= ``minimum`` (also used by scripts/multiworker.py)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value

    return parse


def positive_float(text: str) -> float:
    """An argparse ``type``: a finite number > 0 (also used by scripts/multiworker.py)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


def _optimizer_name(text: str) -> str:
    try:
        return _canonical(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown optimizer {text!r}; choose one of: {', '.join(OPTIMIZERS)}") from None


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m labkit.digits.run`` argument parser (notebooks/11_capstone.ipynb)."""
    p = argparse.ArgumentParser(
        prog="python -m labkit.digits.run",
        description="Train the digits MLP with a labkit.train optimizer (the capstone run).")
    p.add_argument("--optimizer", type=_optimizer_name, default="Adam",
                   help=f"one of: {', '.join(OPTIMIZERS)} (default Adam)")
    p.add_argument("--steps", type=int_at_least(0), default=600,
                   help="global step to train to (default 600)")
    p.add_argument("--batch-size", type=int_at_least(1), default=64, help="default 64")
    p.add_argument("--learning-rate", type=positive_float, default=None,
                   help="default: a per-optimizer rate that suits digits")
    p.add_argument("--clip-norm", type=positive_float, default=None,
                   help="clip gradients to this global norm (default: no clipping)")
    p.add_argument("--logdir", default=None, help="TensorBoard run folder (default: none)")
    p.add_argument("--ckpt-dir", default=None, help="checkpoint folder (default: none)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the newest checkpoint in --ckpt-dir")
    p.add_argument("--save-every", type=int_at_least(1), default=100,
                   help="checkpoint every N steps (default 100)")
    p.add_argument("--seed", type=int_at_least(0), default=0, help="default 0")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 done, 130 interrupted by Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.resume and args.ckpt_dir is None:
        parser.error("argument --resume: needs --ckpt-dir (the folder to resume from)")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        result = train_digits(
            optimizer=args.optimizer, steps=args.steps, batch_size=args.batch_size,
            learning_rate=args.learning_rate, clip_norm=args.clip_norm, logdir=args.logdir,
            ckpt_dir=args.ckpt_dir, resume=args.resume, save_every=args.save_every,
            seed=args.seed, progress=not args.no_progress)
    except KeyboardInterrupt:
        print("interrupted: rerun with --resume to continue from the newest checkpoint",
              file=sys.stderr)
        return 130
    print(f"optimizer={result.optimizer} steps={result.start_step}->{result.step} "
          f"train_loss={result.train_loss:.4f} test_loss={result.test_loss:.4f} "
          f"test_accuracy={result.test_accuracy:.4f} seconds={result.seconds:.1f}"
          + (f" checkpoint={result.checkpoint}" if result.checkpoint else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

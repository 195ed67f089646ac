"""Checks for the exercises of notebooks/10_summary_tensorboard.ipynb."""

from __future__ import annotations

import os
from typing import Any

from labkit.teaching.exercises.feedback import Feedback, hint, passed


def check_stage_runs(logdir: str | os.PathLike, stages: tuple[str, ...] = ("stage1", "stage2"),
                     tag: str = "loss", min_points: int = 5) -> Feedback:
    """Exercise "one FileWriter per stage": each stage folder under ``logdir`` must hold at
    least ``min_points`` scalars ``tag`` at distinct steps, readable now (flushed/closed).

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    if isinstance(logdir, bytes) or not isinstance(logdir, (str, os.PathLike)):
        raise TypeError(f"`logdir` must be a path. Received: logdir={logdir!r}")
    from labkit.summary import event_files, read_scalars

    if not os.path.isdir(logdir):
        return hint(f"There is no folder {os.fspath(logdir)!r} yet: create one writer per stage, "
                    f"e.g. tf.summary.create_file_writer(os.path.join(logdir, {stages[0]!r})).")
    records = read_scalars(logdir, tags=[tag])
    for stage in stages:
        got = sorted({r.step for r in records if r.run == stage})
        if not got:
            has_file = bool(event_files(os.path.join(logdir, stage)))
            if has_file:
                return hint(f"Run {stage!r} has an event file but no {tag!r} scalar on disk yet: "
                            "the events are still queued -- call flush() or close() "
                            "(or use the writer as a `with` block).")
            return hint(f"No run named {stage!r}: its writer must write to "
                        f"{os.path.join(os.fspath(logdir), stage)!r}.")
        if len(got) < min_points:
            return hint(f"Run {stage!r} has {tag!r} at {len(got)} distinct steps; write at least "
                        f"{min_points} (steps 0..{min_points - 1}).")
    others = sorted({r.run for r in records} - set(stages))
    extra = f" (other runs present: {others})" if others else ""
    return passed(f"Each of {list(stages)} is its own run with {tag!r} on disk; TensorBoard "
                  f"draws them as separately coloured curves{extra}.")


def check_smoothed_value(answer: float, values: tuple[float, ...] = (1.0, 3.0),
                         weight: float = 0.5) -> Feedback:
    """Exercise: TensorBoard's smoothed value of the LAST point of ``values`` by hand.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return hint(f"Give a number. Received: answer={answer!r}")
    from labkit.summary import smooth

    expected = smooth(list(values), weight)[-1]
    naive = 0.0
    for v in values:
        naive = naive * weight + (1 - weight) * v
    if abs(answer - expected) <= 1e-6:
        return passed(f"{expected:g}: the moving average {naive:g} divided by the debias "
                      f"factor 1 - {weight:g}^{len(values)}.")
    if abs(answer - naive) <= 1e-6:
        return hint(f"{answer:g} is the plain moving average started at 0; TensorBoard also "
                    f"divides by 1 - w^n (n = number of points so far) to remove the pull towards 0.")
    return hint(f"Received {answer:g}. Start with last = 0; for each value: last = w*last + "
                "(1-w)*value; then divide the final last by 1 - w^n.")


def check_keras_runs(log_dir: str | os.PathLike, predicted_runs: Any, predicted_points: Any, *,
                     epochs: int, steps_per_epoch: int, tag: str = "epoch_loss") -> Feedback:
    """Predict-then-check: the runs ``keras.callbacks.TensorBoard(log_dir)`` wrote, and the number
    of ``tag`` points in its training run.

    The truth is read from ``log_dir`` on disk (TensorBoard's loader), never assumed. The
    prediction is compared with it, and the usual wrong predictions are named: the log_dir
    itself as the only run, a missing validation run, one point per batch (the total number of
    batches, or the batches of one epoch) instead of one per epoch.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    if isinstance(log_dir, bytes) or not isinstance(log_dir, (str, os.PathLike)):
        raise TypeError(f"`log_dir` must be a path. Received: log_dir={log_dir!r}")
    for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}")
    if predicted_runs is None or predicted_points is None:
        return hint("Fill in your prediction first: `predicted_runs` (a list of folder names) and "
                    "`predicted_points` (a whole number), before you run the fit.")
    if isinstance(predicted_runs, str) or not isinstance(predicted_runs, (list, tuple, set)):
        return hint(f"`predicted_runs` must be a list of folder names, e.g. [\"a\", \"b\"]. "
                    f"Received: {predicted_runs!r}")
    if isinstance(predicted_points, bool) or not isinstance(predicted_points, int):
        return hint(f"`predicted_points` must be a whole number. Received: {predicted_points!r}")
    if not os.path.isdir(log_dir):
        return hint(f"{os.fspath(log_dir)!r} does not exist yet: run the model.fit cell, then this check.")
    from labkit.summary import read_scalars

    records = read_scalars(log_dir)
    actual_runs = sorted({r.run for r in records})
    train_points = len({r.step for r in records if r.run == "train" and r.tag == tag})
    base = os.path.basename(os.path.normpath(os.fspath(log_dir)))
    runs = sorted(str(r).strip("/").split("/")[-1] for r in predicted_runs)
    problems = []
    if runs != actual_runs:
        if runs in ([base], ["."], []):
            problems.append(f"the callback does not write into {base!r} itself: it opens one writer per "
                            f"phase, so the runs are {actual_runs}")
        elif "validation" in actual_runs and runs == [r for r in actual_runs if r != "validation"]:
            problems.append("validation_data gives the callback a second writer: a run 'validation' "
                            f"beside 'train' (the runs are {actual_runs})")
        else:
            problems.append(f"the run folders are {actual_runs}, not {runs}")
    if predicted_points != train_points:
        if predicted_points == epochs * steps_per_epoch:
            problems.append(f"{predicted_points} is the number of batches ({epochs} epochs x "
                            f"{steps_per_epoch}); with update_freq='epoch' (the default) {tag!r} gets "
                            "one point per epoch")
        elif predicted_points == steps_per_epoch:
            problems.append(f"{predicted_points} is the number of batches in one epoch; {tag!r} is "
                            "written once per epoch, at step=epoch")
        else:
            problems.append(f"the training run has {train_points} {tag!r} points, not {predicted_points}: "
                            "count what is written once per epoch")
    if problems:
        return hint("; and ".join(problems) + ".")
    return passed(f"Runs {actual_runs}, {train_points} {tag!r} points (one per epoch, at step=epoch).")

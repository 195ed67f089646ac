"""Checks for the exercises of notebooks/10_summary_tensorboard.ipynb."""

from __future__ import annotations

import os
from typing import Any

from labkit.i18n import _
from labkit.teaching.exercises.feedback import Feedback, hint, passed


def check_stage_runs(logdir: str | os.PathLike, stages: tuple[str, ...] = ("stage1", "stage2"),
                     tag: str = "loss", min_points: int = 5) -> Feedback:
    """Exercise "one FileWriter per stage": each stage folder under ``logdir`` must hold at
    least ``min_points`` scalars ``tag`` at distinct steps, readable now (flushed/closed).

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    if isinstance(logdir, bytes) or not isinstance(logdir, (str, os.PathLike)):
        raise TypeError(_("`logdir` must be a path. Received: logdir={logdir!r}").format(logdir=logdir))
    from labkit.summary import event_files, read_scalars

    if not os.path.isdir(logdir):
        return hint(_("There is no folder {folder!r} yet: create one writer per stage, e.g. "
                      "tf.summary.create_file_writer(os.path.join(logdir, {stages!r})).").format(folder=os.fspath(logdir), stages=stages[0]))
    records = read_scalars(logdir, tags=[tag])
    for stage in stages:
        got = sorted({r.step for r in records if r.run == stage})
        if not got:
            has_file = bool(event_files(os.path.join(logdir, stage)))
            if has_file:
                return hint(_("Run {stage!r} has an event file but no {tag!r} scalar on disk yet: the events are still "
                              "queued -- call flush() or close() (or use the writer as a `with` block).").format(stage=stage, tag=tag))
            return hint(_("No run named {stage!r}: its writer must write to {folder!r}.").format(stage=stage, folder=os.path.join(os.fspath(logdir), stage)))
        if len(got) < min_points:
            return hint(_("Run {stage!r} has {tag!r} at {n_got} distinct steps; write at least {min_points} (steps "
                          "0..{value}).").format(stage=stage, tag=tag, n_got=len(got), min_points=min_points, value=min_points - 1))
    others = sorted({r.run for r in records} - set(stages))
    extra = _(" (other runs present: {others})").format(others=others) if others else ""
    return passed(_("Each of {value} is its own run with {tag!r} on disk; TensorBoard draws them as "
                    "separately coloured curves{extra}.").format(value=list(stages), tag=tag, extra=extra))


def check_smoothed_value(answer: float, values: tuple[float, ...] = (1.0, 3.0),
                         weight: float = 0.5) -> Feedback:
    """Exercise: TensorBoard's smoothed value of the LAST point of ``values`` by hand.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return hint(_("Give a number. Received: answer={answer!r}").format(answer=answer))
    from labkit.summary import smooth

    expected = smooth(list(values), weight)[-1]
    naive = 0.0
    for v in values:
        naive = naive * weight + (1 - weight) * v
    if abs(answer - expected) <= 1e-6:
        return passed(_("{expected:g}: the moving average {naive:g} divided by the debias factor 1 - "
                        "{weight:g}^{n_values}.").format(expected=expected, naive=naive, weight=weight, n_values=len(values)))
    if abs(answer - naive) <= 1e-6:
        return hint(_("{answer:g} is the plain moving average started at 0; TensorBoard also divides by 1 - "
                      "w^n (n = number of points so far) to remove the pull towards 0.").format(answer=answer))
    return hint(_("Received {answer:g}. Start with last = 0; for each value: last = w*last + (1-w)*value; "
                  "then divide the final last by 1 - w^n.").format(answer=answer))


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
        raise TypeError(_("`log_dir` must be a path. Received: log_dir={log_dir!r}").format(log_dir=log_dir))
    for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(_("`{name}` must be an integer >= 1. Received: {name}={value!r}").format(name=name, value=value))
    if predicted_runs is None or predicted_points is None:
        return hint(_("Fill in your prediction first: `predicted_runs` (a list of folder names) and "
                      "`predicted_points` (a whole number), before you run the fit."))
    if isinstance(predicted_runs, str) or not isinstance(predicted_runs, (list, tuple, set)):
        return hint(_("`predicted_runs` must be a list of folder names, e.g. [\"a\", \"b\"]. Received: "
                      "{predicted_runs!r}").format(predicted_runs=predicted_runs))
    if isinstance(predicted_points, bool) or not isinstance(predicted_points, int):
        return hint(_("`predicted_points` must be a whole number. Received: {predicted_points!r}").format(predicted_points=predicted_points))
    if not os.path.isdir(log_dir):
        return hint(_("{folder!r} does not exist yet: run the model.fit cell, then this check.").format(folder=os.fspath(log_dir)))
    from labkit.summary import read_scalars

    records = read_scalars(log_dir)
    actual_runs = sorted({r.run for r in records})
    train_points = len({r.step for r in records if r.run == "train" and r.tag == tag})
    base = os.path.basename(os.path.normpath(os.fspath(log_dir)))
    runs = sorted(str(r).strip("/").split("/")[-1] for r in predicted_runs)
    problems = []
    if runs != actual_runs:
        if runs in ([base], ["."], []):
            problems.append(_("the callback does not write into {base!r} itself: it opens one writer per phase, so the "
                              "runs are {actual_runs}").format(base=base, actual_runs=actual_runs))
        elif "validation" in actual_runs and runs == [r for r in actual_runs if r != "validation"]:
            problems.append(_("validation_data gives the callback a second writer: a run 'validation' beside 'train' "
                              "(the runs are {actual_runs})").format(actual_runs=actual_runs))
        else:
            problems.append(_("the run folders are {actual_runs}, not {runs}").format(actual_runs=actual_runs, runs=runs))
    if predicted_points != train_points:
        if predicted_points == epochs * steps_per_epoch:
            problems.append(_("{predicted_points} is the number of batches ({epochs} epochs x {steps_per_epoch}); with "
                              "update_freq='epoch' (the default) {tag!r} gets one point per epoch").format(predicted_points=predicted_points, epochs=epochs, steps_per_epoch=steps_per_epoch, tag=tag))
        elif predicted_points == steps_per_epoch:
            problems.append(_("{predicted_points} is the number of batches in one epoch; {tag!r} is written once per "
                              "epoch, at step=epoch").format(predicted_points=predicted_points, tag=tag))
        else:
            problems.append(_("the training run has {train_points} {tag!r} points, not {predicted_points}: count what "
                              "is written once per epoch").format(train_points=train_points, tag=tag, predicted_points=predicted_points))
    if problems:
        return hint(_("{problems}.").format(problems=_("; and ").join(problems)))
    return passed(_("Runs {actual_runs}, {train_points} {tag!r} points (one per epoch, at step=epoch).").format(actual_runs=actual_runs, train_points=train_points, tag=tag))

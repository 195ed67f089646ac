"""Instructor's solutions for notebooks/10_summary_tensorboard.ipynb (exercises 1-3)."""

import os

from labkit.teaching.exercises.summary import check_keras_runs, check_smoothed_value, check_stage_runs


def exercise_1(log_dir: str, epochs: int = 3, steps_per_epoch: int = 12):
    """Predict before the fit: one run per phase, one epoch_loss point per epoch.

    ``keras.callbacks.TensorBoard`` opens ``log_dir/train`` and ``log_dir/validation``
    (``keras/src/callbacks/tensorboard.py``, lines 215-216) and writes ``epoch_*`` at
    ``step=epoch`` (lines 548-572).
    """
    predicted_runs = ["train", "validation"]
    predicted_points = epochs
    return check_keras_runs(log_dir, predicted_runs, predicted_points,
                            epochs=epochs, steps_per_epoch=steps_per_epoch)


def exercise_2(ex_dir: str):
    """One ``tf.summary.create_file_writer`` per stage folder; the ``with`` block flushes."""
    import tensorflow as tf

    for stage, scale in (("stage1", 1.0), ("stage2", 0.5)):
        writer = tf.summary.create_file_writer(os.path.join(ex_dir, stage))
        with writer.as_default():  # flushes when the block ends
            for step in range(5):
                tf.summary.scalar("loss", scale / (step + 1), step=step)
    return check_stage_runs(ex_dir)


def exercise_3():
    values, w, last = [1.0, 3.0], 0.5, 0.0
    for v in values:
        last = w * last + (1 - w) * v
    return check_smoothed_value(last / (1 - w ** len(values)))  # debias: divide by 1 - w^n

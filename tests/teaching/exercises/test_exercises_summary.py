"""Exercise checks of notebooks/10_summary_tensorboard.ipynb (labkit.teaching.exercises.summary), table-driven.

The Keras-callback prediction is checked against a log dir written the way
``keras.callbacks.TensorBoard`` writes it (one writer per phase, ``epoch_loss`` at
``step=epoch``), with the real ``tf.summary`` API; one test runs the real callback.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from labkit.teaching.exercises.summary import check_keras_runs, check_stage_runs

EPOCHS, STEPS_PER_EPOCH = 3, 12
SOLUTIONS = Path(__file__).resolve().parents[3] / "notebooks" / "solutions" / "10_summary_tensorboard.py"


def _write_phase(folder, points):
    import tensorflow as tf

    writer = tf.summary.create_file_writer(os.fspath(folder))
    with writer.as_default():
        for epoch in range(points):
            tf.summary.scalar("epoch_loss", 1.0 / (epoch + 1), step=epoch)


@pytest.fixture(scope="module")
def keras_like(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("logs") / "keras_fit"
    _write_phase(log_dir / "train", EPOCHS)
    _write_phase(log_dir / "validation", EPOCHS)
    return log_dir


CASES = [
    # (predicted_runs, predicted_points, ok, words the message must contain)
    (["train", "validation"], 3, True, ["one per epoch"]),
    (["validation", "train"], 3, True, ["one per epoch"]),
    (None, 3, False, ["Fill in your prediction"]),
    (["train", "validation"], None, False, ["Fill in your prediction"]),
    (["keras_fit"], 3, False, ["one writer per phase", "'train', 'validation'"]),
    (["train"], 3, False, ["validation_data", "second writer"]),
    (["train", "validation"], 36, False, ["number of batches", "one point per epoch"]),
    (["train", "validation"], 12, False, ["batches in one epoch", "once per epoch"]),
    (["train", "validation"], 5, False, ["has 3", "not 5"]),
    (["logs", "eval"], 3, False, ["run folders are"]),
    ("train", 3, False, ["must be a list"]),
    (["train", "validation"], 3.0, False, ["whole number"]),
    (["keras_fit"], 36, False, ["one writer per phase", "number of batches"]),
]


@pytest.mark.parametrize("runs, points, ok, words", CASES)
def test_keras_runs_prediction(keras_like, runs, points, ok, words):
    fb = check_keras_runs(keras_like, runs, points, epochs=EPOCHS, steps_per_epoch=STEPS_PER_EPOCH)
    assert fb.ok is ok, fb.message
    for word in words:
        assert word in fb.message, (word, fb.message)


def test_keras_runs_before_the_fit_and_bad_arguments(tmp_path):
    fb = check_keras_runs(tmp_path / "not_yet", ["train", "validation"], 3, epochs=3, steps_per_epoch=12)
    assert not fb and "run the model.fit cell" in fb.message
    with pytest.raises(ValueError, match="epochs"):
        check_keras_runs(tmp_path, [], 3, epochs=0, steps_per_epoch=12)
    with pytest.raises(TypeError, match="log_dir"):
        check_keras_runs(None, [], 3, epochs=3, steps_per_epoch=12)


def test_the_real_keras_callback_writes_what_the_right_answer_says(tmp_path):
    import keras
    import numpy as np

    x = np.random.default_rng(0).normal(size=(40, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    log_dir = tmp_path / "keras_fit"
    model.fit(x, y, epochs=2, batch_size=16, validation_data=(x, y), verbose=0,
              callbacks=[keras.callbacks.TensorBoard(log_dir=os.fspath(log_dir))])
    assert check_keras_runs(log_dir, ["train", "validation"], 2, epochs=2, steps_per_epoch=3)
    fb = check_keras_runs(log_dir, ["train", "validation"], 6, epochs=2, steps_per_epoch=3)
    assert not fb and "number of batches" in fb.message


def test_stage_runs_with_todays_writer(tmp_path):
    import tensorflow as tf

    assert "create_file_writer" in check_stage_runs(tmp_path / "nothing").message
    writer = tf.summary.create_file_writer(os.fspath(tmp_path / "stage1"), flush_millis=600_000)
    with writer.as_default():
        for s in range(5):
            tf.summary.scalar("loss", 1.0, step=s)
        fb = check_stage_runs(tmp_path)  # still queued inside the block
        assert not fb and "flush" in fb.message
    fb = check_stage_runs(tmp_path)  # the block flushed on exit
    assert not fb and "stage2" in fb.message


def _solutions():
    spec = importlib.util.spec_from_file_location("solutions_10", SOLUTIONS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_solutions_pass(tmp_path, keras_like):
    sol = _solutions()
    assert sol.exercise_1(keras_like, epochs=EPOCHS, steps_per_epoch=STEPS_PER_EPOCH)
    assert sol.exercise_2(os.fspath(tmp_path / "stages"))
    assert sol.exercise_3()

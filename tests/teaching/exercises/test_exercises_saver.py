"""labkit.teaching.exercises.saver: the right prediction passes, each typical mistake gets its own hint,
and the counts the checker expects are what TensorFlow really writes."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from labkit.seeding import seed_everything
from labkit.teaching.exercises import saver as ex

N_WEIGHTS = 3  # Dense(3) with bias + Dense(1, use_bias=False), as in the notebook
COUNTS = {"before_training": 6, "after_one_step": 12, "n_weights": N_WEIGHTS}
RIGHT = {"before_training": 6, "after_one_step": 12}


COUNT_MISTAKES = [
    # before training, Adam's slots counted although the optimizer is not built yet
    ({"before_training": 12, "after_one_step": 12}, ["first apply_gradients"]),
    # after one step, no slots counted
    ({"before_training": 6, "after_one_step": 6}, ["has been built", "momentum and a velocity"]),
    # one slot per weight instead of two
    ({"before_training": 6, "after_one_step": 9}, ["TWO slots per weight"]),
    # the weights counted twice (under the model and under the optimizer)
    ({"before_training": 6, "after_one_step": 15}, ["counted the weights twice", "shortest path"]),
    # the use_bias=False layer given a bias: 4 weights
    ({"before_training": 7, "after_one_step": 12}, ["use_bias=False"]),
    # the object graph entry counted
    ({"before_training": 6, "after_one_step": 13}, ["_CHECKPOINTABLE_OBJECT_GRAPH"]),
    # step or iterations or learning_rate forgotten
    ({"before_training": 5, "after_one_step": 11}, ["one short", "learning_rate"]),
    # the optimizer's own two variables forgotten
    ({"before_training": 4, "after_one_step": 10}, ["two short", "iterations and learning_rate"]),
    # something else: the general recipe
    ({"before_training": 40, "after_one_step": 41}, ["count the parts"]),
    # not filled in yet (the committed notebook state)
    ({"before_training": None, "after_one_step": None}, ["fill in your prediction"]),
    # not a dict / wrong keys / wrong types
    (None, ["must be a dict"]),
    ({"before": 6, "after": 12}, ["must be a dict"]),
    ({"before_training": 6.0, "after_one_step": "12"}, ["whole number"]),
]


def test_only_the_wrong_half_is_named():
    fb = ex.check_checkpoint_count({"before_training": 7, "after_one_step": 12}, COUNTS)
    assert not fb.ok and "before_training = 7" in fb.message and "after_one_step" not in fb.message


@pytest.mark.parametrize("check, measured, prediction, words", [
    (ex.check_checkpoint_count, COUNTS, RIGHT, ["6 tensors", "12 after"]),
    (ex.check_snapshot_iterations, {"in_memory": 6, "on_disk": 3, "calls_here": 3},
     {"in_memory": 6, "on_disk": 3}, ["6 in memory", "3 on disk"]),
])
def test_right_answer_passes(check, measured, prediction, words):
    fb = check(prediction, measured)
    assert fb.ok and all(word in fb.message for word in words), fb.message


def test_counts_are_what_tensorflow_writes(tmp_path):
    """The formula the hints rely on matches a real checkpoint of the notebook's model."""
    seed_everything(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1, use_bias=False)])
    opt = keras.optimizers.Adam(0.01)
    step = tf.Variable(0, dtype=tf.int64)
    ckpt = tf.train.Checkpoint(model=model, optimizer=opt, step=step)

    def count(prefix):
        return sum(n != "_CHECKPOINTABLE_OBJECT_GRAPH" for n, _ in tf.train.list_variables(prefix))

    before = count(ckpt.write(str(tmp_path / "before")))
    x = tf.constant(np.ones((2, 4), np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(model(x) ** 2)
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables, strict=True))
    after = count(ckpt.write(str(tmp_path / "after")))
    n = len(model.weights)
    assert n == N_WEIGHTS
    assert (before, after) == (ex.expected_adam_checkpoint_count(n, False), ex.expected_adam_checkpoint_count(n, True))
    assert ex.check_checkpoint_count({"before_training": before, "after_one_step": after},
                                     {"before_training": before, "after_one_step": after, "n_weights": n}).ok


# 09b: a loaded SavedModel's `iterations`, in memory and on disk, after this kernel's train_step calls
MEASURED = {"in_memory": 6, "on_disk": 3, "calls_here": 3}


SNAPSHOT_MISTAKES = [
    ({"in_memory": 3, "on_disk": 3}, ["the two added", "saved count (3)"]),    # started from 0, or stayed
    ({"in_memory": 3, "on_disk": 3}, ["each train_step this kernel ran (3)"]),
    ({"in_memory": 5, "on_disk": 3}, ["one short", "section 2"]),              # section 2's call forgotten
    ({"in_memory": 7, "on_disk": 3}, ["one too many", "after the save"]),      # 09's extra step counted
    ({"in_memory": 9, "on_disk": 3}, ["counts apply_gradients calls"]),        # something else
    ({"in_memory": 6, "on_disk": 6}, ["does not write back"]),                 # thought load writes back
    ({"in_memory": 6, "on_disk": 4}, ["after tf.saved_model.save", "file holds 3"]),  # 09's extra step on disk
    ({"in_memory": 6, "on_disk": 0}, ["iterations included"]),                 # no optimizer state saved
    ({"in_memory": 6, "on_disk": 8}, ["nothing this kernel did since"]),
    ({"in_memory": None, "on_disk": None}, ["fill in your prediction"]),
    ({"memory": 6, "disk": 3}, ["must be a dict", "'in_memory'"]),
    ({"in_memory": 6.0, "on_disk": True}, ["whole number"]),
]


@pytest.mark.parametrize("check, measured, prediction, words",
                         [(ex.check_checkpoint_count, COUNTS, p, w) for p, w in COUNT_MISTAKES]
                         + [(ex.check_snapshot_iterations, MEASURED, p, w) for p, w in SNAPSHOT_MISTAKES])
def test_mistakes_are_named(check, measured, prediction, words):
    fb = check(prediction, measured)
    assert not fb.ok
    for word in words:
        assert word in fb.message, (word, fb.message)


def test_snapshot_counts_are_what_tensorflow_does(tmp_path):
    """What the checker's hints rely on, with real TensorFlow: a loaded SavedModel's Adam goes on
    counting from the saved `iterations`, and its train steps do not change the files."""
    seed_everything(0)

    class Trainer(tf.Module):
        def __init__(self):
            super().__init__()
            self.model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
            self.optimizer = keras.optimizers.Adam(0.05)

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([None, 2], tf.float32)])
        def train_step(self, x, y):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((self.model(x) - y) ** 2)
            grads = tape.gradient(loss, self.model.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables, strict=True))
            return {"loss": loss, "iterations": self.optimizer.iterations}

    x, y = tf.ones((3, 4)), tf.zeros((3, 2))
    trainer = Trainer()
    for _ in range(3):
        trainer.train_step(x, y)
    tf.saved_model.save(trainer, str(tmp_path))
    trainer.train_step(x, y)                                   # 09's extra step, after the save
    loaded = tf.saved_model.load(str(tmp_path))
    for _ in range(3):
        out = loaded.train_step(x, y)
    reader = tf.train.load_checkpoint(str(tmp_path / "variables" / "variables"))
    on_disk = int(reader.get_tensor("optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE"))
    measured = {"in_memory": int(out["iterations"]), "on_disk": on_disk, "calls_here": 3}
    assert measured == MEASURED
    assert ex.check_snapshot_iterations({"in_memory": 6, "on_disk": 3}, measured).ok

"""labkit.teaching.exercises.losses: right answers pass, each typical wrong answer gets its specific hint."""

import numpy as np
import pytest
import tensorflow as tf

from labkit.seeding import seed_everything
from labkit.teaching.exercises import losses as ex

CCE = tf.keras.losses.CategoricalCrossentropy


@pytest.fixture(autouse=True)
def _seed():
    seed_everything(0)


def test_exercise_batch_has_a_padding_example():
    b = ex.exercise_batch()
    assert b.logits.shape == b.onehot.shape == (4, 3)
    assert np.count_nonzero(b.weights) == 3
    np.testing.assert_array_equal(b.onehot.argmax(axis=1), b.labels)


@pytest.mark.parametrize(
    "loss,ok,word",
    [
        (CCE(from_logits=True, reduction="mean_with_sample_weight"), True, "nonzero"),
        (CCE(from_logits=True), False, "batch size"),
        (CCE(reduction="mean_with_sample_weight"), False, "from_logits=True"),
        (CCE(), False, "from_logits=True"),
        (CCE(from_logits=True, reduction="sum"), False, "SUM"),
        (CCE(from_logits=True, label_smoothing=0.1), False, "TF1 gives"),
        (lambda y, p, sample_weight=None: 1 / 0, False, "ZeroDivisionError"),
        (None, False, "None"),
    ],
)
def test_check_losses_agree(loss, ok, word):
    fb = ex.check_losses_agree(loss)
    assert fb.ok is ok
    assert word in fb.message


def test_check_losses_agree_accepts_a_handwritten_fix():
    def fixed(y, logits, sample_weight):
        total = CCE(from_logits=True, reduction="sum")(y, logits, sample_weight=sample_weight)
        return total / tf.cast(tf.math.count_nonzero(sample_weight), tf.float32)

    assert ex.check_losses_agree(fixed).ok


def test_check_losses_agree_rejects_non_callable():
    with pytest.raises(TypeError, match="keras_loss"):
        ex.check_losses_agree("categorical_crossentropy")


def test_check_sparse_labels():
    b = ex.exercise_batch()
    assert ex.check_sparse_labels(tf.argmax(b.onehot, axis=-1)).ok
    assert ex.check_sparse_labels(np.array([0, 2, 1, 1], dtype=np.int32)).ok
    assert "one-hot" in ex.check_sparse_labels(b.onehot).message
    assert "dtype" in ex.check_sparse_labels(b.labels.astype(np.float32)).message
    assert "argmax" in ex.check_sparse_labels([0, 1, 2, 1]).message
    assert "shape" in ex.check_sparse_labels([0, 1]).message
    assert not ex.check_sparse_labels(None).ok
    with pytest.raises(TypeError, match="labels"):
        ex.check_sparse_labels([object()])


def test_check_smoothed_targets():
    b = ex.exercise_batch()
    good = ex.check_smoothed_targets(b.onehot * 0.8 + 0.2 / 3)
    assert good.ok
    assert "True" in good.message  # Keras' smoothing agrees with the formula, computed live
    assert "K-1" in ex.check_smoothed_targets(b.onehot * 0.8 + 0.2 / 2).message
    assert "sum to 1" in ex.check_smoothed_targets(b.onehot * 0.8).message
    assert "shape" in ex.check_smoothed_targets(b.onehot[:2]).message
    assert not ex.check_smoothed_targets(b.onehot).ok
    assert ex.check_smoothed_targets(b.onehot * 0.9 + 0.1 / 3, label_smoothing=0.1).ok
    with pytest.raises(ValueError, match="label_smoothing"):
        ex.check_smoothed_targets(b.onehot, label_smoothing=2)


def test_check_probability_loss():
    assert ex.check_probability_loss(CCE()).ok
    wrong = ex.check_probability_loss(CCE(from_logits=True))
    assert not wrong.ok and "softmax again" in wrong.message
    assert not ex.check_probability_loss(CCE(label_smoothing=0.3)).ok
    assert not ex.check_probability_loss(None).ok
    with pytest.raises(TypeError, match="keras_loss"):
        ex.check_probability_loss(3)


@pytest.mark.parametrize("prediction, ok, word", [
    ("raises", True, "ValueError"),
    ("encodes", False, "nothing is encoded"),
    ("wrong number", False, "not silent"),
    (None, False, "onehot_prediction"),
])
def test_check_onehot_prediction(prediction, ok, word):
    fb = ex.check_onehot_prediction(prediction)
    assert fb.ok is ok
    assert word in fb.message


def test_check_onehot_prediction_rejects_other_answers():
    with pytest.raises(ValueError, match="prediction"):
        ex.check_onehot_prediction("maybe")

"""labkit.teaching.exercises.layers: right answers pass, each typical wrong answer gets its specific hint."""

import keras
import pytest

from labkit.seeding import seed_everything
from labkit.teaching.exercises import layers as ex


@pytest.fixture(autouse=True)
def _seed():
    seed_everything(0)


def test_check_dropout_port():
    assert ex.check_dropout_port(keras.layers.Dropout(0.2)).ok
    assert "keep_prob" in ex.check_dropout_port(keras.layers.Dropout(0.8)).message
    assert not ex.check_dropout_port(keras.layers.Dropout(0.5)).ok
    assert "Dropout" in ex.check_dropout_port(keras.layers.Dense(3)).message
    assert not ex.check_dropout_port(None).ok
    with pytest.raises(TypeError, match="layer"):
        ex.check_dropout_port(0.2)


def test_check_dense_port():
    good = keras.layers.Dense(32, activation="relu", use_bias=False, name="hidden")
    assert ex.check_dense_port(good).ok
    wrong = ex.check_dense_port(keras.layers.Dense(16, name="dense_x"))
    assert not wrong.ok
    for word in ("units=16", "activation", "use_bias=True", "'hidden'"):
        assert word in wrong.message
    assert not ex.check_dense_port(keras.layers.Conv2D(32, 3)).ok
    assert not ex.check_dense_port(None).ok
    with pytest.raises(TypeError, match="layer"):
        ex.check_dense_port("dense")


def test_check_batchnorm_training():
    assert ex.check_batchnorm_training(lambda bn, x: bn(x, training=True)).ok
    not_training = ex.check_batchnorm_training(lambda bn, x: bn(x))
    assert not not_training.ok and "training=True" in not_training.message
    twice = ex.check_batchnorm_training(lambda bn, x: [bn(x, training=True), bn(x, training=True)][1])
    assert not twice.ok and "once" in twice.message
    failing = ex.check_batchnorm_training(lambda bn, x: bn(x, trainin=True))
    assert not failing.ok and "failed" in failing.message
    assert not ex.check_batchnorm_training(None).ok
    with pytest.raises(TypeError, match="train_call"):
        ex.check_batchnorm_training(42)


@pytest.mark.parametrize("kept, share, ok, word", [
    (1.25, 0.2, True, "1.25"),
    (1.0, 0.2, False, "not left at 1"),
    (0.8, 0.2, False, "DIVIDED"),
    (5.0, 0.2, False, "1 / rate"),
    (2.0, 0.2, False, "not 2.0"),
    (1.25, 0.8, False, "share KEPT"),
    (1.25, 0.5, False, "about rate"),
    (None, 0.2, False, "replace None"),
])
def test_check_dropout_prediction(kept, share, ok, word):
    fb = ex.check_dropout_prediction(kept, share)
    assert fb.ok is ok, fb.message
    assert word in fb.message


def test_check_dropout_prediction_rejects_non_numbers():
    with pytest.raises(TypeError, match="kept_value"):
        ex.check_dropout_prediction("1.25", 0.2)

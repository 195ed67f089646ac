import sys

import numpy as np
import pytest
import tensorflow as tf

from labkit.seeding import seed_everything


def test_same_seed_same_numbers():
    seed_everything(7, deterministic_ops=False)
    a = (np.random.rand(3), tf.random.uniform([3]).numpy())
    seed_everything(7, deterministic_ops=False)
    b = (np.random.rand(3), tf.random.uniform([3]).numpy())
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed="):
        seed_everything(bad)


def test_seeds_tensorflow_in_a_process_without_keras(monkeypatch):
    """09b's kernel blocks Keras (sys.modules["keras"] = None); seeding must still seed TensorFlow."""
    monkeypatch.setitem(sys.modules, "keras", None)
    seed_everything(3, deterministic_ops=False)
    a = tf.random.uniform([3]).numpy()
    seed_everything(3, deterministic_ops=False)
    np.testing.assert_array_equal(a, tf.random.uniform([3]).numpy())

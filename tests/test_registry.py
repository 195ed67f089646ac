"""labkit.registry: the one list of the ten optimizers, and the classes behind it."""

from __future__ import annotations

import subprocess
import sys

import labkit.train as lt
from labkit.registry import OPTIMIZER_NAMES, SHORT_NAMES, short_name


def test_ten_names_in_the_seeds_order_each_a_labkit_optimizer():
    assert len(OPTIMIZER_NAMES) == len(set(OPTIMIZER_NAMES)) == 10
    assert list(lt.OPTIMIZERS) == list(OPTIMIZER_NAMES)
    for name, cls in lt.OPTIMIZERS.items():
        assert cls.__name__ == name and issubclass(cls, lt.Optimizer)
        assert name in lt.__all__


def test_every_tf1_class_of_that_name_exists():
    import tensorflow as tf

    for name in OPTIMIZER_NAMES:
        assert hasattr(tf.compat.v1.train, name), name


def test_short_names():
    assert short_name("AdamOptimizer") == "Adam" and short_name("Adam") == "Adam"
    assert SHORT_NAMES[0] == "GradientDescent" and len(SHORT_NAMES) == 10


def test_the_registry_does_not_import_tensorflow():
    code = "import sys, labkit.registry; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""Seeding for reproducible lessons (introduced in notebooks/00_start_here.ipynb)."""

from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int = 0, deterministic_ops: bool = True) -> int:
    """Seed Python, NumPy and TensorFlow, and (optionally) enable deterministic TF ops.

    Every notebook's Setup cell calls this, so that re-running a notebook gives the
    same numbers (nbval checks some of them).

    Args:
        seed: a non-negative integer.
        deterministic_ops: also call ``tf.config.experimental.enable_op_determinism()``.

    Returns:
        The seed, for printing.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer. Received: seed={seed!r}")
    seed = int(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    import tensorflow as tf

    try:
        import keras
    except ImportError:  # a process without Keras (notebooks/09b_savedmodel_fresh_process.ipynb)
        tf.random.set_seed(seed)
    else:
        keras.utils.set_random_seed(seed)  # Python, NumPy, TensorFlow and Keras's own generator
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()
    return seed

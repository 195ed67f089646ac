"""Which variable is which: the tf.Variable behind a Keras 3 variable, the key slots are filed
under, rows of a variable, and TF1's summing of duplicate sparse indices.

Introduced with the optimizers in notebooks/03a_optimizers.ipynb.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf


def as_tf_variable(var: Any) -> tf.Variable | None:
    """``var`` itself if it is a tf.Variable; the tf.Variable behind a Keras 3 variable
    (``keras.Variable.value`` with the TensorFlow backend); otherwise None."""
    if isinstance(var, tf.Variable):
        return var
    inner = getattr(var, "value", None)
    return inner if isinstance(inner, tf.Variable) else None


def var_key(var: Any) -> Any:
    """The key of ``var`` in the slot dictionaries (None for things that are not variables).

    A Keras 3 variable and the tf.Variable behind it share one key, so ``get_slot`` and
    ``tf.train.Checkpoint`` find the slots whichever of the two they are given.
    """
    var = as_tf_variable(var) if as_tf_variable(var) is not None else var
    try:
        return var.ref()
    except (AttributeError, TypeError):
        return None


def deduplicate_indexed_slices(values: tf.Tensor, indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Sum the rows of ``values`` that share an index, exactly like TF1's optimizer.py."""
    unique_indices, new_positions = tf.unique(indices)
    summed = tf.math.unsorted_segment_sum(values, new_positions, tf.shape(unique_indices)[0])
    return summed, unique_indices


def num_rows(var: tf.Variable) -> Any:
    """The number of rows of ``var`` (static when known)."""
    n = var.shape[0] if var.shape.rank else None
    return n if n is not None else tf.raw_ops.VariableShape(input=var.handle)[0]

"""Exercise checks for notebooks/00_start_here.ipynb."""

from __future__ import annotations

import numpy as np

from labkit.data import Split
from labkit.i18n import _
from labkit.teaching.exercises.feedback import Feedback, hint, passed


def check_class_count(digits: Split, label: int, count: object) -> Feedback:
    """Check a learner's count of ``label`` in ``digits.y_test``, with a specific hint."""
    expected = int(np.sum(digits.y_test == label))
    if count is None:
        return hint(_("`answer` is still None: set it to an expression that counts the 3s in digits.y_test."))
    if isinstance(count, np.ndarray) and count.size > 1:
        return hint(_("`answer` is an array of {size} elements; reduce it to one number with np.sum(...).").format(size=count.size))
    try:
        value = int(count)
    except (TypeError, ValueError):
        return hint(_("`answer` must be a number. Received: {count!r}").format(count=count))
    if value == expected:
        return passed(_("{expected} examples of the digit {label} are in the test set.").format(expected=expected, label=label))
    if value == int(np.sum(digits.y_train == label)):
        return hint(_("{value} is the count in digits.y_train; the exercise asks about digits.y_test.").format(value=value))
    if value == len(digits.y_test):
        return hint(_("{value} is the size of the whole test set; count only the entries equal to {label}.").format(value=value, label=label))
    return hint(_("{value} is not it. Compare digits.y_test with {label} (== gives True/False) and sum the "
                  "result.").format(value=value, label=label))


DTYPE_CHOICES = ("int32", "float32", "float64")


def check_division_prediction(prediction) -> Feedback:
    """Exercise: predict the dtype of ``tf.constant([1, 2, 3]) / 2``.

    Introduced in notebooks/00_start_here.ipynb. The learner predicts one of ``"int32"``,
    ``"float32"``, ``"float64"``; the check runs the division and names the mistake.
    """
    if prediction is None:
        return hint(_("set `dtype_prediction` to one of {DTYPE_CHOICES} before you check.").format(DTYPE_CHOICES=DTYPE_CHOICES))
    if prediction not in DTYPE_CHOICES:
        raise ValueError(_("`prediction` must be one of {DTYPE_CHOICES}. Received: prediction={prediction!r}").format(DTYPE_CHOICES=DTYPE_CHOICES, prediction=prediction))
    import tensorflow as tf

    result = tf.constant([1, 2, 3]) / 2
    truth = result.dtype.name
    if prediction == truth:
        return passed(_("{truth}: `/` on int32 tensors is true division, and TensorFlow picks float64 for it, "
                        "like NumPy (the result: {result}).").format(truth=truth, result=result.numpy().tolist()))
    if prediction == "int32":
        return hint(_("`/` is true division, not integer division (that is `//`): the result is {result}, so "
                      "it cannot stay int32.").format(result=result.numpy().tolist()))
    return hint(_("a float, yes, but not float32: TensorFlow's true division maps int32 to {truth} "
                  "(tensorflow/python/ops/math_ops.py, _TRUEDIV_TABLE), although float32 is its default "
                  "for Python floats.").format(truth=truth))

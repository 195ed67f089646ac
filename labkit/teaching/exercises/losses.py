"""Exercise checks for notebooks/02_losses.ipynb (tf.compat.v1.losses beside tf.keras.losses).

Each check takes the learner's answer, computes the reference live with TensorFlow, and
returns a :class:`~labkit.teaching.exercises.feedback.Feedback` that names what differs. ``None``
(an unanswered exercise) gets a hint; an answer of the wrong kind is a ``TypeError``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labkit.i18n import _
from labkit.teaching.exercises.feedback import Feedback, hint, passed

_TOL = 1e-5


@dataclass(frozen=True)
class LossBatch:
    """The small batch every losses exercise uses (introduced in notebooks/02_losses.ipynb).

    Four examples, three classes. The last example is padding: its weight is 0.
    """

    logits: np.ndarray  # float32 (4, 3)
    labels: np.ndarray  # int32 (4,)
    onehot: np.ndarray  # float32 (4, 3)
    weights: np.ndarray  # float32 (4,): 1, 1, 1, 0


def exercise_batch() -> LossBatch:
    """The fixed batch of the losses exercises (introduced in notebooks/02_losses.ipynb)."""
    logits = np.array(
        [[2.0, 0.5, -1.0], [0.2, 0.1, 1.4], [1.2, 1.0, -0.3], [-0.5, 2.5, 0.0]], dtype=np.float32
    )
    labels = np.array([0, 2, 1, 1], dtype=np.int32)
    onehot = np.eye(3, dtype=np.float32)[labels]
    weights = np.array([1.0, 1.0, 1.0, 0.0], dtype=np.float32)
    return LossBatch(logits, labels, onehot, weights)


def _scalar(value) -> float:
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(_("expected a scalar loss, got shape {shape}").format(shape=arr.shape))
    return float(arr.reshape(()))


def _call_loss(loss, *args, **kwargs) -> tuple[float | None, str | None]:
    try:
        return _scalar(loss(*args, **kwargs)), None
    except Exception as err:  # the learner's loss may fail in any way: report it as a hint
        return None, f"{type(err).__name__}: {err}"


def check_losses_agree(keras_loss) -> Feedback:
    """Exercise "make these two losses agree".

    Introduced in notebooks/02_losses.ipynb. The TF1 reference is
    ``tf.compat.v1.losses.softmax_cross_entropy(onehot, logits, weights=weights)`` on
    :func:`exercise_batch`; the answer is a Keras loss object called as
    ``keras_loss(onehot, logits, sample_weight=weights)`` that gives the same number.
    """
    if keras_loss is None:
        return hint(_("replace None with a tf.keras.losses object, e.g. CategoricalCrossentropy(...)."))
    if not callable(keras_loss):
        raise TypeError(
            _("`keras_loss` must be a Keras loss object (callable). Received: keras_loss={keras_loss!r}").format(keras_loss=keras_loss)
        )
    import tensorflow as tf

    b = exercise_batch()
    onehot, logits, w = tf.constant(b.onehot), tf.constant(b.logits), tf.constant(b.weights)
    want = float(tf.compat.v1.losses.softmax_cross_entropy(onehot, logits, weights=w))
    got, error = _call_loss(keras_loss, onehot, logits, sample_weight=w)
    if error:
        return hint(_("calling keras_loss(onehot, logits, sample_weight=weights) failed: {error}").format(error=error))
    if abs(got - want) <= _TOL:
        return passed(
            _("both give {want:.4f}: from_logits=True (the inputs are logits) and a reduction that "
              "divides by the number of nonzero weights (3), not by the batch size (4).").format(want=want)
        )
    per_example = tf.nn.softmax_cross_entropy_with_logits(onehot, logits).numpy()
    batch_mean = float((per_example * b.weights).sum() / len(b.weights))
    if abs(got - batch_mean) <= _TOL:
        return hint(
            _("you get {got:.4f}, TF1 gives {want:.4f}: your loss divides the weighted sum by the "
              "batch size ({len}), TF1's default SUM_BY_NONZERO_WEIGHTS divides by the number of "
              "nonzero weights ({weights}). Look at `reduction=`.").format(got=got, want=want, len=len(b.weights), weights=int(np.count_nonzero(b.weights)))
        )
    as_probs = tf.keras.losses.CategoricalCrossentropy(from_logits=False, reduction="none")(
        onehot, logits
    ).numpy()
    if any(
        abs(got - v) <= _TOL
        for v in (
            float((as_probs * b.weights).sum() / len(b.weights)),
            float((as_probs * b.weights).sum() / np.count_nonzero(b.weights)),
            float((as_probs * b.weights).sum()),
        )
    ):
        return hint(
            _("you get {got:.4f}, TF1 gives {want:.4f}: your loss treats the logits as probabilities. "
              "tf.compat.v1.losses.softmax_cross_entropy takes logits; tell Keras with "
              "from_logits=True.").format(got=got, want=want)
        )
    if abs(got - float((per_example * b.weights).sum())) <= _TOL:
        return hint(
            _("you get {got:.4f}, TF1 gives {want:.4f}: that is the weighted SUM; TF1 also divides by "
              "the number of nonzero weights.").format(got=got, want=want)
        )
    return hint(_("you get {got:.4f}, TF1 gives {want:.4f}. Check from_logits= and reduction=.").format(got=got, want=want))


def check_sparse_labels(labels) -> Feedback:
    """Exercise: turn the one-hot labels of :func:`exercise_batch` into sparse integer labels.

    Introduced in notebooks/02_losses.ipynb. The answer is what
    ``SparseCategoricalCrossentropy`` / ``sparse_softmax_cross_entropy`` expect: one integer
    class index per example, shape ``(4,)``.
    """
    if labels is None:
        return hint(_("replace None with integer labels computed from batch.onehot (think argmax)."))
    try:
        arr = np.asarray(labels)
    except Exception as err:
        raise TypeError(_("`labels` must be array-like. Received: labels={labels!r}").format(labels=labels)) from err
    if arr.dtype == object:
        raise TypeError(_("`labels` must be array-like of numbers. Received: labels={labels!r}").format(labels=labels))
    b = exercise_batch()
    if arr.shape == b.onehot.shape:
        return hint(
            _("your labels still have shape {shape}, one row per example: that is one-hot. Sparse "
              "labels are one class index per example, shape (4,).").format(shape=arr.shape)
        )
    if arr.shape != b.labels.shape:
        return hint(_("expected shape {shape} (one index per example), got shape {shape2}.").format(shape=b.labels.shape, shape2=arr.shape))
    if not np.issubdtype(arr.dtype, np.integer):
        return hint(
            _("your labels have dtype {dtype}; sparse losses want integer class indices (tf.argmax "
              "returns int64; cast with tf.cast(..., tf.int32) if you like).").format(dtype=arr.dtype)
        )
    if not np.array_equal(arr, b.labels):
        return hint(_("expected {b}, got {arr}: take the argmax along the last axis.").format(b=b.labels.tolist(), arr=arr.tolist()))
    return passed(_("{arr} -- one integer per example, the position of the 1 in each one-hot row.").format(arr=arr.tolist()))


def check_smoothed_targets(targets, label_smoothing: float = 0.2) -> Feedback:
    """Exercise: the target that ``label_smoothing`` really trains towards.

    Introduced in notebooks/02_losses.ipynb. For the one-hot labels of
    :func:`exercise_batch` and ``label_smoothing`` (0.2), the answer is the array both
    ``tf.compat.v1.losses.softmax_cross_entropy`` and ``CategoricalCrossentropy`` use in place
    of the one-hot labels. The check also confirms the formula on the live Keras loss.
    """
    if targets is None:
        return hint(_("replace None with the smoothed targets, an array of shape (4, 3)."))
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) or not (
        0.0 <= label_smoothing <= 1.0
    ):
        raise ValueError(
            _("`label_smoothing` must be a number in [0, 1]. Received: "
              "label_smoothing={label_smoothing!r}").format(label_smoothing=label_smoothing)
        )
    try:
        arr = np.asarray(targets, dtype=np.float64)
    except Exception as err:
        raise TypeError(_("`targets` must be an array of numbers. Received: targets={targets!r}").format(targets=targets)) from err
    import tensorflow as tf

    b = exercise_batch()
    k = b.onehot.shape[1]
    s = float(label_smoothing)
    want = b.onehot * (1.0 - s) + s / k
    if arr.shape != want.shape:
        return hint(_("expected shape {shape}, got {shape2}.").format(shape=want.shape, shape2=arr.shape))
    # The formula is Keras' own: a loss on `want` without smoothing equals one with smoothing.
    logits = tf.constant(b.logits)
    smoothed = tf.keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=s)
    plain = tf.keras.losses.CategoricalCrossentropy(from_logits=True)
    keras_agrees = abs(
        float(smoothed(tf.constant(b.onehot), logits)) - float(plain(tf.constant(want, tf.float32), logits))
    ) <= _TOL
    if np.allclose(arr, want, atol=1e-6):
        return passed(
            _("(1 - {s}) * onehot + {s} / {k}: the true class gets {value:.4f}, the others "
              "{value2:.4f}. Keras' loss with label_smoothing={s} equals its plain loss on your "
              "targets: {keras_agrees}.").format(s=s, k=k, value=1 - s + s / k, value2=s / k, keras_agrees=keras_agrees)
        )
    if np.allclose(arr, b.onehot * (1.0 - s) + s / (k - 1), atol=1e-6):
        return hint(_("you spread {s} over the K-1 = {value} wrong classes; TF spreads it over all K = {k}.").format(s=s, value=k - 1, k=k))
    if np.allclose(arr, b.onehot * (1.0 - s), atol=1e-6):
        return hint(_("rows must still sum to 1: add {s} / K to every entry after scaling by (1 - {s}).").format(s=s))
    if not np.allclose(arr.sum(axis=1), 1.0, atol=1e-6):
        return hint(_("each row must sum to 1; yours sum to {value}.").format(value=[round(float(v), 4) for v in arr.sum(axis=1)]))
    return hint(_("expected the true class to get {value:.4f} and the others {value2:.4f}.").format(value=1 - s + s / k, value2=s / k))


def check_probability_loss(keras_loss) -> Feedback:
    """Exercise: the model ends in softmax -- pick the Keras loss that gives the true cross-entropy.

    Introduced in notebooks/02_losses.ipynb. The answer is called as
    ``keras_loss(onehot, probs)`` where ``probs = softmax(logits)`` on :func:`exercise_batch`,
    and must equal the cross-entropy computed from the logits.
    """
    if keras_loss is None:
        return hint(_("replace None with a tf.keras.losses object."))
    if not callable(keras_loss):
        raise TypeError(
            _("`keras_loss` must be a Keras loss object (callable). Received: keras_loss={keras_loss!r}").format(keras_loss=keras_loss)
        )
    import tensorflow as tf

    b = exercise_batch()
    onehot, logits = tf.constant(b.onehot), tf.constant(b.logits)
    probs = tf.nn.softmax(logits)
    want = float(tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(onehot, logits)))
    got, error = _call_loss(keras_loss, onehot, probs)
    if error:
        return hint(_("calling keras_loss(onehot, probs) failed: {error}").format(error=error))
    if abs(got - want) <= _TOL:
        return passed(_("{got:.4f}, the true cross-entropy: the inputs are probabilities, so from_logits=False.").format(got=got))
    twice = float(tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(onehot, probs)))
    if abs(got - twice) <= _TOL:
        return hint(
            _("you get {got:.4f}, the true cross-entropy is {want:.4f}: with from_logits=True Keras "
              "applies softmax again to numbers that are already probabilities.").format(got=got, want=want)
        )
    return hint(_("you get {got:.4f}, the true cross-entropy is {want:.4f}.").format(got=got, want=want))


ONEHOT_CHOICES = ("encodes", "raises", "wrong number")


def check_onehot_prediction(prediction) -> Feedback:
    """Exercise: predict what a one-hot loss does with integer class labels.

    Introduced in notebooks/02_losses.ipynb. The seed says the ``tf.losses`` functions "can
    implement one-hot encoding". The learner predicts what
    ``tf.compat.v1.losses.softmax_cross_entropy(labels, logits)`` does when ``labels`` are
    integer class ids (shape ``(3,)``) and ``logits`` have shape ``(3, 3)``: one of
    ``"encodes"`` (it one-hot encodes them), ``"raises"`` (an error), ``"wrong number"`` (a
    silently wrong loss). The truth is found by running it.
    """
    if prediction is None:
        return hint(_("set `onehot_prediction` to one of {ONEHOT_CHOICES} before you check.").format(ONEHOT_CHOICES=ONEHOT_CHOICES))
    if prediction not in ONEHOT_CHOICES:
        raise ValueError(_("`prediction` must be one of {ONEHOT_CHOICES}. Received: prediction={prediction!r}").format(ONEHOT_CHOICES=ONEHOT_CHOICES, prediction=prediction))
    import tensorflow as tf

    labels = tf.constant([0, 2, 1])
    logits = tf.constant([[2.0, 1.0, 0.1], [0.5, 0.2, 1.5], [1.0, 3.0, 0.2]])
    try:
        tf.compat.v1.losses.softmax_cross_entropy(labels, logits)
        truth, detail = "wrong number", _("it returned a number")
    except ValueError as err:
        truth, detail = "raises", f"ValueError: {err}"
    if prediction == truth:
        return passed(
            _("it raises ({detail}). softmax_cross_entropy wants `onehot_labels` of the logits' shape; "
              "it does not encode anything. Encode with tf.one_hot, or use "
              "sparse_softmax_cross_entropy, which takes the integers as they are.").format(detail=detail))
    if prediction == "encodes":
        return hint(
            _("nothing is encoded: {detail}. The seed's wording suggests the losses do the one-hot "
              "encoding; they only accept labels that are already one-hot (tf.one_hot does the "
              "encoding).").format(detail=detail))
    return hint(
        _("it is not silent: {detail}. The shape check (labels must have the logits' shape) "
          "catches integer labels before any loss is computed.").format(detail=detail))

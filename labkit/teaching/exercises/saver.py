"""Exercise checks for notebooks/09_saver.ipynb and 09b_savedmodel_fresh_process.ipynb.

* :func:`check_checkpoint_count` (09): predict how many tensors ``tf.train.list_variables`` shows in a
  ``tf.train.Checkpoint(model=..., optimizer=keras.optimizers.Adam(), step=...)`` before and after
  the first training step; the check names the specific mistake.
* :func:`check_snapshot_iterations` (09b): predict the optimizer's ``iterations`` of a loaded
  SavedModel after more training steps, in the process's memory and in the SavedModel's files.

Neither imports TensorFlow or Keras (09b's kernel cannot import Keras).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from labkit.i18n import _
from labkit.teaching.exercises.feedback import Feedback, hint, passed

COUNT_KEYS = ("before_training", "after_one_step")


def expected_adam_checkpoint_count(n_weights: int, trained: bool) -> int:
    """Tensors in ``Checkpoint(model, optimizer=Adam, step).write(...)``, object graph excluded.

    The model's weights (each stored once), the optimizer's ``iterations`` and
    ``learning_rate`` (both variables in Keras 3), the step variable, and -- once the optimizer
    has been built by its first ``apply_gradients`` -- two Adam slots per weight (momentum and
    velocity). Introduced in notebooks/09_saver.ipynb.
    """
    return n_weights + 2 + 1 + (2 * n_weights if trained else 0)


def _numbers_hint(prediction: Any, measured: Mapping[str, int], keys: tuple[str, ...],
                  mistake: Callable[[str, int], str]) -> Feedback | None:
    """What both checks share: ``prediction`` must be a dict of whole numbers under ``keys``, filled
    in; then each number that differs from ``measured`` is named, with ``mistake(key, value)``.
    None when every number is right."""
    if not isinstance(prediction, Mapping) or set(prediction) != set(keys):
        return hint(_("`my_prediction` must be a dict with the keys {keys}. Received: {prediction!r}")
                    .format(keys=", ".join(map(repr, keys)), prediction=prediction))
    if any(prediction[k] is None for k in keys):
        return hint(_("fill in your prediction: replace each None with a number, then run this cell again."))
    bad_types = {k: v for k, v in prediction.items() if isinstance(v, bool) or not isinstance(v, int)}
    if bad_types:
        return hint(_("each prediction must be a whole number. Received: {bad_types!r}").format(bad_types=bad_types))
    problems = [f"{k} = {prediction[k]}: " + mistake(k, int(prediction[k]))
                for k in keys if int(prediction[k]) != int(measured[k])]
    return hint(" | ".join(problems)) if problems else None


def _count_mistake(key: str, value: int, n_weights: int, actual: int) -> str:
    trained = key == "after_one_step"
    right = expected_adam_checkpoint_count(n_weights, trained)
    other = expected_adam_checkpoint_count(n_weights, not trained)
    if not trained and value == other:
        return (
            _("before training you counted Adam's slots. A fresh Keras optimizer has none yet: it "
              "creates momentum and velocity for each weight on its first apply_gradients (or "
              "optimizer.build), so the checkpoint holds only the weights, iterations, learning_rate "
              "and step ({actual}).").format(actual=actual)
        )
    if trained and value == other:
        return (
            _("after one step the optimizer has been built: Adam now has a momentum and a velocity "
              "slot for every weight, and they are in the checkpoint.")
        )
    if trained and value == right - n_weights:
        return _("Adam keeps TWO slots per weight (momentum and velocity), not one.")
    if trained and value == right + n_weights:
        return (
            _("you counted the weights twice. The optimizer also tracks the model's variables, but a "
              "checkpoint stores each variable once, under its shortest path from the root.")
        )
    if value == expected_adam_checkpoint_count(n_weights + 1, trained):
        return (
            _("you gave the second layer a bias. It was built with use_bias=False: a kernel, no bias "
              "(and so no slots for a bias).")
        )
    if value == right + 1:
        return (
            _("one too many: the count leaves out '_CHECKPOINTABLE_OBJECT_GRAPH' (the object graph "
              "itself, not a tensor of your model). Did you count it, or a save_counter? "
              "Checkpoint.write() does not add a save_counter; Checkpoint.save() does.")
        )
    if value == right - 1:
        return (
            _("one short. Count every variable: the step, and the optimizer's own two: iterations and "
              "learning_rate (a variable in Keras 3, so a schedule or a changed rate is saved).")
        )
    if value == right - 2:
        return (
            _("two short: the optimizer stores its own variables too, iterations and learning_rate, "
              "even before its first step.")
        )
    return (
        _("count the parts: the model's weights (kernel and bias per layer; use_bias=False has no "
          "bias), the step, the optimizer's iterations and learning_rate, and -- only once the "
          "optimizer is built -- Adam's momentum and velocity for every weight.")
    )


def check_checkpoint_count(prediction: Any, counts: Mapping[str, int]) -> Feedback:
    """Check a prediction of ``tf.train.list_variables`` counts before/after the first step.

    Args:
        prediction: ``{"before_training": int, "after_one_step": int}`` (the learner's).
        counts: the measured counts, same keys, plus ``"n_weights"`` (the model's weights).

    Introduced in notebooks/09_saver.ipynb.
    """
    n_weights = int(counts["n_weights"])
    wrong = _numbers_hint(prediction, counts, COUNT_KEYS,
                          lambda k, v: _count_mistake(k, v, n_weights, int(counts[k])))
    if wrong is not None:
        return wrong
    return passed(
        _("{before_training} tensors before training (weights, iterations, learning_rate, step), "
          "{after_one_step} after one step (plus momentum and velocity for each of the {n_weights} "
          "weights).").format(before_training=counts['before_training'], after_one_step=counts['after_one_step'], n_weights=n_weights)
    )



ITERATION_KEYS = ("in_memory", "on_disk")


def _iterations_mistake(key: str, value: int, measured: Mapping[str, int]) -> str:
    saved, calls = int(measured["on_disk"]), int(measured["calls_here"])
    if key == "in_memory":
        if value in (saved, calls):
            return _("iterations is the two added: tf.saved_model.load restored the saved count ({saved}), "
                     "and each train_step this kernel ran ({calls}) added one to it.").format(saved=saved, calls=calls)
        if value == saved + calls - 1:
            return _("one short: count every train_step this kernel ran, the one of section 2 as well "
                     "as the two of this exercise ({calls} in all).").format(calls=calls)
        if value == saved + calls + 1:
            return _("one too many: 09 ran one more step on its own trainer after saving, but that step "
                     "happened in 09's kernel, after the save; the SavedModel holds {saved}.").format(saved=saved)
        return _("iterations counts apply_gradients calls: the value restored from the SavedModel "
                 "({saved}), plus one for each train_step this kernel ran.").format(saved=saved)
    if value == int(measured["in_memory"]):
        return _("loading does not write back. The training steps changed the loaded variables in this "
                 "process's memory only; the folder still holds what tf.saved_model.save wrote in 09. "
                 "Only a new save writes files.")
    if value == saved + 1:
        return _("09's trainer took one more step (to {after}), but after tf.saved_model.save had "
                 "written the SavedModel: its variables file holds {saved}.").format(after=saved + 1, saved=saved)
    if value == 0:
        return _("the SavedModel holds the optimizer's variables, iterations included: 09 saved it "
                 "after {saved} training steps.").format(saved=saved)
    return _("the files hold what tf.saved_model.save wrote in 09, nothing this kernel did since.")


def check_snapshot_iterations(prediction: Any, measured: Mapping[str, int]) -> Feedback:
    """Check a prediction of a loaded SavedModel's ``iterations``: in memory, and in its files.

    Args:
        prediction: ``{"in_memory": int, "on_disk": int}`` (the learner's).
        measured: the same keys as measured, plus ``"calls_here"`` (``train_step`` calls made in
            this process).

    Introduced in notebooks/09b_savedmodel_fresh_process.ipynb.
    """
    wrong = _numbers_hint(prediction, measured, ITERATION_KEYS,
                          lambda k, v: _iterations_mistake(k, v, measured))
    if wrong is not None:
        return wrong
    return passed(
        _("{in_memory} in memory: {on_disk} restored from the SavedModel plus {calls} steps here. "
          "{on_disk} on disk: a loaded SavedModel is a copy; the files change only when you save "
          "again.").format(in_memory=measured["in_memory"], on_disk=measured["on_disk"],
                           calls=measured["calls_here"])
    )

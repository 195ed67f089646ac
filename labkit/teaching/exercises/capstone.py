"""Exercise checks for notebooks/11_capstone.ipynb and notebooks/12_scale_out.ipynb.

The capstone assembles a training program step by step on the learner's own objects; after
each step one check looks at what the learner built and, when a step is missing or wrong,
names the step and the mistake ("Step 5 (train step): no clipping: your step's gradients are
not clipped", "Step 1 (data split): the validation set overlaps the training set"). Every check
accepts ``None`` for an object not written yet and answers with a hint instead of raising, so a
notebook with empty steps still runs top to bottom.

The steps, in order: :func:`check_split`, :func:`check_model`, :func:`check_optimizer`,
:func:`check_clipping`, :func:`check_train_step`, :func:`check_summaries`,
:func:`check_resume` (with the prediction exercise :func:`check_resume_prediction`),
:func:`check_export`, and :func:`check_fit_matches_loop` for the ``model.fit`` path.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from labkit.i18n import N_, _
from labkit.teaching.exercises.feedback import Feedback, hint, passed

__all__ = [
    "check_clipping",
    "check_export",
    "check_fit_matches_loop",
    "check_model",
    "check_optimizer",
    "check_replica_loss_scale",
    "check_resume",
    "check_resume_prediction",
    "check_resume_step",
    "check_split",
    "check_summaries",
    "check_train_step",
    "read_event_scalars",
]

NUM_CLASSES = 10
NUM_FEATURES = 64
MAX_PARAMS = 100_000

# Each hint starts with the notebook's step, so that the learner knows which cell to revisit.
_STEP = {
    "data split": N_("Step 1 (data split)"),
    "model": N_("Step 2 (model)"),
    "loss": N_("Step 2 (loss)"),
    "optimizer": N_("Step 3 (optimizer)"),
    "schedule": N_("Step 3 (schedule)"),
    "clipping": N_("Step 4 (clipping)"),
    "train step": N_("Step 5 (train step)"),
    "summaries": N_("Step 6 (summaries)"),
    "checkpoint and resume": N_("Step 7 (checkpoint and resume)"),
    "export": N_("Step 8 (export)"),
    "reload and predict": N_("Step 8 (reload and predict)"),
    "model.fit": N_("The model.fit path"),
}


def _as_int(answer: Any) -> int | None:
    if isinstance(answer, bool):
        return None
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value):
        return None
    return int(value) if value == int(value) else None


def _missing(step: str, name: str, what: str) -> Feedback:
    return hint(_("{step}: `{name}` is still None: {what}").format(step=step, name=name, what=what))


def _fmt(x: float) -> str:
    return f"{x:.3g}"


# --- step 1: the data split -------------------------------------------------------------


def check_split(x_train: Any, y_train: Any, x_val: Any, y_val: Any, x_test: Any, y_test: Any) -> Feedback:
    """Train / validation / test: shapes, labels, and no image in two sets.

    Introduced in notebooks/11_capstone.ipynb. ``x_*`` are (n, 64) float arrays of digit
    images, ``y_*`` (n,) integer labels 0-9. Overlap is found by content (the 1797 images of
    scikit-learn's digits set are all distinct, so an image in two sets is a leak).
    """
    step = _(_STEP["data split"])
    parts = {"training": (x_train, y_train), "validation": (x_val, y_val), "test": (x_test, y_test)}
    names = {"training": ("x_train", "y_train"), "validation": ("x_val", "y_val"), "test": ("x_test", "y_test")}
    shown = {"training": _("training"), "validation": _("validation"), "test": _("test")}
    arrays = {}
    for part, (x, y) in parts.items():
        for name, value in zip(names[part], (x, y), strict=True):
            if value is None:
                return _missing(step, name, _("fill in the {part} set (features x, labels y).").format(part=shown[part]))
        x, y = np.asarray(x), np.asarray(y)
        nx, ny = names[part]
        if x.ndim != 2 or x.shape[1] != NUM_FEATURES:
            return hint(_("{step}: `{nx}` has shape {shape}; each row must be one image of {NUM_FEATURES} pixels, "
                          "shape (n, {NUM_FEATURES}).").format(step=step, nx=nx, shape=x.shape, NUM_FEATURES=NUM_FEATURES))
        if y.ndim != 1 or len(y) != len(x):
            return hint(_("{step}: `{ny}` has shape {shape} but `{nx}` has {n_x} rows: one label per image, shape "
                          "(n,).").format(step=step, ny=ny, shape=y.shape, nx=nx, n_x=len(x)))
        if len(x) == 0:
            return hint(_("{step}: the {part} set is empty.").format(step=step, part=shown[part]))
        if not np.issubdtype(y.dtype, np.integer):
            return hint(_("{step}: `{ny}` has dtype {dtype}; labels are the integers 0-9.").format(step=step, ny=ny, dtype=y.dtype))
        arrays[part] = (x, y)
    rows = {part: {row.tobytes() for row in np.ascontiguousarray(x, dtype=np.float32)}
            for part, (x, _y) in arrays.items()}
    for a, b in (("validation", "training"), ("test", "training"), ("test", "validation")):
        shared = len(rows[a] & rows[b])
        if shared:
            return hint(_("{step}: the {a} set overlaps the {b} set: {shared} images are in both. Split one "
                          "shuffled list of indices into disjoint pieces (np.split).").format(step=step, a=shown[a], b=shown[b], shared=shared))
    for part, (x, _y) in arrays.items():
        if len(rows[part]) != len(x):
            return hint(_("{step}: the {part} set holds {value} repeated images: take each index once.").format(step=step, part=shown[part], value=len(x) - len(rows[part])))
    for part, (_x, y) in arrays.items():
        missing = sorted(set(range(NUM_CLASSES)) - set(np.unique(y).tolist()))
        if missing:
            return hint(_("{step}: the {part} set has no examples of digit(s) {missing}: shuffle before you split.").format(step=step, part=shown[part], missing=missing))
    n = {part: len(x) for part, (x, _y) in arrays.items()}
    return passed(_("{step}: training {n_train}, validation {n_val}, test {n_test} images of {NUM_FEATURES} "
                    "pixels; no image is in two sets, and every digit 0-9 appears in each.").format(
                        step=step, n_train=n["training"], n_val=n["validation"], n_test=n["test"],
                        NUM_FEATURES=NUM_FEATURES))


# --- step 2: model and loss --------------------------------------------------------------


def check_model(model: Any, loss_fn: Any, x: Any, y: Any) -> Feedback:
    """A small Keras model with 10 outputs, and a loss that matches its last layer.

    Introduced in notebooks/11_capstone.ipynb. Calls ``model(x)`` once (no training) and
    ``loss_fn(y, model(x))``; an untrained 10-class model should give a loss near
    ln 10 = 2.30.
    """
    import keras

    step = _(_STEP["model"])
    if model is None:
        return _missing(step, "model", _("build a small keras.Sequential ending in Dense(10)."))
    if not isinstance(model, keras.Model):
        return hint(_("{step}: `model` is a {model_type}, not a Keras model (keras.Sequential([...]) or "
                      "keras.Model).").format(step=step, model_type=type(model).__name__))
    if loss_fn is None:
        return _missing(_(_STEP["loss"]), "loss_fn", _("use keras.losses.SparseCategoricalCrossentropy (labels are integers 0-9)."))
    x = np.asarray(x, np.float32)
    out = np.asarray(model(x, training=False))
    if out.shape != (len(x), NUM_CLASSES):
        return hint(_("{step}: your model maps {shape} to {shape2}; the digits have {NUM_CLASSES} classes, so "
                      "it must end in Dense({NUM_CLASSES}): shape (n, 10).").format(step=step, shape=x.shape, shape2=out.shape, NUM_CLASSES=NUM_CLASSES))
    params = int(model.count_params())
    if params > MAX_PARAMS:
        return hint(_("{step}: {params} parameters; keep it small (at most {MAX_PARAMS}): the digits need one "
                      "hidden layer of a few dozen units.").format(step=step, params=params, MAX_PARAMS=MAX_PARAMS))
    from_logits = None
    if hasattr(loss_fn, "get_config"):
        from_logits = loss_fn.get_config().get("from_logits")
    probabilities = bool((out >= 0).all() and np.allclose(out.sum(axis=1), 1.0, atol=1e-4))
    if from_logits is True and probabilities:
        return hint(_("{loss}: your last layer applies softmax and the loss has from_logits=True, so softmax "
                      "is applied twice. Drop the activation of the last Dense layer.").format(loss=_(_STEP['loss'])))
    if from_logits is False and not probabilities:
        return hint(_("{loss}: your model outputs logits (rows do not sum to 1) but the loss has "
                      "from_logits=False and reads them as probabilities. Pass from_logits=True.").format(loss=_(_STEP['loss'])))
    loss = float(loss_fn(np.asarray(y), out))
    if not math.isfinite(loss) or abs(loss - math.log(NUM_CLASSES)) > 1.0:
        return hint(_("{loss}: the untrained model's loss is {loss2}; with 10 classes and random weights it "
                      "should be near ln 10 = {ln10:.2f}. Check the loss function and the labels.").format(loss=_(_STEP['loss']), loss2=_fmt(loss), ln10=math.log(NUM_CLASSES)))
    return passed(_("{step}: {params} parameters, output shape (n, {NUM_CLASSES}); untrained loss "
                    "{loss:.2f}, near ln 10 = {ln10:.2f} (a uniform guess).").format(step=step, params=params, NUM_CLASSES=NUM_CLASSES, loss=loss, ln10=math.log(NUM_CLASSES)))


# --- step 3: optimizer and schedule ------------------------------------------------------


def check_optimizer(optimizer: Any, total_steps: int) -> Feedback:
    """A Keras 3 optimizer whose learning rate follows a ``keras.optimizers.schedules`` schedule.

    Introduced in notebooks/11_capstone.ipynb. The schedule must change the rate between
    step 0 and ``total_steps``.
    """
    import keras
    import tensorflow as tf

    step = _(_STEP["optimizer"])
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(_("`total_steps` must be an integer >= 1. Received: total_steps={total_steps!r}").format(total_steps=total_steps))
    if optimizer is None:
        return _missing(step, "optimizer", _("make a keras.optimizers.Adam(learning_rate=schedule)."))
    if isinstance(optimizer, tf.compat.v1.train.Optimizer) or type(optimizer).__module__.startswith("labkit."):
        return hint(_("{step}: {optimizer_type} is a TF1-style optimizer (the seed's tf.train API); today you "
                      "write keras.optimizers.Adam(...).").format(step=step, optimizer_type=type(optimizer).__name__))
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        return hint(_("{step}: `optimizer` is a {optimizer_type}, not a Keras optimizer.").format(step=step, optimizer_type=type(optimizer).__name__))
    schedule = getattr(optimizer, "_learning_rate", None)
    if not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        return hint(_("{schedule}: your optimizer's learning rate is a constant; pass a "
                      "keras.optimizers.schedules object (e.g. CosineDecay) as learning_rate.").format(schedule=_(_STEP['schedule'])))
    start, end = float(schedule(0)), float(schedule(total_steps))
    if math.isclose(start, end, rel_tol=1e-6):
        return hint(_("{schedule}: {schedule_type} gives {start} at step 0 and at step {total_steps}; it must "
                      "change over the run (check decay_steps).").format(schedule=_(_STEP['schedule']), schedule_type=type(schedule).__name__, start=_fmt(start), total_steps=total_steps))
    return passed(_("{step}: {optimizer_type} with {schedule_type}: learning rate {start} at step 0, {end} "
                    "at step {total_steps}.").format(step=step, optimizer_type=type(optimizer).__name__, schedule_type=type(schedule).__name__, start=_fmt(start), end=_fmt(end), total_steps=total_steps))


# --- step 4: clipping ---------------------------------------------------------------------


def _probe_gradients(scale: float) -> list[np.ndarray]:
    # Values of different sizes and signs, so that clipping each number (clip_by_value)
    # visibly changes the direction while clipping the norm does not.
    return [(np.arange(1, 13, dtype=np.float32).reshape(3, 4) / 6.0) * scale,
            np.array([-2.0, 1.0, 3.0, -1.0, 0.5], np.float32) * scale]


def check_clipping(clip_gradients: Any, clip_norm: Any) -> Feedback:
    """A function from a list of gradients to the list of clipped gradients.

    Introduced in notebooks/11_capstone.ipynb. Accepts per-tensor clipping (the seed's
    ``tf.clip_by_norm(g, clip_norm)`` on each gradient) or global clipping
    (``tf.clip_by_global_norm``). Large gradients must come out with norm <= ``clip_norm``
    and the same direction; small ones must come out unchanged.
    """
    import tensorflow as tf

    step = _(_STEP["clipping"])
    if clip_gradients is None:
        return hint(_("{step}: no clipping: `clip_gradients` is still None, so your step's gradients are not "
                      "clipped. Write it with tf.clip_by_norm.").format(step=step))
    if clip_norm is None or isinstance(clip_norm, bool) or not isinstance(clip_norm, (int, float)) \
            or not clip_norm > 0:
        return hint(_("{step}: `clip_norm` must be a number > 0. Received: clip_norm={clip_norm!r}").format(step=step, clip_norm=clip_norm))
    big_in = _probe_gradients(10.0 * clip_norm)
    small_in = _probe_gradients(0.01 * clip_norm / 10)
    try:
        big_out = clip_gradients([tf.constant(g) for g in big_in])
        small_out = clip_gradients([tf.constant(g) for g in small_in])
    except Exception as exc:  # the learner's code: report, never raise
        return hint(_("{step}: calling clip_gradients(list_of_gradients) raised {exc_type} ({exc}).").format(step=step, exc_type=type(exc).__name__, exc=exc))
    if isinstance(big_out, tuple) and len(big_out) == 2 and np.ndim(big_out[1]) == 0:
        return hint(_("{step}: you return a pair: tf.clip_by_global_norm returns (clipped_list, global_norm); "
                      "return only the list (its [0]).").format(step=step))
    if big_out is None or len(big_out) != len(big_in):
        return hint(_("{step}: clip_gradients must return one gradient per input gradient ({n_big_in} in, got "
                      "{value}).").format(step=step, n_big_in=len(big_in), value=None if big_out is None else len(big_out)))
    big = [np.asarray(g, np.float64) for g in big_out]
    small = [np.asarray(g, np.float64) for g in small_out]
    if all(np.array_equal(a, b) for a, b in zip(big, big_in, strict=True)):
        return hint(_("{step}: no clipping: your step's gradients are not clipped (clip_gradients returns "
                      "large gradients unchanged).").format(step=step))
    tol = 1 + 1e-5
    norms = [float(np.linalg.norm(g)) for g in big]
    global_norm = float(np.sqrt(sum(n * n for n in norms)))
    same_direction = all(
        np.allclose(g / np.linalg.norm(g), g0 / np.linalg.norm(g0), atol=1e-5)
        for g, g0 in zip(big, big_in, strict=True))
    if not same_direction:
        if all(np.allclose(g, np.clip(g0, -clip_norm, clip_norm), atol=1e-5)
               for g, g0 in zip(big, big_in, strict=True)):
            return hint(_("{step}: that is clip_by_value: each number is capped at ±clip_norm, which changes the "
                          "gradient's direction. Clip the norm: tf.clip_by_norm(g, clip_norm).").format(step=step))
        return hint(_("{step}: the clipped gradients point in another direction than the originals; clipping "
                      "only rescales (multiply by clip_norm / norm).").format(step=step))
    if not all(np.allclose(a, b, rtol=1e-6, atol=0) for a, b in zip(small, small_in, strict=True)):
        return hint(_("{step}: gradients already below clip_norm must pass through unchanged; you rescale "
                      "every gradient to length clip_norm. tf.clip_by_norm only shrinks those above it.").format(step=step))
    if all(n <= clip_norm * tol for n in norms):
        mode = (_("global: all gradients scaled by one factor (tf.clip_by_global_norm)")
                if global_norm <= clip_norm * tol else
                _("per tensor: each gradient clipped on its own, as the seed's tf.clip_by_norm(g, 5)"))
        return passed(_("{step}: large gradients come out with norm <= {clip_norm}, small ones unchanged; {mode}.").format(step=step, clip_norm=clip_norm, mode=mode))
    return hint(_("{step}: after clipping the gradients still have norms {value}, above "
                  "clip_norm={clip_norm}.").format(step=step, value=[round(n, 2) for n in norms], clip_norm=clip_norm))


# --- step 5: the train step ---------------------------------------------------------------


def _clips_in_graph(train_step: Any, x: Any, y: Any) -> bool:
    graph = train_step.get_concrete_function(x, y).graph
    return any("clip_by" in op.name for op in graph.get_operations())


def check_train_step(train_step: Any, model: Any, optimizer: Any, loss_fn: Any, x: Any, y: Any) -> Feedback:
    """One call of the learner's ``@tf.function`` step on a fixed batch.

    Introduced in notebooks/11_capstone.ipynb. The check calls ``train_step(x, y)`` once
    (so it trains ``model`` by one step): the loss on that batch must fall, and
    ``optimizer.iterations`` must grow by exactly 1. Clipping is found in the step's traced
    graph (``tf.clip_by_norm`` / ``tf.clip_by_global_norm`` ops) or in the optimizer's
    ``clipnorm`` / ``global_clipnorm`` / ``clipvalue``.
    """
    import tensorflow as tf

    step = _(_STEP["train step"])
    for name, value in (("train_step", train_step), ("model", model), ("optimizer", optimizer),
                        ("loss_fn", loss_fn)):
        if value is None:
            return _missing(step, name, _("the earlier steps build it; run them first."))
    if not isinstance(train_step, tf.types.experimental.PolymorphicFunction):
        return hint(_("{step}: `train_step` is a plain Python function; decorate it with @tf.function so "
                      "TensorFlow traces it into a graph.").format(step=step))
    x, y = tf.constant(np.asarray(x, np.float32)), tf.constant(np.asarray(y))
    before = float(loss_fn(y, model(x, training=False)))
    it0 = int(optimizer.iterations)
    try:
        returned = train_step(x, y)
    except Exception as exc:  # the learner's code: report, never raise
        return hint(_("{step}: calling train_step(x, y) raised {exc_type} ({exc}).").format(step=step, exc_type=type(exc).__name__, exc=exc))
    moved = int(optimizer.iterations) - it0
    after = float(loss_fn(y, model(x, training=False)))
    if moved == 0:
        return hint(_("{step}: optimizer.iterations did not move: your step never calls "
                      "optimizer.apply_gradients(zip(grads, model.trainable_variables)).").format(step=step))
    if moved != 1:
        return hint(_("{step}: optimizer.iterations grew by {moved} in one call: apply the gradients once per "
                      "step.").format(step=step, moved=moved))
    if not after < before:
        return hint(_("{step}: one call did not lower the loss on a fixed batch ({before:.4f} -> {after:.4f}): "
                      "compute the loss inside `with tf.GradientTape() as tape:` and take tape.gradient(loss, "
                      "model.trainable_variables).").format(step=step, before=before, after=after))
    if returned is None or np.ndim(returned) != 0:
        return hint(_("{step}: your step returns {returned!r}; return the (scalar) loss so the loop can log it.").format(step=step, returned=returned))
    keras_clip = any(getattr(optimizer, a, None) for a in ("clipnorm", "global_clipnorm", "clipvalue"))
    if not keras_clip and not _clips_in_graph(train_step, x, y):
        return hint(_("{step}: no clipping: your step's gradients are not clipped (no tf.clip_by_norm / "
                      "tf.clip_by_global_norm in its graph, no clipnorm on the optimizer). Call clip_gradients "
                      "between tape.gradient and apply_gradients.").format(step=step))
    return passed(_("{step}: one call lowered the loss on a fixed batch and moved optimizer.iterations by 1; "
                    "its graph clips the gradients.").format(step=step))


# --- step 6: summaries --------------------------------------------------------------------


def read_event_scalars(logdir: str | os.PathLike) -> dict[str, dict[int, float]]:
    """``{tag: {step: value}}`` from the event files directly in ``logdir`` (not sub-folders).

    Introduced in notebooks/11_capstone.ipynb. Reads each event with TensorBoard's own
    ``EventFileLoader`` (the loader the TensorBoard server uses). TF2's ``tf.summary.scalar``
    stores the value as a tensor; a TF1 ``simple_value`` is read too.
    """
    import tensorflow as tf
    from tensorboard.util import tensor_util

    from labkit._tf_private import event_file_loader

    found: dict[str, dict[int, float]] = {}
    for path in sorted(tf.io.gfile.glob(os.path.join(os.fspath(logdir), "events.out.tfevents.*"))):
        for event in event_file_loader(path).Load():
            for value in event.summary.value:
                if value.HasField("tensor"):
                    number = tensor_util.make_ndarray(value.tensor)
                    if number.ndim != 0 or not np.issubdtype(number.dtype, np.number):
                        continue
                    found.setdefault(value.tag, {})[int(event.step)] = float(number)
                elif value.HasField("simple_value"):
                    found.setdefault(value.tag, {})[int(event.step)] = float(value.simple_value)
    return found


def check_summaries(logdir: Any, expected: Mapping[str, Mapping[int, float]]) -> Feedback:
    """Read the event file back: every expected tag at every expected step, with its value.

    Introduced in notebooks/11_capstone.ipynb. ``expected`` is ``{tag: {step: value}}``.
    """
    step = _(_STEP["summaries"])
    if logdir is None:
        return _missing(step, "logdir", _("write with tf.summary.create_file_writer(logdir)."))
    files = [f for f in (os.listdir(logdir) if os.path.isdir(logdir) else [])
             if f.startswith("events.out.tfevents.")]
    if not files:
        return hint(_("{step}: no event file in {folder!r}: create the writer with "
                      "tf.summary.create_file_writer(logdir).").format(step=step, folder=os.fspath(logdir)))
    found = read_event_scalars(logdir)
    if not found:
        return hint(_("{step}: the event file holds no scalars: call tf.summary.scalar inside `with "
                      "writer.as_default():` (outside, it writes nothing and returns False), then "
                      "writer.flush().").format(step=step))
    for tag, points in expected.items():
        if tag not in found:
            return hint(_("{step}: no {tag!r} scalar in the event file (found tags: {value}).").format(step=step, tag=tag, value=sorted(found)))
        want, got = sorted(int(s) for s in points), sorted(found[tag])
        if want != got:
            return hint(_("{step}: {tag!r} was written at steps {got}, expected {want}: pass step= to "
                          "tf.summary.scalar (or to writer.as_default).").format(step=step, tag=tag, got=got, want=want))
        for s, value in points.items():
            if not math.isclose(found[tag][int(s)], float(value), rel_tol=1e-5, abs_tol=1e-7):
                return hint(_("{step}: {tag!r} at step {s} reads back as {found}, expected {value}.").format(step=step, tag=tag, s=s, found=_fmt(found[tag][int(s)]), value=_fmt(float(value))))
    total = sum(len(p) for p in expected.values())
    return passed(_("{step}: read back {total} scalar(s) under tag(s) {value} with their steps and values.").format(step=step, total=total, value=sorted(expected)))


# --- step 7: checkpoint, interrupt, resume ---------------------------------------------------


def _run_parts(run: Any) -> tuple[Any, Any, Any]:
    return getattr(run, "model", None), getattr(run, "optimizer", None), getattr(run, "start", None)


def check_resume(uninterrupted: Any, resumed: Any, ckpt_dir: Any) -> Feedback:
    """An interrupted-and-resumed run must end where the uninterrupted run ends.

    Introduced in notebooks/11_capstone.ipynb. ``uninterrupted`` and ``resumed`` are what the
    learner's ``train`` returns (objects with ``.model``, ``.optimizer`` and ``.start``, the
    step the run restored); ``ckpt_dir`` is the resumed run's CheckpointManager directory,
    whose newest checkpoint is listed with ``tf.train.list_variables``.
    """
    import tensorflow as tf

    step = _(_STEP["checkpoint and resume"])
    if uninterrupted is None or resumed is None:
        name = "uninterrupted" if uninterrupted is None else "resumed"
        return _missing(step, name, _("run train(...) to get it."))
    (m1, o1, _start), (m2, o2, start) = _run_parts(uninterrupted), _run_parts(resumed)
    if any(v is None for v in (m1, o1, m2, o2, start)):
        return hint(_("{step}: train() must return an object with .model, .optimizer and .start.").format(step=step))
    latest = tf.train.latest_checkpoint(os.fspath(ckpt_dir)) if ckpt_dir else None
    if latest is None:
        return hint(_("{step}: no checkpoint in {ckpt_dir!r}: call manager.save() every SAVE_EVERY steps.").format(step=step, ckpt_dir=ckpt_dir))
    keys = [name for name, _shape in tf.train.list_variables(latest)]
    if not any("iteration" in k for k in keys):
        return hint(_("{step}: the checkpoint holds no optimizer: put optimizer=optimizer in "
                      "tf.train.Checkpoint (its step counter and Adam's m and v live there).").format(step=step))
    if not any("ITERATOR_STATE" in k for k in keys):
        return hint(_("{step}: the checkpoint holds no data iterator: put the iterator in tf.train.Checkpoint, "
                      "or the resumed run sees other batches.").format(step=step))
    if int(start) == 0:
        return hint(_("{step}: the second run started at step 0: it did not restore. Call "
                      "manager.restore_or_initialize() before the loop.").format(step=step))
    n1, n2 = int(o1.iterations), int(o2.iterations)
    if n1 != n2:
        return hint(_("{step}: the resumed run ended at step {n2}, the uninterrupted one at {n1}.").format(step=step, n2=n2, n1=n1))
    w1, w2 = m1.get_weights(), m2.get_weights()
    if len(w1) != len(w2) or any(a.shape != b.shape for a, b in zip(w1, w2, strict=False)):
        return hint(_("{step}: the two runs' models have different shapes: build both with make_model().").format(step=step))
    diff = max(float(np.abs(a - b).max()) for a, b in zip(w1, w2, strict=True))
    if diff == 0.0:
        return passed(_("{step}: restored at step {start}, trained on to {n2}; every weight equals the "
                        "uninterrupted run's, bit for bit.").format(step=step, start=int(start), n2=n2))
    if diff <= 1e-6:
        return passed(_("{step}: restored at step {start}; weights equal the uninterrupted run's to {diff:.1e} "
                        "(not bit for bit: is op determinism on?).").format(step=step, start=int(start), diff=diff))
    return hint(_("{step}: both runs reach step {n2} but the weights differ (max |diff| {diff:.3g}). The "
                  "checkpoint holds model, optimizer and iterator, so look at what it does not hold: did "
                  "both runs start from the same initial weights (keras.utils.set_random_seed before "
                  "make_model) and the same data order?").format(step=step, n2=n2, diff=diff))


def check_resume_prediction(prediction: Any, save_every: int, stopped_at: int,
                            resumed_from: int | None = None) -> Feedback:
    """Predict ``optimizer.iterations`` right after the resumed run restores.

    Introduced in notebooks/11_capstone.ipynb. The interrupted run saved every
    ``save_every`` steps and stopped at ``stopped_at`` without saving; ``resumed_from`` is
    what the learner's resumed run really restored (``.start``), compared too when given.
    """
    for name, value in (("save_every", save_every), ("stopped_at", stopped_at)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(_("`{name}` must be an integer >= 1. Received: {name}={value!r}").format(name=name, value=value))
    expected = (stopped_at // save_every) * save_every
    if prediction is None:
        return hint(_("prediction: `predicted_start` is still None: write the step you expect the resumed run "
                      "to restore, then run the cell."))
    value = _as_int(prediction)
    if value is None:
        return hint(_("prediction: write a whole step number. Received: {prediction!r}").format(prediction=prediction))
    if resumed_from is not None and int(resumed_from) == 0 and expected != 0:
        return hint(_("prediction: your resumed run restored nothing (it started at step 0): does train() call "
                      "manager.restore_or_initialize()?"))
    if resumed_from is not None and int(resumed_from) != expected:
        return hint(_("prediction: your resumed run restored step {resumed_from}, not {expected}: did you "
                      "change SAVE_EVERY, STOP_AT or the save in the loop?").format(resumed_from=int(resumed_from), expected=expected))
    if value == expected:
        return passed(_("prediction: the newest checkpoint is step {expected}; steps {value}-{stopped_at} are "
                        "trained again on the same batches (the iterator is in the checkpoint).").format(expected=expected, value=expected + 1, stopped_at=stopped_at))
    if value == expected + 1:
        return hint(_("prediction: {value} is the first step trained after the restore; the restored counter "
                      "optimizer.iterations reads {expected}.").format(value=value, expected=expected))
    if value == stopped_at:
        return hint(_("prediction: nothing was saved at step {stopped_at}: the run stopped between two saves, "
                      "and everything after the last multiple of {save_every} is lost.").format(stopped_at=stopped_at, save_every=save_every))
    if value == 0:
        return hint(_("prediction: restore_or_initialize() restores the newest checkpoint; the run does not "
                      "start over."))
    if value % save_every == 0 and value < expected:
        return hint(_("prediction: step {value} was saved, but so was a newer one; the manager restores the "
                      "newest.").format(value=value))
    return hint(_("prediction: {value} is not it: which multiple of SAVE_EVERY={save_every} was the last "
                  "one reached before step {stopped_at}?").format(value=value, save_every=save_every, stopped_at=stopped_at))


def check_resume_step(save_every: int, interrupted_at: int, answer: Any) -> Feedback:
    """From which global step does ``--resume`` continue after an interruption?

    Used by ``python -m labkit.digits.run --resume`` questions (tests/digits/test_digits_run.py).
    Checkpoints are written every ``save_every`` steps; the run was stopped (killed) at step
    ``interrupted_at`` before it could save again.
    """
    for name, value in (("save_every", save_every), ("interrupted_at", interrupted_at)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(_("`{name}` must be an integer >= 1. Received: {name}={value!r}").format(name=name, value=value))
    expected = (interrupted_at // save_every) * save_every
    if answer is None:
        return hint(_("`answer` is still None: set it to the step number the resumed run starts at."))
    value = _as_int(answer)
    if value is None:
        return hint(_("`answer` must be a whole step number. Received: {answer!r}").format(answer=answer))
    if value == expected:
        return passed(_("The newest checkpoint is step {expected}; the {value} steps after it are trained again "
                        "(on the same batches, because the data iterator is in the checkpoint).").format(expected=expected, value=interrupted_at - expected))
    if value == interrupted_at:
        return hint(_("Nothing was saved at step {interrupted_at}: a kill loses everything after the last "
                      "multiple of save_every={save_every}.").format(interrupted_at=interrupted_at, save_every=save_every))
    if value == 0:
        return hint(_("--resume restores the newest checkpoint; it does not start over."))
    return hint(_("{value} is not it: which multiple of save_every={save_every} was the last one reached "
                  "before step {interrupted_at}?").format(value=value, save_every=save_every, interrupted_at=interrupted_at))


# --- step 8: export, reload, predict ---------------------------------------------------------


def check_export(export_dir: Any, direct: Any, served: Any) -> Feedback:
    """The exported SavedModel, reloaded, predicts what the trained model predicts.

    Introduced in notebooks/11_capstone.ipynb. ``direct`` are the trained model's outputs on
    some inputs, ``served`` the reloaded SavedModel's outputs on the same inputs.
    """
    step = _(_STEP["export"])
    if export_dir is None:
        return _missing(step, "export_dir", _("model.export(export_dir) writes a SavedModel there."))
    if not os.path.isfile(os.path.join(os.fspath(export_dir), "saved_model.pb")):
        return hint(_("{step}: no saved_model.pb in {folder!r}: call model.export(export_dir) (or "
                      "tf.saved_model.save).").format(step=step, folder=os.fspath(export_dir)))
    if direct is None:
        return _missing(_(_STEP["reload and predict"]), "direct", _("the trained model's outputs on x_test."))
    if served is None:
        return _missing(_(_STEP["reload and predict"]), "served", _("reload with tf.saved_model.load(export_dir) and call its .serve(x)."))
    direct, served = np.asarray(direct), np.asarray(served)
    if direct.shape != served.shape:
        return hint(_("{value}: the reloaded model gives shape {shape}, the trained one {shape2}: predict on "
                      "the same inputs.").format(value=_(_STEP['reload and predict']), shape=served.shape, shape2=direct.shape))
    diff = float(np.abs(direct - served).max())
    if diff > 1e-5:
        return hint(_("{value}: the reloaded model predicts differently (max |diff| {diff:.3g}): did you "
                      "export the model you trained, after training?").format(value=_(_STEP['reload and predict']), diff=diff))
    same = bool((direct.argmax(axis=1) == served.argmax(axis=1)).all())
    return passed(_("{step}: the reloaded SavedModel gives the trained model's outputs (max |diff| <= 1e-5) "
                    "and the same predicted digit for all {n_direct} inputs: {same}.").format(step=step, n_direct=len(direct), same=same))


# --- the model.fit path -------------------------------------------------------------------------


def check_fit_matches_loop(loop_accuracy: Any, fit_accuracy: Any, threshold: float = 0.9,
                           tolerance: float = 0.03) -> Feedback:
    """The ``model.fit`` run reaches the hand-written loop's test accuracy within ``tolerance``.

    Introduced in notebooks/11_capstone.ipynb. Both accuracies must be >= ``threshold``.
    """
    step = _(_STEP["model.fit"])
    for name, value in (("loop_accuracy", loop_accuracy), ("fit_accuracy", fit_accuracy)):
        if value is None:
            return _missing(step, name, _("the test accuracy of that run, a number in [0, 1]."))
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
                or not 0.0 <= float(value) <= 1.0:
            return hint(_("{step}: `{name}` must be an accuracy in [0, 1]. Received: {value!r}").format(step=step, name=name, value=value))
    loop_accuracy, fit_accuracy = float(loop_accuracy), float(fit_accuracy)
    for name, value in ((_("hand-written loop"), loop_accuracy), (_("model.fit run"), fit_accuracy)):
        if value < threshold:
            return hint(_("{step}: the {name} reaches {value:.3f}, below {threshold}: did it train for the same "
                          "number of steps with the same optimizer?").format(step=step, name=name, value=value, threshold=threshold))
    gap = abs(loop_accuracy - fit_accuracy)
    if gap > tolerance:
        return hint(_("{step}: the two paths differ by {gap:.3f} in test accuracy (tolerance {tolerance}): "
                      "compare their optimizers, schedules and epochs.").format(step=step, gap=gap, tolerance=tolerance))
    return passed(_("{step}: both paths reach test accuracy >= {threshold} and differ by at most {tolerance}.").format(step=step, threshold=threshold, tolerance=tolerance))


# --- notebook 12 ---------------------------------------------------------------------------------


def check_replica_loss_scale(global_batch_size: int, num_replicas: int, answer: Any) -> Feedback:
    """By what does each replica divide the sum of its per-example losses?

    Introduced in notebooks/12_scale_out.ipynb. The replicas' gradients are *summed*, so for
    the result to equal one device's mean over the global batch, each replica divides by the
    global batch size (what ``tf.nn.compute_average_loss`` does).
    """
    for name, value in (("global_batch_size", global_batch_size), ("num_replicas", num_replicas)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(_("`{name}` must be an integer >= 1. Received: {name}={value!r}").format(name=name, value=value))
    if answer is None:
        return hint(_("`answer` is still None: set it to a number."))
    value = _as_int(answer)
    if value is None:
        return hint(_("`answer` must be a whole number. Received: {answer!r}").format(answer=answer))
    if value == global_batch_size:
        return passed(_("Divide by the global batch ({global_batch_size}): summing the {num_replicas} replica "
                        "gradients then gives the mean over all examples.").format(global_batch_size=global_batch_size, num_replicas=num_replicas))
    per_replica = global_batch_size // num_replicas
    if value == per_replica:
        return hint(_("{per_replica} is the per-replica batch: each replica's mean would be right, but the "
                      "all-reduce SUMS them, so the gradient is {num_replicas}x too big.").format(per_replica=per_replica, num_replicas=num_replicas))
    return hint(_("{value} is not it: the all-reduce sums the replicas' gradients; which divisor makes "
                  "that sum a mean over the whole global batch?").format(value=value))


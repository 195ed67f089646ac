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
    "data split": "Step 1 (data split)",
    "model": "Step 2 (model)",
    "loss": "Step 2 (loss)",
    "optimizer": "Step 3 (optimizer)",
    "schedule": "Step 3 (schedule)",
    "clipping": "Step 4 (clipping)",
    "train step": "Step 5 (train step)",
    "summaries": "Step 6 (summaries)",
    "checkpoint and resume": "Step 7 (checkpoint and resume)",
    "export": "Step 8 (export)",
    "reload and predict": "Step 8 (reload and predict)",
    "model.fit": "The model.fit path",
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
    return hint(f"{step}: `{name}` is still None: {what}")


def _fmt(x: float) -> str:
    return f"{x:.3g}"


# --- step 1: the data split -------------------------------------------------------------


def check_split(x_train: Any, y_train: Any, x_val: Any, y_val: Any, x_test: Any, y_test: Any) -> Feedback:
    """Train / validation / test: shapes, labels, and no image in two sets.

    Introduced in notebooks/11_capstone.ipynb. ``x_*`` are (n, 64) float arrays of digit
    images, ``y_*`` (n,) integer labels 0-9. Overlap is found by content (the 1797 images of
    scikit-learn's digits set are all distinct, so an image in two sets is a leak).
    """
    step = _STEP["data split"]
    parts = {"training": (x_train, y_train), "validation": (x_val, y_val), "test": (x_test, y_test)}
    names = {"training": ("x_train", "y_train"), "validation": ("x_val", "y_val"), "test": ("x_test", "y_test")}
    arrays = {}
    for part, (x, y) in parts.items():
        for name, value in zip(names[part], (x, y), strict=True):
            if value is None:
                return _missing(step, name, f"fill in the {part} set (features x, labels y).")
        x, y = np.asarray(x), np.asarray(y)
        nx, ny = names[part]
        if x.ndim != 2 or x.shape[1] != NUM_FEATURES:
            return hint(f"{step}: `{nx}` has shape {x.shape}; each row must be one image of "
                        f"{NUM_FEATURES} pixels, shape (n, {NUM_FEATURES}).")
        if y.ndim != 1 or len(y) != len(x):
            return hint(f"{step}: `{ny}` has shape {y.shape} but `{nx}` has {len(x)} rows: "
                        "one label per image, shape (n,).")
        if len(x) == 0:
            return hint(f"{step}: the {part} set is empty.")
        if not np.issubdtype(y.dtype, np.integer):
            return hint(f"{step}: `{ny}` has dtype {y.dtype}; labels are the integers 0-9.")
        arrays[part] = (x, y)
    rows = {part: {row.tobytes() for row in np.ascontiguousarray(x, dtype=np.float32)}
            for part, (x, _) in arrays.items()}
    for a, b in (("validation", "training"), ("test", "training"), ("test", "validation")):
        shared = len(rows[a] & rows[b])
        if shared:
            return hint(f"{step}: the {a} set overlaps the {b} set: {shared} images are in both. "
                        "Split one shuffled list of indices into disjoint pieces (np.split).")
    for part, (x, _) in arrays.items():
        if len(rows[part]) != len(x):
            return hint(f"{step}: the {part} set holds {len(x) - len(rows[part])} repeated images: "
                        "take each index once.")
    for part, (_, y) in arrays.items():
        missing = sorted(set(range(NUM_CLASSES)) - set(np.unique(y).tolist()))
        if missing:
            return hint(f"{step}: the {part} set has no examples of digit(s) {missing}: shuffle "
                        "before you split.")
    sizes = ", ".join(f"{part} {len(x)}" for part, (x, _) in arrays.items())
    return passed(f"{step}: {sizes} images of {NUM_FEATURES} pixels; no image is in two sets, "
                  "and every digit 0-9 appears in each.")


# --- step 2: model and loss --------------------------------------------------------------


def check_model(model: Any, loss_fn: Any, x: Any, y: Any) -> Feedback:
    """A small Keras model with 10 outputs, and a loss that matches its last layer.

    Introduced in notebooks/11_capstone.ipynb. Calls ``model(x)`` once (no training) and
    ``loss_fn(y, model(x))``; an untrained 10-class model should give a loss near
    ln 10 = 2.30.
    """
    import keras

    step = _STEP["model"]
    if model is None:
        return _missing(step, "model", "build a small keras.Sequential ending in Dense(10).")
    if not isinstance(model, keras.Model):
        return hint(f"{step}: `model` is a {type(model).__name__}, not a Keras model "
                    "(keras.Sequential([...]) or keras.Model).")
    if loss_fn is None:
        return _missing(_STEP["loss"], "loss_fn", "use keras.losses.SparseCategoricalCrossentropy "
                        "(labels are integers 0-9).")
    x = np.asarray(x, np.float32)
    out = np.asarray(model(x, training=False))
    if out.shape != (len(x), NUM_CLASSES):
        return hint(f"{step}: your model maps {x.shape} to {out.shape}; the digits have "
                    f"{NUM_CLASSES} classes, so it must end in Dense({NUM_CLASSES}): shape (n, 10).")
    params = int(model.count_params())
    if params > MAX_PARAMS:
        return hint(f"{step}: {params} parameters; keep it small (at most {MAX_PARAMS}): the "
                    "digits need one hidden layer of a few dozen units.")
    from_logits = None
    if hasattr(loss_fn, "get_config"):
        from_logits = loss_fn.get_config().get("from_logits")
    probabilities = bool((out >= 0).all() and np.allclose(out.sum(axis=1), 1.0, atol=1e-4))
    if from_logits is True and probabilities:
        return hint(f"{_STEP['loss']}: your last layer applies softmax and the loss has from_logits=True, "
                    "so softmax is applied twice. Drop the activation of the last Dense layer.")
    if from_logits is False and not probabilities:
        return hint(f"{_STEP['loss']}: your model outputs logits (rows do not sum to 1) but the loss has "
                    "from_logits=False and reads them as probabilities. Pass from_logits=True.")
    loss = float(loss_fn(np.asarray(y), out))
    if not math.isfinite(loss) or abs(loss - math.log(NUM_CLASSES)) > 1.0:
        return hint(f"{_STEP['loss']}: the untrained model's loss is {_fmt(loss)}; with 10 classes and random "
                    f"weights it should be near ln 10 = {math.log(NUM_CLASSES):.2f}. Check the "
                    "loss function and the labels.")
    return passed(f"{step}: {params} parameters, output shape (n, {NUM_CLASSES}); untrained loss "
                  f"{loss:.2f}, near ln 10 = {math.log(NUM_CLASSES):.2f} (a uniform guess).")


# --- step 3: optimizer and schedule ------------------------------------------------------


def check_optimizer(optimizer: Any, total_steps: int) -> Feedback:
    """A Keras 3 optimizer whose learning rate follows a ``keras.optimizers.schedules`` schedule.

    Introduced in notebooks/11_capstone.ipynb. The schedule must change the rate between
    step 0 and ``total_steps``.
    """
    import keras
    import tensorflow as tf

    step = _STEP["optimizer"]
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(f"`total_steps` must be an integer >= 1. Received: total_steps={total_steps!r}")
    if optimizer is None:
        return _missing(step, "optimizer", "make a keras.optimizers.Adam(learning_rate=schedule).")
    if isinstance(optimizer, tf.compat.v1.train.Optimizer) or type(optimizer).__module__.startswith("labkit."):
        return hint(f"{step}: {type(optimizer).__name__} is a TF1-style optimizer (the seed's "
                    "tf.train API); today you write keras.optimizers.Adam(...).")
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        return hint(f"{step}: `optimizer` is a {type(optimizer).__name__}, not a Keras optimizer.")
    schedule = getattr(optimizer, "_learning_rate", None)
    if not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        return hint(f"{_STEP['schedule']}: your optimizer's learning rate is a constant; pass a "
                    "keras.optimizers.schedules object (e.g. CosineDecay) as learning_rate.")
    start, end = float(schedule(0)), float(schedule(total_steps))
    if math.isclose(start, end, rel_tol=1e-6):
        return hint(f"{_STEP['schedule']}: {type(schedule).__name__} gives {_fmt(start)} at step 0 and at step "
                    f"{total_steps}; it must change over the run (check decay_steps).")
    return passed(f"{step}: {type(optimizer).__name__} with {type(schedule).__name__}: learning "
                  f"rate {_fmt(start)} at step 0, {_fmt(end)} at step {total_steps}.")


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

    step = _STEP["clipping"]
    if clip_gradients is None:
        return hint(f"{step}: no clipping: `clip_gradients` is still None, so your step's "
                    "gradients are not clipped. Write it with tf.clip_by_norm.")
    if clip_norm is None or isinstance(clip_norm, bool) or not isinstance(clip_norm, (int, float)) \
            or not clip_norm > 0:
        return hint(f"{step}: `clip_norm` must be a number > 0. Received: clip_norm={clip_norm!r}")
    big_in = _probe_gradients(10.0 * clip_norm)
    small_in = _probe_gradients(0.01 * clip_norm / 10)
    try:
        big_out = clip_gradients([tf.constant(g) for g in big_in])
        small_out = clip_gradients([tf.constant(g) for g in small_in])
    except Exception as exc:  # the learner's code: report, never raise
        return hint(f"{step}: calling clip_gradients(list_of_gradients) raised "
                    f"{type(exc).__name__} ({exc}).")
    if isinstance(big_out, tuple) and len(big_out) == 2 and np.ndim(big_out[1]) == 0:
        return hint(f"{step}: you return a pair: tf.clip_by_global_norm returns (clipped_list, "
                    "global_norm); return only the list (its [0]).")
    if big_out is None or len(big_out) != len(big_in):
        return hint(f"{step}: clip_gradients must return one gradient per input gradient "
                    f"({len(big_in)} in, got {None if big_out is None else len(big_out)}).")
    big = [np.asarray(g, np.float64) for g in big_out]
    small = [np.asarray(g, np.float64) for g in small_out]
    if all(np.array_equal(a, b) for a, b in zip(big, big_in, strict=True)):
        return hint(f"{step}: no clipping: your step's gradients are not clipped "
                    "(clip_gradients returns large gradients unchanged).")
    tol = 1 + 1e-5
    norms = [float(np.linalg.norm(g)) for g in big]
    global_norm = float(np.sqrt(sum(n * n for n in norms)))
    same_direction = all(
        np.allclose(g / np.linalg.norm(g), g0 / np.linalg.norm(g0), atol=1e-5)
        for g, g0 in zip(big, big_in, strict=True))
    if not same_direction:
        if all(np.allclose(g, np.clip(g0, -clip_norm, clip_norm), atol=1e-5)
               for g, g0 in zip(big, big_in, strict=True)):
            return hint(f"{step}: that is clip_by_value: each number is capped at ±clip_norm, which "
                        "changes the gradient's direction. Clip the norm: tf.clip_by_norm(g, clip_norm).")
        return hint(f"{step}: the clipped gradients point in another direction than the "
                    "originals; clipping only rescales (multiply by clip_norm / norm).")
    if not all(np.allclose(a, b, rtol=1e-6, atol=0) for a, b in zip(small, small_in, strict=True)):
        return hint(f"{step}: gradients already below clip_norm must pass through unchanged; you "
                    "rescale every gradient to length clip_norm. tf.clip_by_norm only shrinks "
                    "those above it.")
    if all(n <= clip_norm * tol for n in norms):
        mode = ("global: all gradients scaled by one factor (tf.clip_by_global_norm)"
                if global_norm <= clip_norm * tol else
                "per tensor: each gradient clipped on its own, as the seed's tf.clip_by_norm(g, 5)")
        return passed(f"{step}: large gradients come out with norm <= {clip_norm}, small ones "
                      f"unchanged; {mode}.")
    return hint(f"{step}: after clipping the gradients still have norms "
                f"{[round(n, 2) for n in norms]}, above clip_norm={clip_norm}.")


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

    step = _STEP["train step"]
    for name, value in (("train_step", train_step), ("model", model), ("optimizer", optimizer),
                        ("loss_fn", loss_fn)):
        if value is None:
            return _missing(step, name, "the earlier steps build it; run them first.")
    if not isinstance(train_step, tf.types.experimental.PolymorphicFunction):
        return hint(f"{step}: `train_step` is a plain Python function; decorate it with "
                    "@tf.function so TensorFlow traces it into a graph.")
    x, y = tf.constant(np.asarray(x, np.float32)), tf.constant(np.asarray(y))
    before = float(loss_fn(y, model(x, training=False)))
    it0 = int(optimizer.iterations)
    try:
        returned = train_step(x, y)
    except Exception as exc:  # the learner's code: report, never raise
        return hint(f"{step}: calling train_step(x, y) raised {type(exc).__name__} ({exc}).")
    moved = int(optimizer.iterations) - it0
    after = float(loss_fn(y, model(x, training=False)))
    if moved == 0:
        return hint(f"{step}: optimizer.iterations did not move: your step never calls "
                    "optimizer.apply_gradients(zip(grads, model.trainable_variables)).")
    if moved != 1:
        return hint(f"{step}: optimizer.iterations grew by {moved} in one call: apply the "
                    "gradients once per step.")
    if not after < before:
        return hint(f"{step}: one call did not lower the loss on a fixed batch ({before:.4f} -> "
                    f"{after:.4f}): compute the loss inside `with tf.GradientTape() as tape:` and "
                    "take tape.gradient(loss, model.trainable_variables).")
    if returned is None or np.ndim(returned) != 0:
        return hint(f"{step}: your step returns {returned!r}; return the (scalar) loss so the loop "
                    "can log it.")
    keras_clip = any(getattr(optimizer, a, None) for a in ("clipnorm", "global_clipnorm", "clipvalue"))
    if not keras_clip and not _clips_in_graph(train_step, x, y):
        return hint(f"{step}: no clipping: your step's gradients are not clipped (no "
                    "tf.clip_by_norm / tf.clip_by_global_norm in its graph, no clipnorm on the "
                    "optimizer). Call clip_gradients between tape.gradient and apply_gradients.")
    return passed(f"{step}: one call lowered the loss on a fixed batch and moved "
                  "optimizer.iterations by 1; its graph clips the gradients.")


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
    step = _STEP["summaries"]
    if logdir is None:
        return _missing(step, "logdir", "write with tf.summary.create_file_writer(logdir).")
    files = [f for f in (os.listdir(logdir) if os.path.isdir(logdir) else [])
             if f.startswith("events.out.tfevents.")]
    if not files:
        return hint(f"{step}: no event file in {os.fspath(logdir)!r}: create the writer with "
                    "tf.summary.create_file_writer(logdir).")
    found = read_event_scalars(logdir)
    if not found:
        return hint(f"{step}: the event file holds no scalars: call tf.summary.scalar inside "
                    "`with writer.as_default():` (outside, it writes nothing and returns False), "
                    "then writer.flush().")
    for tag, points in expected.items():
        if tag not in found:
            return hint(f"{step}: no {tag!r} scalar in the event file (found tags: "
                        f"{sorted(found)}).")
        want, got = sorted(int(s) for s in points), sorted(found[tag])
        if want != got:
            return hint(f"{step}: {tag!r} was written at steps {got}, expected {want}: pass "
                        "step= to tf.summary.scalar (or to writer.as_default).")
        for s, value in points.items():
            if not math.isclose(found[tag][int(s)], float(value), rel_tol=1e-5, abs_tol=1e-7):
                return hint(f"{step}: {tag!r} at step {s} reads back as {_fmt(found[tag][int(s)])}, "
                            f"expected {_fmt(float(value))}.")
    total = sum(len(p) for p in expected.values())
    return passed(f"{step}: read back {total} scalar(s) under tag(s) {sorted(expected)} with "
                  "their steps and values.")


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

    step = _STEP["checkpoint and resume"]
    if uninterrupted is None or resumed is None:
        name = "uninterrupted" if uninterrupted is None else "resumed"
        return _missing(step, name, "run train(...) to get it.")
    (m1, o1, _), (m2, o2, start) = _run_parts(uninterrupted), _run_parts(resumed)
    if any(v is None for v in (m1, o1, m2, o2, start)):
        return hint(f"{step}: train() must return an object with .model, .optimizer and .start.")
    latest = tf.train.latest_checkpoint(os.fspath(ckpt_dir)) if ckpt_dir else None
    if latest is None:
        return hint(f"{step}: no checkpoint in {ckpt_dir!r}: call manager.save() every "
                    "SAVE_EVERY steps.")
    keys = [name for name, _ in tf.train.list_variables(latest)]
    if not any("iteration" in k for k in keys):
        return hint(f"{step}: the checkpoint holds no optimizer: put optimizer=optimizer in "
                    "tf.train.Checkpoint (its step counter and Adam's m and v live there).")
    if not any("ITERATOR_STATE" in k for k in keys):
        return hint(f"{step}: the checkpoint holds no data iterator: put the iterator in "
                    "tf.train.Checkpoint, or the resumed run sees other batches.")
    if int(start) == 0:
        return hint(f"{step}: the second run started at step 0: it did not restore. Call "
                    "manager.restore_or_initialize() before the loop.")
    n1, n2 = int(o1.iterations), int(o2.iterations)
    if n1 != n2:
        return hint(f"{step}: the resumed run ended at step {n2}, the uninterrupted one at {n1}.")
    w1, w2 = m1.get_weights(), m2.get_weights()
    if len(w1) != len(w2) or any(a.shape != b.shape for a, b in zip(w1, w2, strict=False)):
        return hint(f"{step}: the two runs' models have different shapes: build both with make_model().")
    diff = max(float(np.abs(a - b).max()) for a, b in zip(w1, w2, strict=True))
    if diff == 0.0:
        return passed(f"{step}: restored at step {int(start)}, trained on to {n2}; every weight "
                      "equals the uninterrupted run's, bit for bit.")
    if diff <= 1e-6:
        return passed(f"{step}: restored at step {int(start)}; weights equal the uninterrupted "
                      f"run's to {diff:.1e} (not bit for bit: is op determinism on?).")
    return hint(f"{step}: both runs reach step {n2} but the weights differ (max |diff| "
                f"{diff:.3g}). The checkpoint holds model, optimizer and iterator, so look at "
                "what it does not hold: did both runs start from the same initial weights "
                "(keras.utils.set_random_seed before make_model) and the same data order?")


def check_resume_prediction(prediction: Any, save_every: int, stopped_at: int,
                            resumed_from: int | None = None) -> Feedback:
    """Predict ``optimizer.iterations`` right after the resumed run restores.

    Introduced in notebooks/11_capstone.ipynb. The interrupted run saved every
    ``save_every`` steps and stopped at ``stopped_at`` without saving; ``resumed_from`` is
    what the learner's resumed run really restored (``.start``), compared too when given.
    """
    for name, value in (("save_every", save_every), ("stopped_at", stopped_at)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}")
    expected = (stopped_at // save_every) * save_every
    if prediction is None:
        return hint("prediction: `predicted_start` is still None: write the step you expect the "
                    "resumed run to restore, then run the cell.")
    value = _as_int(prediction)
    if value is None:
        return hint(f"prediction: write a whole step number. Received: {prediction!r}")
    if resumed_from is not None and int(resumed_from) == 0 and expected != 0:
        return hint("prediction: your resumed run restored nothing (it started at step 0): does "
                    "train() call manager.restore_or_initialize()?")
    if resumed_from is not None and int(resumed_from) != expected:
        return hint(f"prediction: your resumed run restored step {int(resumed_from)}, not "
                    f"{expected}: did you change SAVE_EVERY, STOP_AT or the save in the loop?")
    if value == expected:
        return passed(f"prediction: the newest checkpoint is step {expected}; steps "
                      f"{expected + 1}-{stopped_at} are trained again on the same batches (the "
                      "iterator is in the checkpoint).")
    if value == expected + 1:
        return hint(f"prediction: {value} is the first step trained after the restore; the "
                    f"restored counter optimizer.iterations reads {expected}.")
    if value == stopped_at:
        return hint(f"prediction: nothing was saved at step {stopped_at}: the run stopped between "
                    f"two saves, and everything after the last multiple of {save_every} is lost.")
    if value == 0:
        return hint("prediction: restore_or_initialize() restores the newest checkpoint; the run "
                    "does not start over.")
    if value % save_every == 0 and value < expected:
        return hint(f"prediction: step {value} was saved, but so was a newer one; the manager "
                    "restores the newest.")
    return hint(f"prediction: {value} is not it: which multiple of SAVE_EVERY={save_every} was "
                f"the last one reached before step {stopped_at}?")


def check_resume_step(save_every: int, interrupted_at: int, answer: Any) -> Feedback:
    """From which global step does ``--resume`` continue after an interruption?

    Used by ``python -m labkit.digits.run --resume`` questions (tests/digits/test_digits_run.py).
    Checkpoints are written every ``save_every`` steps; the run was stopped (killed) at step
    ``interrupted_at`` before it could save again.
    """
    for name, value in (("save_every", save_every), ("interrupted_at", interrupted_at)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}")
    expected = (interrupted_at // save_every) * save_every
    if answer is None:
        return hint("`answer` is still None: set it to the step number the resumed run starts at.")
    value = _as_int(answer)
    if value is None:
        return hint(f"`answer` must be a whole step number. Received: {answer!r}")
    if value == expected:
        return passed(f"The newest checkpoint is step {expected}; the {interrupted_at - expected} "
                      "steps after it are trained again (on the same batches, because the data "
                      "iterator is in the checkpoint).")
    if value == interrupted_at:
        return hint(f"Nothing was saved at step {interrupted_at}: a kill loses everything after "
                    f"the last multiple of save_every={save_every}.")
    if value == 0:
        return hint("--resume restores the newest checkpoint; it does not start over.")
    return hint(f"{value} is not it: which multiple of save_every={save_every} was the last one "
                f"reached before step {interrupted_at}?")


# --- step 8: export, reload, predict ---------------------------------------------------------


def check_export(export_dir: Any, direct: Any, served: Any) -> Feedback:
    """The exported SavedModel, reloaded, predicts what the trained model predicts.

    Introduced in notebooks/11_capstone.ipynb. ``direct`` are the trained model's outputs on
    some inputs, ``served`` the reloaded SavedModel's outputs on the same inputs.
    """
    step = _STEP["export"]
    if export_dir is None:
        return _missing(step, "export_dir", "model.export(export_dir) writes a SavedModel there.")
    if not os.path.isfile(os.path.join(os.fspath(export_dir), "saved_model.pb")):
        return hint(f"{step}: no saved_model.pb in {os.fspath(export_dir)!r}: call "
                    "model.export(export_dir) (or tf.saved_model.save).")
    if direct is None:
        return _missing(_STEP["reload and predict"], "direct", "the trained model's outputs on x_test.")
    if served is None:
        return _missing(_STEP["reload and predict"], "served", "reload with tf.saved_model.load(export_dir) "
                        "and call its .serve(x).")
    direct, served = np.asarray(direct), np.asarray(served)
    if direct.shape != served.shape:
        return hint(f"{_STEP['reload and predict']}: the reloaded model gives shape {served.shape}, the "
                    f"trained one {direct.shape}: predict on the same inputs.")
    diff = float(np.abs(direct - served).max())
    if diff > 1e-5:
        return hint(f"{_STEP['reload and predict']}: the reloaded model predicts differently (max |diff| "
                    f"{diff:.3g}): did you export the model you trained, after training?")
    same = bool((direct.argmax(axis=1) == served.argmax(axis=1)).all())
    return passed(f"{step}: the reloaded SavedModel gives the trained model's outputs (max |diff| "
                  f"<= 1e-5) and the same predicted digit for all {len(direct)} inputs: {same}.")


# --- the model.fit path -------------------------------------------------------------------------


def check_fit_matches_loop(loop_accuracy: Any, fit_accuracy: Any, threshold: float = 0.9,
                           tolerance: float = 0.03) -> Feedback:
    """The ``model.fit`` run reaches the hand-written loop's test accuracy within ``tolerance``.

    Introduced in notebooks/11_capstone.ipynb. Both accuracies must be >= ``threshold``.
    """
    step = _STEP["model.fit"]
    for name, value in (("loop_accuracy", loop_accuracy), ("fit_accuracy", fit_accuracy)):
        if value is None:
            return _missing(step, name, "the test accuracy of that run, a number in [0, 1].")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
                or not 0.0 <= float(value) <= 1.0:
            return hint(f"{step}: `{name}` must be an accuracy in [0, 1]. Received: {value!r}")
    loop_accuracy, fit_accuracy = float(loop_accuracy), float(fit_accuracy)
    for name, value in (("hand-written loop", loop_accuracy), ("model.fit run", fit_accuracy)):
        if value < threshold:
            return hint(f"{step}: the {name} reaches {value:.3f}, below {threshold}: did it train "
                        "for the same number of steps with the same optimizer?")
    gap = abs(loop_accuracy - fit_accuracy)
    if gap > tolerance:
        return hint(f"{step}: the two paths differ by {gap:.3f} in test accuracy (tolerance "
                    f"{tolerance}): compare their optimizers, schedules and epochs.")
    return passed(f"{step}: both paths reach test accuracy >= {threshold} and differ by at most "
                  f"{tolerance}.")


# --- notebook 12 ---------------------------------------------------------------------------------


def check_replica_loss_scale(global_batch_size: int, num_replicas: int, answer: Any) -> Feedback:
    """By what does each replica divide the sum of its per-example losses?

    Introduced in notebooks/12_scale_out.ipynb. The replicas' gradients are *summed*, so for
    the result to equal one device's mean over the global batch, each replica divides by the
    global batch size (what ``tf.nn.compute_average_loss`` does).
    """
    for name, value in (("global_batch_size", global_batch_size), ("num_replicas", num_replicas)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}")
    if answer is None:
        return hint("`answer` is still None: set it to a number.")
    value = _as_int(answer)
    if value is None:
        return hint(f"`answer` must be a whole number. Received: {answer!r}")
    if value == global_batch_size:
        return passed(f"Divide by the global batch ({global_batch_size}): summing the "
                      f"{num_replicas} replica gradients then gives the mean over all examples.")
    per_replica = global_batch_size // num_replicas
    if value == per_replica:
        return hint(f"{per_replica} is the per-replica batch: each replica's mean would be right, "
                    f"but the all-reduce SUMS them, so the gradient is {num_replicas}x too big.")
    return hint(f"{value} is not it: the all-reduce sums the replicas' gradients; which divisor "
                "makes that sum a mean over the whole global batch?")


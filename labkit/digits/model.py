"""A small MLP for the offline digits set (introduced in notebooks/05_digits_comparison.ipynb).

``build_mlp`` and ``evaluate`` are shared by the notebooks. ``make_train_step`` is the
training CLI's step (``labkit/digits/run.py``): the TF1 form, ``compute_gradients`` /
``apply_gradients`` inside one ``tf.function``. The notebooks write their train step themselves
(a ``tf.GradientTape`` step in notebooks/05_digits_comparison.ipynb).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

__all__ = ["build_mlp", "make_train_step", "evaluate"]


def build_mlp(hidden: Sequence[int] = (64,), seed: int = 0, num_features: int = 64,
              num_classes: int = 10) -> tf.keras.Model:
    """A Keras MLP: ``num_features`` -> ReLU layers of sizes ``hidden`` -> ``num_classes`` logits.

    Introduced in notebooks/05_digits_comparison.ipynb. Weights are initialised from ``seed``
    (Glorot uniform with per-layer seeds), so two calls with the same seed give the same model.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer. Received: seed={seed!r}")
    hidden = tuple(hidden)
    if not hidden or not all(isinstance(h, (int, np.integer)) and not isinstance(h, bool)
                             and h > 0 for h in hidden):
        raise ValueError(f"`hidden` must be a non-empty sequence of positive integers. "
                         f"Received: hidden={hidden!r}")
    layers: list[Any] = [tf.keras.Input(shape=(num_features,))]
    for i, h in enumerate(hidden):
        layers.append(tf.keras.layers.Dense(
            int(h), activation="relu", name=f"hidden_{i}",
            kernel_initializer=tf.keras.initializers.GlorotUniform(seed=int(seed) + i)))
    layers.append(tf.keras.layers.Dense(
        num_classes, name="logits",
        kernel_initializer=tf.keras.initializers.GlorotUniform(seed=int(seed) + len(hidden))))
    return tf.keras.Sequential(layers, name="digits_mlp")


def _loss(model: tf.keras.Model, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    logits = model(x, training=True)
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(y, tf.int32), logits=logits))


def make_train_step(model: tf.keras.Model, optimizer: Any,
                    clip_norm: float | None = None) -> Callable[[Any, Any], tf.Tensor]:
    """A ``tf.function`` ``step(x, y) -> loss`` doing one optimizer step on a batch.

    Used by ``labkit/digits/run.py``. Uses the TF1 API
    ``optimizer.compute_gradients(loss_fn, var_list)`` then ``apply_gradients``, so it works
    with ``labkit.train`` optimizers and with ``tf.compat.v1.train`` ones. ``clip_norm``
    (optional, > 0) clips each gradient by its norm between the two calls. Passes the
    optimizer's ``labkit_global_step`` (set by ``labkit.teaching.widgets.make_optimizer``) when present.
    """
    if not hasattr(optimizer, "compute_gradients") or not hasattr(optimizer, "apply_gradients"):
        raise TypeError(f"`optimizer` must have compute_gradients/apply_gradients (a "
                        f"labkit.train or tf.compat.v1.train optimizer). Received: {optimizer!r}")
    if clip_norm is not None and (isinstance(clip_norm, bool)
                                  or not isinstance(clip_norm, (int, float)) or clip_norm <= 0):
        raise ValueError(f"`clip_norm` must be a positive number or None. "
                         f"Received: clip_norm={clip_norm!r}")
    if not model.built:
        raise ValueError("`model` must be built (call it once or give it an Input).")
    global_step = getattr(optimizer, "labkit_global_step", None)
    # Keras 3 wraps each weight in a keras.Variable; the TF1 API wants the tf.Variable inside.
    var_list = [getattr(v, "value", v) if not isinstance(v, tf.Variable) else v
                for v in model.trainable_variables]

    @tf.function
    def step(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        loss_holder = []

        def loss_fn() -> tf.Tensor:
            value = _loss(model, x, y)
            loss_holder.append(value)
            return value

        grads_and_vars = optimizer.compute_gradients(loss_fn, var_list=var_list)
        if clip_norm is not None:
            grads_and_vars = [(tf.clip_by_norm(g, clip_norm), v) for g, v in grads_and_vars]
        optimizer.apply_gradients(grads_and_vars, global_step=global_step)
        return loss_holder[-1]

    return step


def evaluate(model: tf.keras.Model, x: Any, y: Any) -> tuple[float, float]:
    """``(mean cross-entropy, accuracy)`` of ``model`` on ``(x, y)``.

    Introduced in notebooks/05_digits_comparison.ipynb.
    """
    x = np.asarray(x, np.float32)
    y = np.asarray(y)
    if x.ndim != 2 or len(x) != len(y) or len(y) == 0:
        raise ValueError(f"`x` must be a 2-D array with one row per label in `y`. "
                         f"Received: x.shape={x.shape}, y.shape={y.shape}")
    logits = model(x, training=False)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=y.astype(np.int32), logits=logits))
    acc = np.mean(np.argmax(logits.numpy(), axis=1) == y)
    return float(loss), float(acc)

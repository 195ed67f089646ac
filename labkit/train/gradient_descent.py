"""``GradientDescentOptimizer``: plain SGD (introduced in notebooks/03a_optimizers.ipynb)."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from labkit.train.hyperparameters import LEARNING_RATE, Hyperparameter, check_all
from labkit.train.optimizer import Hyper, Optimizer

__all__ = ["GradientDescentOptimizer"]


class GradientDescentOptimizer(Optimizer):
    r"""Gradient descent, ``tf.compat.v1.train.GradientDescentOptimizer`` for TF2.

    Introduced in notebooks/03a_optimizers.ipynb.

    Update rule, with learning rate $\eta$ and gradient $g_t$:

    $$\theta_t = \theta_{t-1} - \eta\, g_t$$

    Args:
        learning_rate: $\eta > 0$: a float, a 0-argument callable, or a schedule of the step
            (e.g. ``tf.keras.optimizers.schedules.ExponentialDecay``).
        use_locking: accepted for TF1 compatibility (no effect).
        name: name of the optimizer. Defaults to "GradientDescent".

    Example:
        >>> import tensorflow as tf, labkit.train
        >>> w = tf.Variable(3.0)
        >>> opt = labkit.train.GradientDescentOptimizer(learning_rate=0.1)
        >>> opt.minimize(lambda: w * w)       # d(w^2)/dw = 6 -> w = 3 - 0.6
        >>> round(float(w.numpy()), 4)
        2.4

    Sparse gradients (``tf.IndexedSlices``): the update is linear in the gradient, so, like
    TF1, duplicate indices are not summed first: each row is scatter-added
    $-\eta\, g$ once per occurrence (same result as summing).

    Keras 3 equivalent: ``tf.keras.optimizers.SGD(learning_rate)`` (default 0.01; TF1 has no
    default). Same rule.

    Reference: Robbins & Monro, "A Stochastic Approximation Method", 1951.
    """

    HYPERPARAMETERS = (  # labkit/train/hyperparameters.py: validation, sliders, playground
        Hyperparameter("learning_rate", LEARNING_RATE),
    )

    def __init__(self, learning_rate: Hyper, use_locking: bool = False,
                 name: str = "GradientDescent") -> None:
        check_all(self.HYPERPARAMETERS, locals())
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._set_hyper("learning_rate", learning_rate)

    def _update_rule(self, grad, var, slots, h):
        return var - grad * h.learning_rate, {}

    def _apply_sparse_duplicate_indices(self, grad: tf.IndexedSlices, var: tf.Variable) -> Any:
        lr = self._hyper("learning_rate", var.dtype)
        return var.scatter_add(tf.IndexedSlices(-grad.values * lr, grad.indices))

    def _apply_sparse(self, grad: tf.IndexedSlices, var: tf.Variable) -> Any:
        return self._apply_sparse_duplicate_indices(grad, var)

"""``ProximalGradientDescentOptimizer`` (introduced in notebooks/03b_optimizers.ipynb)."""

from __future__ import annotations

import tensorflow as tf

from labkit.train.hyperparameters import LEARNING_RATE, STRENGTH, Hyperparameter, check_all
from labkit.train.optimizer import Hyper, Optimizer

__all__ = ["ProximalGradientDescentOptimizer"]


def proximal_step(prox: tf.Tensor, lr_t: tf.Tensor, l1: tf.Tensor, l2: tf.Tensor) -> tf.Tensor:
    r"""The FOBOS proximal map: soft-threshold by $\eta\lambda_1$, shrink by $1+\eta\lambda_2$."""
    with_l1 = tf.sign(prox) * tf.maximum(tf.abs(prox) - lr_t * l1, 0.0) / (1.0 + l2 * lr_t)
    return tf.where(l1 > 0, with_l1, prox / (1.0 + l2 * lr_t))


class ProximalGradientDescentOptimizer(Optimizer):
    r"""Proximal gradient descent (FOBOS), ``tf.compat.v1.train.ProximalGradientDescentOptimizer``.

    Introduced in notebooks/03b_optimizers.ipynb.

    A gradient step, then the proximal map of $\lambda_1\|\theta\|_1 + \tfrac{\lambda_2}{2}\|\theta\|^2$:

    $$v = \theta_{t-1} - \eta\, g_t$$
    $$\theta_t = \frac{\mathrm{sign}(v)\,\max(|v| - \eta\lambda_1,\ 0)}{1 + \eta\lambda_2}$$

    Args:
        learning_rate: $\eta > 0$ (float, 0-argument callable, or schedule of the step).
        l1_regularization_strength: $\lambda_1 \ge 0$. Defaults to 0.
        l2_regularization_strength: $\lambda_2 \ge 0$. Defaults to 0.
        use_locking: accepted for TF1 compatibility (no effect).
        name: defaults to "ProximalGradientDescent".

    Example:
        >>> import tensorflow as tf, labkit.train
        >>> w = tf.Variable([1.0, 0.05])
        >>> opt = labkit.train.ProximalGradientDescentOptimizer(0.1, l1_regularization_strength=1.0)
        >>> opt.minimize(lambda: tf.reduce_sum(w * w))   # v = [0.8, 0.04]; threshold 0.1
        >>> [round(x, 4) for x in w.numpy().tolist()]
        [0.7, 0.0]

    Sparse gradients: duplicate indices are summed first; only the touched rows take the
    gradient step *and* the proximal shrinkage (``SparseApplyProximalGradientDescent``).

    Keras 3 has no equivalent.

    Reference: Duchi & Singer, "Efficient Online and Batch Learning Using Forward Backward
    Splitting", JMLR 2009.
    """

    HYPERPARAMETERS = (  # labkit/train/hyperparameters.py: validation, sliders, playground
        Hyperparameter("learning_rate", LEARNING_RATE),
        Hyperparameter("l1_regularization_strength", STRENGTH, 0.0, key="l1"),
        Hyperparameter("l2_regularization_strength", STRENGTH, 0.0, key="l2"),
    )

    def __init__(self, learning_rate: Hyper, l1_regularization_strength: Hyper = 0.0,
                 l2_regularization_strength: Hyper = 0.0, use_locking: bool = False,
                 name: str = "ProximalGradientDescent") -> None:
        check_all(self.HYPERPARAMETERS, locals())
        super().__init__(use_locking, name)
        self._set_lr_l1_l2(learning_rate, l1_regularization_strength, l2_regularization_strength)

    def _update_rule(self, grad, var, slots, h):
        prox = var - grad * h.learning_rate
        return proximal_step(prox, h.learning_rate, h.l1, h.l2), {}

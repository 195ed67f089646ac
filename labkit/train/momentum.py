"""``MomentumOptimizer``: heavy-ball and Nesterov momentum (introduced in notebooks/03a_optimizers.ipynb)."""

from __future__ import annotations

import tensorflow as tf

from labkit.train.hyperparameters import FLAG, FRACTION, LEARNING_RATE, Hyperparameter, check_all
from labkit.train.optimizer import Hyper, Optimizer

__all__ = ["MomentumOptimizer"]


class MomentumOptimizer(Optimizer):
    r"""Momentum, ``tf.compat.v1.train.MomentumOptimizer`` for TF2.

    Introduced in notebooks/03a_optimizers.ipynb.

    Update rule (slot ``"momentum"`` holds the accumulator $a$, initialised to 0):

    $$a_t = \mu\, a_{t-1} + g_t$$
    $$\theta_t = \theta_{t-1} - \eta\, a_t \quad\text{or, with use\_nesterov,}\quad
      \theta_t = \theta_{t-1} - \eta\,(g_t + \mu\, a_t)$$

    Args:
        learning_rate: $\eta > 0$ (float, 0-argument callable, or schedule of the step).
        momentum: $\mu \in [0, 1)$ (float, callable or schedule). No default, as in TF1.
        use_locking: accepted for TF1 compatibility (no effect).
        name: defaults to "Momentum".
        use_nesterov: use Nesterov momentum (Sutskever et al., 2013); as in TF1 the gradient is
            computed at the current variable value, not at the look-ahead point.

    Example:
        >>> import tensorflow as tf, labkit.train
        >>> w = tf.Variable(1.0)
        >>> opt = labkit.train.MomentumOptimizer(learning_rate=0.1, momentum=0.9)
        >>> for _ in range(2): opt.minimize(lambda: w * w)
        >>> round(float(w.numpy()), 4)  # a=2 -> w=0.8; a=0.9*2+1.6=3.4 -> w=0.46
        0.46

    Sparse gradients: duplicate indices are summed first; then only the touched rows of the
    variable and of the accumulator are updated (untouched rows do not decay), as TF1's
    ``SparseApplyMomentum``.

    Keras 3 equivalent: ``tf.keras.optimizers.SGD(learning_rate, momentum, nesterov)``, which
    keeps a velocity $v_t = \mu v_{t-1} - \eta g_t$ instead. With a constant learning rate
    the two are the same algorithm ($v = -\eta a$); they differ when $\eta$ changes over time.

    Reference: Polyak, "Some methods of speeding up the convergence of iteration methods", 1964;
    Sutskever et al., "On the importance of initialization and momentum in deep learning", 2013.
    """

    HYPERPARAMETERS = (  # labkit/train/hyperparameters.py: validation, sliders, playground
        Hyperparameter("learning_rate", LEARNING_RATE),
        Hyperparameter("momentum", FRACTION),
        Hyperparameter("use_nesterov", FLAG, False, tensor=False),
    )

    def __init__(self, learning_rate: Hyper, momentum: Hyper, use_locking: bool = False,
                 name: str = "Momentum", use_nesterov: bool = False) -> None:
        check_all(self.HYPERPARAMETERS, locals())
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = bool(use_nesterov)
        self._set_hyper("learning_rate", learning_rate)
        self._set_hyper("momentum", momentum)

    def _create_slots(self, var_list: list[tf.Variable]) -> None:
        for v in var_list:
            self._zeros_slot(v, "momentum")

    def _update_rule(self, grad, var, slots, h):
        lr, mu = h.learning_rate, h.momentum
        accum = slots["momentum"] * mu + grad
        if self._use_nesterov:
            new_var = var - (grad * lr + accum * mu * lr)
        else:
            new_var = var - accum * lr
        return new_var, {"momentum": accum}

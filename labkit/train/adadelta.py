"""``AdadeltaOptimizer`` (introduced in notebooks/03a_optimizers.ipynb)."""

from __future__ import annotations

import tensorflow as tf

from labkit.train.hyperparameters import EPSILON, FRACTION, LEARNING_RATE, Hyperparameter, check_all
from labkit.train.optimizer import Hyper, Optimizer

__all__ = ["AdadeltaOptimizer"]


class AdadeltaOptimizer(Optimizer):
    r"""Adadelta, ``tf.compat.v1.train.AdadeltaOptimizer`` for TF2.

    Introduced in notebooks/03a_optimizers.ipynb.

    Slots ``"accum"`` ($E[g^2]$) and ``"accum_update"`` ($E[\Delta^2]$), both starting at 0:

    $$E[g^2]_t = \rho\, E[g^2]_{t-1} + (1-\rho)\, g_t^2$$
    $$\Delta_t = \frac{\sqrt{E[\Delta^2]_{t-1} + \epsilon}}{\sqrt{E[g^2]_t + \epsilon}}\, g_t$$
    $$\theta_t = \theta_{t-1} - \eta\, \Delta_t,\qquad
      E[\Delta^2]_t = \rho\, E[\Delta^2]_{t-1} + (1-\rho)\, \Delta_t^2$$

    Args:
        learning_rate: $\eta > 0$. Defaults to 0.001; the paper's algorithm is ``1.0``.
        rho: decay rate $\rho \in [0, 1)$. Defaults to 0.95.
        epsilon: $\epsilon > 0$. Defaults to 1e-8.
        use_locking: accepted for TF1 compatibility (no effect).
        name: defaults to "Adadelta".

    Example:
        >>> import tensorflow as tf, labkit.train
        >>> w = tf.Variable(1.0)
        >>> opt = labkit.train.AdadeltaOptimizer(learning_rate=1.0)
        >>> opt.minimize(lambda: w * w)
        >>> bool(0.99 < float(w.numpy()) < 1.0)     # Adadelta starts very slowly
        True

    Sparse gradients: duplicate indices are summed first; only touched rows change
    (``SparseApplyAdadelta``).

    Keras 3 equivalent: ``tf.keras.optimizers.Adadelta(learning_rate=0.001, rho=0.95,
    epsilon=1e-7)``: same rule, different default epsilon (1e-7 vs 1e-8).

    Reference: Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012.
    """

    HYPERPARAMETERS = (  # labkit/train/hyperparameters.py: validation, sliders, playground
        Hyperparameter("learning_rate", LEARNING_RATE, 0.001),
        Hyperparameter("rho", FRACTION, 0.95),
        Hyperparameter("epsilon", EPSILON, 1e-8),
    )

    def __init__(self, learning_rate: Hyper = 0.001, rho: Hyper = 0.95, epsilon: Hyper = 1e-8,
                 use_locking: bool = False, name: str = "Adadelta") -> None:
        check_all(self.HYPERPARAMETERS, locals())
        super().__init__(use_locking, name)
        self._lr, self._rho, self._epsilon = learning_rate, rho, epsilon
        self._set_hyper("learning_rate", learning_rate)
        self._set_hyper("rho", rho)
        self._set_hyper("epsilon", epsilon)

    def _create_slots(self, var_list: list[tf.Variable]) -> None:
        for v in var_list:
            self._zeros_slot(v, "accum")
            self._zeros_slot(v, "accum_update")

    def _update_rule(self, grad, var, slots, h):
        lr, rho, eps = h.learning_rate, h.rho, h.epsilon
        accum = slots["accum"] * rho + tf.square(grad) * (1 - rho)
        # sqrt(a / b) rather than TF1's sqrt(a) * rsqrt(b): equal up to rounding, one square
        # root fewer per element (XLA keeps this update in several loops, so it is the
        # compute-heaviest of the ten).
        update = tf.sqrt((slots["accum_update"] + eps) / (accum + eps)) * grad
        accum_update = slots["accum_update"] * rho + tf.square(update) * (1 - rho)
        return var - update * lr, {"accum": accum, "accum_update": accum_update}

"""``RMSPropOptimizer`` (introduced in notebooks/03b_optimizers.ipynb)."""

from __future__ import annotations

import tensorflow as tf

from labkit.train import streamed
from labkit.train.hyperparameters import (
    EPSILON,
    FLAG,
    FRACTION,
    LEARNING_RATE,
    Hyperparameter,
    check_all,
)
from labkit.train.optimizer import Hyper, Optimizer

__all__ = ["RMSPropOptimizer"]


class RMSPropOptimizer(Optimizer):
    r"""RMSProp, ``tf.compat.v1.train.RMSPropOptimizer`` for TF2.

    Introduced in notebooks/03b_optimizers.ipynb.

    Slots ``"rms"`` ($s$, starts at **1**, as in TF1), ``"momentum"`` ($m$, starts at 0) and,
    when centered, ``"mg"`` ($\bar g$, starts at 0). With decay $\rho$:

    $$s_t = s_{t-1} + (g_t^2 - s_{t-1})(1-\rho)$$
    $$\bar g_t = \bar g_{t-1} + (g_t - \bar g_{t-1})(1-\rho) \quad\text{(centered only)}$$
    $$m_t = \mu\, m_{t-1} + \frac{\eta\, g_t}{\sqrt{s_t - \bar g_t^2 + \epsilon}}
      \quad(\bar g \equiv 0 \text{ when not centered})$$
    $$\theta_t = \theta_{t-1} - m_t$$

    Args:
        learning_rate: $\eta > 0$ (float, 0-argument callable, or schedule of the step).
        decay: $\rho \in [0, 1)$. Defaults to 0.9.
        momentum: $\mu \in [0, 1)$. Defaults to 0.
        epsilon: $\epsilon > 0$, added *inside* the square root. Defaults to 1e-10.
        use_locking: accepted for TF1 compatibility (no effect).
        centered: normalise by the estimated variance instead of the second moment.
        name: defaults to "RMSProp".

    Example:
        >>> import tensorflow as tf, labkit.train
        >>> w = tf.Variable(1.0)
        >>> opt = labkit.train.RMSPropOptimizer(learning_rate=0.1)
        >>> opt.minimize(lambda: w * w)   # s = 1 + (4-1)*0.1 = 1.3 -> w = 1 - 0.2/sqrt(1.3)
        >>> round(float(w.numpy()), 4)
        0.8246

    Sparse gradients: duplicate indices are summed first; only touched rows of the variable
    and of all slots change (``SparseApplyRMSProp``), unlike the dense update, where a zero
    gradient still decays the slots and moves the variable by its momentum.

    Keras 3 equivalent: ``tf.keras.optimizers.RMSprop(learning_rate=0.001, rho=0.9,
    momentum=0.0, epsilon=1e-7, centered=False)``: the same rule (epsilon inside the
    square root) with a different default epsilon (1e-7 vs 1e-10), but its rms slot starts
    at 0 (TF1: 1). That cannot be aligned: the first steps differ a lot (TF1's start at 1 damps
    them); the difference fades as $\rho^t$, so later per-step updates agree.

    Reference: Hinton, Srivastava & Swersky, "Neural Networks for Machine Learning", lecture 6e,
    2012; centered version: Graves, "Generating Sequences With Recurrent Neural Networks", 2013.
    """

    HYPERPARAMETERS = (  # labkit/train/hyperparameters.py: validation, sliders, playground
        Hyperparameter("learning_rate", LEARNING_RATE),
        Hyperparameter("decay", FRACTION, 0.9),
        Hyperparameter("momentum", FRACTION, 0.0),
        Hyperparameter("epsilon", EPSILON, 1e-10),
        Hyperparameter("centered", FLAG, False, tensor=False),
    )

    def __init__(self, learning_rate: Hyper, decay: Hyper = 0.9, momentum: Hyper = 0.0,
                 epsilon: Hyper = 1e-10, use_locking: bool = False, centered: bool = False,
                 name: str = "RMSProp") -> None:
        check_all(self.HYPERPARAMETERS, locals())
        super().__init__(use_locking, name)
        self._learning_rate, self._decay = learning_rate, decay
        self._momentum, self._epsilon = momentum, epsilon
        self._centered = bool(centered)
        self._set_hyper("learning_rate", learning_rate)
        self._set_hyper("decay", decay)
        self._set_hyper("momentum", momentum)
        self._set_hyper("epsilon", epsilon)

    def _create_slots(self, var_list: list[tf.Variable]) -> None:
        for v in var_list:
            self._constant_slot(v, 1.0, "rms")
            if self._centered:
                self._zeros_slot(v, "mg")
            self._zeros_slot(v, "momentum")

    def _update_rule(self, grad, var, slots, h):
        lr, rho, mu, eps = h.learning_rate, h.decay, h.momentum, h.epsilon
        ms = slots["rms"] + (tf.square(grad) - slots["rms"]) * (1 - rho)
        new = {"rms": ms}
        if self._centered:
            mg = slots["mg"] + (grad - slots["mg"]) * (1 - rho)
            new["mg"] = mg
            mom = slots["momentum"] * mu + (grad * lr) * tf.math.rsqrt(ms - tf.square(mg) + eps)
        else:
            mom = slots["momentum"] * mu + (grad * lr) / tf.sqrt(ms + eps)
        new["momentum"] = mom
        return streamed.subtract(var, mom), new

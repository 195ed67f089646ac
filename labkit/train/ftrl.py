"""``FtrlOptimizer``: FTRL-Proximal (introduced in notebooks/03b_optimizers.ipynb)."""

from __future__ import annotations

import tensorflow as tf

from labkit.train import streamed
from labkit.train.hyperparameters import (
    ACCUMULATOR_OR_ZERO,
    LEARNING_RATE,
    POWER,
    STRENGTH,
    Hyperparameter,
    check_all,
)
from labkit.train.optimizer import Hyper, Optimizer
from labkit.train.validation import is_number

__all__ = ["FtrlOptimizer"]


class FtrlOptimizer(Optimizer):
    r"""FTRL-Proximal, ``tf.compat.v1.train.FtrlOptimizer`` for TF2.

    Introduced in notebooks/03b_optimizers.ipynb.

    Slots ``"accum"`` ($n$, starts at ``initial_accumulator_value``) and ``"linear"`` ($z$,
    starts at 0). With learning rate $\eta$, power $p$ (``learning_rate_power``, $\le 0$),
    $\lambda_1$, $\lambda_2' = \lambda_2 + \beta/(2\eta)$, and shrinkage $\lambda_s$:

    $$\hat g_t = g_t + 2\lambda_s \theta_{t-1},\qquad n_t = n_{t-1} + g_t^2$$
    $$z_t = z_{t-1} + \hat g_t - \frac{n_t^{-p} - n_{t-1}^{-p}}{\eta}\,\theta_{t-1}$$
    $$\theta_t = \begin{cases}
      \dfrac{\lambda_1 \mathrm{sign}(z_t) - z_t}{n_t^{-p}/\eta + 2\lambda_2'} & |z_t| > \lambda_1\\
      0 & \text{otherwise}\end{cases}$$

    ($p = -0.5$ uses ``sqrt``, any other power uses ``pow``, as TF1's kernel.)

    Args:
        learning_rate: $\eta > 0$ (float, 0-argument callable, or schedule of the step).
        learning_rate_power: $p \le 0$; 0 gives a fixed learning rate. Defaults to -0.5.
        initial_accumulator_value: $n_0 \ge 0$. Defaults to 0.1.
        l1_regularization_strength: $\lambda_1 \ge 0$. Defaults to 0.
        l2_regularization_strength: $\lambda_2 \ge 0$ (a stabilisation penalty). Defaults to 0.
        use_locking: accepted for TF1 compatibility (no effect).
        name: defaults to "Ftrl".
        accum_name, linear_name: accepted for TF1 compatibility (TF1 used them to name the
            slot variables); slot *keys* stay "accum" and "linear".
        l2_shrinkage_regularization_strength: $\lambda_s \ge 0$, a magnitude penalty on the
            weights (added to the gradient). Defaults to 0.
        beta: $\beta \ge 0$ of the paper (folded into $\lambda_2'$). Defaults to None (= 0).

    Example:
        >>> import tensorflow as tf, labkit.train
        >>> w = tf.Variable([0.5, -0.5])
        >>> opt = labkit.train.FtrlOptimizer(1.0, l1_regularization_strength=10.0)
        >>> opt.minimize(lambda: tf.reduce_sum(w * w))
        >>> w.numpy().tolist()          # strong L1: FTRL sets the weights exactly to zero
        [0.0, 0.0]

    Sparse gradients: duplicate indices are summed first; only the touched rows of the
    variable and of both slots change (``SparseApplyFtrl``); shrinkage too applies to the
    active rows only.

    Keras 3 equivalent: ``tf.keras.optimizers.Ftrl(learning_rate=0.001, ...)`` with the same
    other defaults. Its rule is the same up to rounding.

    Reference: McMahan et al., "Ad Click Prediction: a View from the Trenches", KDD 2013.
    """

    HYPERPARAMETERS = (  # labkit/train/hyperparameters.py: validation, sliders, playground
        Hyperparameter("learning_rate", LEARNING_RATE),
        Hyperparameter("learning_rate_power", POWER, -0.5),
        Hyperparameter("initial_accumulator_value", ACCUMULATOR_OR_ZERO, 0.1, tensor=False),
        Hyperparameter("l1_regularization_strength", STRENGTH, 0.0, key="l1"),
        Hyperparameter("l2_regularization_strength", STRENGTH, 0.0, key="l2"),
        Hyperparameter("l2_shrinkage_regularization_strength", STRENGTH, 0.0, key="l2_shrinkage"),
        Hyperparameter("beta", STRENGTH, None, optional=True),
    )

    def __init__(self, learning_rate: Hyper, learning_rate_power: Hyper = -0.5,
                 initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: Hyper = 0.0, l2_regularization_strength: Hyper = 0.0,
                 use_locking: bool = False, name: str = "Ftrl", accum_name: str | None = None,
                 linear_name: str | None = None,
                 l2_shrinkage_regularization_strength: Hyper = 0.0,
                 beta: Hyper | None = None) -> None:
        check_all(self.HYPERPARAMETERS, locals())
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self._beta = 0.0 if beta is None else beta
        self._accum_name, self._linear_name = accum_name, linear_name
        self._set_hyper("learning_rate", learning_rate)
        self._set_hyper("learning_rate_power", learning_rate_power)
        self._set_hyper("l1", l1_regularization_strength)
        self._set_hyper("l2_shrinkage", l2_shrinkage_regularization_strength)
        self._set_hyper("l2", l2_regularization_strength)
        self._set_hyper("beta", self._beta)

    def _create_slots(self, var_list: list[tf.Variable]) -> None:
        for v in var_list:
            self._constant_slot(v, self._initial_accumulator_value, "accum")
            self._zeros_slot(v, "linear")

    def _prepare(self) -> None:
        super()._prepare()
        lr, l2, beta = self._learning_rate, self._l2_regularization_strength, self._beta
        if is_number(lr) and is_number(l2) and is_number(beta):
            # As TF1: computed in Python (double precision), then a float32 tensor.
            adjusted = tf.convert_to_tensor(float(l2) + float(beta) / (2.0 * max(float(lr), 1e-36)))
        else:
            lr_t = self._hyper_t["learning_rate"]
            l2_t = tf.cast(self._hyper_t["l2"], lr_t.dtype)
            beta_t = tf.cast(self._hyper_t["beta"], lr_t.dtype)
            adjusted = l2_t + beta_t / (2.0 * tf.maximum(lr_t, 1e-36))
        self._hyper_t["adjusted_l2"] = adjusted

    def _update_rule(self, grad, var, slots, h):
        lr, l1, l2, shrink = h.learning_rate, h.l1, h.adjusted_l2, h.l2_shrinkage
        accum, linear = slots["accum"], slots["linear"]
        p = self._learning_rate_power
        square_root = is_number(p) and float(p) == -0.5

        def root(n):  # n ** -learning_rate_power
            return streamed.sqrt(n) if square_root else tf.pow(n, -h.learning_rate_power)

        old_root = tf.sqrt(accum) if square_root else root(accum)
        grad_with_shrinkage = grad + 2.0 * shrink * var
        linear = linear + grad_with_shrinkage - (root(streamed.add_square(accum, grad)) - old_root) / lr * var
        # then the accumulator, n + g^2, in TF1's order: streamed.after writes it once linear has
        # read the old one (XLA would otherwise copy the old one first)
        new_accum = streamed.after(linear, streamed.add_square, accum, grad)
        x = l1 * tf.sign(linear) - linear
        y = root(new_accum) / lr + 2.0 * l2
        new_var = tf.where(tf.abs(linear) > l1, x / y, tf.zeros_like(var))
        return new_var, {"accum": new_accum, "linear": linear}

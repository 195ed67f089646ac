"""``ProximalAdagradOptimizer`` (introduced in notebooks/03b_optimizers.ipynb)."""

from __future__ import annotations

import tensorflow as tf

from labkit.train import streamed
from labkit.train.hyperparameters import (
    ACCUMULATOR,
    LEARNING_RATE,
    STRENGTH,
    Hyperparameter,
    check_all,
)
from labkit.train.optimizer import Hyper, Optimizer
from labkit.train.proximal_gradient_descent import proximal_step

__all__ = ["ProximalAdagradOptimizer"]


class ProximalAdagradOptimizer(Optimizer):
    r"""Proximal Adagrad, ``tf.compat.v1.train.ProximalAdagradOptimizer`` for TF2.

    Introduced in notebooks/03b_optimizers.ipynb.

    Adagrad's per-coordinate step size, then the FOBOS proximal map (slot ``"accumulator"``,
    starts at ``initial_accumulator_value``):

    $$n_t = n_{t-1} + g_t^2,\qquad \eta_t = \eta / \sqrt{n_t},\qquad v = \theta_{t-1} - \eta_t g_t$$
    $$\theta_t = \frac{\mathrm{sign}(v)\,\max(|v| - \eta_t\lambda_1,\ 0)}{1 + \eta_t\lambda_2}$$

    Args:
        learning_rate: $\eta > 0$ (float, 0-argument callable, or schedule of the step).
        initial_accumulator_value: $n_0 > 0$. Defaults to 0.1.
        l1_regularization_strength: $\lambda_1 \ge 0$. Defaults to 0.
        l2_regularization_strength: $\lambda_2 \ge 0$. Defaults to 0.
        use_locking: accepted for TF1 compatibility (no effect).
        name: defaults to "ProximalAdagrad".

    Example:
        >>> import tensorflow as tf, labkit.train
        >>> w = tf.Variable(1.0)
        >>> opt = labkit.train.ProximalAdagradOptimizer(0.5)
        >>> opt.minimize(lambda: w * w)   # without l1/l2 it is Adagrad
        >>> round(float(w.numpy()), 4)
        0.5061

    Sparse gradients: duplicate indices are summed first; only touched rows change
    (``SparseApplyProximalAdagrad``).

    Keras 3 has no equivalent.

    Reference: Duchi & Singer, "Efficient Online and Batch Learning Using Forward Backward
    Splitting", JMLR 2009; Duchi, Hazan & Singer, JMLR 2011.
    """

    HYPERPARAMETERS = (  # labkit/train/hyperparameters.py: validation, sliders, playground
        Hyperparameter("learning_rate", LEARNING_RATE),
        Hyperparameter("initial_accumulator_value", ACCUMULATOR, 0.1, tensor=False),
        Hyperparameter("l1_regularization_strength", STRENGTH, 0.0, key="l1"),
        Hyperparameter("l2_regularization_strength", STRENGTH, 0.0, key="l2"),
    )

    def __init__(self, learning_rate: Hyper, initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: Hyper = 0.0, l2_regularization_strength: Hyper = 0.0,
                 use_locking: bool = False, name: str = "ProximalAdagrad") -> None:
        check_all(self.HYPERPARAMETERS, locals())
        super().__init__(use_locking, name)
        self._initial_accumulator_value = initial_accumulator_value
        self._set_lr_l1_l2(learning_rate, l1_regularization_strength, l2_regularization_strength)

    def _create_slots(self, var_list: list[tf.Variable]) -> None:
        for v in var_list:
            self._constant_slot(v, self._initial_accumulator_value, "accumulator")

    def _update_rule(self, grad, var, slots, h):
        accum = streamed.add_square(slots["accumulator"], grad)
        lr_t = h.learning_rate * tf.math.rsqrt(accum)
        prox = var - grad * lr_t
        new_var = proximal_step(prox, lr_t, h.l1, h.l2)
        return new_var, {"accumulator": accum}

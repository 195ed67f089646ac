"""``AdagradOptimizer`` (introduced in notebooks/03a_optimizers.ipynb)."""

from __future__ import annotations

import tensorflow as tf

from labkit.train import streamed
from labkit.train.hyperparameters import ACCUMULATOR, LEARNING_RATE, Hyperparameter, check_all
from labkit.train.optimizer import Hyper, Optimizer

__all__ = ["AdagradOptimizer"]


class AdagradOptimizer(Optimizer):
    r"""Adagrad, ``tf.compat.v1.train.AdagradOptimizer`` for TF2.

    Introduced in notebooks/03a_optimizers.ipynb.

    Update rule (slot ``"accumulator"`` holds $n$, initialised to ``initial_accumulator_value``):

    $$n_t = n_{t-1} + g_t^2$$
    $$\theta_t = \theta_{t-1} - \eta\, g_t / \sqrt{n_t}$$

    (no epsilon: the positive initial accumulator keeps the denominator away from 0).

    Args:
        learning_rate: $\eta > 0$ (float, 0-argument callable, or schedule of the step).
        initial_accumulator_value: $n_0 > 0$. Defaults to 0.1.
        use_locking: accepted for TF1 compatibility (no effect).
        name: defaults to "Adagrad".

    Example:
        >>> import tensorflow as tf, labkit.train
        >>> w = tf.Variable(1.0)
        >>> opt = labkit.train.AdagradOptimizer(0.5, initial_accumulator_value=0.1)
        >>> opt.minimize(lambda: w * w)    # g=2, n=4.1 -> w = 1 - 0.5*2/sqrt(4.1)
        >>> round(float(w.numpy()), 4)
        0.5061

    Sparse gradients: duplicate indices are summed first; only the touched rows of the
    variable and of the accumulator change (``SparseApplyAdagrad``).

    Keras 3 equivalent: ``tf.keras.optimizers.Adagrad(learning_rate=0.001,
    initial_accumulator_value=0.1, epsilon=1e-7)``: it divides by $\sqrt{n_t + \epsilon}$;
    TF1 has no epsilon. With ``epsilon=0`` the two coincide.

    Reference: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization", JMLR 2011.
    """

    HYPERPARAMETERS = (  # labkit/train/hyperparameters.py: validation, sliders, playground
        Hyperparameter("learning_rate", LEARNING_RATE),
        Hyperparameter("initial_accumulator_value", ACCUMULATOR, 0.1, tensor=False),
    )

    def __init__(self, learning_rate: Hyper, initial_accumulator_value: float = 0.1,
                 use_locking: bool = False, name: str = "Adagrad") -> None:
        check_all(self.HYPERPARAMETERS, locals())
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value
        self._set_hyper("learning_rate", learning_rate)

    def _create_slots(self, var_list: list[tf.Variable]) -> None:
        for v in var_list:
            self._constant_slot(v, self._initial_accumulator_value, "accumulator")

    def _update_rule(self, grad, var, slots, h):
        accum = streamed.add_square(slots["accumulator"], grad)
        return var - grad * h.learning_rate * tf.math.rsqrt(accum), {"accumulator": accum}

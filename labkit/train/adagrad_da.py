"""``AdagradDAOptimizer``: Adagrad dual averaging (introduced in notebooks/03a_optimizers.ipynb)."""

from __future__ import annotations

from typing import Any

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

__all__ = ["AdagradDAOptimizer"]


class AdagradDAOptimizer(Optimizer):
    r"""Adagrad Dual Averaging, ``tf.compat.v1.train.AdagradDAOptimizer`` for TF2.

    Introduced in notebooks/03a_optimizers.ipynb.

    Slots ``"gradient_accumulator"`` ($G$, starts at 0) and ``"gradient_squared_accumulator"``
    ($S$, starts at ``initial_gradient_squared_accumulator_value``). With $T$ = the value of
    ``global_step`` *before* this update, plus one, $\lambda_1$, $\lambda_2$ the l1/l2
    strengths:

    $$G_t = G_{t-1} + g_t,\qquad S_t = S_{t-1} + g_t^2$$
    $$\theta_t = \frac{-\eta\,\mathrm{sign}(G_t)\,\max(|G_t| - \lambda_1 T,\ 0)}
                      {\lambda_2\, T\, \eta + \sqrt{S_t}}$$

    The new value depends only on the accumulators, not on the previous $\theta$: that is
    dual averaging, and with $\lambda_1 > 0$ it produces exact zeros (sparse models).

    Args:
        learning_rate: $\eta > 0$ (float, 0-argument callable, or schedule of the step).
        global_step: required (as in TF1): the integer step variable that ``minimize`` /
            ``apply_gradients`` increments; pass the same variable there.
        initial_gradient_squared_accumulator_value: $S_0 > 0$. Defaults to 0.1.
        l1_regularization_strength: $\lambda_1 \ge 0$. Defaults to 0.
        l2_regularization_strength: $\lambda_2 \ge 0$. Defaults to 0.
        use_locking: accepted for TF1 compatibility (no effect).
        name: defaults to "AdagradDA".

    Example:
        >>> import tensorflow as tf, labkit.train
        >>> step = tf.Variable(0, dtype=tf.int64)
        >>> w = tf.Variable(1.0)
        >>> opt = labkit.train.AdagradDAOptimizer(0.5, global_step=step)
        >>> opt.minimize(lambda: w * w, global_step=step)   # G=2, S=4.1 -> w=-0.5*2/sqrt(4.1)
        >>> round(float(w.numpy()), 4), int(step.numpy())
        (-0.4939, 1)

    Sparse gradients: duplicate indices are summed first; only touched rows of the variable
    and accumulators change (``SparseApplyAdagradDA``), with the same $T$ for every row.

    Keras 3 has no equivalent.

    Reference: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization", JMLR 2011 (the dual-averaging variant, after Xiao 2010).
    """

    HYPERPARAMETERS = (  # labkit/train/hyperparameters.py: validation, sliders, playground
        Hyperparameter("learning_rate", LEARNING_RATE),
        Hyperparameter("initial_gradient_squared_accumulator_value", ACCUMULATOR, 0.1,
                       tensor=False),
        Hyperparameter("l1_regularization_strength", STRENGTH, 0.0, key="l1"),
        Hyperparameter("l2_regularization_strength", STRENGTH, 0.0, key="l2"),
    )

    def __init__(self, learning_rate: Hyper, global_step: Any,
                 initial_gradient_squared_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, use_locking: bool = False,
                 name: str = "AdagradDA") -> None:
        if global_step is None:
            raise ValueError("AdagradDAOptimizer needs `global_step` (the step variable you also "
                             "pass to minimize/apply_gradients), as in TF1. "
                             "Received: global_step=None")
        check_all(self.HYPERPARAMETERS, locals())
        super().__init__(use_locking, name)
        self._ada_global_step = global_step
        self._initial_gradient_squared_accumulator_value = initial_gradient_squared_accumulator_value
        self._set_lr_l1_l2(learning_rate, l1_regularization_strength, l2_regularization_strength)

    def _create_slots(self, var_list: list[tf.Variable]) -> None:
        for v in var_list:
            self._zeros_slot(v, "gradient_accumulator")
            self._constant_slot(v, self._initial_gradient_squared_accumulator_value,
                                "gradient_squared_accumulator")

    def _prepare(self) -> None:
        super()._prepare()
        gs = self._ada_global_step
        gs = gs.read_value() if isinstance(gs, tf.Variable) else tf.convert_to_tensor(gs)
        # the step the rule sees is global_step + 1, as a float32 (TF1's kernel converts it first)
        self._hyper_t["global_step"] = tf.cast(tf.cast(gs, tf.int64) + 1, tf.float32)

    def _update_rule(self, grad, var, slots, h):
        lr, l1, l2, t = h.learning_rate, h.l1, h.l2, h.global_step
        g_acc = streamed.add(slots["gradient_accumulator"], grad)
        gg_acc = streamed.add_square(slots["gradient_squared_accumulator"], grad)
        denom = l2 * (t * lr) + tf.sqrt(gg_acc)
        with_l1 = lr * -1.0 * tf.sign(g_acc) * tf.maximum(tf.abs(g_acc) - t * l1, 0.0) / denom
        without_l1 = lr * g_acc * -1.0 / denom
        new_var = tf.where(l1 > 0, with_l1, without_l1)
        return new_var, {"gradient_accumulator": g_acc, "gradient_squared_accumulator": gg_acc}

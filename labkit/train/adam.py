"""``AdamOptimizer`` (introduced in notebooks/03b_optimizers.ipynb)."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from labkit.train.hyperparameters import EPSILON, FRACTION, LEARNING_RATE, Hyperparameter, check_all
from labkit.train.optimizer import Hyper, Optimizer

__all__ = ["AdamOptimizer"]


class AdamOptimizer(Optimizer):
    r"""Adam, ``tf.compat.v1.train.AdamOptimizer`` for TF2.

    Introduced in notebooks/03b_optimizers.ipynb.

    Slots ``"m"`` and ``"v"`` (start at 0); non-slot variables ``beta1_power`` and
    ``beta2_power`` hold $\beta_1^t$ and $\beta_2^t$ (float32, as in TF1). The rule is the
    formulation just before section 2.1 of the paper:

    $$\eta_t = \eta\, \sqrt{1-\beta_2^t} / (1-\beta_1^t)$$
    $$m_t = m_{t-1} + (g_t - m_{t-1})(1-\beta_1),\qquad v_t = v_{t-1} + (g_t^2 - v_{t-1})(1-\beta_2)$$
    $$\theta_t = \theta_{t-1} - \eta_t\, m_t / (\sqrt{v_t} + \hat\epsilon)$$

    so ``epsilon`` is the paper's "epsilon hat": compared with Algorithm 1
    ($\hat m/(\sqrt{\hat v} + \epsilon)$ with bias-corrected moments), it equals
    $\epsilon = \hat\epsilon / \sqrt{1-\beta_2^t}$, i.e. an epsilon that shrinks as $t$ grows.

    Args:
        learning_rate: $\eta > 0$. Defaults to 0.001.
        beta1: $\beta_1 \in [0, 1)$. Defaults to 0.9.
        beta2: $\beta_2 \in [0, 1)$. Defaults to 0.999.
        epsilon: $\hat\epsilon > 0$. Defaults to 1e-8.
        use_locking: accepted for TF1 compatibility (no effect).
        name: defaults to "Adam".
        use_own_namescope_for_non_slot_vars: accepted for TF1 compatibility (no effect).

    Every hyperparameter may also be a 0-argument callable or a schedule of the step.

    Example (the seed's custom-optimizer recipe, module swapped):
        >>> import tensorflow as tf, labkit.train
        >>> w = tf.Variable([1.0, -2.0])
        >>> optimizer = labkit.train.AdamOptimizer(learning_rate=0.1, beta1=0.5)
        >>> grads_and_vars = optimizer.compute_gradients(loss=lambda: tf.reduce_sum(w * w))
        >>> for i, (g, v) in enumerate(grads_and_vars):
        ...     if g is not None:
        ...         grads_and_vars[i] = (tf.clip_by_norm(g, 5), v)
        >>> optimizer.apply_gradients(grads_and_vars)
        >>> [round(x, 4) for x in w.numpy().tolist()]   # first Adam step moves each by ~lr
        [0.9, -1.9]

    Sparse gradients: duplicate indices are summed first; then, as TF1's sparse Adam,
    $m$ and $v$ decay for *all* rows ($m \leftarrow \beta_1 m$, then the scaled gradient rows
    are added) and *every* row of the variable moves by $\eta_t m/(\sqrt v + \hat\epsilon)$
    -- the sparse update equals the dense one. labkit therefore sums the rows into a dense
    gradient and runs the dense rule (``SPARSE_AS_DENSE``), which lets XLA fuse the step.

    Keras 3 equivalent: ``tf.keras.optimizers.Adam(learning_rate=0.001, beta_1=0.9,
    beta_2=0.999, epsilon=1e-7)``. Keras uses the same "epsilon hat" placement but a default
    epsilon of 1e-7 (TF1: 1e-8); with equal epsilons the two agree to rounding.

    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    """

    HYPERPARAMETERS = (  # labkit/train/hyperparameters.py: validation, sliders, playground
        Hyperparameter("learning_rate", LEARNING_RATE, 0.001),
        Hyperparameter("beta1", FRACTION, 0.9),
        Hyperparameter("beta2", FRACTION, 0.999),
        Hyperparameter("epsilon", EPSILON, 1e-8),
    )

    SPARSE_AS_DENSE = True

    def __init__(self, learning_rate: Hyper = 0.001, beta1: Hyper = 0.9, beta2: Hyper = 0.999,
                 epsilon: Hyper = 1e-8, use_locking: bool = False, name: str = "Adam",
                 use_own_namescope_for_non_slot_vars: bool = False) -> None:
        check_all(self.HYPERPARAMETERS, locals())
        super().__init__(use_locking, name)
        self._lr, self._beta1, self._beta2, self._epsilon = learning_rate, beta1, beta2, epsilon
        self._set_hyper("learning_rate", learning_rate)
        self._set_hyper("beta1", beta1)
        self._set_hyper("beta2", beta2)
        self._set_hyper("epsilon", epsilon)

    def _create_slots(self, var_list: list[tf.Variable]) -> None:
        step = self._current_step
        self._create_non_slot_variable(self._resolve(self._beta1, step), "beta1_power")
        self._create_non_slot_variable(self._resolve(self._beta2, step), "beta2_power")
        for v in var_list:
            self._zeros_slot(v, "m")
            self._zeros_slot(v, "v")

    def _prepare(self) -> None:
        super()._prepare()
        self._hyper_t["beta1_power"] = self._non_slot_dict["beta1_power"].read_value()
        self._hyper_t["beta2_power"] = self._non_slot_dict["beta2_power"].read_value()

    def _update_rule(self, grad, var, slots, h):
        alpha = h.learning_rate * tf.sqrt(1 - h.beta2_power) / (1 - h.beta1_power)
        m = slots["m"] + (grad - slots["m"]) * (1 - h.beta1)
        v = slots["v"] + (tf.square(grad) - slots["v"]) * (1 - h.beta2)
        return var - (m * alpha) / (tf.sqrt(v) + h.epsilon), {"m": m, "v": v}

    def _finish(self) -> Any:
        b1p, b2p = self._non_slot_dict["beta1_power"], self._non_slot_dict["beta2_power"]
        beta1 = tf.cast(self._hyper_t["beta1"], b1p.dtype)
        beta2 = tf.cast(self._hyper_t["beta2"], b2p.dtype)
        return tf.group(b1p.assign(b1p * beta1, read_value=False),
                        b2p.assign(b2p * beta2, read_value=False))

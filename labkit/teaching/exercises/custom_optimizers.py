r"""Exercise checks for notebooks/08_custom_optimizers.ipynb.

Two exercises:

1. **Predict** which of Keras's ``clipnorm=5`` and ``global_clipnorm=5`` reproduces the text's
   recipe (``tf.clip_by_norm(g, 5)`` on each gradient): :func:`check_clip_prediction`.
2. **Write AMSGrad the Keras 3 way**: a ``keras.optimizers.Optimizer`` subclass with ``build()``
   (three state variables per weight: ``m``, ``v``, ``vhat``) and ``update_step()``. AMSGrad is
   Adam whose second moment may never decrease (Reddi, Kale & Kumar, "On the Convergence of
   Adam and Beyond", ICLR 2018), in the form Keras's own ``Adam(amsgrad=True)`` uses
   (``keras/src/optimizers/adam.py``, ``update_step``):

$$m_t = m_{t-1} + (g_t - m_{t-1})(1-\beta_1),\qquad v_t = v_{t-1} + (g_t^2 - v_{t-1})(1-\beta_2)$$
$$\hat v_t = \max(\hat v_{t-1}, v_t),\qquad
  \alpha_t = \eta\,\sqrt{1-\beta_2^t}/(1-\beta_1^t),\qquad
  \theta_t = \theta_{t-1} - \alpha_t\, m_t / (\sqrt{\hat v_t} + \epsilon)$$

with $t$ = ``optimizer.iterations + 1``. :func:`check_amsgrad` runs the learner's class on a
scripted gradient sequence, compares every step with the NumPy reference
:func:`amsgrad_reference`, and recognises the usual mistakes by running the reference with
that mistake built in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labkit.i18n import N_, _
from labkit.teaching.exercises.feedback import Feedback, hint, passed

__all__ = ["EXERCISE_GRADIENTS", "amsgrad_reference", "check_amsgrad", "check_clip_prediction"]

# ------------------------------------------------------------------ clipnorm vs global_clipnorm

CLIP_ANSWER = {"clipnorm": True, "global_clipnorm": False}


def check_clip_prediction(prediction: Any) -> Feedback:
    """Check ``{"clipnorm": bool, "global_clipnorm": bool}``: which equals the text's clipping loop.

    Introduced in notebooks/08_custom_optimizers.ipynb. ``True`` means "gives the same updates as
    ``tf.clip_by_norm(g, 5)`` applied to each gradient".
    """
    if prediction is None:
        return hint(_("fill in your prediction first: prediction = {'clipnorm': True or False, "
                      "'global_clipnorm': True or False}"))
    if not isinstance(prediction, dict) or set(prediction) != set(CLIP_ANSWER):
        return hint(_("the prediction must be a dict with exactly the keys 'clipnorm' and 'global_clipnorm'. "
                      "Received: {prediction!r}").format(prediction=prediction))
    missing = [k for k in CLIP_ANSWER if prediction[k] is None]
    if missing:
        return hint(_("fill in True or False for {value}.").format(value=', '.join(repr(k) for k in missing)))
    if not all(isinstance(prediction[k], (bool, np.bool_)) for k in CLIP_ANSWER):
        return hint(_("answer with True or False. Received: {prediction!r}").format(prediction=prediction))
    problems = []
    if not prediction["clipnorm"]:
        problems.append(_("clipnorm does reproduce the loop: it clips the gradient of each variable by that "
                          "gradient's own norm, which is exactly tf.clip_by_norm(g, 5) per gradient (on the "
                          "TensorFlow backend it calls tf.clip_by_norm)."))
    if prediction["global_clipnorm"]:
        problems.append(_("global_clipnorm does not: it rescales all gradients by one common factor, 5 / (norm of "
                          "all gradients together), like tf.clip_by_global_norm. A gradient already shorter than 5 "
                          "is still shrunk when the others are long."))
    if problems:
        return hint(" ".join(problems))
    return passed(_("clipnorm=5 clips each gradient on its own (the text's loop); global_clipnorm=5 scales "
                    "them all by one factor, so it keeps the update's direction but differs."))


# ------------------------------------------------------------------ AMSGrad, the Keras way

_HYPER = {"learning_rate": 0.1, "beta_1": 0.9, "beta_2": 0.99, "epsilon": 1e-3}
_VAR0 = np.array([1.0, -2.0, 0.5], np.float32)
# Big gradients first, then small ones: v falls below its running maximum, so AMSGrad and
# Adam part ways at step 3 (the check could not pass with plain Adam).
EXERCISE_GRADIENTS = np.array(
    [[3.0, -2.0, 1.0], [2.5, 1.5, -1.0], [0.1, -0.05, 0.2], [0.05, 0.1, -0.1],
     [-0.02, 0.05, 0.01], [0.01, -0.01, 0.02]], np.float32)
_RTOL, _ATOL = 2e-5, 1e-6


def amsgrad_reference(grads: Sequence[np.ndarray], var0: np.ndarray, learning_rate: float = 0.1,
                      beta_1: float = 0.9, beta_2: float = 0.99, epsilon: float = 1e-3,
                      *, use_max: bool = True, bias_correction: bool = True,
                      max_of: str = "v", eps_inside: bool = False, first_t: int = 1,
                      paper_form: bool = False, sign: float = -1.0) -> list[dict[str, np.ndarray]]:
    """AMSGrad in NumPy (float64): the state after each step (introduced in notebooks/08_custom_optimizers.ipynb).

    Args:
        grads: one gradient array per step.
        var0: the starting value.
        learning_rate, beta_1, beta_2, epsilon: the hyperparameters (Keras's names).
        use_max, bias_correction, max_of, eps_inside, first_t, paper_form, sign: switches that
            reproduce common mistakes (the check uses them to give specific hints); the
            defaults are the right rule, the one Keras's ``Adam(amsgrad=True)`` follows.

    Returns:
        One dict per step with keys "var", "m", "v", "vhat".
    """
    var = np.asarray(var0, np.float64).copy()
    m, v, vhat = np.zeros_like(var), np.zeros_like(var), np.zeros_like(var)
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for t, g in enumerate(grads, start=first_t):
            g = np.asarray(g, np.float64)
            m = m + (g - m) * (1 - beta_1)
            v = v + (g * g - v) * (1 - beta_2)
            vhat = (np.maximum(vhat, v if max_of == "v" else g * g)) if use_max else v
            if paper_form:  # Algorithm 1: bias-corrected moments, epsilon added to sqrt(v_hat)
                step = learning_rate * (m / (1 - beta_1 ** t)) / (np.sqrt(vhat / (1 - beta_2 ** t)) + epsilon)
            else:
                alpha = (learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
                         if bias_correction else learning_rate)
                denom = np.sqrt(vhat + epsilon) if eps_inside else np.sqrt(vhat) + epsilon
                step = alpha * m / denom
            var = var + sign * step
            out.append({"var": var.copy(), "m": m.copy(), "v": v.copy(), "vhat": vhat.copy()})
    return out


_MISTAKES: list[tuple[dict[str, Any], str]] = [
    ({"use_max": False},
     N_("your steps equal plain Adam's: divide by sqrt(vhat) where vhat is the running maximum, "
        "self.assign(vhat, tf.maximum(vhat, v)) after updating v (and create vhat in build).")),
    ({"max_of": "g2"},
     N_("you take the maximum of g**2; AMSGrad takes the maximum of the *averaged* second moment "
        "v (self.assign(vhat, tf.maximum(vhat, v)) after updating v).")),
    ({"bias_correction": False},
     N_("no bias correction: the step size must be learning_rate * sqrt(1 - beta_2**t) / (1 - "
        "beta_1**t) with t = self.iterations + 1.")),
    ({"first_t": 0},
     N_("t starts at 0, so at the first step 1 - beta_1**t is 0 and the step is nan: use t = "
        "tf.cast(self.iterations + 1, variable.dtype) (iterations is 0 during the first step).")),
    ({"first_t": 2},
     N_("t is one too large: self.iterations is 0 during the first update_step, so t = "
        "self.iterations + 1, not + 2.")),
    ({"eps_inside": True},
     N_("epsilon is inside the square root; Keras (like TF1) divides by sqrt(vhat) + epsilon.")),
    ({"paper_form": True},
     N_("you used the paper's Algorithm 1 (bias-corrected m and vhat, then + epsilon); Keras "
        "folds both corrections into the step size instead: alpha = learning_rate * sqrt(1 - "
        "beta_2**t) / (1 - beta_1**t), then alpha * m / (sqrt(vhat) + epsilon). With epsilon = "
        "1e-3 the two differ.")),
    ({"sign": 1.0},
     N_("the variable moves uphill: subtract the step (self.assign_sub(variable, ...)), do not "
        "add it.")),
]


def _run(opt: Any) -> list[np.ndarray]:
    import tensorflow as tf

    var = tf.Variable(_VAR0.copy(), name="exercise_var")
    values = []
    for g in EXERCISE_GRADIENTS:
        opt.apply_gradients([(tf.constant(g), var)])
        values.append(var.numpy().copy())
    return values


def _first_bad_step(values: list[np.ndarray], ref: list[dict[str, np.ndarray]]) -> int | None:
    for t, (got, r) in enumerate(zip(values, ref, strict=True)):
        want = r["var"]
        if not (got.shape == want.shape
                and bool(np.allclose(got, want, rtol=_RTOL, atol=_ATOL, equal_nan=True))):
            return t
    return None


def check_amsgrad(optimizer_class: Any) -> Feedback:
    """Check the learner's Keras AMSGrad class (introduced in notebooks/08_custom_optimizers.ipynb).

    The class is built as ``optimizer_class(learning_rate=0.1, beta_1=0.9, beta_2=0.99,
    epsilon=1e-3)``, run for six ``apply_gradients`` steps of :data:`EXERCISE_GRADIENTS` on a
    3-element variable, and every step's value is compared with :func:`amsgrad_reference`.

    Raises:
        TypeError: ``optimizer_class`` is an instance, not a class.
    """
    import keras

    if optimizer_class is None:
        return hint(_("define your class AMSGrad(keras.optimizers.Optimizer) and pass it (the class, not an "
                      "instance) to check_amsgrad."))
    if not isinstance(optimizer_class, type):
        raise TypeError(_("`optimizer_class` must be a class (pass AMSGrad, not AMSGrad()). Received: "
                          "optimizer_class={optimizer_class!r}").format(optimizer_class=optimizer_class))
    if not issubclass(optimizer_class, keras.optimizers.Optimizer):
        return hint(_("{optimizer_class_name} must subclass keras.optimizers.Optimizer, so that "
                      "apply_gradients calls your build() and update_step().").format(optimizer_class_name=optimizer_class.__name__))
    if issubclass(optimizer_class, keras.optimizers.Adam):
        return hint(_("write AMSGrad on keras.optimizers.Optimizer itself, not as a subclass of Adam: the "
                      "exercise is to write build() and update_step()."))
    try:
        opt = optimizer_class(**_HYPER)
    except Exception as err:  # the learner's code may fail in any way: report it as a hint
        return hint(_("{optimizer_class_name}(learning_rate=0.1, beta_1=0.9, beta_2=0.99, epsilon=1e-3) failed "
                      "with {err_type}: {err}. __init__ must accept these four and pass learning_rate (and "
                      "**kwargs) to super().__init__.").format(optimizer_class_name=optimizer_class.__name__, err_type=type(err).__name__, err=err))
    try:
        values = _run(opt)
    except NotImplementedError as err:
        return hint(_("not written yet ({err}): fill in build() and update_step().").format(err=err))
    except KeyError as err:
        return hint(_("KeyError {err} while looking up a variable: call super().build(var_list) first in "
                      "build(), so that self._get_variable_index(variable) knows every variable.").format(err=err))
    except Exception as err:  # the learner's code may fail in any way: report it as a hint
        if "Unknown variable" in str(err):
            return hint(_("Keras does not know the variable: call super().build(var_list) first in build(); it "
                          "records every variable so that apply_gradients and self._get_variable_index(variable) "
                          "find it."))
        last = str(err).strip().splitlines()[-1] if str(err).strip() else ""
        return hint(_("apply_gradients failed with {err_type}: {last}").format(err_type=type(err).__name__, last=last))
    state = len(opt.variables) - 2  # the base class adds `iteration` and `learning_rate`
    if np.array_equal(values[0], _VAR0):
        return hint(_("the variable did not change after one step: update_step must change it with "
                      "self.assign_sub(variable, alpha * m / (sqrt(vhat) + epsilon))."))
    ref = amsgrad_reference(EXERCISE_GRADIENTS, _VAR0, **_HYPER)
    t = _first_bad_step(values, ref)
    if t is None:
        if state != 3:
            return hint(_("the steps are right, but build() created {state} state variables per weight; AMSGrad "
                          "needs exactly three: m, v and vhat.").format(state=state))
        return passed(_("six steps match the AMSGrad reference; after step 3 vhat stays at its maximum while v "
                        "decays, which is what keeps AMSGrad's steps from growing."))
    for switches, mistake in _MISTAKES:
        message = _(mistake)
        wrong = amsgrad_reference(EXERCISE_GRADIENTS, _VAR0, **_HYPER, **switches)
        if _first_bad_step(values, wrong) is None:
            if switches.get("use_max") is False and state < 3:
                message += _(" (build() created {state} state variables per weight; you need m, v, vhat.)").format(state=state)
            return hint(message)
    if not np.all(np.isfinite(values[t])):
        return hint(_("the variable became {values} at step {value}: look for a division by zero (t must start "
                      "at 1) or a square root of a negative number.").format(values=values[t].tolist(), value=t + 1))
    return hint(_("the variable differs from AMSGrad at step {value}: expected {var}, got {values}.").format(value=t + 1, var=np.round(ref[t]['var'], 5).tolist(), values=np.round(values[t], 5).tolist()))

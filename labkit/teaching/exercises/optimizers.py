"""Exercise checks for the optimizer notebooks 03a_optimizers and 03b_optimizers.

Each check computes the reference live with the real optimizers (``labkit.train``,
``tf.compat.v1.train`` or ``keras.optimizers``) and returns a
:class:`~labkit.teaching.exercises.feedback.Feedback` with a specific hint for the common mistakes.
``None`` (not answered yet) gets a hint; an answer of the wrong kind is a ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from labkit.i18n import N_, _
from labkit.teaching.exercises.feedback import Feedback, hint, passed

__all__ = ["ADAGRAD_EXERCISE", "adagrad_reference", "check_adagrad_step",
           "momentum_path", "check_momentum_overshoot",
           "ADAM_EXERCISE", "adam_first_step_reference", "check_adam_first_step",
           "EPSILON_KEYS", "PLACEMENTS", "epsilon_placement", "check_epsilon_placement"]

# "Write one Adagrad step by hand" (notebooks/03a_optimizers.ipynb).
ADAGRAD_EXERCISE: dict[str, Any] = {
    "w": np.array([1.0, -2.0], np.float32),
    "g": np.array([0.5, -3.0], np.float32),
    "learning_rate": 0.1,
    "initial_accumulator_value": 0.1,
}


def _as_vector(name: str, value: Any, size: int) -> np.ndarray:
    if isinstance(value, (str, bytes, Mapping)) or value is None:
        raise TypeError(_("`{name}` must be numbers (a list or array). Received: {name}={value!r}").format(name=name, value=value))
    try:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as e:
        raise TypeError(_("`{name}` must be numbers (a list or array). Received: {name}={value!r}").format(name=name, value=value)) from e
    if arr.size != size:
        raise ValueError(_("`{name}` must have {size} numbers. Received: {name}={value!r}").format(name=name, size=size, value=value))
    return arr


def adagrad_reference() -> np.ndarray:
    """The new weights after one ``labkit.train.AdagradOptimizer`` step on ``ADAGRAD_EXERCISE``.

    Introduced in notebooks/03a_optimizers.ipynb.
    """
    import tensorflow as tf

    from labkit.train import AdagradOptimizer

    ex = ADAGRAD_EXERCISE
    w = tf.Variable(ex["w"])
    opt = AdagradOptimizer(ex["learning_rate"], ex["initial_accumulator_value"])
    opt.apply_gradients([(tf.constant(ex["g"]), w)])
    return w.numpy().astype(np.float64)


def check_adagrad_step(answer: Any) -> Feedback:
    """Check a hand-written Adagrad step (the new weights) against the real optimizer.

    Introduced in notebooks/03a_optimizers.ipynb.
    """
    if answer is None:
        return hint(_("Compute new_w from w, g, learning_rate and initial_accumulator_value in "
                      "ADAGRAD_EXERCISE: first the new accumulator, then the step."))
    got = _as_vector("answer", answer, 2)
    ex = ADAGRAD_EXERCISE
    w, g = ex["w"].astype(np.float64), ex["g"].astype(np.float64)
    lr, n0 = ex["learning_rate"], ex["initial_accumulator_value"]
    expected = adagrad_reference()
    if np.allclose(got, expected, rtol=1e-4, atol=1e-5):
        return passed(_("new_w = {expected}: accumulator n = 0.1 + g² and step = lr * g / sqrt(n).").format(expected=np.round(expected, 4).tolist()))
    mistakes = [
        (w - lr * g / np.sqrt(g * g), _("you forgot the initial accumulator 0.1: n starts at initial_accumulator_value, so n = "
                                        "0.1 + g², not g².")),
        (w - lr * g / np.sqrt(n0), _("you used the old accumulator (0.1): Adagrad adds g² to the accumulator FIRST and "
                                     "divides by the square root of the NEW value.")),
        (w - lr * g / (n0 + g * g), _("you forgot the square root: the step is lr * g / sqrt(n).")),
        (w + lr * g / np.sqrt(n0 + g * g), _("your step goes uphill: subtract lr * g / sqrt(n).")),
        (w - lr * g, _("that is a plain gradient-descent step: divide by sqrt(n) with n = 0.1 + g².")),
        (w - lr * g * np.sqrt(n0 + g * g), _("you multiplied by sqrt(n); Adagrad divides by it.")),
    ]
    for candidate, message in mistakes:
        if np.allclose(got, candidate, rtol=1e-4, atol=1e-5):
            return hint(message)
    diff = np.abs(got - expected)
    worst = int(np.argmax(diff))
    return hint(_("element {worst} is off by {diff:.3g}. Per element: n = 0.1 + g², new_w = w - lr * g / "
                  "sqrt(n). Check which of w, g you used for that element.").format(worst=worst, diff=diff[worst]))


def _check_range(name: str, value: Any, low: float, high: float | None, *, low_open: bool,
                 text: str) -> None:
    """A finite number above ``low`` (or equal to it unless ``low_open``) and below ``high``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(_("`{name}` must be a number {text}. Received: {name}={value!r}").format(name=name, text=text, value=value))
    too_low = value <= low if low_open else value < low
    too_high = high is not None and value >= high
    if not np.isfinite(value) or too_low or too_high:
        raise ValueError(_("`{name}` must be {text}. Received: {name}={value!r}").format(name=name, text=text, value=value))


def momentum_path(learning_rate: float, momentum: float, steps: int = 40) -> np.ndarray:
    """Positions of ``labkit.train.MomentumOptimizer`` on ``f(w) = 0.5 w²`` from ``w = 1``.

    Introduced in notebooks/03a_optimizers.ipynb (the overshoot exercise). Returns
    ``steps + 1`` positions.
    """
    import tensorflow as tf

    from labkit.train import MomentumOptimizer

    for arg, value in (("learning_rate", learning_rate), ("momentum", momentum)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
            raise TypeError(_("`{arg}` must be a number. Received: {arg}={value!r}").format(arg=arg, value=value))
    w = tf.Variable(1.0)
    opt = MomentumOptimizer(float(learning_rate), float(momentum))
    out = [1.0]
    for _i in range(int(steps)):
        opt.minimize(lambda: 0.5 * w * w)
        out.append(float(w.numpy()))
    return np.asarray(out)


def check_momentum_overshoot(learning_rate: Any, momentum: Any) -> Feedback:
    """Do these hyperparameters make Momentum overshoot the minimum of ``0.5 w²`` (and recover)?

    Introduced in notebooks/03a_optimizers.ipynb. Overshoot: ``w`` goes below -0.1 (past the
    minimum at 0 by more than 10% of the start) and the run does not diverge (final ``|w|`` < 1).
    """
    if learning_rate is None or momentum is None:
        return hint(_("Set both learning_rate and momentum, e.g. learning_rate=0.1, momentum=0.5, then look at "
                      "the path."))
    _check_range("learning_rate", learning_rate, 0.0, None, low_open=True, text="> 0")
    _check_range("momentum", momentum, 0.0, 1.0, low_open=False, text=_("in [0, 1)"))
    path = momentum_path(learning_rate, momentum)
    lowest = float(np.nanmin(path)) if np.isfinite(path).any() else float("nan")
    final = abs(path[-1])
    if not np.isfinite(path).all() or final >= 1.0:
        return hint(_("with learning_rate={learning_rate} the run blows up (|w| = {final:.3g} after 40 steps) "
                      "-- that is divergence, not overshoot. Use a smaller learning rate (below 1) and let the "
                      "momentum carry w past 0.").format(learning_rate=learning_rate, final=final))
    if lowest < -0.1:
        return passed(_("w dips to {lowest:.3f} before settling: the velocity accumulated on the way down "
                        "carries it past the minimum (momentum={momentum}).").format(lowest=lowest, momentum=momentum))
    if momentum < 0.5:
        return hint(_("w never goes below {lowest:.3f}. With momentum={momentum} the velocity dies out fast; "
                      "raise momentum (try 0.9) so it keeps moving after the gradient changes sign.").format(lowest=lowest, momentum=momentum))
    return hint(_("w never goes below {lowest:.3f}: with learning_rate={learning_rate} it creeps too "
                  "slowly to build up speed. Raise the learning rate (try 0.1 or 0.3).").format(lowest=lowest, learning_rate=learning_rate))


# "Predict Keras Adam's first step" (notebooks/03b_optimizers.ipynb). Keras's defaults for
# beta_1, beta_2 and epsilon (0.9, 0.999, 1e-7); the third gradient is tiny on purpose.
ADAM_EXERCISE: dict[str, Any] = {
    "w": np.array([1.0, 1.0, 1.0], np.float32),
    "g": np.array([2.0, -0.5, 1e-7], np.float32),
    "learning_rate": 0.1,
}


def adam_first_step_reference() -> np.ndarray:
    """``w_after - w_before`` for one ``keras.optimizers.Adam`` step on ``ADAM_EXERCISE``.

    Introduced in notebooks/03b_optimizers.ipynb. Runs the installed Keras class with its
    default ``beta_1``, ``beta_2`` and ``epsilon``.
    """
    import keras
    import tensorflow as tf

    ex = ADAM_EXERCISE
    w = tf.Variable(ex["w"])
    opt = keras.optimizers.Adam(learning_rate=ex["learning_rate"])
    opt.apply_gradients([(tf.constant(ex["g"]), w)])
    return w.numpy().astype(np.float64) - ex["w"].astype(np.float64)


def check_adam_first_step(answer: Any) -> Feedback:
    """Check a predicted first Keras Adam step (the change of ``w``) against the real run.

    Introduced in notebooks/03b_optimizers.ipynb. Each typical mistake (no epsilon, Algorithm
    1's epsilon, epsilon inside the square root, no bias correction, gradient descent's step,
    the wrong sign, the new weights instead of the change) gets its own hint.
    """
    if answer is None:
        return hint(_("Fill in predicted_change: three numbers, w_after - w_before, for one Keras Adam step "
                      "with the w, g and learning_rate of ADAM_EXERCISE (Keras's default beta_1=0.9, "
                      "beta_2=0.999, epsilon=1e-7). Mind the third, tiny gradient."))
    got = _as_vector("answer", answer, 3)
    ex = ADAM_EXERCISE
    w, g, lr = ex["w"].astype(np.float64), ex["g"].astype(np.float64), ex["learning_rate"]
    b1, b2, eps = 0.9, 0.999, 1e-7
    expected = adam_first_step_reference()

    def close(a: np.ndarray, b: np.ndarray) -> bool:
        return bool(np.allclose(a, b, rtol=0.02, atol=1e-6))

    if close(got, expected):
        return passed(_("the change is {expected}. The two large gradients move by the learning rate (m/sqrt(v) "
                        "is ±1 after bias correction), but for g=1e-7, sqrt(v) is only about 3e-9 and "
                        "epsilon=1e-7 dominates: epsilon is added to the UNcorrected sqrt(v) ('epsilon hat'), so "
                        "early on it weighs 1/sqrt(1-beta_2) ≈ 31.6 times more than the same number in Algorithm "
                        "1.").format(expected=np.round(expected, 5).tolist()))
    m, v = (1 - b1) * g, (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1), v / (1 - b2)
    alpha = lr * np.sqrt(1 - b2) / (1 - b1)
    mistakes = [
        (w + expected, _("those are the new weights; the question asks for the change w_after - w_before (about "
                         "-0.1 means 'moved down by 0.1').")),
        (-lr * np.sign(g), _("you left epsilon out. That is right for the two large gradients, but for g=1e-7, "
                             "sqrt(v) = sqrt(0.001)*1e-7 ≈ 3.2e-9 is much smaller than epsilon=1e-7, so the third "
                             "step is only a few percent of the learning rate.")),
        (-lr * m_hat / (np.sqrt(v_hat) + eps), _("you used the paper's Algorithm 1, epsilon added to sqrt(v_hat) (the bias-corrected v). "
                                                 "Keras, like TF1, adds epsilon to the UNcorrected sqrt(v) and folds the correction into "
                                                 "the step size: alpha = lr*sqrt(1-beta_2^t)/(1-beta_1^t), step = "
                                                 "alpha*m/(sqrt(v)+epsilon).")),
        (-alpha * m / np.sqrt(v + eps), _("you put epsilon inside the square root; Adam adds it after: alpha*m/(sqrt(v) + epsilon).")),
        (-lr * m / (np.sqrt(v) + eps), _("you left out the bias correction: on step 1, m and v are (1-beta_1)*g and "
                                         "(1-beta_2)*g², so the step size is alpha = lr*sqrt(1-beta_2)/(1-beta_1), not lr.")),
        (-lr * g, _("that is gradient descent's step, -lr*g. Adam divides m by sqrt(v)+epsilon, so the size "
                    "of g mostly cancels.")),
        (-expected, _("right sizes, wrong sign: Adam steps against the gradient (w goes down where g > 0).")),
    ]
    for candidate, message in mistakes:
        if close(got, candidate):
            return hint(message)
    diff = np.abs(got - expected)
    worst = int(np.argmax(diff))
    return hint(_("element {worst} (g={g:g}) is off by {diff:.3g}. On step 1: m = 0.1*g, v = 0.001*g², "
                  "alpha = lr*sqrt(1-0.999)/(1-0.9), change = -alpha*m/(sqrt(v) + 1e-7).").format(worst=worst, g=g[worst], diff=diff[worst]))


# "Where does each library put epsilon?" (notebooks/03b_optimizers.ipynb).
EPSILON_KEYS = ("TF1 Adagrad", "Keras Adagrad", "TF1 RMSProp", "Keras RMSprop", "TF1 Adam",
                "Keras Adam")
PLACEMENTS = ("inside", "outside", "none")  # sqrt(acc + eps), sqrt(acc) + eps, no epsilon


def _one_step(opt: Any, g: np.ndarray, w: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    var = tf.Variable(w.astype(np.float32))
    opt.apply_gradients([(tf.constant(g.astype(np.float32)), var)])
    return w - var.numpy().astype(np.float64)


def epsilon_placement() -> dict[str, str]:
    """Where each class adds epsilon, found by running it: ``{key: "inside"|"outside"|"none"}``.

    Introduced in notebooks/03b_optimizers.ipynb. Each class takes one step with a large
    epsilon (0.5); its step is compared with ``g/sqrt(acc + eps)`` ("inside") and
    ``g/(sqrt(acc) + eps)`` ("outside") computed in NumPy, for either starting accumulator
    of RMSProp (TF1 starts at 1.0, Keras at 0). A class without an ``epsilon`` argument
    is "none".
    """
    import inspect

    import keras
    import tensorflow as tf

    v1, k = tf.compat.v1.train, keras.optimizers
    g = np.array([0.3, -0.02, 2.0])
    w = np.array([1.0, -2.0, 0.5])
    lr, eps, rho = 0.1, 0.5, 0.9
    b1, b2 = 0.9, 0.999
    classes = {
        "TF1 Adagrad": (v1.AdagradOptimizer, dict(learning_rate=lr)),
        "Keras Adagrad": (k.Adagrad, dict(learning_rate=lr)),
        "TF1 RMSProp": (v1.RMSPropOptimizer, dict(learning_rate=lr, decay=rho)),
        "Keras RMSprop": (k.RMSprop, dict(learning_rate=lr, rho=rho)),
        "TF1 Adam": (v1.AdamOptimizer, dict(learning_rate=lr, beta1=b1, beta2=b2)),
        "Keras Adam": (k.Adam, dict(learning_rate=lr, beta_1=b1, beta_2=b2)),
    }
    out = {}
    for key, (cls, kwargs) in classes.items():
        if "epsilon" not in inspect.signature(cls).parameters:
            out[key] = "none"
            continue
        step = _one_step(cls(epsilon=eps, **kwargs), g, w)
        if "Adagrad" in key:
            accs, num = [0.1 + g * g], lr * g
        elif "RMS" in key:
            accs, num = [rho * s0 + (1 - rho) * g * g for s0 in (0.0, 1.0)], lr * g
        else:
            accs, num = [(1 - b2) * g * g], lr * np.sqrt(1 - b2) / (1 - b1) * (1 - b1) * g
        found = "unknown"
        for acc in accs:
            if np.allclose(step, num / np.sqrt(acc + eps), atol=1e-6):
                found = "inside"
            elif np.allclose(step, num / (np.sqrt(acc) + eps), atol=1e-6):
                found = "outside"
        out[key] = found
    return out


_WHY = {
    "TF1 Adagrad": N_("tf.compat.v1.train.AdagradOptimizer has no epsilon argument at all (inspect.signature "
                      "shows none): its starting accumulator (initial_accumulator_value=0.1) keeps sqrt(n) "
                      "away from 0."),
    "Keras Adagrad": N_("Keras Adagrad divides by sqrt(accumulator + epsilon) (keras/src/optimizers/adagrad.py, "
                        "the ops.sqrt(ops.add(accumulator, self.epsilon)) line)."),
    "TF1 RMSProp": N_("TF1's RMSProp divides by sqrt(mean_square + epsilon) (the formula in "
                      "tensorflow/python/training/rmsprop.py's module docstring)."),
    "Keras RMSprop": N_("Keras RMSprop divides by sqrt(velocity + epsilon) too (keras/src/optimizers/rmsprop.py, "
                        "denominator = velocity + epsilon); what differs from TF1 is the starting average: 1.0 "
                        "in TF1, 0 in Keras."),
    "TF1 Adam": N_("TF1's Adam adds epsilon after the square root, to the uncorrected sqrt(v): 'epsilon "
                   "hat' (tensorflow/python/training/adam.py, the update rule in __init__'s docstring)."),
    "Keras Adam": N_("Keras Adam adds epsilon after the square root too, to the uncorrected sqrt(v) "
                     "(keras/src/optimizers/adam.py, ops.add(ops.sqrt(v), self.epsilon))."),
}
_SAID = {"inside": N_("inside the square root"), "outside": N_("after the square root"),
         "none": N_("no epsilon")}


def check_epsilon_placement(answer: Any) -> Feedback:
    """Check a predicted ``{key: "inside"|"outside"|"none"}`` for the six ``EPSILON_KEYS``.

    Introduced in notebooks/03b_optimizers.ipynb. The truth comes from
    :func:`epsilon_placement`, which runs the installed classes; a wrong entry gets a hint
    naming that class, what was predicted and where the class really puts epsilon.
    """
    if answer is None:
        return hint(_("Fill a dict with the six keys {keys}, each 'inside' (sqrt(acc + eps)), 'outside' "
                      "(sqrt(acc) + eps) or 'none' (the class has no epsilon).").format(
                          keys=", ".join(repr(k) for k in EPSILON_KEYS)))
    if not isinstance(answer, Mapping):
        raise TypeError(_("`answer` must be a dict key -> placement. Received: {answer!r}").format(answer=answer))
    missing = [k for k in EPSILON_KEYS if k not in answer]
    if missing:
        return hint(_("your dict has no entry for {missing}; the keys are {value}.").format(missing=missing, value=list(EPSILON_KEYS)))
    bad = {k: answer[k] for k in EPSILON_KEYS if answer[k] not in PLACEMENTS}
    if bad:
        return hint(_("use 'inside', 'outside' or 'none'; got {bad}.").format(bad=bad))
    truth = epsilon_placement()
    wrong = [k for k in EPSILON_KEYS if answer[k] != truth[k]]
    if not wrong:
        return passed(_("all six match the run: {placements}.").format(
            placements="; ".join(f"{k}: {_(_SAID[truth[k]])}" for k in EPSILON_KEYS)))
    first = wrong[0]
    more = _(" ({n_wrong} of 6 are off; this is the first.)").format(n_wrong=len(wrong)) if len(wrong) > 1 else ""
    return hint(_("{first}: you said {said}, the run shows {truth}. {why}{more}").format(first=first, said=_(_SAID[answer[first]]), truth=_(_SAID[truth[first]]), why=_(_WHY[first]), more=more))

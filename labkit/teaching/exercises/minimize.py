r"""Exercise checks for notebooks/06_minimize.ipynb: predict what a TF2 step does with minimize's arguments.

The learner reads this loop (the TF2 form of ``minimize(loss, var_list=[w], grad_loss=0.5)``
followed by ``global_step`` counting) and predicts ``w``, ``b`` and ``opt.iterations`` after it::

    w, b = tf.Variable(1.0), tf.Variable(1.0)
    opt = keras.optimizers.SGD(learning_rate=0.1)
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = w * w + b * b
        grads = tape.gradient(loss, [w], output_gradients=tf.constant(0.5))
        opt.apply_gradients(zip(grads, [w]))

Each step: $g = 0.5 \cdot 2w = w$, so $w \leftarrow w - 0.1 w = 0.9 w$; after two steps
$w = 0.81$. ``b`` is not a source of ``tape.gradient`` (the ``var_list``), so it never moves;
``iterations`` counts ``apply_gradients`` calls: 2. :func:`check_minimize_prediction` recognises
the usual mistakes and names each one.
"""

from __future__ import annotations

from typing import Any

from labkit.i18n import _
from labkit.teaching.exercises.feedback import Feedback, hint, passed

__all__ = ["EXERCISE", "check_minimize_prediction", "minimize_answer"]

EXERCISE = {"w0": 1.0, "b0": 1.0, "learning_rate": 0.1, "output_gradient": 0.5, "steps": 2}
_KEYS = ("w", "b", "iterations")
_TOL = 1e-3


def _w_after(steps: int, factor: float) -> float:
    """w after ``steps`` SGD steps whose gradient is ``factor * w``."""
    w = EXERCISE["w0"]
    for _i in range(steps):
        w = w - EXERCISE["learning_rate"] * factor * w
    return w


def minimize_answer() -> dict[str, float]:
    """The right prediction, computed by hand (introduced in notebooks/06_minimize.ipynb).

    d(w*w)/dw = 2w, times the starting gradient 0.5 gives w; the notebook checks this against
    the real TensorFlow run.
    """
    g_factor = 2.0 * EXERCISE["output_gradient"]
    return {"w": round(_w_after(EXERCISE["steps"], g_factor), 6), "b": EXERCISE["b0"],
            "iterations": EXERCISE["steps"]}


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= _TOL


def check_minimize_prediction(prediction: Any) -> Feedback:
    """Check the learner's prediction ``{"w": ..., "b": ..., "iterations": ...}``.

    Introduced in notebooks/06_minimize.ipynb. Names the mistake: ``output_gradients`` ignored,
    the factor 2 of d(w*w)/dw dropped, one step instead of two, ``b`` moved although it is not
    a source of the tape, ``iterations`` counting something other than ``apply_gradients`` calls.
    """
    if prediction is None:
        return hint(_("fill in your prediction first: prediction = {'w': ..., 'b': ..., 'iterations': ...}"))
    if not isinstance(prediction, dict):
        return hint(_("the prediction must be a dict with keys 'w', 'b' and 'iterations'. Received: "
                      "{prediction_type}").format(prediction_type=type(prediction).__name__))
    missing = [k for k in _KEYS if prediction.get(k) is None]
    if missing:
        return hint(_("fill in your prediction for {value} (a number each, not None).").format(value=', '.join(repr(k) for k in missing)))
    try:
        w, b, it = (float(prediction[k]) for k in _KEYS)
    except (TypeError, ValueError):
        return hint(_("each value of the prediction must be a number. Received: {value}").format(value={k: prediction[k] for k in _KEYS}))
    right = minimize_answer()
    problems = []
    if not _close(w, right["w"]):
        steps = EXERCISE["steps"]
        if _close(w, _w_after(steps, 2.0)):
            problems.append(_("w = {w:g} is what you get without output_gradients: the backward pass starts from 0.5 "
                              "instead of 1 (that is grad_loss), so each gradient is 0.5 * 2w = w, not 2w.").format(w=w))
        elif _close(w, _w_after(steps, EXERCISE["output_gradient"])):
            problems.append(_("w = {w:g}: you dropped the 2 of d(w*w)/dw = 2w; the gradient is 0.5 * 2w = w.").format(w=w))
        elif _close(w, _w_after(1, 1.0)) or _close(w, _w_after(1, 2.0)):
            problems.append(_("w = {w:g} is one step; the loop runs twice, and the second gradient is taken at the new "
                              "w.").format(w=w))
        elif _close(w, EXERCISE["w0"]):
            problems.append(_("w does move: it is a source of tape.gradient and apply_gradients updates it (w - 0.1 * "
                              "g)."))
        else:
            problems.append(_("w = {w:g} is not right: each step g = 0.5 * 2w = w, so w becomes 0.9 w.").format(w=w))
    if not _close(b, right["b"]):
        problems.append(_("b = {b:g}, but b is not in the list given to tape.gradient (that list is minimize's "
                          "var_list): it gets no gradient and stays at 1.0.").format(b=b))
    if it != right["iterations"]:
        problems.append(_("iterations = {it:g}: optimizer.iterations (TF1's global_step) counts apply_gradients "
                          "calls, one per pass of the loop, whatever the number of variables.").format(it=it))
    if problems:
        return hint(" ".join(problems))
    return passed(_("w = {w:g} (each step multiplies w by 0.9), b stays 1.0 (not in var_list), iterations = "
                    "{iterations} (one per apply_gradients call).").format(w=right['w'], iterations=right['iterations']))

"""Exercise checks for notebooks/03c_optimizers_today.ipynb (Keras 3 practice beyond TF1's table).

The warmup + cosine exercise: predict the learning rate of a
``keras.optimizers.schedules.CosineDecay`` with warmup at three steps (one in the warmup, one in
the decay, one after the end). The reference is computed live by the installed Keras; each
typical mistake (warmup from 0, decay clock not started at the end of the warmup, ``alpha``
forgotten or read as a learning rate, the cosine continued past its end, ...) gets its own hint.
``None`` (not answered yet) gets a hint; an answer of the wrong kind is a ``TypeError``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from labkit.i18n import _
from labkit.teaching.exercises.feedback import Feedback, hint, passed

__all__ = ["SCHEDULE_EXERCISE", "schedule_reference", "schedule_mistakes",
           "check_schedule_prediction"]

# "Predict the learning rate at three steps" (notebooks/03c_optimizers_today.ipynb).
SCHEDULE_EXERCISE: dict[str, Any] = {
    "initial_learning_rate": 0.01,
    "warmup_target": 0.1,
    "warmup_steps": 20,
    "decay_steps": 80,
    "alpha": 0.2,
    "steps": (5, 60, 150),
}
_TOL = 5e-5  # answers rounded to 4 decimals pass


def _schedule_args() -> dict[str, Any]:
    return {k: v for k, v in SCHEDULE_EXERCISE.items() if k != "steps"}


def schedule_reference() -> dict[int, float]:
    """``{step: lr}`` from the installed ``keras.optimizers.schedules.CosineDecay``.

    Introduced in notebooks/03c_optimizers_today.ipynb.
    """
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(**_schedule_args())
    return {int(s): float(schedule(s)) for s in SCHEDULE_EXERCISE["steps"]}


def _cosine(fraction: float, alpha: float) -> float:
    return (1.0 - alpha) * 0.5 * (1.0 + math.cos(math.pi * fraction)) + alpha


def schedule_mistakes(step: int) -> list[tuple[float, str]]:
    """The typical wrong predictions at ``step``, each with the hint that names the mistake.

    Introduced in notebooks/03c_optimizers_today.ipynb (used by ``check_schedule_prediction``
    and its tests).
    """
    e = SCHEDULE_EXERCISE
    lr0, peak, warm = e["initial_learning_rate"], e["warmup_target"], e["warmup_steps"]
    decay, alpha = e["decay_steps"], e["alpha"]
    if step < warm:
        return [
            (peak * step / warm,
             _("at step {step} you warmed up from 0: the warmup starts at initial_learning_rate "
               "({lr0}), lr = initial + (warmup_target - initial) * step / warmup_steps.").format(step=step, lr0=lr0)),
            (peak * _cosine(step / decay, alpha),
             _("at step {step} you skipped the warmup: before warmup_steps ({warm}) the rate climbs in "
               "a straight line; the cosine only starts after it.").format(step=step, warm=warm)),
            (peak,
             _("at step {step} you used warmup_target ({peak}): that is where the warmup ends (step "
               "{warm}), not where it starts.").format(step=step, peak=peak, warm=warm)),
        ]
    done = min(step - warm, decay)
    return [
        (peak * _cosine(min(step, decay) / decay, alpha),
         _("at step {step} you started the cosine's clock at 0, not at the end of the warmup: the "
           "decay fraction is (step - warmup_steps) / decay_steps = {done}/{decay}.").format(step=step, done=done, decay=decay)),
        (peak * _cosine((step - warm) / (decay - warm), alpha) if step - warm <= decay - warm
         else peak * alpha,
         _("at step {step} you counted the warmup inside decay_steps: in Keras the decay lasts "
           "decay_steps ({decay}) steps AFTER the warmup, so it ends at step {value}.").format(step=step, decay=decay, value=warm + decay)),
        (peak * _cosine(done / decay, 0.0),
         _("at step {step} you forgot alpha: the cosine falls to alpha * warmup_target ({alpha} * "
           "{peak}), not to 0. decayed = (1 - alpha) * cosine + alpha.").format(step=step, alpha=alpha, peak=peak)),
        (lr0 * _cosine(done / decay, alpha),
         _("at step {step} you decayed from initial_learning_rate ({lr0}): with a warmup, the "
           "cosine starts from warmup_target ({peak}).").format(step=step, lr0=lr0, peak=peak)),
        (peak * _cosine((step - warm) / decay, alpha),
         _("at step {step} you let the cosine go on (it rises again after its end): Keras clamps "
           "the step at warmup_steps + decay_steps = {value}, so the rate stays at its floor.").format(step=step, value=warm + decay)),
        (alpha,
         _("at step {step} you used alpha ({alpha}) as a learning rate: alpha is a FRACTION of "
           "warmup_target; the floor is alpha * warmup_target.").format(step=step, alpha=alpha)),
    ]


def _as_predictions(answer: Any) -> dict[int, float]:
    steps = SCHEDULE_EXERCISE["steps"]
    if isinstance(answer, Mapping):
        missing = [s for s in steps if s not in answer]
        if missing:
            raise ValueError(_("`answer` must have a learning rate for each of the steps {value}. Missing: {missing}").format(value=list(steps), missing=missing))
        values = [answer[s] for s in steps]
    elif isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__"):
        raise TypeError(_("`answer` must be a dict {{step: lr}} or {n_steps} numbers. Received: answer={answer!r}").format(n_steps=len(steps), answer=answer))
    else:
        values = list(answer)
        if len(values) != len(steps):
            raise ValueError(_("`answer` must have {n_steps} numbers, one per step {value}. Received: answer={answer!r}").format(n_steps=len(steps), value=list(steps), answer=answer))
    out = {}
    for s, v in zip(steps, values, strict=True):
        if v is None:
            out[s] = None
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
            raise TypeError(_("the learning rate for step {s} must be a number. Received: {v!r}").format(s=s, v=v))
        out[s] = float(v)
    return out


def check_schedule_prediction(answer: Any) -> Feedback:
    """Check predicted learning rates of the warmup + cosine schedule at its three steps.

    Introduced in notebooks/03c_optimizers_today.ipynb. ``answer`` is ``{step: lr}`` or three
    numbers in the order of ``SCHEDULE_EXERCISE["steps"]``; 4 decimals are enough.
    """
    steps = SCHEDULE_EXERCISE["steps"]
    if answer is None:
        return hint(_("fill in your prediction first: a dict {{step: learning rate}} for the steps {value}, "
                      "worked out from the arguments in SCHEDULE_EXERCISE.").format(value=list(steps)))
    got = _as_predictions(answer)
    expected = schedule_reference()
    problems = []
    for s in steps:
        if got[s] is None:
            problems.append(_("step {s} has no prediction yet.").format(s=s))
            continue
        if abs(got[s] - expected[s]) <= _TOL:
            continue
        for candidate, message in schedule_mistakes(s):
            if abs(got[s] - candidate) <= _TOL:
                problems.append(message)
                break
        else:
            phase = (_("in the warmup (a straight line)") if s < SCHEDULE_EXERCISE["warmup_steps"]
                     else _("in the cosine decay") if s < SCHEDULE_EXERCISE["warmup_steps"]
                     + SCHEDULE_EXERCISE["decay_steps"] else _("past the end of the decay"))
            problems.append(_("step {s} ({got:.4g}) is not it: that step is {phase}; work it out from the formula "
                              "above.").format(s=s, got=got[s], phase=phase))
    if problems:
        return hint(" ".join(problems))
    shown = ", ".join(_("step {s}: {rate:.4f}").format(s=s, rate=expected[s]) for s in steps)
    return passed(_("{shown} -- a straight line up, a half cosine down, then the floor alpha * warmup_target.").format(shown=shown))

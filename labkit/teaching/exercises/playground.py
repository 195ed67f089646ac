"""Checks for notebooks/04_playground.ipynb: predict the l1 surface, then run, then check.

The learner predicts, before running, (1) which optimizers end with y exactly 0.0 on the
``l1`` surface and (2) which one first comes within ``NEAR`` of the minimum (0.5, 0). The check
compares the prediction with the trajectories the notebook computed, and names each mistake
with the reason (proximal step vs subgradient, Ftrl's sum of gradients, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from labkit.i18n import N_, _
from labkit.teaching.exercises.feedback import Feedback, hint, passed

__all__ = ["NEAR", "MINIMUM", "first_step_near", "check_l1_prediction"]

NEAR = 0.01
MINIMUM = (0.5, 0.0)

# Why an optimizer lands on y == 0.0 exactly, or why it cannot.
_WHY_ZERO = {
    "FtrlOptimizer": N_("Ftrl's closed-form step sets a coordinate to exactly 0 while |z| (the running sum of "
                        "gradients) is at most l1"),
    "ProximalGradientDescentOptimizer": N_("its proximal (soft-threshold) step sets y to exactly 0 once |y| is below lr * l1"),
    "ProximalAdagradOptimizer": N_("its proximal (soft-threshold) step sets y to exactly 0 once |y| is below its "
                                   "per-coordinate lr * l1"),
    "AdagradDAOptimizer": N_("dual averaging sets a coordinate to exactly 0 while the average gradient is smaller "
                             "than l1"),
}
_WHY_NOT = (N_("it has no l1 argument, so it differentiates the whole objective: the gradient of 0.5|y| "
               "is 0.5 * sign(y), which flips each time y crosses 0, so y jumps over 0 and hovers "
               "around it instead of landing on it"))


def _full(name: Any, known: Iterable[str]) -> str | None:
    if not isinstance(name, str):
        return None
    for k in known:
        if name in (k, k.removesuffix("Optimizer")):
            return k
    return None


def _short(name: str) -> str:
    return name.removesuffix("Optimizer")


def first_step_near(points: np.ndarray, minimum: tuple[float, float] = MINIMUM,
                    near: float = NEAR) -> int | None:
    """The first step whose point is within ``near`` of ``minimum`` (None: never)."""
    d = np.linalg.norm(np.asarray(points, float) - np.asarray(minimum, float), axis=1)
    hits = np.flatnonzero(d < near)
    return int(hits[0]) if hits.size else None


def check_l1_prediction(prediction: Any, trajectories: Mapping[str, Any]) -> Feedback:
    """Check ``{"exact_zero": set of names, "first_near_minimum": name}`` against the runs.

    Introduced in notebooks/04_playground.ipynb. ``trajectories`` is what
    ``compute_trajectories("l1", ...)`` returned; names may be short ("Adam") or full.
    """
    if not trajectories:
        return hint(_("run the l1 trajectories first (the cell after your prediction)."))
    names = list(trajectories)
    if not isinstance(prediction, Mapping) or prediction.get("exact_zero") is None \
            or prediction.get("first_near_minimum") is None:
        return hint(_("fill in your prediction first: a set of names for 'exact_zero' and one name for "
                      "'first_near_minimum', e.g. {'exact_zero': {'Adam'}, 'first_near_minimum': "
                      "'GradientDescent'}."))
    said = prediction["exact_zero"]
    if isinstance(said, str) or not isinstance(said, Iterable):
        return hint(_("'exact_zero' must be a set of optimizer names, not {said!r}.").format(said=said))
    said_full = set()
    for n in said:
        full = _full(n, names)
        if full is None:
            return hint(_("{n!r} is not one of the optimizers that ran: {value}.").format(n=n, value=[_short(k) for k in names]))
        said_full.add(full)
    truth = {n for n, tr in trajectories.items() if float(np.asarray(tr.final)[1]) == 0.0}
    problems = []
    for n in sorted(said_full - truth):
        y = float(np.asarray(trajectories[n].final)[1])
        problems.append(_("you said {n} ends with y exactly 0, but it ends at y = {y:.4f}: {why_not}.").format(n=_short(n), y=y, why_not=_(_WHY_NOT)))
    for n in sorted(truth - said_full):
        why = _(_WHY_ZERO[n]) if n in _WHY_ZERO else _("its update sets y to exactly 0")
        problems.append(_("you left out {n}: {why}.").format(n=_short(n), why=why))
    first = {n: first_step_near(tr.points) for n, tr in trajectories.items()}
    reached = {n: s for n, s in first.items() if s is not None}
    winner = min(reached, key=reached.get) if reached else None
    guess = _full(prediction["first_near_minimum"], names)
    if guess is None:
        problems.append(_("'first_near_minimum' must be one of {value}; received {first_near_minimum!r}.").format(value=[_short(k) for k in names], first_near_minimum=prediction['first_near_minimum']))
    elif guess != winner:
        when = (_("never came within 0.01 in these steps") if first[guess] is None
                else _("first came within 0.01 at step {first}").format(first=first[guess]))
        problems.append(_("you picked {guess} as first near (0.5, 0), but it {when}; {winner} got there at step "
                          "{reached} (a per-coordinate step size plus a proximal step that needs no hopping around "
                          "y = 0).").format(guess=_short(guess), when=when, winner=_short(winner), reached=reached[winner]))
    if problems:
        return hint(" ".join(problems))
    return passed(_("exact zeros: {value}; first within 0.01 of the minimum: {winner} at step {reached}.").format(value=sorted(_short(n) for n in truth), winner=_short(winner), reached=reached[winner]))

"""Checks for notebooks/05_digits_comparison.ipynb: predict the comparison, then run, then check.

Before the comparison runs, the learner predicts (1) which TF1 optimizers reach the same mean
validation accuracy as their Keras 3 twin (within ``SAME``) and (2) whether the best TF1
optimizer beats the runner-up by more than two seed-to-seed standard deviations. The check reads the
answers from the runs and names each mistake with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from labkit.i18n import N_, _
from labkit.teaching.exercises.feedback import Feedback, hint, passed

__all__ = ["SAME", "seed_spread", "verdict", "check_comparison_prediction"]

SAME = 0.01

# Why a TF1 class and its Keras twin agree, or why they do not.
_WHY_SAME = {
    "GradientDescent": N_("plain SGD is w -= lr * g in both libraries"),
    "Momentum": N_("TF1's accum = m * accum + g; w -= lr * accum and Keras' v = m * v - lr * g; w += v are "
                   "the same update while lr is constant"),
    "Adam": N_("the same formula (epsilon outside the square root in both); only the default epsilon "
               "differs (1e-8 vs 1e-7), which is negligible next to these gradients"),
}
_WHY_DIFFERENT = {
    "RMSProp": N_("TF1's RMSProp starts its mean square at 1.0 (Keras at 0.0), so its first steps are "
                  "several times smaller at the same learning rate"),
}


def seed_spread(results: Mapping[str, Sequence[float]]) -> float:
    """Pooled seed-to-seed standard deviation: sqrt of the mean of each optimizer's variance
    (ddof=1) over its seeds."""
    variances = [np.var(np.asarray(v, float), ddof=1) for v in results.values() if len(v) > 1]
    if not variances:
        raise ValueError(_("`results` needs at least two seeds for some optimizer."))
    return float(np.sqrt(np.mean(variances)))


def verdict(results: Mapping[str, Sequence[float]]) -> dict[str, Any]:
    """Ranking by mean over seeds, the gaps best-worst and best-runner-up, the spread, and
    whether each gap exceeds two spreads.

    Introduced in notebooks/05_digits_comparison.ipynb.
    """
    means = {n: float(np.mean(v)) for n, v in results.items()}
    ranked = sorted(means, key=lambda n: -means[n])
    spread = seed_spread(results)
    best, runner_up, worst = ranked[0], ranked[1], ranked[-1]
    return {
        "ranked": ranked, "means": means, "spread": spread,
        "best": best, "runner_up": runner_up, "worst": worst,
        "gap_best_worst": means[best] - means[worst],
        "gap_best_runner_up": means[best] - means[runner_up],
        "clear_worst": means[best] - means[worst] > 2 * spread,
        "clear_winner": means[best] - means[runner_up] > 2 * spread,
    }


def _same(results: Mapping[str, Sequence[float]], pairs: Mapping[str, str]) -> set[str]:
    return {t for t, k in pairs.items()
            if abs(np.mean(results[t]) - np.mean(results[k])) <= SAME}


def check_comparison_prediction(prediction: Any, results: Mapping[str, Sequence[float]],
                                pairs: Mapping[str, str]) -> Feedback:
    """Check ``{"same_as_keras": set of TF1 names, "clear_winner": bool}`` against the runs.

    Introduced in notebooks/05_digits_comparison.ipynb. ``results`` maps every name to its
    validation accuracies (one per seed); ``pairs`` maps each TF1 name to its Keras twin. The
    winner is judged among the TF1 names (a Keras twin that matches its TF1 class would
    otherwise always be the runner-up); with no pairs, among all of ``results``.
    """
    if not results:
        return hint(_("run the comparison first (the cell after your prediction)."))
    if not isinstance(prediction, Mapping) or prediction.get("same_as_keras") is None \
            or prediction.get("clear_winner") is None:
        return hint(_("fill in your prediction first: a set of TF1 names for 'same_as_keras' and True or False "
                      "for 'clear_winner', e.g. {'same_as_keras': {'Adam'}, 'clear_winner': True}."))
    said = prediction["same_as_keras"]
    if isinstance(said, str) or not isinstance(said, Iterable):
        return hint(_("'same_as_keras' must be a set of TF1 names, not {said!r}.").format(said=said))
    said = set(said)
    unknown = said - set(pairs)
    if unknown:
        return hint(_("{value} are not TF1 names of this comparison: {value2}.").format(value=sorted(unknown), value2=sorted(pairs)))
    if not isinstance(prediction["clear_winner"], bool):
        return hint(_("'clear_winner' must be True or False, not {clear_winner!r}.").format(clear_winner=prediction['clear_winner']))
    truth = _same(results, pairs)
    problems = []
    for t in sorted(said - truth):
        gap = abs(np.mean(results[t]) - np.mean(results[pairs[t]]))
        why = _(_WHY_DIFFERENT[t]) if t in _WHY_DIFFERENT else _("their updates differ")
        problems.append(_("you said {t} matches {pairs}, but their mean validation accuracies differ by {gap:.3f}: "
                          "{why}.").format(t=t, pairs=pairs[t], gap=gap, why=why))
    for t in sorted(truth - said):
        why = _(_WHY_SAME[t]) if t in _WHY_SAME else _("their updates agree on this problem")
        problems.append(_("you left out {t}: it matches {pairs} within {SAME} because {why}.").format(t=t, pairs=pairs[t], SAME=SAME, why=why))
    v = verdict({t: results[t] for t in pairs} or results)
    if prediction["clear_winner"] != v["clear_winner"]:
        if v["clear_winner"]:
            problems.append(_("you expected no clear winner, but {best} beats {runner_up} by {gap_best_runner_up:.3f}, "
                              "more than two seed spreads ({value:.3f}).").format(best=v['best'], runner_up=v['runner_up'], gap_best_runner_up=v['gap_best_runner_up'], value=2 * v['spread']))
        else:
            problems.append(_("you expected a clear winner, but {best} beats {runner_up} by only "
                              "{gap_best_runner_up:.3f}, within two seed spreads ({value:.3f}): another seed could "
                              "swap them.").format(best=v['best'], runner_up=v['runner_up'], gap_best_runner_up=v['gap_best_runner_up'], value=2 * v['spread']))
    if problems:
        return hint(" ".join(problems))
    return passed(_("same as Keras: {value}; clear winner: {clear_winner} (best {best}, runner-up by "
                    "{gap_best_runner_up:.3f}, two seed spreads {value2:.3f}).").format(value=sorted(truth), clear_winner=v['clear_winner'], best=v['best'], gap_best_runner_up=v['gap_best_runner_up'], value2=2 * v['spread']))

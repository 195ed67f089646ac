"""Exercise checks for notebooks/12_scale_out.ipynb."""

from __future__ import annotations

import math
from typing import Any

from labkit.i18n import _
from labkit.teaching.exercises.feedback import Feedback, hint, passed

__all__ = ["check_local_mean_ratio"]


def check_local_mean_ratio(predicted: Any, measured: float, num_replicas: int,
                           rel_tol: float = 0.01) -> Feedback:
    """Predict-then-check: each replica takes the MEAN over its own slice; the gradients are SUMMED.

    Introduced in notebooks/12_scale_out.ipynb. ``measured`` is the ratio the notebook computes
    (global norm of the summed replica gradients over the global norm of the one-device
    gradient); the prediction is compared with it, not with a number typed here. The usual
    wrong predictions are named: 1 (the replicas' gradients are averaged), ``1/num_replicas``
    (the direction of the error inverted).
    """
    if isinstance(num_replicas, bool) or not isinstance(num_replicas, int) or num_replicas < 1:
        raise ValueError(_("`num_replicas` must be an integer >= 1. Received: num_replicas={num_replicas!r}").format(num_replicas=num_replicas))
    if isinstance(measured, bool) or not isinstance(measured, (int, float)) or not math.isfinite(measured):
        raise ValueError(_("`measured` must be a finite number. Received: measured={measured!r}").format(measured=measured))
    if predicted is None:
        return hint(_("`predicted_ratio` is still None: write your prediction (a number) first, then run the "
                      "cell again."))
    if isinstance(predicted, bool) or not isinstance(predicted, (int, float)) or not math.isfinite(predicted):
        return hint(_("`predicted_ratio` must be a number. Received: {predicted!r}").format(predicted=predicted))

    def near(a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=rel_tol)

    if near(predicted, measured):
        return passed(_("Measured {measured:.3g}: each replica's mean divides by its own {num_replicas}x smaller "
                        "batch, and the all-reduce adds the {num_replicas} gradients, so the update is "
                        "num_replicas times too big. tf.nn.compute_average_loss(..., global_batch_size=...) "
                        "avoids it.").format(measured=measured, num_replicas=num_replicas))
    if near(predicted, 1.0):
        return hint(_("Measured {measured:.3g}, not 1: the replicas' gradients are SUMMED, not averaged (the "
                      "all-reduce uses ReduceOp.SUM), and each replica's mean is over only its own slice of "
                      "the batch.").format(measured=measured))
    if near(predicted, 1.0 / num_replicas):
        return hint(_("Measured {measured:.3g}, not {predicted:g}: the error goes the other way. A mean over a "
                      "{num_replicas}x smaller slice is not smaller; adding {num_replicas} of them makes the "
                      "gradient bigger.").format(measured=measured, predicted=predicted, num_replicas=num_replicas))
    return hint(_("Measured {measured:.3g}, not {predicted:g}: each replica's mean gives its slice weight "
                  "1 instead of 1/{num_replicas}, and the all-reduce adds {num_replicas} of them.").format(measured=measured, predicted=predicted, num_replicas=num_replicas))

"""labkit.teaching.exercises.distribute (notebooks/12_scale_out.ipynb), table-driven."""

from __future__ import annotations

import pytest

from labkit.teaching.exercises.distribute import check_local_mean_ratio

CASES = [
    # (predicted, measured, replicas, ok, words the message must contain)
    (2, 2.0, 2, True, ["compute_average_loss", "adds the 2"]),
    (2.0, 1.9999998, 2, True, ["num_replicas times"]),
    (4, 4.0, 4, True, ["adds the 4"]),
    (None, 2.0, 2, False, ["still None"]),
    ("2", 2.0, 2, False, ["must be a number"]),
    (1, 2.0, 2, False, ["SUMMED, not", "averaged"]),
    (0.5, 2.0, 2, False, ["other way"]),
    (0.25, 4.0, 4, False, ["other way"]),
    (3, 2.0, 2, False, ["weight 1 instead of 1/2"]),
    (64, 2.0, 2, False, ["weight 1 instead of 1/2"]),
]


@pytest.mark.parametrize("predicted, measured, replicas, ok, words", CASES)
def test_local_mean_ratio(predicted, measured, replicas, ok, words):
    fb = check_local_mean_ratio(predicted, measured, num_replicas=replicas)
    assert fb.ok is ok, fb.message
    for word in words:
        assert word in fb.message, (word, fb.message)


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_replicas"):
        check_local_mean_ratio(2, 2.0, num_replicas=0)
    with pytest.raises(ValueError, match="measured"):
        check_local_mean_ratio(2, float("nan"), num_replicas=2)

"""labkit.teaching.exercises.digits: the comparison prediction, each named mistake, the verdict."""

import numpy as np
import pytest

from labkit.teaching.exercises.digits import check_comparison_prediction, seed_spread, verdict

PAIRS = {"GradientDescent": "keras.SGD", "Adam": "keras.Adam", "RMSProp": "keras.RMSprop"}
RESULTS = {
    "GradientDescent": [0.94, 0.95, 0.94], "keras.SGD": [0.94, 0.95, 0.94],
    "Adam": [0.96, 0.95, 0.95], "keras.Adam": [0.96, 0.95, 0.951],
    "RMSProp": [0.87, 0.86, 0.87], "keras.RMSprop": [0.94, 0.94, 0.93],
}
RIGHT = {"same_as_keras": {"GradientDescent", "Adam"}, "clear_winner": False}


@pytest.mark.parametrize("prediction,ok,words", [
    (RIGHT, True, ["same as Keras", "clear winner: False"]),
    (None, False, ["fill in your prediction"]),
    ({"same_as_keras": None, "clear_winner": None}, False, ["fill in your prediction"]),
    ({**RIGHT, "same_as_keras": {"GradientDescent", "Adam", "RMSProp"}}, False,
     ["you said RMSProp matches keras.RMSprop", "starts its mean square at 1.0"]),
    ({**RIGHT, "same_as_keras": {"Adam"}}, False, ["you left out GradientDescent", "w -= lr * g"]),
    ({**RIGHT, "same_as_keras": {"GradientDescent"}}, False, ["you left out Adam", "epsilon"]),
    ({**RIGHT, "clear_winner": True}, False, ["you expected a clear winner", "another seed"]),
    ({**RIGHT, "same_as_keras": "Adam"}, False, ["must be a set"]),
    ({**RIGHT, "same_as_keras": {"Lion"}}, False, ["not TF1 names"]),
    ({**RIGHT, "clear_winner": "yes"}, False, ["True or False"]),
])
def test_check_comparison_prediction(prediction, ok, words):
    fb = check_comparison_prediction(prediction, RESULTS, PAIRS)
    assert bool(fb) is ok, fb.message
    for w in words:
        assert w in fb.message, fb.message


def test_a_clear_winner_is_named_when_the_gap_is_large():
    results = {"A": [0.99, 0.99, 0.991], "B": [0.90, 0.901, 0.90], "C": [0.80, 0.80, 0.801]}
    v = verdict(results)
    assert v["best"] == "A" and v["runner_up"] == "B" and v["worst"] == "C"
    assert v["clear_winner"] and v["clear_worst"]
    fb = check_comparison_prediction({"same_as_keras": set(), "clear_winner": False}, results, {})
    assert not fb and "you expected no clear winner" in fb.message


def test_spread_is_the_pooled_seed_std():
    assert seed_spread({"a": [1.0, 3.0], "b": [2.0, 2.0]}) == pytest.approx(np.sqrt(1.0))
    with pytest.raises(ValueError, match="two seeds"):
        seed_spread({"a": [1.0]})
    assert "run the comparison" in check_comparison_prediction(RIGHT, {}, PAIRS).message

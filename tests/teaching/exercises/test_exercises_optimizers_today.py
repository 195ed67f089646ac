"""labkit.teaching.exercises.optimizers_today: the right prediction passes, each typical mistake gets its hint."""

import math

import numpy as np
import pytest

from labkit.teaching.exercises import optimizers_today as ex

RIGHT = {5: 0.0325, 60: 0.06, 150: 0.02}   # worked out by hand from SCHEDULE_EXERCISE


def test_exercise_constants_are_the_ones_worked_out_here():
    assert ex.SCHEDULE_EXERCISE == {"initial_learning_rate": 0.01, "warmup_target": 0.1,
                                    "warmup_steps": 20, "decay_steps": 80, "alpha": 0.2,
                                    "steps": (5, 60, 150)}


def test_reference_is_the_installed_keras_schedule_and_the_hand_values():
    ref = ex.schedule_reference()
    assert sorted(ref) == [5, 60, 150]
    for step, lr in RIGHT.items():
        assert ref[step] == pytest.approx(lr, abs=1e-7)


@pytest.mark.parametrize("answer", [RIGHT, [0.0325, 0.06, 0.02], (0.0325, 0.06, 0.02),
                                    np.array([0.0325, 0.06, 0.02]),
                                    {5: 0.03251, 60: 0.05999, 150: 0.02}])
def test_right_answer_passes(answer):
    fb = ex.check_schedule_prediction(answer)
    assert fb.ok, fb.message
    assert "step 60: 0.0600" in fb.message


def _cos(fraction, alpha=0.2):
    return (1 - alpha) * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha


# (step, wrong value worked out by hand, words the hint must contain)
MISTAKES = [
    (5, 0.025, "warmed up from 0"),
    (5, 0.1 * _cos(5 / 80), "skipped the warmup"),
    (5, 0.1, "where the warmup ends"),
    (60, 0.1 * _cos(60 / 80), "clock at 0"),
    (60, 0.04, "inside decay_steps"),
    (60, 0.05, "forgot alpha"),
    (60, 0.006, "decayed from initial_learning_rate"),
    (60, 0.2, "FRACTION"),
    (150, 0.0, "forgot alpha"),
    (150, 0.002, "decayed from initial_learning_rate"),
    (150, 0.1 * _cos(130 / 80), "clamps the step"),
    (150, 0.2, "FRACTION"),
    (150, 0.1, "not it: that step is past the end"),
    (60, 0.07, "not it: that step is in the cosine decay"),
    (5, 0.05, "not it: that step is in the warmup"),
]


@pytest.mark.parametrize("step,value,words", MISTAKES, ids=[f"{s}-{w}" for s, _, w in MISTAKES])
def test_each_mistake_gets_its_hint(step, value, words):
    answer = dict(RIGHT)
    answer[step] = value
    fb = ex.check_schedule_prediction(answer)
    assert not fb
    assert words in fb.message
    assert f"step {step}" in fb.message
    # only the wrong step is named
    for other in set(RIGHT) - {step}:
        assert f"step {other} " not in fb.message


def test_hints_add_up_for_several_wrong_steps():
    fb = ex.check_schedule_prediction({5: 0.025, 60: 0.05, 150: 0.0})
    assert not fb
    assert "warmed up from 0" in fb.message and fb.message.count("forgot alpha") == 2


def test_unanswered():
    fb = ex.check_schedule_prediction(None)
    assert not fb and "fill in your prediction" in fb.message
    partly = ex.check_schedule_prediction({5: 0.0325, 60: None, 150: 0.02})
    assert not partly and "step 60 has no prediction yet" in partly.message


@pytest.mark.parametrize("answer,error,words", [
    ("0.03, 0.06, 0.02", TypeError, "answer"),
    (0.06, TypeError, "answer"),
    ([0.03, 0.06], ValueError, "3 numbers"),
    ({5: 0.03, 60: 0.06}, ValueError, "Missing: [150]"),
    ({5: "0.03", 60: 0.06, 150: 0.02}, TypeError, "step 5"),
    ([True, 0.06, 0.02], TypeError, "step 5"),
])
def test_wrong_kind_of_answer(answer, error, words):
    with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
        ex.check_schedule_prediction(answer)

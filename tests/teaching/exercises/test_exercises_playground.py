"""labkit.teaching.exercises.playground: the l1-surface prediction, each named mistake."""

from types import SimpleNamespace

import numpy as np
import pytest

from labkit.teaching.exercises.playground import check_l1_prediction, first_step_near


def traj(points):
    points = np.asarray(points, float)
    return SimpleNamespace(points=points, final=points[-1])


TRAJS = {
    "GradientDescentOptimizer": traj([[1.5, 0.8], [0.6, 0.05], [0.505, -0.003]]),
    "AdamOptimizer": traj([[1.5, 0.8], [0.9, 0.3], [0.503, 0.03]]),
    "FtrlOptimizer": traj([[1.5, 0.8], [0.0, 0.0], [0.86, 0.0]]),
    "ProximalAdagradOptimizer": traj([[1.5, 0.8], [0.5, 0.0], [0.5, 0.0]]),
}
RIGHT = {"exact_zero": {"Ftrl", "ProximalAdagrad"}, "first_near_minimum": "ProximalAdagrad"}


@pytest.mark.parametrize("prediction,ok,words", [
    (RIGHT, True, ["ProximalAdagrad at step 1"]),
    ({"exact_zero": {"FtrlOptimizer", "ProximalAdagradOptimizer"},
      "first_near_minimum": "ProximalAdagradOptimizer"}, True, ["exact zeros"]),
    (None, False, ["fill in your prediction"]),
    ({"exact_zero": None, "first_near_minimum": None}, False, ["fill in your prediction"]),
    ({**RIGHT, "exact_zero": {"Ftrl", "ProximalAdagrad", "Adam"}}, False,
     ["you said Adam ends with y exactly 0", "sign(y)"]),
    ({**RIGHT, "exact_zero": {"ProximalAdagrad"}}, False, ["you left out Ftrl", "running sum"]),
    ({**RIGHT, "exact_zero": {"Ftrl"}}, False, ["you left out ProximalAdagrad", "soft-threshold"]),
    ({**RIGHT, "first_near_minimum": "GradientDescent"}, False,
     ["you picked GradientDescent", "step 2", "ProximalAdagrad got there at step 1"]),
    ({**RIGHT, "first_near_minimum": "Ftrl"}, False, ["never came within 0.01"]),
    ({**RIGHT, "exact_zero": "Ftrl"}, False, ["must be a set"]),
    ({**RIGHT, "exact_zero": {"Lion"}}, False, ["not one of the optimizers that ran"]),
    ({**RIGHT, "first_near_minimum": "Lion"}, False, ["must be one of"]),
])
def test_check_l1_prediction(prediction, ok, words):
    fb = check_l1_prediction(prediction, TRAJS)
    assert bool(fb) is ok, fb.message
    for w in words:
        assert w in fb.message


def test_needs_trajectories_and_finds_the_first_step():
    assert "run the l1 trajectories" in check_l1_prediction(RIGHT, {}).message
    assert first_step_near(np.array([[1.0, 1.0], [0.505, 0.0], [0.5, 0.0]])) == 1
    assert first_step_near(np.array([[1.0, 1.0]])) is None

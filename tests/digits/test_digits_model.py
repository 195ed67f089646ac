"""labkit.digits.model: the small MLP trained through compute_gradients/apply_gradients."""

import numpy as np
import pytest
import tensorflow as tf

import labkit.train as train
from labkit.data import load_digits
from labkit.digits.model import build_mlp, evaluate, make_train_step
from labkit.seeding import seed_everything


def test_same_seed_same_weights():
    a, b = build_mlp(seed=3), build_mlp(seed=3)
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)
    assert build_mlp(hidden=(8, 4)).count_params() == 64 * 8 + 8 + 8 * 4 + 4 + 4 * 10 + 10


@pytest.mark.parametrize("make_opt", [
    lambda: train.AdamOptimizer(0.01),
    lambda: tf.compat.v1.train.AdamOptimizer(0.01),
])
def test_training_lowers_the_loss(make_opt):
    seed_everything(0)
    data = load_digits()
    model = build_mlp(seed=0)
    step = make_train_step(model, make_opt(), clip_norm=5.0)
    before, _ = evaluate(model, data.x_test, data.y_test)
    x, y = data.x_train[:256], data.y_train[:256]
    losses = [float(step(x, y)) for _ in range(40)]
    after, acc = evaluate(model, data.x_test, data.y_test)
    assert losses[-1] < losses[0]
    assert after < before
    assert acc > 0.5


def test_labkit_and_tf1_give_the_same_steps():
    data = load_digits()
    x, y = data.x_train[:64], data.y_train[:64]
    out = []
    for opt in (train.MomentumOptimizer(0.1, 0.9), tf.compat.v1.train.MomentumOptimizer(0.1, 0.9)):
        model = build_mlp(seed=1)
        step = make_train_step(model, opt)
        out.append([float(step(x, y)) for _ in range(3)])
    np.testing.assert_allclose(out[0], out[1], rtol=1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="hidden"):
        build_mlp(hidden=(0,))
    with pytest.raises(TypeError, match="optimizer"):
        make_train_step(build_mlp(), object())
    with pytest.raises(ValueError, match="clip_norm"):
        make_train_step(build_mlp(), train.AdamOptimizer(), clip_norm=-1)
    with pytest.raises(ValueError, match="x"):
        evaluate(build_mlp(), np.zeros((3, 64)), np.zeros(2))

"""labkit.teaching.exercises.optimizers: right answers pass, typical mistakes get specific hints."""

import numpy as np
import pytest

from labkit.teaching.exercises import optimizers as ex

W, G = ex.ADAGRAD_EXERCISE["w"].astype(float), ex.ADAGRAD_EXERCISE["g"].astype(float)
LR, N0 = ex.ADAGRAD_EXERCISE["learning_rate"], ex.ADAGRAD_EXERCISE["initial_accumulator_value"]


def test_adagrad_right_answer_passes():
    assert ex.check_adagrad_step(W - LR * G / np.sqrt(N0 + G * G))


@pytest.mark.parametrize("answer,words", [
    (W - LR * G / np.sqrt(G * G), "initial accumulator 0.1"),
    (W - LR * G / np.sqrt(N0), "old accumulator"),
    (W - LR * G / (N0 + G * G), "square root"),
    (W + LR * G / np.sqrt(N0 + G * G), "uphill"),
    (W - LR * G, "plain gradient-descent"),
    (W + 1.0, "element"),
    (None, "Compute"),
])
def test_adagrad_mistakes_get_specific_hints(answer, words):
    fb = ex.check_adagrad_step(answer)
    assert not fb
    assert words in fb.message


def test_adagrad_bad_type():
    with pytest.raises(TypeError, match="answer"):
        ex.check_adagrad_step("1, 2")
    with pytest.raises(ValueError, match="2 numbers"):
        ex.check_adagrad_step([1.0, 2.0, 3.0])


def test_momentum_overshoot():
    assert ex.check_momentum_overshoot(0.1, 0.9)
    low = ex.check_momentum_overshoot(0.05, 0.1)
    assert not low and "raise momentum" in low.message
    slow = ex.check_momentum_overshoot(0.0001, 0.9)
    assert not slow and "learning rate" in slow.message
    blow = ex.check_momentum_overshoot(5.0, 0.9)
    assert not blow and "blows up" in blow.message
    with pytest.raises(ValueError, match="momentum"):
        ex.check_momentum_overshoot(0.1, 1.5)


# --- Predict Keras Adam's first step (03b) ---------------------------------------------------
AW, AG = ex.ADAM_EXERCISE["w"].astype(float), ex.ADAM_EXERCISE["g"].astype(float)
ALR, B1, B2, EPS = ex.ADAM_EXERCISE["learning_rate"], 0.9, 0.999, 1e-7
_M, _V = (1 - B1) * AG, (1 - B2) * AG * AG
_ALPHA = ALR * np.sqrt(1 - B2) / (1 - B1)
ADAM_RIGHT = -_ALPHA * _M / (np.sqrt(_V) + EPS)


def test_adam_reference_is_the_epsilon_hat_formula():
    """The live Keras run equals the formula the checker explains (epsilon hat, float32)."""
    assert np.allclose(ex.adam_first_step_reference(), ADAM_RIGHT, rtol=1e-3, atol=1e-6)
    assert abs(ADAM_RIGHT[2]) < 0.05 * ALR   # the tiny gradient moves 3% of the others: the point


@pytest.mark.parametrize("answer", [ADAM_RIGHT, np.round(ADAM_RIGHT, 4), [-0.1, 0.1, -0.0031]])
def test_adam_right_answers_pass(answer):
    assert ex.check_adam_first_step(answer)


@pytest.mark.parametrize("answer,words", [
    (None, "Fill in predicted_change"),
    (AW + ADAM_RIGHT, "new weights"),
    (-ALR * np.sign(AG), "left epsilon out"),
    (-ALR * (_M / (1 - B1)) / (np.sqrt(_V / (1 - B2)) + EPS), "Algorithm 1"),
    (-_ALPHA * _M / np.sqrt(_V + EPS), "inside the square root"),
    (-ALR * _M / (np.sqrt(_V) + EPS), "bias correction"),
    (-ALR * AG, "gradient descent's step"),
    (-ADAM_RIGHT, "wrong sign"),
    ([-0.1, 0.1, 0.5], "element 2"),
])
def test_adam_mistakes_get_specific_hints(answer, words):
    fb = ex.check_adam_first_step(answer)
    assert not fb
    assert words in fb.message


def test_adam_bad_type():
    with pytest.raises(TypeError, match="answer"):
        ex.check_adam_first_step("0.1")
    with pytest.raises(ValueError, match="3 numbers"):
        ex.check_adam_first_step([0.1, 0.1])


# --- Where does each library put epsilon? (03b) ----------------------------------------------
EPS_TRUTH = {"TF1 Adagrad": "none", "Keras Adagrad": "inside", "TF1 RMSProp": "inside",
             "Keras RMSprop": "inside", "TF1 Adam": "outside", "Keras Adam": "outside"}


def test_epsilon_placement_is_measured():
    assert ex.epsilon_placement() == EPS_TRUTH


def test_epsilon_right_answer_passes():
    fb = ex.check_epsilon_placement(dict(EPS_TRUTH))
    assert fb and "all six" in fb.message


@pytest.mark.parametrize("key,said,words", [
    ("TF1 Adagrad", "inside", "no epsilon argument"),
    ("TF1 Adagrad", "outside", "no epsilon argument"),
    ("Keras Adagrad", "outside", "sqrt(accumulator + epsilon)"),
    ("Keras Adagrad", "none", "sqrt(accumulator + epsilon)"),
    ("TF1 RMSProp", "outside", "sqrt(mean_square + epsilon)"),
    ("Keras RMSprop", "outside", "starting average"),
    ("Keras RMSprop", "none", "sqrt(velocity + epsilon)"),
    ("TF1 Adam", "inside", "epsilon hat"),
    ("Keras Adam", "inside", "ops.add(ops.sqrt(v), self.epsilon)"),
    ("Keras Adam", "none", "after the square root"),
])
def test_epsilon_mistakes_name_the_class(key, said, words):
    answer = dict(EPS_TRUTH, **{key: said})
    fb = ex.check_epsilon_placement(answer)
    assert not fb
    assert fb.message.startswith(f"{key}: you said")
    assert words in fb.message


def test_epsilon_incomplete_or_malformed():
    fb = ex.check_epsilon_placement(None)
    assert not fb and "six keys" in fb.message
    partial = {k: v for k, v in EPS_TRUTH.items() if k != "TF1 Adam"}
    fb = ex.check_epsilon_placement(partial)
    assert not fb and "TF1 Adam" in fb.message
    fb = ex.check_epsilon_placement(dict(EPS_TRUTH, **{"Keras Adam": "after"}))
    assert not fb and "'inside', 'outside' or 'none'" in fb.message
    several = dict(EPS_TRUTH, **{"TF1 Adam": "inside", "Keras Adam": "inside"})
    assert "2 of 6" in ex.check_epsilon_placement(several).message
    with pytest.raises(TypeError, match="answer"):
        ex.check_epsilon_placement(["inside"])


@pytest.mark.parametrize("lr,mu,error,words", [
    (0.0, 0.9, ValueError, "learning_rate"),
    (-0.1, 0.9, ValueError, "learning_rate"),
    (float("nan"), 0.9, ValueError, "learning_rate"),
    (0.1, 1.0, ValueError, "momentum"),
    (0.1, -0.1, ValueError, "momentum"),
    ("0.1", 0.9, TypeError, "learning_rate"),
    (0.1, True, TypeError, "momentum"),
])
def test_momentum_overshoot_refuses_bad_hyperparameters(lr, mu, error, words):
    with pytest.raises(error, match=words):
        ex.check_momentum_overshoot(lr, mu)


def test_momentum_zero_is_allowed():
    fb = ex.check_momentum_overshoot(0.1, 0.0)
    assert not fb and "raise momentum" in fb.message

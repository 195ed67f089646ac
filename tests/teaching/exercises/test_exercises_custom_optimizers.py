"""labkit.teaching.exercises.custom_optimizers: the two exercises of notebooks/08_custom_optimizers."""

import importlib.util
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from labkit.teaching.exercises.custom_optimizers import (
    EXERCISE_GRADIENTS,
    amsgrad_reference,
    check_amsgrad,
    check_clip_prediction,
)

ROOT = Path(__file__).resolve().parents[3]


def _solution_module():
    path = ROOT / "notebooks/solutions/08_custom_optimizers.py"
    spec = importlib.util.spec_from_file_location("solution_08", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _variant(**changes):
    """The solution's AMSGrad with one mistake built in."""
    base = _solution_module().AMSGrad

    class Wrong(base):
        def build(self, var_list):
            if self.built:
                return
            if not changes.get("no_super_build"):
                keras.optimizers.Optimizer.build(self, var_list)
            self.m = [self.add_variable_from_reference(v, "m") for v in var_list]
            self.v = [self.add_variable_from_reference(v, "v") for v in var_list]
            if not changes.get("no_vhat"):
                self.vhat = [self.add_variable_from_reference(v, "vhat") for v in var_list]
            if changes.get("no_super_build"):
                self.built = True

        def update_step(self, gradient, variable, learning_rate):
            i = self._get_variable_index(variable)
            m, v = self.m[i], self.v[i]
            lr = tf.cast(learning_rate, variable.dtype)
            g = tf.cast(gradient, variable.dtype)
            t = tf.cast(self.iterations + changes.get("t_offset", 1), variable.dtype)
            self.assign(m, m + (g - m) * (1 - self.beta_1))
            self.assign(v, v + (tf.square(g) - v) * (1 - self.beta_2))
            if changes.get("no_vhat") or changes.get("no_max"):
                vhat = v
            else:
                vhat = self.vhat[i]
                self.assign(vhat, tf.maximum(vhat, tf.square(g) if changes.get("max_of_g2") else v))
            if changes.get("paper"):
                mhat = m / (1 - self.beta_1 ** t)
                vh = vhat / (1 - self.beta_2 ** t)
                step = lr * mhat / (tf.sqrt(vh) + self.epsilon)
            else:
                alpha = lr if changes.get("no_bias") else lr * tf.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
                denom = tf.sqrt(vhat + self.epsilon) if changes.get("eps_inside") else tf.sqrt(vhat) + self.epsilon
                step = alpha * m / denom
            if changes.get("no_update"):
                return
            if changes.get("plus"):
                self.assign_add(variable, step)
            else:
                self.assign_sub(variable, step)

    return Wrong


def test_reference_is_keras_adam_amsgrad():
    w = tf.Variable(np.array([1.0, -2.0, 0.5], np.float32))
    opt = keras.optimizers.Adam(learning_rate=0.1, beta_1=0.9, beta_2=0.99, epsilon=1e-3, amsgrad=True)
    ref = amsgrad_reference(EXERCISE_GRADIENTS, [1.0, -2.0, 0.5])
    for t, g in enumerate(EXERCISE_GRADIENTS):
        opt.apply_gradients([(tf.constant(g), w)])
        np.testing.assert_allclose(w.numpy(), ref[t]["var"], rtol=2e-5, atol=1e-6)


def test_reference_differs_from_adam_on_the_exercise_gradients():
    ams = amsgrad_reference(EXERCISE_GRADIENTS, np.zeros(3))
    adam = amsgrad_reference(EXERCISE_GRADIENTS, np.zeros(3), use_max=False)
    assert np.allclose(ams[1]["var"], adam[1]["var"])
    assert not np.allclose(ams[-1]["var"], adam[-1]["var"], rtol=1e-3)
    assert all(np.all(ams[t]["vhat"] >= ams[t - 1]["vhat"]) for t in range(1, len(ams)))


def test_reference_without_max_is_keras_adam():
    w = tf.Variable(np.array([1.0, -2.0, 0.5], np.float32))
    opt = keras.optimizers.Adam(learning_rate=0.1, beta_1=0.9, beta_2=0.99, epsilon=1e-3)
    for g in EXERCISE_GRADIENTS:
        opt.apply_gradients([(tf.constant(g), w)])
    ref = amsgrad_reference(EXERCISE_GRADIENTS, [1.0, -2.0, 0.5], use_max=False)
    np.testing.assert_allclose(w.numpy(), ref[-1]["var"], rtol=2e-5)


def test_solution_passes():
    fb = check_amsgrad(_solution_module().AMSGrad)
    assert fb.ok, fb.message


@pytest.mark.parametrize("changes, expected", [
    ({"no_max": True}, "plain Adam"),
    ({"no_vhat": True}, "build() created 2 state variables"),
    ({"max_of_g2": True}, "maximum of g**2"),
    ({"no_bias": True}, "no bias correction"),
    ({"t_offset": 0}, "t starts at 0"),
    ({"t_offset": 2}, "one too large"),
    ({"eps_inside": True}, "inside the square root"),
    ({"paper": True}, "Algorithm 1"),
    ({"plus": True}, "uphill"),
    ({"no_update": True}, "did not change"),
    ({"no_super_build": True}, "super().build(var_list)"),
])
def test_mistakes_get_specific_hints(changes, expected):
    fb = check_amsgrad(_variant(**changes))
    assert not fb.ok
    assert expected in fb.message, fb.message


def test_unanswered_and_wrong_kinds():
    assert "define your class" in check_amsgrad(None).message
    assert "not as a subclass of Adam" in check_amsgrad(keras.optimizers.Adam).message
    assert "must subclass keras.optimizers.Optimizer" in check_amsgrad(dict).message

    class Scaffold(keras.optimizers.Optimizer):
        def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)

        def build(self, var_list):
            super().build(var_list)

        def update_step(self, gradient, variable, learning_rate):
            raise NotImplementedError("AMSGrad.update_step")

    assert "not written yet" in check_amsgrad(Scaffold).message

    class NoHyper(keras.optimizers.Optimizer):
        pass

    assert "__init__ must accept" in check_amsgrad(NoHyper).message
    with pytest.raises(TypeError, match="Received: optimizer_class="):
        check_amsgrad(_solution_module().AMSGrad())


@pytest.mark.parametrize("prediction, expected", [
    ({"clipnorm": True, "global_clipnorm": False}, None),
    (None, "fill in your prediction first"),
    ({"clipnorm": None, "global_clipnorm": False}, "fill in True or False for 'clipnorm'"),
    ({"clipnorm": "yes", "global_clipnorm": False}, "answer with True or False"),
    ({"clipnorm": True}, "exactly the keys"),
    ({"clipnorm": False, "global_clipnorm": False}, "clipnorm does reproduce the loop"),
    ({"clipnorm": True, "global_clipnorm": True}, "global_clipnorm does not"),
    ({"clipnorm": False, "global_clipnorm": True}, "one common factor"),
])
def test_clip_prediction(prediction, expected):
    fb = check_clip_prediction(prediction)
    if expected is None:
        assert fb.ok, fb.message
    else:
        assert not fb.ok and expected in fb.message, fb.message


def test_clip_answer_is_what_keras_does():
    """The answer the checker accepts is what the installed Keras computes."""
    def one_sgd_step(**clip):
        a, c = tf.Variable([3.0, 4.0]), tf.Variable(1.0)
        with tf.GradientTape() as tape:
            loss = 5 * tf.reduce_sum(a * a) + c * c
        grads = tape.gradient(loss, [a, c])
        if not clip:
            grads = [tf.clip_by_norm(g, 5) for g in grads]
        keras.optimizers.SGD(1.0, **clip).apply_gradients(zip(grads, [a, c], strict=True))
        return np.concatenate([a.numpy(), [c.numpy()]])

    manual = one_sgd_step()
    answer = {"clipnorm": bool(np.array_equal(one_sgd_step(clipnorm=5), manual)),
              "global_clipnorm": bool(np.array_equal(one_sgd_step(global_clipnorm=5), manual))}
    assert check_clip_prediction(answer).ok
    assert check_clip_prediction(_solution_module().prediction).ok

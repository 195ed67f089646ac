"""labkit.teaching.exercises.minimize: the predict-then-check exercise of notebooks/06_minimize."""

import pytest

from labkit.teaching.exercises.minimize import EXERCISE, check_minimize_prediction, minimize_answer


def test_answer_is_the_hand_computation():
    assert minimize_answer() == {"w": 0.81, "b": 1.0, "iterations": 2}
    assert EXERCISE["steps"] == 2


def test_answer_matches_tensorflow():
    import keras
    import tensorflow as tf

    w, b = tf.Variable(EXERCISE["w0"]), tf.Variable(EXERCISE["b0"])
    opt = keras.optimizers.SGD(learning_rate=EXERCISE["learning_rate"])
    for _ in range(EXERCISE["steps"]):
        with tf.GradientTape() as tape:
            loss = w * w + b * b
        grads = tape.gradient(loss, [w], output_gradients=tf.constant(EXERCISE["output_gradient"]))
        opt.apply_gradients(zip(grads, [w], strict=True))
    right = minimize_answer()
    assert abs(float(w.numpy()) - right["w"]) < 1e-6
    assert float(b.numpy()) == right["b"] and int(opt.iterations.numpy()) == right["iterations"]
    assert check_minimize_prediction({"w": float(w.numpy()), "b": float(b.numpy()),
                                      "iterations": int(opt.iterations.numpy())}).ok


@pytest.mark.parametrize("prediction, expected", [
    ({"w": 0.81, "b": 1.0, "iterations": 2}, None),
    ({"w": 0.8100004, "b": 1, "iterations": 2.0}, None),
    (None, "fill in your prediction first"),
    ({"w": None, "b": 1.0, "iterations": None}, "'w', 'iterations'"),
    ([0.81, 1.0, 2], "must be a dict"),
    ({"w": "big", "b": 1.0, "iterations": 2}, "must be a number"),
    ({"w": 0.64, "b": 1.0, "iterations": 2}, "without output_gradients"),
    ({"w": 0.9025, "b": 1.0, "iterations": 2}, "dropped the 2 of d(w*w)/dw"),
    ({"w": 0.9, "b": 1.0, "iterations": 2}, "is one step"),
    ({"w": 0.8, "b": 1.0, "iterations": 2}, "is one step"),
    ({"w": 1.0, "b": 1.0, "iterations": 2}, "w does move"),
    ({"w": 0.5, "b": 1.0, "iterations": 2}, "is not right"),
    ({"w": 0.81, "b": 0.81, "iterations": 2}, "b is not in the list given to tape.gradient"),
    ({"w": 0.81, "b": 1.0, "iterations": 4}, "counts apply_gradients calls"),
    ({"w": 0.64, "b": 0.64, "iterations": 4}, "without output_gradients"),
])
def test_checker_names_each_mistake(prediction, expected):
    fb = check_minimize_prediction(prediction)
    if expected is None:
        assert fb.ok, fb.message
    else:
        assert not fb.ok and expected in fb.message, fb.message


def test_several_mistakes_are_all_named():
    fb = check_minimize_prediction({"w": 0.64, "b": 0.64, "iterations": 4})
    assert "output_gradients" in fb.message and "var_list" in fb.message and "iterations" in fb.message

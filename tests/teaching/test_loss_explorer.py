"""labkit.teaching.loss_explorer: the loss/gradient function against TensorFlow, and the widget."""

import numpy as np
import pytest
import tensorflow as tf

from labkit.seeding import seed_everything
from labkit.teaching.loss_explorer import LossExplorer, cross_entropy_with_gradient, smoothed_target

CASES = [
    ([2.0, 1.0, 0.1], 0, 0.0),
    ([2.0, 1.0, 0.1, -1.0], 3, 0.1),
    ([-4.5, 4.5], 1, 0.5),
    ([0.0, 0.0, 0.0, 0.0, 0.0], 2, 1.0),
    ([30.0, -30.0, 0.0], 1, 0.2),  # extreme logits: must stay finite
]


@pytest.mark.parametrize("logits,label,smoothing", CASES)
def test_loss_and_gradient_match_tensorflow(logits, label, smoothing):
    seed_everything(0)
    point = cross_entropy_with_gradient(logits, label, smoothing)
    z = tf.Variable(np.array([logits], dtype=np.float64))
    onehot = tf.one_hot([label], len(logits), dtype=tf.float64)
    with tf.GradientTape() as tape:
        tf1 = tf.compat.v1.losses.softmax_cross_entropy(onehot, z, label_smoothing=smoothing)
    grad = tape.gradient(tf1, z).numpy()[0]
    keras = tf.keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing)(
        onehot, z
    )
    assert np.isfinite(point.loss)
    assert point.loss == pytest.approx(float(tf1), rel=1e-6, abs=1e-6)
    assert point.loss == pytest.approx(float(keras), rel=1e-6, abs=1e-6)
    np.testing.assert_allclose(point.grad, grad, atol=1e-6)
    np.testing.assert_allclose(point.probs.sum(), 1.0)
    np.testing.assert_allclose(point.target.sum(), 1.0)


def test_docstring_example_value():
    assert round(cross_entropy_with_gradient([2.0, 1.0, 0.1], label=0).loss, 4) == 0.417


def test_smoothing_moves_target_and_gradient():
    sharp = cross_entropy_with_gradient([3.0, 0.0, 0.0], 0, 0.0)
    smooth = cross_entropy_with_gradient([3.0, 0.0, 0.0], 0, 0.3)
    np.testing.assert_allclose(smooth.target, [0.8, 0.1, 0.1])
    # a confident right answer: the smoothed target pushes the true logit DOWN (gradient > 0)
    assert sharp.grad[0] < 0 < smooth.grad[0]


def test_smoothed_target_formula():
    np.testing.assert_allclose(smoothed_target(1, 4, 0.2), [0.05, 0.85, 0.05, 0.05])


@pytest.mark.parametrize(
    "kwargs,exc,word",
    [
        (dict(logits=[1.0], label=0), ValueError, "logits"),
        (dict(logits=[[1.0, 2.0]], label=0), ValueError, "logits"),
        (dict(logits=[1.0, float("nan")], label=0), ValueError, "logits"),
        (dict(logits=["a", "b"], label=0), TypeError, "logits"),
        (dict(logits=[1.0, 2.0], label=2), ValueError, "label=2"),
        (dict(logits=[1.0, 2.0], label=1.0), TypeError, "label"),
        (dict(logits=[1.0, 2.0], label=True), TypeError, "label"),
        (dict(logits=[1.0, 2.0], label=0, label_smoothing=1.5), ValueError, "label_smoothing=1.5"),
        (dict(logits=[1.0, 2.0], label=0, label_smoothing="0.1"), TypeError, "label_smoothing"),
    ],
)
def test_bad_input_names_argument(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        cross_entropy_with_gradient(**kwargs)


def test_widget_updates_on_slider_moves():
    explorer = LossExplorer([2.0, 1.0, 0.1, -1.0], label=0)
    redraws = explorer.plot.redraws
    before = explorer.point.loss
    explorer.logit_sliders[1].value = 4.0
    assert explorer.plot.redraws == redraws + 1
    assert explorer.point.loss == pytest.approx(
        cross_entropy_with_gradient([2.0, 4.0, 0.1, -1.0], 0).loss
    )
    assert explorer.point.loss > before
    explorer.smoothing_slider.value = 0.5
    explorer.label_picker.value = 1
    assert explorer.point.label == 1
    assert explorer.point.label_smoothing == pytest.approx(0.5)
    assert f"{explorer.point.loss:.4f}" in explorer.readout.value
    # bars on the plot are the probabilities, the target and the gradient
    left, right = explorer.plot.axes[0, 0], explorer.plot.axes[0, 1]
    heights = [p.get_height() for p in left.patches]
    np.testing.assert_allclose(heights[:4], explorer.point.probs)
    np.testing.assert_allclose(heights[4:], explorer.point.target)
    np.testing.assert_allclose([p.get_height() for p in right.patches], explorer.point.grad)
    assert explorer.widget is not None


def test_widget_speaks_the_kernels_language():
    from labkit import i18n

    try:
        i18n.set_language("zh_CN")
        explorer = LossExplorer([2.0, 1.0, 0.1], label=0)
        assert explorer.label_picker.description == "真实类别"
        assert explorer.smoothing_slider.description == "标签平滑"
        assert "<b>损失</b>" in explorer.readout.value
        assert f"{explorer.point.loss:.4f}" in explorer.readout.value
    finally:
        i18n.set_language(None)
    assert LossExplorer([2.0, 1.0, 0.1], label=0).label_picker.description == "true class"


def test_widget_rejects_bad_limit_and_logits():
    with pytest.raises(ValueError, match="limit"):
        LossExplorer(limit=0)
    with pytest.raises(ValueError, match="logits"):
        LossExplorer([9.0, 0.0], limit=5.0)

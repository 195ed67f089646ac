"""Softmax cross-entropy on one example: loss, gradient and label smoothing, live.

Introduced in notebooks/02_losses.ipynb. ``cross_entropy_with_gradient`` is the plain
function (NumPy, float64) the notebook calls first; ``LossExplorer`` wires it to sliders
and draws the bars with :class:`labkit.teaching.plots.LivePlot`.

The maths, for logits ``z`` (``K`` classes), integer label ``c`` and smoothing ``s``::

    target_k = (1 - s) * [k == c] + s / K          # what tf.compat.v1.losses and Keras do
    p_k      = softmax(z)_k
    loss     = -sum_k target_k * log p_k
    dloss/dz = p - target                           # the bars the widget draws
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from labkit.i18n import _
from labkit.teaching.plots import LivePlot


@dataclass(frozen=True)
class LossPoint:
    """Everything about one softmax cross-entropy evaluation.

    Attributes:
        logits: the logits ``z`` (float64, shape ``(K,)``).
        label: the true class ``c``.
        label_smoothing: the smoothing ``s`` in ``[0, 1]``.
        target: the smoothed one-hot target.
        probs: ``softmax(z)``.
        loss: the cross-entropy ``-sum(target * log(probs))``.
        grad: the gradient of ``loss`` with respect to the logits, ``probs - target``.
    """

    logits: np.ndarray
    label: int
    label_smoothing: float
    target: np.ndarray
    probs: np.ndarray
    loss: float
    grad: np.ndarray


def _check_logits(logits: Sequence[float] | np.ndarray) -> np.ndarray:
    try:
        z = np.asarray(logits, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"`logits` must be a sequence of numbers. Received: logits={logits!r}") from err
    if z.ndim != 1 or z.size < 2:
        raise ValueError(
            f"`logits` must be one-dimensional with at least 2 classes. Received: logits={logits!r}"
        )
    if not np.all(np.isfinite(z)):
        raise ValueError(f"`logits` must be finite. Received: logits={logits!r}")
    return z


def _check_label(label: int, num_classes: int) -> int:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
        raise TypeError(f"`label` must be an integer class index. Received: label={label!r}")
    if not 0 <= int(label) < num_classes:
        raise ValueError(
            f"`label` must be in [0, {num_classes}) for {num_classes} logits. Received: label={label!r}"
        )
    return int(label)


def _check_smoothing(label_smoothing: float) -> float:
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float, np.floating)):
        raise TypeError(
            f"`label_smoothing` must be a number in [0, 1]. Received: label_smoothing={label_smoothing!r}"
        )
    if not 0.0 <= float(label_smoothing) <= 1.0:
        raise ValueError(
            f"`label_smoothing` must be in [0, 1]. Received: label_smoothing={label_smoothing!r}"
        )
    return float(label_smoothing)


def smoothed_target(label: int, num_classes: int, label_smoothing: float = 0.0) -> np.ndarray:
    """The one-hot target of ``label`` after label smoothing: ``(1 - s) * one_hot + s / K``.

    Introduced in notebooks/02_losses.ipynb. This is the formula both
    ``tf.compat.v1.losses.softmax_cross_entropy(label_smoothing=s)`` and
    ``tf.keras.losses.CategoricalCrossentropy(label_smoothing=s)`` apply.

    Args:
        label: the true class, an integer in ``[0, num_classes)``.
        num_classes: ``K``, at least 2.
        label_smoothing: ``s`` in ``[0, 1]``.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"`num_classes` must be an integer >= 2. Received: num_classes={num_classes!r}")
    label = _check_label(label, int(num_classes))
    s = _check_smoothing(label_smoothing)
    target = np.full(int(num_classes), s / num_classes, dtype=np.float64)
    target[label] += 1.0 - s
    return target


def cross_entropy_with_gradient(
    logits: Sequence[float] | np.ndarray, label: int, label_smoothing: float = 0.0
) -> LossPoint:
    """Softmax cross-entropy of one example and its gradient with respect to the logits.

    Introduced in notebooks/02_losses.ipynb (the loss explorer widget calls it on every
    slider move). Computed in float64 with a numerically stable log-softmax.

    Args:
        logits: ``K >= 2`` finite numbers (the model's raw outputs, *not* probabilities).
        label: the true class, an integer in ``[0, K)``.
        label_smoothing: ``s`` in ``[0, 1]``; the target becomes ``(1 - s) * one_hot + s / K``.

    Returns:
        A :class:`LossPoint` with the target, the probabilities, the loss and the gradient
        ``probs - target``.

    Example::

        >>> point = cross_entropy_with_gradient([2.0, 1.0, 0.1], label=0)
        >>> round(point.loss, 4)
        0.417
    """
    z = _check_logits(logits)
    target = smoothed_target(label, z.size, label_smoothing)
    shifted = z - z.max()
    log_probs = shifted - np.log(np.exp(shifted).sum())
    probs = np.exp(log_probs)
    loss = float(-(target * log_probs).sum())
    return LossPoint(
        logits=z,
        label=int(label),
        label_smoothing=float(label_smoothing),
        target=target,
        probs=probs,
        loss=loss,
        grad=probs - target,
    )


class LossExplorer:
    """Sliders for the logits and the label smoothing; bars for probabilities and gradient.

    Introduced in notebooks/02_losses.ipynb. Every change calls
    :func:`cross_entropy_with_gradient` and redraws one :class:`labkit.teaching.plots.LivePlot`
    in place: left, the probabilities beside the (smoothed) target; right, the gradient
    ``dloss/dlogits``. The loss is printed above the plot.

    Args:
        logits: the starting logits (one slider each, range ``[-limit, limit]``).
        label: the starting true class.
        label_smoothing: the starting smoothing.
        limit: the slider range for the logits, a positive number.

    Example::

        explorer = LossExplorer([2.0, 1.0, 0.1, -1.0], label=0)
        explorer.logit_sliders[1].value = 3.0   # the plot and explorer.point update
        explorer                                # in a notebook cell: shows the widget
    """

    def __init__(
        self,
        logits: Sequence[float] = (2.0, 1.0, 0.1, -1.0),
        label: int = 0,
        label_smoothing: float = 0.0,
        limit: float = 5.0,
    ) -> None:
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit > 0:
            raise ValueError(f"`limit` must be a positive number. Received: limit={limit!r}")
        z = _check_logits(logits)
        if np.any(np.abs(z) > limit):
            raise ValueError(f"`logits` must lie within [-{limit}, {limit}]. Received: logits={logits!r}")
        self.point = cross_entropy_with_gradient(z, label, label_smoothing)

        import ipywidgets as widgets

        self.logit_sliders = [
            widgets.FloatSlider(
                value=float(v), min=-limit, max=limit, step=0.1, description=_("logit {k}").format(k=k),
                continuous_update=True, readout_format=".1f",
            )
            for k, v in enumerate(z)
        ]
        self.label_picker = widgets.Dropdown(
            options=list(range(z.size)), value=int(label), description=_("true class")
        )
        self.smoothing_slider = widgets.FloatSlider(
            value=float(label_smoothing), min=0.0, max=1.0, step=0.05,
            description=_("smoothing"), readout_format=".2f",
        )
        self.readout = widgets.HTML()
        self.plot = LivePlot(nrows=1, ncols=2, figsize=(8.0, 3.0))
        for control in (*self.logit_sliders, self.label_picker, self.smoothing_slider):
            control.observe(self._on_change, names="value")
        self.update()

    def _on_change(self, _change: dict) -> None:
        self.update()

    def update(self) -> LossPoint:
        """Recompute from the controls' values, redraw the bars, and return the new point."""
        self.point = cross_entropy_with_gradient(
            [s.value for s in self.logit_sliders], self.label_picker.value, self.smoothing_slider.value
        )
        self._draw()
        self.readout.value = (
            _("<b>loss</b> = {loss:.4f} &nbsp; <b>p(true class)</b> = {p_true:.3f} &nbsp; "
              "<b>|gradient|</b> = {norm:.3f}").format(
                loss=self.point.loss, p_true=self.point.probs[self.point.label],
                norm=np.linalg.norm(self.point.grad))
        )
        return self.point

    def _draw(self) -> None:
        p = self.point
        k = np.arange(p.logits.size)
        left, right = self.plot.axes[0, 0], self.plot.axes[0, 1]
        self.plot.clear()
        width = 0.4
        left.bar(k - width / 2, p.probs, width, label="softmax(logits)", color="#1f77b4")
        left.bar(k + width / 2, p.target, width, label="target", color="#7f7f7f")
        left.set_ylim(0, 1.05)
        left.set_xticks(k)
        left.set_xlabel("class")
        left.set_title(f"loss = {p.loss:.3f}")
        left.legend(fontsize="small")
        colours = ["#d62728" if g > 0 else "#2ca02c" for g in p.grad]
        right.bar(k, p.grad, 0.6, color=colours)
        right.axhline(0, color="black", lw=0.8)
        right.set_ylim(-1.05, 1.05)
        right.set_xticks(k)
        right.set_xlabel("class")
        right.set_title("gradient dloss/dlogit (= p - target)")
        self.plot.redraw()

    @property
    def widget(self):
        """The whole explorer as one ``ipywidgets.VBox``."""
        import ipywidgets as widgets

        return widgets.VBox(
            [
                widgets.HBox([widgets.VBox(self.logit_sliders),
                              widgets.VBox([self.label_picker, self.smoothing_slider])]),
                self.readout,
                self.plot.widget,
            ]
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

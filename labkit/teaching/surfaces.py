"""2-D test surfaces for the optimizer playground (introduced in notebooks/04_playground.ipynb).

Each ``Surface`` has its function written in TensorFlow (so the real ``labkit.train``
optimizers can differentiate it), its known minima, a plot window and a start point.

The ``l1`` surface is special: its objective is ``smooth(x, y) + l1 * (|x| + |y|)``. Optimizers
with an ``l1_regularization_strength`` (Ftrl, ProximalGradientDescent, ProximalAdagrad,
AdagradDA) handle the ``|.|`` part themselves with a proximal step and land on *exact* zeros;
the others only see its subgradient ``sign(.)`` and keep hopping around zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

__all__ = ["Surface", "SURFACES", "get_surface", "surface_names"]


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface.

    Introduced in notebooks/04_playground.ipynb.

    Attributes:
        name: short key ("quadratic", "rosenbrock", "beale", "saddle", "l1").
        title: human-readable title for plots.
        smooth: TF function of a float32 tensor ``xy`` of shape ``[..., 2]`` -> ``[...]``;
            the differentiable part of the objective.
        l1: weight of the ``l1 * (|x| + |y|)`` term of the objective (0 for most surfaces).
        minima: the known minimisers of the full objective, as (x, y) pairs.
        window: plot window ``(xmin, xmax, ymin, ymax)``.
        start: the default start point.
        lr_scale: factor applied to the lab's suggested learning rates on this surface
            (Rosenbrock's valley walls are ~1000x steeper than the quadratic's).
        log_levels: draw contour levels on a log scale (steep valleys).
        note: one sentence on what the surface teaches.
    """

    name: str
    title: str
    smooth: Callable[[tf.Tensor], tf.Tensor]
    minima: tuple[tuple[float, float], ...]
    window: tuple[float, float, float, float]
    start: tuple[float, float]
    l1: float = 0.0
    log_levels: bool = False
    lr_scale: float = 1.0
    note: str = field(default="")

    def value(self, xy: tf.Tensor | np.ndarray) -> tf.Tensor:
        """The full objective ``smooth(xy) + l1 * ||xy||_1`` (last axis has size 2)."""
        xy = tf.convert_to_tensor(xy, tf.float32)
        out = self.smooth(xy)
        if self.l1:
            out = out + self.l1 * tf.reduce_sum(tf.abs(xy), axis=-1)
        return out

    def grid(self, n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, Y, Z)`` on an ``n x n`` grid over ``window`` (for a contour plot)."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
            raise ValueError(f"`n` must be an integer >= 2. Received: n={n!r}")
        x0, x1, y0, y1 = self.window
        xs, ys = np.linspace(x0, x1, int(n)), np.linspace(y0, y1, int(n))
        xx, yy = np.meshgrid(xs, ys)
        z = self.value(np.stack([xx, yy], axis=-1).astype(np.float32)).numpy()
        return xx, yy, z

    def min_value(self) -> float:
        """The objective at the (first) known minimum."""
        return float(self.value(np.asarray(self.minima[0], np.float32)).numpy())


def _quadratic(xy: tf.Tensor) -> tf.Tensor:
    x, y = xy[..., 0], xy[..., 1]
    return 0.5 * x * x + 10.0 * y * y


def _rosenbrock(xy: tf.Tensor) -> tf.Tensor:
    x, y = xy[..., 0], xy[..., 1]
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def _beale(xy: tf.Tensor) -> tf.Tensor:
    x, y = xy[..., 0], xy[..., 1]
    return ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2
            + (2.625 - x + x * y * y * y) ** 2)


def _saddle(xy: tf.Tensor) -> tf.Tensor:
    x, y = xy[..., 0], xy[..., 1]
    return 0.5 * x * x - 0.5 * y * y + 0.25 * y ** 4


def _l1_smooth(xy: tf.Tensor) -> tf.Tensor:
    x, y = xy[..., 0], xy[..., 1]
    return 0.5 * (x - 1.0) ** 2 + 2.0 * (y - 0.1) ** 2


L1_STRENGTH = 0.5

SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        Surface("quadratic", "Ill-conditioned quadratic 0.5x² + 10y²", _quadratic,
                minima=((0.0, 0.0),), window=(-4.0, 4.0, -2.0, 2.0), start=(-3.5, 1.5),
                note="Curvature 20x larger along y: plain gradient descent zig-zags."),
        Surface("rosenbrock", "Rosenbrock (1-x)² + 100(y-x²)²", _rosenbrock,
                minima=((1.0, 1.0),), window=(-2.0, 2.0, -1.0, 3.0), start=(-1.5, 2.0),
                log_levels=True, lr_scale=0.01,
                note="A curved, flat-bottomed valley: easy to enter, slow to follow."),
        Surface("beale", "Beale function", _beale, minima=((3.0, 0.5),),
                window=(-4.5, 4.5, -4.5, 4.5), start=(1.0, 1.5), log_levels=True, lr_scale=0.1,
                note="Flat plateaus and sharp ridges: adaptive step sizes help."),
        Surface("saddle", "Saddle 0.5x² - 0.5y² + 0.25y⁴", _saddle,
                minima=((0.0, 1.0), (0.0, -1.0)), window=(-2.5, 2.5, -2.0, 2.0),
                start=(2.0, 0.01),
                note="Starts next to the saddle at (0, 0): how fast does each optimizer escape?"),
        Surface("l1", f"L1 problem 0.5(x-1)² + 2(y-0.1)² + {L1_STRENGTH}(|x|+|y|)", _l1_smooth,
                minima=((1.0 - L1_STRENGTH, 0.0),), window=(-1.0, 2.0, -1.0, 1.0),
                start=(1.5, 0.8), l1=L1_STRENGTH,
                note="The minimum has y = 0 exactly: optimizers with an l1 argument land on it, others hover."),
    )
}


def surface_names() -> list[str]:
    """The keys of ``SURFACES`` in display order."""
    return list(SURFACES)


def get_surface(name: str | Surface) -> Surface:
    """Look up a surface by name (a ``Surface`` is returned unchanged).

    Introduced in notebooks/04_playground.ipynb.
    """
    if isinstance(name, Surface):
        return name
    if not isinstance(name, str) or name not in SURFACES:
        raise ValueError(f"`name` must be one of {surface_names()}. Received: name={name!r}")
    return SURFACES[name]

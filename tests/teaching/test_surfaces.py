"""labkit.teaching.surfaces: the 2-D test functions and their minima."""

import numpy as np
import pytest
import tensorflow as tf

from labkit.teaching.surfaces import SURFACES, get_surface, surface_names


@pytest.mark.parametrize("name", surface_names())
def test_minima_are_stationary_and_lowest_on_a_grid(name):
    s = SURFACES[name]
    xx, yy, zz = s.grid(81)
    assert zz.shape == (81, 81)
    assert s.min_value() <= zz.min() + 1e-4
    x0, x1, y0, y1 = s.window
    for m in s.minima:
        assert x0 <= m[0] <= x1 and y0 <= m[1] <= y1
    assert x0 <= s.start[0] <= x1 and y0 <= s.start[1] <= y1
    if not s.l1:
        xy = tf.Variable(np.asarray(s.minima[0], np.float32))
        with tf.GradientTape() as tape:
            f = s.value(xy)
        assert np.abs(tape.gradient(f, xy).numpy()).max() < 1e-4


def test_l1_minimum_has_an_exact_zero_and_satisfies_the_subgradient_condition():
    s = get_surface("l1")
    x, y = s.minima[0]
    assert y == 0.0
    xy = tf.Variable([x, y], dtype=tf.float32)
    with tf.GradientTape() as tape:
        f = s.smooth(xy)
    g = tape.gradient(f, xy).numpy()
    assert abs(g[0] + s.l1 * np.sign(x)) < 1e-5      # smooth in x: gradient cancels the L1 pull
    assert abs(g[1]) <= s.l1                           # at y = 0: 0 is in the subdifferential


def test_known_values():
    assert float(get_surface("rosenbrock").value([0.0, 0.0])) == pytest.approx(1.0)
    assert float(get_surface("beale").value([3.0, 0.5])) == pytest.approx(0.0, abs=1e-6)


def test_bad_names():
    with pytest.raises(ValueError, match="name"):
        get_surface("himmelblau")
    with pytest.raises(ValueError, match="n="):
        get_surface("quadratic").grid(1)

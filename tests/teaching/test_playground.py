"""labkit.teaching.playground: trajectories from the real labkit optimizers, compiled once."""

import numpy as np
import pytest
import tensorflow as tf

import labkit.train as train
from labkit.seeding import seed_everything
from labkit.teaching.playground import Playground, compute_trajectories, playground_defaults
from labkit.teaching.surfaces import get_surface
from labkit.teaching.widgets import make_optimizer


def eager_path(name, surface, hyper, steps):
    """Reference: a fresh optimizer stepped eagerly with minimize()."""
    s = get_surface(surface)
    h = playground_defaults(name, s)
    h.update(hyper)
    opt = make_optimizer(getattr(train, name), h)
    v = tf.Variable(s.start, dtype=tf.float32)
    smooth_only = "l1_regularization_strength" in h
    out = [v.numpy()]
    for _ in range(steps):
        opt.minimize(lambda: s.smooth(v) if smooth_only else s.value(v), var_list=[v],
                     global_step=opt.labkit_global_step)
        out.append(v.numpy())
    return np.array(out)


@pytest.mark.parametrize("name,surface,hyper", [
    ("AdamOptimizer", "quadratic", {}),
    ("AdamOptimizer", "quadratic", {"beta1": 0.5, "learning_rate": 0.3}),
    ("ProximalAdagradOptimizer", "l1", {}),
    ("AdagradDAOptimizer", "l1", {}),
])
def test_matches_an_eager_run_and_resets_state_between_calls(name, surface, hyper):
    seed_everything(0)
    first = compute_trajectories(surface, [name], {name: hyper}, steps=25)[name]
    again = compute_trajectories(surface, [name], {name: hyper}, steps=25)[name]
    ref = eager_path(name, surface, hyper, 25)
    assert first.points.shape == (26, 2)
    np.testing.assert_allclose(first.points, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(first.points, again.points)


def test_hyperparameter_change_takes_effect_without_new_engine():
    from labkit.teaching import playground

    a = compute_trajectories("quadratic", ["GradientDescent"], steps=10)
    n = len(playground._ENGINES)
    b = compute_trajectories("quadratic", ["GradientDescent"],
                             {"GradientDescent": {"learning_rate": 0.001}}, steps=10)
    assert len(playground._ENGINES) == n
    name = "GradientDescentOptimizer"
    assert np.linalg.norm(b[name].final - b[name].points[0]) < \
        np.linalg.norm(a[name].final - a[name].points[0])


def test_proximal_optimizers_hit_exact_zero_on_l1_and_plain_ones_do_not():
    t = compute_trajectories("l1", ["ProximalGradientDescent", "GradientDescent"], steps=150)
    assert t["ProximalGradientDescentOptimizer"].final[1] == 0.0
    assert t["GradientDescentOptimizer"].final[1] != 0.0
    assert abs(t["ProximalGradientDescentOptimizer"].final[0] - 0.5) < 1e-3


def test_playground_update_redraws_in_place():
    pg = Playground("quadratic", ["Adam", "Momentum"], steps=20)
    out = pg.update()
    assert set(out) == {"AdamOptimizer", "MomentumOptimizer"}
    assert pg.plot.redraws == 1
    assert len(pg.plot.ax.get_legend().get_texts()) == 2
    pg.selected = []
    assert pg.update() == {}
    assert len(pg.summary()) == 0


def test_bad_input():
    with pytest.raises(ValueError, match="names"):
        compute_trajectories("quadratic", ["Adamm"])
    with pytest.raises(ValueError, match="steps"):
        compute_trajectories("quadratic", ["Adam"], steps=5000)
    with pytest.raises(ValueError, match="unknown"):
        compute_trajectories("quadratic", ["Adam"], {"Adam": {"momentum": 0.9}}, steps=3)


def test_redraw_keeps_the_contour_and_replaces_paths():
    pg = Playground("quadratic", ["Adam"], steps=5)
    pg.update()
    n_collections = len(pg.plot.ax.collections)
    pg.update()
    paths = [ln for ln in pg.plot.ax.lines if ln.get_gid() == "path"]
    assert len(paths) == 1                       # the old path was removed, not duplicated
    assert len(pg.plot.ax.collections) == n_collections


def test_encode_png_round_trips_through_pillow():
    import io

    from PIL import Image

    from labkit.teaching.plots import encode_png

    rgba = np.random.default_rng(0).integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    back = np.asarray(Image.open(io.BytesIO(encode_png(rgba))))
    np.testing.assert_array_equal(back, rgba)
    with pytest.raises(ValueError, match="rgba"):
        encode_png(rgba[..., :3])


def test_blitted_frame_matches_a_full_render_and_reuses_the_background():
    import io

    import matplotlib.colors as mcolors
    from PIL import Image

    from labkit.teaching.palette import color_for

    pg = Playground("quadratic", ["Adam", "GradientDescent"], steps=30)
    pg.update()
    pg.set_hyper("Adam", learning_rate=0.05)
    pg.update()
    assert pg.plot.full_draws == 1                 # the contour was rendered once
    blitted = np.asarray(Image.open(io.BytesIO(pg.plot.redraw()))).astype(int)
    # The same figure rendered from scratch, paths and legend as ordinary artists.
    for artist in [*pg.plot.ax.lines, pg.plot.ax.get_legend()]:
        artist.set_animated(False)
    buf = io.BytesIO()
    pg.plot.fig.savefig(buf, format="png")
    full = np.asarray(Image.open(io.BytesIO(buf.getvalue()))).astype(int)
    assert blitted.shape == full.shape
    differs = np.any(np.abs(blitted - full) > 8, axis=-1)
    assert differs.mean() < 0.005                  # only a few pixels around the legend's edge
    adam = np.array(mcolors.to_rgba(color_for("AdamOptimizer"), 1.0)[:3]) * 255
    assert np.any(np.all(np.abs(blitted[..., :3] - adam) < 3, axis=-1))   # Adam's path is drawn
    pg.surface = get_surface("saddle")
    pg.update()
    assert pg.plot.full_draws == 2                 # a new surface re-renders the background


def eager_keras_path(name, surface, steps):
    """Reference: a fresh keras.optimizers object stepped eagerly with apply_gradients."""
    import keras

    s = get_surface(surface)
    h = playground_defaults(name, s, steps)
    opt = getattr(keras.optimizers, name.removeprefix("keras."))(**h)
    v = tf.Variable(s.start, dtype=tf.float32)
    smooth_only = "l1_regularization_strength" in h
    out = [v.numpy()]
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = s.smooth(v) if smooth_only else s.value(v)
        opt.apply_gradients([(tape.gradient(loss, v), v)])
        out.append(v.numpy())
    return np.array(out)


@pytest.mark.parametrize("name,surface", [("keras.Adam", "quadratic"), ("keras.RMSprop", "saddle"),
                                          ("keras.Ftrl", "l1"), ("keras.Lion", "quadratic")])
def test_keras_family_runs_the_real_keras_class(name, surface):
    first = compute_trajectories(surface, [name], steps=20)[name]
    again = compute_trajectories(surface, [name], steps=20)[name]
    np.testing.assert_allclose(first.points, eager_keras_path(name, surface, 20), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(first.points, again.points)   # state is reset between runs


def test_keras_learning_rate_change_needs_no_new_engine_but_other_hypers_do():
    from labkit.teaching import playground

    compute_trajectories("quadratic", ["keras.Adam"], steps=5)
    n = len(playground._ENGINES)
    slow = compute_trajectories("quadratic", ["keras.Adam"], {"keras.Adam": {"learning_rate": 0.001}},
                                steps=5)["keras.Adam"]
    assert len(playground._ENGINES) == n
    assert np.abs(slow.final - slow.points[0]).max() < 0.006
    compute_trajectories("quadratic", ["keras.Adam"], {"keras.Adam": {"beta_1": 0.5}}, steps=5)
    assert len(playground._ENGINES) == n + 1


def test_defaults_are_the_lab_learning_rates_and_ftrl_l1_follows_the_steps():
    from labkit.teaching.playground import PLAYGROUND_LEARNING_RATES, library_default_learning_rate

    assert library_default_learning_rate("Adam") == 0.001
    assert library_default_learning_rate("Ftrl") is None            # TF1 made it required
    assert library_default_learning_rate("keras.Adadelta") == 0.001
    assert playground_defaults("Adam", "l1")["learning_rate"] == PLAYGROUND_LEARNING_RATES["AdamOptimizer"]
    assert playground_defaults("keras.SGD", "rosenbrock")["learning_rate"] == pytest.approx(0.05 * 0.01)
    for name in ("Ftrl", "keras.Ftrl"):
        assert playground_defaults(name, "l1", 100)["l1_regularization_strength"] == 50.0
        assert playground_defaults(name, "l1", 300)["l1_regularization_strength"] == 150.0
    assert playground_defaults("ProximalAdagrad", "l1", 300)["l1_regularization_strength"] == 0.5
    with pytest.raises(ValueError, match="steps"):
        playground_defaults("Adam", "l1", 0)
    with pytest.raises(ValueError, match="keras.Adam"):
        compute_trajectories("quadratic", ["keras.Adamm"])


def test_widget_shows_both_families_with_unclipped_labels_and_keras_dashed():
    pg = Playground("l1", ["Adam", "keras.Adam"], steps=10)
    pg.update()
    styles = {ln.get_label(): ln.get_linestyle() for ln in pg.plot.ax.lines if ln.get_gid() == "path"}
    assert styles == {"Adam": "-", "keras.Adam": "--"}
    box = pg.widget
    import ipywidgets as widgets

    def walk(w):
        yield w
        for c in getattr(w, "children", ()):
            yield from walk(c)

    checks = [w for w in walk(box) if isinstance(w, widgets.Checkbox)]
    assert len(checks) == 20
    assert {w.description for w in checks if w.value} == {"Adam", "keras.Adam"}
    for w in checks:   # natural width, no indent: the browser never clips a label
        assert w.indent is False and w.layout.width == "auto"

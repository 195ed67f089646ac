"""labkit.train.processing: the "process" step of compute -> process -> apply."""

import numpy as np
import pytest
import tensorflow as tf

from labkit.seeding import seed_everything
from labkit.train.processing import (
    add_noise,
    chain,
    clip_by_global_norm,
    clip_by_norm,
    clip_by_value,
    scale,
)


@pytest.fixture
def gv():
    seed_everything(0)
    rng = np.random.default_rng(0)
    w = tf.Variable(rng.standard_normal((3, 4)).astype(np.float32), name="w")
    b = tf.Variable(np.zeros(4, np.float32), name="b")
    unused = tf.Variable(1.0, name="unused")
    gw = tf.constant(rng.standard_normal((3, 4)).astype(np.float32) * 10)
    gb = tf.constant(rng.standard_normal(4).astype(np.float32) * 0.1)
    return [(gw, w), (gb, b), (None, unused)]


def _dense(g):
    return tf.convert_to_tensor(g).numpy()


@pytest.mark.parametrize("c", [0.05, 1.0, 5, 1e3])
def test_clip_by_norm_matches_tf_exactly(gv, c):
    out = clip_by_norm(c)(gv)
    for (g, v), (og, ov) in zip(gv, out, strict=True):
        assert ov is v
        if g is None:
            assert og is None
        else:
            np.testing.assert_array_equal(og.numpy(), tf.clip_by_norm(g, c).numpy())
    # with c = 0.05 every gradient is really clipped (the test could fail)
    if c == 0.05:
        assert np.linalg.norm(out[0][0].numpy()) == pytest.approx(0.05, rel=1e-5)


@pytest.mark.parametrize("c", [0.05, 1.0, 1e3])
def test_clip_by_global_norm_matches_tf_exactly(gv, c):
    step = clip_by_global_norm(c)
    out = step(gv)
    want, norm = tf.clip_by_global_norm([g for g, _ in gv], c)
    assert out[2] == (None, gv[2][1])
    for (og, _), w in zip(out[:2], want[:2], strict=True):
        np.testing.assert_array_equal(og.numpy(), w.numpy())
    assert float(step.last_global_norm) == float(norm)
    got_norm = np.sqrt(sum(np.sum(og.numpy() ** 2) for og, _ in out[:2]))
    assert got_norm == pytest.approx(min(c, float(norm)), rel=1e-5)


def test_global_norm_keeps_direction_per_variable_norm_does_not(gv):
    g = np.concatenate([gv[0][0].numpy().ravel(), gv[1][0].numpy().ravel()])
    glob = clip_by_global_norm(1.0)(gv)
    per = clip_by_norm(1.0)(gv)
    cat = lambda out: np.concatenate([out[0][0].numpy().ravel(), out[1][0].numpy().ravel()])  # noqa: E731
    cos = lambda a, b: a @ b / np.linalg.norm(a) / np.linalg.norm(b)  # noqa: E731
    assert cos(cat(glob), g) == pytest.approx(1.0, abs=1e-6)
    assert cos(cat(per), g) < 0.999


def test_none_gradients_pass_through_every_step(gv):
    only_none = [(None, v) for _, v in gv]
    for step in (clip_by_norm(1), clip_by_global_norm(1), clip_by_value(-1, 1),
                 scale({"w": 2.0}), add_noise(0.1), chain(clip_by_norm(1), scale({"b": 0.0}))):
        out = step(gv)
        assert out[2][0] is None and out[2][1] is gv[2][1], repr(step)
        assert all(g is None for g, _ in step(only_none)), repr(step)


def test_indexed_slices_stay_sparse_and_match_tf():
    v = tf.Variable(np.ones((5, 2), np.float32), name="emb")
    g = tf.IndexedSlices(tf.constant([[3.0, 4.0], [30.0, 40.0]]), tf.constant([1, 3]),
                         tf.constant([5, 2]))
    out = clip_by_norm(5)([(g, v)])[0][0]
    assert isinstance(out, tf.IndexedSlices)
    want = tf.clip_by_norm(g, 5)
    np.testing.assert_array_equal(out.values.numpy(), want.values.numpy())
    np.testing.assert_array_equal(out.indices.numpy(), [1, 3])
    glob = clip_by_global_norm(5)([(g, v)])[0][0]
    assert isinstance(glob, tf.IndexedSlices)
    np.testing.assert_array_equal(glob.values.numpy(), tf.clip_by_global_norm([g], 5)[0][0].values.numpy())
    val = clip_by_value(-1, 10)([(g, v)])[0][0]
    np.testing.assert_array_equal(val.values.numpy(), [[3, 4], [10, 10]])
    sc = scale({v.ref(): 0.5})([(g, v)])[0][0]
    np.testing.assert_array_equal(sc.values.numpy(), [[1.5, 2], [15, 20]])
    noisy = add_noise(1.0, seed=3)([(g, v)])[0][0]
    assert isinstance(noisy, tf.IndexedSlices) and noisy.values.shape == (2, 2)


def test_clip_by_value_matches_tf(gv):
    out = clip_by_value(-0.5, 0.25)(gv)
    np.testing.assert_array_equal(out[0][0].numpy(), tf.clip_by_value(gv[0][0], -0.5, 0.25).numpy())
    assert out[0][0].numpy().max() <= 0.25 and out[0][0].numpy().min() >= -0.5


def test_scale_by_variable_and_by_name(gv):
    (gw, w), (gb, b), _ = gv
    out = scale({w.ref(): 0.5, "b:0": 3.0})(gv)
    np.testing.assert_allclose(out[0][0].numpy(), gw.numpy() * 0.5)
    np.testing.assert_allclose(out[1][0].numpy(), gb.numpy() * 3.0)
    pairs = scale([(w, 0.25), ("b", 0.0)])(gv)
    np.testing.assert_allclose(pairs[0][0].numpy(), gw.numpy() * 0.25)
    assert not np.any(pairs[1][0].numpy())
    frozen = scale({}, default=0.0)(gv)
    assert not np.any(frozen[0][0].numpy()) and not np.any(frozen[1][0].numpy())


def test_chain_reads_like_the_recipe(gv):
    recipe = chain(clip_by_norm(5), scale({"w": 0.1}))
    out = recipe(gv)
    want = tf.clip_by_norm(gv[0][0], 5.0) * 0.1
    np.testing.assert_allclose(out[0][0].numpy(), want.numpy(), rtol=1e-6)
    assert repr(recipe) == "chain(clip_by_norm(5), scale({'w': 0.1}))"
    # then() is chain(); nested chains flatten; a plain function is a step too
    same = clip_by_norm(5).then(scale({"w": 0.1}))
    np.testing.assert_array_equal(same(gv)[0][0].numpy(), out[0][0].numpy())

    def double(pairs):
        return [(None if g is None else 2 * g, v) for g, v in pairs]

    nested = chain(recipe, double)
    assert repr(nested) == "chain(clip_by_norm(5), scale({'w': 0.1}), double)"
    np.testing.assert_allclose(nested(gv)[0][0].numpy(), 2 * out[0][0].numpy(), rtol=1e-6)
    assert gv[0][0] is not out[0][0]  # input list untouched


def test_steps_work_inside_tf_function(gv):
    recipe = chain(clip_by_global_norm(1.0), clip_by_value(-0.2, 0.2), scale({"b": 2.0}))
    vars_ = [v for _, v in gv[:2]]

    @tf.function
    def run(gw, gb):
        return [g for g, _ in recipe(list(zip([gw, gb], vars_, strict=True)))]

    traced = run(gv[0][0], gv[1][0])
    eager = recipe(gv[:2])
    for a, (b, _) in zip(traced, eager, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_add_noise_is_seeded_and_anneals(gv):
    a, b = add_noise(0.5, seed=7), add_noise(0.5, seed=7)
    n1, n2 = a(gv)[0][0].numpy(), b(gv)[0][0].numpy()
    np.testing.assert_array_equal(n1, n2)
    assert not np.array_equal(n1, gv[0][0].numpy())
    zero = np.zeros((200, 200), np.float32)
    v = tf.Variable(zero)
    step = add_noise(1.0, seed=1, gamma=2.0)  # sigma_t = 1 / (1 + t)
    stds = [np.std(step([(tf.constant(zero), v)])[0][0].numpy()) for _ in range(3)]
    assert stds == pytest.approx([1.0, 0.5, 1 / 3], rel=0.03)
    assert int(step.calls.numpy()) == 3


@pytest.mark.parametrize("make, match", [
    (lambda: clip_by_norm(-5), r"`clip_norm` must be a finite number > 0. Received: clip_norm=-5"),
    (lambda: clip_by_norm(0), r"clip_norm=0"),
    (lambda: clip_by_norm(float("nan")), r"clip_norm=nan"),
    (lambda: clip_by_global_norm(-1.0), r"`clip_norm`.*Received: clip_norm=-1.0"),
    (lambda: clip_by_value(1, -1), r"clip_value_min=1, clip_value_max=-1"),
    (lambda: clip_by_value(0, float("inf")), r"`clip_value_max` must be finite"),
    (lambda: scale({"w": -1.0}), r"`weights\['w'\]` must be a finite number >= 0"),
    (lambda: scale({"w": 1.0}, default=-2), r"`default`.*Received: default=-2"),
    (lambda: add_noise(-0.1), r"`stddev`.*Received: stddev=-0.1"),
    (lambda: add_noise(0.1, seed=-3), r"`seed`.*Received: seed=-3"),
])
def test_bad_arguments_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_types_raise_type_error(gv):
    with pytest.raises(TypeError, match=r"`clip_norm` must be a number. Received: clip_norm='5'"):
        clip_by_norm("5")
    with pytest.raises(TypeError, match=r"`weights` must be a mapping"):
        scale([0.5])
    with pytest.raises(TypeError, match=r"`weights` must be a mapping"):
        scale(0.5)
    with pytest.raises(TypeError, match=r"`weights` keys must be tf.Variable"):
        scale({3: 0.5})
    with pytest.raises(TypeError, match=r"steps\[1\]=5"):
        chain(clip_by_norm(1), 5)
    with pytest.raises(TypeError, match=r"`grads_and_vars` must be a list"):
        clip_by_norm(1)(tf.constant(1.0))
    with pytest.raises(TypeError, match=r"pairs. Received element: 3"):
        clip_by_norm(1)([3])


def test_weights_for_unknown_variables_raise(gv):
    other = tf.Variable(0.0, name="elsewhere")
    with pytest.raises(ValueError, match=r"not in grads_and_vars: \['kernel'\].*\['b', 'unused', 'w'\]"):
        scale({"kernel": 0.5})(gv)
    with pytest.raises(ValueError, match=r"not in grads_and_vars: \['elsewhere:0'\]"):
        scale([(other, 0.5)])(gv)
    twins = [(tf.constant(1.0), tf.Variable(1.0, name="same")), (tf.constant(1.0), tf.Variable(2.0, name="same"))]
    with pytest.raises(ValueError, match=r"match several variables"):
        scale({"same": 0.5})(twins)


def test_seed_recipe_with_labkit_optimizer_equals_tf_loop():
    """compute -> chain(clip_by_norm(5)) -> apply equals the seed's hand-written loop."""
    import labkit.train

    def run(process):
        w = tf.Variable([30.0, -40.0, 2.0])
        opt = labkit.train.AdamOptimizer(learning_rate=0.1, beta1=0.5)
        for _ in range(3):
            gv = opt.compute_gradients(lambda: tf.reduce_sum(w ** 2))
            opt.apply_gradients(process(gv))
        return w.numpy()

    def seed_loop(grads_and_vars):
        for i, (g, v) in enumerate(grads_and_vars):
            if g is not None:
                grads_and_vars[i] = (tf.clip_by_norm(g, 5), v)
        return grads_and_vars

    np.testing.assert_array_equal(run(chain(clip_by_norm(5))), run(seed_loop))

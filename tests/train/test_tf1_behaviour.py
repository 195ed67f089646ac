"""labkit.train behaves like tf.compat.v1.train where learners compare them (one test per
behaviour, each over all ten optimizers): the names and order of ``variables()`` and slot
variables, variable constraints, variables of unknown static shape, and ``compute_gradients``
with respect to tensors."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import labkit.train as lt

NAMES = sorted(n for n in lt.__all__ if n.endswith("Optimizer") and n != "Optimizer")
EXTRA = {"MomentumOptimizer": {"momentum": 0.9}, "RMSPropOptimizer": {"momentum": 0.5, "centered": True}}


def build(module, name: str):
    kw = dict(EXTRA.get(name, {}))
    if name == "AdagradDAOptimizer":
        kw["global_step"] = tf.Variable(0, dtype=tf.int64)
    return getattr(module, name)(0.1, **kw)


def both(name: str):
    return build(tf.compat.v1.train, name), build(lt, name)


def test_names_cover_the_ten():
    assert len(NAMES) == 10


@pytest.mark.parametrize("name", NAMES)
def test_variables_and_slot_names_equal_tf1s(name):
    seen = []
    for opt in both(name):
        w = tf.Variable([1.0, 2.0], name="w")
        b = tf.Variable([3.0], name="b")
        opt.apply_gradients([(tf.constant([0.1, -0.2]), w), (tf.constant([0.3]), b)])
        seen.append(([v.name for v in opt.variables()],
                     {s: opt.get_slot(w, s).name for s in opt.get_slot_names()},
                     opt.get_slot_names()))
    assert seen[1] == seen[0]


def _clip(t):
    return tf.clip_by_value(t, -0.05, 0.05)


@pytest.mark.parametrize("name", NAMES)
def test_a_variables_constraint_is_applied_after_each_update_as_tf1_does(name):
    results = []
    for opt in both(name):
        w = tf.Variable([[0.0, 0.04], [0.01, -0.02], [0.03, 0.0]], constraint=_clip)
        for _ in range(3):
            opt.apply_gradients([(tf.constant([[-1.0, -2.0], [3.0, 0.5], [-0.5, 1.0]]), w)])
        results.append(w.numpy())
    assert np.abs(results[1]).max() <= 0.05 + 1e-7
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_a_sparse_update_of_a_constrained_variable_is_refused_as_tf1_does(name):
    g = tf.IndexedSlices(tf.ones([1, 2]), tf.constant([1]), tf.constant([3, 2]))
    for opt in both(name):
        w = tf.Variable(tf.zeros([3, 2]), constraint=_clip)
        with pytest.raises(RuntimeError, match="Cannot use a constraint function on a sparse variable"):
            opt.apply_gradients([(g, w)])
        assert not w.numpy().any()


def test_a_keras_kernel_constraint_is_applied():
    import keras

    layer = keras.layers.Dense(2, kernel_constraint=keras.constraints.NonNeg(), use_bias=False)
    layer.build((None, 3))
    layer.kernel.assign(np.full((3, 2), 0.01, np.float32))
    opt = lt.GradientDescentOptimizer(1.0)
    opt.apply_gradients([(tf.ones((3, 2)), layer.kernel)])
    assert layer.kernel.numpy().min() == 0.0  # 0.01 - 1.0 clipped at 0 by NonNeg


# TF1 itself cannot build these three optimizers' slots for a variable of unknown static shape
# (its _create_slots calls tf.constant(..., shape=var.get_shape()) or a shape-needing initializer);
# labkit can: a deliberate difference, stated in labkit.train.Optimizer's docstring.
TF1_NEEDS_STATIC_SHAPE = {"AdagradDAOptimizer", "FtrlOptimizer", "ProximalAdagradOptimizer"}


@pytest.mark.parametrize("name", NAMES)
def test_a_variable_of_unknown_static_shape_gets_slots_from_its_runtime_shape(name):
    def run(module, unknown: bool):
        opt = build(module, name)
        w = tf.Variable(lambda: tf.constant([1.0, -2.0, 0.5]),
                        shape=tf.TensorShape(None) if unknown else None)
        for _ in range(2):
            opt.apply_gradients([(tf.constant([0.3, -0.1, 0.2]), w)])
        return w.numpy()

    ours = run(lt, unknown=True)
    np.testing.assert_allclose(ours, run(tf.compat.v1.train, unknown=False), rtol=1e-6, atol=1e-7)
    if name in TF1_NEEDS_STATIC_SHAPE:
        with pytest.raises(ValueError):
            run(tf.compat.v1.train, unknown=True)
    else:
        np.testing.assert_allclose(ours, run(tf.compat.v1.train, unknown=True), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
def test_compute_gradients_with_respect_to_tensors_and_apply_refuses_them(name):
    x = tf.constant([1.0, 2.0])
    tf1, ours = both(name)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(x * x)
    (g_tf1, v_tf1), = tf1.compute_gradients(lambda: tf.reduce_sum(x * x), var_list=[x])
    (g, v), = ours.compute_gradients(lambda: tf.reduce_sum(x * x), var_list=[x])
    assert v is x and v_tf1 is x
    np.testing.assert_array_equal(g.numpy(), g_tf1.numpy())
    np.testing.assert_array_equal(g.numpy(), tape.gradient(loss, x).numpy())
    with pytest.raises(TypeError, match="must be a tf.Variable"):
        ours.apply_gradients([(g, x)])

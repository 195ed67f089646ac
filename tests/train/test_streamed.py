"""labkit.train.streamed: exact arithmetic written so that XLA on CPU streams it."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from labkit.train import streamed


def test_add_square_is_exactly_n_plus_g_squared_and_its_factor_is_a_step_input():
    for dtype in (tf.float16, tf.float32, tf.float64):
        n = tf.constant([0.1, 0.0, 2.5, 1e-3, np.inf, 1.0, 1.0], dtype)
        g = tf.constant([0.5, -0.0, -3.0, 1e-2, 1.0, np.nan, -np.inf], dtype)
        expected = n.numpy() + g.numpy() * g.numpy()
        np.testing.assert_array_equal(streamed.add_square(n, g).numpy(), expected)

    # Inside a traced step the factor 1 is a captured input, not a constant XLA could fold
    # away (folding it would send the fusion back to the slow emitter).
    fn = tf.function(streamed.add_square).get_concrete_function(tf.TensorSpec([3]), tf.TensorSpec([3]))
    assert any(t.dtype == tf.float32 and t.shape == [] and float(t.numpy()) == 1.0
               for t in fn.captured_inputs)
    with tf.Graph().as_default():  # TF1-style graphs get a tensor of their own graph
        out = streamed.add_square(tf.constant([1.0]), tf.constant([2.0]))
        assert out.graph is tf.compat.v1.get_default_graph()


def test_times_runtime_one_is_exact():
    for dtype in (tf.float16, tf.float32, tf.float64):
        x = tf.constant([0.1, 0.0, -0.0, -2.5, 1e-30, np.inf, -np.inf, np.nan], dtype)
        np.testing.assert_array_equal(streamed.times_runtime_one(x).numpy(), x.numpy())
        assert np.signbit(streamed.times_runtime_one(x).numpy()[2])  # -0 stays -0


def test_add_subtract_sqrt_are_exact():
    a = tf.constant([0.1, -0.0, 3.0, np.inf, np.nan, 1e-30])
    b = tf.constant([0.2, 0.0, -1.5, 1.0, 2.0, 4.0])
    np.testing.assert_array_equal(streamed.add(a, b).numpy(), (a + b).numpy())
    np.testing.assert_array_equal(streamed.subtract(a, b).numpy(), (a - b).numpy())
    np.testing.assert_array_equal(streamed.sqrt(tf.abs(a)).numpy(), tf.sqrt(tf.abs(a)).numpy())



def test_after_is_exactly_fn_of_args_compiled_or_not():
    first = tf.constant([1.0, np.nan, -np.inf, 0.0, 5.0])
    n = tf.constant([0.1, 0.0, 2.5, np.inf, -0.0])
    g = tf.constant([0.5, np.nan, -3.0, 1.0, -0.0])
    expected = streamed.add_square(n, g).numpy()
    np.testing.assert_array_equal(streamed.after(first, streamed.add_square, n, g).numpy(), expected)

    def compiled(first, n, g):
        with streamed.compiled_by_xla():
            return streamed.after(first, streamed.add_square, n, g)

    xla = tf.function(compiled, jit_compile=True)
    np.testing.assert_array_equal(xla(first, n, g).numpy(), expected)
    # under XLA it reads `first` (the dependence that orders the write); elsewhere it does not
    graph = tf.function(compiled, jit_compile=True).get_concrete_function(first, n, g).graph
    assert any(op.type == "XlaOptimizationBarrier" for op in graph.get_operations())
    plain = tf.function(streamed.after).get_concrete_function(first, streamed.add_square, n, g).graph
    assert not any(op.type in ("XlaOptimizationBarrier", "SelectV2") for op in plain.get_operations())


def test_compiled_by_xla_is_a_scoped_flag():
    assert not streamed._XLA.get()
    with streamed.compiled_by_xla():
        assert streamed._XLA.get()
        with streamed.compiled_by_xla(False):
            assert not streamed._XLA.get()
        assert streamed._XLA.get()
    assert not streamed._XLA.get()

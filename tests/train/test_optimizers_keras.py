"""labkit.train (TF1 semantics) vs the Keras 3 optimizers: what the defaults change.

For each optimizer Keras 3 also has, run both on the same fixed gradient sequence: with each
library's *defaults* the results differ measurably; with the defaults *aligned* they agree
to float32 rounding. RMSprop cannot be aligned (TF1 starts its rms slot at 1, Keras at 0):
there the difference is large at first and fades as rho^t.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import labkit.train as lt

K = tf.keras.optimizers


def run(opt, grads, w0):
    w = tf.Variable(w0)
    history = []
    for g in grads:
        opt.apply_gradients([(tf.constant(g), w)])
        history.append(w.numpy().copy())
    return np.array(history)


def gradients(scale: float, n: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=4) * scale).astype(np.float32) for _ in range(n)]


W0 = np.array([0.5, -1.0, 2.0, 0.1], np.float32)

# name, labkit default, Keras default, labkit aligned, Keras aligned, gradient scale,
# minimum difference with defaults
CASES = [
    # Adam: TF1 epsilon 1e-8, Keras 1e-7; both use "epsilon hat" placement.
    ("Adam", lambda: lt.AdamOptimizer(0.1), lambda: K.Adam(0.1),
     lambda: lt.AdamOptimizer(0.1, epsilon=1e-7), lambda: K.Adam(0.1), 1e-6, 1e-3),
    # Adagrad: TF1 has no epsilon, Keras divides by sqrt(n + 1e-7).
    ("Adagrad", lambda: lt.AdagradOptimizer(0.1, initial_accumulator_value=1e-8),
     lambda: K.Adagrad(0.1, initial_accumulator_value=1e-8),
     lambda: lt.AdagradOptimizer(0.1, initial_accumulator_value=1e-8),
     lambda: K.Adagrad(0.1, initial_accumulator_value=1e-8, epsilon=0.0), 1e-4, 1e-3),
    # Adadelta: epsilon 1e-8 vs 1e-7; the first steps scale with sqrt(epsilon).
    ("Adadelta", lambda: lt.AdadeltaOptimizer(1.0), lambda: K.Adadelta(1.0),
     lambda: lt.AdadeltaOptimizer(1.0, epsilon=1e-7), lambda: K.Adadelta(1.0), 1.0, 1e-4),
    # Momentum vs SGD(momentum=...): Keras' SGD default momentum is 0.
    ("Momentum", lambda: lt.MomentumOptimizer(0.05, 0.9), lambda: K.SGD(0.05),
     lambda: lt.MomentumOptimizer(0.05, 0.9), lambda: K.SGD(0.05, momentum=0.9), 1.0, 1e-2),
    ("Nesterov", lambda: lt.MomentumOptimizer(0.05, 0.9, use_nesterov=True), lambda: K.SGD(0.05),
     lambda: lt.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
     lambda: K.SGD(0.05, momentum=0.9, nesterov=True), 1.0, 1e-2),
    # SGD: TF1 has no default learning rate; Keras' is 0.01.
    ("GradientDescent", lambda: lt.GradientDescentOptimizer(0.1), lambda: K.SGD(),
     lambda: lt.GradientDescentOptimizer(0.01), lambda: K.SGD(), 1.0, 1e-2),
    # Ftrl: same defaults except the learning rate (TF1: none, Keras: 0.001).
    ("Ftrl", lambda: lt.FtrlOptimizer(0.1), lambda: K.Ftrl(),
     lambda: lt.FtrlOptimizer(0.1, l1_regularization_strength=0.01, beta=0.1),
     lambda: K.Ftrl(0.1, l1_regularization_strength=0.01, beta=0.1), 1.0, 1e-2),
]


@pytest.mark.parametrize("name,ours_d,keras_d,ours_a,keras_a,scale,min_diff", CASES,
                         ids=[c[0] for c in CASES])
def test_defaults_differ_and_aligned_agree(name, ours_d, keras_d, ours_a, keras_a, scale,
                                           min_diff):
    grads = gradients(scale)
    diff_default = np.max(np.abs(run(ours_d(), grads, W0) - run(keras_d(), grads, W0)))
    diff_aligned = np.max(np.abs(run(ours_a(), grads, W0) - run(keras_a(), grads, W0)))
    assert diff_default > min_diff, f"{name}: defaults differ by only {diff_default:.3g}"
    assert diff_aligned <= 1e-5 * max(1.0, float(np.max(np.abs(W0)))), (
        f"{name}: aligned still differ by {diff_aligned:.3g}")


def test_rmsprop_not_alignable_but_difference_fades():
    # Same rule and epsilon placement, but TF1's rms slot starts at 1 and Keras' at 0.
    grads = gradients(1.0, n=200, seed=1)
    ours = run(lt.RMSPropOptimizer(0.01, decay=0.9, epsilon=1e-7), grads, W0)
    keras = run(K.RMSprop(0.01, rho=0.9, epsilon=1e-7), grads, W0)
    step_ours = np.diff(np.vstack([W0, ours]), axis=0)
    step_keras = np.diff(np.vstack([W0, keras]), axis=0)
    first = np.max(np.abs(step_ours[0] - step_keras[0]) / np.abs(step_keras[0]))
    last = np.max(np.abs(step_ours[-1] - step_keras[-1]) / np.abs(step_keras[-1]))
    assert first > 0.5          # the first update differs by more than 50%
    assert last < 1e-3          # 0.9^200 ~ 7e-10: the initial value is forgotten

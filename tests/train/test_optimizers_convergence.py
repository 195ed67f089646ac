"""One convergence table: every optimizer on a convex quadratic, the adaptive ones on Rosenbrock.

The quadratic f(x) = 1/2 (x - c)^T A (x - c), A = diag(1, 4), has its minimum at c; every
optimizer, with settings from the table, must end within ``tol`` of c. Rosenbrock
(minimum 0 at (1, 1), start (-1.2, 1) where f = 24.2) must drop below ``target``.
Training loops run inside one tf.function (so this also exercises graph mode).
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import labkit.train as lt

C = np.array([1.0, -2.0], np.float32)

# name, constructor kwargs, steps, tolerance on |x - c|
QUADRATIC = [
    ("GradientDescentOptimizer", {"learning_rate": 0.2}, 200, 1e-4),
    ("MomentumOptimizer", {"learning_rate": 0.05, "momentum": 0.9}, 300, 1e-4),
    ("MomentumOptimizer", {"learning_rate": 0.05, "momentum": 0.9, "use_nesterov": True}, 300, 1e-4),
    ("AdagradOptimizer", {"learning_rate": 1.0}, 400, 1e-4),
    ("AdagradDAOptimizer", {"learning_rate": 1.0}, 2000, 5e-2),
    ("AdadeltaOptimizer", {"learning_rate": 1.0, "epsilon": 1e-4}, 2000, 1e-2),
    ("RMSPropOptimizer", {"learning_rate": 0.01, "decay": 0.9}, 1000, 2e-2),
    ("RMSPropOptimizer", {"learning_rate": 0.01, "centered": True, "momentum": 0.5}, 1000, 2e-2),
    ("AdamOptimizer", {"learning_rate": 0.1}, 600, 1e-3),
    ("FtrlOptimizer", {"learning_rate": 1.0}, 400, 1e-3),
    ("ProximalGradientDescentOptimizer", {"learning_rate": 0.2}, 200, 1e-4),
    ("ProximalAdagradOptimizer", {"learning_rate": 1.0}, 400, 1e-4),
]

# optimizers that should make progress on Rosenbrock: name, kwargs, steps, target f
ROSENBROCK = [
    ("GradientDescentOptimizer", {"learning_rate": 1e-3}, 2000, 1.0),
    ("MomentumOptimizer", {"learning_rate": 2e-4, "momentum": 0.9}, 2000, 0.5),
    ("AdagradOptimizer", {"learning_rate": 0.5}, 2000, 0.5),
    ("RMSPropOptimizer", {"learning_rate": 1e-2}, 2000, 0.5),
    ("AdamOptimizer", {"learning_rate": 0.05}, 2000, 0.1),
]


def _build(name, kw, step):
    kw = dict(kw)
    if name == "AdagradDAOptimizer":
        kw["global_step"] = step
    return getattr(lt, name)(**kw)


def _run(name, kw, steps, x0, loss_of):
    x = tf.Variable(np.array(x0, np.float32))
    step = tf.Variable(0, dtype=tf.int64)
    opt = _build(name, kw, step)
    opt.jit_compile = False  # two-element variables: XLA launch overhead would dominate

    @tf.function
    def train(n):
        for _ in tf.range(n):
            opt.minimize(lambda: loss_of(x), global_step=step)

    train(tf.constant(steps))
    assert int(step.numpy()) == steps
    return x.numpy()


def quadratic(x):
    d = x - C
    return 0.5 * (d[0] ** 2 + 4.0 * d[1] ** 2)


def rosenbrock(x):
    return (1.0 - x[0]) ** 2 + 100.0 * (x[1] - x[0] ** 2) ** 2


@pytest.mark.parametrize("name,kw,steps,tol", QUADRATIC,
                         ids=[f"{n}-{i}" for i, (n, *_ ) in enumerate(QUADRATIC)])
def test_reaches_the_minimum_of_a_convex_quadratic(name, kw, steps, tol):
    x0 = [-3.0, 2.0]
    x = _run(name, kw, steps, x0, quadratic)
    err = float(np.max(np.abs(x - C)))
    assert err < tol, f"{name} ended at {x}, |x - c| = {err:.3g}"
    assert float(np.max(np.abs(np.array(x0) - C))) > 10 * tol  # it really travelled


@pytest.mark.parametrize("name,kw,steps,target", ROSENBROCK, ids=[r[0] for r in ROSENBROCK])
def test_makes_progress_on_rosenbrock(name, kw, steps, target):
    x = _run(name, kw, steps, [-1.2, 1.0], rosenbrock)
    f = float(rosenbrock(tf.constant(x)))
    assert np.all(np.isfinite(x))
    assert f < target < 24.2, f"{name}: f = {f:.4g} at {x}"

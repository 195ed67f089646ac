"""TensorFlow's own optimizer unit-test cases, ported to eager, run against TF1 and labkit.

Source: ``tensorflow/python/training/{gradient_descent,adadelta,adagrad,adagrad_da,momentum,
adam,ftrl,proximal_gradient_descent,proximal_adagrad,rmsprop}_test.py`` in the public
tensorflow/tensorflow repository. Each case reproduces one source test method: the same
inputs, hyperparameters, dtypes and number of steps, and the same hard-coded expected arrays
or the same NumPy reference formula (written here, not copied). Versions read (commit):
gradient_descent 03049341, adadelta 01fc22e6 (``testMinimizeSparseResourceVariable``) and its
later eager-aware ``doTestBasic`` (rtol 1e-5, callable params), adagrad c7ffe901, adagrad_da
5f3dac2e, momentum 06b9206d, adam 016bb3fc, ftrl 021bfd4e, proximal_gradient_descent
1cd35735, proximal_adagrad 11461ab3, rmsprop: the version with
``testMinimizeSparseResourceVariableCentered`` (decay 0, epsilon 1) and ``testCallableParams``.
Every case id names the
source as ``<file stem>.<testMethod>``, e.g. ``adam_test.testSparse-float16``; the last part
of the id says which implementation ran it:

* ``tf1``: ``tf.compat.v1.train.<Name>Optimizer`` itself (still shipped with TF 2.21, run
  eagerly on resource variables), which shows that the port is faithful;
* ``labkit``: ``labkit.train.<Name>Optimizer``.

A case that fails against ``labkit`` but passes against ``tf1`` is a real difference from
TF1; it is never skipped or marked xfail here.

Tolerances are TensorFlow's ``assertAllCloseAccordingToType`` (``test_util.py``): rtol = atol
= 1e-6 for float32/float64, 1e-3 when either side is float16, each raised to the source
test's own ``rtol``/``atol``/``half_rtol`` where it passes one; ``assertAllClose`` cases use
1e-6 for every dtype, as the source does. The check is NumPy's ``allclose`` (|expected -
actual| <= atol + rtol * |actual|) after an exact shape check.

How graph-mode tests were ported. In eager mode a TF1 "update op" is a call:
``sess.run(update)`` becomes ``opt.apply_gradients(...)`` and ``minimize(loss)`` takes a
callable. Source tests that differ only in graph machinery collapse into one eager case,
named after all of them: ref vs. resource variables (``testBasic``/``testResourceBasic``,
``doTest...(use_resource=...)``, RMSProp's ``use_resource`` column, whose duplicate rows are
dropped), ``use_locking`` (kept as a constructor argument where the source passes it), and
``testSharing`` (two update ops built from one optimizer are two calls of one optimizer).
Fed placeholders become a fresh gradient per step. In eager mode TF1 creates slots and
Adam's beta powers at the first ``apply_gradients``, so checks the source makes before the
first step are made after it (Adam's beta powers are checked after step t against
0.9**(t+1), as the source does in its eager branch). Re-running
``global_variables_initializer`` (``adagrad_test.testSparseStability``) becomes assigning the
initial values back to the variable and its slot.

Skipped, with no eager meaning (graph-mode machinery only):

* ``momentum_test.testVariablesAcrossGraphs``: one optimizer used in two ``tf.Graph``s, and
  ``variables()`` filtered by the current graph.
* ``adam_test.testTwoSessions``: the same optimizer applied in two graphs/sessions.
* ``adam_test.doTestBasic``'s "no non-slot variables from another graph" check (the rest of
  the test is ported).
* ``adam_test.testSparseDevicePlacement``'s GPU placement (no GPU here); the case itself is
  ported: a sparse Adam step with int32 and int64 indices must run.
* ``*.assertFalse(slot in variables.trainable_variables())``: the graph collection of
  trainable variables; ported as ``slot.trainable is False``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import tensorflow as tf

import labkit.train

IMPLS = {"tf1": tf.compat.v1.train, "labkit": labkit.train}
impl_param = pytest.mark.parametrize("impl", ["tf1", "labkit"])

HALF, F32, F64 = tf.float16, tf.float32, tf.float64
ALL3 = (HALF, F32, F64)


@pytest.fixture(autouse=True)
def _fresh_default_graph():
    """What TF's ``TestCase.setUp`` does before each test: a fresh default graph.

    In eager mode TF1 names slots through variable scopes counted in the default graph, so
    without this a second ``var0_0`` in the same process gets ``var0_0/Adam_2:0``.
    """
    tf.compat.v1.reset_default_graph()


def make(impl: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """``<impl>.<name>Optimizer(*args, **kwargs)``."""
    return getattr(IMPLS[impl], name + "Optimizer")(*args, **kwargs)


def value(x: Any) -> np.ndarray:
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def assert_all_close(expected: Any, actual: Any, rtol: float = 1e-6, atol: float = 1e-6,
                     what: str = "") -> None:
    """TF's ``assertAllClose``: same shape, then allclose; NaN matches NaN, as in TF."""
    a, b = np.asarray(expected), value(actual)
    assert a.shape == b.shape, f"{what}: shape {b.shape}, expected {a.shape}"
    if not np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
        diff = np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))
        raise AssertionError(f"{what}: expected {a.tolist()}, got {b.tolist()} "
                             f"(max |diff| {diff:.3g}, rtol={rtol}, atol={atol})")


def assert_close_by_type(expected: Any, actual: Any, *, rtol: float = 1e-6, atol: float = 1e-6,
                         half_rtol: float = 1e-3, half_atol: float = 1e-3,
                         what: str = "") -> None:
    """TF's ``assertAllCloseAccordingToType``: the tolerance widens to the loosest dtype."""
    a, b = np.asarray(expected), value(actual)
    if np.float32 in (a.dtype, b.dtype):
        rtol, atol = max(rtol, 1e-6), max(atol, 1e-6)
    if np.float16 in (a.dtype, b.dtype):
        rtol, atol = max(rtol, half_rtol), max(atol, half_atol)
    assert_all_close(a, b, rtol=rtol, atol=atol, what=what)


def sparse(values: Any, indices: list[int], dense_shape: list[int], dtype: tf.DType) -> tf.IndexedSlices:
    return tf.IndexedSlices(tf.constant(values, dtype=dtype), tf.constant(indices),
                            tf.constant(dense_shape))


def grad_of(spec: Any, dtype: tf.DType) -> Any:
    """A dense gradient from a list, a sparse one from ``("sparse", values, indices, shape)``."""
    if isinstance(spec, tuple) and spec[0] == "sparse":
        return sparse(spec[1], spec[2], spec[3], dtype)
    return tf.constant(spec, dtype=dtype)


def dt_id(dtype: tf.DType) -> str:
    return dtype.name


def beta_powers(opt: Any) -> tuple[tf.Variable, tf.Variable]:
    """Adam's beta1_power and beta2_power, found in ``opt.variables()`` by name."""
    found = {}
    for v in opt.variables():
        for key in ("beta1_power", "beta2_power"):
            if v.name.split("/")[-1].startswith(key):
                found[key] = v
    assert set(found) == {"beta1_power", "beta2_power"}, [v.name for v in opt.variables()]
    return found["beta1_power"], found["beta2_power"]


# ============================================================ fixed expected values after N steps
# Two variables, a constant gradient each, N apply_gradients calls, hard-coded expectations.
# ctor(impl) builds the optimizer (fresh tensors/callables each time); "gstep" is the dtype of a
# global_step variable passed to apply_gradients (and to the constructor for AdagradDA).

BASIC_V = ([1.0, 2.0], [3.0, 4.0])
BASIC_G = ([0.1, 0.1], [0.01, 0.01])
ZERO_V = ([0.0, 0.0], [0.0, 0.0])
V2 = ([1.0, 2.0], [4.0, 3.0])
G2 = ([0.1, 0.2], [0.01, 0.02])
SPARSE_V = ([[1.0], [2.0]], [[3.0], [4.0]])
SPARSE_G = (("sparse", [[0.1]], [0], [2, 1]), ("sparse", [[0.01]], [1], [2, 1]))

ADAGRAD_3 = ([-1.6026098728179932, -0.6026098728179932], [2.715679168701172, 3.715679168701172])
ADAGRAD_DA_1 = ([-0.904534, -1.603567], [-0.094821, -0.189358])


def _case(case_id, dtypes, name, ctor, inits, grads, steps, expected, *, tol0=None, tol1=None,
          gstep=None, close="by_type", slots=None):
    return [pytest.param(dict(name=name, ctor=ctor, inits=inits, grads=grads, steps=steps,
                              expected=expected, tol0=tol0 or {}, tol1=tol1 or {}, gstep=gstep,
                              close=close, slots=slots, case_id=case_id), dt,
                         id=f"{case_id}-{dt_id(dt)}") for dt in dtypes]


FIXED_CASES = [
    # ---- gradient_descent_test.py: GradientDescentOptimizerTest
    *_case("gradient_descent_test.testBasic+testBasicResourceVariable", ALL3, "GradientDescent",
           lambda: dict(learning_rate=3.0), BASIC_V, BASIC_G, 1,
           ([1.0 - 3.0 * 0.1, 2.0 - 3.0 * 0.1], [3.0 - 3.0 * 0.01, 4.0 - 3.0 * 0.01]), slots=[]),
    *_case("gradient_descent_test.testBasicCallableParams", ALL3, "GradientDescent",
           lambda: dict(learning_rate=lambda: 3.0), BASIC_V, BASIC_G, 1,
           ([1.0 - 3.0 * 0.1, 2.0 - 3.0 * 0.1], [3.0 - 3.0 * 0.01, 4.0 - 3.0 * 0.01])),
    *_case("gradient_descent_test.testTensorLearningRate", ALL3, "GradientDescent",
           lambda: dict(learning_rate=tf.constant(3.0)), BASIC_V, BASIC_G, 1,
           ([1.0 - 3.0 * 0.1, 2.0 - 3.0 * 0.1], [3.0 - 3.0 * 0.01, 4.0 - 3.0 * 0.01])),
    *_case("gradient_descent_test.testWithGlobalStep", ALL3, "GradientDescent",
           lambda: dict(learning_rate=3.0), BASIC_V, BASIC_G, 1,
           ([1.0 - 3.0 * 0.1, 2.0 - 3.0 * 0.1], [3.0 - 3.0 * 0.01, 4.0 - 3.0 * 0.01]),
           gstep=tf.int32),
    *_case("gradient_descent_test.testSparseBasic", ALL3, "GradientDescent",
           lambda: dict(learning_rate=3.0), SPARSE_V, SPARSE_G, 1,
           ([[1.0 - 3.0 * 0.1], [2.0]], [[3.0], [4.0 - 3.0 * 0.01]])),
    # ---- adagrad_test.py: AdagradOptimizerTest
    *_case("adagrad_test.testBasic+testBasicResource", ALL3, "Adagrad",
           lambda: dict(learning_rate=3.0, initial_accumulator_value=0.1), BASIC_V, BASIC_G, 3,
           ADAGRAD_3),
    *_case("adagrad_test.testBasicLocked", ALL3, "Adagrad",
           lambda: dict(learning_rate=3.0, initial_accumulator_value=0.1, use_locking=True),
           BASIC_V, BASIC_G, 3, ADAGRAD_3),
    *_case("adagrad_test.testBasicCallableParams", ALL3, "Adagrad",
           lambda: dict(learning_rate=lambda: 3.0, initial_accumulator_value=0.1),
           BASIC_V, BASIC_G, 3, ADAGRAD_3),
    *_case("adagrad_test.testTensorLearningRate", ALL3, "Adagrad",
           lambda: dict(learning_rate=tf.constant(3.0), initial_accumulator_value=0.1),
           BASIC_V, BASIC_G, 3, ADAGRAD_3),
    *_case("adagrad_test.testSharing", ALL3, "Adagrad", lambda: dict(learning_rate=3.0),
           BASIC_V, BASIC_G, 3, ADAGRAD_3, slots=["accumulator"]),
    *_case("adagrad_test.testSparseBasic", ALL3, "Adagrad",
           lambda: dict(learning_rate=3.0, initial_accumulator_value=0.1), SPARSE_V, SPARSE_G, 3,
           ([[-1.6026098728179932], [2.0]], [[3.0], [3.715679168701172]])),
    # ---- adagrad_da_test.py: AdagradDAOptimizerTest (global_step int64, one step)
    *_case("adagrad_da_test.testAdagradDAWithoutRegularizationBasic1+Resource", (F64, F32),
           "AdagradDA", lambda: dict(learning_rate=3.0,
                                     initial_gradient_squared_accumulator_value=0.1,
                                     l1_regularization_strength=0.0,
                                     l2_regularization_strength=0.0),
           ZERO_V, G2, 1, ADAGRAD_DA_1, gstep=tf.int64),
    *_case("adagrad_da_test.testAdagradDAwithoutRegularizationBasic2", (F64, F32), "AdagradDA",
           lambda: dict(learning_rate=3.0, initial_gradient_squared_accumulator_value=0.1,
                        l1_regularization_strength=0.0, l2_regularization_strength=0.0),
           V2, G2, 1, ADAGRAD_DA_1, gstep=tf.int64),
    *_case("adagrad_da_test.testAdagradDAWithL1", (F64, F32), "AdagradDA",
           lambda: dict(learning_rate=3.0, initial_gradient_squared_accumulator_value=0.1,
                        l1_regularization_strength=0.001, l2_regularization_strength=0.0),
           V2, G2, 1, ([-0.895489, -1.59555], [-0.085339, -0.17989]), gstep=tf.int64),
    *_case("adagrad_da_test.testAdagradDAWithL1_L2", (F64, F32), "AdagradDA",
           lambda: dict(learning_rate=3.0, initial_gradient_squared_accumulator_value=0.1,
                        l1_regularization_strength=0.001, l2_regularization_strength=2.0),
           V2, G2, 1, ([-0.046907, -0.093659], [-0.004275, -0.009023]), gstep=tf.int64),
    # ---- ftrl_test.py: FtrlOptimizerTest
    *_case("ftrl_test.testFtrlWithoutRegularization+Resource", (HALF, F32), "Ftrl",
           lambda: dict(learning_rate=3.0, initial_accumulator_value=0.1,
                        l1_regularization_strength=0.0, l2_regularization_strength=0.0),
           ZERO_V, G2, 3, ([-2.60260963, -4.29698515], [-0.28432083, -0.56694895]),
           tol0=dict(half_rtol=1e-2)),
    *_case("ftrl_test.testFtrlwithoutRegularization2", (HALF, F32), "Ftrl",
           lambda: dict(learning_rate=3.0, initial_accumulator_value=0.1,
                        l1_regularization_strength=0.0, l2_regularization_strength=0.0),
           V2, G2, 3, ([-2.55607247, -3.98729396], [-0.28232238, -0.56096673])),
    *_case("ftrl_test.testFtrlWithL1", (HALF, F32), "Ftrl",
           lambda: dict(learning_rate=3.0, initial_accumulator_value=0.1,
                        l1_regularization_strength=0.001, l2_regularization_strength=0.0),
           V2, G2, 10, ([-7.66718769, -10.91273689], [-0.93460727, -1.86147261])),
    *_case("ftrl_test.testFtrlWithL1_L2", (HALF, F32), "Ftrl",
           lambda: dict(learning_rate=3.0, initial_accumulator_value=0.1,
                        l1_regularization_strength=0.001, l2_regularization_strength=2.0),
           V2, G2, 10, ([-0.24059935, -0.46829352], [-0.02406147, -0.04830509])),
    *_case("ftrl_test.testFtrlWithL1_L2_L2Shrinkage", (HALF, F32), "Ftrl",
           lambda: dict(learning_rate=3.0, initial_accumulator_value=0.1,
                        l1_regularization_strength=0.001, l2_regularization_strength=2.0,
                        l2_shrinkage_regularization_strength=0.1),
           V2, G2, 10, ([-0.22578995, -0.44345796], [-0.14378493, -0.13229476])),
    *_case("ftrl_test.testFtrlWithL1_L2_L2ShrinkageSparse", (HALF, F32), "Ftrl",
           lambda: dict(learning_rate=3.0, initial_accumulator_value=0.1,
                        l1_regularization_strength=0.001, l2_regularization_strength=2.0,
                        l2_shrinkage_regularization_strength=0.1),
           ([[1.0], [2.0]], [[4.0], [3.0]]),
           (("sparse", [[0.1]], [0], [2, 1]), ("sparse", [[0.02]], [1], [2, 1])), 10,
           ([[-0.22578995], [2.0]], [[4.0], [-0.13229476]])),
    # ---- proximal_gradient_descent_test.py: ProximalGradientDescentOptimizerTest (float32,
    # assertAllClose)
    *_case("proximal_gradient_descent_test.testProximalGradientDescentwithoutRegularization"
           "+Resource", (F32,), "ProximalGradientDescent",
           lambda: dict(learning_rate=3.0, l1_regularization_strength=0.0,
                        l2_regularization_strength=0.0),
           ZERO_V, G2, 3, ([-0.9, -1.8], [-0.09, -0.18]), close="all"),
    *_case("proximal_gradient_descent_test.testProximalGradientDescentwithoutRegularization2",
           (F32,), "ProximalGradientDescent",
           lambda: dict(learning_rate=3.0, l1_regularization_strength=0.0,
                        l2_regularization_strength=0.0),
           V2, G2, 3, ([0.1, 0.2], [3.91, 2.82]), close="all"),
    *_case("proximal_gradient_descent_test.testProximalGradientDescentWithL1_L2", (F32,),
           "ProximalGradientDescent",
           lambda: dict(learning_rate=3.0, l1_regularization_strength=0.001,
                        l2_regularization_strength=2.0),
           V2, G2, 10, ([-0.0495, -0.0995], [-0.0045, -0.0095]), close="all"),
    # ---- proximal_adagrad_test.py: ProximalAdagradOptimizerTest (float32, assertAllClose)
    *_case("proximal_adagrad_test.testProximalAdagradwithoutRegularization+Resource", (F32,),
           "ProximalAdagrad",
           lambda: dict(learning_rate=3.0, initial_accumulator_value=0.1,
                        l1_regularization_strength=0.0, l2_regularization_strength=0.0),
           ZERO_V, G2, 3, ([-2.60260963, -4.29698515], [-0.28432083, -0.56694895]), close="all"),
    *_case("proximal_adagrad_test.testProximalAdagradwithoutRegularization2", (F32,),
           "ProximalAdagrad",
           lambda: dict(learning_rate=3.0, initial_accumulator_value=0.1,
                        l1_regularization_strength=0.0, l2_regularization_strength=0.0),
           V2, G2, 3, ([-1.60261, -2.296985], [3.715679, 2.433051]), close="all"),
    *_case("proximal_adagrad_test.testProximalAdagradWithL1", (F32,), "ProximalAdagrad",
           lambda: dict(learning_rate=3.0, initial_accumulator_value=0.1,
                        l1_regularization_strength=0.001, l2_regularization_strength=0.0),
           V2, G2, 10, ([-6.663634, -9.190331], [2.959304, 1.029232]), close="all"),
    *_case("proximal_adagrad_test.testProximalAdagradWithL1_L2", (F32,), "ProximalAdagrad",
           lambda: dict(learning_rate=3.0, initial_accumulator_value=0.1,
                        l1_regularization_strength=0.001, l2_regularization_strength=2.0),
           V2, G2, 10, ([-0.0495, -0.0995], [-0.0045, -0.0095]), close="all"),
]


@impl_param
@pytest.mark.parametrize("case,dtype", FIXED_CASES)
def test_fixed_expected_after_steps(case: dict, dtype: tf.DType, impl: str) -> None:
    """N steps with constant gradients reach the source test's hard-coded values."""
    var0 = tf.Variable(case["inits"][0], dtype=dtype, name="var0")
    var1 = tf.Variable(case["inits"][1], dtype=dtype, name="var1")
    grads = [grad_of(g, dtype) for g in case["grads"]]
    kwargs = case["ctor"]()
    global_step = None
    if case["gstep"] is not None:
        global_step = tf.Variable(0, dtype=case["gstep"], trainable=False)
        if case["name"] == "AdagradDA":
            kwargs["global_step"] = global_step
    opt = make(impl, case["name"], **kwargs)
    for _ in range(case["steps"]):
        opt.apply_gradients(list(zip(grads, [var0, var1], strict=True)), global_step=global_step)
    check = assert_close_by_type if case["close"] == "by_type" else assert_all_close
    check(np.array(case["expected"][0]), var0, what="var0", **case["tol0"])
    check(np.array(case["expected"][1]), var1, what="var1", **case["tol1"])
    if global_step is not None:
        assert int(global_step.numpy()) == case["steps"]
    if case["slots"] is not None:
        assert opt.get_slot_names() == case["slots"]
        for name in case["slots"]:
            for v in (var0, var1):
                assert opt.get_slot(v, name).shape == v.shape
    if case["case_id"].startswith("gradient_descent_test.testBasic+"):
        assert len(opt.variables()) == 0


# ============================================================ one minimize() step through a lookup
# loss = (lookup(var0, [0]) @ x) ** 2 with x = [[4], [5]]: the gradient is an IndexedSlices.

def _lookup_loss(var0: tf.Variable, dtype: tf.DType) -> Callable[[], tf.Tensor]:
    def loss() -> tf.Tensor:
        x = tf.constant([[4.0], [5.0]], dtype=dtype)
        pred = tf.matmul(tf.nn.embedding_lookup([var0], [0]), x)
        return pred * pred
    return loss


def _msr(case_id, dtypes, name, ctor, expected, init=([1.0, 2.0],), **tol):
    return [pytest.param(name, ctor, [list(r) for r in init], expected, tol, dt,
                         id=f"{case_id}-{dt_id(dt)}") for dt in dtypes]


MINIMIZE_SPARSE_CASES = [
    *_msr("adadelta_test.testMinimizeSparseResourceVariable", ALL3, "Adadelta",
          lambda gs: dict(learning_rate=1.0, rho=1.0, epsilon=1.0), [[-111, -138]]),
    *_msr("adagrad_test.testMinimizeSparseResourceVariable", ALL3, "Adagrad",
          lambda gs: dict(learning_rate=1.0), [[0, 1], [3, 4]],
          init=([1.0, 2.0], [3.0, 4.0]), atol=0.01),
    *_msr("adagrad_da_test.testMinimizeSparseResourceVariable", (F32, F64), "AdagradDA",
          lambda gs: dict(learning_rate=1.0, global_step=gs), [[-1, -1]], rtol=0.01),
    *_msr("momentum_test.testMinimizeSparseResourceVariable", ALL3, "Momentum",
          lambda gs: dict(learning_rate=1.0, momentum=0.0), [[-111, -138]]),
    *_msr("ftrl_test.testMinimizeSparseResourceVariable", ALL3, "Ftrl",
          lambda gs: dict(learning_rate=1.0), [[0, 1]], atol=0.01),
    *_msr("proximal_gradient_descent_test.testMinimizeSparseResourceVariable", (F32, F64),
          "ProximalGradientDescent", lambda gs: dict(learning_rate=1.0), [[-111, -138]],
          atol=0.01),
    *_msr("proximal_adagrad_test.testMinimizeSparseResourceVariable", (F32, F64),
          "ProximalAdagrad", lambda gs: dict(learning_rate=1.0), [[0, 1]], atol=0.01),
    *_msr("rmsprop_test.testMinimizeSparseResourceVariable", (F32, F64), "RMSProp",
          lambda gs: dict(learning_rate=1.0, decay=0.0, momentum=0.0, epsilon=0.0,
                          centered=False), [[0.0, 1.0]], atol=0.01),
    *_msr("rmsprop_test.testMinimizeSparseResourceVariableCentered", (F32, F64), "RMSProp",
          lambda gs: dict(learning_rate=1.0, decay=0.0, momentum=0.0, epsilon=1.0,
                          centered=True), [[-111, -138]], atol=0.01),
]


@impl_param
@pytest.mark.parametrize("name,ctor,init,expected,tol,dtype", MINIMIZE_SPARSE_CASES)
def test_minimize_sparse_resource_variable(name, ctor, init, expected, tol, dtype, impl):
    """One ``minimize`` step whose gradient comes through ``embedding_lookup``."""
    var0 = tf.Variable(init, dtype=dtype)
    global_step = tf.Variable(0, dtype=tf.int64, trainable=False)
    opt = make(impl, name, **ctor(global_step))
    opt.minimize(_lookup_loss(var0, dtype))
    assert_close_by_type(np.array(expected, dtype=np.float64), var0, what="var0", **tol)


@impl_param
@pytest.mark.parametrize("dtype", ALL3, ids=dt_id)
@pytest.mark.parametrize("lookup", [False, True],
                         ids=["gradient_descent_test.testMinimizeResourceVariable",
                              "gradient_descent_test.testMinimizeSparseResourceVariable"])
def test_gd_minimize_with_bias(lookup, dtype, impl):
    """pred = var0 @ x + var1 (or lookup(var0) @ x + var1); loss = pred**2; one GD step."""
    var0 = tf.Variable([[1.0, 2.0]], dtype=dtype)
    var1 = tf.Variable([3.0], dtype=dtype)

    def loss():
        x = tf.constant([[4.0], [5.0]], dtype=dtype)
        w = tf.nn.embedding_lookup([var0], [0]) if lookup else var0
        pred = tf.matmul(w, x) + var1
        return pred * pred

    make(impl, "GradientDescent", 1.0).minimize(loss)
    np_pred = 1.0 * 4.0 + 2.0 * 5.0 + 3.0
    np_grad = 2 * np_pred
    assert_close_by_type([[1.0 - np_grad * 4.0, 2.0 - np_grad * 5.0]], var0, what="var0")
    assert_close_by_type([3.0 - np_grad], var1, what="var1")


@impl_param
@pytest.mark.parametrize("dtype", ALL3, ids=lambda d: "gradient_descent_test.testGradWrtRef-" + d.name)
def test_gd_grad_wrt_ref(dtype, impl):
    """compute_gradients(var0 + var1, [var0, var1]) gives 1 for each."""
    opt = make(impl, "GradientDescent", 3.0)
    vars_ = [tf.Variable([v], dtype=dtype) for v in (1.0, 3.0)]
    grads_and_vars = opt.compute_gradients(lambda: vars_[0] + vars_[1], vars_)
    assert len(grads_and_vars) == 2
    for grad, _ in grads_and_vars:
        assert_close_by_type([1.0], grad, what="grad")


# ============================================================ equivalences between optimizers
# Same init and gradients for 5 steps; optimizer A (with zero regularization) equals B.

def _eqv(case_id, dtypes, a, b, init, is_sparse, close="by_type", **tol):
    return [pytest.param(a, b, init, is_sparse, close, tol, dt, id=f"{case_id}-{dt_id(dt)}")
            for dt in dtypes]


FTRL_ADAGRAD = ("Ftrl", dict(learning_rate=3.0, learning_rate_power=-0.5,
                             initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                             l2_regularization_strength=0.0))
FTRL_FIXED = ("Ftrl", dict(learning_rate=3.0, learning_rate_power=-0.0,
                           initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                           l2_regularization_strength=0.0))
ADAGRAD = ("Adagrad", dict(learning_rate=3.0, initial_accumulator_value=0.1))
GD = ("GradientDescent", dict(learning_rate=3.0))
PROX_GD = ("ProximalGradientDescent", dict(learning_rate=3.0, l1_regularization_strength=0.0,
                                           l2_regularization_strength=0.0))
PROX_ADAGRAD = ("ProximalAdagrad", dict(learning_rate=3.0, initial_accumulator_value=0.1,
                                        l1_regularization_strength=0.0,
                                        l2_regularization_strength=0.0))

EQUIV_CASES = [
    *_eqv("ftrl_test.testEquivAdagradwithoutRegularization", (HALF, F32), FTRL_ADAGRAD, ADAGRAD,
          "zeros", False, half_rtol=2e-3),
    *_eqv("ftrl_test.testEquivSparseAdagradwithoutRegularization", (HALF, F32), FTRL_ADAGRAD,
          ADAGRAD, "zeros", True),
    *_eqv("ftrl_test.testEquivSparseGradientDescentwithoutRegularization", (HALF, F32),
          FTRL_FIXED, GD, "zeros", True),
    *_eqv("ftrl_test.testEquivGradientDescentwithoutRegularization", (HALF, F32), FTRL_FIXED,
          GD, "zeros", False),
    *_eqv("proximal_gradient_descent_test.testEquivSparseGradientDescentwithoutRegularization",
          (F32,), PROX_GD, GD, "values", True, close="all"),
    *_eqv("proximal_gradient_descent_test.testEquivGradientDescentwithoutRegularization",
          (F32,), PROX_GD, GD, "values", False, close="all"),
    *_eqv("proximal_adagrad_test.testEquivAdagradwithoutRegularization", (F32,), PROX_ADAGRAD,
          ADAGRAD, "values", False, close="all"),
    *_eqv("proximal_adagrad_test.testEquivSparseAdagradwithoutRegularization", (F32,),
          PROX_ADAGRAD, ADAGRAD, "values", True, close="all"),
]


def _apply_five(opt: Any, dtype: tf.DType, init: str, is_sparse: bool) -> tuple:
    """The source tests' ``applyOptimizer``: two variables, 5 steps."""
    if is_sparse:
        inits = ([[0.0], [0.0]], [[0.0], [0.0]]) if init == "zeros" else SPARSE_V
        grads = [sparse([[0.1]], [0], [2, 1], dtype), sparse([[0.02]], [1], [2, 1], dtype)]
    else:
        inits = ZERO_V if init == "zeros" else BASIC_V
        grads = [tf.constant(G2[0], dtype=dtype), tf.constant(G2[1], dtype=dtype)]
    var0, var1 = (tf.Variable(v, dtype=dtype) for v in inits)
    for _ in range(5):
        opt.apply_gradients(list(zip(grads, [var0, var1], strict=True)))
    return var0.numpy(), var1.numpy()


@impl_param
@pytest.mark.parametrize("a,b,init,is_sparse,close,tol,dtype", EQUIV_CASES)
def test_equivalent_without_regularization(a, b, init, is_sparse, close, tol, dtype, impl):
    """Without regularization Ftrl/Proximal* reduce to Adagrad or GradientDescent."""
    val0, val1 = _apply_five(make(impl, a[0], **a[1]), dtype, init, is_sparse)
    val2, val3 = _apply_five(make(impl, b[0], **b[1]), dtype, init, is_sparse)
    check = assert_close_by_type if close == "by_type" else assert_all_close
    check(val0, val2, what=f"var0 {a[0]} vs {b[0]}", **tol)
    check(val1, val3, what=f"var1 {a[0]} vs {b[0]}", **tol)


# ============================================================ repeated sparse indices
REPEATED = [
    pytest.param(name, kwargs, dt, id=f"{src}.testSparseRepeatedIndices-{dt_id(dt)}")
    for src, name, kwargs in (("adagrad_test", "Adagrad", dict(learning_rate=3.0)),
                              ("adam_test", "Adam", {}))
    for dt in ALL3
]


@impl_param
@pytest.mark.parametrize("name,kwargs,dtype", REPEATED)
def test_sparse_repeated_indices(name, kwargs, dtype, impl):
    """Index 1 twice with 0.1 each equals index 1 once with 0.2, for 3 steps."""
    repeated_var = tf.Variable([[1.0], [2.0]], dtype=dtype)
    aggregated_var = tf.Variable([[1.0], [2.0]], dtype=dtype)
    grad_repeated = sparse([[0.1], [0.1]], [1, 1], [2, 1], dtype)
    grad_aggregated = sparse([[0.2]], [1], [2, 1], dtype)
    opt_repeated = make(impl, name, **kwargs)
    opt_aggregated = make(impl, name, **kwargs)
    for step in range(3):
        opt_repeated.apply_gradients([(grad_repeated, repeated_var)])
        opt_aggregated.apply_gradients([(grad_aggregated, aggregated_var)])
        assert_all_close(aggregated_var, repeated_var, what=f"step {step + 1}")


@impl_param
@pytest.mark.parametrize(
    "dtype", ALL3, ids=lambda d: "adagrad_test.testSparseRepeatedIndicesResourceVariable-" + d.name)
def test_adagrad_sparse_repeated_indices_resource_variable(dtype, impl):
    """sum(lookup(v, [0, 0])) and 2 * sum(lookup(v, [0])) train alike, for 3 steps."""
    var_repeated = tf.Variable([1.0, 2.0], dtype=dtype)
    var_aggregated = tf.Variable([1.0, 2.0], dtype=dtype)
    opt_repeated = make(impl, "Adagrad", 2.0)
    opt_aggregated = make(impl, "Adagrad", 2.0)
    for step in range(3):
        opt_repeated.minimize(
            lambda: tf.reduce_sum(tf.nn.embedding_lookup(var_repeated, [0, 0])))
        opt_aggregated.minimize(
            lambda: 2 * tf.reduce_sum(tf.nn.embedding_lookup(var_aggregated, [0])))
        assert_close_by_type(var_repeated.numpy(), var_aggregated, what=f"step {step + 1}")


# ============================================================ Adagrad: stability, unknown shape
@impl_param
@pytest.mark.parametrize("dtype", ALL3, ids=lambda d: "adagrad_test.testSparseStability-" + d.name)
def test_adagrad_sparse_stability(dtype, impl):
    """Tiny sparse gradients: 100 times (re-initialise, one step) give the same values."""
    init = [[0.00872496, -0.106952, 0.110467, 0.226505, -0.0147257, -0.0105945]]
    var0 = tf.Variable(init, dtype=dtype)
    grads0 = sparse([[-5.91278e-05, 5.31673e-05, -2.5779e-06, 4.29153e-05, -8.4877e-05,
                      -9.48906e-05]], [0], [1, 6], dtype)
    opt = make(impl, "Adagrad", 1.0, initial_accumulator_value=0.1)
    for _ in range(100):
        var0.assign(tf.constant(init, dtype=dtype))
        slot0 = opt.get_slot(var0, "accumulator")
        if slot0 is not None:
            slot0.assign(tf.fill([1, 6], tf.constant(0.1, dtype=dtype)))
        opt.apply_gradients([(grads0, var0)])
        assert opt.get_slot_names() == ["accumulator"]
        slot0 = opt.get_slot(var0, "accumulator")
        assert_close_by_type(np.array([[0.1] * 6]), slot0, what="accumulator")
        assert_close_by_type(np.array([[0.00891194, -0.10712013, 0.11047515, 0.22636929,
                                        -0.0144573, -0.01029443]]), var0, what="var0")


@impl_param
def test_adagrad_dynamic_shape_variable_with_callable_init(impl):
    """adagrad_test.testDynamicShapeVariableWithCallableInit: a variable of unknown shape."""
    var0 = tf.Variable(lambda: tf.constant(1.0), shape=tf.TensorShape(None), dtype=tf.float32)
    grads0 = tf.constant(0.1, dtype=tf.float32)
    opt = make(impl, "Adagrad", lambda: 3.0, initial_accumulator_value=0.1, use_locking=True)
    assert_all_close([1.0], [var0.numpy()])
    for _ in range(3):
        opt.apply_gradients([(grads0, var0)])
    assert_close_by_type(np.array([-1.6026098728179932]), [var0.numpy()], what="var0")


# ============================================================ Adadelta: NumPy reference
@impl_param
@pytest.mark.parametrize("callable_params", [False, True],
                         ids=["adadelta_test.testBasic+testResourceBasic",
                              "adadelta_test.testBasicCallableParams"])
@pytest.mark.parametrize("dtype", (HALF, F32), ids=dt_id)
def test_adadelta_basic(dtype, callable_params, impl):
    """4 steps for each grad in (0.2, 0.1, 0.01) and lr in (1.0, 0.5, 0.1), rho 0.95, eps 1e-8."""
    np_dtype = dtype.as_numpy_dtype
    rho, epsilon = 0.95, 1e-8
    for grad in (0.2, 0.1, 0.01):
        for lr in (1.0, 0.5, 0.1):
            var0_init, var1_init = [1.0, 2.0], [3.0, 4.0]
            var0 = tf.Variable(var0_init, dtype=dtype, name="var0")
            var1 = tf.Variable(var1_init, dtype=dtype, name="var1")
            grads = tf.constant([grad, grad], dtype=dtype)
            if callable_params:
                opt = make(impl, "Adadelta", learning_rate=lambda lr=lr: lr,
                           rho=lambda: rho, epsilon=lambda: epsilon)
            else:
                opt = make(impl, "Adadelta", learning_rate=lr, rho=rho, epsilon=epsilon)
            accum = accum_update = tot_update = 0.0
            for step in range(4):
                opt.apply_gradients(list(zip([grads, grads], [var0, var1], strict=True)))
                if step == 0:
                    opt_vars = opt.variables()
                    assert len(opt_vars) == 4, [v.name for v in opt_vars]
                    for v, prefix in zip(opt_vars, ["var0", "var0", "var1", "var1"], strict=True):
                        assert v.name.startswith(prefix), [v.name for v in opt_vars]
                    assert opt.get_slot_names() == ["accum", "accum_update"]
                    for v in (var0, var1):
                        for name in ("accum", "accum_update"):
                            slot = opt.get_slot(v, name)
                            assert slot.shape == v.shape and not slot.trainable
                accum = accum * rho + (grad**2) * (1 - rho)
                update = np.sqrt(accum_update + epsilon) * (1.0 / np.sqrt(accum + epsilon)) * grad
                accum_update = accum_update * rho + (update**2) * (1.0 - rho)
                tot_update += update * lr
                what = f"grad={grad} lr={lr} step={step + 1}"
                for v in (var0, var1):
                    assert_close_by_type(np.array([accum, accum], dtype=np_dtype),
                                         opt.get_slot(v, "accum"), rtol=1e-5,
                                         what=f"accum {what}")
                    assert_close_by_type(np.array([accum_update, accum_update], dtype=np_dtype),
                                         opt.get_slot(v, "accum_update"), rtol=1e-5,
                                         what=f"accum_update {what}")
                for v, init in ((var0, var0_init), (var1, var1_init)):
                    assert_close_by_type(
                        np.array([init[0] - tot_update, init[1] - tot_update], dtype=np_dtype),
                        v, rtol=1e-5, what=f"var {what}")


# ============================================================ Momentum
MOMENTUM_TWO_STEP = [
    pytest.param(ctor, dt, id=f"momentum_test.{src}-{dt_id(dt)}")
    for src, ctor in (
        ("testBasic+testResourceBasic", lambda: dict(learning_rate=2.0, momentum=0.9)),
        ("testBasicCallableParams", lambda: dict(learning_rate=lambda: 2.0, momentum=lambda: 0.9)),
        ("testTensorLearningRateAndMomentum",
         lambda: dict(learning_rate=tf.constant(2.0), momentum=tf.constant(0.9))),
        ("testSharing", lambda: dict(learning_rate=2.0, momentum=0.9)),
    )
    for dt in ALL3
]


@impl_param
@pytest.mark.parametrize("ctor,dtype", MOMENTUM_TWO_STEP)
def test_momentum_two_steps(ctor, dtype, impl):
    """lr 2.0, momentum 0.9: slots and variables after step 1 and step 2."""
    i = ALL3.index(dtype)
    var0 = tf.Variable([1.0, 2.0], dtype=dtype, name=f"var0_{i}")
    var1 = tf.Variable([3.0, 4.0], dtype=dtype, name=f"var1_{i}")
    grads0 = tf.constant([0.1, 0.1], dtype=dtype)
    grads1 = tf.constant([0.01, 0.01], dtype=dtype)
    opt = make(impl, "Momentum", **ctor())
    opt.apply_gradients(list(zip([grads0, grads1], [var0, var1], strict=True)))
    assert opt.get_slot_names() == ["momentum"]
    slot0, slot1 = opt.get_slot(var0, "momentum"), opt.get_slot(var1, "momentum")
    assert slot0.shape == var0.shape and slot1.shape == var1.shape
    assert not slot0.trainable and not slot1.trainable
    assert_close_by_type(np.array([0.1, 0.1]), slot0, what="slot0 step 1")
    assert_close_by_type(np.array([0.01, 0.01]), slot1, what="slot1 step 1")
    assert_close_by_type(np.array([1.0 - (0.1 * 2.0), 2.0 - (0.1 * 2.0)]), var0, what="var0 step 1")
    assert_close_by_type(np.array([3.0 - (0.01 * 2.0), 4.0 - (0.01 * 2.0)]), var1,
                         what="var1 step 1")
    opt.apply_gradients(list(zip([grads0, grads1], [var0, var1], strict=True)))
    assert_close_by_type(np.array([(0.9 * 0.1 + 0.1), (0.9 * 0.1 + 0.1)]), slot0,
                         what="slot0 step 2")
    assert_close_by_type(np.array([(0.9 * 0.01 + 0.01), (0.9 * 0.01 + 0.01)]), slot1,
                         what="slot1 step 2")
    assert_close_by_type(np.array([1.0 - (0.1 * 2.0) - ((0.9 * 0.1 + 0.1) * 2.0),
                                   2.0 - (0.1 * 2.0) - ((0.9 * 0.1 + 0.1) * 2.0)]), var0,
                         what="var0 step 2")
    assert_close_by_type(np.array([2.98 - ((0.9 * 0.01 + 0.01) * 2.0),
                                   3.98 - ((0.9 * 0.01 + 0.01) * 2.0)]), var1,
                         what="var1 step 2")


@impl_param
@pytest.mark.parametrize("dtype", ALL3, ids=lambda d: "momentum_test.testSparse-" + d.name)
def test_momentum_sparse(dtype, impl):
    """Sparse rows of a [4, 2] variable; untouched rows and their slots stay put."""
    var0 = tf.Variable(tf.zeros([4, 2], dtype=dtype))
    var1 = tf.Variable(tf.constant(1.0, dtype, [4, 2]))
    grads0 = sparse([[0.1, 0.1]], [1], [4, 2], dtype)
    grads1 = sparse([[0.01, 0.01], [0.01, 0.01]], [2, 3], [4, 2], dtype)
    opt = make(impl, "Momentum", learning_rate=2.0, momentum=0.9)
    opt.apply_gradients(list(zip([grads0, grads1], [var0, var1], strict=True)))
    assert opt.get_slot_names() == ["momentum"]
    slot0, slot1 = opt.get_slot(var0, "momentum"), opt.get_slot(var1, "momentum")
    assert slot0.shape == var0.shape and slot1.shape == var1.shape
    assert_close_by_type(np.array([0, 0]), slot0.numpy()[0], what="slot0[0] step 1")
    assert_close_by_type(np.array([0.1, 0.1]), slot0.numpy()[1], what="slot0[1] step 1")
    assert_close_by_type(np.array([0.01, 0.01]), slot1.numpy()[2], what="slot1[2] step 1")
    assert_close_by_type(np.array([0, 0]), var0.numpy()[0], what="var0[0] step 1")
    assert_close_by_type(np.array([-(0.1 * 2.0), -(0.1 * 2.0)]), var0.numpy()[1],
                         what="var0[1] step 1")
    assert_close_by_type(np.array([1.0 - (0.01 * 2.0), 1.0 - (0.01 * 2.0)]), var1.numpy()[2],
                         what="var1[2] step 1")
    opt.apply_gradients(list(zip([grads0, grads1], [var0, var1], strict=True)))
    assert_all_close(np.array([0, 0]), slot0.numpy()[0], what="slot0[0] step 2")
    assert_close_by_type(np.array([(0.9 * 0.1 + 0.1), (0.9 * 0.1 + 0.1)]), slot0.numpy()[1],
                         what="slot0[1] step 2")
    assert_close_by_type(np.array([(0.9 * 0.01 + 0.01), (0.9 * 0.01 + 0.01)]),
                         slot1.numpy()[2], what="slot1[2] step 2")
    assert_all_close(np.array([0, 0]), var0.numpy()[0], what="var0[0] step 2")
    assert_close_by_type(np.array([-(0.1 * 2.0) - ((0.9 * 0.1 + 0.1) * 2.0),
                                   -(0.1 * 2.0) - ((0.9 * 0.1 + 0.1) * 2.0)]),
                         var0.numpy()[1], what="var0[1] step 2")
    assert_close_by_type(np.array([0.98 - ((0.9 * 0.01 + 0.01) * 2.0),
                                   0.98 - ((0.9 * 0.01 + 0.01) * 2.0)]),
                         var1.numpy()[2], what="var1[2] step 2")


def _nesterov_numpy(var, accum, g, lr, momentum):
    """The source's reference: look ahead, accumulate, step, then the Nesterov correction."""
    var = var + accum * lr * momentum
    accum = accum * momentum + g
    var = var - lr * accum
    var = var - accum * lr * momentum
    return var, accum


@impl_param
@pytest.mark.parametrize("sparse_grad", [False, True],
                         ids=["momentum_test.testNesterovMomentum",
                              "momentum_test.testSparseNesterovMomentum"])
@pytest.mark.parametrize("dtype", (F32, F64), ids=dt_id)
def test_momentum_nesterov(dtype, sparse_grad, impl):
    """cost = 5 * var0**2 + 3 * var1, lr 2.0, momentum 0.9, Nesterov, 4 steps."""
    np_dtype = dtype.as_numpy_dtype
    var0_np, var1_np = np.array([1.0, 2.0], np_dtype), np.array([3.0, 4.0], np_dtype)
    accum0_np, accum1_np = np.zeros(2, np_dtype), np.zeros(2, np_dtype)
    var0, var1 = tf.Variable(var0_np), tf.Variable(var1_np)
    opt = make(impl, "Momentum", learning_rate=2.0, momentum=0.9, use_nesterov=True)
    global_step = tf.Variable(tf.zeros([], tf.int64), name="global_step")
    for step in range(4):
        if sparse_grad:
            # The source feeds the gradients its NumPy run produced, as IndexedSlices.
            g0 = tf.IndexedSlices(tf.constant(var0_np * 10), tf.constant([0, 1]),
                                  tf.constant([2]))
            opt.apply_gradients([(g0, var0), (tf.constant([3.0, 3.0], dtype=dtype), var1)])
        else:
            opt.minimize(lambda: 5 * var0 * var0 + 3 * var1, global_step, [var0, var1])
        var0_np, accum0_np = _nesterov_numpy(var0_np, accum0_np, var0_np * 10, 2.0, 0.9)
        var1_np, accum1_np = _nesterov_numpy(var1_np, accum1_np, 3, 2.0, 0.9)
        assert_all_close(var0_np, var0, what=f"var0 step {step + 1}")
        assert_all_close(var1_np, var1, what=f"var1 step {step + 1}")


@impl_param
def test_momentum_minimize_with_2d_indices_for_embedding_lookup(impl):
    """momentum_test.testMinimizeWith2DIndicesForEmbeddingLookup."""
    var0 = tf.Variable(tf.ones([2, 2]))
    opt = make(impl, "Momentum", learning_rate=1.0, momentum=0.0)
    opt.minimize(lambda: tf.reduce_sum(tf.nn.embedding_lookup(var0, [[1]])))
    assert_close_by_type([[1, 1], [0, 0]], var0, what="var0")


# Generated by TF's authors from the DistBelief momentum unit test (lr 0.1, momentum 0.1):
# the gradients of 10 steps and the parameters after each (momentum_test._dbParamsMom01).
DB_GRAD = [
    [0.00096264342, 0.17914793, 0.93945462, 0.41396621, 0.53037018, 0.93197989, 0.78648776,
     0.50036013, 0.55345792, 0.96722615],
    [0.17075552, 0.88821375, 0.20873757, 0.25236958, 0.57578111, 0.15312378, 0.5513742,
     0.94687688, 0.16012503, 0.22159521],
    [0.35077485, 0.47304362, 0.44412705, 0.44368884, 0.078527533, 0.81223965, 0.31168157,
     0.43203235, 0.16792089, 0.24644311],
    [0.9694621, 0.75035888, 0.28171822, 0.83813518, 0.53807181, 0.3728098, 0.81454384,
     0.03848977, 0.89759839, 0.93665648],
    [0.38578293, 0.8536852, 0.88722926, 0.66276771, 0.13678469, 0.94036359, 0.69107032,
     0.81897682, 0.5433259, 0.67860287],
    [0.27885768, 0.76100707, 0.24625534, 0.81354135, 0.18959245, 0.48038563, 0.84163809,
     0.41172323, 0.83259648, 0.44941229],
    [0.27233034, 0.056316052, 0.5039115, 0.24105175, 0.35697976, 0.75913221, 0.73577434,
     0.16014607, 0.57500273, 0.071136251],
    [0.58697265, 0.2494842, 0.08106143, 0.39954534, 0.15892942, 0.12683646, 0.74053431, 0.16033,
     0.66625422, 0.73515922],
    [0.8215279, 0.41994119, 0.95172721, 0.68000203, 0.79439718, 0.43384039, 0.55561525,
     0.22567581, 0.93331909, 0.29438227],
    [0.68297005, 0.67758518, 0.1748755, 0.13266537, 0.70697063, 0.055731893, 0.68593478,
     0.50580865, 0.12602448, 0.093537711],
]
DB_OUT = [
    [-9.6264346e-05, -0.017914793, -0.093945466, -0.041396622, -0.053037018, -0.093197994,
     -0.078648776, -0.050036013, -0.055345792, -0.096722618],
    [-0.017181443, -0.10852765, -0.12421377, -0.070773244, -0.11591884, -0.11783017,
     -0.14165108, -0.14972731, -0.076892875, -0.1285544],
    [-0.053967446, -0.1648933, -0.1716533, -0.1180798, -0.13005978, -0.20151734, -0.17911947,
     -0.20289968, -0.095839672, -0.15638189],
    [-0.15459226, -0.24556576, -0.20456907, -0.20662397, -0.18528105, -0.24716705, -0.2643207,
     -0.21206589, -0.18749419, -0.2528303],
    [-0.20323303, -0.33900154, -0.29658359, -0.28175515, -0.20448165, -0.34576839, -0.34194785,
     -0.29488021, -0.25099224, -0.33033544],
    [-0.23598288, -0.42444581, -0.33041057, -0.3706224, -0.22536094, -0.40366709, -0.43387437,
     -0.34433398, -0.34060168, -0.38302717],
    [-0.26649091, -0.43862185, -0.38418442, -0.40361428, -0.26314685, -0.48537019, -0.51664448,
     -0.36529395, -0.40706289, -0.39540997],
    [-0.32823896, -0.46498787, -0.39766794, -0.446868, -0.28281838, -0.50622416, -0.59897494,
     -0.38342294, -0.48033443, -0.47016418],
    [-0.41656655, -0.50961858, -0.49418902, -0.51919359, -0.36422527, -0.55169362, -0.6627695,
     -0.40780342, -0.58099347, -0.50707781],
    [-0.49369633, -0.58184016, -0.52132869, -0.5396927, -0.44306302, -0.56181377, -0.73774242,
     -0.46082234, -0.60366184, -0.52012295],
]


@impl_param
def test_momentum_like_dist_belief_mom01(impl):
    """momentum_test.testLikeDistBeliefMom01: 10 fed gradients, lr 0.1, momentum 0.1."""
    var0 = tf.Variable([0.0] * 10)
    opt = make(impl, "Momentum", learning_rate=0.1, momentum=0.1)
    for i, (g, out) in enumerate(zip(DB_GRAD, DB_OUT, strict=True)):
        opt.apply_gradients([(tf.constant(g, dtype=tf.float32), var0)])
        assert_all_close(np.array(out), var0, what=f"step {i + 1}")


# ============================================================ Adam: NumPy reference
def adam_numpy(param, g_t, t, m, v, alpha=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """The source's ``adam_update_numpy``: bias correction folded into the step size."""
    alpha_t = alpha * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    m_t = beta1 * m + (1 - beta1) * g_t
    v_t = beta2 * v + (1 - beta2) * g_t * g_t
    return param - alpha_t * m_t / (np.sqrt(v_t) + epsilon), m_t, v_t


ADAM_CASES = [
    pytest.param(kind, ctor, dt, id=f"adam_test.{src}-{dt_id(dt)}")
    for src, kind, ctor in (
        ("testSparse+testResourceSparse", "sparse", dict),
        ("testBasic+testResourceBasic", "dense", dict),
        ("testBasicCallableParams", "dense", lambda: dict(learning_rate=lambda: 0.001)),
        ("testTensorLearningRate", "dense", lambda: dict(learning_rate=tf.constant(0.001))),
        ("testSharing", "dense", dict),
    )
    for dt in ALL3
]


@impl_param
@pytest.mark.parametrize("kind,ctor,dtype", ADAM_CASES)
def test_adam_three_steps(kind, ctor, dtype, impl):
    """Default Adam, 3 steps against the NumPy reference; beta powers after each step."""
    i = ALL3.index(dtype)
    np_dtype = dtype.as_numpy_dtype
    m0 = v0 = m1 = v1 = 0.0
    var0_np, grads0_np = np.array([1.0, 2.0], np_dtype), np.array([0.1, 0.1], np_dtype)
    var1_np, grads1_np = np.array([3.0, 4.0], np_dtype), np.array([0.01, 0.01], np_dtype)
    var0 = tf.Variable(var0_np, name=f"var0_{i}")
    var1 = tf.Variable(var1_np, name=f"var1_{i}")
    if kind == "sparse":
        grads0 = tf.IndexedSlices(tf.constant(grads0_np), tf.constant(np.array([0, 1], np.int32)),
                                  tf.constant([2]))
        grads1 = tf.IndexedSlices(tf.constant(grads1_np), tf.constant(np.array([0, 1], np.int32)),
                                  tf.constant([2]))
    else:
        grads0, grads1 = tf.constant(grads0_np), tf.constant(grads1_np)
    opt = make(impl, "Adam", **ctor())
    for t in range(1, 4):
        opt.apply_gradients(list(zip([grads0, grads1], [var0, var1], strict=True)))
        beta1_power, beta2_power = beta_powers(opt)
        assert_close_by_type(0.9 ** (t + 1), beta1_power, what=f"beta1_power step {t}")
        assert_close_by_type(0.999 ** (t + 1), beta2_power, what=f"beta2_power step {t}")
        var0_np, m0, v0 = adam_numpy(var0_np, grads0_np, t, m0, v0)
        var1_np, m1, v1 = adam_numpy(var1_np, grads1_np, t, m1, v1)
        assert_close_by_type(var0_np, var0, what=f"var0 step {t}")
        assert_close_by_type(var1_np, var1, what=f"var1 step {t}")
        if kind == "dense" and ctor is dict:
            assert opt.get_slot(var=var0, name="m").name == f"var0_{i}/Adam:0"


@impl_param
@pytest.mark.parametrize("index_dtype", (tf.int32, tf.int64),
                         ids=lambda d: "adam_test.testSparseDevicePlacement-" + d.name)
def test_adam_sparse_device_placement(index_dtype, impl):
    """minimize(sum(gather(var, indices))) runs for int32 and int64 indices."""
    var = tf.Variable([[1.0], [2.0]])
    indices = tf.constant([0, 1], dtype=index_dtype)
    before = var.numpy()
    make(impl, "Adam", 3.0).minimize(lambda: tf.reduce_sum(tf.gather(var, indices)))
    assert np.all(np.isfinite(var.numpy())) and not np.array_equal(before, var.numpy())


@impl_param
def test_adam_slots_unique_eager(impl):
    """adam_test.testSlotsUniqueEager: 2 non-slot variables + 2 slots for each of 2 variables."""
    v1, v2 = tf.Variable(1.0), tf.Variable(1.0)
    opt = make(impl, "Adam", 1.0)
    opt.minimize(lambda: v1 + v2)
    assert len({id(v) for v in opt.variables()}) == 6, [v.name for v in opt.variables()]


# ============================================================ Ftrl: l2 shrinkage and the schedule
@impl_param
@pytest.mark.parametrize(
    "dtype", (HALF, F32),
    ids=lambda d: "ftrl_test.testFtrlWithL2ShrinkageDoesNotChangeLrSchedule-" + d.name)
def test_ftrl_l2_shrinkage_does_not_change_lr_schedule(dtype, impl):
    """Shrinkage makes weights smaller but leaves the gradient accumulator as without it."""
    var0 = tf.Variable([1.0, 2.0], dtype=dtype)
    var1 = tf.Variable([1.0, 2.0], dtype=dtype)
    grads0 = tf.constant([0.1, 0.2], dtype=dtype)
    grads1 = tf.constant([0.1, 0.2], dtype=dtype)
    common = dict(initial_accumulator_value=0.1, l1_regularization_strength=0.001,
                  l2_regularization_strength=2.0)
    opt0 = make(impl, "Ftrl", 3.0, l2_shrinkage_regularization_strength=0.1, **common)
    opt1 = make(impl, "Ftrl", 3.0, **common)
    for _ in range(10):
        opt0.apply_gradients([(grads0, var0)])
        opt1.apply_gradients([(grads1, var1)])
    v0_val, v1_val = var0.numpy(), var1.numpy()
    assert (v0_val**2 < v1_val**2).all(), (v0_val, v1_val)
    assert_close_by_type(opt0.get_slot(var0, "accum").numpy(), opt1.get_slot(var1, "accum"),
                         what="accum")


# ============================================================ RMSProp
RMSPROP_PARAMS = [
    # learning_rate, decay, momentum, epsilon, centered (the source's rows; its use_resource
    # column only duplicates rows in eager mode)
    (0.5, 0.9, 0.0, 1e-3, True),
    (0.5, 0.9, 0.0, 1e-3, False),
    (0.1, 0.9, 0.0, 1e-3, True),
    (0.5, 0.95, 0.0, 1e-3, False),
    (0.5, 0.95, 0.0, 1e-5, True),
    (0.5, 0.95, 0.9, 1e-5, True),
]


def _rms_id(p):
    return "lr{}-decay{}-mom{}-eps{}-{}".format(*p[:4], "centered" if p[4] else "plain")


def rmsprop_numpy(var, g, mg, rms, mom, lr, decay, momentum, epsilon, centered):
    """The source's dense reference (epsilon inside the square root)."""
    rms_t = rms * decay + (1 - decay) * g * g
    denom_t = rms_t + epsilon
    if centered:
        mg_t = mg * decay + (1 - decay) * g
        denom_t = denom_t - mg_t * mg_t
    else:
        mg_t = mg
    mom_t = momentum * mom + lr * g / np.sqrt(denom_t, dtype=denom_t.dtype)
    return var - mom_t, mg_t, rms_t, mom_t


def rmsprop_sparse_numpy(var, indices, values, mg, rms, mom, lr, decay, momentum, epsilon,
                         centered):
    """The source's sparse reference: the dense rule on the touched rows only."""
    mg_t, rms_t, mom_t, var_t = mg.copy(), rms.copy(), mom.copy(), var.copy()
    for i, g in zip(indices, values, strict=True):
        rms_t[i] = rms[i] * decay + (1 - decay) * g * g
        denom = rms_t[i] + epsilon
        if centered:
            mg_t[i] = mg_t[i] * decay + (1 - decay) * g
            denom -= mg_t[i] * mg_t[i]
        mom_t[i] = momentum * mom[i] + lr * g / np.sqrt(denom)
        var_t[i] = var[i] - mom_t[i]
    return var_t, mg_t, rms_t, mom_t


@impl_param
@pytest.mark.parametrize("params", RMSPROP_PARAMS, ids=_rms_id)
@pytest.mark.parametrize("dtype", (HALF, F32), ids=dt_id)
@pytest.mark.parametrize("is_sparse", [False, True],
                         ids=["rmsprop_test.testDense", "rmsprop_test.testSparse"])
def test_rmsprop_four_steps(is_sparse, dtype, params, impl):
    """4 steps against the NumPy reference; mg exists only when centered; rms starts at 1."""
    lr, decay, momentum, epsilon, centered = params
    np_dtype = dtype.as_numpy_dtype
    var0_np, var1_np = np.array([1.0, 2.0], np_dtype), np.array([3.0, 4.0], np_dtype)
    var0, var1 = tf.Variable(var0_np), tf.Variable(var1_np)
    if is_sparse:
        grads0_np, grads1_np = np.array([0.1], np_dtype), np.array([0.01], np_dtype)
        idx0, idx1 = np.array([0], np.int32), np.array([1], np.int32)
        grads0 = tf.IndexedSlices(tf.constant(grads0_np), tf.constant(idx0), tf.constant([1]))
        grads1 = tf.IndexedSlices(tf.constant(grads1_np), tf.constant(idx1), tf.constant([1]))
    else:
        grads0_np, grads1_np = np.array([0.1, 0.2], np_dtype), np.array([0.01, 0.2], np_dtype)
        grads0, grads1 = tf.constant(grads0_np), tf.constant(grads1_np)
    opt = make(impl, "RMSProp", learning_rate=lr, decay=decay, momentum=momentum,
               epsilon=epsilon, centered=centered)
    state = {k: [np.array([x, x], np_dtype) for _ in range(2)]
             for k, x in (("mg", 0.0), ("rms", 1.0), ("mom", 0.0))}
    for step in range(4):
        opt.apply_gradients(list(zip([grads0, grads1], [var0, var1], strict=True)))
        if step == 0:
            for v in (var0, var1):
                assert (opt.get_slot(v, "mg") is not None) == centered
                assert opt.get_slot(v, "rms") is not None
                assert opt.get_slot(v, "momentum") is not None
        hyper = (lr, decay, momentum, epsilon, centered)
        if is_sparse:
            var0_np, state["mg"][0], state["rms"][0], state["mom"][0] = rmsprop_sparse_numpy(
                var0_np, idx0, grads0_np, state["mg"][0], state["rms"][0], state["mom"][0], *hyper)
            var1_np, state["mg"][1], state["rms"][1], state["mom"][1] = rmsprop_sparse_numpy(
                var1_np, idx1, grads1_np, state["mg"][1], state["rms"][1], state["mom"][1], *hyper)
        else:
            var0_np, state["mg"][0], state["rms"][0], state["mom"][0] = rmsprop_numpy(
                var0_np, grads0_np, state["mg"][0], state["rms"][0], state["mom"][0], *hyper)
            var1_np, state["mg"][1], state["rms"][1], state["mom"][1] = rmsprop_numpy(
                var1_np, grads1_np, state["mg"][1], state["rms"][1], state["mom"][1], *hyper)
        for k, v in enumerate((var0, var1)):
            if centered:
                assert_close_by_type(state["mg"][k], opt.get_slot(v, "mg"),
                                     what=f"mg{k} step {step + 1}")
            assert_close_by_type(state["rms"][k], opt.get_slot(v, "rms"),
                                 what=f"rms{k} step {step + 1}")
            assert_close_by_type(state["mom"][k], opt.get_slot(v, "momentum"),
                                 what=f"momentum{k} step {step + 1}")
        assert_close_by_type(var0_np, var0, what=f"var0 step {step + 1}")
        assert_close_by_type(var1_np, var1, what=f"var1 step {step + 1}")


def _rms_expected(momentum: float, epsilon: float) -> list[dict]:
    """The source's hand-written values for lr 2.0, decay 0.9 and grads 0.1 / 0.01."""
    s = math.sqrt
    m1_0, m1_1 = 0.1 * 2.0 / s(0.901 + epsilon), 0.01 * 2.0 / s(0.90001 + epsilon)
    # The source writes 0.90001 * 0.9 + 1e-5 + 1e-5 as "0.90001 * 0.9 + 2e-5".
    u2_0 = 0.1 * 2.0 / s(0.901 * 0.9 + 0.001 + epsilon)
    u2_1 = 0.01 * 2.0 / s(0.90001 * 0.9 + 1e-5 + epsilon)
    m2_0, m2_1 = momentum * m1_0 + u2_0, momentum * m1_1 + u2_1
    step1 = dict(rms0=[0.901] * 2, rms1=[0.90001] * 2, mom0=[m1_0] * 2, mom1=[m1_1] * 2,
                 var0=[1.0 - m1_0, 2.0 - m1_0], var1=[3.0 - m1_1, 4.0 - m1_1])
    step2 = dict(rms0=[0.901 * 0.9 + 0.001] * 2, rms1=[0.90001 * 0.9 + 1e-5] * 2,
                 mom0=[m2_0] * 2, mom1=[m2_1] * 2,
                 var0=[1.0 - m1_0 - m2_0, 2.0 - m1_0 - m2_0],
                 var1=[3.0 - m1_1 - m2_1, 4.0 - m1_1 - m2_1])
    if momentum == 0.0:  # testWithoutMomentum / testCallableParams do not check the momentum
        for st in (step1, step2):
            del st["mom0"], st["mom1"]
    return [step1, step2]


RMSPROP_TWO_STEP = [
    pytest.param(ctor, momentum, eps, check_slots, dt, id=f"rmsprop_test.{src}-{dt_id(dt)}")
    for src, ctor, momentum, eps, check_slots in (
        ("testWithoutMomentum",
         lambda: dict(learning_rate=2.0, decay=0.9, momentum=0.0, epsilon=1.0), 0.0, 1.0, True),
        ("testWithMomentum",
         lambda: dict(learning_rate=2.0, decay=0.9, momentum=0.5, epsilon=1e-5), 0.5, 1e-5, True),
        ("testCallableParams",
         lambda: dict(learning_rate=lambda: 2.0, decay=lambda: 0.9, momentum=lambda: 0.0,
                      epsilon=lambda: 1.0), 0.0, 1.0, False),
    )
    for dt in (HALF, F32)
]


@impl_param
@pytest.mark.parametrize("ctor,momentum,epsilon,check_slots,dtype", RMSPROP_TWO_STEP)
def test_rmsprop_two_steps(ctor, momentum, epsilon, check_slots, dtype, impl):
    """lr 2.0, decay 0.9: rms, momentum and variables after step 1 and step 2."""
    var0 = tf.Variable([1.0, 2.0], dtype=dtype)
    var1 = tf.Variable([3.0, 4.0], dtype=dtype)
    grads0 = tf.constant([0.1, 0.1], dtype=dtype)
    grads1 = tf.constant([0.01, 0.01], dtype=dtype)
    opt = make(impl, "RMSProp", **ctor())
    for step, expected in enumerate(_rms_expected(momentum, epsilon), start=1):
        opt.apply_gradients(list(zip([grads0, grads1], [var0, var1], strict=True)))
        actual = dict(var0=var0, var1=var1)
        if check_slots:
            actual.update(rms0=opt.get_slot(var0, "rms"), rms1=opt.get_slot(var1, "rms"),
                          mom0=opt.get_slot(var0, "momentum"),
                          mom1=opt.get_slot(var1, "momentum"))
        for key, got in actual.items():
            if key in expected:
                assert_close_by_type(np.array(expected[key]), got, what=f"{key} step {step}")

"""The contract of labkit.train.Optimizer and of the ten optimizers' public API."""

from __future__ import annotations

import inspect
import os

import numpy as np
import pytest
import tensorflow as tf

import labkit.train as lt

NAMES = [
    "GradientDescentOptimizer", "MomentumOptimizer", "AdagradOptimizer", "AdagradDAOptimizer",
    "AdadeltaOptimizer", "RMSPropOptimizer", "AdamOptimizer", "FtrlOptimizer",
    "ProximalGradientDescentOptimizer", "ProximalAdagradOptimizer",
]


def make(name: str, step: tf.Variable | None = None, **kw):
    """Build optimizer ``name`` with a learning rate (and the arguments TF1 requires)."""
    cls = getattr(lt, name)
    kw.setdefault("learning_rate", 0.1)
    if name == "MomentumOptimizer":
        kw.setdefault("momentum", 0.9)
    if name == "AdagradDAOptimizer":
        kw.setdefault("global_step", step if step is not None else tf.Variable(0, dtype=tf.int64))
    return cls(**kw)


# ----------------------------------------------------------------------------- public API
def test_every_public_name_resolves():
    assert set(NAMES + ["Optimizer", "OPTIMIZERS", "Saver", "latest_checkpoint", "processing"]) == set(lt.__all__)
    for name in lt.__all__:
        assert getattr(lt, name) is not None
    for name in NAMES:
        assert issubclass(getattr(lt, name), lt.Optimizer)


@pytest.mark.parametrize("name", NAMES)
def test_constructor_signature_identical_to_tf1(name):
    ours = inspect.signature(getattr(lt, name).__init__)
    theirs = inspect.signature(getattr(tf.compat.v1.train, name).__init__)
    assert list(ours.parameters) == list(theirs.parameters)
    for p in theirs.parameters.values():
        assert ours.parameters[p.name].default == p.default, p.name
        assert ours.parameters[p.name].kind == p.kind, p.name


@pytest.mark.parametrize("method", ["minimize", "compute_gradients", "apply_gradients"])
def test_method_signatures_extend_tf1(method):
    ours = inspect.signature(getattr(lt.Optimizer, method)).parameters
    theirs = inspect.signature(getattr(tf.compat.v1.train.Optimizer, method)).parameters
    assert list(ours)[: len(theirs)] == list(theirs)
    for p in theirs.values():
        assert ours[p.name].default == p.default, p.name
    if method != "apply_gradients":
        assert list(ours)[len(theirs):] == ["tape"]


def test_gate_constants_and_attributes():
    assert (lt.Optimizer.GATE_NONE, lt.Optimizer.GATE_OP, lt.Optimizer.GATE_GRAPH) == (0, 1, 2)
    opt = lt.AdamOptimizer(use_locking=True, name="MyAdam")
    assert opt._name == "MyAdam" and opt._use_locking is True


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="lr"):
        lt.AdamOptimizer(lr=0.1)


# ----------------------------------------------------------------------------- slots
@pytest.mark.parametrize("name,slots", [
    ("GradientDescentOptimizer", []), ("MomentumOptimizer", ["momentum"]),
    ("AdagradOptimizer", ["accumulator"]),
    ("AdagradDAOptimizer", ["gradient_accumulator", "gradient_squared_accumulator"]),
    ("AdadeltaOptimizer", ["accum", "accum_update"]), ("RMSPropOptimizer", ["momentum", "rms"]),
    ("AdamOptimizer", ["m", "v"]), ("FtrlOptimizer", ["accum", "linear"]),
    ("ProximalGradientDescentOptimizer", []), ("ProximalAdagradOptimizer", ["accumulator"]),
])
def test_slot_names_match_tf1(name, slots):
    step = tf.Variable(0, dtype=tf.int64)
    w = tf.Variable([1.0, 2.0])
    ours, theirs = make(name, step), make(name, step, )
    theirs = getattr(tf.compat.v1.train, name)(**_tf1_kwargs(name, step))
    w2 = tf.Variable([1.0, 2.0])
    ours.apply_gradients([(tf.constant([0.5, -0.5]), w)], global_step=step)
    theirs.apply_gradients([(tf.constant([0.5, -0.5]), w2)], global_step=step)
    assert ours.get_slot_names() == slots == theirs.get_slot_names()
    for s in slots:
        slot = ours.get_slot(w, s)
        assert isinstance(slot, tf.Variable) and slot.shape == w.shape
        np.testing.assert_allclose(slot.numpy(), theirs.get_slot(w2, s).numpy(), rtol=1e-6)
    assert ours.get_slot(w, "nonexistent") is None
    assert ours.get_slot(tf.Variable(1.0), slots[0] if slots else "m") is None
    assert all(isinstance(v, tf.Variable) for v in ours.variables())
    assert len(ours.variables()) >= len(slots)


def _tf1_kwargs(name, step):
    kw = {"learning_rate": 0.1}
    if name == "MomentumOptimizer":
        kw["momentum"] = 0.9
    if name == "AdagradDAOptimizer":
        kw["global_step"] = step
    return kw


def test_adam_variables_include_beta_powers():
    w = tf.Variable(1.0)
    opt = lt.AdamOptimizer()
    opt.minimize(lambda: w * w)
    names = [v.name for v in opt.variables()]
    assert any("beta1_power" in n for n in names) and any("beta2_power" in n for n in names)
    assert opt._get_non_slot_variable("beta1_power").numpy() == pytest.approx(0.81)


# ----------------------------------------------------------------------------- gradients
def test_compute_gradients_returns_mutable_list_of_touched_variables():
    a, b, unused = tf.Variable(2.0), tf.Variable(3.0), tf.Variable(4.0)
    gv = lt.GradientDescentOptimizer(0.1).compute_gradients(lambda: a * b)
    assert isinstance(gv, list)
    assert [v for _, v in gv] == [a, b] and unused.ref() not in {v.ref() for _, v in gv}
    assert [float(g) for g, _ in gv] == [3.0, 2.0]
    gv[0] = (gv[0][0] * 2, gv[0][1])  # mutable, as the seed's recipe needs


def test_compute_gradients_var_list_gives_none_for_unused_variable():
    a, unused = tf.Variable(2.0), tf.Variable(4.0)
    gv = lt.GradientDescentOptimizer(0.1).compute_gradients(lambda: a * a, var_list=[a, unused])
    assert float(gv[0][0]) == 4.0 and gv[1][0] is None


def test_tensor_loss_needs_its_tape():
    a = tf.Variable(2.0)
    opt = lt.GradientDescentOptimizer(0.1)
    with tf.GradientTape() as tape:
        loss = a * a
    gv = opt.compute_gradients(loss, tape=tape)
    assert float(gv[0][0]) == 4.0
    with pytest.raises(ValueError, match="tape"):
        opt.compute_gradients(a * a)


def test_grad_loss_is_the_output_gradient():
    a = tf.Variable(2.0)
    opt = lt.GradientDescentOptimizer(0.1)
    gv = opt.compute_gradients(lambda: a * a, grad_loss=tf.constant(3.0))
    tf1_gv = tf.compat.v1.train.GradientDescentOptimizer(0.1).compute_gradients(
        lambda: a * a, grad_loss=tf.constant(3.0))
    assert float(gv[0][0]) == 12.0 == float(tf1_gv[0][0])


@pytest.mark.parametrize("gate", [0, 1, 2])
def test_gate_gradients_modes_give_identical_results(gate):
    w = tf.Variable([1.0, -2.0])
    lt.AdamOptimizer(0.1).minimize(lambda: tf.reduce_sum(w ** 2), gate_gradients=gate)
    w_ref = tf.Variable([1.0, -2.0])
    lt.AdamOptimizer(0.1).minimize(lambda: tf.reduce_sum(w_ref ** 2))
    assert np.array_equal(w.numpy(), w_ref.numpy())


@pytest.mark.parametrize("bad", [3, -1, "GATE_OP", None, True])
def test_gate_gradients_validated(bad):
    w = tf.Variable(1.0)
    with pytest.raises(ValueError, match=r"gate_gradients.*GATE_NONE \(0\).*Received"):
        lt.GradientDescentOptimizer(0.1).minimize(lambda: w * w, gate_gradients=bad)


def test_aggregation_method_validated():
    w = tf.Variable(1.0)
    opt = lt.GradientDescentOptimizer(0.1)
    opt.minimize(lambda: w * w, aggregation_method=tf.AggregationMethod.EXPERIMENTAL_TREE)
    with pytest.raises(ValueError, match="aggregation_method=7"):
        opt.minimize(lambda: w * w, aggregation_method=7)


# ----------------------------------------------------------------------------- apply
def test_global_step_incremented_once_per_apply():
    w = tf.Variable(1.0)
    step = tf.Variable(5, dtype=tf.int64)
    opt = lt.MomentumOptimizer(0.1, 0.9)
    for _ in range(3):
        opt.minimize(lambda: w * w, global_step=step)
    assert int(step.numpy()) == 8 and int(opt.iterations.numpy()) == 3


def test_adagrad_da_requires_global_step():
    with pytest.raises(ValueError, match="global_step"):
        lt.AdagradDAOptimizer(0.1, global_step=None)


def test_shape_mismatch_names_variable_and_shapes():
    w = tf.Variable(tf.zeros([2, 3]), name="kernel")
    with pytest.raises(ValueError, match=r"kernel.*\[3, 2\].*\[2, 3\]"):
        lt.GradientDescentOptimizer(0.1).apply_gradients([(tf.zeros([3, 2]), w)])


def test_all_gradients_none_lists_the_variables():
    a, b = tf.Variable(1.0, name="alpha"), tf.Variable(2.0, name="beta")
    with pytest.raises(ValueError, match=r"No gradients provided for any variable.*alpha.*beta"):
        lt.AdamOptimizer().apply_gradients([(None, a), (None, b)])
    c = tf.Variable(3.0, name="gamma")
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        lt.AdamOptimizer().minimize(lambda: tf.constant(1.0) + 0 * tf.stop_gradient(c),
                                    var_list=[c])


@pytest.mark.parametrize("bad", [[1.0], [(tf.constant(1.0),)], [(tf.constant(1.0), 3.0)], 5])
def test_malformed_grads_and_vars_is_a_type_error(bad):
    with pytest.raises(TypeError):
        lt.GradientDescentOptimizer(0.1).apply_gradients(bad)


def test_none_gradients_are_skipped():
    a, b = tf.Variable(1.0), tf.Variable(2.0)
    opt = lt.AdamOptimizer(0.1)
    opt.apply_gradients([(tf.constant(1.0), a), (None, b)])
    assert float(a.numpy()) != 1.0 and float(b.numpy()) == 2.0
    assert opt.get_slot(b, "m") is None


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_check_numerics_refuses_nonfinite_gradients_before_any_change(bad_value):
    a, b = tf.Variable([1.0, 2.0], name="good"), tf.Variable([3.0, 4.0], name="bad")
    opt = lt.AdamOptimizer(0.1)
    opt.check_numerics = True
    opt.apply_gradients([(tf.constant([1.0, 1.0]), a), (tf.constant([1.0, 1.0]), b)])
    before = [v.numpy().copy() for v in (a, b, opt.get_slot(a, "m"), opt.get_slot(b, "v"))]
    with pytest.raises(FloatingPointError, match=r"bad"):
        opt.apply_gradients([(tf.constant([1.0, 1.0]), a),
                             (tf.constant([1.0, bad_value], tf.float32), b)])
    after = [v.numpy() for v in (a, b, opt.get_slot(a, "m"), opt.get_slot(b, "v"))]
    assert all(np.array_equal(x, y) for x, y in zip(before, after, strict=True))
    assert int(opt.iterations.numpy()) == 1


def test_check_numerics_inside_tf_function():
    w = tf.Variable([1.0, 2.0])
    opt = lt.GradientDescentOptimizer(0.1)
    opt.check_numerics = True

    @tf.function
    def step(g):
        opt.apply_gradients([(g, w)])

    step(tf.constant([1.0, 1.0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Non-finite"):
        step(tf.constant([np.nan, 1.0]))
    np.testing.assert_allclose(w.numpy(), [0.9, 1.9])


def test_check_numerics_off_by_default():
    w = tf.Variable([1.0])
    lt.GradientDescentOptimizer(0.1).apply_gradients([(tf.constant([np.nan]), w)])
    assert np.isnan(w.numpy()[0])


# ----------------------------------------------------------------------------- validation
BAD_ARGS = [
    ("AdamOptimizer", {"learning_rate": -0.1}, ValueError, "learning_rate=-0.1"),
    ("GradientDescentOptimizer", {"learning_rate": -1}, ValueError, "learning_rate=-1"),
    ("AdamOptimizer", {"beta1": 1.5}, ValueError, r"`beta1` must be in \[0, 1\]. Received: beta1=1.5"),
    ("AdamOptimizer", {"beta2": 1.0001}, ValueError, "beta2=1.0001"),
    ("AdamOptimizer", {"epsilon": -1e-9}, ValueError, "epsilon=-1e-09"),
    ("RMSPropOptimizer", {"decay": -0.1}, ValueError, "decay=-0.1"),
    ("RMSPropOptimizer", {"epsilon": float("inf")}, ValueError, "epsilon=inf"),
    ("AdamOptimizer", {"beta1": -0.1}, ValueError, "beta1=-0.1"),
    ("AdadeltaOptimizer", {"rho": 1.2}, ValueError, "rho=1.2"),
    ("AdadeltaOptimizer", {"epsilon": -1e-8}, ValueError, "epsilon=-1e-08"),
    ("RMSPropOptimizer", {"momentum": -0.5}, ValueError, "momentum=-0.5"),
    ("MomentumOptimizer", {"momentum": 1.5}, ValueError, "momentum=1.5"),
    ("FtrlOptimizer", {"learning_rate_power": 0.5}, ValueError, "learning_rate_power=0.5"),
    ("FtrlOptimizer", {"l1_regularization_strength": -1.0}, ValueError, "l1_regularization_strength=-1.0"),
    ("FtrlOptimizer", {"l2_regularization_strength": -1.0}, ValueError, "l2_regularization_strength=-1.0"),
    ("FtrlOptimizer", {"l2_shrinkage_regularization_strength": -0.1}, ValueError,
     "l2_shrinkage_regularization_strength=-0.1"),
    ("FtrlOptimizer", {"initial_accumulator_value": -0.1}, ValueError, "initial_accumulator_value=-0.1"),
    ("FtrlOptimizer", {"beta": -0.1}, ValueError, "beta=-0.1"),
    ("AdagradOptimizer", {"initial_accumulator_value": 0.0}, ValueError, "initial_accumulator_value=0.0"),
    ("AdagradDAOptimizer", {"initial_gradient_squared_accumulator_value": 0.0}, ValueError,
     "initial_gradient_squared_accumulator_value=0.0"),
    ("AdagradDAOptimizer", {"l1_regularization_strength": -0.1}, ValueError, "l1_regularization_strength=-0.1"),
    ("ProximalGradientDescentOptimizer", {"l2_regularization_strength": -2.0}, ValueError,
     "l2_regularization_strength=-2.0"),
    ("ProximalAdagradOptimizer", {"l1_regularization_strength": -2.0}, ValueError,
     "l1_regularization_strength=-2.0"),
    ("ProximalAdagradOptimizer", {"initial_accumulator_value": -1.0}, ValueError,
     "initial_accumulator_value=-1.0"),
    ("AdamOptimizer", {"learning_rate": "fast"}, TypeError, "learning_rate='fast'"),
    ("AdamOptimizer", {"learning_rate": float("nan")}, ValueError, "learning_rate=nan"),
]


# Values TF1 accepts (and its own tests use) that make an optimizer degenerate: accepted, as
# TF1 does, with a warning that says what they do.
UNUSUAL_ARGS = [
    ("AdadeltaOptimizer", {"rho": 1.0}, "rho=1.0"),
    ("AdadeltaOptimizer", {"epsilon": 0.0}, "epsilon=0.0"),
    ("RMSPropOptimizer", {"epsilon": 0.0}, "epsilon=0.0"),
    ("RMSPropOptimizer", {"decay": 1.0}, "decay=1.0"),
    ("AdamOptimizer", {"beta2": 1.0}, "beta2=1.0"),
    ("AdamOptimizer", {"learning_rate": 0.0}, "learning_rate=0.0"),
    ("MomentumOptimizer", {"momentum": 1.0}, "momentum=1.0"),
    ("GradientDescentOptimizer", {"learning_rate": 0}, "learning_rate=0"),
]


@pytest.mark.parametrize("name,kw,words", UNUSUAL_ARGS)
def test_tf1s_domain_is_accepted_with_a_warning(name, kw, words):
    with pytest.warns(UserWarning, match="is accepted .TF1 accepts it. but unusual") as record:
        opt = make(name, **kw)
    assert words.replace("=", "`=") in str(record[0].message)
    w = tf.Variable([1.0, 2.0])
    opt.apply_gradients([(tf.constant([0.5, 0.5]), w)])  # it runs


@pytest.mark.parametrize("name,kw,exc,msg", BAD_ARGS)
def test_bad_hyperparameters_are_rejected_with_the_value(name, kw, exc, msg):
    with pytest.raises(exc, match=msg):
        make(name, **kw)


def test_callables_and_schedules_are_not_validated_at_init():
    lt.AdamOptimizer(learning_rate=lambda: -1.0)  # a callable is only called at apply time
    lt.AdamOptimizer(learning_rate=tf.keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))


# ----------------------------------------------------------------------------- hyperparameters
def test_learning_rate_callable_is_called_every_step_without_retracing():
    lr = {"value": 0.1}
    w = tf.Variable(1.0)
    opt = lt.GradientDescentOptimizer(lambda: lr["value"])
    opt.apply_gradients([(tf.constant(1.0), w)])
    lr["value"] = 0.5
    opt.apply_gradients([(tf.constant(1.0), w)])
    assert float(w.numpy()) == pytest.approx(1.0 - 0.1 - 0.5)
    assert opt._engine.trace_count == 1  # one compiled step, the callable's value is an argument


def test_schedule_of_global_step():
    sched = tf.keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    w = tf.Variable(0.0)
    step = tf.Variable(0, dtype=tf.int64)
    opt = lt.GradientDescentOptimizer(sched)
    for _ in range(3):
        opt.apply_gradients([(tf.constant(1.0), w)], global_step=step)
    assert float(w.numpy()) == pytest.approx(-(0.1 + 0.05 + 0.025))
    # without global_step the optimizer's own iteration counter drives the schedule
    w2 = tf.Variable(0.0)
    opt2 = lt.GradientDescentOptimizer(lambda step: 0.1 * tf.cast(step + 1, tf.float32))
    for _ in range(3):
        opt2.apply_gradients([(tf.constant(1.0), w2)])
    assert float(w2.numpy()) == pytest.approx(-(0.1 + 0.2 + 0.3))


def test_every_hyperparameter_may_be_a_callable():
    w, w_ref = tf.Variable([1.0, -1.0]), tf.Variable([1.0, -1.0])
    opt = lt.AdamOptimizer(lambda: 0.1, beta1=lambda: 0.5, beta2=lambda: 0.9, epsilon=lambda: 1e-6)
    ref = lt.AdamOptimizer(0.1, beta1=0.5, beta2=0.9, epsilon=1e-6)
    for _ in range(3):
        opt.minimize(lambda: tf.reduce_sum(w ** 2))
        ref.minimize(lambda: tf.reduce_sum(w_ref ** 2))
    np.testing.assert_array_equal(w.numpy(), w_ref.numpy())


# ----------------------------------------------------------------------------- tf.function
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("jit", [False, True])
def test_inside_tf_function_equals_eager(name, jit):
    def run(mode):
        tf.keras.utils.set_random_seed(0)
        w = tf.Variable(tf.random.normal([4, 3]))
        emb = tf.Variable(tf.random.normal([10, 3]))
        step = tf.Variable(0, dtype=tf.int64)
        opt = make(name, step)
        ids = tf.constant([1, 3, 1, 7])

        def loss():
            return tf.reduce_sum(tf.square(tf.matmul(tf.gather(emb, ids), w, transpose_b=True)))

        def one_step():
            opt.minimize(loss, global_step=step)

        fn = one_step if mode == "eager" else tf.function(one_step, jit_compile=jit and
                                                          mode == "xla")
        for _ in range(3):
            fn()
        return w.numpy(), emb.numpy(), int(step.numpy())

    eager = run("eager")
    if jit:
        if name in ("AdagradDAOptimizer", "AdamOptimizer", "GradientDescentOptimizer",
                    "MomentumOptimizer", "AdagradOptimizer", "AdadeltaOptimizer",
                    "RMSPropOptimizer", "FtrlOptimizer", "ProximalGradientDescentOptimizer",
                    "ProximalAdagradOptimizer"):
            graph = run("xla")
    else:
        graph = run("function")
    np.testing.assert_allclose(graph[0], eager[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(graph[1], eager[1], rtol=1e-5, atol=1e-6)
    assert graph[2] == eager[2] == 3
    assert not np.allclose(eager[1], run_initial_emb())


@pytest.mark.parametrize("name", NAMES)
def test_a_large_step_inside_a_learners_tf_function_is_one_compiled_step(name):
    """A dense step the eager path compiles is, inside the learner's tf.function, the same
    kind of compiled step called from the learner's graph (engine.apply_fused_in_function):
    its result equals the eager step's, with a schedule resolved in the learner's graph, and it
    is traced once however often the learner's function is retraced."""
    n = lt.Optimizer.XLA_MIN_ELEMENTS
    schedule = tf.keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)

    def run(mode):
        rng = np.random.default_rng(0)
        w = tf.Variable(rng.standard_normal([n // 64, 64]).astype(np.float32))
        step = tf.Variable(0, dtype=tf.int64)
        opt = make(name, step, learning_rate=schedule)
        if mode == "eager":
            opt.jit_compile = False  # the reference: ordinary ops (no second XLA compilation)
        grads = [tf.constant(rng.standard_normal([n // 64, 64]).astype(np.float32)) for _ in range(3)]

        def one_step(g):
            opt.apply_gradients([(g, w)], global_step=step)

        fn = one_step if mode == "eager" else tf.function(one_step)
        for g in grads:
            fn(g)
        return w.numpy(), int(step.numpy()), opt, one_step, grads

    eager_w, eager_step, *_ = run("eager")
    w, step, opt, one_step, grads = run("function")
    np.testing.assert_allclose(w, eager_w, rtol=1e-5, atol=1e-6)
    assert step == eager_step == 3
    assert [k[0] for k in opt._engine.compiled] == ["in_function"]
    assert opt._engine.trace_count == 1
    # a new tf.function around the same step (a retrace) reuses the compiled step
    tf.function(one_step)(grads[0])
    assert opt._engine.trace_count == 1


def test_a_step_inside_tf_function_returns_an_operation():
    w = tf.Variable(tf.ones([lt.Optimizer.XLA_MIN_ELEMENTS]))
    opt = lt.GradientDescentOptimizer(0.5)
    seen = []

    @tf.function
    def train(g):
        op = opt.apply_gradients([(g, w)])
        seen.append(op)
        return tf.constant(0)

    train(tf.ones([lt.Optimizer.XLA_MIN_ELEMENTS]))
    assert isinstance(seen[0], tf.Operation)
    np.testing.assert_allclose(w.numpy(), 0.5)


def test_jit_compile_false_keeps_the_step_out_of_xla_inside_tf_function():
    w = tf.Variable(tf.ones([lt.Optimizer.XLA_MIN_ELEMENTS]))
    opt = lt.GradientDescentOptimizer(0.5)
    opt.jit_compile = False

    @tf.function
    def train(g):
        opt.apply_gradients([(g, w)])

    train(tf.ones([lt.Optimizer.XLA_MIN_ELEMENTS]))
    assert not any(k[0] == "in_function" for k in opt._engine.compiled)
    np.testing.assert_allclose(w.numpy(), 0.5)


def run_initial_emb():
    tf.keras.utils.set_random_seed(0)
    tf.random.normal([4, 3])
    return tf.random.normal([10, 3]).numpy()


@pytest.mark.parametrize("name", NAMES)
def test_float16_and_float64_variables(name):
    # Adadelta's default epsilon (1e-8) is below float16's smallest subnormal (6e-8) and
    # flushes to 0, so its first steps would be exactly 0 in float16: use a float16-sized one.
    extra = {"epsilon": 1e-3, "learning_rate": 1.0} if name == "AdadeltaOptimizer" else {}
    for dtype in (tf.float16, tf.float64):
        w = tf.Variable(tf.constant([1.0, -2.0, 0.5], dtype))
        opt = make(name, **extra)
        for _ in range(3):
            opt.minimize(lambda w=w: tf.reduce_sum(w * w), global_step=getattr(
                opt, "_ada_global_step", None))
        assert w.dtype == dtype
        assert np.all(np.isfinite(w.numpy())) and not np.array_equal(w.numpy(), [1.0, -2.0, 0.5])


# ----------------------------------------------------------------------------- the seed's recipe
def test_seed_custom_optimizer_recipe_runs_with_module_swapped():
    tf.keras.utils.set_random_seed(0)
    w = tf.Variable(tf.random.normal([3]) * 10.0)
    lr = 0.1

    def loss():
        return tf.reduce_sum(w ** 2)

    optimizer = lt.AdamOptimizer(learning_rate=lr, beta1=0.5)
    grads_and_vars = optimizer.compute_gradients(loss=loss)
    for i, (g, v) in enumerate(grads_and_vars):
        if g is not None:
            grads_and_vars[i] = (tf.clip_by_norm(g, 5), v)
    before = w.numpy().copy()
    optimizer.apply_gradients(grads_and_vars)
    # the same recipe with tf.compat.v1.train gives the same step
    w_tf1 = tf.Variable(before)
    opt_tf1 = tf.compat.v1.train.AdamOptimizer(learning_rate=lr, beta1=0.5)
    gv = opt_tf1.compute_gradients(loss=lambda: tf.reduce_sum(w_tf1 ** 2))
    for i, (g, v) in enumerate(gv):
        if g is not None:
            gv[i] = (tf.clip_by_norm(g, 5), v)
    opt_tf1.apply_gradients(gv)
    np.testing.assert_allclose(w.numpy(), w_tf1.numpy(), rtol=1e-6)
    assert not np.allclose(w.numpy(), before)


# ----------------------------------------------------------------------------- checkpoints
def _train(name, w, emb, step, opt, n):
    ids = tf.constant([0, 2, 2, 5])
    for _ in range(n):
        opt.minimize(lambda: tf.reduce_sum(tf.square(tf.gather(emb, ids))) + tf.reduce_sum(
            tf.sin(w) * w), global_step=step)


def _fresh(name):
    w = tf.Variable(tf.constant([[0.3, -1.2], [2.0, 0.7]]), name="w")
    emb = tf.Variable(tf.reshape(tf.range(12, dtype=tf.float32) / 7.0 - 0.5, [6, 2]), name="emb")
    step = tf.Variable(0, dtype=tf.int64, name="global_step")
    return w, emb, step, make(name, step)


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_restore_continues_bit_identically(name, tmp_path):
    # uninterrupted: 6 steps
    w, emb, step, opt = _fresh(name)
    _train(name, w, emb, step, opt, 6)
    expected = (w.numpy(), emb.numpy())
    # interrupted: 3 steps, save, restore into fresh objects BEFORE their first apply, 3 steps
    w, emb, step, opt = _fresh(name)
    _train(name, w, emb, step, opt, 3)
    path = tf.train.Checkpoint(optimizer=opt, w=w, emb=emb, step=step).save(
        str(tmp_path / "ckpt"))
    w2, emb2, step2, opt2 = _fresh(name)
    status = tf.train.Checkpoint(optimizer=opt2, w=w2, emb=emb2, step=step2).restore(path)
    _train(name, w2, emb2, step2, opt2, 3)
    status.assert_consumed()
    assert np.array_equal(w2.numpy(), expected[0]) and np.array_equal(emb2.numpy(), expected[1])
    assert int(step2.numpy()) == 6 and int(opt2.iterations.numpy()) == 6
    # restoring into an optimizer that already has slots restores them in place
    w3, emb3, step3, opt3 = _fresh(name)
    _train(name, w3, emb3, step3, opt3, 1)
    tf.train.Checkpoint(optimizer=opt3, w=w3, emb=emb3, step=step3).restore(path).assert_consumed()
    _train(name, w3, emb3, step3, opt3, 3)
    assert np.array_equal(w3.numpy(), expected[0]) and np.array_equal(emb3.numpy(), expected[1])


@pytest.mark.slow  # a TensorFlow subprocess: make test runs it, make check does not
def test_benchmark_quick_runs_and_prints_every_optimizer():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(root / "benchmarks" / "optimizers.py"), "--quick"],
                         capture_output=True, text=True, timeout=900, cwd=root, check=True).stdout
    assert "bandwidth" in out
    rows = [line.split() for line in out.splitlines()]
    for name in [n.removesuffix("Optimizer") for n in NAMES]:
        # eager: dense and sparse; inside a tf.function, jit off and on: dense
        assert sorted((r[0], r[2]) for r in rows if len(r) > 2 and r[1] == name) == [
            ("eager", "dense"), ("eager", "sparse"), ("function", "dense"),
            ("function-jit", "dense")]
    for path in ("eager", "function", "function-jit"):
        assert f"worst ratios on {path}:" in out
    # TF1's own fused kernels against Keras, beside labkit's ratios (the bound on labkit/Keras)
    assert "fus/keras" in out.splitlines()[2]
    keras_rows = [r for r in rows if len(r) == 11 and r[1] == "Adam"]
    assert keras_rows and all(float(r[8]) > 0 for r in keras_rows)


@pytest.mark.slow  # a TensorFlow subprocess: make test runs it, make check does not
def test_xla_launch_benchmark_quick_runs_and_prints_its_ratios():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(root / "benchmarks" / "xla_launch.py"), "--quick",
                          "--intra-op-threads", "1"], capture_output=True, text=True, timeout=900,
                         cwd=root, check=True).stdout
    assert "intra-op threads: 1" in out
    for label in ("eigen", "xla, one launch", "xla, launch per step from a graph",
                  "xla, launch per step from eager"):
        line = next(ln for ln in out.splitlines() if ln.startswith(label + " "))
        assert float(line.split("/ eigen")[1]) > 0


@pytest.mark.slow  # a TensorFlow subprocess: make test runs it, make check does not
def test_xla_vs_eigen_benchmark_quick_runs_and_prints_its_ratios():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, str(root / "benchmarks" / "xla_vs_eigen.py"),
                          "--quick"], capture_output=True, text=True, timeout=900, cwd=root,
                         check=True).stdout
    for label in ("XLA/Eigen, gradient descent: ", "XLA/Eigen, Adagrad: ",
                  "XLA/Eigen, Adagrad written n + g*g: ", "n + g*g / add_square: ",
                  "/ gradient descent (XLA), same traffic: ",
                  "second half alone / whole kernel: "):
        line = next(ln for ln in out.splitlines() if label in ln)
        assert float(line.split(label)[1].split()[0]) > 0


def _compiled_jit_flags(opt):
    return sorted(step.jit for step in opt._engine.compiled.values())


def test_auto_jit_compiles_only_large_dense_steps():
    """jit_compile="auto": an eager step is one XLA computation when its dense updates move
    >= XLA_MIN_ELEMENTS elements; smaller steps (and sparse ones) run as plain graph ops."""
    opt = lt.GradientDescentOptimizer(0.1)
    assert opt.jit_compile == "auto"
    small = tf.Variable(tf.ones([4]))
    opt.apply_gradients([(tf.ones([4]), small)])
    assert _compiled_jit_flags(opt) == [False]
    large = tf.Variable(tf.ones([opt.XLA_MIN_ELEMENTS]))
    opt.apply_gradients([(tf.ones([opt.XLA_MIN_ELEMENTS]), large)])
    assert _compiled_jit_flags(opt) == [False, True]
    np.testing.assert_allclose(large.numpy(), 0.9, rtol=1e-6)
    table = tf.Variable(tf.ones([opt.XLA_MIN_ELEMENTS, 2]))
    opt.apply_gradients([(tf.IndexedSlices(tf.ones([3, 2]), tf.constant([0, 5, 5])), table)])
    assert _compiled_jit_flags(opt) == [False, False, True]  # tf.unique: no XLA for sparse
    np.testing.assert_allclose(table.numpy()[5], 0.8, rtol=1e-6)  # duplicates both applied


def test_sparse_adam_step_is_one_xla_computation_and_matches_dense():
    """Adam's sparse update is the dense update of the summed gradient (TF1 semantics)."""
    rows = lt.AdamOptimizer.XLA_MIN_ELEMENTS // 4
    a, b = tf.Variable(tf.ones([rows, 4])), tf.Variable(tf.ones([rows, 4]))
    opt_a, opt_b = lt.AdamOptimizer(0.1), lt.AdamOptimizer(0.1)
    values, idx = tf.constant([[1.0] * 4, [2.0] * 4, [3.0] * 4]), tf.constant([7, 2, 7])
    for _ in range(3):
        opt_a.apply_gradients([(tf.IndexedSlices(values, idx), a)])
        opt_b.apply_gradients([(tf.math.unsorted_segment_sum(values, idx, rows), b)])
    assert _compiled_jit_flags(opt_a) == [True]
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    assert a.numpy()[0, 0] == 1.0 and a.numpy()[7, 0] < 1.0  # untouched rows keep m = v = 0


def test_fast_path_does_not_read_whole_table_for_a_sparse_update():
    """Regression: reading the table (tf.shape(var)) forced a full copy before the scatter."""
    opt = lt.GradientDescentOptimizer(0.1)
    table = tf.Variable(tf.zeros([100, 3]))
    opt.apply_gradients([(tf.IndexedSlices(tf.ones([2, 3]), tf.constant([1, 2])), table)])
    (step,) = opt._engine.compiled.values()
    reads = [n for n in step.fn.graph.as_graph_def().node if n.op == "ReadVariableOp"]
    # only the step counter is read (the schedule input); never the 100 x 3 table
    assert len(reads) == 1


def test_keras_model_variables_train_and_checkpoint_with_slots(tmp_path):
    """Keras 3 weights work in var_list and grads_and_vars; their slots are saved and restored."""
    import keras

    def build():
        keras.utils.set_random_seed(1)
        return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])

    x = tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3) / 10)

    def step(model, opt):
        opt.minimize(lambda: tf.reduce_sum(model(x) ** 2), var_list=model.trainable_variables)

    ref_model, ref_opt = build(), lt.AdamOptimizer(0.1)
    for _ in range(6):
        step(ref_model, ref_opt)
    assert ref_opt.get_slot(ref_model.trainable_variables[0], "m") is not None

    model, opt = build(), lt.AdamOptimizer(0.1)
    for _ in range(3):
        step(model, opt)
    path = tf.train.Checkpoint(model=model, opt=opt).save(str(tmp_path / "ck"))
    slot_entries = [n for n, _ in tf.train.list_variables(path) if ".OPTIMIZER_SLOT" in n]
    assert len(slot_entries) == 4  # m and v for kernel and bias

    fresh_model, fresh_opt = build(), lt.AdamOptimizer(0.1)
    status = tf.train.Checkpoint(model=fresh_model, opt=fresh_opt).restore(path)
    status.assert_existing_objects_matched()  # slots and beta powers are restored when created
    for _ in range(3):
        step(fresh_model, fresh_opt)
    for a, b in zip(ref_model.get_weights(), fresh_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_ftrl_callable_l2_and_beta_are_called_every_step_without_retracing():
    """Ftrl derives adjusted_l2 from l2 and beta: callables among them must not be frozen
    into the compiled step."""
    value = {"l2": 0.0}
    w_a, w_b = tf.Variable([1.0, -2.0]), tf.Variable([1.0, -2.0])
    opt_a = lt.FtrlOptimizer(0.1, l2_regularization_strength=lambda: value["l2"], beta=lambda: 0.0)
    opt_b = lt.FtrlOptimizer(0.1, l2_regularization_strength=lambda: 0.0, beta=lambda: 0.0)
    g = tf.constant([0.5, 0.5])
    opt_a.apply_gradients([(g, w_a)])
    opt_b.apply_gradients([(g, w_b)])
    np.testing.assert_array_equal(w_a.numpy(), w_b.numpy())
    value["l2"] = 5.0
    opt_a.apply_gradients([(g, w_a)])
    opt_b.apply_gradients([(g, w_b)])
    assert np.all(np.abs(w_a.numpy()) < np.abs(w_b.numpy()))  # the new l2 shrank the weights
    assert opt_a._engine.trace_count == 1


# Run in a subprocess: XLA reads XLA_FLAGS (here: dump every compiled module) once per process.
_EMITTER_SCRIPT = r"""
import json, os, sys
import numpy as np, tensorflow as tf
import labkit.train as lt
dump, cases = sys.argv[1], json.loads(sys.argv[2])
g = tf.constant(np.random.default_rng(0).normal(size=65536).astype(np.float32))
step = tf.Variable(0, dtype=tf.int64)
seen, modules = set(), {}
for label, name, kw in cases:
    if name == "AdagradDAOptimizer":
        kw["global_step"] = step
    opt, v = getattr(lt, name)(**kw), tf.Variable(tf.zeros([65536]))
    opt.apply_gradients([(g, v)], global_step=step)
    opt.apply_gradients([(g, v)], global_step=step)
    files = set(os.listdir(dump))
    modules[label] = sorted({f.split(".")[0] for f in files - seen
                             if f.endswith("cpu_after_optimizations.txt")})
    seen = files
print(json.dumps(modules))
"""


@pytest.mark.skipif(not tf.__version__.startswith("2.21."),
                    reason=f"a performance check on XLA's dump of TF 2.21 (file names, emitter "
                           f"names); TensorFlow {tf.__version__} may name them otherwise")
@pytest.mark.slow  # a TensorFlow subprocess: make test runs it, make check does not
def test_every_dense_xla_step_streams_without_the_tiled_emitter_or_a_copy(tmp_path):
    """Every array-sized loop fusion of every optimizer's compiled dense step goes to XLA's
    loop emitter. XLA on CPU (TF 2.21) compiles a fusion without a scalar broadcast with its
    tiled emitter (a ``__compute_module_<fusion>`` in the dump), which copies every 16 elements
    through the stack: 1.2 to 1.5 times slower for these passes. ``add_square`` and
    ``times_runtime_one`` avoid it; this fails if an update rule loses them. And no step copies
    a whole array (XLA does when a slot written in place is still read afterwards: Ftrl's
    accumulator before ``streamed.after``)."""
    import json
    import re
    import subprocess
    import sys
    from pathlib import Path

    cases = [(n, n, {"learning_rate": 0.01, **({"momentum": 0.9} if n == "MomentumOptimizer"
                                                 else {})}) for n in NAMES]
    cases.append(("RMSProp centered, momentum", "RMSPropOptimizer",
                  {"learning_rate": 0.01, "momentum": 0.9, "centered": True}))
    env = dict(os.environ, XLA_FLAGS=f"--xla_dump_to={tmp_path}", TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", _EMITTER_SCRIPT, str(tmp_path), json.dumps(cases)],
                         capture_output=True, text=True, timeout=300, env=env,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr[-3000:]
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    files = os.listdir(tmp_path)
    tiled, copies, checked = {}, {}, 0
    for label, mods in modules.items():
        assert len(mods) == 1, f"{label}: expected one compiled step, found modules {mods}"
        (hlo_file,) = [f for f in files if f.startswith(mods[0] + ".")
                       and f.endswith("cpu_after_optimizations.txt")]
        hlo = (tmp_path / hlo_file).read_text()
        entry = hlo[hlo.index("\nENTRY"):]
        fusions = re.findall(r"%(\S+) = f32\[65536\]\{0\} fusion\(", entry)
        copied = re.findall(r"%(\S+) = f32\[65536\]\{0\} copy\(", entry)
        if copied:
            copies[label] = copied
        assert fusions, f"{label}: no array-sized fusion in {hlo_file}"
        for fusion in fusions:
            emitted = [f for f in files if f.startswith(mods[0] + ".")
                       and (f.endswith(f".__compute_module_{fusion}.ir-with-opt.ll")
                            or f.endswith(f".{fusion}_kernel_module.ir-with-opt.ll"))]
            # neither name: XLA's dump layout changed, and this test no longer sees emitters
            assert emitted, f"{label}: no LLVM IR found for fusion {fusion}"
            checked += 1
            if any(".__compute_module_" in f for f in emitted):
                tiled.setdefault(label, []).append(fusion)
    assert checked >= 2 * len(cases)
    assert not tiled, f"fusions compiled by XLA's tiled emitter: {tiled}"
    assert not copies, f"whole-array copies in the compiled step: {copies}"


@pytest.mark.slow  # a TensorFlow subprocess: make test runs it, make check does not
def test_autograph_converts_every_optimizer_inside_a_learners_tf_function():
    """A learner's @tf.function step must not print AutoGraph's "could not transform" warning
    (a hook whose body is only a docstring made it do so)."""
    import subprocess
    import sys
    from pathlib import Path

    code = """
import tensorflow as tf, labkit.train as lt
w = tf.Variable([1.0])
for name, cls in lt.OPTIMIZERS.items():
    kw = {"momentum": 0.9} if name == "MomentumOptimizer" else {}
    if name == "AdagradDAOptimizer":
        kw = {"global_step": tf.Variable(0, dtype=tf.int64)}
    opt = cls(0.1, **kw)
    @tf.function
    def step():
        with tf.GradientTape() as t:
            loss = tf.reduce_sum(w * w)
        opt.apply_gradients([(t.gradient(loss, w), w)])
    step()
print("ran", len(lt.OPTIMIZERS))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ran 10" in out.stdout
    assert "could not transform" not in out.stderr, out.stderr[-3000:]

"""Parity of every labkit.train optimizer with tf.compat.v1.train and with NumPy.

One table-driven test: optimizer x hyperparameter set x dense/sparse x float32/float64.
Each case runs 100 steps fed the same fixed sequence of random gradients to

* the labkit optimizer,
* the real ``tf.compat.v1.train`` optimizer (still shipped with TF 2.21; run eagerly on
  resource variables), and
* a NumPy reference written from the update rule's math (so that an error shared by
  labkit and TensorFlow would show),

and requires, after every step, max |difference| <= tol * max(1, max |parameter|) with
tol = 1e-5 (float32) or 1e-10 (float64).

The NumPy reference reproduces two deliberate TF1 conventions: Python-float hyperparameters
become float32 tensors that are then cast to the variable's dtype (so a float64 variable sees
float32-rounded hyperparameters), and Adam's beta powers are float32 variables.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import labkit.train as lt

STEPS = 100
DENSE_SHAPE = (5, 3)
SPARSE_ROWS, SPARSE_COLS, SPARSE_N = 20, 4, 8


def f32(x: float, dtype: type) -> np.ndarray:
    """A Python-float hyperparameter as TF1 sees it: float32, then cast to the variable dtype."""
    return dtype(np.float32(x))


# --------------------------------------------------------------------------- NumPy references
# Each rule: (grad, var, slots, h, t) -> (new_var, new_slots), on arrays of one dtype.
# h(name) returns hyperparameter `name` as TF1 represents it; t is the 1-based step.


def np_gd(g, w, s, h, t):
    return w - h("learning_rate") * g, s


def np_momentum(g, w, s, h, t):
    lr, mu = h("learning_rate"), h("momentum")
    a = s["momentum"] * mu + g
    if h.kw.get("use_nesterov"):
        return w - (g * lr + a * mu * lr), {"momentum": a}
    return w - lr * a, {"momentum": a}


def np_adagrad(g, w, s, h, t):
    n = s["accumulator"] + g * g
    return w - h("learning_rate") * g / np.sqrt(n), {"accumulator": n}


def np_adagrad_da(g, w, s, h, t):
    lr, l1, l2 = h("learning_rate"), h("l1_regularization_strength"), h("l2_regularization_strength")
    G = s["gradient_accumulator"] + g
    S = s["gradient_squared_accumulator"] + g * g
    T = w.dtype.type(np.float32(t))  # global_step + 1, converted to float as the kernel does
    num = np.sign(G) * np.maximum(np.abs(G) - T * l1, 0) if l1 > 0 else G
    new = -lr * num / (l2 * T * lr + np.sqrt(S))
    return new, {"gradient_accumulator": G, "gradient_squared_accumulator": S}


def np_adadelta(g, w, s, h, t):
    lr, rho, eps = h("learning_rate"), h("rho"), h("epsilon")
    acc = rho * s["accum"] + (1 - rho) * g * g
    upd = np.sqrt(s["accum_update"] + eps) / np.sqrt(acc + eps) * g
    au = rho * s["accum_update"] + (1 - rho) * upd * upd
    return w - lr * upd, {"accum": acc, "accum_update": au}


def np_rmsprop(g, w, s, h, t):
    lr, rho, mu, eps = h("learning_rate"), h("decay"), h("momentum"), h("epsilon")
    ms = rho * s["rms"] + (1 - rho) * g * g
    new = {"rms": ms}
    if h.kw.get("centered"):
        mg = rho * s["mg"] + (1 - rho) * g
        new["mg"] = mg
        denom = ms - mg * mg + eps
    else:
        denom = ms + eps
    mom = mu * s["momentum"] + lr * g / np.sqrt(denom)
    new["momentum"] = mom
    return w - mom, new


def np_adam(g, w, s, h, t):
    lr, b1, b2, eps = h("learning_rate"), h("beta1"), h("beta2"), h("epsilon")
    # beta powers live in float32 variables, multiplied once per step (TF1)
    b1p = b2p = None
    b1p32, b2p32 = np.float32(h.raw("beta1")), np.float32(h.raw("beta2"))
    for _ in range(t - 1):
        b1p32, b2p32 = np.float32(b1p32 * np.float32(h.raw("beta1"))), np.float32(
            b2p32 * np.float32(h.raw("beta2")))
    b1p, b2p = w.dtype.type(b1p32), w.dtype.type(b2p32)
    m = b1 * s["m"] + (1 - b1) * g
    v = b2 * s["v"] + (1 - b2) * g * g
    lr_t = lr * np.sqrt(1 - b2p) / (1 - b1p)
    return w - lr_t * m / (np.sqrt(v) + eps), {"m": m, "v": v}


def np_ftrl(g, w, s, h, t):
    lr, p = h("learning_rate"), h("learning_rate_power")
    l1 = h("l1_regularization_strength")
    shrink = h("l2_shrinkage_regularization_strength")
    kw = h.kw
    l2 = f32(kw.get("l2_regularization_strength", 0.0)
             + (kw.get("beta") or 0.0) / (2 * kw["learning_rate"]), w.dtype.type)
    n_old = s["accum"]
    n = n_old + g * g
    z = s["linear"] + (g + 2 * shrink * w) - (n ** -p - n_old ** -p) / lr * w
    new = np.where(np.abs(z) > l1, (l1 * np.sign(z) - z) / (n ** -p / lr + 2 * l2), 0)
    return new.astype(w.dtype), {"accum": n, "linear": z}


def _prox(v, lr_t, l1, l2):
    if l1 > 0:
        return np.sign(v) * np.maximum(np.abs(v) - lr_t * l1, 0) / (1 + lr_t * l2)
    return v / (1 + lr_t * l2)


def np_proximal_gd(g, w, s, h, t):
    lr = h("learning_rate")
    return _prox(w - lr * g, lr, h("l1_regularization_strength"),
                 h("l2_regularization_strength")), s


def np_proximal_adagrad(g, w, s, h, t):
    n = s["accumulator"] + g * g
    lr_t = h("learning_rate") / np.sqrt(n)
    return _prox(w - lr_t * g, lr_t, h("l1_regularization_strength"),
                 h("l2_regularization_strength")), {"accumulator": n}


class Hypers:
    """Hyperparameters of one case: ``h(name)`` in the variable dtype, as TF1 sees them.

    ``exact`` (hyperparameters passed as float64 tensors): no float32 rounding.
    """

    def __init__(self, kw: dict, defaults: dict, dtype: type, exact: bool = False) -> None:
        self.kw, self.defaults, self.dtype, self.exact = kw, defaults, dtype, exact

    def raw(self, name: str) -> float:
        return self.kw.get(name, self.defaults.get(name))

    def __call__(self, name: str):
        if self.exact:
            return self.dtype(self.raw(name))
        return f32(self.raw(name), self.dtype)


# name -> (labkit class, tf1 class, numpy rule, TF1 defaults, initial slots, sparse kind)
# sparse kind: "rows" = apply the rule to the (de-duplicated) touched rows only;
# "dense" = Adam: decay every row, add the gradient rows, move every row;
# "add" = GD: scatter-add (linear, duplicates need no summing).
OPTIMIZERS = {
    "GradientDescent": (lt.GradientDescentOptimizer, tf.compat.v1.train.GradientDescentOptimizer,
                        np_gd, {}, lambda kw: {}, "add"),
    "Momentum": (lt.MomentumOptimizer, tf.compat.v1.train.MomentumOptimizer, np_momentum, {},
                 lambda kw: {"momentum": 0.0}, "rows"),
    "Adagrad": (lt.AdagradOptimizer, tf.compat.v1.train.AdagradOptimizer, np_adagrad,
                {"initial_accumulator_value": 0.1},
                lambda kw: {"accumulator": kw.get("initial_accumulator_value", 0.1)}, "rows"),
    "AdagradDA": (lt.AdagradDAOptimizer, tf.compat.v1.train.AdagradDAOptimizer, np_adagrad_da,
                  {"l1_regularization_strength": 0.0, "l2_regularization_strength": 0.0},
                  lambda kw: {"gradient_accumulator": 0.0, "gradient_squared_accumulator":
                              kw.get("initial_gradient_squared_accumulator_value", 0.1)}, "rows"),
    "Adadelta": (lt.AdadeltaOptimizer, tf.compat.v1.train.AdadeltaOptimizer, np_adadelta,
                 {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-8},
                 lambda kw: {"accum": 0.0, "accum_update": 0.0}, "rows"),
    "RMSProp": (lt.RMSPropOptimizer, tf.compat.v1.train.RMSPropOptimizer, np_rmsprop,
                {"decay": 0.9, "momentum": 0.0, "epsilon": 1e-10},
                lambda kw: {"rms": 1.0, "momentum": 0.0, **({"mg": 0.0} if kw.get("centered")
                                                            else {})}, "rows"),
    "Adam": (lt.AdamOptimizer, tf.compat.v1.train.AdamOptimizer, np_adam,
             {"learning_rate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
             lambda kw: {"m": 0.0, "v": 0.0}, "dense"),
    "Ftrl": (lt.FtrlOptimizer, tf.compat.v1.train.FtrlOptimizer, np_ftrl,
             {"learning_rate_power": -0.5, "l1_regularization_strength": 0.0,
              "l2_shrinkage_regularization_strength": 0.0},
             lambda kw: {"accum": kw.get("initial_accumulator_value", 0.1), "linear": 0.0},
             "rows"),
    "ProximalGradientDescent": (lt.ProximalGradientDescentOptimizer,
                                tf.compat.v1.train.ProximalGradientDescentOptimizer,
                                np_proximal_gd, {"l1_regularization_strength": 0.0,
                                                 "l2_regularization_strength": 0.0},
                                lambda kw: {}, "rows"),
    "ProximalAdagrad": (lt.ProximalAdagradOptimizer, tf.compat.v1.train.ProximalAdagradOptimizer,
                        np_proximal_adagrad, {"l1_regularization_strength": 0.0,
                                              "l2_regularization_strength": 0.0},
                        lambda kw: {"accumulator": kw.get("initial_accumulator_value", 0.1)},
                        "rows"),
}

HYPERS = {
    "GradientDescent": [{"learning_rate": 0.1}, {"learning_rate": 0.03}],
    "Momentum": [{"learning_rate": 0.05, "momentum": 0.9},
                 {"learning_rate": 0.03, "momentum": 0.5, "use_nesterov": True}],
    "Adagrad": [{"learning_rate": 0.1},
                {"learning_rate": 0.3, "initial_accumulator_value": 0.5}],
    "AdagradDA": [{"learning_rate": 0.1},
                  {"learning_rate": 0.2, "initial_gradient_squared_accumulator_value": 0.3,
                   "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.02}],
    "Adadelta": [{}, {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6}],
    "RMSProp": [{"learning_rate": 0.01},
                {"learning_rate": 0.01, "decay": 0.8, "momentum": 0.5, "epsilon": 1e-6,
                 "centered": True}],
    "Adam": [{}, {"learning_rate": 0.01, "beta1": 0.5, "beta2": 0.9, "epsilon": 1e-6}],
    "Ftrl": [{"learning_rate": 0.1},
             {"learning_rate": 0.2, "learning_rate_power": -0.3, "initial_accumulator_value": 0.2,
              "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.02,
              "l2_shrinkage_regularization_strength": 0.05, "beta": 0.1}],
    "ProximalGradientDescent": [{"learning_rate": 0.1},
                                {"learning_rate": 0.1, "l1_regularization_strength": 0.01,
                                 "l2_regularization_strength": 0.05}],
    "ProximalAdagrad": [{"learning_rate": 0.1},
                        {"learning_rate": 0.1, "initial_accumulator_value": 0.2,
                         "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.05}],
}

CASES = [
    pytest.param(name, i, kind, dtype, id=f"{name}-hp{i}-{kind}-{dtype.__name__}")
    for name in OPTIMIZERS
    for i in range(len(HYPERS[name]))
    for kind in ("dense", "sparse")
    for dtype in (np.float32, np.float64)
]


def _gradients(kind: str, dtype: type, seed: int):
    """The fixed gradient sequence: arrays (dense) or (values, indices) with duplicates."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(STEPS):
        if kind == "dense":
            out.append(rng.normal(size=DENSE_SHAPE).astype(dtype))
        else:
            idx = rng.integers(0, SPARSE_ROWS, size=SPARSE_N)
            idx[1] = idx[0]  # always at least one duplicate index
            out.append((rng.normal(size=(SPARSE_N, SPARSE_COLS)).astype(dtype), idx.astype(np.int64)))
    return out


def _numpy_run(name, kw, kind, dtype, w0, grads, exact=False):
    _, _, rule, defaults, init_slots, sparse_kind = OPTIMIZERS[name]
    h = Hypers(kw, defaults, dtype, exact)
    w = w0.copy()
    slots = {k: np.full_like(w, dtype(v)) for k, v in init_slots(kw).items()}
    history = []
    for t, g in enumerate(grads, start=1):
        if kind == "dense":
            w, slots = rule(g, w, slots, h, t)
        else:
            values, idx = g
            if sparse_kind == "add":
                w = w.copy()
                np.add.at(w, idx, -h("learning_rate") * values)
            else:
                uniq = np.unique(idx)
                summed = np.stack([values[idx == i].sum(axis=0) for i in uniq])
                if sparse_kind == "dense":
                    dense_g = np.zeros_like(w)
                    dense_g[uniq] = summed
                    w, slots = rule(dense_g, w, slots, h, t)
                else:
                    rows, new_rows = rule(summed, w[uniq], {k: v[uniq] for k, v in slots.items()},
                                          h, t)
                    w = w.copy()
                    w[uniq] = rows
                    for k in slots:
                        slots[k] = slots[k].copy()
                        slots[k][uniq] = new_rows[k]
        history.append(w.astype(dtype))
    return history


def _tf_run(make, kind, dtype, w0, grads, needs_step, jit=None):
    var = tf.Variable(w0)
    step = tf.Variable(0, dtype=tf.int64)
    opt = make(step) if needs_step else make(None)
    if jit is not None:
        opt.jit_compile = jit
    history = []
    for g in grads:
        if kind == "dense":
            grad = tf.constant(g)
        else:
            values, idx = g
            grad = tf.IndexedSlices(tf.constant(values), tf.constant(idx),
                                    tf.constant(w0.shape, tf.int64))
        opt.apply_gradients([(grad, var)], global_step=step)
        history.append(var.numpy())
    assert int(step.numpy()) == STEPS
    if jit:  # every step really ran as one XLA computation (no silent fallback)
        assert [c.jit for c in opt._engine.compiled.values()] == [True]
    return history


# TF1's dense Proximal* kernels do not cast Python-float hyperparameters to a float64
# variable's dtype (InvalidArgumentError: "expected to be a float tensor but is a double
# tensor"). For those cases both optimizers get float64 tensor hyperparameters (which labkit
# also accepts), and the NumPy reference uses the exact values.
TF1_NEEDS_FLOAT64_TENSORS = {("ProximalGradientDescent", "dense"), ("ProximalAdagrad", "dense")}
HYPER_ARGS = {"learning_rate", "l1_regularization_strength", "l2_regularization_strength"}


@pytest.mark.parametrize("name,hp,kind,dtype", CASES)
def test_parity_with_tf1_and_numpy(name, hp, kind, dtype):
    _check_parity(name, hp, kind, dtype, jit=None)


XLA_CASES = [
    pytest.param(name, i, dtype, id=f"{name}-hp{i}-{dtype.__name__}")
    for name in OPTIMIZERS
    for i in range(len(HYPERS[name]))
    for dtype in (np.float32, np.float64)
]


@pytest.mark.parametrize("name,hp,dtype", XLA_CASES)
def test_xla_compiled_step_has_the_same_parity(name, hp, dtype):
    """Large dense variables get a step compiled with XLA (``jit_compile="auto"``), whose
    expressions are written for XLA's emitters (e.g. ``add_square``): the same tolerances
    hold on that path, forced here on the small variable."""
    _check_parity(name, hp, "dense", dtype, jit=True)


def _check_parity(name, hp, kind, dtype, jit):
    labkit_cls, tf1_cls, _, _, _, _ = OPTIMIZERS[name]
    kw = dict(HYPERS[name][hp])
    needs_step = name == "AdagradDA"
    exact = dtype == np.float64 and (name, kind) in TF1_NEEDS_FLOAT64_TENSORS
    seed = sum(map(ord, f"{name}{hp}{kind}{dtype.__name__}"))
    rng = np.random.default_rng(seed + 1)
    shape = DENSE_SHAPE if kind == "dense" else (SPARSE_ROWS, SPARSE_COLS)
    w0 = rng.normal(size=shape).astype(dtype)
    grads = _gradients(kind, dtype, seed)

    def make(cls):
        def build(step):
            args = dict(kw)
            if exact:
                for k in HYPER_ARGS:
                    args.setdefault(k, 0.0)
                args = {k: tf.constant(v, tf.float64) if k in HYPER_ARGS else v
                        for k, v in args.items()}
            if needs_step:
                args["global_step"] = step
            return cls(**args)
        return build

    ours = _tf_run(make(labkit_cls), kind, dtype, w0, grads, needs_step, jit)
    theirs = _tf_run(make(tf1_cls), kind, dtype, w0, grads, needs_step)
    reference = _numpy_run(name, kw, kind, dtype, w0, grads, exact)
    tol = 1e-5 if dtype == np.float32 else 1e-10
    for t in range(STEPS):
        scale = max(1.0, float(np.max(np.abs(theirs[t]))))
        d_tf1 = float(np.max(np.abs(ours[t] - theirs[t])))
        d_np = float(np.max(np.abs(ours[t] - reference[t])))
        assert d_tf1 <= tol * scale, f"step {t + 1}: |labkit - tf1| = {d_tf1:.3g} > {tol * scale:.3g}"
        assert d_np <= tol * scale, f"step {t + 1}: |labkit - numpy| = {d_np:.3g} > {tol * scale:.3g}"
    # The comparison must mean something: the parameters really moved. Adadelta's defaults
    # (lr=0.001, eps=1e-8) move them by only ~1e-5 in 100 steps, below the float32 tolerance,
    # so there the float64 twin's relative check below carries the test.
    moved = float(np.max(np.abs(theirs[-1] - w0)))
    if not (name == "Adadelta" and hp == 0):
        assert moved > 1e-3
    if dtype == np.float64:
        d_move = float(np.max(np.abs((ours[-1] - w0) - (theirs[-1] - w0))))
        assert moved > 0 and d_move <= 1e-6 * moved

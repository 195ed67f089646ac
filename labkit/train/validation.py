"""Input checks of the labkit optimizers, in one place: hyperparameters, flags, the
(gradient, variable) pairs of a step, sparse indices, and (opt-in) evaluated hyperparameters.

Introduced with the optimizers in notebooks/03a_optimizers.ipynb. Every refusal is a TypeError
or ValueError that names the argument and the value received, raised before anything changes.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any, TypeGuard

import numpy as np
import tensorflow as tf

from labkit.train.variables import as_tf_variable, num_rows


def is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
                  low_open: bool = False, high_open: bool = True, text: str | None = None,
                  unusual: tuple[float, ...] = ()) -> None:
    """Validate a numeric hyperparameter; callables, schedules and tensors are checked later.

    Nonsense (a wrong type, NaN, an infinity, a value outside the range, such as a negative
    learning rate) is an error naming the argument and the value. A value TF1 accepts but that
    makes the optimizer degenerate (``unusual``: a learning rate of 0, ``rho=1``, ``epsilon=0``)
    is accepted, as TF1 does, with a warning that says what it does.
    """
    if isinstance(value, bool):
        raise TypeError(f"`{name}` must be a number, a callable or a schedule. Received: {name}={value!r}")
    if value is None or callable(value) or tf.is_tensor(value) or isinstance(value, tf.Variable):
        if value is None:
            raise TypeError(f"`{name}` must be a number, a callable or a schedule. Received: {name}=None")
        return
    if not is_number(value):
        raise TypeError(
            f"`{name}` must be a number, a callable or a schedule. Received: {name}={value!r} "
            f"of type {type(value).__name__}")
    v = float(value)
    if math.isinf(v):
        raise ValueError(f"`{name}` must be a finite number. Received: {name}={value!r}")
    bad = math.isnan(v)
    if low is not None:
        bad = bad or (v <= low if low_open else v < low)
    if high is not None:
        bad = bad or (v >= high if high_open else v > high)
    if bad:
        if text is None:
            lo = "(" if low_open else "["
            hi = ")" if high_open else "]"
            lo_txt = f"{low:g}" if low is not None else "-inf"
            hi_txt = f"{high:g}" if high is not None else "inf"
            text = f"in {lo}{lo_txt}, {hi_txt}{hi}"
        raise ValueError(f"`{name}` must be {text}. Received: {name}={value!r}")
    if v in unusual:
        warnings.warn(f"`{name}`={value!r} is accepted (TF1 accepts it) but unusual: "
                      f"{_UNUSUAL.get(name, 'check that it is what you mean')}", stacklevel=3)


_UNUSUAL = {
    "learning_rate": "with a learning rate of 0 no variable ever changes",
    "epsilon": "with epsilon=0 a zero accumulator divides by zero (inf or NaN updates)",
    "rho": "with rho=1 the running averages never change from their start values",
    "decay": "with decay=1 the running average never changes from its start value",
    "beta1": "with beta1=1 the first moment stays 0 and the bias correction divides by 0",
    "beta2": "with beta2=1 the second moment stays 0 and the bias correction divides by 0",
    "momentum": "with momentum=1 the velocity never decays",
}


def check_bool(name: str, value: Any) -> bool:
    """A flag such as ``use_nesterov`` or ``centered``: True/False only (``'False'`` is truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False. Received: {name}={value!r} "
                        f"of type {type(value).__name__}")
    return bool(value)


def check_gate(gate_gradients: Any) -> None:
    if isinstance(gate_gradients, bool) or gate_gradients not in (0, 1, 2):
        raise ValueError(
            "`gate_gradients` must be Optimizer.GATE_NONE (0), Optimizer.GATE_OP (1) or "
            f"Optimizer.GATE_GRAPH (2). Received: gate_gradients={gate_gradients!r}")


def validate_pairs(opt: Any, grads_and_vars: Any) -> list[tuple[Any, tf.Variable]]:
    if isinstance(grads_and_vars, (tf.Tensor, tf.Variable)) or grads_and_vars is None:
        raise TypeError("`grads_and_vars` must be a list of (gradient, variable) pairs. "
                        f"Received: {grads_and_vars!r}")
    items = list(grads_and_vars)
    if not items:
        raise ValueError("No variables provided: `grads_and_vars` is empty.")
    pairs, seen = [], set()
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError("`grads_and_vars` must contain (gradient, variable) pairs. "
                            f"Received element: {item!r}")
        g, given = item
        v = as_tf_variable(given)
        if v is None:
            raise TypeError("The second element of each pair must be a tf.Variable (or a "
                            f"Keras variable). Received: {given!r}")
        # a Keras variable keeps its own constraint; a tf.Variable has one attribute
        constraint = getattr(given, "constraint", None) or getattr(v, "constraint", None)
        if constraint is not None:
            opt._constraints[v.ref()] = constraint
        if not v.dtype.base_dtype.is_floating:
            raise TypeError(f"Variable {v.name} has dtype {v.dtype.base_dtype.name}; labkit "
                            "optimizers update floating-point variables only (nothing was "
                            "updated).")
        if v.ref() in seen:
            raise ValueError(f"Variable {v.name} appears more than once in `grads_and_vars`.")
        seen.add(v.ref())
        if g is None:
            continue
        if isinstance(g, tf.IndexedSlices) and constraint is not None:
            raise RuntimeError(
                "Cannot use a constraint function on a sparse variable (TF1 refuses it too): "
                f"variable {v.name} has a constraint and its gradient is a tf.IndexedSlices; "
                "nothing was updated. Pass tf.convert_to_tensor(gradient) to update it densely.")
        if isinstance(g, tf.Tensor) and g.dtype == v.dtype.base_dtype and g.shape == v.shape:
            pairs.append((g, v))  # the common case, checked cheaply
            continue
        if not isinstance(g, tf.IndexedSlices):
            try:
                g = tf.convert_to_tensor(g, dtype_hint=v.dtype.base_dtype)
            except (TypeError, ValueError) as e:
                raise TypeError(f"Gradient for variable {v.name} must be a tensor or "
                                f"tf.IndexedSlices. Received: {g!r}") from e
        if g.dtype.base_dtype != v.dtype.base_dtype:
            raise TypeError(f"Gradient for variable {v.name} has dtype {g.dtype.name}, but "
                            f"the variable has dtype {v.dtype.base_dtype.name}.")
        if isinstance(g, tf.IndexedSlices):
            ok = g.values.shape[1:].is_compatible_with(v.shape[1:])
            gshape = [None] + g.values.shape[1:].as_list()
        else:
            ok = g.shape.is_compatible_with(v.shape)
            gshape = g.shape.as_list() if g.shape.rank is not None else None
        if not ok:
            raise ValueError(f"Gradient for variable {v.name} has shape {gshape}, which does "
                             f"not match the variable's shape {v.shape.as_list()}.")
        pairs.append((g, v))
    if not pairs:
        raise ValueError("No gradients provided for any variable: "
                         f"{[v.name for _, v in items]}")
    return pairs

def check_indices(pairs: list[tuple[Any, tf.Variable]]) -> list[Any]:
    """Sparse gradients must index existing rows: ``0 <= index < rows``.

    Eagerly it raises a ValueError naming the variable and the bad index before any
    variable changes; inside a ``tf.function`` it returns assertions that run before the
    updates (TF's scatter ops would otherwise fail halfway, or drop negative indices).
    """
    checks = []
    for g, v in pairs:
        if not isinstance(g, tf.IndexedSlices):
            continue
        rows = num_rows(v)
        idx = tf.cast(g.indices, tf.int64)
        if tf.executing_eagerly():
            bad = tf.boolean_mask(idx, (idx < 0) | (idx >= tf.cast(rows, tf.int64))).numpy()
            if bad.size:
                raise ValueError(
                    f"`grads_and_vars`: the sparse gradient of variable {v.name} has index "
                    f"{int(bad[0])}, outside [0, {int(rows)}) (the variable's rows); nothing "
                    f"was updated. Received indices: {g.indices.numpy().tolist()[:20]}")
        else:
            checks.append(tf.debugging.assert_non_negative(
                idx, message=f"sparse gradient of {v.name}: negative index"))
            checks.append(tf.debugging.assert_less(
                idx, tf.cast(rows, tf.int64),
                message=f"sparse gradient of {v.name}: index >= the variable's rows"))
    return checks


def check_hyper_values(opt: Any) -> list[Any]:
    """With ``check_numerics``: every hyperparameter given as a schedule, a callable, a
    tensor or a variable is evaluated at the current step and must be finite and within
    the range its declaration gives (a ValueError naming it, the step and the value, before any
    update; assertions inside a ``tf.function``)."""
    checks = []
    step = opt._current_step
    # the declared kinds' ranges (labkit/train/hyperparameters.py), by the name the rule reads
    ranges = {h.key or h.name: h.kind.evaluated_range
              for h in getattr(type(opt), "HYPERPARAMETERS", ())}
    for name, value in opt._hyper_values.items():
        if is_number(value):
            continue  # checked by the constructor
        t = tf.cast(opt._resolve(value, step), tf.float64)
        low, high = ranges.get(name, (-math.inf, math.inf))
        if tf.executing_eagerly():
            x = t.numpy()
            if not np.all(np.isfinite(x)) or np.any(x < low) or np.any(x > high):
                raise ValueError(
                    f"`{name}` evaluated to {x.tolist()!r} at step {int(step.numpy())}; it "
                    f"must be finite and in [{low:g}, {high:g}]; nothing was updated "
                    f"(check_numerics=True). Received: {name}={value!r}")
        else:
            checks.append(tf.debugging.assert_all_finite(t, f"`{name}` is not finite"))
            if low > -math.inf:
                checks.append(tf.debugging.assert_greater_equal(
                    t, tf.constant(low, tf.float64), message=f"`{name}` below {low:g}"))
            if high < math.inf:
                checks.append(tf.debugging.assert_less_equal(
                    t, tf.constant(high, tf.float64), message=f"`{name}` above {high:g}"))
    return checks

def check_finite(pairs: list[tuple[Any, tf.Variable]]) -> list[Any]:
    values = [g.values if isinstance(g, tf.IndexedSlices) else g for g, _ in pairs]
    if tf.executing_eagerly():
        bad = [v.name for (_, v), x in zip(pairs, values, strict=True)
               if not bool(tf.reduce_all(tf.math.is_finite(x)))]
        if bad:
            raise FloatingPointError(
                f"Non-finite (NaN or Inf) gradients for variables {bad}; nothing was updated "
                "(check_numerics=True).")
        return []
    return [tf.debugging.assert_all_finite(x, f"Non-finite gradient for variable {v.name}")
            for (_, v), x in zip(pairs, values, strict=True)]


def check_global_step(global_step: Any) -> None:
    """``global_step`` of ``apply_gradients``/``minimize``: None or an integer variable."""
    if global_step is None:
        return
    if not isinstance(global_step, tf.Variable):
        raise TypeError(f"`global_step` must be a tf.Variable or None. Received: "
                        f"global_step={global_step!r}")
    if not global_step.dtype.base_dtype.is_integer:
        raise TypeError("`global_step` must be an integer variable (int32 or int64). "
                        f"Received: global_step={global_step.name} of dtype "
                        f"{global_step.dtype.base_dtype.name}")


def takes_argument(fn: Callable[..., Any]) -> bool:
    """True when ``fn`` requires one positional argument (a schedule of the step)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    required = [p for p in sig.parameters.values()
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(required) >= 1

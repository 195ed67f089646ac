r"""Gradient processing: the middle step of the seed's custom-optimizer recipe.

Introduced in notebooks/08_custom_optimizers.ipynb.

The seed writes a custom optimizer in three steps -- **compute** the gradients
(``compute_gradients``), **process** them (clip, weight, ...), **apply** them
(``apply_gradients``). Each function here builds one small processing step: a callable that
takes a list of ``(gradient, variable)`` pairs and returns a new list. Steps compose with
:func:`chain` (or ``step.then(other)``), so the seed's recipe reads::

    process = chain(clip_by_norm(5), scale({"dense/kernel": 0.5}))
    grads_and_vars = optimizer.compute_gradients(loss)   # 1. compute
    grads_and_vars = process(grads_and_vars)              # 2. process
    optimizer.apply_gradients(grads_and_vars)             # 3. apply

Rules shared by every step (the same as TF1's optimizers):

* a ``None`` gradient (the loss does not depend on that variable) passes through unchanged;
* a ``tf.IndexedSlices`` gradient (from ``tf.gather`` / embeddings) stays an
  ``IndexedSlices``; clipping by norm uses the norm of its values, exactly like
  ``tf.clip_by_norm`` / ``tf.clip_by_global_norm``;
* the input list is not modified; a new list is returned;
* steps work eagerly and inside ``tf.function``.

The clipping steps call TensorFlow's own ops (``tf.clip_by_norm``, ``tf.clip_by_global_norm``,
``tf.clip_by_value``), so they match them exactly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import tensorflow as tf

__all__ = [
    "GradientStep",
    "add_noise",
    "chain",
    "clip_by_global_norm",
    "clip_by_norm",
    "clip_by_value",
    "scale",
]

GradsAndVars = list[tuple[Any, tf.Variable]]


def _check_positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}")
    v = float(value)
    if math.isnan(v) or math.isinf(v) or v < 0 or (v == 0 and not allow_zero):
        need = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"`{name}` must be a finite number {need}. Received: {name}={value!r}")
    return v


def _pairs(grads_and_vars: Any) -> GradsAndVars:
    if grads_and_vars is None or isinstance(grads_and_vars, (tf.Tensor, tf.Variable, str)):
        raise TypeError("`grads_and_vars` must be a list of (gradient, variable) pairs. "
                        f"Received: grads_and_vars={grads_and_vars!r}")
    try:
        items = list(grads_and_vars)
    except TypeError:
        raise TypeError("`grads_and_vars` must be a list of (gradient, variable) pairs. "
                        f"Received: grads_and_vars={grads_and_vars!r}") from None
    out = []
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError("`grads_and_vars` must contain (gradient, variable) pairs. "
                            f"Received element: {item!r}")
        out.append((item[0], item[1]))
    return out


def _times(t: tf.Tensor, weight: Any) -> tf.Tensor:
    """``t * weight`` in ``t``'s dtype."""
    return t * tf.cast(weight, t.dtype)


def _map_values(g: Any, fn: Callable[[tf.Tensor], tf.Tensor]) -> Any:
    """Apply ``fn`` to a dense gradient, or to the values of an IndexedSlices one."""
    if g is None:
        return None
    if isinstance(g, tf.IndexedSlices):
        return tf.IndexedSlices(fn(g.values), g.indices, g.dense_shape)
    return fn(tf.convert_to_tensor(g))


class GradientStep:
    """One gradient-processing step: ``step(grads_and_vars) -> grads_and_vars``.

    Introduced in notebooks/08_custom_optimizers.ipynb. Built by :func:`clip_by_norm`,
    :func:`clip_by_global_norm`, :func:`clip_by_value`, :func:`scale`, :func:`add_noise`
    and :func:`chain`; ``a.then(b)`` is ``chain(a, b)``.

    Args:
        fn: the function on a list of (gradient, variable) pairs.
        description: how the step prints, e.g. ``"clip_by_norm(5.0)"``.
    """

    def __init__(self, fn: Callable[[GradsAndVars], GradsAndVars], description: str) -> None:
        self._fn = fn
        self.description = description
        self.last_global_norm: Any = None  # set by clip_by_global_norm's step each call
        self.calls: Any = None             # a counter variable, for steps that count calls
        self._chain_parts: list[GradientStep] = [self]  # what chain() flattens this step into

    def __call__(self, grads_and_vars: Iterable[tuple[Any, tf.Variable]]) -> GradsAndVars:
        """Process ``grads_and_vars``; returns a new list of pairs."""
        return self._fn(_pairs(grads_and_vars))

    def then(self, other: GradientStep) -> GradientStep:
        """This step followed by ``other`` (same as ``chain(self, other)``)."""
        return chain(self, other)

    def __repr__(self) -> str:
        return self.description


def clip_by_norm(clip_norm: float) -> GradientStep:
    r"""Clip each gradient to L2 norm at most ``clip_norm`` (``tf.clip_by_norm`` per variable).

    Introduced in notebooks/08_custom_optimizers.ipynb. The seed's recipe uses
    ``clip_by_norm(5)``. Each gradient is rescaled on its own:
    $g \leftarrow g \cdot \min(1, c / \lVert g\rVert_2)$, so the *direction* of the whole
    update may change (use :func:`clip_by_global_norm` to keep it).

    Args:
        clip_norm: the maximum norm $c > 0$.

    Raises:
        ValueError: ``clip_norm`` is not a finite number > 0.
    """
    c = _check_positive("clip_norm", clip_norm)

    def fn(pairs: GradsAndVars) -> GradsAndVars:
        return [(None if g is None else tf.clip_by_norm(g, c), v) for g, v in pairs]

    return GradientStep(fn, f"clip_by_norm({c:g})")


def clip_by_global_norm(clip_norm: float) -> GradientStep:
    r"""Rescale all gradients together so their global norm is at most ``clip_norm``.

    Introduced in notebooks/08_custom_optimizers.ipynb. Calls ``tf.clip_by_global_norm``:
    with $N = \sqrt{\sum_i \lVert g_i\rVert_2^2}$ every gradient becomes
    $g_i \cdot c / \max(N, c)$ -- one factor for all, so the update keeps its direction.
    The norm seen by the last call is in ``step.last_global_norm`` (a tensor, or None before
    the first call).

    Args:
        clip_norm: the maximum global norm $c > 0$.

    Raises:
        ValueError: ``clip_norm`` is not a finite number > 0.
    """
    c = _check_positive("clip_norm", clip_norm)

    def fn(pairs: GradsAndVars) -> GradsAndVars:
        if all(g is None for g, _ in pairs):
            return list(pairs)
        clipped, norm = tf.clip_by_global_norm([g for g, _ in pairs], c)
        step.last_global_norm = norm
        return [(None if g is None else cg, v) for (g, v), cg in zip(pairs, clipped, strict=True)]

    step = GradientStep(fn, f"clip_by_global_norm({c:g})")
    step.last_global_norm = None
    return step


def clip_by_value(clip_value_min: float, clip_value_max: float) -> GradientStep:
    """Clip every gradient element into ``[clip_value_min, clip_value_max]`` (``tf.clip_by_value``).

    Introduced in notebooks/08_custom_optimizers.ipynb. For an ``IndexedSlices`` gradient the
    values are clipped (rows repeated in ``indices`` are clipped before they are summed).

    Raises:
        ValueError: a bound is not finite, or ``clip_value_min > clip_value_max``.
    """
    bounds = []
    for name, value in (("clip_value_min", clip_value_min), ("clip_value_max", clip_value_max)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}")
        if not math.isfinite(float(value)):
            raise ValueError(f"`{name}` must be finite. Received: {name}={value!r}")
        bounds.append(float(value))
    lo, hi = bounds
    if lo > hi:
        raise ValueError("`clip_value_min` must be <= `clip_value_max`. Received: "
                         f"clip_value_min={clip_value_min!r}, clip_value_max={clip_value_max!r}")

    def fn(pairs: GradsAndVars) -> GradsAndVars:
        return [(_map_values(g, lambda t: tf.clip_by_value(t, tf.cast(lo, t.dtype), tf.cast(hi, t.dtype))), v)
                for g, v in pairs]

    return GradientStep(fn, f"clip_by_value({lo:g}, {hi:g})")


def _var_name(v: Any) -> str:
    return v.name.split(":")[0] if hasattr(v, "name") else repr(v)


def scale(weights: Mapping[Any, float] | Iterable[tuple[Any, float]],
          default: float = 1.0) -> GradientStep:
    r"""Per-variable gradient weighting: $g_v \leftarrow w_v\, g_v$.

    Introduced in notebooks/08_custom_optimizers.ipynb ("gradient weighting" in the seed's
    step 2). Typical uses: a smaller learning rate for a pretrained layer, freezing one
    (weight 0).

    Args:
        weights: ``{name: weight}`` or ``{variable.ref(): weight}`` (a ``tf.Variable`` is not
            hashable in TF2, so it cannot be a dict key itself), or a list of
            ``(variable_or_name, weight)`` pairs. A name may carry the ``":0"`` suffix or not.
            Weights are finite numbers >= 0.
        default: the weight of variables not named in ``weights``. Defaults to 1.

    Raises:
        ValueError: a weight is negative or not finite; or, when the step is called, a key
            names no variable of ``grads_and_vars`` (or a name matches several).
        TypeError: ``weights`` is neither a mapping nor a list of pairs, or a key is not a
            variable, a variable reference or a string.
    """
    if isinstance(weights, Mapping):
        items = list(weights.items())
    elif isinstance(weights, (list, tuple)) and all(
            isinstance(p, (list, tuple)) and len(p) == 2 for p in weights):
        items = [tuple(p) for p in weights]
    else:
        raise TypeError("`weights` must be a mapping {variable_or_name: weight} or a list of "
                        f"(variable_or_name, weight) pairs. Received: weights={weights!r}")
    by_ref: dict[Any, float] = {}
    by_name: dict[str, float] = {}
    for key, w in items:
        if isinstance(key, tf.Variable):
            key = key.ref()
        if hasattr(key, "deref") and isinstance(key.deref(), tf.Variable):
            label = _var_name(key.deref())
            by_ref[key] = _check_positive(f"weights[{label!r}]", w, allow_zero=True)
        elif isinstance(key, str) and key:
            by_name[key.split(":")[0]] = _check_positive(f"weights[{key!r}]", w, allow_zero=True)
        else:
            raise TypeError("`weights` keys must be tf.Variable objects, variable.ref() or "
                            f"variable names. Received key: {key!r}")
    d = _check_positive("default", default, allow_zero=True)

    def fn(pairs: GradsAndVars) -> GradsAndVars:
        refs = {v.ref() for _, v in pairs if isinstance(v, tf.Variable)}
        names: dict[str, int] = {}
        for _, v in pairs:
            names[_var_name(v)] = names.get(_var_name(v), 0) + 1
        unknown = [k for k in by_name if k not in names]
        unknown += [r.deref().name for r in by_ref if r not in refs]
        if unknown:
            raise ValueError(f"`weights` names variables that are not in grads_and_vars: {unknown}. "
                             f"The variables are: {sorted(names)}")
        ambiguous = [k for k in by_name if names[k] > 1]
        if ambiguous:
            raise ValueError(f"`weights` key(s) {ambiguous} match several variables; "
                             "use the tf.Variable objects as keys instead of names.")
        out = []
        for g, v in pairs:
            w = by_ref.get(v.ref()) if isinstance(v, tf.Variable) else None
            if w is None:
                w = by_name.get(_var_name(v), d)
            out.append((_map_values(g, functools.partial(_times, weight=w)), v))
        return out

    shown = {**{_var_name(r.deref()): w for r, w in by_ref.items()}, **by_name}
    return GradientStep(fn, f"scale({shown}{'' if d == 1.0 else f', default={d:g}'})")


def add_noise(stddev: float, seed: int = 0, gamma: float = 0.55) -> GradientStep:
    r"""Add annealed Gaussian noise to every gradient (Neelakantan et al., 2015).

    Introduced in notebooks/08_custom_optimizers.ipynb. At the step's $t$-th call
    ($t = 0, 1, \dots$) each gradient gets noise $\mathcal N(0, \sigma_t^2)$ with
    $\sigma_t = \sigma / (1 + t)^{\gamma/2}$ (the paper's variance $\eta/(1+t)^\gamma$ with
    $\eta = \sigma^2$). The noise comes from a ``tf.random.Generator`` seeded with ``seed``, so
    a run is reproducible; ``gamma=0`` gives constant noise.

    Args:
        stddev: $\sigma \ge 0$.
        seed: non-negative integer seed.
        gamma: annealing exponent $\gamma \ge 0$ (paper: 0.55).

    Raises:
        ValueError: ``stddev`` or ``gamma`` negative / not finite, or ``seed`` negative.

    Reference: Neelakantan et al., "Adding Gradient Noise Improves Learning for Very Deep
    Networks", 2015.
    """
    s = _check_positive("stddev", stddev, allow_zero=True)
    gm = _check_positive("gamma", gamma, allow_zero=True)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer. Received: seed={seed!r}")
    with tf.init_scope():
        generator = tf.random.Generator.from_seed(int(seed))
        calls = tf.Variable(0, dtype=tf.int64, trainable=False, name="add_noise_calls")

    def fn(pairs: GradsAndVars) -> GradsAndVars:
        t = tf.cast(calls.read_value(), tf.float32)
        sigma = s / tf.pow(1.0 + t, gm / 2.0)
        out = []
        for g, v in pairs:
            out.append((_map_values(
                g, lambda x: x + tf.cast(sigma, x.dtype) * generator.normal(tf.shape(x), dtype=x.dtype)), v))
        calls.assign_add(1)
        return out

    step = GradientStep(fn, f"add_noise({s:g}, seed={int(seed)}, gamma={gm:g})")
    step.calls = calls
    return step


def chain(*steps: GradientStep | Callable[[GradsAndVars], GradsAndVars]) -> GradientStep:
    """Compose processing steps left to right: ``chain(a, b)(gv) == b(a(gv))``.

    Introduced in notebooks/08_custom_optimizers.ipynb. Any callable on a list of
    (gradient, variable) pairs is accepted as a step, so a plain function with
    ``tf.clip_by_norm`` inside chains with the built-in steps.

    Raises:
        TypeError: a step is not callable.
    """
    for i, s in enumerate(steps):
        if not callable(s):
            raise TypeError(f"every step of `chain` must be callable on a list of (gradient, "
                            f"variable) pairs. Received: steps[{i}]={s!r}")
    flat: list[Any] = []
    for s in steps:
        flat.extend(s._chain_parts if isinstance(s, GradientStep) else [s])

    def fn(pairs: GradsAndVars) -> GradsAndVars:
        for s in flat:
            pairs = _pairs(s(pairs))
        return pairs

    names = ", ".join(repr(s) if isinstance(s, GradientStep) else getattr(s, "__name__", repr(s))
                      for s in flat)
    step = GradientStep(fn, f"chain({names})")
    step._chain_parts = flat
    return step

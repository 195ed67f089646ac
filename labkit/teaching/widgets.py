"""Hyperparameter controls generated from an optimizer's constructor signature.

Introduced in notebooks/03a_optimizers.ipynb.

Nothing here is hand-built per optimizer: ``hyperparameter_specs(cls)`` reads
``inspect.signature(cls)`` and maps each parameter *name* to a slider range by a handful of
rules (learning rates, epsilons and l1/l2 strengths on a log scale, decay-like rates in
[0, 0.999], ``learning_rate_power`` in [-1, 0], accumulator initial values > 0, booleans as
check boxes; ``use_locking``, ``name`` and other bookkeeping arguments are skipped).
``controls_for(cls)`` turns the specs into ipywidgets and ``hyperparameters_from(controls)``
reads them back into the keyword arguments of ``cls``. The plain functions work without a
browser (tests call them directly).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from labkit.i18n import _

__all__ = [
    "HyperSpec",
    "hyperparameter_specs",
    "default_hyperparameters",
    "controls_for",
    "hyperparameters_from",
    "regression_loss_curve",
    "HyperparameterExplorer",
    "SUGGESTED_LEARNING_RATES",
]

# Arguments that are bookkeeping, not hyperparameters (the last five: Keras 3's base-class
# switches, which are not part of any update rule).
SKIPPED = frozenset({"use_locking", "name", "accum_name", "linear_name", "global_step",
                     "use_own_namescope_for_non_slot_vars", "beta",
                     "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                     "gradient_accumulation_steps"})

# A learning rate that makes each optimizer do something visible in a few dozen steps on the
# lab's small problems (TF1 gives most of them no default at all).
SUGGESTED_LEARNING_RATES: dict[str, float] = {
    "GradientDescentOptimizer": 0.05,
    "AdadeltaOptimizer": 1.0,
    "AdagradOptimizer": 0.3,
    "AdagradDAOptimizer": 0.3,
    "MomentumOptimizer": 0.02,
    "AdamOptimizer": 0.1,
    "FtrlOptimizer": 0.3,
    "ProximalGradientDescentOptimizer": 0.05,
    "ProximalAdagradOptimizer": 0.3,
    "RMSPropOptimizer": 0.02,
}
# Defaults for the other arguments that TF1 made required.
REQUIRED_DEFAULTS: dict[str, float] = {"momentum": 0.9}


@dataclass(frozen=True)
class HyperSpec:
    """How one constructor argument is exposed.

    Introduced in notebooks/03a_optimizers.ipynb.

    Attributes:
        name: the keyword argument.
        kind: "float" (linear slider), "log" (log slider) or "bool" (check box).
        default: the starting value (the signature's default, or a suggestion when TF1 had none).
        low, high: the slider range (ignored for "bool").
        zero_at_min: for l1/l2 strengths on a log slider: the leftmost position means 0 (off).
    """

    name: str
    kind: str
    default: float | bool
    low: float = 0.0
    high: float = 1.0
    zero_at_min: bool = False


def _check_class(cls: Any) -> None:
    if not inspect.isclass(cls):
        raise TypeError(f"`cls` must be an optimizer class. Received: cls={cls!r}")


def _rule(name: str, default: float) -> tuple[str, float, float, bool]:
    """(kind, low, high, zero_at_min) for a float argument, from its name."""
    if name == "learning_rate_power":
        return "float", -1.0, 0.0, False
    if name == "learning_rate":
        return "log", 1e-4, 10.0, False
    if "epsilon" in name:
        return "log", 1e-10, 1.0, False
    if name.startswith("initial_") and "accumulator" in name:
        return "log", 1e-3, 10.0, False
    if "regularization_strength" in name:
        return "log", 1e-4, 1000.0, True
    if name in ("beta1", "beta2", "beta_1", "beta_2", "decay", "momentum", "rho"):
        return "float", 0.0, 0.999, False
    high = max(1.0, 2.0 * abs(float(default)))
    return "float", min(0.0, float(default)), high, False


def _spec_from_declaration(cls: type, h: Any) -> HyperSpec:
    """The slider of a declared hyperparameter (its kind gives scale and range)."""
    if h.kind.scale == "bool":
        return HyperSpec(h.name, "bool", bool(h.default))
    default = h.default
    if default is None:  # TF1 made it required: the lab's suggestion
        default = (SUGGESTED_LEARNING_RATES.get(cls.__name__, 0.01) if h.name == "learning_rate"
                   else REQUIRED_DEFAULTS[h.name])
    low, high = h.kind.slider
    kind = "log" if h.kind.scale == "log" else "float"
    return HyperSpec(h.name, kind, float(default), low, high, h.kind.zero_at_min)


def hyperparameter_specs(cls: type) -> list[HyperSpec]:
    """The exposed hyperparameters of an optimizer class, in signature order.

    Introduced in notebooks/03a_optimizers.ipynb.

    Args:
        cls: an optimizer class such as ``labkit.train.AdamOptimizer``, whose declared
            ``HYPERPARAMETERS`` give the sliders, or a Keras 3 one (``keras.optimizers.Adam``),
            whose sliders follow its argument names; arguments that default to None are not
            exposed.

    Returns:
        One ``HyperSpec`` per hyperparameter (bookkeeping arguments skipped).
    """
    _check_class(cls)
    declared = getattr(cls, "HYPERPARAMETERS", None)
    if declared is not None:  # a labkit optimizer: its own declaration (labkit.train.hyperparameters)
        return [_spec_from_declaration(cls, h) for h in declared
                if not (h.optional and h.default is None)]
    specs: list[HyperSpec] = []
    for p in inspect.signature(cls).parameters.values():
        if p.name in SKIPPED or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        default = p.default
        if default is p.empty:
            if p.name == "learning_rate":
                default = SUGGESTED_LEARNING_RATES.get(cls.__name__, 0.01)
            elif p.name in REQUIRED_DEFAULTS:
                default = REQUIRED_DEFAULTS[p.name]
            else:
                raise ValueError(f"`cls` has a required argument without a known default: "
                                 f"{p.name!r}. Received: cls={cls.__name__}")
        if isinstance(default, bool):
            specs.append(HyperSpec(p.name, "bool", default))
            continue
        if default is None or not isinstance(default, (int, float)):
            continue
        kind, low, high, zero_at_min = _rule(p.name, default)
        if kind == "log" and not zero_at_min and default <= 0:
            raise ValueError(f"default of `{p.name}` must be > 0 for a log slider. "
                             f"Received: {p.name}={default!r}")
        specs.append(HyperSpec(p.name, kind, float(default), low, high, zero_at_min))
    return specs


def default_hyperparameters(cls: type) -> dict[str, float | bool]:
    """The keyword arguments the controls start from (``{name: default}``).

    Introduced in notebooks/03a_optimizers.ipynb.
    """
    return {s.name: s.default for s in hyperparameter_specs(cls)}


def _widget_for(spec: HyperSpec, value: Any, continuous_update: bool):
    import ipywidgets as widgets

    style = {"description_width": "initial"}
    layout = widgets.Layout(width="360px")
    if spec.kind == "bool":
        return widgets.Checkbox(value=bool(value), description=spec.name, style=style)
    if spec.kind == "log":
        lo, hi = math.log10(spec.low), math.log10(spec.high)
        v = float(value)
        v = spec.low if (v <= 0 and spec.zero_at_min) else min(max(v, spec.low), spec.high)
        return widgets.FloatLogSlider(value=v, base=10, min=lo, max=hi, step=0.05,
                                      description=spec.name, readout_format=".2e",
                                      continuous_update=continuous_update, style=style,
                                      layout=layout)
    v = min(max(float(value), spec.low), spec.high)
    step = 0.001 if spec.high - spec.low <= 1.0 else 0.01
    return widgets.FloatSlider(value=v, min=spec.low, max=spec.high, step=step,
                               description=spec.name, readout_format=".3f",
                               continuous_update=continuous_update, style=style, layout=layout)


def controls_for(cls: type, values: Mapping[str, Any] | None = None,
                 continuous_update: bool = False) -> dict[str, Any]:
    """One widget per hyperparameter of ``cls``: ``{argument name: widget}``.

    Introduced in notebooks/03a_optimizers.ipynb.

    Args:
        cls: an optimizer class.
        values: optional starting values overriding the defaults.
        continuous_update: update while a slider is dragged (False: on release).
    """
    specs = hyperparameter_specs(cls)
    values = dict(values or {})
    unknown = set(values) - {s.name for s in specs}
    if unknown:
        raise ValueError(f"`values` has names that are not hyperparameters of {cls.__name__}: "
                         f"{sorted(unknown)}. Received: values={values!r}")
    out = {}
    for s in specs:
        w = _widget_for(s, values.get(s.name, s.default), continuous_update)
        w._labkit_spec = s  # how hyperparameters_from reads it back
        out[s.name] = w
    return out


def hyperparameters_from(controls: Mapping[str, Any]) -> dict[str, float | bool]:
    """Read the controls made by ``controls_for`` back into keyword arguments.

    Introduced in notebooks/03a_optimizers.ipynb. An l1/l2 log slider at its leftmost
    position reads as 0.0 (regularization off).
    """
    if not isinstance(controls, Mapping):
        raise TypeError(f"`controls` must be a mapping name -> widget. Received: "
                        f"{type(controls).__name__}")
    out: dict[str, float | bool] = {}
    for name, w in controls.items():
        if not hasattr(w, "value"):
            raise TypeError(f"control {name!r} has no value. Received: {w!r}")
        spec = getattr(w, "_labkit_spec", None)
        if isinstance(w.value, bool):
            out[name] = bool(w.value)
            continue
        v = float(w.value)
        if spec is not None and spec.zero_at_min and v <= spec.low * (1 + 1e-6):
            v = 0.0
        out[name] = v
    return out


def make_optimizer(cls: type, hyper: Mapping[str, Any] | None = None, jit_compile: bool = False):
    """Instantiate ``cls`` with ``hyper`` (missing ones from ``default_hyperparameters``).

    Introduced in notebooks/03a_optimizers.ipynb. ``jit_compile`` is the optimizer's XLA switch
    (labkit default True); here it defaults to False because the lab's demo problems have a
    handful of weights and XLA's compile time (seconds) would dominate.

    AdagradDA gets a fresh ``global_step`` variable (TF1 required one); it is returned as the
    optimizer's attribute ``labkit_global_step`` so callers can pass it to ``apply_gradients``.
    """
    import tensorflow as tf

    kwargs: dict[str, Any] = default_hyperparameters(cls)
    kwargs.update(hyper or {})
    step = None
    if "global_step" in inspect.signature(cls).parameters:
        step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        kwargs["global_step"] = step
    opt = cls(**kwargs)
    if hasattr(opt, "jit_compile"):
        opt.jit_compile = bool(jit_compile)
    opt.labkit_global_step = step
    return opt


def regression_loss_curve(cls: type, hyper: Mapping[str, Any] | None = None,
                          steps: int = 60, seed: int = 0) -> np.ndarray:
    """Mean-squared-error per step of a linear regression trained by ``cls(**hyper)``.

    Introduced in notebooks/03a_optimizers.ipynb: the curve that each optimizer's widget
    redraws. Full-batch, 128 seeded samples, 3 features, weights start at 0; eager and small
    (~60 steps) so a slider feels immediate.

    Returns:
        ``steps + 1`` losses (before the first step, then after each step).
    """
    import tensorflow as tf

    from labkit.data import make_regression

    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"`steps` must be a positive integer. Received: steps={steps!r}")
    x, y, _coef = make_regression(n_samples=128, n_features=3, noise=0.1, seed=seed)
    x = np.concatenate([x, np.ones((len(x), 1))], axis=1)  # the bias as a 4th weight
    x = tf.constant(x, tf.float32)
    y = tf.constant(np.reshape(y, (-1, 1)), tf.float32)
    w = tf.Variable(tf.zeros((4, 1)), name="w")
    opt = make_optimizer(cls, hyper)

    def loss_fn() -> tf.Tensor:
        return tf.reduce_mean(tf.square(x @ w - y))

    losses = [float(loss_fn())]
    for _i in range(int(steps)):
        opt.minimize(loss_fn, var_list=[w], global_step=opt.labkit_global_step)
        losses.append(float(loss_fn()))
    return np.asarray(losses)


class HyperparameterExplorer:
    """Sliders for one optimizer's hyperparameters driving a loss-curve ``LivePlot``.

    Introduced in notebooks/03a_optimizers.ipynb. ``update()`` is the plain function the
    widgets call; a notebook calls it once before displaying the explorer.

    Args:
        cls: an optimizer class.
        curve_fn: ``(cls, hyper) -> losses``; defaults to ``regression_loss_curve``.
        steps: steps of the default curve.
        values: starting values for some sliders (others start at the defaults).
    """

    def __init__(self, cls: type,
                 curve_fn: Callable[[type, Mapping[str, Any]], np.ndarray] | None = None,
                 steps: int = 30, values: Mapping[str, Any] | None = None) -> None:
        from labkit.teaching.plots import LivePlot

        _check_class(cls)
        self.cls = cls
        self.curve_fn = curve_fn or (lambda c, h: regression_loss_curve(c, h, steps=steps))
        self.controls = controls_for(cls, values)
        self.plot = LivePlot(figsize=(5.5, 3.0))
        self.last_losses: np.ndarray | None = None
        self._box = None

    def update(self, *_args: Any) -> np.ndarray:
        """Recompute the curve from the current control values and redraw in place."""
        from labkit.teaching.plots import draw_curves

        hyper = hyperparameters_from(self.controls)
        losses = np.asarray(self.curve_fn(self.cls, hyper), dtype=float)
        self.last_losses = losses
        short = self.cls.__name__.removesuffix("Optimizer")
        draw_curves(self.plot.ax, {self.cls.__name__: losses}, logy=True,
                    ylabel="MSE", title=_("{optimizer}: linear regression").format(optimizer=short))
        self.plot.redraw()
        return losses

    @property
    def widget(self):
        """The controls beside the plot, wired to ``update`` (created on first use)."""
        if self._box is None:
            import ipywidgets as widgets

            for w in self.controls.values():
                w.observe(self.update, names="value")
            self._box = widgets.HBox([widgets.VBox(list(self.controls.values())),
                                      self.plot.widget])
        return self._box

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

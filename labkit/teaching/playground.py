"""The 2-D optimizer playground (introduced in notebooks/04_playground.ipynb).

Trajectories are computed by the REAL ``labkit.train`` optimizers, not by a NumPy
re-implementation: for each (surface, optimizer) the playground builds one
``tf.function(jit_compile=True)`` that resets the optimizer's state, then runs up to
``MAX_STEPS`` steps of ``GradientTape`` + ``apply_gradients`` in a ``tf.while_loop`` and
writes every point into a ``TensorArray``. Hyperparameters that the optimizer reads as tensors
(learning rates, betas, l1/l2, ...) are ``tf.Variable`` inputs, so moving a slider never
retraces; the few read in Python when the optimizer is built (``initial_accumulator_value``,
``use_nesterov``, ``centered``) rebuild that one optimizer's function.

Two families run side by side: the TF1 classes (``"Adam"`` or ``"AdamOptimizer"``, from
``labkit.train``) and the Keras 3 classes (``"keras.Adam"``: ``keras.optimizers.Adam`` itself,
constructed by its real class and stepped with ``apply_gradients``). A Keras optimizer's learning
rate is its own variable (assigned, no retrace); its other hyperparameters are Python floats read
when it is built, so changing one rebuilds that optimizer's function.

On the ``l1`` surface, optimizers with an ``l1_regularization_strength`` get the gradient of the
smooth part only and apply the L1 term through their proximal step (their l1 defaults to the
surface's); the others differentiate the whole objective (subgradient ``sign``). Ftrl compares
l1 with the running SUM of gradients, so its default l1 is the surface's times the step count.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

import labkit.train as _train
from labkit.i18n import _
from labkit.teaching.palette import OPTIMIZER_NAMES, color_for
from labkit.teaching.surfaces import Surface, get_surface
from labkit.teaching.widgets import (
    SUGGESTED_LEARNING_RATES,
    default_hyperparameters,
    hyperparameter_specs,
)

__all__ = ["MAX_STEPS", "KERAS_NAMES", "KERAS_COUNTERPARTS", "PLAYGROUND_LEARNING_RATES",
           "Trajectory", "playground_defaults", "library_default_learning_rate",
           "compute_trajectories", "draw_surface", "draw_paths", "draw_trajectories",
           "Playground"]

MAX_STEPS = 1000
KERAS_PREFIX = "keras."
# The Keras 3 optimizers the playground offers (keras.optimizers.<name>).
KERAS_NAMES: tuple[str, ...] = tuple(
    KERAS_PREFIX + n for n in ("SGD", "Adagrad", "Adadelta", "Adam", "RMSprop", "Ftrl",
                               "Nadam", "Adamax", "AdamW", "Lion"))
# The TF1 class each Keras class replaces (the newer ones have none).
KERAS_COUNTERPARTS: dict[str, str] = {
    "keras.SGD": "GradientDescentOptimizer", "keras.Adagrad": "AdagradOptimizer",
    "keras.Adadelta": "AdadeltaOptimizer", "keras.Adam": "AdamOptimizer",
    "keras.RMSprop": "RMSPropOptimizer", "keras.Ftrl": "FtrlOptimizer",
}
ALL_NAMES: tuple[str, ...] = OPTIMIZER_NAMES + KERAS_NAMES
# The playground's learning rates (before the surface's lr_scale): the lab's suggestions, chosen
# so every optimizer visibly moves in 100 steps. They replace the libraries' defaults (e.g.
# Adam's 0.001, which moves about 0.1 in 100 steps); a Keras class gets its TF1 counterpart's.
PLAYGROUND_LEARNING_RATES: dict[str, float] = {
    **SUGGESTED_LEARNING_RATES,
    **{k: SUGGESTED_LEARNING_RATES[v] for k, v in KERAS_COUNTERPARTS.items()},
    "keras.Nadam": 0.1, "keras.Adamax": 0.1, "keras.AdamW": 0.1, "keras.Lion": 0.03,
}
# Plain-gradient optimizers whose stable step size depends on the surface's curvature.
_SCALE_SENSITIVE = ("GradientDescentOptimizer", "MomentumOptimizer",
                    "ProximalGradientDescentOptimizer", "keras.SGD")


@dataclass(frozen=True)
class Trajectory:
    """The points visited by one optimizer (``points[0]`` is the start).

    Introduced in notebooks/04_playground.ipynb.
    """

    name: str
    points: np.ndarray
    losses: np.ndarray

    @property
    def final(self) -> np.ndarray:
        return self.points[-1]

    @property
    def exact_zeros(self) -> list[bool]:
        """Which coordinates of the final point are exactly 0.0 (not just small)."""
        return [bool(v == 0.0) for v in self.final]


def _full_name(n: Any) -> str | None:
    if not isinstance(n, str):
        return None
    if n.startswith(KERAS_PREFIX):
        return n if n in KERAS_NAMES else None
    full = n if n.endswith("Optimizer") else f"{n}Optimizer"
    return full if full in OPTIMIZER_NAMES else None


def _short(full: str) -> str:
    """The label of an optimizer: "Adam" (TF1) or "keras.Adam"."""
    return full.removesuffix("Optimizer")


def _check_names(names: Iterable[str] | None) -> tuple[str, ...]:
    if names is None:
        return OPTIMIZER_NAMES
    if isinstance(names, str):
        names = [names]
    out = []
    for n in names:
        full = _full_name(n)
        if full is None:
            raise ValueError(f"`names` must contain optimizer names from {list(OPTIMIZER_NAMES)} "
                             f"(short forms such as 'Adam' too) or {list(KERAS_NAMES)}. "
                             f"Received: {n!r}")
        out.append(full)
    if not out:
        raise ValueError("`names` must name at least one optimizer. Received: names=[]")
    return tuple(out)


def _is_keras(full: str) -> bool:
    return full.startswith(KERAS_PREFIX)


def _class_of(full: str) -> type:
    if _is_keras(full):
        import keras

        return getattr(keras.optimizers, full.removeprefix(KERAS_PREFIX))
    return getattr(_train, full)


def _has_l1(cls: type) -> bool:
    return "l1_regularization_strength" in inspect.signature(cls).parameters


def library_default_learning_rate(name: str) -> float | None:
    """The learning rate the library's constructor defaults to (None: the library requires it).

    Introduced in notebooks/04_playground.ipynb; read from ``inspect.signature`` of the real
    class: ``tf.compat.v1.train.<Name>`` for a TF1 name, ``keras.optimizers.<Name>`` for Keras.
    """
    (full,) = _check_names([name])
    cls = _class_of(full) if _is_keras(full) else getattr(tf.compat.v1.train, full)
    p = inspect.signature(cls).parameters["learning_rate"]
    return None if p.default is p.empty else float(p.default)


def playground_defaults(name: str, surface: str | Surface,
                        steps: int = 100) -> dict[str, float | bool]:
    """The hyperparameters an optimizer starts with on a surface.

    Introduced in notebooks/04_playground.ipynb. The class's own defaults (read from its
    signature), except: the learning rate is ``PLAYGROUND_LEARNING_RATES[name]``, scaled by the
    surface's ``lr_scale`` for plain-gradient methods; on the ``l1`` surface the l1 strength is
    the surface's L1 weight, and for Ftrl that weight times ``steps``: Ftrl compares l1 with
    the running sum of all gradients, so at step t it acts like a per-step penalty of l1 / t.
    """
    (full,) = _check_names([name])
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"`steps` must be a positive integer. Received: steps={steps!r}")
    return dict(_defaults(full, get_surface(surface), int(steps)))


@functools.cache
def _defaults(full: str, surf: Surface, steps: int) -> tuple[tuple[str, float | bool], ...]:
    cls = _class_of(full)
    hyper = default_hyperparameters(cls)
    hyper["learning_rate"] = PLAYGROUND_LEARNING_RATES[full]
    if full in _SCALE_SENSITIVE:
        hyper["learning_rate"] = float(hyper["learning_rate"]) * surf.lr_scale
    if _has_l1(cls) and surf.l1:
        hyper["l1_regularization_strength"] = surf.l1
        if full in ("FtrlOptimizer", "keras.Ftrl"):
            # FTRL compares l1 with z, the SUM of all past gradients, not with one step's
            # gradient: a penalty of l1 per step over `steps` steps is l1 x steps.
            hyper["l1_regularization_strength"] = surf.l1 * steps
    return tuple(hyper.items())


class _Engine:
    """One optimizer on one surface, compiled once; hyperparameters are variables."""

    def __init__(self, full: str, surf: Surface, structural: tuple) -> None:
        cls = _class_of(full)
        self.name = full
        self.surf = surf
        self.keras = _is_keras(full)
        params = inspect.signature(cls).parameters
        self.tensor_hypers: dict[str, tf.Variable] = {}
        self._assigned: dict[str, float] = {}
        kwargs: dict[str, Any] = dict(structural)
        self.global_step = None
        self.var = tf.Variable(surf.start, dtype=tf.float32, name="xy")
        if self.keras:
            # The real keras.optimizers class; only its learning rate is a variable.
            self.opt = cls(learning_rate=0.01, **kwargs)
            self.opt.build([self.var])
            lr_var = self.opt._learning_rate
            self.tensor_hypers["learning_rate"] = lr_var
            self._assigned["learning_rate"] = float(lr_var.numpy())
            self.snapshot = [(v, tf.constant(v.numpy())) for v in self.opt.variables
                             if v is not lr_var]
        else:
            for spec in hyperparameter_specs(cls):
                if spec.name in kwargs:
                    continue
                self.tensor_hypers[spec.name] = tf.Variable(float(spec.default), dtype=tf.float32,
                                                            trainable=False, name=spec.name)
                self._assigned[spec.name] = float(spec.default)
                kwargs[spec.name] = self.tensor_hypers[spec.name]
            if "global_step" in params:
                self.global_step = tf.Variable(0, dtype=tf.int64, trainable=False)
                kwargs["global_step"] = self.global_step
            self.opt = cls(**kwargs)
            self.opt.jit_compile = False  # the whole loop below is one XLA computation
            with tf.init_scope():
                self.opt._create_slots([self.var])
            # Initial state of every optimizer variable (slots, iter, ...), restored each run.
            self.snapshot = [(v, tf.constant(v.numpy())) for v in self.opt.variables()]
        smooth_only = _has_l1(cls) and surf.l1 > 0
        l1 = 0.0 if smooth_only else float(surf.l1)

        def loss_of(xy: tf.Tensor) -> tf.Tensor:
            out = surf.smooth(xy)
            if l1:
                out = out + l1 * tf.reduce_sum(tf.abs(xy))
            return out

        self.loss_of = loss_of
        # autograph=False: the loop is an explicit tf.while_loop, nothing else needs converting
        # (and tracing is faster).
        self.fn = tf.function(self._run, jit_compile=True, autograph=False)

    def _reset(self, start: tf.Tensor) -> None:
        self.var.assign(start)
        for v, init in self.snapshot:
            v.assign(init)
        if self.keras:
            return
        # Adam-style "beta1_power" starts at the (variable) beta1.
        for key, v in self.opt._non_slot_dict.items():
            base = key.removesuffix("_power")
            if key.endswith("_power") and base in self.tensor_hypers:
                v.assign(tf.cast(self.tensor_hypers[base], v.dtype))
        if self.global_step is not None:
            self.global_step.assign(0)

    def _run(self, start: tf.Tensor, steps: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Reset, run ``steps`` steps; all MAX_STEPS + 1 rows (the unused ones are zeros)
        and the full objective at every row."""
        self._reset(start)
        ta = tf.TensorArray(tf.float32, size=MAX_STEPS + 1, element_shape=[2]).write(0, start)

        def body(i: tf.Tensor, ta: tf.TensorArray) -> tuple[tf.Tensor, tf.TensorArray]:
            with tf.GradientTape() as tape:
                loss = self.loss_of(self.var)
            grad = tape.gradient(loss, self.var)
            if self.keras:
                self.opt.apply_gradients([(grad, self.var)])
            else:
                self.opt.apply_gradients([(grad, self.var)], global_step=self.global_step)
            return i + 1, ta.write(i + 1, self.var.read_value())

        _i, ta = tf.while_loop(lambda i, _ta: i < steps, body, (tf.constant(0), ta),
                              maximum_iterations=MAX_STEPS)
        points = ta.stack()
        return points, self.surf.value(points)

    def set_hyper(self, hyper: Mapping[str, Any]) -> None:
        """Assign the tensor hyperparameters that changed (an assign costs ~0.1 ms)."""
        for k, v in self.tensor_hypers.items():
            value = float(hyper[k])
            if self._assigned.get(k) != value:
                v.assign(value)
                self._assigned[k] = value

    def run(self, hyper: Mapping[str, Any], start: Sequence[float],
            steps: int) -> tuple[np.ndarray, np.ndarray]:
        self.set_hyper(hyper)
        points, losses = self.fn(tf.constant(start, tf.float32),
                                 tf.constant(int(steps), tf.int32))
        return points.numpy()[: int(steps) + 1], losses.numpy()[: int(steps) + 1]


_ENGINES: dict[tuple, _Engine] = {}


@functools.cache
def _structural_names(full: str) -> tuple[str, ...]:
    """Arguments the optimizer reads in Python, so a change rebuilds its function (labkit:
    declared ``tensor=False``; Keras: all but the learning rate)."""
    cls = _class_of(full)
    if _is_keras(full):
        return tuple(sorted(s.name for s in hyperparameter_specs(cls) if s.name != "learning_rate"))
    python_side = {h.name for h in cls.HYPERPARAMETERS if not h.tensor}  # labkit's declaration
    return tuple(sorted(s.name for s in hyperparameter_specs(cls) if s.name in python_side))


def _engine(full: str, surf: Surface, hyper: Mapping[str, Any]) -> _Engine:
    structural = tuple((n, hyper[n]) for n in _structural_names(full))
    key = (full, surf.name, structural)
    if key not in _ENGINES:
        _ENGINES[key] = _Engine(full, surf, structural)
    return _ENGINES[key]


def compute_trajectories(surface: str | Surface = "quadratic",
                         names: Iterable[str] | None = None,
                         hyper: Mapping[str, Mapping[str, Any]] | None = None,
                         steps: int = 100, start: Sequence[float] | None = None
                         ) -> dict[str, Trajectory]:
    """Run each named optimizer from ``start`` for ``steps`` steps on ``surface``.

    Introduced in notebooks/04_playground.ipynb.

    Args:
        surface: a surface name or ``Surface``.
        names: optimizer names (``"Adam"`` or ``"AdamOptimizer"``; ``"keras.Adam"`` for the
            Keras 3 class); default the ten TF1 ones.
        hyper: optional ``{optimizer name: {argument: value}}`` overriding
            ``playground_defaults``.
        steps: 0..MAX_STEPS.
        start: (x, y); default the surface's start point.

    Returns:
        ``{full optimizer name: Trajectory}`` in the order of ``names``.
    """
    surf = get_surface(surface)
    full_names = _check_names(names)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) \
            or not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"`steps` must be an integer in [0, {MAX_STEPS}]. Received: steps={steps!r}")
    start = tuple(surf.start if start is None else start)
    if len(start) != 2 or not all(np.isfinite(start)):
        raise ValueError(f"`start` must be two finite numbers. Received: start={start!r}")
    overrides = {(_check_names([k])[0]): v for k, v in (hyper or {}).items()}
    out: dict[str, Trajectory] = {}
    for full in full_names:
        h = playground_defaults(full, surf, max(int(steps), 1))
        extra = dict(overrides.get(full, {}))
        unknown = set(extra) - set(h)
        if unknown:
            raise ValueError(f"`hyper` for {full} has unknown names {sorted(unknown)}; "
                             f"known: {sorted(h)}")
        h.update(extra)
        points, losses = _engine(full, surf, h).run(h, start, steps)
        out[full] = Trajectory(full, points, losses)
    return out


def draw_surface(ax, surface: str | Surface,
                 grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
    """Clear ``ax`` and draw the contour lines, minima (stars) and start point of ``surface``.

    Introduced in notebooks/04_playground.ipynb.
    """
    surf = get_surface(surface)
    xx, yy, zz = grid if grid is not None else surf.grid(80)
    ax.clear()
    if surf.log_levels:
        z = zz - zz.min() + 1e-3
        ax.contour(xx, yy, z, levels=np.geomspace(z.min(), z.max(), 15), cmap="Greys",
                   linewidths=0.6)
    else:
        ax.contour(xx, yy, zz, levels=15, cmap="Greys", linewidths=0.6)
    for m in surf.minima:
        ax.plot(*m, marker="*", color="black", ms=11, ls="none", gid="surface")
    ax.plot(*surf.start, marker="o", color="black", ms=5, ls="none", gid="surface")
    x0, x1, y0, y1 = surf.window
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(surf.title, fontsize="medium")


def _path_xy(surf: Surface, tr: Trajectory) -> tuple[np.ndarray, np.ndarray, str]:
    """The drawable part of a path: finite points clipped to the window's border region."""
    p = tr.points
    finite = np.all(np.isfinite(p), axis=1)
    label = tr.name.removesuffix("Optimizer") + ("" if finite.all() else _(" (diverged)"))
    p = p[finite]
    x0, x1, y0, y1 = surf.window
    px = np.clip(p[:, 0], x0 - 0.05 * (x1 - x0), x1 + 0.05 * (x1 - x0))
    py = np.clip(p[:, 1], y0 - 0.05 * (y1 - y0), y1 + 0.05 * (y1 - y0))
    return px, py, label


_PATH_STYLE = {"lw": 1.4, "marker": ".", "ms": 2, "gid": "path"}


def _line_style(name: str) -> str:
    """Solid for the TF1 family, dashed for Keras 3 (a Keras class shares its TF1 colour)."""
    return "--" if _is_keras(name) else "-"

_LEGEND_STYLE = {"fontsize": "x-small", "loc": "upper right"}


def draw_paths(ax, surface: str | Surface, trajectories: Mapping[str, Trajectory]) -> None:
    """Replace the optimizer paths on ``ax`` (the contour drawn by ``draw_surface`` stays).

    Introduced in notebooks/04_playground.ipynb. Colours come from
    ``labkit.teaching.palette.color_for``; points outside the window are clipped to its border
    region, non-finite points (a diverged run) are dropped and marked "(diverged)".
    """
    surf = get_surface(surface)
    for line in [ln for ln in ax.lines if ln.get_gid() == "path"]:
        line.remove()
    for name, tr in trajectories.items():
        px, py, label = _path_xy(surf, tr)
        ax.plot(px, py, color=color_for(name), ls=_line_style(name), label=label,
                **_PATH_STYLE)
    legend = ax.get_legend()
    if legend is not None:
        legend.remove()
    if trajectories:
        ax.legend(**_LEGEND_STYLE)


def draw_trajectories(ax, surface: str | Surface, trajectories: Mapping[str, Trajectory],
                      grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
    """Contour plot of ``surface`` with one coloured path per optimizer.

    Introduced in notebooks/04_playground.ipynb: ``draw_surface`` then ``draw_paths``.
    """
    draw_surface(ax, surface, grid)
    draw_paths(ax, surface, trajectories)


class Playground:
    """Widgets around ``compute_trajectories`` + ``draw_trajectories`` on one ``LivePlot``.

    Introduced in notebooks/04_playground.ipynb. Controls: a surface drop-down, optimizer
    check boxes (the TF1 family and the Keras 3 family), a step-count slider, and for the optimizer chosen in "tune" one slider per
    hyperparameter (generated from its signature by ``labkit.teaching.widgets``). ``update()`` is the
    plain function every control calls; it returns the trajectories.
    """

    def __init__(self, surface: str = "quadratic", names: Iterable[str] | None = None,
                 steps: int = 100) -> None:
        from labkit.teaching.plots import BlitPlot

        self.surface = get_surface(surface)
        self.selected = list(_check_names(names))
        self.steps = int(steps)
        self.hyper: dict[str, dict[str, Any]] = {}
        # Blitting: the contour is rendered once per surface and kept as pixels; a redraw only
        # draws the paths over it and pastes the legend's cached pixels.
        self.plot = BlitPlot(figsize=(6.5, 4.5))
        self._grid_cache: dict[str, tuple] = {}
        self.last: dict[str, Trajectory] = {}
        self.last_seconds = 0.0
        self.last_compute_seconds = 0.0
        self.last_draw_seconds = 0.0
        self._drawn_surface: str | None = None
        self._lines: dict[str, Any] = {}
        self._legend_key: tuple | None = None
        self._box = None

    def set_hyper(self, name: str, **values: Any) -> None:
        """Override hyperparameters of one optimizer (e.g. ``set_hyper("Adam", beta1=0.5)``)."""
        (full,) = _check_names([name])
        self.hyper.setdefault(full, {}).update(values)

    def _grid(self) -> tuple:
        if self.surface.name not in self._grid_cache:
            self._grid_cache[self.surface.name] = self.surface.grid(80)
        return self._grid_cache[self.surface.name]

    def _draw(self) -> None:
        ax = self.plot.ax
        if self._drawn_surface != self.surface.name:  # the contour is drawn once per surface
            draw_surface(ax, self.surface, self._grid())  # (clears the axes)
            self._drawn_surface = self.surface.name
            self._lines, self._legend_key = {}, None
            self.plot.invalidate()
        for name in [n for n in self._lines if n not in self.last]:
            self._lines.pop(name).remove()
        labels = []
        for name, tr in self.last.items():
            px, py, label = _path_xy(self.surface, tr)
            line = self._lines.get(name)
            if line is None:  # one Line2D per optimizer, reused: only its data changes
                (line,) = ax.plot(px, py, color=color_for(name), ls=_line_style(name),
                                  animated=True,
                                  scalex=False, scaley=False, **_PATH_STYLE)
                self._lines[name] = line
            else:
                line.set_data(px, py)
            line.set_label(label)
            labels.append(label)
        key = tuple(labels)
        if key != self._legend_key:
            if ax.get_legend() is not None:
                ax.get_legend().remove()
            legend = None
            if self.last:
                legend = ax.legend([self._lines[n] for n in self.last], labels, framealpha=1.0,
                                   **_LEGEND_STYLE)
                legend.set_animated(True)  # opaque: its pixels are cached per label set
            self.plot.set_overlay(legend, key)
            self._legend_key = key
        self.plot.redraw()

    def update(self, *_args: Any) -> dict[str, Trajectory]:
        """Recompute all selected trajectories and redraw the figure in place."""
        t0 = time.perf_counter()
        hyper = {n: self.hyper[n] for n in self.selected if n in self.hyper}
        self.last = (compute_trajectories(self.surface, self.selected, hyper, self.steps)
                     if self.selected else {})
        t1 = time.perf_counter()
        self._draw()
        t2 = time.perf_counter()
        self.last_compute_seconds, self.last_draw_seconds = t1 - t0, t2 - t1
        self.last_seconds = t2 - t0
        return self.last

    def summary(self, digits: int = 3) -> list[str]:
        """One line per optimizer: final point (rounded), loss, exact zeros."""
        lines = []
        for name, tr in self.last.items():
            x, y = (round(float(v), digits) for v in tr.final)
            loss = float(tr.losses[-1])
            lines.append(f"{name:34s} final=({x}, {y}) loss={loss:.{digits}g} "
                         f"exact zeros={tr.exact_zeros}")
        return lines

    # ---------------------------------------------------------------- widgets
    @property
    def widget(self):
        """Surface, optimizers, steps and per-optimizer hyperparameter sliders + the plot."""
        if self._box is None:
            self._box = self._build()
        return self._box

    def _build(self):
        import ipywidgets as widgets

        from labkit.teaching.surfaces import surface_names
        from labkit.teaching.widgets import controls_for, hyperparameters_from

        surf_dd = widgets.Dropdown(options=surface_names(), value=self.surface.name,
                                   description=_("surface"))
        # Labels are laid out by the browser (no indent, natural width), so none is clipped;
        # the grid wraps its columns to the width available.
        boxes = {n: widgets.Checkbox(value=n in self.selected, description=_short(n), indent=False,
                                     layout=widgets.Layout(width="auto"))
                 for n in ALL_NAMES}
        steps = widgets.IntSlider(value=self.steps, min=1, max=MAX_STEPS, step=1,
                                  description=_("steps"), continuous_update=False)
        tune = widgets.Dropdown(options=[_short(n) for n in ALL_NAMES], value="Adam",
                                description=_("tune"))
        sliders_box = widgets.Box(layout=widgets.Layout(flex_flow="row wrap", width="100%"))
        status = widgets.Label()

        def redraw(*_args):
            self.update()
            status.value = _("recomputed + redrawn in {ms:.0f} ms").format(ms=1000 * self.last_seconds)

        def build_sliders(*_args):
            full = _full_name(tune.value)
            values = playground_defaults(full, self.surface, self.steps)
            values.update(self.hyper.get(full, {}))
            controls = controls_for(_class_of(full), values)

            def on_change(*_args):
                self.hyper[full] = hyperparameters_from(controls)
                redraw()

            for w in controls.values():
                w.observe(on_change, names="value")
            sliders_box.children = list(controls.values())

        def on_surface(change):
            self.surface = get_surface(change["new"])
            self.hyper.clear()
            build_sliders()
            redraw()

        def on_boxes(*_args):
            self.selected = [n for n, b in boxes.items() if b.value]
            redraw()

        def on_steps(change):
            self.steps = int(change["new"])
            build_sliders()  # Ftrl's default l1 on the l1 surface follows the step count
            redraw()

        surf_dd.observe(on_surface, names="value")
        steps.observe(on_steps, names="value")
        tune.observe(build_sliders, names="value")
        for b in boxes.values():
            b.observe(on_boxes, names="value")
        build_sliders()

        def family(title: str, names: Sequence[str]):
            grid = widgets.GridBox(
                [boxes[n] for n in names],
                layout=widgets.Layout(grid_template_columns="repeat(auto-fill, minmax(190px, 1fr))",
                                      grid_gap="0px 12px", width="100%"))
            return widgets.VBox([widgets.HTML(title), grid], layout=widgets.Layout(width="100%"))

        families = widgets.VBox([
            family(_("<b>TF1</b> <code>tf.compat.v1.train</code> (labkit.train), solid lines"),
                   OPTIMIZER_NAMES),
            family(_("<b>Keras 3</b> <code>keras.optimizers</code>, dashed lines"), KERAS_NAMES),
        ], layout=widgets.Layout(width="100%"))
        top = widgets.HBox([surf_dd, steps], layout=widgets.Layout(flex_flow="row wrap"))
        # The tuning sliders sit between the check boxes and the plot (wrapping two or three
        # to a row), so the plot they change is right below them at any browser width.
        tuning = widgets.VBox([widgets.HBox([tune, status]), sliders_box],
                              layout=widgets.Layout(width="100%"))
        return widgets.VBox([top, families, tuning, self.plot.widget],
                            layout=widgets.Layout(width="100%"))

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

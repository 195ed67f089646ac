"""Writing and reading summaries (introduced in notebooks/10_summary_tensorboard.ipynb).

Notebook 10 teaches the APIs themselves: ``tf.compat.v1.summary.FileWriter`` in a graph and
``tf.summary.create_file_writer`` / ``tf.summary.scalar`` today. This module holds the plumbing
around them.

Reading: :func:`read_scalars` and :func:`read_histograms` load a whole logdir tree with
TensorBoard's own event-processing code (``plugin_event_multiplexer``, the loader the
TensorBoard server itself uses, including its migration of TF1 ``simple_value``
summaries), never with a hand-written protobuf parser. :func:`event_files` lists the files.

Smoothing: :func:`smooth` is TensorBoard's scalar-chart smoothing (a debiased exponential
moving average, ``classicSmoothing`` in the frontend's ``data_transformer.ts``), copied
step for step so the curves in matplotlib match the ones in TensorBoard.

Writing for labkit's own training helpers: :class:`FileWriter` has the shape of TF1's
``tf.summary.FileWriter`` (``FileWriter(logdir, graph=None, max_queue=10, flush_secs=120,
filename_suffix=None)``, ``add_summary``, ``add_graph``, ``flush``, ``close``, context
manager) and is built on ``tf.summary.create_file_writer``; ``labkit.digits.run`` logs
through it. It is not how a learner writes summaries: that is ``tf.summary`` itself.
One writer per run folder (``runs/adam``, ``runs/sgd``) is how TensorBoard compares stages
or optimizers: every sub-folder holding event files is one "run".
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "FileWriter",
    "HistogramRecord",
    "ScalarRecord",
    "event_files",
    "figure_to_image",
    "read_histograms",
    "read_scalars",
    "scalar_series",
    "smooth",
    "to_dataframe",
]


def _check_logdir(logdir: Any, name: str = "logdir") -> str:
    if isinstance(logdir, bytes) or not isinstance(logdir, (str, os.PathLike)) or not str(logdir):
        raise TypeError(
            f"`{name}` must be a non-empty path (str or pathlib.Path). Received: {name}={logdir!r}"
        )
    return os.fspath(logdir)


def _check_step(step: Any) -> int:
    if isinstance(step, bool):
        raise TypeError(f"`step` must be an integer. Received: step={step!r}")
    if hasattr(step, "numpy"):
        step = step.numpy()
    if not isinstance(step, (int, np.integer)):
        raise TypeError(f"`step` must be an integer. Received: step={step!r}")
    if step < 0:
        raise ValueError(f"`step` must be >= 0. Received: step={step!r}")
    return int(step)


def _check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not tag:
        raise ValueError(f"`tag` must be a non-empty string. Received: tag={tag!r}")
    return tag


def figure_to_image(figure: Any) -> np.ndarray:
    """Render a matplotlib Figure to a ``uint8`` array of shape ``(1, height, width, 4)``.

    That is the batch-of-images shape ``tf.summary.image`` wants. Works for figures made by
    ``plt.subplots`` and for pyplot-free ``matplotlib.figure.Figure`` objects alike.
    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    from matplotlib.figure import Figure

    if not isinstance(figure, Figure):
        raise TypeError(
            f"`figure` must be a matplotlib.figure.Figure. Received: {type(figure).__name__}"
        )
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(figure)
    buf = io.BytesIO()
    figure.savefig(buf, format="png")
    import tensorflow as tf

    image = tf.io.decode_png(buf.getvalue(), channels=4)
    return image.numpy()[None, ...]


class FileWriter:
    """TF1's ``tf.summary.FileWriter`` for TF2: one event file in one run folder.

    Example::

        with FileWriter("runs/adam") as w:
            for step in range(100):
                w.add_scalar("loss", loss_value, step)
            w.add_histogram("weights/kernel", kernel, step)

    Events are queued in memory and written when ``max_queue`` events are waiting, when
    ``flush_secs`` seconds have passed, or on :meth:`flush` / :meth:`close`. That is why a
    freshly written scalar can be missing from TensorBoard for up to two minutes with the
    defaults: call :meth:`flush` (or use a small ``flush_secs``) when you want to see it now.

    Args:
        logdir: the run folder (created if missing). One folder = one run in TensorBoard.
        graph: optional ``tf.function`` (or concrete function / ``tf.Graph``) written at once
            with :meth:`add_graph`, as TF1 wrote ``sess.graph``.
        max_queue: events kept in memory before a write, >= 1.
        flush_secs: seconds between automatic flushes, > 0.
        filename_suffix: appended to the event file name (a string starting with ``.``).

    Used by ``labkit.digits.run`` (notebooks/11_capstone.ipynb); notebooks/10_summary_tensorboard.ipynb
    teaches ``tf.summary.create_file_writer`` itself.
    """

    def __init__(
        self,
        logdir: str | os.PathLike,
        graph: Any = None,
        max_queue: int = 10,
        flush_secs: float = 120,
        filename_suffix: str | None = None,
    ) -> None:
        logdir = _check_logdir(logdir)
        if isinstance(max_queue, bool) or not isinstance(max_queue, (int, np.integer)) or max_queue < 1:
            raise ValueError(f"`max_queue` must be an integer >= 1. Received: max_queue={max_queue!r}")
        if (
            isinstance(flush_secs, bool)
            or not isinstance(flush_secs, (int, float))
            or not math.isfinite(flush_secs)
            or flush_secs <= 0
        ):
            raise ValueError(f"`flush_secs` must be a number > 0. Received: flush_secs={flush_secs!r}")
        if filename_suffix is not None and not isinstance(filename_suffix, str):
            raise TypeError(
                f"`filename_suffix` must be a string or None. Received: filename_suffix={filename_suffix!r}"
            )
        import tensorflow as tf

        self._tf = tf
        self._logdir = logdir
        self.max_queue = int(max_queue)
        self.flush_secs = float(flush_secs)
        os.makedirs(logdir, exist_ok=True)
        self._writer = tf.summary.create_file_writer(
            logdir,
            max_queue=self.max_queue,
            flush_millis=int(round(self.flush_secs * 1000)),
            filename_suffix=filename_suffix,
        )
        self._closed = False
        if graph is not None:
            self.add_graph(graph)

    # -- TF1 surface -------------------------------------------------------------------
    def get_logdir(self) -> str:
        """The run folder this writer writes to."""
        return self._logdir

    def as_default(self):
        """Context manager making this the default writer for plain ``tf.summary.*`` calls."""
        self._check_open()
        return self._writer.as_default()

    def add_summary(self, summary: Any, global_step: int | None = None) -> None:
        """Write a TF1 ``Summary`` protocol buffer (or its serialized bytes) at ``global_step``.

        This is TF1's ``writer.add_summary(sess.run(merged), step)``: e.g.
        ``tf.compat.v1.Summary(value=[tf.compat.v1.Summary.Value(tag="loss", simple_value=0.5)])``.
        TensorBoard migrates ``simple_value`` entries to TF2 scalars when it reads them.
        """
        self._check_open()
        step = 0 if global_step is None else _check_step(global_step)
        if hasattr(summary, "SerializeToString"):
            summary = summary.SerializeToString()
        if not isinstance(summary, bytes):
            raise TypeError(
                "`summary` must be a tf.compat.v1.Summary proto or its serialized bytes. "
                f"Received: {type(summary).__name__}"
            )
        with self._writing():
            self._tf.summary.experimental.write_raw_pb(summary, step=step)

    def add_scalar(self, tag: str, value: Any, step: int) -> None:
        """Write one scalar (``tf.summary.scalar(tag, value, step=step)``)."""
        self._check_open()
        tag = _check_tag(tag)
        step = _check_step(step)
        value = _check_scalar(value)
        with self._writing():
            self._tf.summary.scalar(tag, value, step=step)

    def add_scalars(self, values: Mapping[str, Any], step: int) -> None:
        """Write several scalars at the same step: ``{"loss": 0.3, "accuracy": 0.9}``."""
        if not isinstance(values, Mapping):
            raise TypeError(f"`values` must be a mapping tag -> value. Received: {type(values).__name__}")
        for tag, value in values.items():
            self.add_scalar(tag, value, step)

    def add_histogram(self, tag: str, values: Any, step: int, buckets: int | None = None) -> None:
        """Write a histogram of ``values`` (any shape; TensorBoard flattens it)."""
        self._check_open()
        tag = _check_tag(tag)
        step = _check_step(step)
        if buckets is not None and (isinstance(buckets, bool) or not isinstance(buckets, int) or buckets < 1):
            raise ValueError(f"`buckets` must be a positive integer or None. Received: buckets={buckets!r}")
        with self._writing():
            self._tf.summary.histogram(tag, values, step=step, buckets=buckets)

    def add_variable_histograms(
        self,
        variables: Iterable[Any],
        step: int,
        gradients: Sequence[Any] | None = None,
        prefix: str = "",
    ) -> list[str]:
        """One histogram per variable (``weights/<name>``) and per gradient (``gradients/<name>``).

        Args:
            variables: ``tf.Variable`` objects (e.g. ``model.trainable_variables``).
            step: the training step.
            gradients: optional gradients in the same order (``None`` entries are skipped),
                e.g. the ``g`` of ``compute_gradients``' ``(g, v)`` pairs.
            prefix: prepended to every tag.

        Returns:
            The tags written.
        """
        variables = list(variables)
        if gradients is not None and len(gradients) != len(variables):
            raise ValueError(
                "`gradients` must have one entry per variable. "
                f"Received: {len(gradients)} gradients for {len(variables)} variables"
            )
        tags = []
        for i, var in enumerate(variables):
            name = getattr(var, "path", None) or getattr(var, "name", f"var_{i}")
            name = str(name).split(":")[0]
            tag = f"{prefix}weights/{name}"
            self.add_histogram(tag, var, step)
            tags.append(tag)
            if gradients is not None and gradients[i] is not None:
                g = gradients[i]
                if isinstance(g, self._tf.IndexedSlices):
                    g = self._tf.convert_to_tensor(g)
                gtag = f"{prefix}gradients/{name}"
                self.add_histogram(gtag, g, step)
                tags.append(gtag)
        return tags

    def add_image(self, tag: str, image: Any, step: int, max_outputs: int = 3) -> None:
        """Write an image: a matplotlib Figure, an ``(h, w)``, ``(h, w, c)`` or ``(k, h, w, c)`` array."""
        self._check_open()
        tag = _check_tag(tag)
        step = _check_step(step)
        from matplotlib.figure import Figure

        if isinstance(image, Figure):
            data = figure_to_image(image)
        else:
            data = np.asarray(image)
            if data.ndim == 2:
                data = data[None, :, :, None]
            elif data.ndim == 3:
                data = data[None]
            elif data.ndim != 4:
                raise ValueError(
                    "`image` must be a Figure or an array with 2, 3 or 4 dimensions. "
                    f"Received: shape={data.shape}"
                )
            if data.dtype.kind == "f":
                data = np.clip(data, 0.0, 1.0).astype(np.float32)
        with self._writing():
            self._tf.summary.image(tag, data, step=step, max_outputs=max_outputs)

    def add_text(self, tag: str, text: str, step: int) -> None:
        """Write a text (Markdown) summary."""
        self._check_open()
        tag = _check_tag(tag)
        step = _check_step(step)
        if not isinstance(text, str):
            raise TypeError(f"`text` must be a string. Received: {type(text).__name__}")
        with self._writing():
            self._tf.summary.text(tag, text, step=step)

    def add_graph(self, graph: Any, *example_args: Any, step: int = 0) -> None:
        """Write the dataflow graph of a ``tf.function`` (TensorBoard's "Graphs" tab).

        Args:
            graph: a ``tf.function`` (give ``example_args`` or ``tf.TensorSpec``s to trace it,
                unless it has an ``input_signature`` or takes no arguments), a concrete
                function, or a ``tf.Graph``.
            example_args: arguments used to trace a ``tf.function``.
        """
        self._check_open()
        tf = self._tf
        if isinstance(graph, tf.Graph):
            g = graph
        elif hasattr(graph, "graph") and isinstance(getattr(graph, "graph", None), tf.Graph):
            g = graph.graph  # a ConcreteFunction
        elif hasattr(graph, "get_concrete_function"):
            g = graph.get_concrete_function(*example_args).graph
        else:
            raise TypeError(
                "`graph` must be a tf.function, a concrete function or a tf.Graph. "
                f"Received: {type(graph).__name__}"
            )
        with self._writing():
            tf.summary.graph(g)
        _ = step  # graphs have no step in TensorBoard; kept for symmetry with TF1

    def flush(self) -> None:
        """Write every queued event to disk now."""
        self._check_open()
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file. Closing twice is harmless."""
        if not self._closed:
            self._writer.flush()
            self._writer.close()
            self._closed = True

    def _writing(self):
        """Make this the default writer for one summary op WITHOUT flushing afterwards.

        ``with writer.as_default():`` flushes when the block exits (TF2 does that on
        purpose), which would write every event at once and hide the queue that
        ``max_queue`` / ``flush_secs`` control. Like TF1's FileWriter, ours queues.
        """
        return _NoFlushDefault(self._writer)

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"This FileWriter for {self._logdir!r} is closed.")

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return (
            f"FileWriter({self._logdir!r}, max_queue={self.max_queue}, "
            f"flush_secs={self.flush_secs:g}) [{state}]"
        )


class _NoFlushDefault:
    """Swap TF's default summary writer in and out, leaving the event queue alone."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer
        self._old = None
        self._fallback = None

    def __enter__(self) -> Any:
        from labkit._tf_private import set_default_summary_writer

        try:
            self._old = set_default_summary_writer(self._writer)
        except AttributeError:  # TF internals moved: the public context (it flushes on exit)
            self._fallback = self._writer.as_default()
            return self._fallback.__enter__()
        return self._writer

    def __exit__(self, *exc: Any) -> bool:
        if self._fallback is not None:
            return bool(self._fallback.__exit__(*exc))
        from labkit._tf_private import set_default_summary_writer

        set_default_summary_writer(self._old)
        return False


# -- reading ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ScalarRecord:
    """One scalar point as TensorBoard sees it: run folder (relative to the logdir, ``"."`` for
    the logdir itself), tag, step, wall time (seconds since the epoch) and value."""

    run: str
    tag: str
    step: int
    wall_time: float
    value: float


@dataclass(frozen=True)
class HistogramRecord:
    """One histogram: ``buckets`` is an array of rows ``(left_edge, right_edge, count)``."""

    run: str
    tag: str
    step: int
    wall_time: float
    buckets: np.ndarray


def _check_scalar(value: Any) -> Any:
    """A real number, a NumPy number or a one-element tensor; anything else is refused
    naming ``value`` (TensorFlow's own error would name neither the argument nor the tag)."""
    import tensorflow as tf

    if isinstance(value, bool) or isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"`value` must be a number or a one-element tensor. Received: value={value!r}")
    if tf.is_tensor(value) or isinstance(value, np.ndarray):
        if int(np.prod(value.shape)) != 1 or not (value.dtype.is_floating or value.dtype.is_integer
                                                  if tf.is_tensor(value) else
                                                  np.issubdtype(value.dtype, np.number)):
            raise TypeError("`value` must be a number or a one-element numeric tensor. Received: "
                            f"value of shape {list(value.shape)} and dtype {value.dtype}")
        return value
    if not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"`value` must be a number or a one-element tensor. Received: "
                        f"value={value!r} of type {type(value).__name__}")
    return value


def event_files(logdir: str | os.PathLike) -> list[Path]:
    """Every event file (``*tfevents*``) under ``logdir``, sorted.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    root = Path(_check_logdir(logdir))
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*tfevents*") if p.is_file())


def _multiplexer(logdir: str):
    from labkit._tf_private import event_multiplexer

    return event_multiplexer(logdir)


def _load(logdir: str | os.PathLike, plugin: str, runs: Iterable[str] | None, tags: Iterable[str] | None):
    logdir = _check_logdir(logdir)
    if not os.path.isdir(logdir):
        raise ValueError(f"`logdir` must be an existing folder. Received: logdir={logdir!r}")
    from tensorboard.util import tensor_util

    wanted_runs = None if runs is None else set(runs)
    wanted_tags = None if tags is None else set(tags)
    mux = _multiplexer(logdir)
    out = []
    for run, tag_map in sorted(mux.PluginRunToTagToContent(plugin).items()):
        if wanted_runs is not None and run not in wanted_runs:
            continue
        for tag in sorted(tag_map):
            if wanted_tags is not None and tag not in wanted_tags:
                continue
            for event in mux.Tensors(run, tag):
                out.append((run, tag, int(event.step), float(event.wall_time),
                            tensor_util.make_ndarray(event.tensor_proto)))
    return out


def read_scalars(
    logdir: str | os.PathLike,
    *,
    runs: Iterable[str] | None = None,
    tags: Iterable[str] | None = None,
    as_dataframe: bool = False,
):
    """Load every scalar of a logdir tree, exactly as the TensorBoard server loads it.

    Uses TensorBoard's ``plugin_event_multiplexer`` (which also migrates TF1
    ``simple_value`` summaries), keeping every point instead of the server's sample.

    Args:
        logdir: the root folder; each sub-folder with event files is a run.
        runs, tags: optional filters.
        as_dataframe: return a ``pandas.DataFrame`` with columns
            ``run, tag, step, wall_time, value`` instead of a list of :class:`ScalarRecord`.

    Returns:
        Records sorted by run, tag, then the order they were written.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    records = [
        ScalarRecord(run, tag, step, wall, float(np.asarray(value).reshape(())))
        for run, tag, step, wall, value in _load(logdir, "scalars", runs, tags)
    ]
    return to_dataframe(records) if as_dataframe else records


def read_histograms(
    logdir: str | os.PathLike,
    *,
    runs: Iterable[str] | None = None,
    tags: Iterable[str] | None = None,
) -> list[HistogramRecord]:
    """Load every histogram of a logdir tree (see :func:`read_scalars`).

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    return [
        HistogramRecord(run, tag, step, wall, np.asarray(value, dtype=float).reshape(-1, 3))
        for run, tag, step, wall, value in _load(logdir, "histograms", runs, tags)
    ]


def to_dataframe(records: Sequence[ScalarRecord]):
    """A ``pandas.DataFrame`` (columns run, tag, step, wall_time, value) from scalar records.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    import pandas as pd

    columns = ["run", "tag", "step", "wall_time", "value"]
    rows = []
    for r in records:
        if not isinstance(r, ScalarRecord):
            raise TypeError(f"`records` must hold ScalarRecord objects. Received: {type(r).__name__}")
        rows.append((r.run, r.tag, r.step, r.wall_time, r.value))
    return pd.DataFrame(rows, columns=columns)


# -- smoothing -------------------------------------------------------------------------
def smooth(values: Iterable[float], weight: float) -> list[float]:
    """TensorBoard's scalar smoothing, step for step.

    This is ``classicSmoothing`` of TensorBoard's frontend
    (``tensorboard/webapp/widgets/line_chart_v2/data_transformer.ts``), a first-order
    low-pass filter with a debiasing term:

    .. math::
        \\text{last}_t = w\\,\\text{last}_{t-1} + (1-w)\\,y_t,\\quad \\text{last}_0 = 0,\\qquad
        \\hat y_t = \\text{last}_t / (1 - w^{n_t})

    where :math:`n_t` counts the finite points so far. Same corner cases as TensorBoard:
    a non-finite weight counts as 0 and the weight is clipped to ``[0, 1]``; non-finite
    points (NaN, +-inf) are passed through unchanged and do not enter the average; a
    constant series is returned unchanged; with ``w == 1`` there is no debiasing (and the
    curve is all zeros, exactly as TensorBoard draws it).

    Args:
        values: the raw y values in step order.
        weight: the "Smoothing" slider value, usually in ``[0, 1)``.

    Returns:
        The smoothed values, one per input value.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    if isinstance(weight, bool) or not isinstance(weight, (int, float, np.floating, np.integer)):
        raise TypeError(f"`weight` must be a number. Received: weight={weight!r}")
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"`values` must be a sequence of numbers. Received: {type(values).__name__}")
    ys = [float(v) for v in values]
    weight = float(weight)
    if not math.isfinite(weight):
        weight = 0.0
    weight = max(0.0, min(weight, 1.0))
    if not ys:
        return []
    first = ys[0]
    if all(y == first for y in ys):  # JS `==` on numbers: NaN is never equal (TensorBoard #786)
        return list(ys)
    last = 0.0
    num_accum = 0
    out = []
    for y in ys:
        if not math.isfinite(y):
            out.append(y)
            continue
        last = last * weight + (1 - weight) * y
        num_accum += 1
        debias_weight = 1.0 if weight == 1 else 1 - math.pow(weight, num_accum)
        out.append(last / debias_weight)
    return out


def scalar_series(
    records: Sequence[ScalarRecord], tag: str
) -> dict[str, tuple[list[int], list[float]]]:
    """Group scalar records of one tag by run: ``{run: (steps, values)}`` in step order.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    tag = _check_tag(tag)
    grouped: dict[str, list[tuple[int, float]]] = {}
    for r in records:
        if not isinstance(r, ScalarRecord):
            raise TypeError(f"`records` must hold ScalarRecord objects. Received: {type(r).__name__}")
        if r.tag == tag:
            grouped.setdefault(r.run, []).append((r.step, r.value))
    return {
        run: ([s for s, _ in sorted(pts, key=lambda p: p[0])], [v for _, v in sorted(pts, key=lambda p: p[0])])
        for run, pts in sorted(grouped.items())
    }


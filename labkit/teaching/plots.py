"""Matplotlib plots that redraw in place (introduced in notebooks/00_start_here.ipynb).

The lab uses ONE pattern for live plots, so no figure is ever duplicated or flickers:
a ``LivePlot`` owns a ``matplotlib.figure.Figure`` that is never registered with pyplot
(so the inline backend does not show it again at the end of the cell) and renders it to
PNG bytes in an ``ipywidgets.Image``. A widget callback changes the axes and calls
``redraw()``; the image's bytes are replaced, nothing else moves.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from labkit.teaching.palette import color_for


class LivePlot:
    """A figure shown as an image widget and redrawn in place (introduced in
    notebooks/00_start_here.ipynb).

    Example::

        plot = LivePlot()
        plot.ax.plot([3, 2, 1])
        png = plot.redraw()      # plain call: returns the PNG bytes (works without a browser)
        plot                     # in a notebook cell: shows the image widget

    Args:
        nrows, ncols: subplot grid.
        figsize: inches.
        dpi: resolution of the rendered PNG.
    """

    def __init__(
        self, nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] = (6.0, 3.5), dpi: int = 90
    ) -> None:
        for arg, value in (("nrows", nrows), ("ncols", ncols), ("dpi", dpi)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"`{arg}` must be a positive integer. Received: {arg}={value!r}")
        self.fig = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        FigureCanvasAgg(self.fig)
        self.axes = np.atleast_2d(self.fig.subplots(nrows, ncols, squeeze=False))
        self.ax: Axes = self.axes[0, 0]
        self._image = None
        self.redraws = 0

    @property
    def widget(self):
        """The ``ipywidgets.Image`` showing the figure (created on first use).

        It keeps the figure's own pixel width (shrinking only in a narrower output area), so a
        box that stretches its children does not blow the PNG up into a blurry image.
        """
        if self._image is None:
            import ipywidgets as widgets

            width = int(round(self.fig.get_figwidth() * self.fig.dpi))
            self._image = widgets.Image(format="png", layout=widgets.Layout(
                width=f"{width}px", max_width="100%", height="auto"))
            self._image.value = self.to_png()
        return self._image

    def to_png(self) -> bytes:
        """Render the figure to PNG bytes."""
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png")
        return buf.getvalue()

    def redraw(self) -> bytes:
        """Re-render the figure; update the widget in place if it is shown. Returns the PNG."""
        png = self.to_png()
        if self._image is not None:
            self._image.value = png
        self.redraws += 1
        return png

    def clear(self) -> None:
        """Clear every axes (keep the figure and the widget)."""
        for ax in self.axes.flat:
            ax.clear()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def draw_curves(
    ax: Axes,
    curves: Mapping[str, Sequence[float]],
    *,
    steps: Mapping[str, Sequence[float]] | None = None,
    xlabel: str = "step",
    ylabel: str = "loss",
    logy: bool = False,
    title: str | None = None,
) -> None:
    """Draw one line per named curve with the lab's colour for that name.

    Args:
        ax: the axes to draw on (cleared first).
        curves: name -> values.
        steps: optional name -> x values (default 0..n-1).
        logy: log-scale y axis (non-positive values are masked).
    """
    if not isinstance(curves, Mapping):
        raise TypeError(f"`curves` must be a mapping name -> values. Received: {type(curves).__name__}")
    ax.clear()
    for name, values in curves.items():
        y = np.asarray(values, dtype=float)
        x = np.asarray(steps[name], dtype=float) if steps and name in steps else np.arange(len(y))
        if logy:
            y = np.where(y > 0, y, np.nan)
        ax.plot(x, y, label=name, color=color_for(name), lw=1.6)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if curves:
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)


def plot_runs(
    ax: Axes,
    logdir_or_records,
    tag: str = "loss",
    smoothing: float = 0.6,
    *,
    runs: Sequence[str] | None = None,
    title: str | None = None,
) -> dict[str, list[float]]:
    """Draw one tag of several runs the way TensorBoard does: raw curve faint, smoothed solid.

    Args:
        ax: the axes to draw on (cleared first).
        logdir_or_records: a logdir (read with ``labkit.summary.read_scalars``) or the
            scalar records it returned.
        tag: the scalar tag, e.g. ``"loss"``.
        smoothing: TensorBoard's "Smoothing" slider (``labkit.summary.smooth``), in [0, 1].
        runs: optional subset of run names.

    Returns:
        ``{run: smoothed values}`` as drawn (the same numbers TensorBoard draws).

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    import os

    from labkit.summary import read_scalars, scalar_series, smooth

    if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float)) or not 0 <= smoothing <= 1:
        raise ValueError(f"`smoothing` must be a number in [0, 1]. Received: smoothing={smoothing!r}")
    if isinstance(logdir_or_records, (str, os.PathLike)):
        records = read_scalars(logdir_or_records, tags=[tag])
    elif isinstance(logdir_or_records, Sequence):
        records = logdir_or_records
    else:
        raise TypeError(
            "`logdir_or_records` must be a logdir path or a list of ScalarRecord. "
            f"Received: {type(logdir_or_records).__name__}"
        )
    series = scalar_series(records, tag)
    if runs is not None:
        series = {r: v for r, v in series.items() if r in set(runs)}
    ax.clear()
    drawn: dict[str, list[float]] = {}
    for run, (steps, values) in series.items():
        colour = color_for(run)
        smoothed = smooth(values, smoothing)
        ax.plot(steps, values, color=colour, alpha=0.25, lw=1.0)
        ax.plot(steps, smoothed, color=colour, lw=1.8, label=run)
        drawn[run] = smoothed
    ax.set_xlabel("step")
    ax.set_ylabel(tag)
    ax.set_title(title if title is not None else f"{tag} (smoothing {smoothing:g})")
    if drawn:
        ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return drawn


class BlitPlot(LivePlot):
    """A ``LivePlot`` that re-renders only what moves (introduced in notebooks/04_playground.ipynb).

    Artists marked ``set_animated(True)`` move; everything else (axes, ticks, labels, a contour
    plot, ...) is the static background. It is rendered once -- and again after ``invalidate()``
    -- and kept as pixels ("blitting"). ``redraw()`` restores those pixels, draws the animated
    artists on top (in z-order), pastes the ``overlay`` and encodes a PNG with fast compression.

    The overlay is an optional OPAQUE animated artist drawn last, typically a legend with
    ``framealpha=1``: its pixels are cached per key (``set_overlay(legend, key)``), so its text
    is rasterised only when the key changes. Call ``invalidate()`` whenever a static artist or
    the axes limits change.

    Args:
        nrows, ncols, figsize, dpi: as for ``LivePlot``.
        compress_level: zlib level of the PNG (1 = fast, larger bytes; 6 = Pillow's default).
    """

    def __init__(
        self, nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] = (6.0, 3.5), dpi: int = 90,
        compress_level: int = 1,
    ) -> None:
        super().__init__(nrows, ncols, figsize, dpi)
        if isinstance(compress_level, bool) or not isinstance(compress_level, int) \
                or not 0 <= compress_level <= 9:
            raise ValueError("`compress_level` must be an integer in [0, 9]. "
                             f"Received: compress_level={compress_level!r}")
        self.compress_level = compress_level
        self.full_draws = 0
        self._background = None
        self._overlay = None
        self._overlay_key = None
        self._overlay_pixels: dict = {}

    def invalidate(self) -> None:
        """Forget the cached background (and overlay): the next redraw renders everything."""
        self._background = None
        self._overlay_pixels.clear()

    def set_overlay(self, artist, key) -> None:
        """Draw the opaque animated ``artist`` last; its pixels are cached under ``key``."""
        if artist is not None and not artist.get_animated():
            raise ValueError("The overlay artist must be animated (`artist.set_animated(True)`).")
        self._overlay, self._overlay_key = artist, key

    def _animated_artists(self) -> list:
        arts = [a for ax in self.axes.flat for a in ax.get_children()
                if a.get_animated() and a.get_visible() and a is not self._overlay]
        return sorted(arts, key=lambda a: a.get_zorder())

    def render(self) -> np.ndarray:
        """Compose the current frame on the canvas; returns the RGBA pixels (a view)."""
        canvas = self.fig.canvas
        if self._background is None:
            canvas.draw()  # layout + every static artist (Agg skips animated ones)
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._overlay_pixels.clear()
            self.full_draws += 1
        else:
            canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        overlay = self._overlay if self._overlay is not None and self._overlay.get_visible() else None
        if overlay is not None and self._overlay_key not in self._overlay_pixels:
            overlay.draw(renderer)  # over the clean background, then remembered as pixels
            box = overlay.get_window_extent(renderer).padded(2)
            self._overlay_pixels[self._overlay_key] = canvas.copy_from_bbox(box)
            canvas.restore_region(self._background)
        for artist in self._animated_artists():
            artist.draw(renderer)
        if overlay is not None:
            canvas.restore_region(self._overlay_pixels[self._overlay_key])
        return np.asarray(canvas.buffer_rgba())

    def to_png(self) -> bytes:
        """Compose the frame (``render``) and encode it as PNG (``encode_png``)."""
        return encode_png(self.render(), self.compress_level)


def encode_png(rgba: np.ndarray, compress_level: int = 1) -> bytes:
    """Encode an ``(height, width, 4)`` uint8 array as a PNG, fast.

    Introduced in notebooks/04_playground.ipynb (``BlitPlot``). Rows are stored unfiltered and
    deflated at ``compress_level``: a plot's large flat areas compress well without PNG's
    per-row filters, which is what makes Pillow's encoder ~3x slower for a 600 x 400 figure.
    """
    import struct
    import zlib

    rgba = np.asarray(rgba)
    if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError("`rgba` must be a uint8 array of shape (height, width, 4). "
                         f"Received: dtype={rgba.dtype}, shape={rgba.shape}")
    height, width, _ = rgba.shape
    rows = np.zeros((height, 1 + 4 * width), np.uint8)  # column 0: filter type 0 (None)
    rows[:, 1:] = rgba.reshape(height, -1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), compress_level)) + chunk(b"IEND", b""))

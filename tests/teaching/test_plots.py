import numpy as np
import pytest

from labkit.teaching.palette import color_for
from labkit.teaching.plots import LivePlot, draw_curves


def test_liveplot_redraws_in_place():
    plot = LivePlot()
    plot.ax.plot([0, 1], [0, 1])
    widget = plot.widget
    first = widget.value
    plot.ax.plot([0, 1], [1, 0])
    png = plot.redraw()
    assert png.startswith(b"\x89PNG") and widget.value == png and png != first
    assert plot.widget is widget and plot.redraws == 1


def test_liveplot_never_registers_with_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    LivePlot()
    assert plt.get_fignums() == before


def test_draw_curves_uses_lab_colours():
    plot = LivePlot()
    draw_curves(plot.ax, {"Adam": [3, 2, 1], "Momentum": [3, 2.5, 2]}, logy=True)
    colours = {line.get_label(): line.get_color() for line in plot.ax.get_lines()}
    assert colours == {"Adam": color_for("Adam"), "Momentum": color_for("Momentum")}
    np.testing.assert_array_equal(plot.ax.get_lines()[0].get_xdata(), [0, 1, 2])
    with pytest.raises(TypeError, match="list"):
        draw_curves(plot.ax, [1, 2])


def test_bad_grid():
    with pytest.raises(ValueError, match="nrows=0"):
        LivePlot(nrows=0)


def test_widget_keeps_the_figure_pixel_width():
    from labkit.teaching.plots import LivePlot

    plot = LivePlot(figsize=(5, 3), dpi=90)
    layout = plot.widget.layout
    assert (layout.width, layout.max_width, layout.height) == ("450px", "100%", "auto")

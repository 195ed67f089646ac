"""labkit.summary: FileWriter (TF1 shape), readers via TensorBoard's code, TensorBoard's smoothing."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from labkit.seeding import seed_everything
from labkit.summary import (
    FileWriter,
    event_files,
    read_histograms,
    read_scalars,
    scalar_series,
    smooth,
    to_dataframe,
)
from labkit.teaching.exercises.summary import check_smoothed_value, check_stage_runs


# --- smoothing ------------------------------------------------------------------------
def tb_classic_smoothing(ys, smoothing_weight):
    """A line-by-line transcription of TensorBoard's ``classicSmoothing``
    (tensorboard/webapp/widgets/line_chart_v2/data_transformer.ts), kept independent of
    labkit.summary.smooth on purpose."""
    if not math.isfinite(smoothing_weight):
        smoothing_weight = 0
    smoothing_weight = max(0, min(smoothing_weight, 1))
    initial = ys[0] if ys else None
    if all(y == initial for y in ys):
        return list(ys)
    last = 0 if len(ys) > 0 else math.nan
    num_accum = 0
    out = []
    for next_val in ys:
        if not math.isfinite(next_val):
            out.append(next_val)
        else:
            last = last * smoothing_weight + (1 - smoothing_weight) * next_val
            num_accum += 1
            debias = 1 if smoothing_weight == 1 else 1 - math.pow(smoothing_weight, num_accum)
            out.append(last / debias)
    return out


def _series():
    rng = np.random.default_rng(0)
    noisy = list(np.exp(-np.arange(60) / 20) + 0.1 * rng.standard_normal(60))
    return {
        "noisy": noisy,
        "with_nan_inf": [1.0, 2.0, math.nan, 4.0, math.inf, -math.inf, 3.0, 0.5],
        "constant": [2.5] * 7,
        "constant_then_nan": [1.0, 1.0, math.nan],
        "all_nan": [math.nan, math.nan],
        "single": [3.0],
        "empty": [],
        "leading_inf": [math.inf, 1.0, 2.0],
    }


WEIGHTS = [0.0, 0.25, 0.6, 0.9, 0.99, 1.0, -0.5, 1.5, math.nan, math.inf]


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (math.isnan(x) and math.isnan(y)) or x == y, (a, b)


@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("name", list(_series()))
def test_smooth_equals_tensorboard_transcription(name, weight):
    ys = _series()[name]
    _same(smooth(ys, weight), tb_classic_smoothing(ys, weight))


def _installed_tensorboard_smoother() -> str:
    """Cut classicSmoothing's body out of the installed TensorBoard's compiled frontend."""
    import tensorboard

    zpath = Path(tensorboard.__file__).parent / "webfiles.zip"
    with zipfile.ZipFile(zpath) as z:
        js = z.read("index.js").decode("utf-8", errors="replace")
    pattern = re.compile(
        r"Number\.isFinite\((\w+)\)\|\|\(\1=0\),\1=Math\.max\(0,Math\.min\(\1,1\)\);"
        r"let (\w+)=\[\];for\(let \w+ of (\w+)\)\{.{0,600}?\}return \2\}"
    )
    m = pattern.search(js)
    assert m, "classicSmoothing not found in the installed TensorBoard bundle"
    weight, data = m.group(1), m.group(3)
    return f"function tbSmooth({data},{weight}){{{m.group(0)}"


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run TensorBoard's own JavaScript")
def test_smooth_equals_installed_tensorboard_javascript():
    """Run the smoothing function shipped in the installed TensorBoard with node, on the
    same data, and compare bit for bit (NaN/inf encoded as strings across JSON)."""
    fn = _installed_tensorboard_smoother()
    cases = [(n, w) for n in _series() for w in WEIGHTS]

    def enc(v):
        return v if math.isfinite(v) else str(v)

    payload = [
        {"id": f"{n}|{i}", "w": enc(w), "ys": [enc(y) for y in _series()[n]]}
        for i, (n, w) in enumerate(cases)
    ]
    script = fn + """
const dec = v => typeof v === 'string' ? ({nan: NaN, inf: Infinity, '-inf': -Infinity})[v] : v;
const enc = v => Number.isFinite(v) ? v : String(v);
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const data = cases.map(c => ({id: c.id, points: c.ys.map((y, i) => ({x: i, y: dec(y)}))}));
Promise.all(cases.map((c, i) => tbSmooth([data[i]], dec(c.w)))).then(rs => {
  process.stdout.write(JSON.stringify(rs.map(r => r[0].points.map(p => enc(p.y)))));
});
"""
    out = subprocess.run(["node", "-e", script], input=json.dumps(payload), capture_output=True,
                         text=True, timeout=60, check=True).stdout
    got = json.loads(out)
    assert len(got) == len(cases)
    for (name, w), js_ys in zip(cases, got, strict=True):
        js = [float(v) for v in js_ys]  # float("NaN"), float("Infinity") parse
        ours = smooth(_series()[name], w)
        assert len(ours) == len(js)
        for a, b in zip(ours, js, strict=True):
            if math.isfinite(b):
                # V8's Math.pow and C's pow may differ in the last bit (seen: 3e-16 relative)
                assert a == pytest.approx(b, rel=1e-13, abs=0), (name, w)
            else:
                assert (math.isnan(a) and math.isnan(b)) or a == b, (name, w)


def test_smooth_known_values_and_errors():
    assert smooth([1.0, 3.0], 0.5)[0] == 1.0  # debiasing removes the pull towards 0
    assert smooth([1.0, 3.0], 0.5)[-1] == pytest.approx((0.25 + 1.5) / 0.75)
    assert smooth([4.0, 2.0, 8.0], 0.0) == [4.0, 2.0, 8.0]
    with pytest.raises(TypeError, match="weight"):
        smooth([1.0], "0.5")
    with pytest.raises(TypeError, match="values"):
        smooth("123", 0.5)


# --- writing and reading --------------------------------------------------------------
def test_filewriter_queues_until_flush_then_reader_sees_values(tmp_path):
    seed_everything(0)
    values = [float(v) for v in np.random.default_rng(1).random(4)]
    w = FileWriter(tmp_path / "run_a", max_queue=10, flush_secs=120)
    for step, v in enumerate(values):
        w.add_scalar("loss", v, step)
    assert len(event_files(tmp_path)) == 1
    assert read_scalars(tmp_path) == []  # queued in memory, not on disk yet
    w.flush()
    recs = read_scalars(tmp_path)
    assert [r.step for r in recs] == [0, 1, 2, 3]
    assert [r.value for r in recs] == [float(np.float32(v)) for v in values]
    assert {r.run for r in recs} == {"run_a"} and {r.tag for r in recs} == {"loss"}
    w.close()
    w.close()  # harmless
    with pytest.raises(ValueError, match="closed"):
        w.add_scalar("loss", 1.0, 5)


def test_queue_overflow_writes_without_flush(tmp_path):
    w = FileWriter(tmp_path / "r", max_queue=3, flush_secs=120)
    for s in range(3):
        w.add_scalar("x", s, s)
    assert read_scalars(tmp_path) == []
    w.add_scalar("x", 3, 3)  # the 4th event overflows a queue of 3
    assert len(read_scalars(tmp_path)) == 4
    w.close()


def test_runs_histograms_tf1_summary_dataframe_graph_image_text(tmp_path):
    import matplotlib.figure
    import tensorflow as tf

    seed_everything(0)
    v = tf.Variable(np.arange(12, dtype=np.float32).reshape(3, 4), name="kernel")

    @tf.function
    def step_fn(x):
        return tf.reduce_sum(v * x)

    for run, scale in (("sgd", 1.0), ("adam", 2.0)):
        with FileWriter(tmp_path / run, graph=None) as w:
            for s in range(3):
                w.add_scalars({"loss": scale / (s + 1), "acc": s / 3}, s)
            tags = w.add_variable_histograms([v], 0, gradients=[tf.ones_like(v)])
            assert tags == ["weights/kernel", "gradients/kernel"]
            w.add_summary(tf.compat.v1.Summary(
                value=[tf.compat.v1.Summary.Value(tag="tf1_loss", simple_value=0.25)]), global_step=9)
            w.add_graph(step_fn, tf.ones((3, 4)))
            fig = matplotlib.figure.Figure(figsize=(2, 2))
            fig.subplots().plot([0, 1])
            w.add_image("curve", fig, 0)
            w.add_text("notes", "**hello**", 0)
    recs = read_scalars(tmp_path)
    assert sorted({r.run for r in recs}) == ["adam", "sgd"]
    series = scalar_series(recs, "loss")
    assert series["adam"] == ([0, 1, 2], [2.0, 1.0, float(np.float32(2 / 3))])
    tf1 = [r for r in recs if r.tag == "tf1_loss"]
    assert [(r.run, r.step, r.value) for r in tf1] == [("adam", 9, 0.25), ("sgd", 9, 0.25)]
    df = read_scalars(tmp_path, runs=["sgd"], tags=["loss"], as_dataframe=True)
    assert list(df.columns) == ["run", "tag", "step", "wall_time", "value"]
    assert df["value"].round(6).tolist() == [1.0, 0.5, round(float(np.float32(1 / 3)), 6)]
    assert len(to_dataframe(recs)) == len(recs)
    hists = read_histograms(tmp_path, runs=["sgd"])
    by_tag = {h.tag: h for h in hists}
    assert set(by_tag) == {"weights/kernel", "gradients/kernel"}
    assert by_tag["weights/kernel"].buckets[:, 2].sum() == pytest.approx(12)
    assert by_tag["weights/kernel"].buckets[0, 0] == 0.0 and by_tag["weights/kernel"].buckets[-1, 1] == 11.0
    from tensorboard.backend.event_processing import event_file_loader

    kinds = set()
    for f in event_files(tmp_path / "sgd"):
        for ev in event_file_loader.EventFileLoader(str(f)).Load():
            kinds.add(ev.WhichOneof("what"))
    assert "graph_def" in kinds


def test_bad_inputs_name_the_argument(tmp_path):
    with pytest.raises(TypeError, match="logdir"):
        FileWriter(None)
    with pytest.raises(ValueError, match="max_queue"):
        FileWriter(tmp_path, max_queue=0)
    with pytest.raises(ValueError, match="flush_secs"):
        FileWriter(tmp_path, flush_secs=-1)
    with FileWriter(tmp_path / "r") as w:
        with pytest.raises(ValueError, match="step"):
            w.add_scalar("loss", 1.0, -1)
        with pytest.raises(TypeError, match="step"):
            w.add_scalar("loss", 1.0, 1.5)
        with pytest.raises(ValueError, match="tag"):
            w.add_scalar("", 1.0, 0)
        with pytest.raises(TypeError, match="summary"):
            w.add_summary(3.0, 0)
        with pytest.raises(TypeError, match="graph"):
            w.add_graph(42)
    with pytest.raises(ValueError, match="logdir"):
        read_scalars(tmp_path / "missing")


def test_plot_runs_draws_smoothed_tensorboard_curves(tmp_path):
    from matplotlib.figure import Figure

    from labkit.teaching.palette import color_for
    from labkit.teaching.plots import plot_runs

    for run in ("AdamOptimizer", "GradientDescentOptimizer"):
        with FileWriter(tmp_path / run) as w:
            for s in range(6):
                w.add_scalar("loss", 1.0 / (s + 1) + (0.1 if s % 2 else 0.0), s)
    ax = Figure().subplots()
    drawn = plot_runs(ax, tmp_path, "loss", smoothing=0.6)
    recs = read_scalars(tmp_path)
    assert drawn["AdamOptimizer"] == smooth(scalar_series(recs, "loss")["AdamOptimizer"][1], 0.6)
    solid = [ln for ln in ax.get_lines() if ln.get_label() == "AdamOptimizer"]
    assert solid and solid[0].get_color() == color_for("AdamOptimizer")
    with pytest.raises(ValueError, match="smoothing"):
        plot_runs(ax, tmp_path, "loss", smoothing=2)


# --- exercises ------------------------------------------------------------------------
def test_exercise_stage_runs(tmp_path):
    assert not check_stage_runs(tmp_path / "nothing")
    w1 = FileWriter(tmp_path / "stage1")
    for s in range(5):
        w1.add_scalar("loss", 1.0, s)
    fb = check_stage_runs(tmp_path)
    assert not fb and "flush" in fb.message  # queued, not yet on disk
    w1.close()
    fb = check_stage_runs(tmp_path)
    assert not fb and "stage2" in fb.message
    with FileWriter(tmp_path / "stage2") as w2:
        for s in range(2):
            w2.add_scalar("loss", 0.5, s)
    assert "at least" in check_stage_runs(tmp_path).message
    with FileWriter(tmp_path / "stage2") as w2:
        for s in range(2, 5):
            w2.add_scalar("loss", 0.5, s)
    assert check_stage_runs(tmp_path)


def test_exercise_smoothed_value():
    right = smooth([1.0, 3.0], 0.5)[-1]
    assert check_smoothed_value(right)
    fb = check_smoothed_value(0.25 + 1.5)  # the biased moving average
    assert not fb and "1 - w^n" in fb.message
    assert not check_smoothed_value(3.0)
    assert not check_smoothed_value("2")


@pytest.mark.parametrize("value, words", [
    ("0.5", "value='0.5'"), (None, "value=None"), (True, "value=True"),
    ([1.0, 2.0], "value=[1.0, 2.0] of type list"),
    (np.zeros(3), "shape [3]"),
])
def test_add_scalar_refuses_a_bad_value_naming_it(tmp_path, value, words):
    from labkit.summary import FileWriter

    w = FileWriter(str(tmp_path / "run"))
    try:
        with pytest.raises(TypeError) as info:
            w.add_scalar("loss", value, 1)
        assert "`value`" in str(info.value) and words in str(info.value)
        w.add_scalar("loss", np.float32(0.25), 2)  # still usable, and numbers pass
    finally:
        w.close()

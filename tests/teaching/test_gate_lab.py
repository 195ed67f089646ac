"""labkit.teaching.gate_lab: GATE modes measured in a real tf.compat.v1 graph-mode subprocess."""

import json
import subprocess
import sys

import pytest

from labkit.teaching.gate_lab import GATE_MODES, GateResult, run_gate_lab

SMALL = dict(batch=64, inputs=32, hidden=64)


@pytest.fixture(scope="module")
def small_results():
    # one subprocess, all six (variable kind, mode) combinations, small sizes: seconds
    return run_gate_lab(trials=4, threads=2, timeout=600, **SMALL)


@pytest.mark.slow  # a TensorFlow subprocess: make test runs it, make check does not
def test_every_combination_is_measured(small_results):
    got = [(r.variables, r.mode) for r in small_results]
    assert got == [(k, m) for k in ("ref", "resource") for m in GATE_MODES]
    for r in small_results:
        assert isinstance(r, GateResult) and r.trials == 4
        assert 1 <= r.distinct <= r.trials
        assert len(r.step_seconds) == 4 and all(s > 0 for s in r.step_seconds)
        assert r.median_step_seconds > 0


@pytest.mark.slow  # a TensorFlow subprocess: make test runs it, make check does not
def test_gated_modes_and_resource_variables_are_reproducible(small_results):
    """The claims the notebook checks: these always give exactly one outcome."""
    for r in small_results:
        if r.mode != "GATE_NONE" or r.variables == "resource":
            assert r.distinct == 1, r
            assert r.max_abs_diff == 0.0, r


@pytest.mark.slow  # a TensorFlow subprocess: make test runs it, make check does not
def test_cli_prints_json_and_one_thread_makes_gate_none_reproducible():
    """The command line prints JSON; with one thread nothing runs concurrently, so even
    GATE_NONE with reference variables gives one outcome."""
    proc = subprocess.run(
        [sys.executable, "-m", "labkit.teaching.gate_lab", "--mode", "GATE_NONE", "--variables", "ref", "resource",
         "--trials", "3", "--threads", "1", "--batch", "64", "--inputs", "32", "--hidden", "64"],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [r["variable_class"] for r in data["results"]] == ["RefVariable", "ResourceVariable"]
    assert [r["distinct"] for r in data["results"]] == [1, 1]
    assert data["batch"] == 64 and data["hidden"] == 64 and data["threads"] == 1


@pytest.mark.parametrize("kwargs, match", [
    ({"modes": "GATE_SOME"}, r"`modes` must contain only .*Received: modes=\['GATE_SOME'\]"),
    ({"modes": []}, r"`modes` must not be empty"),
    ({"variables": ["legacy"]}, r"`variables` must contain only"),
    ({"trials": 1}, r"`trials` must be an integer >= 2. Received: trials=1"),
    ({"threads": 0}, r"`threads` must be an integer >= 1. Received: threads=0"),
    ({"hidden": 2.5}, r"`hidden` must be an integer >= 1. Received: hidden=2.5"),
    ({"timeout": -1}, r"`timeout` must be a positive number"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_gate_lab(**kwargs)


def test_cli_rejects_bad_sizes():
    proc = subprocess.run([sys.executable, "-m", "labkit.teaching.gate_lab", "--trials", "0"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--trials must be >= 1" in proc.stderr


def _step_graph(mode):
    import numpy as np
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        h = tf.constant(np.ones((4, 3), np.float32))
        for i, shape in enumerate([(3, 3), (3, 2)], start=1):
            w = tf.compat.v1.Variable(np.full(shape, 0.1, np.float32), name=f"w{i}", use_resource=False)
            h = tf.matmul(h, w, name=f"layer{i}")
        opt = tf.compat.v1.train.GradientDescentOptimizer(0.1)
        opt.minimize(tf.reduce_sum(tf.square(h)), gate_gradients=mode, name="train")
    return graph


@pytest.mark.parametrize("mode, kinds, controls", [
    (0, {"grad": 4, "update": 2}, 0),
    (1, {"grad": 4, "update": 2, "gate": 2, "gated": 4}, 8),  # each gate waits for 2 MatMuls; 4 Identities wait for it
    (2, {"grad": 4, "update": 2, "gate": 1, "gated": 2}, 4),
])
def test_gate_subgraph_reads_the_real_graph(mode, kinds, controls):
    from collections import Counter

    from labkit.teaching.gate_lab import gate_subgraph

    nodes, edges = gate_subgraph(_step_graph(mode))
    assert Counter(n.kind for n in nodes) == Counter(kinds)
    assert sum(control for _, _, control in edges) == controls
    names = {n.name for n in nodes}
    assert all(a in names and b in names for a, b, _ in edges)


def test_draw_gate_graph_draws_every_op_and_the_extra_edge():
    from matplotlib.figure import Figure

    from labkit.teaching.gate_lab import draw_gate_graph

    ax = Figure().subplots()
    graph = _step_graph(0)
    n_nodes, n_edges = draw_gate_graph(ax, graph, title="GATE_NONE",
                                       highlight=["gradients/layer2_grad/MatMul"],
                                       extra_edges=[("train/update_w2/ApplyGradientDescent",
                                                     "gradients/layer2_grad/MatMul")])
    assert (n_nodes, n_edges) == (6, 4)
    arrows = [t for t in ax.texts if type(t).__name__ == "Annotation"]
    assert len(arrows) == n_edges + 1                 # every edge, and the pinned one
    assert len(ax.texts) - len(arrows) == n_nodes     # one labelled box per op
    assert ax.get_title() == "GATE_NONE"

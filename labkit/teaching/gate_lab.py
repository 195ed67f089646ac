"""The GATE modes lab: does ``gate_gradients`` change the result of one SGD step?

Introduced in notebooks/07_gate_modes.ipynb.

TF1's ``Optimizer.minimize(..., gate_gradients=...)`` decides how much of the gradient
computation must be finished before a variable is updated. In graph mode with several
inter-op threads, ``GATE_NONE`` lets the update of a weight matrix start while another
gradient that *reads* that matrix (the back-propagated error of the layer below) is still
being computed. With TF1 *reference* variables that read sees the buffer being written, so
the same step from the same starting values can give different results. ``GATE_OP`` groups
the gradients of each op (``tf.tuple``) and ``GATE_GRAPH`` all gradients, so no update
starts before those reads are done. *Resource* variables (TF2's default) read a snapshot, so
all three modes agree.

This module measures that, for real, in a **subprocess** (graph mode and the switch to
reference variables are process-wide and would disturb a notebook kernel)::

    python -m labkit.teaching.gate_lab --mode GATE_NONE GATE_OP --variables ref resource \\
        --trials 20 --threads 2 --batch 2048 --inputs 512 --hidden 1024

prints one JSON document; :func:`run_gate_lab` launches it and parses the result.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GATE_MODES", "VARIABLE_KINDS", "GateNode", "GateResult", "draw_gate_graph", "gate_subgraph",
           "measure", "run_gate_lab"]

GATE_MODES: tuple[str, ...] = ("GATE_NONE", "GATE_OP", "GATE_GRAPH")
VARIABLE_KINDS: tuple[str, ...] = ("ref", "resource")
_CLASSES = 10


@dataclass(frozen=True)
class GateResult:
    """One (GATE mode, variable kind) measurement (introduced in notebooks/07_gate_modes.ipynb).

    Attributes:
        mode: "GATE_NONE", "GATE_OP" or "GATE_GRAPH".
        variables: "ref" (TF1 reference variables) or "resource" (TF2's default).
        trials: how many times the step was run from the same initial values.
        distinct: how many different results (bit-exact, all variables) those trials gave.
        max_abs_diff: largest element-wise difference between any trial and the first one.
        step_seconds: wall time of each ``sess.run(train_op)``.
    """

    mode: str
    variables: str
    trials: int
    distinct: int
    max_abs_diff: float
    step_seconds: tuple[float, ...] = field(repr=False)

    @property
    def median_step_seconds(self) -> float:
        """Median wall time of one step."""
        s = sorted(self.step_seconds)
        n = len(s)
        return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"`{name}` must be an integer >= {low}. Received: {name}={value!r}")
    return value


def _check_choices(name: str, values: Any, allowed: tuple[str, ...]) -> list[str]:
    if isinstance(values, str):
        values = [values]
    try:
        values = list(values)
    except TypeError:
        raise TypeError(f"`{name}` must be a string or a list of strings from {allowed}. "
                        f"Received: {name}={values!r}") from None
    if not values:
        raise ValueError(f"`{name}` must not be empty; choose from {allowed}. Received: {name}=[]")
    for v in values:
        if v not in allowed:
            raise ValueError(f"`{name}` must contain only {allowed}. Received: {name}={values!r}")
    return values


# ----------------------------------------------------------------------------- subprocess side
def measure(modes: Sequence[str], variables: Sequence[str], trials: int, threads: int,
            batch: int, inputs: int, hidden: int, seed: int = 0,
            learning_rate: float = 0.1) -> dict[str, Any]:
    """Run the experiment in THIS process (it switches TF to graph mode; use the subprocess).

    Introduced in notebooks/07_gate_modes.ipynb. Called by ``python -m labkit.teaching.gate_lab``;
    from a notebook or test use :func:`run_gate_lab`, which runs this in a fresh process.

    For each variable kind and mode: build a 3-layer MLP (``inputs`` -> ``hidden`` ->
    ``hidden`` -> 10, ReLU, softmax cross-entropy) on a fixed batch, with
    ``tf.compat.v1.train.GradientDescentOptimizer(learning_rate).minimize(loss,
    gate_gradients=mode)``; then ``trials`` times: reset every variable to the same NumPy
    initial values, run the train op once, fingerprint the new values.
    """
    import numpy as np
    import tensorflow as tf

    tf.compat.v1.disable_v2_behavior()  # graph mode, TF1 reference variables by default

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, inputs)).astype(np.float32)
    y = rng.integers(0, _CLASSES, size=batch).astype(np.int32)
    sizes = [(inputs, hidden), (hidden, hidden), (hidden, _CLASSES)]
    init = [((rng.standard_normal(s) * np.sqrt(2.0 / s[0])).astype(np.float32),
             np.full(s[1], 0.01, np.float32)) for s in sizes]
    config = tf.compat.v1.ConfigProto(inter_op_parallelism_threads=threads,
                                      intra_op_parallelism_threads=threads)
    results = []
    for kind in variables:
        for mode in modes:
            graph = tf.Graph()
            with graph.as_default():
                params = []
                h = tf.constant(x)
                for i, (w0, b0) in enumerate(init):
                    w = tf.compat.v1.Variable(w0, name=f"w{i}", use_resource=kind == "resource")
                    b = tf.compat.v1.Variable(b0, name=f"b{i}", use_resource=kind == "resource")
                    params += [w, b]
                    h = tf.matmul(h, w) + b
                    if i < len(init) - 1:
                        h = tf.nn.relu(h)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=tf.constant(y), logits=h))
                opt = tf.compat.v1.train.GradientDescentOptimizer(learning_rate)
                train_op = opt.minimize(loss, gate_gradients=getattr(opt, mode))
                reset = tf.compat.v1.global_variables_initializer()
            with tf.compat.v1.Session(graph=graph, config=config) as sess:
                sess.run(reset)
                sess.run(train_op)  # warm-up (allocations, thread pools); not counted
                fingerprints, seconds, first, max_diff = [], [], None, 0.0
                for _ in range(trials):
                    sess.run(reset)
                    t0 = time.perf_counter()
                    sess.run(train_op)
                    seconds.append(time.perf_counter() - t0)
                    values = sess.run(params)
                    digest = hashlib.sha256()
                    for v in values:
                        digest.update(np.ascontiguousarray(v).tobytes())
                    fingerprints.append(digest.hexdigest())
                    if first is None:
                        first = values
                    else:
                        diff = max(float(np.max(np.abs(a - b))) for a, b in zip(values, first, strict=True))
                        max_diff = max(max_diff, diff)
            kind_name = type(params[0]).__name__
            results.append({"mode": mode, "variables": kind, "variable_class": kind_name,
                            "trials": trials, "distinct": len(set(fingerprints)),
                            "max_abs_diff": max_diff, "step_seconds": seconds})
    return {"tensorflow": tf.__version__, "threads": threads, "batch": batch, "inputs": inputs,
            "hidden": hidden, "seed": seed, "learning_rate": learning_rate, "results": results}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m labkit.teaching.gate_lab", description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", nargs="+", default=list(GATE_MODES), choices=GATE_MODES)
    p.add_argument("--variables", nargs="+", default=list(VARIABLE_KINDS), choices=VARIABLE_KINDS)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--threads", type=int, default=2, help="inter- and intra-op threads")
    p.add_argument("--batch", type=int, default=2048)
    p.add_argument("--inputs", type=int, default=512)
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--learning-rate", type=float, default=0.1)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: measure and print one JSON document on stdout."""
    a = _parser().parse_args(argv)
    for name in ("trials", "threads", "batch", "inputs", "hidden"):
        if getattr(a, name) < 1:
            print(f"--{name} must be >= 1 (received {getattr(a, name)})", file=sys.stderr)
            return 2
    out = measure(a.mode, a.variables, a.trials, a.threads, a.batch, a.inputs, a.hidden,
                  a.seed, a.learning_rate)
    print(json.dumps(out))
    return 0


# ----------------------------------------------------------------------------- notebook side
def run_gate_lab(modes: Sequence[str] | str = GATE_MODES,
                 variables: Sequence[str] | str = VARIABLE_KINDS, trials: int = 10,
                 threads: int = 2, batch: int = 512, inputs: int = 256, hidden: int = 512,
                 seed: int = 0, timeout: float = 300.0) -> list[GateResult]:
    """Measure the GATE modes in a fresh ``python -m labkit.teaching.gate_lab`` process.

    Introduced in notebooks/07_gate_modes.ipynb. The defaults are a small network that
    runs in seconds; the issue's full size is ``batch=2048, inputs=512, hidden=1024``.

    Args:
        modes: any of "GATE_NONE", "GATE_OP", "GATE_GRAPH" (one string or a list).
        variables: any of "ref", "resource".
        trials: times the step is repeated from the same initial values (>= 2).
        threads: inter- and intra-op parallelism threads of the session (>= 1).
        batch, inputs, hidden: sizes of the batch and the MLP.
        seed: seed of the NumPy data and initial values.
        timeout: seconds before the subprocess is stopped (``subprocess.TimeoutExpired``).

    Returns:
        One :class:`GateResult` per (variable kind, mode), in that order.

    Raises:
        ValueError: bad argument (names it and the value received).
        RuntimeError: the subprocess failed (its stderr is included).
    """
    modes = _check_choices("modes", modes, GATE_MODES)
    variables = _check_choices("variables", variables, VARIABLE_KINDS)
    _check_int("trials", trials, 2)
    _check_int("threads", threads, 1)
    for name, value in (("batch", batch), ("inputs", inputs), ("hidden", hidden)):
        _check_int(name, value, 1)
    _check_int("seed", seed, 0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(f"`timeout` must be a positive number of seconds. Received: timeout={timeout!r}")
    cmd = [sys.executable, "-m", "labkit.teaching.gate_lab", "--mode", *modes, "--variables", *variables,
           "--trials", str(trials), "--threads", str(threads), "--batch", str(batch),
           "--inputs", str(inputs), "--hidden", str(hidden), "--seed", str(seed)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}:\n"
                           f"{proc.stderr[-3000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return [GateResult(r["mode"], r["variables"], r["trials"], r["distinct"], r["max_abs_diff"],
                       tuple(r["step_seconds"])) for r in data["results"]]


# ----------------------------------------------------------------------------- graph structure
@dataclass(frozen=True)
class GateNode:
    """One op of the gradient/update part of a TF1 graph (introduced in notebooks/07_gate_modes.ipynb)."""

    name: str      # the op's name in the graph
    label: str     # a short readable label
    kind: str      # "grad", "gate", "gated", "update"


def _read_variable(op) -> str | None:
    """The variable an op reads directly (through ``w/read`` or a ``ReadVariableOp``), if any."""
    for t in op.inputs:
        src = t.op
        if src.type == "ReadVariableOp" or (src.type == "Identity" and src.name.endswith("/read")):
            return src.inputs[0].op.name
    return None


def _gate_label(op) -> tuple[str, str]:
    name, op_type = op.name, op.type
    parts = name.split("/")
    if op_type == "NoOp" and parts[-1].startswith("group_deps"):
        return "tuple gate\n(NoOp)", "gate"
    if op_type == "Identity" and parts[-1].startswith("control_dependency"):
        suffix = parts[-1][len("control_dependency"):]
        return f"Identity{suffix}\n(waits for gate)", "gated"
    if "Apply" in op_type:
        var = next((p[len("update_"):] for p in parts if p.startswith("update_")), parts[-1])
        return f"update {var}", "update"
    layer = next((p[: -len("_grad")] for p in parts if p.endswith("_grad")), parts[0])
    var = _read_variable(op)
    return f"{layer} grad\n{parts[-1]}" + (f" reads {var}" if var else ""), "grad"


def gate_subgraph(graph, scopes: Sequence[str] = ("gradients/", "tuple/", "train/update_")
                  ) -> tuple[list[GateNode], list[tuple[str, str, bool]]]:
    """The ops that decide when an update may run, read from a real ``tf.Graph``.

    Introduced in notebooks/07_gate_modes.ipynb. Keeps the ops whose name starts with one
    of ``scopes`` and whose type is a MatMul, a ``tuple`` gate (NoOp ``group_deps``), a gated
    ``Identity`` (``control_dependency``) or an ``Apply...`` update, and every edge between two
    kept ops, read from ``op.inputs`` (data) and ``op.control_inputs`` (control).

    Returns:
        ``(nodes, edges)``; each edge is ``(from_name, to_name, is_control)``.
    """
    kept: dict[str, GateNode] = {}
    for op in graph.get_operations():
        if not op.name.startswith(tuple(scopes)):
            continue
        if op.type == "MatMul" or "Apply" in op.type or (
                op.type == "NoOp" and "group_deps" in op.name) or (
                op.type == "Identity" and "control_dependency" in op.name):
            label, kind = _gate_label(op)
            kept[op.name] = GateNode(op.name, label, kind)
    edges = []
    for name in kept:
        op = graph.get_operation_by_name(name)
        for t in op.inputs:
            if t.op.name in kept:
                edges.append((t.op.name, name, False))
        for c in op.control_inputs:
            if c.name in kept:
                edges.append((c.name, name, True))
    return list(kept.values()), edges


_KIND_COLOURS = {"grad": "#dbe9f6", "gate": "#fde2c8", "gated": "#fff4d6", "update": "#dff0d8"}


def draw_gate_graph(ax, graph, title: str = "", highlight: Sequence[str] = (),
                    extra_edges: Sequence[tuple[str, str]] = ()) -> tuple[int, int]:
    """Draw :func:`gate_subgraph` of ``graph`` on ``ax``, top to bottom in dependency order.

    Introduced in notebooks/07_gate_modes.ipynb. Data edges are grey, control edges dashed
    orange; ops named in ``highlight`` get a red border; ``extra_edges`` (pairs of op names,
    e.g. a pinned order) are drawn in red. Returns ``(number of ops, number of edges)`` drawn.
    """
    nodes, edges = gate_subgraph(graph)
    names = [n.name for n in nodes]
    by_name = {n.name: n for n in nodes}
    parents: dict[str, list[str]] = {n: [] for n in names}
    for a, b, _ in edges:
        parents[b].append(a)
    depth: dict[str, int] = {}

    def level(name: str) -> int:
        if name not in depth:
            depth[name] = 1 + max((level(p) for p in parents[name]), default=-1)
        return depth[name]

    for n in names:
        level(n)
    columns: dict[int, list[str]] = {}
    for n in names:
        columns.setdefault(depth[n], []).append(n)
    pos: dict[str, tuple[float, float]] = {}
    for x in sorted(columns):
        col = columns[x]
        # order each row by the mean position of its parents, so fewer arrows cross
        col.sort(key=lambda n: sum(pos[p][0] for p in parents[n]) / len(parents[n]) if parents[n] else 0.0)
        for i, n in enumerate(col):
            pos[n] = (i - (len(col) - 1) / 2, -x)    # top to bottom in dependency order
    ax.clear()
    for a, b, control in edges:
        ax.annotate("", xy=pos[b], xytext=pos[a],
                    arrowprops=dict(arrowstyle="-|>", color="#ef6c00" if control else "#888888",
                                    linestyle="--" if control else "-", lw=1.2,
                                    shrinkA=18, shrinkB=18))
    for a, b in extra_edges:
        if a in pos and b in pos:
            ax.annotate("", xy=pos[b], xytext=pos[a],
                        arrowprops=dict(arrowstyle="-|>,head_length=0.6,head_width=0.35", color="#c62828",
                                        lw=2.0, connectionstyle="arc3,rad=0.3", shrinkA=14, shrinkB=26),
                        zorder=5)
    for n in names:
        node = by_name[n]
        ax.text(*pos[n], node.label, ha="center", va="center", fontsize=6.5,
                bbox=dict(boxstyle="round,pad=0.3", fc=_KIND_COLOURS[node.kind],
                          ec="#c62828" if n in highlight else "#555555",
                          lw=2.0 if n in highlight else 0.8))
    depth_max = max(columns, default=0)
    widest = max((len(c) for c in columns.values()), default=1)
    ax.set_xlim(-widest / 2 - 0.1, widest / 2 + 0.1)
    ax.set_ylim(-depth_max - 0.5, 0.5)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    return len(nodes), len(edges)


if __name__ == "__main__":
    raise SystemExit(main())

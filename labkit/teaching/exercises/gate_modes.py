"""Exercise checks for notebooks/07_gate_modes.ipynb (what ``gate_gradients`` adds to a TF1 graph).

The learner predicts how many ops ``GATE_OP`` and ``GATE_GRAPH`` add to the graph that
``tf.compat.v1.train.GradientDescentOptimizer(...).minimize(loss, gate_gradients=...)`` builds
for a chain of MatMul layers, then runs it; the check builds the same graphs itself (a real
``tf.Graph`` per mode) and names the specific counting mistake.
"""

from __future__ import annotations

from labkit.i18n import _
from labkit.teaching.exercises.feedback import Feedback, hint, passed

MODES = ("GATE_NONE", "GATE_OP", "GATE_GRAPH")


def count_graph_ops(layers: int) -> dict[str, int]:
    """Number of ops in the graph of one SGD step, per GATE mode, for ``layers`` MatMuls.

    Introduced in notebooks/07_gate_modes.ipynb. The model is the notebook's: a constant
    ``x`` (4 x 3), ``layers`` variables (3 x 3, the last 3 x 2) multiplied in a chain,
    ``loss = reduce_sum(square(h))`` and ``GradientDescentOptimizer(0.1).minimize(loss,
    gate_gradients=mode)``, each in its own ``tf.Graph``.
    """
    if isinstance(layers, bool) or not isinstance(layers, int) or layers < 1:
        raise ValueError(_("`layers` must be an integer >= 1. Received: layers={layers!r}").format(layers=layers))
    import numpy as np
    import tensorflow as tf

    counts = {}
    for name in MODES:
        graph = tf.Graph()
        with graph.as_default():
            h = tf.constant(np.ones((4, 3), np.float32), name="x")
            for i in range(1, layers + 1):
                shape = (3, 2) if i == layers else (3, 3)
                w = tf.compat.v1.Variable(np.full(shape, 0.1, np.float32), name=f"w{i}", use_resource=False)
                h = tf.matmul(h, w, name=f"layer{i}")
            loss = tf.reduce_sum(tf.square(h), name="loss")
            opt = tf.compat.v1.train.GradientDescentOptimizer(0.1)
            opt.minimize(loss, gate_gradients=getattr(opt, name), name="train")
        counts[name] = len(graph.get_operations())
    return counts


def _as_count(name: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(_("`prediction[{name!r}]` must be a whole number of ops. Received: {value!r}").format(name=name, value=value))
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise TypeError(_("`prediction[{name!r}]` must be a whole number of ops. Received: {value!r}").format(name=name, value=value)) from None
    if number != value:
        raise TypeError(_("`prediction[{name!r}]` must be a whole number of ops. Received: {value!r}").format(name=name, value=value))
    return number


def check_gate_op_counts(prediction, layers: int = 4) -> Feedback:
    """Exercise: predict how many ops GATE_OP and GATE_GRAPH add to the GATE_NONE graph.

    Introduced in notebooks/07_gate_modes.ipynb. ``prediction`` is a dict
    ``{"GATE_OP": n, "GATE_GRAPH": m}`` of extra ops compared with ``GATE_NONE`` for a chain
    of ``layers`` MatMuls. The truth is counted live from real graphs
    (:func:`count_graph_ops`): ``GATE_OP`` wraps the two gradients of every MatMul in a
    ``tf.tuple`` (one NoOp gate and one Identity per gradient: 3 ops per layer, the first
    layer included, because ``tf.gradients`` also computes the gradient w.r.t. the constant
    input); ``GATE_GRAPH`` wraps all variable gradients in ONE ``tf.tuple`` (one NoOp and one
    Identity per variable).
    """
    if prediction is None:
        return hint(_("fill in `prediction = {\"GATE_OP\": ..., \"GATE_GRAPH\": ...}` with two numbers first."))
    if not isinstance(prediction, dict):
        raise TypeError(_("`prediction` must be a dict with keys 'GATE_OP' and 'GATE_GRAPH'. Received: "
                          "prediction={prediction!r}").format(prediction=prediction))
    op_guess = _as_count("GATE_OP", prediction.get("GATE_OP"))
    graph_guess = _as_count("GATE_GRAPH", prediction.get("GATE_GRAPH"))
    if op_guess is None or graph_guess is None:
        missing = [k for k, v in (("GATE_OP", op_guess), ("GATE_GRAPH", graph_guess)) if v is None]
        return hint(_("predict a number for {value} before you check (replace None).").format(value=_(' and ').join(missing)))
    counts = count_graph_ops(layers)
    want_op = counts["GATE_OP"] - counts["GATE_NONE"]
    want_graph = counts["GATE_GRAPH"] - counts["GATE_NONE"]
    problems = []
    if op_guess != want_op:
        if op_guess == 3 * (layers - 1):
            problems.append(
                _("GATE_OP: {op_guess} leaves out the first layer. tf.gradients also computes the gradient "
                  "of layer1 w.r.t. its constant input x (nobody uses it), so layer1's MatMul has two "
                  "gradients too and gets a tuple like every other layer").format(op_guess=op_guess))
        elif op_guess == layers:
            problems.append(
                _("GATE_OP: {op_guess} counts one op per gated MatMul. Each tf.tuple is a NoOp gate plus "
                  "one Identity per gradient it holds back (a MatMul has two): 3 ops per MatMul").format(op_guess=op_guess))
        elif op_guess == 2 * layers:
            problems.append(
                _("GATE_OP: {op_guess} counts the two gated Identities per MatMul but not the NoOp gate "
                  "each tuple adds (3 ops per MatMul)").format(op_guess=op_guess))
        elif op_guess == want_graph:
            problems.append(
                _("GATE_OP: {op_guess} is GATE_GRAPH's count. GATE_OP gates each op's gradients separately "
                  "(gradients_util.py, line 758: one tf.tuple per op with two or more gradients)").format(op_guess=op_guess))
        else:
            problems.append(_("GATE_OP adds {want_op} ops here, not {op_guess}").format(want_op=want_op, op_guess=op_guess))
    if graph_guess != want_graph:
        if graph_guess == layers:
            problems.append(
                _("GATE_GRAPH: {graph_guess} counts the {layers} gated Identities (one per variable) but "
                  "not the single NoOp gate they wait for").format(graph_guess=graph_guess, layers=layers))
        elif graph_guess == 1:
            problems.append(
                _("GATE_GRAPH: 1 counts the NoOp gate only; every variable's gradient also passes through "
                  "its own Identity that waits for it ({layers} more)").format(layers=layers))
        elif graph_guess == want_op or graph_guess == 3 * layers:
            problems.append(
                _("GATE_GRAPH: {graph_guess} is one tuple per layer. GATE_GRAPH makes ONE tuple over all "
                  "the variables' gradients (optimizer.py, lines 638-639)").format(graph_guess=graph_guess))
        else:
            problems.append(_("GATE_GRAPH adds {want_graph} ops here, not {graph_guess}").format(want_graph=want_graph, graph_guess=graph_guess))
    if problems:
        return hint(_("{problems}.").format(problems=_("; ").join(problems)))
    return passed(
        _("GATE_OP adds {want_op} ops (a NoOp and two Identities for each of the {layers} MatMuls) "
          "and GATE_GRAPH adds {want_graph} (one NoOp and one Identity per variable), counted from "
          "the real graphs.").format(want_op=want_op, layers=layers, want_graph=want_graph))

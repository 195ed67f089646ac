"""labkit.teaching.exercises.gate_modes: the right prediction passes, each counting mistake gets its own hint."""

import pytest

from labkit.teaching.exercises import gate_modes as ex


def test_counts_come_from_real_graphs():
    counts = ex.count_graph_ops(2)
    assert counts["GATE_OP"] - counts["GATE_NONE"] == 6     # a NoOp + 2 Identities per MatMul
    assert counts["GATE_GRAPH"] - counts["GATE_NONE"] == 3  # one NoOp + one Identity per variable
    four = ex.count_graph_ops(4)
    assert (four["GATE_OP"] - four["GATE_NONE"], four["GATE_GRAPH"] - four["GATE_NONE"]) == (12, 5)


@pytest.mark.parametrize("prediction, ok, words", [
    ({"GATE_OP": 12, "GATE_GRAPH": 5}, True, ["12", "5"]),
    ({"GATE_OP": 9, "GATE_GRAPH": 5}, False, ["first layer", "constant input"]),
    ({"GATE_OP": 4, "GATE_GRAPH": 5}, False, ["one op per gated MatMul"]),
    ({"GATE_OP": 8, "GATE_GRAPH": 5}, False, ["not the NoOp"]),
    ({"GATE_OP": 5, "GATE_GRAPH": 5}, False, ["GATE_GRAPH's count"]),
    ({"GATE_OP": 12, "GATE_GRAPH": 4}, False, ["single NoOp"]),
    ({"GATE_OP": 12, "GATE_GRAPH": 1}, False, ["NoOp gate only"]),
    ({"GATE_OP": 12, "GATE_GRAPH": 12}, False, ["ONE tuple"]),
    ({"GATE_OP": 7, "GATE_GRAPH": 2}, False, ["adds 12", "adds 5"]),
    ({"GATE_OP": None, "GATE_GRAPH": 5}, False, ["GATE_OP", "None"]),
    (None, False, ["fill in"]),
])
def test_check_gate_op_counts(prediction, ok, words):
    fb = ex.check_gate_op_counts(prediction, layers=4)
    assert fb.ok is ok, fb.message
    for word in words:
        assert word in fb.message, (word, fb.message)


@pytest.mark.parametrize("prediction", [[12, 5], {"GATE_OP": 2.5, "GATE_GRAPH": 5}, {"GATE_OP": "x", "GATE_GRAPH": 5},
                                        {"GATE_OP": True, "GATE_GRAPH": 5}])
def test_bad_predictions_raise(prediction):
    with pytest.raises(TypeError, match="prediction"):
        ex.check_gate_op_counts(prediction)


def test_bad_layers():
    with pytest.raises(ValueError, match="layers"):
        ex.count_graph_ops(0)

"""Notebook hygiene and the lab's notebook template, for every notebook in notebooks/."""

import json
from pathlib import Path

import nbformat
import pytest

from labkit.tooling import notebook_hygiene as hygiene

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
ALL = hygiene.notebook_paths([ROOT / "notebooks"])


def test_there_are_lessons():
    assert (ROOT / "notebooks/00_start_here.ipynb") in LESSONS


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_clean(path):
    """No stray outputs, execution counts or widget state; checked cells are marked both ways."""
    assert hygiene.problems(nbformat.read(path, as_version=4)) == []
    # and cleaning again changes nothing: the file is already normalised
    nb = nbformat.read(path, as_version=4)
    assert nbformat.writes(hygiene.clean_notebook(nb)) == nbformat.writes(nbformat.read(path, as_version=4))


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_template(path):
    """Title first, an overview before any code, exactly one Setup cell that seeds."""
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "first cell must be a '# Title'"
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    assert any(c.cell_type == "markdown" for c in nb.cells[1:first_code]), "an overview must come before code"
    setup_heads = [c for c in nb.cells if c.cell_type == "markdown" and c.source.strip().startswith("## Setup")]
    assert len(setup_heads) == 1, "exactly one '## Setup' section"
    assert "seed_everything(" in nb.cells[first_code].source, "the first code cell (Setup) must seed"


def test_problems_are_detected():
    nb = nbformat.v4.new_notebook()
    stray = nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", text="1\n")])
    stray.execution_count = 3
    old = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(2)")
    old.metadata["keep_output"] = True
    nb.cells = [stray, old]
    nb.metadata["widgets"] = {"state": {}}
    found = hygiene.problems(nb)
    assert "cell 0 has outputs but is not a checked cell" in found
    assert "cell 0 has an execution count" in found
    assert any("cell 1 shows '# NBVAL_CHECK_OUTPUT' to learners" in f for f in found)
    assert any("cell 1: keep_output metadata is no longer used" in f for f in found)
    assert "notebook metadata holds widget state" in found
    cleaned = hygiene.clean_notebook(nb)
    assert cleaned.cells[0].outputs == [] and cleaned.cells[0].execution_count is None
    assert "widgets" not in cleaned.metadata


def test_checked_cells_keep_outputs(tmp_path):
    keep = nbformat.v4.new_code_cell("print(2)",
                                     outputs=[nbformat.v4.new_output("stream", text="2\n")])
    keep.metadata["tags"] = ["nbval-check-output"]
    keep.execution_count = 5
    stray = nbformat.v4.new_code_cell("print(3)", outputs=[nbformat.v4.new_output("stream", text="3\n")])
    nb = nbformat.v4.new_notebook(cells=[keep, stray])
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    assert hygiene.clean([path]) == [path]
    data = json.loads(path.read_text())
    assert data["cells"][0]["outputs"][0]["text"] == ["2\n"] and data["cells"][0]["execution_count"] == 5
    assert data["cells"][1]["outputs"] == [] and data["cells"][1]["execution_count"] is None
    assert data["cells"][0]["metadata"]["tags"] == ["nbval-check-output"]
    assert hygiene.clean([path]) == []  # idempotent


def test_no_learner_sees_test_plumbing():
    """Checked cells are marked by nbval's cell tag, never by a comment in the learner's code."""
    for path in ALL:
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
            assert "NBVAL_CHECK_OUTPUT" not in cell.source, f"{path.name} cell {i}"


def test_every_notebook_named_in_labkit_exists():
    """labkit's docstrings name the notebook that introduces each helper; those must exist."""
    import re

    named = {}
    for source in (ROOT / "labkit").rglob("*.py"):
        for name in re.findall(r"notebooks/([\w.-]+\.ipynb)", source.read_text()):
            named.setdefault(name, []).append(str(source.relative_to(ROOT)))
    assert named, "no notebook named in labkit at all"
    missing = {n: files for n, files in named.items() if not (ROOT / "notebooks" / n).exists()}
    assert not missing, f"labkit names notebooks that do not exist: {missing}"

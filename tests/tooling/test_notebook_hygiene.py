"""Notebook hygiene and the lab's notebook template, for every notebook in notebooks/.

The generated Chinese edition (notebooks/zh_CN/, labkit.tooling.translations) is held to the
same hygiene (it is under notebooks/) and to the same template: its Setup heading is the
translation of the English "## Setup" cell (found by cell id), which must stay one level-2
heading, worded the same in every lesson.
"""

import json
from pathlib import Path

import nbformat
import pytest

from labkit.tooling import notebook_hygiene as hygiene

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
EDITIONS = sorted((ROOT / "notebooks" / "zh_CN").glob("[0-9][0-9]*_*.ipynb"))
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


def english_of(path: Path) -> nbformat.NotebookNode | None:
    """The English lesson a notebooks/zh_CN/ notebook is generated from (None for English)."""
    if path.parent.name != "zh_CN":
        return None
    return nbformat.read(path.parent.parent / path.name, as_version=4)


@pytest.mark.parametrize("path", LESSONS + EDITIONS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_template(path):
    """Title first, an overview before any code, exactly one Setup cell that seeds."""
    assert hygiene.template_problems(nbformat.read(path, as_version=4), english_of(path)) == []


def test_chinese_setup_heading_is_the_same_in_every_lesson():
    """A learner meets the Setup section under one name in every lesson of the edition."""
    headings = {}
    for path in EDITIONS:
        for cell in hygiene.setup_headings(nbformat.read(path, as_version=4), english_of(path)):
            headings.setdefault(cell.source.strip().splitlines()[0], []).append(path.stem)
    assert len(headings) <= 1, f"the Setup heading is translated differently: {headings}"


def test_template_problems_are_detected():
    seed = nbformat.v4.new_code_cell("seed_everything(0)")
    good = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title\n\nOverview."), nbformat.v4.new_markdown_cell("## Setup"),
        seed, nbformat.v4.new_markdown_cell("## Part 1")])
    assert hygiene.template_problems(good) == []
    zh = nbformat.reads(nbformat.writes(good), as_version=4)
    zh.cells[0].source, zh.cells[1].source, zh.cells[3].source = "# 标题\n\n概览。", "## 环境准备", "## 第一部分"
    assert hygiene.template_problems(zh) == ["exactly one '## Setup' section (found 0)"]
    assert hygiene.template_problems(zh, english=good) == []
    zh.cells[1].source = "环境准备"
    assert hygiene.template_problems(zh, english=good) == [
        "the Setup heading must be a level-2 heading ('## ...'); found '环境准备'"]
    zh.cells[1].source, zh.cells[3].source = "## 环境准备", "## 环境准备"
    assert hygiene.template_problems(zh, english=good) == ["the Setup heading '## 环境准备' appears more than once"]
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_markdown_cell("Title")])
    assert hygiene.template_problems(bad) == [
        "the first cell must be a '# Title' markdown cell",
        "an overview (markdown) must come before the first code cell",
        "exactly one '## Setup' section (found 0)",
        "the first code cell (Setup) must call seed_everything(",
    ]


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


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_with_an_exercise_has_solutions(path):
    """An instructor finds each exercise solved in notebooks/solutions/ (a notebook, or a script
    for the exercises that write code)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    has_exercise = any(c.cell_type == "code" and "labkit.teaching.exercises" in c.source
                       for c in nb.cells)
    solutions = ROOT / "notebooks" / "solutions"
    found = [solutions / f"{path.stem}_solutions.ipynb", solutions / f"{path.stem}.py"]
    if has_exercise:
        assert any(f.exists() for f in found), f"{path.name}: no {found[0].name} or {found[1].name}"


def test_every_notebook_named_in_labkit_exists():
    """labkit's docstrings name the notebook that introduces each helper; those must exist."""
    import re

    named = {}
    for source in (ROOT / "labkit").rglob("*.py"):
        for name in re.findall(r"notebooks/([\w.-]+\.ipynb)", source.read_text()):
            if not name.startswith("NN_"):  # a placeholder (notebooks/NN_name.ipynb), not a name
                named.setdefault(name, []).append(str(source.relative_to(ROOT)))
    assert named, "no notebook named in labkit at all"
    missing = {n: files for n, files in named.items() if not (ROOT / "notebooks" / n).exists()}
    assert not missing, f"labkit names notebooks that do not exist: {missing}"

"""Notebook hygiene: strip outputs except cells kept on purpose for nbval.

Introduced in notebooks/00_start_here.ipynb ("How this lab is tested"). Built on nbformat
and nbstripout, not hand-written JSON surgery.

The mechanism: a code cell whose output is checked by nbval carries nbval's own cell tag
``nbval-check-output`` (cell metadata, invisible to the learner; with ``--nbval-lax`` only such
cells are compared). Checked cells keep their outputs and their execution count (nbval needs
it). Every other cell is committed with no outputs and no execution count, and no notebook
carries widget state. ``python -m labkit.tooling.notebook_hygiene clean notebooks`` (``make
notebooks-clean``) normalises files; ``check`` lists what violates the rule.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbstripout import strip_output

CHECK_TAG = "nbval-check-output"
OLD_MARK = "# NBVAL_CHECK_OUTPUT"  # the comment earlier versions showed to learners

# nbstripout's default metadata keys to drop (what `nbstripout` on the command line drops).
EXTRA_KEYS = [
    "metadata.signature",
    "metadata.widgets",
    "cell.metadata.collapsed",
    "cell.metadata.ExecuteTime",
    "cell.metadata.execution",
    "cell.metadata.heading_collapsed",
    "cell.metadata.hidden",
    "cell.metadata.scrolled",
]


def notebook_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into a sorted list of ``.ipynb`` files (checkpoints excluded)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        elif p.suffix == ".ipynb" and p.exists():
            found.append(p)
        else:
            raise FileNotFoundError(f"`paths` must name notebooks or folders. Received: {str(p)!r}")
    return sorted(set(found))


def is_checked_cell(cell) -> bool:
    """True for a code cell deliberately kept for nbval output checking."""
    return cell.get("cell_type") == "code" and CHECK_TAG in cell.get("metadata", {}).get("tags", [])


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Strip outputs/counts/widget state, keeping outputs of checked cells (no counts either)."""
    checked = {i: (cell.get("execution_count"), cell.get("outputs", []))
               for i, cell in enumerate(nb.cells) if is_checked_cell(cell)}
    nb = strip_output(nb, keep_output=False, keep_count=False, keep_id=True, extra_keys=EXTRA_KEYS)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("keep_output", None)
        if i in checked:
            cell.outputs = checked[i][1]
        # nbval refuses a reference cell with outputs but no execution count ("Unrun reference
        # cell"), so checked cells keep theirs; every other cell has none.
        cell.execution_count = (checked[i][0] or 1) if i in checked else None
        for out in cell.get("outputs", []):
            if "execution_count" in out:
                out["execution_count"] = cell.execution_count
    return nb


def problems(nb: nbformat.NotebookNode) -> list[str]:
    """What in this notebook breaks the hygiene rule (empty list when clean)."""
    found = []
    if "widgets" in nb.metadata:
        found.append("notebook metadata holds widget state")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("execution_count") is not None and not is_checked_cell(cell):
            found.append(f"cell {i} has an execution count")
        if OLD_MARK in cell.source:
            found.append(f"cell {i} shows '{OLD_MARK}' to learners; use the cell tag '{CHECK_TAG}'")
        if "keep_output" in cell.get("metadata", {}):
            found.append(f"cell {i}: keep_output metadata is no longer used; use the cell tag '{CHECK_TAG}'")
        if cell.get("outputs") and not is_checked_cell(cell):
            found.append(f"cell {i} has outputs but is not a checked cell")
        if is_checked_cell(cell) and cell.get("outputs") and cell.get("execution_count") is None:
            found.append(f"cell {i} is checked but has no execution count (nbval needs one)")
    return found


SETUP_HEADING = "## Setup"


def setup_headings(nb: nbformat.NotebookNode, english: nbformat.NotebookNode | None = None) -> list:
    """The markdown cells that open the Setup section.

    In an English lesson: those starting ``## Setup``. In a generated edition (``english`` is
    the lesson it was generated from, e.g. notebooks/zh_CN/NN_x.ipynb from notebooks/NN_x.ipynb):
    the cells with the ids of the English ones, whatever their translated text.
    """
    if english is None:
        return [c for c in nb.cells if c.cell_type == "markdown" and c.source.strip().startswith(SETUP_HEADING)]
    ids = {c.get("id") for c in setup_headings(english)}
    return [c for c in nb.cells if c.cell_type == "markdown" and c.get("id") in ids]


def template_problems(nb: nbformat.NotebookNode, english: nbformat.NotebookNode | None = None) -> list[str]:
    """What breaks the lesson template: a ``# Title`` first, an overview before any code,
    exactly one Setup heading (level 2; ``## Setup`` in English, its translation in an edition,
    see :func:`setup_headings`), and a first code cell that seeds."""
    found = []
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "markdown" or not first.source.startswith("# "):
        found.append("the first cell must be a '# Title' markdown cell")
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if not code:
        return found + ["no code cell"]
    if not any(c.cell_type == "markdown" for c in nb.cells[1:code[0]]):
        found.append("an overview (markdown) must come before the first code cell")
    heads = setup_headings(nb, english)
    if len(heads) != 1:
        found.append(f"exactly one '{SETUP_HEADING}' section (found {len(heads)})")
    else:
        line = heads[0].source.strip().splitlines()[0]
        if not line.startswith("## ") or not line[3:].strip():
            found.append(f"the Setup heading must be a level-2 heading ('## ...'); found {line!r}")
        elif sum(c.cell_type == "markdown" and c.source.strip().splitlines()[:1] == [line]
                 for c in nb.cells) != 1:
            found.append(f"the Setup heading {line!r} appears more than once")
    if "seed_everything(" not in nb.cells[code[0]].source:
        found.append("the first code cell (Setup) must call seed_everything(")
    return found


def clean(paths: Iterable[str | Path]) -> list[Path]:
    """Normalise notebooks in place; return the files that changed."""
    changed = []
    for path in notebook_paths(paths):
        before = path.read_text(encoding="utf-8")
        nb = clean_notebook(nbformat.reads(before, as_version=4))
        after = nbformat.writes(nb) + "\n"
        if after != before:
            path.write_text(after, encoding="utf-8")
            changed.append(path)
    return changed


def check(paths: Iterable[str | Path]) -> dict[Path, list[str]]:
    """Return {notebook: problems} for notebooks that are not clean."""
    report = {}
    for path in notebook_paths(paths):
        found = problems(nbformat.read(path, as_version=4))
        if found:
            report[path] = found
    return report


def refresh(paths: Iterable[str | Path], timeout: int = 300) -> list[Path]:
    """Execute notebooks top to bottom (nbclient, cwd = the notebook's folder), then clean them.

    This is how the outputs of checked (``nbval-check-output``) cells are produced: by running the
    notebook, never by typing them.
    """
    from nbclient import NotebookClient

    done = []
    for path in notebook_paths(paths):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        path.write_text(nbformat.writes(clean_notebook(nb)) + "\n", encoding="utf-8")
        done.append(path)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.tooling.notebook_hygiene", description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=["clean", "check", "refresh"])
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    if args.action == "clean":
        for path in clean(args.paths):
            print(f"cleaned {path}")
        return 0
    if args.action == "refresh":
        for path in refresh(args.paths):
            print(f"executed and cleaned {path}")
        return 0
    report = check(args.paths)
    for path, found in report.items():
        for item in found:
            print(f"{path}: {item}")
    return 1 if report else 0


if __name__ == "__main__":
    sys.exit(main())

"""The Chinese edition of the lessons, kept in step with the English through gettext catalogs.

Each English lesson ``notebooks/NN_name.ipynb`` has one catalog
``locale/zh_CN/notebooks/NN_name.po``: every markdown cell's text is one msgid (the whole
cell, so a changed English cell is a new msgid and its old translation is kept as an
obsolete entry, ``#~``, for the translator to revise). ``notebooks/zh_CN/NN_name.ipynb`` is
*generated* from the English notebook and the catalog: markdown cells translated, code cells
(source, tags and checked outputs) copied unchanged, except the exercise feedback in checked
outputs, which a kernel running a zh_CN notebook prints in Chinese (labkit.i18n) and which is
therefore translated through labkit's own catalog (:func:`localized_outputs`). Nobody edits a
zh_CN notebook by hand.

    python -m labkit.tooling.translations update     # English changed: refresh the catalogs
    python -m labkit.tooling.translations generate   # write notebooks/zh_CN/*.ipynb
    python -m labkit.tooling.translations check      # what is missing, fuzzy or out of date

Each command takes ``--lesson NAME`` (repeatable; ``05``, ``05_digits_comparison`` or the file
name) to work on some lessons only.

(``make translations`` runs update and generate.) tests/tooling/test_translations.py fails
when a translation is missing or fuzzy, a zh_CN notebook differs from what ``generate``
makes, or a code cell differs from the English one. Terms: locale/zh_CN/glossary.md.
"""

from __future__ import annotations

import argparse
import copy
import html
import re
import sys
from pathlib import Path

import nbformat
import polib

from labkit.tooling.catalogs import merge_entries
from labkit.tooling.message_catalog import localize_output
from labkit.tooling.paths import repo_root as lab_root

LANGUAGE = "zh_CN"
REQUIRED_HEADER = ("Project-Id-Version", "Language", "MIME-Version", "Content-Type",
                   "Content-Transfer-Encoding")


def lessons(root: Path | None = None) -> list[Path]:
    """The English lessons that have a Chinese edition: ``notebooks/NN_*.ipynb``."""
    root = root or lab_root()
    return sorted((root / "notebooks").glob("[0-9][0-9]*_*.ipynb"))


def catalog_path(lesson: Path, root: Path | None = None) -> Path:
    root = root or lab_root()
    return root / "locale" / LANGUAGE / "notebooks" / f"{lesson.stem}.po"


def translated_path(lesson: Path, root: Path | None = None) -> Path:
    root = root or lab_root()
    return root / "notebooks" / LANGUAGE / lesson.name


def messages(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """``(cell id, text)`` of every non-empty markdown cell, in order."""
    return [(c.get("id", str(i)), c.source) for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown" and c.source.strip()]


def update_catalog(lesson: Path, root: Path | None = None) -> polib.POFile:
    """Bring the lesson's catalog in step with its markdown cells and save it.

    New cells become untranslated entries; entries whose English is gone become obsolete
    (kept in the file with their translation); translations of unchanged cells are kept.
    """
    root = root or lab_root()
    path = catalog_path(lesson, root)
    po = polib.pofile(str(path)) if path.exists() else polib.POFile(wrapwidth=0)
    po.wrapwidth = 0
    # the fields this module needs, then any the translators added (Last-Translator, ...)
    po.metadata = {
        "Project-Id-Version": "TF Training Lab",
        "Language": LANGUAGE,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        **{k: v for k, v in po.metadata.items() if k not in REQUIRED_HEADER},
    }
    nb = nbformat.read(lesson, as_version=4)
    wanted: dict[str, list[str]] = {}
    for cell_id, text in messages(nb):
        wanted.setdefault(text, []).append(cell_id)
    merge_entries(po, {text: [(f"notebooks/{lesson.name}", f"cell-{i}") for i in ids]
                       for text, ids in wanted.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    return po


def problems(lesson: Path, root: Path | None = None) -> list[str]:
    """What keeps the lesson's Chinese edition from being complete and current."""
    root = root or lab_root()
    path = catalog_path(lesson, root)
    if not path.exists():
        return [f"{lesson.name}: no catalog {path.relative_to(root)} (run `make translations`)"]
    po = polib.pofile(str(path))
    live = {e.msgid: e for e in po if not e.obsolete}
    found = []
    for cell_id, text in messages(nbformat.read(lesson, as_version=4)):
        entry = live.get(text)
        first_line = text.strip().splitlines()[0][:60]
        if entry is None:
            found.append(f"{lesson.name} cell {cell_id}: English text not in the catalog "
                         f"(changed? run `make translations`): {first_line!r}")
        elif "fuzzy" in entry.flags:
            found.append(f"{lesson.name} cell {cell_id}: translation marked fuzzy: {first_line!r}")
        elif not entry.msgstr.strip():
            found.append(f"{lesson.name} cell {cell_id}: not translated: {first_line!r}")
    return found


# Feedback._repr_html_ (labkit/teaching/exercises/feedback.py): the coloured box of a check
_FEEDBACK_HTML = re.compile(r'(?P<open><div style="[^"]*"><b>)(?P<word>Correct:|Not yet:)</b> '
                            r"(?P<message>.*)(?P<close></div>)", re.DOTALL)


def _localized_feedback_html(text: str) -> str:
    match = _FEEDBACK_HTML.fullmatch(text)
    if not match:
        return text
    head = localize_output(match["word"] + " ")
    line = localize_output(f"{match['word']} {html.unescape(match['message'])}")
    if not line.startswith(head):
        return text
    return (f"{match['open']}{head.rstrip()}</b> {html.escape(line[len(head):])}{match['close']}")


def localized_outputs(outputs: list) -> list:
    """A code cell's (checked) outputs as the zh_CN kernel prints them: exercise feedback
    (``Correct: ...`` / ``Not yet: ...``, text and its HTML box) in Chinese, through labkit's
    message catalog (:func:`labkit.tooling.message_catalog.localize_output`); everything else,
    the learner code's own prints included, unchanged."""
    outputs = copy.deepcopy(outputs)
    for out in outputs:
        if out.get("output_type") == "stream":
            out["text"] = localize_output(out.get("text", ""))
        data = out.get("data", {})
        if "text/plain" in data:
            data["text/plain"] = localize_output(data["text/plain"])
        if "text/html" in data:
            data["text/html"] = _localized_feedback_html(data["text/html"])
    return outputs


def translate(lesson: Path, root: Path | None = None) -> nbformat.NotebookNode:
    """The zh_CN notebook: the English one with its markdown cells translated.

    Raises ValueError naming every cell whose translation is missing or fuzzy.
    """
    root = root or lab_root()
    missing = problems(lesson, root)
    if missing:
        raise ValueError("cannot generate the zh_CN edition of " + lesson.name + ":\n  "
                         + "\n  ".join(missing))
    live = {e.msgid: e.msgstr for e in polib.pofile(str(catalog_path(lesson, root)))
            if not e.obsolete}
    nb = copy.deepcopy(nbformat.read(lesson, as_version=4))
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.strip():
            cell.source = live[cell.source]
        elif cell.cell_type == "code":
            cell.outputs = localized_outputs(cell.get("outputs", []))
    nb.metadata["language"] = LANGUAGE  # read by labkit.i18n (exercise feedback language)
    return nb


def generated_text(lesson: Path, root: Path | None = None) -> str:
    """The exact file content of the lesson's zh_CN notebook (raises like :func:`translate`)."""
    return nbformat.writes(translate(lesson, root)) + "\n"


def select(names: list[str] | None, root: Path | None = None) -> list[Path]:
    """The lessons named (``05``, ``05_digits_comparison`` or ``05_digits_comparison.ipynb``),
    or all of them; ValueError naming an unknown or ambiguous name."""
    every = lessons(root)
    if not names:
        return every
    chosen = []
    for name in names:
        stem = name[:-len(".ipynb")] if name.endswith(".ipynb") else name
        stem = Path(stem).name
        found = [p for p in every if p.stem == stem] or [p for p in every if p.stem.startswith(stem)]
        if len(found) != 1:
            raise ValueError(f"`--lesson` must name one lesson of {', '.join(p.stem for p in every)}. "
                             f"Received: {name!r}" + (" (ambiguous)" if found else ""))
        if found[0] not in chosen:
            chosen.append(found[0])
    return chosen


def stale(lesson: Path, root: Path | None = None) -> list[str]:
    """Whether the committed zh_CN notebook is what :func:`generate` writes now (assumes the
    catalog is complete: see :func:`problems`)."""
    root = root or lab_root()
    out = translated_path(lesson, root)
    rel = out.relative_to(root)
    if not out.exists():
        return [f"{lesson.name}: {rel} is missing (run `make translations`)"]
    if out.read_text(encoding="utf-8") != generated_text(lesson, root):
        return [f"{lesson.name}: {rel} is not what the catalog and the English lesson generate "
                "(run `make translations`; never edit a zh_CN notebook by hand)"]
    return []


def orphans(root: Path | None = None) -> list[Path]:
    """zh_CN notebooks whose English lesson is gone (renamed or deleted)."""
    root = root or lab_root()
    english = {p.name for p in lessons(root)}
    return sorted(p for p in (root / "notebooks" / LANGUAGE).glob("*.ipynb") if p.name not in english)


def generate(root: Path | None = None, only: list[Path] | None = None) -> list[Path]:
    """Write ``notebooks/zh_CN/*.ipynb`` (every lesson, or those in ``only``); return the paths
    written. A lesson whose catalog is incomplete raises ValueError after the others are written."""
    root = root or lab_root()
    written, refused = [], []
    for lesson in (only if only is not None else lessons(root)):
        out = translated_path(lesson, root)
        try:
            text = generated_text(lesson, root)
        except ValueError as err:
            refused.append(str(err))
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.exists() or out.read_text(encoding="utf-8") != text:
            out.write_text(text, encoding="utf-8")
            written.append(out)
    if refused:
        raise ValueError("\n".join(refused))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.tooling.translations",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("command", choices=["update", "generate", "check"])
    parser.add_argument("--lesson", action="append", metavar="NAME",
                        help="only this lesson (05, 05_digits_comparison, ...); repeatable")
    args = parser.parse_args(argv)
    root = lab_root()
    try:
        chosen = select(args.lesson, root)
    except ValueError as err:
        parser.error(str(err))
    if args.command == "update":
        for lesson in chosen:
            po = update_catalog(lesson, root)
            print(f"{catalog_path(lesson, root).relative_to(root)}: "
                  f"{po.percent_translated()}% translated, {len(po.untranslated_entries())} untranslated, "
                  f"{len(po.fuzzy_entries())} fuzzy, {len(po.obsolete_entries())} obsolete")
        return 0
    if args.command == "generate":
        try:
            written = generate(root, chosen)
        except ValueError as err:
            print(err, file=sys.stderr)
            return 1
        for path in written:
            print(f"wrote {path.relative_to(root)}")
        return 0
    found = []
    for lesson in chosen:
        missing = problems(lesson, root)
        found += missing or stale(lesson, root)
    if not args.lesson:
        found += [f"{p.relative_to(root)}: no English lesson notebooks/{p.name} (remove it)"
                  for p in orphans(root)]
    print("\n".join(found) if found else f"{len(chosen)} lesson(s): the zh_CN edition is complete and current")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

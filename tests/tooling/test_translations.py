"""The Chinese edition (labkit.tooling.translations): complete, generated, code unchanged.

For every English lesson ``notebooks/NN_name.ipynb``: its catalog
``locale/zh_CN/notebooks/NN_name.po`` has no untranslated or fuzzy entry, the committed
``notebooks/zh_CN/NN_name.ipynb`` is exactly what ``translate()`` generates, and every code
cell (source, tags, outputs) is the English one. Then the module's own behaviour, on a tiny
synthetic lesson in a temporary lab folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import polib
import pytest

from labkit.tooling import translations as tr

ROOT = Path(__file__).resolve().parents[2]
LESSONS = tr.lessons(ROOT)
ZH = ROOT / "notebooks" / tr.LANGUAGE


def test_every_lesson_has_a_catalog():
    assert len(LESSONS) >= 13 and LESSONS[0].name == "00_start_here.ipynb"
    missing = [lesson.name for lesson in LESSONS if not tr.catalog_path(lesson, ROOT).exists()]
    assert not missing, f"lessons without a catalog (run `make translations`): {missing}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_catalog_complete(lesson):
    """No markdown cell without a current, non-fuzzy translation."""
    found = tr.problems(lesson, ROOT)
    assert not found, f"{len(found)} markdown cell(s) of {lesson.name} lack a translation:\n" + "\n".join(found)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_generated_notebook_is_current(lesson):
    """notebooks/zh_CN/<lesson> is exactly what the English lesson and its catalog generate."""
    out = tr.translated_path(lesson, ROOT)
    assert out.exists(), f"{out.relative_to(ROOT)} is missing (run `make translations`)"
    assert out.read_text(encoding="utf-8") == tr.generated_text(lesson, ROOT), (
        f"{out.relative_to(ROOT)} differs from what `make translations` generates "
        "(never edit a zh_CN notebook by hand)")


def code_cells(nb: nbformat.NotebookNode) -> list[dict]:
    return [{"id": c.get("id"), "source": c.source, "tags": c.metadata.get("tags", []),
             "metadata": dict(c.metadata), "outputs": c.get("outputs", []),
             "execution_count": c.get("execution_count")}
            for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_code_cells_are_the_english_ones(lesson):
    """Same cells in the same order; every code cell (source, tags, metadata) unchanged, and its
    checked outputs the English ones with only the exercise feedback in Chinese (what the
    kernel of a zh_CN notebook prints: labkit.i18n follows the notebook's folder)."""
    out = tr.translated_path(lesson, ROOT)
    assert out.exists(), f"{out.relative_to(ROOT)} is missing (run `make translations`)"
    english, chinese = nbformat.read(lesson, as_version=4), nbformat.read(out, as_version=4)
    assert [(c.cell_type, c.get("id")) for c in chinese.cells] == [
        (c.cell_type, c.get("id")) for c in english.cells], "cells differ in kind, id or order"
    for en, zh in zip(code_cells(english), code_cells(chinese), strict=True):
        en_outputs, zh_outputs = en.pop("outputs"), zh.pop("outputs")
        assert zh == en, f"{out.name} code cell {en['id']} differs from the English one"
        assert zh_outputs == tr.localized_outputs(en_outputs), (
            f"{out.name} code cell {en['id']}: outputs differ from the English ones beyond the feedback")
    assert chinese.metadata.get("language") == tr.LANGUAGE


def test_no_chinese_notebook_without_an_english_lesson():
    assert tr.orphans(ROOT) == []


def test_chinese_notebooks_run_under_nbval_like_the_english_ones():
    """`make test` (pytest's testpaths) collects notebooks/ recursively with --nbval-lax, so
    notebooks/zh_CN/*.ipynb run and their checked cells are compared, as notebooks/solutions/."""
    import fnmatch

    import tomllib

    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "notebooks" in options["testpaths"] and "--nbval-lax" in options["addopts"]
    excluded = options.get("norecursedirs", [])
    assert not any(fnmatch.fnmatch(tr.LANGUAGE, pattern) for pattern in excluded), excluded


def test_localized_outputs_translate_only_feedback():
    """Feedback lines and boxes become what the checkers print in Chinese; nothing else changes."""
    from labkit import i18n
    from labkit.teaching.exercises.feedback import hint, passed

    right = passed("3 parameters.")  # a message that is surely not in the catalog stays English
    english_html = right._repr_html_()
    outputs = [
        nbformat.v4.new_output("stream", text="loss: 0.5\nCorrect: 3 parameters.\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": str(right), "text/html": english_html},
                               execution_count=1),
        nbformat.v4.new_output("display_data", data={"text/html": "<b>Correct:</b> not a feedback box"}),
    ]
    before = json.dumps(outputs)
    zh = tr.localized_outputs(outputs)
    assert json.dumps(outputs) == before, "the English outputs are not changed in place"
    i18n.set_language("zh_CN")
    try:
        assert zh[0]["text"] == "loss: 0.5\n" + str(right) + "\n"
        assert zh[1]["data"] == {"text/plain": str(right), "text/html": right._repr_html_()}
        assert str(right).startswith("正确") and not str(hint("x")).startswith("Not yet")
    finally:
        i18n.set_language(None)
    assert zh[2] == outputs[2]


# --- the module itself, on a synthetic lesson -------------------------------------------------

def md(cell_id: str, text: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text)
    cell.id = cell_id
    return cell


def code(cell_id: str, text: str, output: str | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(text)
    cell.id = cell_id
    if output is not None:
        cell.metadata["tags"] = ["nbval-check-output"]
        cell.outputs = [nbformat.v4.new_output("stream", text=output)]
        cell.execution_count = 1
    return cell


TITLE = "# Tiny lesson\n\nAn overview."
SETUP = "## Setup"
BODY = "Adam keeps two slots per variable.\nSecond line."
ZH_TEXT = {TITLE: "# 小课\n\n概览。", SETUP: "## 准备", BODY: "Adam 为每个变量保留两个槽。\n第二行。"}


@pytest.fixture
def lab(tmp_path, monkeypatch) -> Path:
    """A lab folder with one English lesson (LABKIT_ROOT points at it, for the CLI)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [md("title", TITLE), md("setup", SETUP), code("seed", "seed_everything(0)"),
                md("body", BODY), md("blank", "  \n"), code("check", "print(round(0.5, 1))", "0.5\n")]
    path = tmp_path / "notebooks" / "01_tiny.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    monkeypatch.setenv("LABKIT_ROOT", str(tmp_path))
    return tmp_path


def lesson_of(lab: Path) -> Path:
    return lab / "notebooks" / "01_tiny.ipynb"


def fill(lab: Path, texts: dict[str, str] = ZH_TEXT) -> None:
    path = tr.catalog_path(lesson_of(lab), lab)
    po = polib.pofile(str(path))
    for entry in po:
        if entry.msgid in texts and not entry.obsolete:
            entry.msgstr = texts[entry.msgid]
    po.save(str(path))


def edit_english(lab: Path, cell_id: str, text: str) -> None:
    path = lesson_of(lab)
    nb = nbformat.read(path, as_version=4)
    next(c for c in nb.cells if c.get("id") == cell_id).source = text
    nbformat.write(nb, path)


def test_new_cells_are_untranslated_entries(lab):
    lesson = lesson_of(lab)
    assert tr.lessons(lab) == [lesson]
    po = tr.update_catalog(lesson, lab)
    assert [e.msgid for e in po] == [TITLE, SETUP, BODY], "one entry per non-empty markdown cell"
    assert len(po.untranslated_entries()) == 3
    assert po.find(BODY).occurrences == [("notebooks/01_tiny.ipynb", "cell-body")]
    found = tr.problems(lesson, lab)
    assert found == [
        "01_tiny.ipynb cell title: not translated: '# Tiny lesson'",
        "01_tiny.ipynb cell setup: not translated: '## Setup'",
        "01_tiny.ipynb cell body: not translated: 'Adam keeps two slots per variable.'",
    ]


def test_translate_replaces_markdown_and_copies_code(lab):
    lesson = lesson_of(lab)
    tr.update_catalog(lesson, lab)
    fill(lab)
    assert tr.problems(lesson, lab) == []
    english, chinese = nbformat.read(lesson, as_version=4), tr.translate(lesson, lab)
    assert [c.source for c in chinese.cells] == [
        ZH_TEXT[TITLE], ZH_TEXT[SETUP], "seed_everything(0)", ZH_TEXT[BODY], "  \n", "print(round(0.5, 1))"]
    assert code_cells(chinese) == code_cells(english)
    assert [c.id for c in chinese.cells] == [c.id for c in english.cells]
    assert chinese.metadata["language"] == "zh_CN" and "language" not in english.metadata
    assert tr.generate(lab) == [lab / "notebooks" / "zh_CN" / "01_tiny.ipynb"]
    assert tr.generate(lab) == [], "nothing rewritten when nothing changed"
    assert tr.stale(lesson, lab) == []


def test_changed_cell_keeps_old_translation_as_obsolete(lab):
    lesson = lesson_of(lab)
    tr.update_catalog(lesson, lab)
    fill(lab)
    tr.generate(lab)
    changed = BODY.replace("two slots", "two slots (m and v)")
    edit_english(lab, "body", changed)
    po = tr.update_catalog(lesson, lab)
    old = po.find(BODY, include_obsolete_entries=True)
    assert old.obsolete and old.msgstr == ZH_TEXT[BODY], "the old translation is kept for the translator"
    new = po.find(changed)
    assert new is not None and not new.obsolete and new.msgstr == ""
    assert tr.problems(lesson, lab) == [
        "01_tiny.ipynb cell body: not translated: 'Adam keeps two slots (m and v) per variable.'"]
    with pytest.raises(ValueError, match="cell body"):
        tr.translate(lesson, lab)
    # the English goes back: the obsolete translation comes back to life, nothing lost
    edit_english(lab, "body", BODY)
    po = tr.update_catalog(lesson, lab)
    assert po.find(BODY).msgstr == ZH_TEXT[BODY] and not po.find(BODY).obsolete
    assert po.find(changed, include_obsolete_entries=True) is None, "an untranslated entry is dropped"
    assert tr.problems(lesson, lab) == []


def test_english_text_not_in_the_catalog_is_named(lab):
    lesson = lesson_of(lab)
    tr.update_catalog(lesson, lab)
    fill(lab)
    edit_english(lab, "setup", "## Setup\n\nImports.")  # changed, catalog not updated
    assert tr.problems(lesson, lab) == [
        "01_tiny.ipynb cell setup: English text not in the catalog (changed? run `make translations`): '## Setup'"]


def test_fuzzy_translation_is_refused(lab):
    lesson = lesson_of(lab)
    tr.update_catalog(lesson, lab)
    fill(lab)
    path = tr.catalog_path(lesson, lab)
    po = polib.pofile(str(path))
    po.find(BODY).flags.append("fuzzy")
    po.save(str(path))
    assert tr.problems(lesson, lab) == [
        "01_tiny.ipynb cell body: translation marked fuzzy: 'Adam keeps two slots per variable.'"]
    with pytest.raises(ValueError, match=r"01_tiny\.ipynb cell body: translation marked fuzzy"):
        tr.translate(lesson, lab)
    with pytest.raises(ValueError, match="cell body"):
        tr.generate(lab)
    assert not (lab / "notebooks" / "zh_CN" / "01_tiny.ipynb").exists()
    assert tr.update_catalog(lesson, lab).find(BODY).fuzzy, "update keeps the fuzzy flag"


def test_missing_catalog_is_named(lab):
    assert tr.problems(lesson_of(lab), lab) == [
        "01_tiny.ipynb: no catalog locale/zh_CN/notebooks/01_tiny.po (run `make translations`)"]


def test_update_keeps_translators_header_fields(lab):
    lesson = lesson_of(lab)
    tr.update_catalog(lesson, lab)
    path = tr.catalog_path(lesson, lab)
    po = polib.pofile(str(path))
    po.metadata["Last-Translator"] = "A Translator <a@example.org>"
    po.metadata["Language"] = "fr"  # a required field is put back
    po.save(str(path))
    po = tr.update_catalog(lesson, lab)
    assert po.metadata["Last-Translator"] == "A Translator <a@example.org>"
    assert po.metadata["Language"] == "zh_CN"


def test_hand_edited_or_missing_chinese_notebook_is_stale(lab):
    lesson = lesson_of(lab)
    tr.update_catalog(lesson, lab)
    fill(lab)
    assert "is missing" in tr.stale(lesson, lab)[0]
    (out,) = tr.generate(lab)
    data = json.loads(out.read_text(encoding="utf-8"))
    data["cells"][2]["source"] = "seed_everything(1)"
    out.write_text(json.dumps(data), encoding="utf-8")
    assert "is not what the catalog and the English lesson generate" in tr.stale(lesson, lab)[0]
    orphan = lab / "notebooks" / "zh_CN" / "02_gone.ipynb"
    orphan.write_text("{}")
    assert tr.orphans(lab) == [orphan]


def test_select_lessons(lab):
    lesson = lesson_of(lab)
    assert tr.select(None, lab) == [lesson]
    assert tr.select(["01"], lab) == tr.select(["01_tiny"], lab) == tr.select(["01_tiny.ipynb"], lab) == [lesson]
    with pytest.raises(ValueError, match="Received: '02'"):
        tr.select(["02"], lab)


def test_cli(lab, capsys):
    assert tr.main(["update", "--lesson", "01"]) == 0
    assert "0% translated, 3 untranslated" in capsys.readouterr().out
    assert tr.main(["check"]) == 1
    assert "cell body: not translated" in capsys.readouterr().out
    assert tr.main(["generate"]) == 1
    assert "cell body: not translated" in capsys.readouterr().err
    fill(lab)
    assert tr.main(["generate", "--lesson", "01_tiny"]) == 0
    assert "wrote notebooks/zh_CN/01_tiny.ipynb" in capsys.readouterr().out
    assert tr.main(["check"]) == 0
    with pytest.raises(SystemExit):
        tr.main(["update", "--lesson", "99"])

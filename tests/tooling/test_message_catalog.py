"""labkit's message catalog (labkit/locale/zh_CN/LC_MESSAGES/labkit.po) is complete and current.

Fails when a ``_("...")`` in the source is not in the catalog (run
``python -m labkit.tooling.message_catalog update``), when an entry is untranslated or fuzzy,
when a translation loses or changes a ``{placeholder}``, or when the committed ``labkit.mo`` is
not the compiled ``.po``.
"""

from __future__ import annotations

import re
import textwrap

import polib
import pytest

from labkit.tooling import message_catalog as mc

PO = polib.pofile(str(mc.catalog_path()))
LIVE = {e.msgid: e for e in PO if not e.obsolete}
SOURCE = mc.extract()


def test_the_source_has_messages_in_every_routed_module():
    files = {f for fs in SOURCE.values() for f in fs}
    for module in ("labkit/teaching/exercises/start.py", "labkit/teaching/exercises/capstone.py",
                   "labkit/teaching/exercises/feedback.py", "labkit/teaching/widgets.py",
                   "labkit/teaching/playground.py", "labkit/tooling/doctor.py"):
        assert module in files
    assert len(SOURCE) > 300


def test_check_reports_nothing():
    assert mc.problems() == []


@pytest.mark.parametrize("msgid", sorted(SOURCE), ids=lambda m: m[:40])
def test_every_source_message_is_translated(msgid):
    entry = LIVE.get(msgid)
    assert entry is not None, f"not in the catalog (stale: run update): {msgid!r}"
    assert "fuzzy" not in entry.flags, f"fuzzy: {msgid!r}"
    assert entry.msgstr.strip(), f"untranslated: {msgid!r}"


@pytest.mark.parametrize("entry", [e for e in PO if not e.obsolete], ids=lambda e: e.msgid[:40])
def test_translations_keep_placeholders_and_code(entry):
    assert mc.placeholders(entry.msgstr) == mc.placeholders(entry.msgid)
    # code in backticks is typed by the learner: it stays verbatim
    assert sorted(re.findall(r"`[^`]+`", entry.msgstr)) == sorted(re.findall(r"`[^`]+`", entry.msgid))
    assert entry.msgid in SOURCE, "an entry no longer in the source must be obsolete"


def test_the_committed_mo_is_the_compiled_po():
    assert mc.mo_path().read_bytes() == mc.compile_mo(polib.pofile(str(mc.catalog_path())))


def test_update_marks_new_untranslated_and_gone_obsolete(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    locale = tmp_path / "locale"
    (package / "a.py").write_text(textwrap.dedent('''
        from labkit.i18n import N_, _
        TABLE = {"x": N_("a table entry")}
        def f(n):
            return _("kept {n}").format(n=n) + _("goes away")
    '''))
    po = mc.update(package, locale)
    assert sorted(e.msgid for e in po.untranslated_entries()) == ["a table entry", "goes away", "kept {n}"]
    assert "python-brace-format" in po.find("kept {n}").flags
    for e in po:
        e.msgstr = "译文 {n}" if "{n}" in e.msgid else "译文"
    po.save(str(mc.catalog_path(locale)))
    (package / "a.py").write_text('from labkit.i18n import _\nx = _("kept {n}")\ny = _("new one")\n')
    po = mc.update(package, locale)
    assert po.find("kept {n}").msgstr == "译文 {n}"
    assert [e.msgid for e in po.untranslated_entries()] == ["new one"]
    assert sorted(e.msgid for e in po.obsolete_entries()) == ["a table entry", "goes away"]
    assert any("not translated: 'new one'" in p for p in mc.problems(package, locale))
    assert mc.mo_path(locale).read_bytes() == mc.compile_mo(po)


def test_an_f_string_msgid_is_refused(tmp_path):
    (tmp_path / "b.py").write_text('from labkit.i18n import _\nn = 1\nx = _(f"{n} things")\n')
    with pytest.raises(ValueError, match=r"b\.py, line 3: an f-string"):
        mc.extract(tmp_path)


@pytest.mark.parametrize("text, fields", [
    ("plain", []),
    ("{a} and {b:.3f} and {c!r}", ["{a}", "{b:.3f}", "{c!r}"]),
    ("a dict {{step: rate}} for {steps}", ["{steps}"]),
])
def test_placeholders(text, fields):
    assert mc.placeholders(text) == sorted(fields)


# --- localize_output: English feedback in a checked output, as a zh_CN kernel prints it ---

def _digits_split():
    import numpy as np

    def part(start, n):
        return np.arange(start * 64, (start + n) * 64, dtype=np.float32).reshape(n, 64), np.arange(n) % 10

    return (*part(0, 30), *part(30, 10), *part(40, 20))


def _cases():
    import numpy as np

    from labkit.data import Split
    from labkit.teaching.exercises import capstone, distribute, minimize, optimizers, start

    digits = Split(np.zeros((6, 2)), np.array([3, 1, 1, 0, 2, 2]), np.zeros((5, 2)), np.array([3, 3, 1, 0, 3]))
    x_tr, y_tr, x_va, y_va, x_te, y_te = _digits_split()
    return {
        "class count None": lambda: start.check_class_count(digits, 3, None),
        "class count right": lambda: start.check_class_count(digits, 3, 3),
        "class count train": lambda: start.check_class_count(digits, 3, 1),
        "class count array": lambda: start.check_class_count(digits, 3, np.array([1, 2])),
        "split right": lambda: capstone.check_split(x_tr, y_tr, x_va, y_va, x_te, y_te),
        "split overlap": lambda: capstone.check_split(x_tr, y_tr, x_tr[:10], y_tr[:10], x_te, y_te),
        "split missing": lambda: capstone.check_split(x_tr, y_tr, None, y_va, x_te, y_te),
        "split empty": lambda: capstone.check_split(x_tr, y_tr, x_va[:0], y_va[:0], x_te, y_te),
        "resume right": lambda: capstone.check_resume_step(40, 47, 10),
        "resume lost": lambda: capstone.check_resume_step(47, 47, 10),
        "ratio right": lambda: distribute.check_local_mean_ratio(2.0, 2.0, 2),
        "ratio one": lambda: distribute.check_local_mean_ratio(1.0, 2.0, 2),
        "minimize right": lambda: minimize.check_minimize_prediction(minimize.minimize_answer()),
        "minimize b": lambda: minimize.check_minimize_prediction({**minimize.minimize_answer(), "b": 0.8}),
        "momentum right": lambda: optimizers.check_momentum_overshoot(0.1, 0.9),
        "momentum low": lambda: optimizers.check_momentum_overshoot(0.05, 0.1),
    }


@pytest.mark.parametrize("case", sorted(_cases()))
def test_localize_output_gives_what_a_chinese_kernel_prints(case):
    from labkit import i18n

    check = _cases()[case]
    try:
        i18n.set_language("en")
        english = f"before\n{check()}\nafter"
        i18n.set_language("zh_CN")
        chinese = f"before\n{check()}\nafter"
    finally:
        i18n.set_language(None)
    assert chinese != english
    assert mc.localize_output(english) == chinese


def test_localize_output_leaves_other_lines_alone():
    text = "Correct answers: 3\nNot yet: something no message says\nloss 0.25\n"
    assert mc.localize_output(text) == "Correct answers: 3\n还不对：something no message says\nloss 0.25\n"

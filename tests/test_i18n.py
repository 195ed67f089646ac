"""labkit.i18n: the language setting, its defaults, and feedback in the learner's language."""

from __future__ import annotations

import re

import pytest

from labkit import i18n
from labkit.i18n import _


@pytest.fixture(autouse=True)
def clean_language(monkeypatch):
    monkeypatch.delenv("LABKIT_LANG", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    i18n.set_language(None)
    yield
    i18n.set_language(None)


CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("env, session, cwd, expected", [
    (None, None, "lab", "en"),                                                  # nothing says
    (None, None, "lab/notebooks", "en"),
    (None, None, "lab/notebooks/zh_CN", "zh_CN"),                               # kernel's cwd
    (None, None, "lab/notebooks/zh_CN/solutions", "zh_CN"),
    (None, "notebooks/zh_CN/00_start_here.ipynb", "lab", "zh_CN"),              # JupyterLab's session
    (None, "/home/learner/lab/notebooks/zh_CN/04_playground.ipynb", "lab", "zh_CN"),
    (None, "notebooks/00_start_here.ipynb", "lab/notebooks/zh_CN", "en"),      # the session wins
    ("en", "notebooks/zh_CN/00_start_here.ipynb", "lab/notebooks/zh_CN", "en"),  # $LABKIT_LANG wins
    ("zh_CN", None, "lab", "zh_CN"),
])
def test_default_language(monkeypatch, tmp_path, env, session, cwd, expected):
    folder = tmp_path / cwd
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    if env is not None:
        monkeypatch.setenv("LABKIT_LANG", env)
    if session is not None:
        monkeypatch.setenv("JPY_SESSION_NAME", session)
    assert i18n.default_language() == expected
    assert i18n.language() == expected


def test_set_language_wins_over_the_default_and_none_restores_it(monkeypatch):
    monkeypatch.setenv("LABKIT_LANG", "zh_CN")
    i18n.set_language("en")
    assert i18n.language() == "en"
    i18n.set_language(None)
    assert i18n.language() == "zh_CN"


@pytest.mark.parametrize("bad", ["fr", "zh-CN", "zh", "EN", "", "zh_CN.UTF-8", 1, b"en"])
def test_bad_language_values_raise_naming_the_value(bad):
    with pytest.raises(ValueError, match=r"`lang` must be one of .*Received: lang=" + re.escape(repr(bad))):
        i18n.set_language(bad)
    assert i18n.language() == "en"  # unchanged


def test_bad_environment_value_raises_naming_the_variable(monkeypatch):
    monkeypatch.setenv("LABKIT_LANG", "de")
    with pytest.raises(ValueError, match=r"\$LABKIT_LANG.*Received: \$LABKIT_LANG='de'"):
        i18n.language()


def test_english_is_the_msgid_and_chinese_comes_from_the_catalog():
    msg = "`answer` is still None: set it to a number."
    assert _(msg) == msg
    i18n.set_language("zh_CN")
    assert _(msg) != msg and CHINESE.search(_(msg)) and "`answer`" in _(msg) and "None" in _(msg)


def _class_count_cases():
    import numpy as np

    from labkit.data import Split

    y_test = np.array([3, 3, 1, 0, 3])
    digits = Split(np.zeros((6, 2)), np.array([3, 1, 1, 0, 2, 2]), np.zeros((5, 2)), y_test)
    return digits


@pytest.mark.parametrize("count, english", [
    (None, "`answer` is still None: set it to an expression that counts the 3s in digits.y_test."),
    (3, "3 examples of the digit 3 are in the test set."),
    (1, "1 is the count in digits.y_train; the exercise asks about digits.y_test."),
    (5, "5 is the size of the whole test set; count only the entries equal to 3."),
])
def test_an_exercise_check_speaks_the_learners_language(count, english):
    from labkit.teaching.exercises.start import check_class_count

    digits = _class_count_cases()
    assert check_class_count(digits, 3, count).message == english
    i18n.set_language("zh_CN")
    chinese = check_class_count(digits, 3, count)
    assert chinese.message != english and CHINESE.search(chinese.message)
    assert sorted(re.findall(r"\d+", chinese.message)) == sorted(re.findall(r"\d+", english))
    assert "digits.y_" not in english or "digits.y_" in chinese.message  # code stays code
    assert str(chinese).startswith("正确：" if chinese.ok else "还不对：")
    i18n.set_language("en")
    assert check_class_count(digits, 3, count).message == english


def test_feedback_html_in_chinese():
    from labkit.teaching.exercises.feedback import hint, passed

    assert "<b>Correct:</b>" in passed("x")._repr_html_()
    i18n.set_language("zh_CN")
    assert "<b>正确：</b>" in passed("x")._repr_html_() and "<b>还不对：</b>" in hint("x")._repr_html_()


def test_doctor_table_in_chinese():
    from labkit.tooling.doctor import Check, check_python, format_table

    english = format_table([check_python((3, 9, 1)), Check("x >= 1", "OK", "1")])
    assert "install Python 3.10 or newer" in english and english.endswith("1 check(s) failed")
    i18n.set_language("zh_CN")
    chinese = format_table([check_python((3, 9, 1)), Check("x >= 1", "OK", "1")])
    assert "`make setup`" in chinese and "FAIL" in chinese and CHINESE.search(chinese)
    assert "check(s) failed" not in chinese


def test_doctor_table_columns_line_up_in_chinese():
    import unicodedata

    from labkit.tooling.doctor import check_python, check_writable, format_table

    def column_of_status(line: str) -> int:
        head = line[: line.index("FAIL")] if "FAIL" in line else line[: line.index("OK")]
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in head)

    i18n.set_language("zh_CN")
    from pathlib import Path

    rows = format_table([check_python((3, 9, 1)), check_python((3, 11, 0)),
                         check_writable([Path("/proc/no/such/folder")])]).splitlines()
    status_rows = [r for r in rows if " OK " in r or " FAIL " in r]
    assert len(status_rows) == 3
    assert len({column_of_status(r) for r in status_rows}) == 1


def test_an_exercise_error_is_in_the_learners_language_and_names_the_value():
    from labkit.teaching.exercises.start import check_division_prediction

    with pytest.raises(ValueError, match=r"`prediction` must be one of .*Received: prediction='int64'"):
        check_division_prediction("int64")
    i18n.set_language("zh_CN")
    with pytest.raises(ValueError, match=r"`prediction` 必须是 .* 之一。收到：prediction='int64'"):
        check_division_prediction("int64")

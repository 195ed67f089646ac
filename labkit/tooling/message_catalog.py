"""labkit's own messages in Chinese: the catalog of every ``_("...")`` in the package.

Every learner-facing string labkit prints (exercise feedback, widget labels, ``labkit doctor``)
is written ``_("English text with {placeholders}")`` (or ``N_(...)`` for a module-level table,
translated where it is used); :mod:`labkit.i18n` looks it up. This module keeps the catalog
``labkit/locale/zh_CN/LC_MESSAGES/labkit.po`` in step with the source and compiles it to the
``labkit.mo`` that :mod:`labkit.i18n` reads (committed; why: labkit/i18n.py's docstring)::

    python -m labkit.tooling.message_catalog update   # source changed: refresh .po, compile .mo
    python -m labkit.tooling.message_catalog check    # untranslated, fuzzy, stale, .mo out of date

``update``: a msgid new in the source becomes an untranslated entry; one gone from the source
becomes obsolete (``#~``, kept with its translation for the translator); translations of the
others are kept. tests/tooling/test_message_catalog.py fails on anything ``check`` reports.
Terms: locale/zh_CN/glossary.md.
"""

from __future__ import annotations

import argparse
import ast
import re
import string
import sys
from functools import lru_cache
from pathlib import Path

import polib

from labkit.i18n import DOMAIN, LOCALE_DIR
from labkit.tooling.catalogs import merge_entries

LANGUAGE = "zh_CN"
MARKERS = ("_", "N_", "gettext")
PACKAGE = Path(__file__).resolve().parents[1]  # the labkit package folder


def catalog_path(locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / LANGUAGE / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locale_dir: Path = LOCALE_DIR) -> Path:
    return catalog_path(locale_dir).with_suffix(".mo")


def extract(package: Path = PACKAGE) -> dict[str, list[str]]:
    """Every msgid in the package's source: ``{msgid: [file, ...]}`` in source order.

    A msgid is the literal string argument of a call to ``_``, ``N_`` or ``gettext``, read
    with :mod:`ast` (f-strings are not msgids: a call ``_(f"...")`` raises ValueError naming
    the file and line, because its msgid would change with its values).
    """
    found: dict[str, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in MARKERS and len(node.args) == 1 and not node.keywords):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.JoinedStr):
                raise ValueError(f"{rel}, line {node.lineno}: an f-string inside "
                                 f"{node.func.id}(...); write {node.func.id}(\"... {{name}} ...\")"
                                 ".format(name=...) so the msgid does not change with the values")
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                files = found.setdefault(arg.value, [])
                if rel not in files:
                    files.append(rel)
    return found


_FIELD = re.compile(r"\{[^{}]*\}")


def placeholders(text: str) -> list[str]:
    """The ``{...}`` fields of ``text`` (``{{``/``}}`` escapes excluded), sorted."""
    return sorted(_FIELD.findall(text.replace("{{", "").replace("}}", "")))


def _metadata() -> dict[str, str]:
    return {
        "Project-Id-Version": "labkit (TF Training Lab)",
        "Language": LANGUAGE,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": "nplurals=1; plural=0;",
    }


def update(package: Path = PACKAGE, locale_dir: Path = LOCALE_DIR) -> polib.POFile:
    """Bring the catalog in step with the source, save it, and compile the ``.mo``."""
    path = catalog_path(locale_dir)
    po = polib.pofile(str(path), wrapwidth=0) if path.exists() else polib.POFile(wrapwidth=0)
    po.wrapwidth = 0
    po.metadata = _metadata()
    wanted = extract(package)
    merge_entries(po, {msgid: [(f, "") for f in files] for msgid, files in wanted.items()})
    brace = "python-brace-format"
    for entry in po:
        if not entry.obsolete and placeholders(entry.msgid) and brace not in entry.flags:
            entry.flags.append(brace)
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    mo_path(locale_dir).write_bytes(compile_mo(po))
    return po


def compile_mo(po: polib.POFile) -> bytes:
    """The ``.mo`` of ``po`` (translated, non-fuzzy, non-obsolete entries), as polib writes it."""
    return po.to_binary()


def problems(package: Path = PACKAGE, locale_dir: Path = LOCALE_DIR) -> list[str]:
    """What keeps the Chinese catalog from being complete and current (empty: all is well)."""
    path = catalog_path(locale_dir)
    if not path.exists():
        return [f"no catalog {path} (run `python -m labkit.tooling.message_catalog update`)"]
    po = polib.pofile(str(path))
    live = {e.msgid: e for e in po if not e.obsolete}
    found = []
    for msgid, files in extract(package).items():
        entry = live.get(msgid)
        if entry is None:
            found.append(f"{files[0]}: not in the catalog (run update): {msgid!r}")
        elif "fuzzy" in entry.flags:
            found.append(f"{files[0]}: translation marked fuzzy: {msgid!r}")
        elif not entry.msgstr.strip():
            found.append(f"{files[0]}: not translated: {msgid!r}")
        elif placeholders(entry.msgstr) != placeholders(msgid):
            found.append(f"{files[0]}: the translation's placeholders {placeholders(entry.msgstr)} "
                         f"are not the msgid's {placeholders(msgid)}: {msgid!r}")
    mo = mo_path(locale_dir)
    if not mo.exists() or mo.read_bytes() != compile_mo(po):
        found.append(f"{mo} is not the compiled {path.name} (run update)")
    return found


# --- feedback already printed in English, in the learner's language -----------------------

_FEEDBACK_PREFIXES = ("Correct: ", "Not yet: ")


@lru_cache(maxsize=4)
def _patterns(locale_dir: Path = LOCALE_DIR) -> tuple[tuple[re.Pattern[str], str, int], ...]:
    """``(regex of the English msgid, msgstr, specificity)``, most specific first.

    Each ``{field}`` of a msgid becomes a lazy group (a repeated field, a back-reference).
    """
    po = polib.pofile(str(catalog_path(locale_dir)))
    found = []
    for entry in po.translated_entries():
        if entry.obsolete:
            continue
        regex, names, literal = "", [], 0
        for text, field, _spec, _conv in string.Formatter().parse(entry.msgid):
            regex += re.escape(text)
            literal += len(text)
            if field is None:
                continue
            if not field.isidentifier():
                regex, literal = "", -1  # not a format string (a dict literal in the text)
                break
            regex += f"(?P={field})" if field in names else f"(?P<{field}>.+?)"
            names.append(field)
        if literal < 0:
            found.append((re.compile(re.escape(entry.msgid)), entry.msgstr, len(entry.msgid)))
            continue
        if names and literal < 3:  # "{problems}." would match almost any text
            continue
        found.append((re.compile(regex), entry.msgstr, literal))
    found.sort(key=lambda t: -t[2])
    return tuple(found)


def _fill(msgstr: str, values: dict[str, str], locale_dir: Path) -> str:
    """``msgstr`` with each ``{field...}`` replaced by the (translated) English value."""
    out = []
    for text, field, _spec, _conv in string.Formatter().parse(msgstr):
        out.append(text)
        if field is not None:
            value = values[field]
            # a value that is itself a message (a step's name, "validation") is translated too
            out.append(_localize_message(value, locale_dir))
    return "".join(out)


def _localize_message(text: str, locale_dir: Path) -> str:
    for pattern, msgstr, _n in _patterns(locale_dir):
        match = pattern.fullmatch(text)
        if match:
            return _fill(msgstr, match.groupdict(), locale_dir) if match.groupdict() else msgstr
    return text


def localize_output(text: str, locale_dir: Path = LOCALE_DIR) -> str:
    """``text`` (a cell's printed output) with each line of exercise feedback in Chinese.

    For the Chinese edition's checked outputs: the English notebook's output holds lines
    ``Correct: ...`` / ``Not yet: ...`` (``str(Feedback)``) that a kernel running the zh_CN
    notebook prints in Chinese. Each such line is matched against the catalog's msgids (their
    ``{fields}`` read back from the English) and rebuilt from the translation, with values
    that are themselves messages (``Step 1 (data split)``) translated too. Other lines, and a
    feedback line no msgid matches, are returned unchanged.
    """
    lines = text.split("\n")
    for i, line in enumerate(lines):
        for prefix in _FEEDBACK_PREFIXES:
            if line.startswith(prefix):
                head = _localize_message(prefix, locale_dir)
                lines[i] = head + _localize_message(line[len(prefix):], locale_dir)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("command", choices=["update", "check"])
    args = parser.parse_args(argv)
    if args.command == "update":
        po = update()
        print(f"{catalog_path().relative_to(PACKAGE.parent)}: {len(po) - len(po.obsolete_entries())} "
              f"messages, {len(po.untranslated_entries())} untranslated, "
              f"{len(po.fuzzy_entries())} fuzzy, {len(po.obsolete_entries())} obsolete")
    found = problems()
    print("\n".join(found) if found else "labkit's zh_CN messages are complete")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

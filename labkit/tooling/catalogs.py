"""gettext catalog plumbing shared by the two catalogs of the Chinese edition: the lessons'
(labkit.tooling.translations) and labkit's own messages (labkit.tooling.message_catalog)."""

from __future__ import annotations

import polib

__all__ = ["merge_entries"]


def merge_entries(po: polib.POFile, wanted: dict[str, list[tuple[str, str]]]) -> list[polib.POEntry]:
    """Make ``po``'s live entries exactly the msgids of ``wanted`` (with those occurrences), in
    its order: a new msgid is untranslated, a known one keeps its translation (a live entry wins
    over an obsolete one with the same text), and a translated msgid no longer wanted stays in the
    file as obsolete (``#~``) for the translator. Returns the new entries (the untranslated)."""
    known: dict[str, polib.POEntry] = {}
    for e in po:
        if e.msgid not in known or known[e.msgid].obsolete:
            known[e.msgid] = e
    entries, new = [], []
    for msgid, occurrences in wanted.items():
        entry = known.get(msgid)
        if entry is None:
            entry = polib.POEntry(msgid=msgid, msgstr="")
            new.append(entry)
        entry.obsolete = False
        entry.occurrences = occurrences
        entries.append(entry)
    for entry in po:
        if entry.msgid not in wanted and entry.msgstr:
            entry.obsolete = True
            entry.occurrences = []
            entries.append(entry)
    po[:] = entries
    return new

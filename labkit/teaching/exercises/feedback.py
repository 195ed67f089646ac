"""The result of an exercise check (introduced in notebooks/00_start_here.ipynb)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from labkit.i18n import _


@dataclass(frozen=True)
class Feedback:
    """What a check says about a learner's answer.

    ``ok`` is True when the answer is right; ``message`` is either a confirmation or a
    specific hint (what was expected, what was received, where to look) -- never just
    "wrong". Shown as a coloured box in a notebook, as one line in plain text.
    """

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return (_("Correct: ") if self.ok else _("Not yet: ")) + self.message

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour, border, word = (
            ("#e8f5e9", "#2e7d32", _("Correct: ")) if self.ok else ("#fff3e0", "#ef6c00", _("Not yet: "))
        )
        return (
            f'<div style="background:{colour};border-left:4px solid {border};padding:6px 10px">'
            f"<b>{word.rstrip()}</b> {html.escape(self.message)}</div>"
        )


def passed(message: str) -> Feedback:
    """A positive Feedback."""
    return Feedback(True, message)


def hint(message: str) -> Feedback:
    """A negative Feedback carrying a specific hint."""
    return Feedback(False, message)

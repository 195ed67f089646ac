"""The language labkit speaks to the learner (exercise feedback, widget labels, ``labkit doctor``).

English is the source language; Simplified Chinese comes from the gettext catalog
``labkit/locale/zh_CN/LC_MESSAGES/labkit.po``, looked up with Python's standard
:mod:`gettext` module::

    from labkit.i18n import _
    hint(_("{value} is the count in digits.y_train.").format(value=value))

The msgid is the English text with ``{name}`` placeholders (never an f-string), so it is the
same whatever the values; ``.format`` is applied after the lookup, to the translation.
Strings defined at import time (module-level tables) are marked with :func:`N_` and passed
through :func:`_` where they are used, so a later :func:`set_language` still applies.

**The language**: :func:`set_language` (``"zh_CN"`` or ``"en"``) wins; otherwise
``$LABKIT_LANG``; otherwise the notebook's language, read from the path of the notebook the
kernel runs: ``$JPY_SESSION_NAME`` (jupyter_server's ``SessionManager.get_kernel_env`` puts the
notebook's path there: jupyter_server/services/sessions/sessionmanager.py, lines 301-316, as
installed; it is fixed when the kernel starts) or, without it (nbval, nbclient, a plain
``jupyter kernel``), the kernel's working directory, which is the notebook's folder (jupyter_server's
FileContentsManager.get_kernel_path, services/contents/filemanager.py, lines 666-671; nbval/plugin.py, line 266, ``cwd=str(self.fspath.dirname)``):
a notebook under ``notebooks/zh_CN/`` gets ``zh_CN``; otherwise English. The language is looked up
at every message, so ``set_language`` takes effect at the next check.

**Why the compiled ``labkit.mo`` is committed** next to its ``.po`` (and not compiled at first
use): an installed labkit may live in a read-only site-packages, or be imported by many kernels
at once (the classroom hub), so a compile-on-first-use cache would need a writable, per-user
location and a lock, and could serve a stale or half-written file. A committed ``.mo`` is
shipped as package data (pyproject.toml ``[tool.setuptools.package-data]``), read-only, and the
same in every install. It cannot drift: tests/tooling/test_message_catalog.py requires it to be
byte-identical to a fresh polib compile of the ``.po``, and ``python -m
labkit.tooling.message_catalog update`` rewrites both.
"""

from __future__ import annotations

import gettext as _gettext
import os
from functools import cache
from pathlib import Path, PurePath

__all__ = ["LANGUAGES", "DOMAIN", "LOCALE_DIR", "ENV_VAR", "set_language", "language",
           "default_language", "gettext", "_", "N_"]

LANGUAGES = ("en", "zh_CN")
DOMAIN = "labkit"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
ENV_VAR = "LABKIT_LANG"

_chosen: str | None = None


def _checked(value: object, argument: str) -> str:
    if not isinstance(value, str) or value not in LANGUAGES:
        raise ValueError(f"`{argument}` must be one of {LANGUAGES}. Received: {argument}={value!r}")
    return value


def _language_of_path(path: str) -> str | None:
    """``"zh_CN"`` when a folder of ``path`` is named ``zh_CN`` (``.../notebooks/zh_CN``)."""
    return "zh_CN" if "zh_CN" in PurePath(path).parts else None


def default_language() -> str:
    """The language when :func:`set_language` was not called: ``$LABKIT_LANG``, else the
    notebook's folder (``$JPY_SESSION_NAME``, else the working directory), else ``"en"``.

    A ``$LABKIT_LANG`` that is not one of :data:`LANGUAGES` raises ValueError naming it.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        return _checked(env, f"${ENV_VAR}")
    session = os.environ.get("JPY_SESSION_NAME")
    if session:
        return _language_of_path(str(Path(session).parent)) or "en"
    try:
        cwd = os.getcwd()
    except OSError:  # the working directory was deleted
        return "en"
    return _language_of_path(cwd) or "en"


def set_language(lang: str | None) -> None:
    """Speak ``lang`` (``"zh_CN"`` or ``"en"``) from now on; ``None`` goes back to the default."""
    global _chosen
    _chosen = None if lang is None else _checked(lang, "lang")


def language() -> str:
    """The language labkit's messages are in now."""
    return _chosen if _chosen is not None else default_language()


@cache
def _catalog(lang: str) -> _gettext.NullTranslations:
    if lang == "en":
        return _gettext.NullTranslations()
    # fallback=False: a missing .mo for a supported language is a packaging bug, not English
    return _gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[lang])


def gettext(message: str) -> str:
    """``message`` (an English msgid) in the current :func:`language`."""
    return _catalog(language()).gettext(message)


_ = gettext


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it (translate it where it is used)."""
    return message

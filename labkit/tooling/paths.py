"""Where the lab keeps its files (introduced in notebooks/00_start_here.ipynb)."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The lab's folder: ``$LABKIT_ROOT`` if set, else the checkout that holds ``labkit/``."""
    env = os.environ.get("LABKIT_ROOT")
    return Path(env).resolve() if env else Path(__file__).resolve().parents[2]


def notebooks_dir() -> Path:
    """The folder of the lesson notebooks."""
    return repo_root() / "notebooks"


# Editions of the lessons that live in a subfolder of notebooks/ (the Chinese edition,
# labkit.tooling.translations). Their kernels run in that subfolder, so the lessons' relative
# paths ("runs/...", "checkpoints/...") land in e.g. notebooks/zh_CN/runs.
EDITIONS = ("zh_CN",)
STATE_FOLDERS = ("runs", "checkpoints", "exported")


def learner_state_dirs() -> list[Path]:
    """Folders that notebooks write to: event logs, checkpoints, exported models.

    Those of the English lessons (``notebooks/runs`` ...) first, then those of each edition
    (``notebooks/zh_CN/runs`` ...). ``labkit reset`` clears exactly these (and nothing else).
    """
    nb = notebooks_dir()
    return [folder / name for folder in (nb, *(nb / e for e in EDITIONS)) for name in STATE_FOLDERS]

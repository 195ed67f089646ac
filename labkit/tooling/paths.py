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


def learner_state_dirs() -> list[Path]:
    """Folders that notebooks write to: event logs, checkpoints, exported models.

    ``labkit reset`` clears exactly these (and nothing else).
    """
    nb = notebooks_dir()
    return [nb / "runs", nb / "checkpoints", nb / "exported"]

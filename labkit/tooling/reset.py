"""``labkit reset``: clear a learner's logs, checkpoints and exported models after a confirmation.

Introduced in docs/instructor-guide.md. Removes only the folders named by
``labkit.tooling.paths.learner_state_dirs()``; notebooks and everything else are left alone.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from labkit.tooling.paths import learner_state_dirs


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def reset(yes: bool = False, ask: Callable[[str], str] = input, folders: list[Path] | None = None) -> list[Path]:
    """Delete the learner-state folders; ask first unless ``yes``. Returns what was removed."""
    targets = [f for f in (folders if folders is not None else learner_state_dirs()) if f.exists()]
    if not targets:
        print("Nothing to reset: no logs, checkpoints or exported models.")
        return []
    for f in targets:
        print(f"  {f}  ({folder_size(f) / 1e6:.1f} MB)")
    if not yes:
        try:
            answer = ask("Delete these folders? This cannot be undone. [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("Reset cancelled; nothing was deleted.")
            return []
    for f in targets:
        shutil.rmtree(f)
    print(f"Removed {len(targets)} folder(s).")
    return targets

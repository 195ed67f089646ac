"""``labkit lab``: open JupyterLab on the start notebook, safely (see README, "Open the lab").

Binds to 127.0.0.1 only, keeps token authentication on (``JUPYTER_TOKEN`` is honoured if
set, otherwise Jupyter makes a random token and prints the URL with it), and adds
``--allow-root`` only when running as root.
"""

from __future__ import annotations

import os
import sys

from labkit.tooling.paths import repo_root

START_NOTEBOOK = "notebooks/00_start_here.ipynb"


def lab_command(port: int = 8888, open_browser: bool = True, as_root: bool | None = None) -> list[str]:
    """The exact ``jupyter lab`` command line the launcher runs."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"`port` must be an integer in 1..65535. Received: port={port!r}")
    cmd = [
        sys.executable, "-m", "jupyter", "lab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--ServerApp.root_dir={repo_root()}",
    ]
    if as_root is None:
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root:
        cmd.append("--allow-root")
    if not open_browser:
        cmd.append("--no-browser")
    cmd.append(START_NOTEBOOK)
    return cmd


def main(port: int = 8888, open_browser: bool = True) -> None:
    """Replace this process with JupyterLab (signals then reach Jupyter directly)."""
    cmd = lab_command(port, open_browser)
    os.chdir(repo_root())
    print("Starting:", " ".join(cmd[1:]), flush=True)
    os.execv(cmd[0], cmd)

"""Measure the time from a clean clone to a running lab (the number quoted in the README).

    python benchmarks/time_to_lab.py [--cold]

Clones this repository's HEAD into a temporary folder, runs the README's lab command
(`make lab`, which creates .venv and installs everything) with a known JUPYTER_TOKEN, and
stops the clock when JupyterLab answers /api/status with that token. `--cold` disables
pip's cache (PIP_NO_CACHE_DIR=1) so every wheel is downloaded again.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from labkit.processes import stop_process_group

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="disable pip's download cache")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="labkit-clone-"))
    clone = work / "lab"
    port, token = free_port(), secrets.token_hex(8)
    env = dict(os.environ, JUPYTER_TOKEN=token, NO_PROXY="127.0.0.1,localhost")
    if args.cold:
        env["PIP_NO_CACHE_DIR"] = "1"
    start = time.monotonic()
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    log = open(work / "lab.log", "wb")
    proc = subprocess.Popen(["make", "lab", f"PORT={port}", "LAB_FLAGS=--no-browser"], cwd=clone, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    setup_done = None
    try:
        while time.monotonic() - start < args.timeout:
            if proc.poll() is not None:
                print((work / "lab.log").read_text()[-3000:], file=sys.stderr)
                return 1
            if setup_done is None and (clone / ".venv/.labkit-installed").exists():
                setup_done = time.monotonic() - start
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            print("timed out", file=sys.stderr)
            return 1
        total = time.monotonic() - start
        print(f"clean clone -> running lab: {total:.0f} s "
              f"(setup {setup_done or float('nan'):.0f} s, JupyterLab start {total - (setup_done or 0):.0f} s; "
              f"pip cache {'disabled' if args.cold else 'as configured'}; {os.cpu_count()} cores)")
        return 0
    finally:
        stop_process_group(proc)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

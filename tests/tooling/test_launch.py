"""The README's lab command starts real JupyterLab: loopback only, token required, stops cleanly."""

import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from labkit.processes import stop_process_group
from labkit.tooling.launch import lab_command

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def non_loopback_address() -> str | None:
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return next((a for a in out if "." in a and not a.startswith("127.")), None)


def test_lab_command_shape():
    cmd = lab_command(9999, open_browser=False, as_root=True)
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--ServerApp.port=9999" in cmd
    assert "--allow-root" in cmd and "--no-browser" in cmd
    assert cmd[-1] == "notebooks/00_start_here.ipynb"
    assert "--allow-root" not in lab_command(9999, as_root=False)
    assert not any("token" in part.lower() for part in cmd), "token auth must stay on"
    with pytest.raises(ValueError, match="port=70000"):
        lab_command(70000)


def test_make_lab_serves_with_token_on_loopback_only():
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_TOKEN=token, NO_PROXY="*")
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"PORT={port}", "LAB_FLAGS=--no-browser"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        code = None
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")[-3000:]
            try:
                code = status(f"{base}/api/status?token={token}")
                if code == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert code == 200, f"JupyterLab did not answer /api/status within 120 s (last: {code})"
        assert status(f"{base}/api/status") == 403, "reachable without the token"
        assert status(f"{base}/api/status?token=wrong{token}") == 403
        assert status(f"{base}/api/contents/notebooks/00_start_here.ipynb?content=0&token={token}") == 200
        other = non_loopback_address()
        if other:
            with socket.socket() as s, pytest.raises(OSError):
                s.settimeout(2)
                s.connect((other, port))
    finally:
        stop_process_group(proc)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=3)

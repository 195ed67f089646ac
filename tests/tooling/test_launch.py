"""The README's lab command starts real JupyterLab: loopback only, token required, stops cleanly;
`make lab LAB_LANG=zh_CN` opens the Chinese edition with JupyterLab's interface in Chinese."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from labkit.processes import stop_process_group
from labkit.tooling import launch
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

def wait_until_serving(proc, base, token, timeout=120):
    """Wait until the lab at ``base`` answers /api/status with the token (fail if it exits)."""
    deadline, code = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace")[-3000:]
        try:
            code = status(f"{base}/api/status?token={token}")
            if code == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"JupyterLab did not answer /api/status within {timeout} s (last: {code})")



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
        wait_until_serving(proc, base, token)
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


# --- the Chinese edition: `labkit lab --lang zh_CN` (make lab LAB_LANG=zh_CN) -------------------


L10N_PLUGIN = "@jupyterlab/translation-extension:plugin"


def test_lang_zh_cn_opens_the_chinese_start_page_safely():
    cmd = lab_command(9999, open_browser=False, as_root=False, lang="zh_CN")
    assert cmd[-1] == "notebooks/zh_CN/00_start_here.ipynb"
    assert "--ServerApp.ip=127.0.0.1" in cmd
    assert not any("token" in part.lower() for part in cmd), "token auth must stay on"
    assert lab_command(9999, lang="en")[-1] == lab_command(9999)[-1] == "notebooks/00_start_here.ipynb"
    for bad in ("zh", "zh-CN", "fr_FR", "", None):
        with pytest.raises(ValueError, match=f"lang={bad!r}"):
            lab_command(9999, lang=bad)


def test_lang_environment_adds_only_a_config_folder():
    base = {"LANG": "C.UTF-8", "JUPYTER_CONFIG_PATH": os.pathsep.join(["/a", "/b"]), "X": "1"}
    env = launch.lab_environment("zh_CN", base)
    folder = str(launch.lab_config_dir("zh_CN"))
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [folder, "/a", "/b"]
    assert env["LANG"] == "C.UTF-8" and env["X"] == "1", "the process locale must not change"
    assert launch.lab_environment("zh_CN", env) == env, "idempotent"
    assert launch.lab_environment("zh_CN", {})["JUPYTER_CONFIG_PATH"] == folder
    assert launch.lab_environment("en", base) == base
    assert base["JUPYTER_CONFIG_PATH"] == "/a" + os.pathsep + "/b", "the caller's mapping is not changed"


def test_lang_config_makes_zh_cn_the_default_locale(monkeypatch, tmp_path):
    """jupyterlab_server reads the folder's default_setting_overrides.json: the Language
    setting's default becomes zh_CN; the learner's own user settings are not written."""
    from jupyterlab_server.settings_utils import _get_overrides, get_settings

    folder = launch.lab_config_dir("zh_CN")
    data = json.loads((folder / "labconfig" / "default_setting_overrides.json").read_text())
    assert data == {L10N_PLUGIN: {"locale": "zh_CN"}}
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", launch.lab_environment("zh_CN", {})["JUPYTER_CONFIG_PATH"])
    overrides, error = _get_overrides(str(tmp_path / "app-settings"))
    assert not error and overrides[L10N_PLUGIN]["locale"] == "zh_CN"
    schemas = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
    user = tmp_path / "user-settings"
    found, _ = get_settings(str(tmp_path / "app-settings"), str(schemas), str(user),
                            schema_name=L10N_PLUGIN, overrides=overrides)
    assert found["schema"]["properties"]["locale"]["default"] == "zh_CN"
    assert found["raw"] == "{}" and not user.exists(), "the learner's user settings are untouched"


def test_zh_cn_language_pack_is_installed():
    """The pack that `make setup` installs translates JupyterLab's File menu (the browser test
    looks for this label)."""
    import jupyterlab_language_pack_zh_CN as pack

    strings = json.loads((Path(pack.__file__).parent / "locale" / "zh_CN" / "LC_MESSAGES" /
                          "jupyterlab.json").read_text(encoding="utf-8"))
    assert strings["menu\x04File"] == ["文件"]


def test_cli_passes_lang(monkeypatch):
    from labkit.tooling import cli

    calls = []
    monkeypatch.setattr(launch, "main", lambda port, open_browser=True, lang="en": calls.append(
        (port, open_browser, lang)))
    assert cli.main(["lab", "--port", "9001", "--no-browser", "--lang", "zh_CN"]) == 0
    assert cli.main(["lab"]) == 0
    assert calls == [(9001, False, "zh_CN"), (8888, True, "en")]
    with pytest.raises(SystemExit):
        cli.main(["lab", "--lang", "zh"])


def test_missing_chinese_start_page_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_ROOT", str(tmp_path))
    monkeypatch.setattr(os, "execve", lambda *a: pytest.fail("started JupyterLab anyway"))
    with pytest.raises(SystemExit, match="notebooks/zh_CN/00_start_here.ipynb.*make translations"):
        launch.main(9999, open_browser=False, lang="zh_CN")


def test_make_lab_lab_lang_zh_cn_serves_chinese_defaults(tmp_path):
    """`make lab LAB_LANG=zh_CN` on a lab folder with a Chinese start page: loopback, token on,
    the start page served, and the Language setting's default is zh_CN on the live server."""
    root = tmp_path / "lab"
    start = root / "notebooks" / "zh_CN" / "00_start_here.ipynb"
    start.parent.mkdir(parents=True)
    start.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_TOKEN=token, NO_PROXY="*", LABKIT_ROOT=str(root),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "user-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"PORT={port}", "LAB_LANG=zh_CN",
         "LAB_FLAGS=--no-browser"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(proc, base, token)
        assert status(f"{base}/api/status") == 403, "reachable without the token"
        assert status(f"{base}/api/contents/notebooks/zh_CN/00_start_here.ipynb?content=0&token={token}") == 200
        with urllib.request.urlopen(f"{base}/lab/api/settings/{L10N_PLUGIN}?token={token}", timeout=10) as r:
            setting = json.loads(r.read())
        assert setting["schema"]["properties"]["locale"]["default"] == "zh_CN"
        with urllib.request.urlopen(f"{base}/lab/api/translations/zh_CN?token={token}", timeout=30) as r:
            pack = json.loads(r.read())
        assert pack["data"]["jupyterlab"]["menu\x04File"] == ["文件"], pack.get("message")
    finally:
        stop_process_group(proc)
    assert not (tmp_path / "user-settings").exists() or not any((tmp_path / "user-settings").rglob("*.jupyterlab-settings"))

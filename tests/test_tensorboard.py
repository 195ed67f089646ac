"""labkit.tensorboard: a real TensorBoard on loopback, read back over its HTTP data API,
and reached through jupyter-server-proxy the way a JupyterHub serves it."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import psutil
import pytest

from labkit import tensorboard as tb
from labkit.summary import FileWriter, read_scalars


def _get(url: str, headers: dict | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


@pytest.fixture
def server(tmp_path):
    """A TensorBoard over tmp_path/logs, always stopped; checks no process outlives it."""
    logdir = tmp_path / "logs"
    handle = tb.start(logdir, reload_interval=1, timeout=120)
    group = [handle.pid] + [c.pid for c in psutil.Process(handle.pid).children(recursive=True)]
    try:
        yield handle, logdir
    finally:
        tb.stop(handle)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(tb._pid_alive(p) for p in group):
            time.sleep(0.1)
        assert not any(tb._pid_alive(p) for p in group), "a TensorBoard process was left behind"


@pytest.mark.timeout(240)
def test_server_serves_exactly_what_the_reader_reads(server):
    handle, logdir = server
    assert handle.url.startswith("http://127.0.0.1:")
    conns = [c for c in psutil.Process(handle.pid).net_connections() if c.status == psutil.CONN_LISTEN]
    assert conns and all(c.laddr.ip == "127.0.0.1" for c in conns)  # never all interfaces
    values = {"sgd": [2.0, 1.5, 1.25, 1.1], "adam": [2.0, 0.9, 0.5, 0.3, 0.2]}
    for run, ys in values.items():
        with FileWriter(logdir / run) as w:
            for step, y in enumerate(ys):
                w.add_scalar("loss", y / 3, step)
    records = read_scalars(logdir)
    deadline = time.monotonic() + 60
    served = {}
    while time.monotonic() < deadline:
        served = {}
        for run in values:
            q = urllib.parse.urlencode({"run": run, "tag": "loss"})
            try:
                _, body = _get(f"{handle.url}data/plugin/scalars/scalars?{q}")
                served[run] = json.loads(body)
            except urllib.error.HTTPError:  # 400 until the run is loaded
                served[run] = []
        if all(len(served[r]) == len(ys) for r, ys in values.items()):
            break
        time.sleep(0.5)
    for run, ys in values.items():
        mine = [(r.wall_time, r.step, r.value) for r in records if r.run == run and r.tag == "loss"]
        assert len(mine) == len(ys)
        theirs = [tuple(p) for p in served[run]]
        assert [(s, v) for _, s, v in theirs] == [(s, v) for _, s, v in mine]
        assert [w for w, _, _ in theirs] == pytest.approx([w for w, _, _ in mine], abs=1e-6)
    # same logdir: the live server is reused, not duplicated
    again = tb.start(logdir)
    assert again.pid == handle.pid and again.port == handle.port


def test_stale_info_file_is_removed_and_never_reused(tmp_path):
    from tensorboard import manager, version

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    info = manager.TensorBoardInfo(
        version=version.VERSION, start_time=0, pid=dead.pid, port=1, path_prefix="",
        logdir=str(tmp_path), db="", cache_key="x",
    )
    path = os.path.join(manager._get_info_dir(), f"pid-{dead.pid}.info")
    with open(path, "w") as f:
        f.write(manager._info_to_string(info))
    try:
        assert dead.pid in tb.remove_stale()
        assert not os.path.exists(path)
        assert all(i.pid != dead.pid for i in tb.list_running())
    finally:
        if os.path.exists(path):
            os.remove(path)


def test_proxy_url_and_bad_inputs(monkeypatch):
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert tb.proxy_url(6006) is None
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    assert tb.proxy_url(6006) == "/user/alice/proxy/6006/"
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/bob")
    assert tb.proxy_url(7000) == "/user/bob/proxy/7000/"
    h = tb.TensorBoardHandle(pid=1, port=7000, logdir="/x")
    assert h.browser_url == "/user/bob/proxy/7000/"
    assert tb.display(h).src == "/user/bob/proxy/7000/"
    with pytest.raises(ValueError, match="port"):
        tb.proxy_url(0)
    with pytest.raises(ValueError, match="port"):
        tb.start("/tmp/x", port=70000)
    with pytest.raises(TypeError, match="logdir"):
        tb.start(None)
    with pytest.raises(TypeError, match="handle"):
        tb.display("not a handle")


@pytest.mark.timeout(300)
def test_tensorboard_through_jupyter_server_proxy_on_a_hub(server, tmp_path, monkeypatch):
    handle, logdir = server
    prefix = "/user/learner/"
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", prefix)
    path = tb.proxy_url(handle.port)
    assert path == f"{prefix}proxy/{handle.port}/" and handle.browser_url == path
    token = secrets.token_hex(16)
    jport = tb.find_free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERHUB")}
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    jlog = open(tmp_path / "jupyter.log", "wb")
    jproc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={jport}", "--ServerApp.port_retries=0",
         f"--ServerApp.base_url={prefix}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={tmp_path}"] + (["--allow-root"] if os.geteuid() == 0 else []),
        stdout=jlog, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{jport}{path}"
        status, body = None, b""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                status, body = _get(url, {"Authorization": f"token {token}"})
                if status == 200:
                    break
            except (urllib.error.URLError, OSError):
                pass
            assert jproc.poll() is None, (tmp_path / "jupyter.log").read_text()
            time.sleep(0.5)
        assert status == 200, (tmp_path / "jupyter.log").read_text()
        assert b"<tf-tensorboard" in body or b"TensorBoard" in body
        # the relative data URL the page uses resolves through the proxy to this logdir
        _, env_json = _get(url + "data/environment", {"Authorization": f"token {token}"})
        assert os.path.realpath(json.loads(env_json)["data_location"]) == os.path.realpath(logdir)
        # token auth is on: without the token the proxy sends us to the login page
        try:
            with urllib.request.urlopen(url + "data/environment", timeout=10) as r:
                final_url, anon_body = r.geturl(), r.read()
            assert "/login" in final_url and b"data_location" not in anon_body
        except urllib.error.HTTPError as err:
            assert err.code in (401, 403)
    finally:
        if jproc.poll() is None:
            os.killpg(jproc.pid, signal.SIGTERM)
            try:
                jproc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(jproc.pid, signal.SIGKILL)
                jproc.wait(5)
        jlog.close()
    assert jproc.returncode is not None


# --- %tensorboard: TensorBoard's own magic, made ready by prepare_magic -----------------
def _write_stale_info(tmp_path):
    from tensorboard import manager, version

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    info = manager.TensorBoardInfo(
        version=version.VERSION, start_time=0, pid=dead.pid, port=1, path_prefix="",
        logdir=str(tmp_path), db="", cache_key="x",
    )
    path = os.path.join(manager._get_info_dir(), f"pid-{dead.pid}.info")
    with open(path, "w") as f:
        f.write(manager._info_to_string(info))
    return dead.pid, path


def test_hub_proxy_template_is_what_tensorboards_own_display_uses(monkeypatch):
    from tensorboard import notebook

    monkeypatch.delenv("TENSORBOARD_PROXY_URL", raising=False)
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert tb.hub_proxy_template() is None
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice")
    assert tb.hub_proxy_template() == "/user/alice/proxy/%PORT%/"
    monkeypatch.setenv("TENSORBOARD_PROXY_URL", "/custom/%PORT%/")  # an explicit setting wins
    assert tb.hub_proxy_template() == "/custom/%PORT%/"
    assert tb.proxy_url(7000) == "/custom/7000/"
    # TensorBoard's own iframe, with the template in TENSORBOARD_PROXY_URL, loads the proxy path
    monkeypatch.setenv("TENSORBOARD_PROXY_URL", "/user/alice/proxy/%PORT%/")
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    notebook._display_ipython(port=6123, height=300, display_handle=None)
    html = shown[0].data
    assert '"/user/alice/proxy/6123/"' in html and "const port = 0;" in html


def test_prepare_magic_sets_only_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.delenv("TENSORBOARD_BINARY", raising=False)
    monkeypatch.delenv("TENSORBOARD_PROXY_URL", raising=False)
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/bob/")
    pid, path = _write_stale_info(tmp_path)
    try:
        done = tb.prepare_magic()
    finally:
        if os.path.exists(path):
            os.remove(path)
    assert pid in done["stale_removed"] and not os.path.exists(path)
    assert os.environ["TENSORBOARD_BINARY"] == done["TENSORBOARD_BINARY"]
    assert os.access(done["TENSORBOARD_BINARY"], os.X_OK)
    version = subprocess.run([done["TENSORBOARD_BINARY"], "--version_tb"], capture_output=True,
                             text=True, timeout=120)
    assert version.returncode == 0 and version.stdout.strip()  # the launcher runs TensorBoard
    assert os.environ["TENSORBOARD_PROXY_URL"] == done["TENSORBOARD_PROXY_URL"] == "/user/bob/proxy/%PORT%/"
    again = tb.prepare_magic()  # already set: left alone
    assert again["TENSORBOARD_BINARY"] is None and again["TENSORBOARD_PROXY_URL"] is None
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX")
    monkeypatch.delenv("TENSORBOARD_PROXY_URL")
    assert tb.prepare_magic()["TENSORBOARD_PROXY_URL"] is None  # no hub: nothing to proxy
    assert "TENSORBOARD_PROXY_URL" not in os.environ


@pytest.mark.timeout(240)
def test_magic_servers_finds_and_stops_what_the_magic_started(tmp_path, monkeypatch):
    """What ``%tensorboard --logdir logs --host 127.0.0.1`` runs: tensorboard.manager.start."""
    import datetime

    from tensorboard import manager

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TENSORBOARD_BINARY", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    tb.prepare_magic()
    (tmp_path / "logs").mkdir()
    result = manager.start(["--logdir", "logs", "--host", "127.0.0.1"],
                           timeout=datetime.timedelta(seconds=180))
    assert isinstance(result, manager.StartLaunched), result
    try:
        found = tb.magic_servers("logs")
        assert [h.port for h in found] == [result.info.port]
        assert tb.magic_servers("other") == [] and tb.magic_servers("logs", cwd="/") == []
        status, body = _get(f"http://127.0.0.1:{result.info.port}/data/environment")
        assert status == 200 and os.path.realpath(json.loads(body)["data_location"]).endswith("logs")
        # a second identical start reuses it (manager.py): the magic never starts a twin
        assert isinstance(manager.start(["--logdir", "logs", "--host", "127.0.0.1"]), manager.StartReused)
    finally:
        stopped = tb.stop(result.info.port)
    assert stopped == [result.info.pid]
    assert tb.magic_servers("logs") == []


@pytest.mark.parametrize("timeout", [0, -1, float("inf"), float("nan"), "10", True])
def test_start_refuses_a_bad_timeout_naming_it(tmp_path, timeout):
    from labkit import tensorboard as tb

    with pytest.raises(ValueError, match=r"`timeout` must be a finite number of seconds > 0. Received: timeout="):
        tb.start(str(tmp_path / "logs"), timeout=timeout)

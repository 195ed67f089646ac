"""The real TensorBoard server, started from a notebook (introduced in
notebooks/10_summary_tensorboard.ipynb).

TensorBoard's own notebook support is ``%load_ext tensorboard`` then
``%tensorboard --logdir DIR`` (``tensorboard/notebook.py``). This module adds what a classroom
needs around it, and prefers TensorBoard's own switches wherever they do the job:

* :func:`prepare_magic` gets ``%tensorboard`` ready: it deletes the info files of
  TensorBoards that died (``tensorboard/manager.py`` reuses any recorded instance without
  checking that it is alive: "TODO(@wchargin): Check here that the provided port is still
  live"), points ``TENSORBOARD_BINARY`` at this environment's ``tensorboard`` when that
  program is not on ``PATH`` (a kernel started by ``python -m jupyter lab`` from a venv that
  was never activated), and on a JupyterHub sets ``TENSORBOARD_PROXY_URL`` to
  ``{JUPYTERHUB_SERVICE_PREFIX}proxy/%PORT%/``, TensorBoard's own variable for serving its
  panel through jupyter-server-proxy (``tensorboard/notebook.py``, ``_display_ipython``).
* :func:`start` runs ``tensorboard`` as a child process bound to 127.0.0.1 (never all
  interfaces) on a free port without blocking, reuses a live instance already serving the
  same logdir, and first removes stale info files. :func:`display` shows it inline;
  :func:`stop` ends it (or a server ``%tensorboard`` started: see :func:`magic_servers`).

Classroom hub (JupyterHub): the learner's browser cannot reach 127.0.0.1 of the server, so
the panel goes through jupyter-server-proxy: ``{prefix}proxy/{port}/``, with the trailing
slash, because TensorBoard's page loads its scripts by relative URLs. :func:`proxy_url` and
``TENSORBOARD_PROXY_URL`` use the same template. Nothing needs configuring on the hub
beyond installing ``jupyter-server-proxy`` in the single-user image (a dependency of this lab).
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from labkit.processes import stop_process_group

__all__ = [
    "TensorBoardHandle",
    "display",
    "find_free_port",
    "hub_proxy_template",
    "list_running",
    "magic_servers",
    "prepare_magic",
    "proxy_url",
    "remove_stale",
    "start",
    "stop",
]

HOST = "127.0.0.1"

# Handles of the servers this Python process launched, by port.
_LAUNCHED: dict[int, TensorBoardHandle] = {}


@dataclass
class TensorBoardHandle:
    """A running TensorBoard: where it listens, what it serves, whether we launched it.

    ``url`` is the loopback address (for code running on this machine); ``browser_url`` is
    what an IFrame should load (the jupyter-server-proxy path on a hub).
    """

    pid: int
    port: int
    logdir: str
    reused: bool = False
    process: subprocess.Popen | None = field(default=None, repr=False)
    log_path: str | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    @property
    def browser_url(self) -> str:
        return proxy_url(self.port) or self.url

    def alive(self) -> bool:
        """True while the process runs (a zombie counts as dead)."""
        if self.process is not None:
            return self.process.poll() is None
        return _pid_alive(self.pid)

    def ready(self, timeout: float = 2.0) -> bool:
        """True when the server answers HTTP with its data API."""
        try:
            with urllib.request.urlopen(self.url + "data/environment", timeout=timeout) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def wait_ready(self, timeout: float = 60.0) -> TensorBoardHandle:
        """Block until the server answers (or raise ``TimeoutError`` / ``RuntimeError``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready():
                return self
            if not self.alive():
                raise RuntimeError(f"TensorBoard exited before serving.{self._log_tail()}")
            time.sleep(0.25)
        raise TimeoutError(f"TensorBoard on port {self.port} not ready after {timeout:g} s.{self._log_tail()}")

    def _log_tail(self) -> str:
        if self.log_path and os.path.exists(self.log_path):
            with open(self.log_path, errors="replace") as f:
                return "\nIts log ends with:\n" + "".join(f.readlines()[-15:])
        return ""

    def _repr_html_(self) -> str:
        return _iframe_html(self.browser_url, 600)


def _pid_alive(pid: int) -> bool:
    try:
        import psutil

        p = psutil.Process(pid)
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except Exception:
        return False


def find_free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def hub_proxy_template() -> str | None:
    """The panel URL template on a JupyterHub, in ``TENSORBOARD_PROXY_URL``'s format, else None.

    ``TENSORBOARD_PROXY_URL`` if it is set (TensorBoard's own variable; ``%PORT%`` stands for
    the port), otherwise ``{JUPYTERHUB_SERVICE_PREFIX}proxy/%PORT%/`` when JupyterHub set the
    prefix (``/user/alice/`` gives ``/user/alice/proxy/%PORT%/``), otherwise None.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    explicit = os.environ.get("TENSORBOARD_PROXY_URL")
    if explicit:
        return explicit
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if not prefix:
        return None
    prefix = "/" + prefix.strip("/") + "/"
    if prefix == "//":
        prefix = "/"
    return f"{prefix}proxy/%PORT%/"


def proxy_url(port: int) -> str | None:
    """The jupyter-server-proxy path for ``port`` on a JupyterHub, else None.

    :func:`hub_proxy_template` with ``%PORT%`` replaced, exactly as TensorBoard's
    ``_display_ipython`` replaces it: ``JUPYTERHUB_SERVICE_PREFIX=/user/alice`` gives
    ``/user/alice/proxy/6006/`` (the trailing slash is required by TensorBoard's relative URLs).

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"`port` must be an integer in 1..65535. Received: port={port!r}")
    template = hub_proxy_template()
    return None if template is None else template.replace("%PORT%", str(port))


def prepare_magic() -> dict[str, Any]:
    """Get TensorBoard's ``%tensorboard`` magic ready for this lab; return what was done.

    1. Removes the info files of TensorBoards that are gone (:func:`remove_stale`), so that
       ``%tensorboard`` starts a server instead of "reusing" a dead one.
    2. Sets ``TENSORBOARD_BINARY`` (``tensorboard/manager.py`` runs the program it names, else
       ``tensorboard`` from ``PATH``) to a small launcher that starts this Python's TensorBoard
       without importing TensorFlow (its bundled stub, as :func:`start` does): about 500 MB
       less per server, which is what sizes a classroom hub.
    3. On a JupyterHub, sets ``TENSORBOARD_PROXY_URL`` (unless already set) to
       :func:`hub_proxy_template`, so ``%tensorboard``'s panel loads through
       jupyter-server-proxy.

    What is already set is left alone.

    Returns:
        ``{"stale_removed": [pids], "TENSORBOARD_BINARY": path or None,
        "TENSORBOARD_PROXY_URL": template or None}`` (None: left alone / not needed).

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    done: dict[str, Any] = {"stale_removed": remove_stale(), "TENSORBOARD_BINARY": None,
                            "TENSORBOARD_PROXY_URL": None}
    if "TENSORBOARD_BINARY" not in os.environ:
        os.environ["TENSORBOARD_BINARY"] = done["TENSORBOARD_BINARY"] = _launcher_script()
    if "TENSORBOARD_PROXY_URL" not in os.environ:
        template = hub_proxy_template()
        if template is not None:
            os.environ["TENSORBOARD_PROXY_URL"] = template
            done["TENSORBOARD_PROXY_URL"] = template
    return done


def _launcher_script() -> str:
    """An executable that runs :data:`_LAUNCHER` with this Python (written once per user)."""
    folder = os.path.join(tempfile.gettempdir(), f"labkit-{os.getuid()}")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = os.path.join(folder, "tensorboard")
    text = f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -c {shlex.quote(_LAUNCHER)} \"$@\"\n"
    if not os.path.exists(path) or open(path).read() != text:
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o700)
        os.replace(tmp, path)
    return path


def _info_dir() -> str:
    from labkit._tf_private import tensorboard_info_dir

    return tensorboard_info_dir()


def remove_stale() -> list[int]:
    """Delete TensorBoard info files whose process is gone; return their pids.

    TensorBoard records each server in ``$TMPDIR/.tensorboard-info/pid-N.info`` and
    deletes it on a clean exit only. After a kill, a crash or a reboot the file stays,
    and ``%tensorboard`` then "reuses" a dead server. This removes such files.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    from tensorboard import manager

    removed = []
    for info in manager.get_all():
        if not _pid_alive(info.pid):
            path = os.path.join(_info_dir(), f"pid-{info.pid}.info")
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            removed.append(info.pid)
    return removed


def list_running() -> list[Any]:
    """``TensorBoardInfo`` of every live TensorBoard of this user (stale entries removed first).

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    from tensorboard import manager

    remove_stale()
    return [info for info in manager.get_all() if _pid_alive(info.pid)]


def magic_servers(logdir: str | os.PathLike, cwd: str | os.PathLike | None = None) -> list[TensorBoardHandle]:
    """Live TensorBoards that ``%tensorboard --logdir logdir`` started from ``cwd`` (default: here).

    TensorBoard records each server's working directory and arguments in its info file (the
    ``cache_key`` of ``tensorboard/manager.py``); this finds those whose ``--logdir`` is
    ``logdir``. Pass a handle's ``port`` to :func:`stop` to end one.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    import base64
    import json

    _check_logdir(logdir)
    cwd = os.path.realpath(os.fspath(cwd) if cwd is not None else os.getcwd())
    want = os.path.realpath(os.path.join(cwd, os.fspath(logdir)))
    found = []
    for info in list_running():
        try:
            key = json.loads(base64.b64decode(info.cache_key))
        except (ValueError, TypeError):
            continue
        if os.path.realpath(key.get("working_directory", "")) != cwd:
            continue
        path = os.path.realpath(os.path.join(cwd, info.logdir or ""))
        if info.logdir and path == want:
            found.append(TensorBoardHandle(pid=info.pid, port=info.port, logdir=path, reused=True))
    return found


def _check_logdir(logdir: Any) -> str:
    if isinstance(logdir, bytes) or not isinstance(logdir, (str, os.PathLike)) or not str(logdir):
        raise TypeError(f"`logdir` must be a non-empty path. Received: logdir={logdir!r}")
    return os.path.realpath(os.fspath(logdir))


def _check_timeout(timeout: Any) -> float:
    if (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout) or timeout <= 0):
        raise ValueError(f"`timeout` must be a finite number of seconds > 0. Received: timeout={timeout!r}")
    return float(timeout)


def start(
    logdir: str | os.PathLike,
    port: int | None = None,
    *,
    reload_interval: float = 2.0,
    wait: bool = True,
    timeout: float = 90.0,
    reuse: bool = True,
) -> TensorBoardHandle:
    """Start TensorBoard on 127.0.0.1 for ``logdir`` (or reuse a live one serving it).

    Args:
        logdir: the folder whose sub-folders are the runs (created if missing).
        port: a port, or None for a free one.
        reload_interval: seconds between TensorBoard's re-reads of the event files.
        wait: block until the server answers (TensorBoard takes several seconds to start;
            pass False to train meanwhile and call ``handle.wait_ready()`` later).
        timeout: seconds to wait when ``wait`` is True.
        reuse: reuse a live TensorBoard already serving this logdir on 127.0.0.1.

    Returns:
        A :class:`TensorBoardHandle`; show it with :func:`display`, end it with :func:`stop`.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    path = _check_logdir(logdir)
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise ValueError(f"`port` must be None or an integer in 1..65535. Received: port={port!r}")
    if isinstance(reload_interval, bool) or not isinstance(reload_interval, (int, float)) or reload_interval <= 0:
        raise ValueError(f"`reload_interval` must be a number > 0. Received: reload_interval={reload_interval!r}")
    _check_timeout(timeout)
    os.makedirs(path, exist_ok=True)
    remove_stale()
    if reuse:
        for h in list(_LAUNCHED.values()):
            if h.logdir == path and h.alive() and (port is None or h.port == port):
                return h.wait_ready(timeout) if wait else h
        for info in list_running():
            if os.path.realpath(info.logdir or "") == path and (port is None or info.port == port):
                h = TensorBoardHandle(pid=info.pid, port=info.port, logdir=path, reused=True)
                if h.ready():
                    return h
    port = port or find_free_port()
    fd, log_path = tempfile.mkstemp(prefix=f"labkit-tensorboard-{port}-", suffix=".log")
    cmd = [
        sys.executable, "-c", _LAUNCHER,
        "--logdir", path,
        "--host", HOST,
        "--port", str(port),
        "--reload_interval", f"{float(reload_interval):g}",
    ]
    with os.fdopen(fd, "wb") as log:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends its children too
        )
    handle = TensorBoardHandle(pid=proc.pid, port=port, logdir=path, process=proc, log_path=log_path)
    _LAUNCHED[port] = handle
    if wait:
        try:
            handle.wait_ready(timeout)
        except Exception:
            stop(handle)
            raise
    return handle


# TensorBoard imports TensorFlow at start-up only to offer TF-backed extras; the scalars,
# histograms, images, text and graphs dashboards run on its bundled stub. Registering the
# (empty) module ``tensorboard.compat.notf`` is TensorBoard's own switch for the stub (the
# ``//tensorboard/compat:no_tensorflow`` build target); it saves seconds and ~500 MB per server.
_LAUNCHER = (
    "import sys, types; "
    "sys.modules['tensorboard.compat.notf'] = types.ModuleType('tensorboard.compat.notf'); "
    "from tensorboard.main import run_main; sys.argv[0] = 'tensorboard'; run_main()"
)


def _iframe_html(src: str, height: int) -> str:
    import html

    return (
        f'<iframe src="{html.escape(src)}" width="100%" height="{int(height)}" '
        'frameborder="0" title="TensorBoard"></iframe>'
    )


def display(handle: TensorBoardHandle, height: int = 600) -> Any:
    """Show a running TensorBoard inline (an IFrame on ``handle.browser_url``).

    Returns the ``IPython.display.IFrame`` (a notebook cell shows it when it is the last
    expression; it is also displayed right away when called inside a running kernel).

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    if not isinstance(handle, TensorBoardHandle):
        raise TypeError(f"`handle` must be a TensorBoardHandle from start(). Received: {type(handle).__name__}")
    if isinstance(height, bool) or not isinstance(height, int) or height < 100:
        raise ValueError(f"`height` must be an integer >= 100 (pixels). Received: height={height!r}")
    from IPython.display import IFrame

    return IFrame(handle.browser_url, width="100%", height=height)


def stop(handle: TensorBoardHandle | int | None = None, timeout: float = 10.0) -> list[int]:
    """Stop TensorBoard: a handle, a port, or (None) every server this process launched.

    A server we launched is ended with its whole process group (TERM, then KILL after
    ``timeout`` seconds); a reused server is ended by its pid only if it is a TensorBoard.
    Its info file is removed. Returns the pids stopped.

    Introduced in notebooks/10_summary_tensorboard.ipynb.
    """
    if handle is None:
        targets = list(_LAUNCHED.values())
    elif isinstance(handle, TensorBoardHandle):
        targets = [handle]
    elif isinstance(handle, int) and not isinstance(handle, bool):
        targets = [h for h in _LAUNCHED.values() if h.port == handle]
        if not targets:
            targets = [
                TensorBoardHandle(pid=i.pid, port=i.port, logdir=i.logdir, reused=True)
                for i in list_running() if i.port == handle
            ]
        if not targets:
            raise ValueError(f"No TensorBoard is running on port {handle}. Received: handle={handle!r}")
    else:
        raise TypeError(f"`handle` must be a TensorBoardHandle, a port or None. Received: {handle!r}")
    stopped = []
    for h in targets:
        if h.process is not None:
            stop_process_group(h.process, timeout)
        else:
            _stop_pid(h.pid, timeout)
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(_info_dir(), f"pid-{h.pid}.info"))
        if h.log_path:
            with contextlib.suppress(FileNotFoundError):
                os.remove(h.log_path)
        _LAUNCHED.pop(h.port, None)
        stopped.append(h.pid)
    return stopped


def _stop_pid(pid: int, timeout: float) -> None:
    import psutil

    try:
        p = psutil.Process(pid)
        if "tensorboard" not in " ".join(p.cmdline()):
            raise ValueError(f"pid {pid} is not a TensorBoard process; not stopping it.")
        p.terminate()
        p.wait(timeout)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        p.kill()

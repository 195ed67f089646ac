"""``labkit doctor``: is this machine ready for the lab? (run inline in notebooks/00_start_here.ipynb)

Each check prints one row: what it is, OK / WARN / FAIL, what was found, and for a
failure the one-line fix. The command exits non-zero when any check fails.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import os
import socket
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from labkit.i18n import N_, _
from labkit.tooling.paths import learner_state_dirs, notebooks_dir

FIX_INSTALL = N_("run `make setup` (or: pip install -e '.[test]') from the lab folder")

# (distribution, import name, minimum version, label)
REQUIREMENTS: tuple[tuple[str, str, str, str], ...] = (
    ("tensorflow", "tensorflow", "2.16", "TensorFlow"),
    ("keras", "keras", "3.0", "Keras"),
    ("tensorboard", "tensorboard", "2.16", "TensorBoard"),
    ("jupyterlab", "jupyterlab", "4.0", "JupyterLab"),
    ("ipywidgets", "ipywidgets", "8.0", "ipywidgets"),
    ("matplotlib", "matplotlib", "3.7", "matplotlib"),
    ("scikit-learn", "sklearn", "1.3", "scikit-learn"),
)


@dataclass(frozen=True)
class Check:
    """One row of the doctor's table."""

    name: str
    status: str  # "OK", "WARN" or "FAIL"
    found: str
    fix: str = ""


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


MIN_PYTHON = (3, 10)


def check_python(version_info: tuple[int, ...] | None = None) -> Check:
    version = tuple(version_info or sys.version_info)[:3]
    found = ".".join(map(str, version))
    if version >= MIN_PYTHON:
        return Check(_("Python >= 3.10"), "OK", found)
    return Check(_("Python >= 3.10"), "FAIL", found, _("install Python 3.10 or newer and re-run `make setup`"))


def check_package(dist: str, module: str, minimum: str, label: str) -> Check:
    name = f"{label} >= {minimum}"
    try:
        version = md.version(dist)
    except md.PackageNotFoundError:
        return Check(name, "FAIL", _("not installed"), _(FIX_INSTALL))
    if _version_tuple(version) < _version_tuple(minimum):
        return Check(name, "FAIL", version, f"pip install -U '{dist}>={minimum}'")
    try:
        importlib.import_module(module)
    except Exception as exc:  # a broken install: report it, do not crash the doctor
        return Check(name, "FAIL", _("{version}, import failed: {error}").format(version=version, error=type(exc).__name__), _(FIX_INSTALL))
    return Check(name, "OK", version)


def check_widgets_frontend() -> Check:
    """ipywidgets needs its JupyterLab extension (jupyterlab_widgets) or sliders never render."""
    name = _("ipywidgets front end")
    try:
        version = md.version("jupyterlab_widgets")
    except md.PackageNotFoundError:
        return Check(name, "FAIL", _("jupyterlab_widgets missing"), "pip install 'jupyterlab_widgets>=3'")
    ext = Path(sys.prefix) / "share/jupyter/labextensions/@jupyter-widgets/jupyterlab-manager"
    if not (ext / "package.json").exists():
        return Check(name, "FAIL", _("{version}, extension files missing").format(version=version), "pip install --force-reinstall jupyterlab_widgets")
    return Check(name, "OK", f"jupyterlab_widgets {version}")


def check_devices() -> Check:
    try:
        import tensorflow as tf

        devices = tf.config.list_physical_devices()
    except Exception as exc:
        return Check(_("TensorFlow devices"), "FAIL", type(exc).__name__, _(FIX_INSTALL))
    kinds = [d.device_type for d in devices]
    found = ", ".join(f"{kinds.count(k)} {k}" for k in sorted(set(kinds)))
    if "GPU" in kinds:
        return Check(_("TensorFlow devices"), "OK", found)
    return Check(_("TensorFlow devices"), "OK", found + _(" (no GPU: fine, the lab is sized for CPU)"))


def check_writable(folders: list[Path] | None = None) -> Check:
    folders = folders if folders is not None else learner_state_dirs()
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder):
                pass
        except OSError as exc:
            return Check(_("logs/checkpoints writable"), "FAIL", f"{folder}: {exc.strerror}",
                         _("make {folder} writable (chmod u+w) or set LABKIT_ROOT to a writable copy").format(folder=folder))
    root = notebooks_dir()
    shown = [f.relative_to(root) if f.is_relative_to(root) else f for f in folders]
    return Check(_("logs/checkpoints writable"), "OK", ", ".join(str(f) for f in shown))


def check_port(port: int = 8888) -> Check:
    """A loopback port must be bindable; say whether the default lab port is taken."""
    name = _("localhost port")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
    except OSError as exc:
        return Check(name, "FAIL", _("cannot bind 127.0.0.1: {error}").format(error=exc.strerror), _("check the loopback interface (ip link set lo up)"))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return Check(name, "WARN", _("{port} in use").format(port=port), _("start the lab on another port: make lab PORT={other}").format(other=port + 11))
    return Check(name, "OK", _("127.0.0.1:{port} free").format(port=port))


def run_checks() -> list[Check]:
    """Every check, in the order of the table."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    checks = [check_python()]
    checks += [check_package(*req) for req in REQUIREMENTS]
    checks += [check_widgets_frontend(), check_devices(), check_writable(), check_port()]
    return checks


def _columns(text: str) -> int:
    """Terminal columns of ``text``: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    """``text`` left-aligned in ``width`` terminal columns (``f"{text:<{width}}"`` for ASCII)."""
    return text + " " * max(0, width - _columns(text))


def format_table(checks: list[Check]) -> str:
    """The checks as a plain-text table, with a fix line under each failure."""
    width = max(_columns(c.name) for c in checks)
    lines = [f"{_pad(_('check'), width)}  {_pad(_('status'), 6)}  {_('found')}",
             f"{'-' * width}  ------  -----"]
    for c in checks:
        lines.append(f"{_pad(c.name, width)}  {c.status:<6}  {c.found}")
        if c.fix:
            lines.append(f"{'':<{width}}  {_pad(_('fix:'), 8)}{c.fix}")
    failed = sum(c.status == "FAIL" for c in checks)
    lines.append(_("all checks passed") if not failed
                 else _("{failed} check(s) failed").format(failed=failed))
    return "\n".join(lines)


def main() -> int:
    """Print the table; return 1 if any check failed."""
    checks = run_checks()
    print(format_table(checks))
    return 1 if any(c.status == "FAIL" for c in checks) else 0

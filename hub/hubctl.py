"""Run the lab as a classroom on one machine: JupyterHub, one Unix account per learner.

    sudo .venv/bin/python hub/hubctl.py add-learners alice bob     # Unix accounts + hub group
    sudo .venv/bin/python hub/hubctl.py start                      # = make hub
    sudo .venv/bin/python hub/hubctl.py remove-learners alice bob  # userdel -r

Everything here runs as root (the hub switches to each learner's account to start their
server). ``start`` first makes sure every learner account can run the lab's Python
environment (:func:`learner_venv`), then runs ``jupyterhub -f hub/jupyterhub_config.py``.
The settings are environment variables read by hub/jupyterhub_config.py (see there).
tests/test_hub.py drives this module and the config for real.
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "hub" / "jupyterhub_config.py"
REPO_VENV = ROOT / ".venv"
LEARNER_GROUP = os.environ.get("TFLAB_HUB_GROUP", "tflab-learners")
# Where an overlay venv goes when the learners cannot run the repo's venv (see learner_venv)
OVERLAY_VENV = Path(os.environ.get("TFLAB_HUB_OVERLAY", "/opt/tf-training-lab/venv"))
PROBE_USER = "nobody"  # an account with no special rights: what a learner can run, it can


def runs_as(user: str, *cmd: str) -> bool:
    """Whether ``cmd`` succeeds when run as ``user`` (root only)."""
    try:
        return subprocess.run(["runuser", "-u", user, "--", *cmd], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def base_python_for_learners() -> str:
    """A Python of the repo venv's X.Y version that an ordinary account can run.

    The repo venv's ``bin/python`` is a symlink to the interpreter it was made from; on this
    development machine that is pyenv's under ``/root`` (mode 700), which no learner can
    enter. A system interpreter of the same minor version runs the same wheels (CPython's
    ABI is stable within a minor version).
    """
    want = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [os.path.realpath(sys.executable), f"/usr/bin/python{want}",
                  f"/usr/local/bin/python{want}", shutil.which(f"python{want}") or ""]
    check = f"import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '{want}' else 1)"
    for py in dict.fromkeys(c for c in candidates if c):
        if os.path.exists(py) and runs_as(PROBE_USER, py, "-c", check):
            return py
    raise SystemExit(f"hubctl: no Python {want} that an ordinary account can run "
                     f"(tried {candidates}); install python{want} or make the repo venv's "
                     "interpreter world-readable")


def learner_venv(repo_venv: Path = REPO_VENV, overlay: Path = OVERLAY_VENV) -> Path:
    """The venv the learners' servers run: the repo's own, or an overlay onto its packages.

    If an ordinary account can run ``<repo venv>/bin/python`` and import the lab from it,
    that venv is returned unchanged. Otherwise (this machine: the interpreter lives under
    /root) ``overlay`` is (re)built: a venv of a system Python of the same version whose
    only content is a ``.pth`` file adding the repo venv's site-packages (read-only, shared:
    nothing is copied or installed), links to its share/ and etc/ (JupyterLab's assets and
    extension settings), plus the repo venv's console scripts
    (``jupyterhub-singleuser``, ``jupyter``, ``tensorboard``...) with their first line
    pointing at the overlay's Python. Idempotent; root only.
    """
    probe = "import jupyterhub.singleuser, jupyterlab, jupyter_server_proxy, tensorboard, labkit"
    repo_py = str(repo_venv / "bin" / "python")
    if runs_as(PROBE_USER, repo_py, "-c", probe):
        return repo_venv
    base = base_python_for_learners()
    scripts = sorted(p.name for p in (repo_venv / "bin").iterdir())
    stamp = f"{repo_venv.resolve()}\n{base}\n{hashlib.sha256(' '.join(scripts).encode()).hexdigest()}\n"
    marker = overlay / ".tf-training-lab-overlay"
    if marker.exists() and marker.read_text() == stamp and runs_as(
            PROBE_USER, str(overlay / "bin" / "python"), "-c", probe):
        return overlay  # already built for this venv: reuse (a running hub may be using it)
    # build beside it, then swap in, so a hub running on the old one is disturbed for a moment only
    new = overlay.with_name(f"{overlay.name}.new-{os.getpid()}")
    build_overlay(base, repo_venv, new, final=overlay)
    (new / marker.name).write_text(stamp)
    old = overlay.with_name(f"{overlay.name}.old-{os.getpid()}")
    if overlay.exists():
        overlay.rename(old)
    new.rename(overlay)
    shutil.rmtree(old, ignore_errors=True)
    if not runs_as(PROBE_USER, str(overlay / "bin" / "python"), "-c", probe):
        raise SystemExit(f"hubctl: built {overlay}, but an ordinary account still cannot import "
                         f"the lab from it ({probe!r}); check the permissions of {repo_venv}")
    return overlay


def build_overlay(base: str, repo_venv: Path, overlay: Path, final: Path) -> None:
    """The overlay venv in ``overlay``, its scripts pointing at ``final``'s Python."""
    subprocess.run([base, "-m", "venv", "--without-pip", "--clear", str(overlay)], check=True)
    pth = site_packages(overlay) / "zz_tf_training_lab_repo_venv.pth"
    # "import" lines in a .pth run at start-up: addsitedir also processes the repo venv's own
    # .pth files (the editable install of labkit is one)
    pth.write_text(f"import site; site.addsitedir({str(site_packages(repo_venv))!r})\n")
    # Jupyter finds JupyterLab's assets, the lab extensions (widgets, server proxy) and the
    # server-extension switches under sys.prefix/share/jupyter and sys.prefix/etc/jupyter
    for shared in ("share", "etc"):
        if (repo_venv / shared).is_dir() and not (overlay / shared).exists():
            (overlay / shared).symlink_to(repo_venv / shared)
    prefixes = (f"#!{repo_venv}/bin/python", f"#!{repo_venv.resolve()}/bin/python")
    for script in sorted((repo_venv / "bin").iterdir()):
        target = overlay / "bin" / script.name
        if script.is_symlink() or not script.is_file() or target.exists():
            continue
        try:
            first, rest = script.read_text().split("\n", 1)
        except (UnicodeDecodeError, ValueError):
            continue
        if first.startswith(prefixes):
            target.write_text(f"#!{final}/bin/python\n{rest}")
            target.chmod(0o755)


def add_learners(names: list[str], group: str = LEARNER_GROUP) -> None:
    """Unix accounts with a home each, in the hub's learner group (root only)."""
    try:
        grp.getgrnam(group)
    except KeyError:
        subprocess.run(["groupadd", group], check=True)
    for name in names:
        try:
            pwd.getpwnam(name)
            subprocess.run(["usermod", "-aG", group, name], check=True)
        except KeyError:
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--gid", group,
                            name], check=True)
        # a learner's kernel can read any file its account can: homes are private (700)
        Path(pwd.getpwnam(name).pw_dir).chmod(0o700)


def remove_learners(names: list[str]) -> None:
    """``userdel -r`` each account (its home goes too); ends its processes first."""
    for name in names:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        uid = pwd.getpwnam(name).pw_uid
        for proc in psutil.process_iter(["uids"]):  # by pid: only this account's processes
            if proc.info["uids"] and proc.info["uids"].real == uid:
                with contextlib.suppress(psutil.Error):
                    proc.kill()
        subprocess.run(["userdel", "-r", "-f", name], check=False,
                       stderr=subprocess.DEVNULL)


def hub_env(venv: Path) -> dict[str, str]:
    env = dict(os.environ, TFLAB_HUB_VENV=str(venv))
    # the hub's own scripts (jupyterhub, the idle culler) come from the repo venv
    env["PATH"] = f"{REPO_VENV / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("venv", help="prepare (and print) the venv the learners' servers run")
    sub.add_parser("start", help="prepare the venv, then run JupyterHub (make hub)")
    for name in ("add-learners", "remove-learners"):
        sub.add_parser(name).add_argument("names", nargs="+")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run as root: the hub starts each learner's server under their own account")
    if args.cmd == "venv":
        print(learner_venv())
    elif args.cmd == "add-learners":
        add_learners(args.names)
        print(f"added to group {LEARNER_GROUP}: {', '.join(args.names)} "
              "(each sets a password at first login)")
    elif args.cmd == "remove-learners":
        remove_learners(args.names)
    elif args.cmd == "start":
        if not shutil.which("configurable-http-proxy"):
            parser.error("configurable-http-proxy not found: npm install -g configurable-http-proxy")
        venv = learner_venv()
        print(f"hubctl: learners' servers run {venv}/bin/jupyterhub-singleuser", flush=True)
        os.execvpe(str(REPO_VENV / "bin" / "jupyterhub"),
                   ["jupyterhub", "-f", str(CONFIG)], hub_env(venv))
    return 0


if __name__ == "__main__":
    sys.exit(main())

# JupyterHub for a one-machine TF Training Lab workshop. Start it with `make hub` (as root),
# which runs hub/hubctl.py start. tests/test_hub.py starts exactly this file for real.
#
# - Learners log in with FirstUseAuthenticator: the first login to an account sets its password
#   (no password is stored in the repository). Only members of the Unix group
#   $TFLAB_HUB_GROUP (default tflab-learners; `hubctl.py add-learners NAME...` creates the
#   accounts) and the admin ($TFLAB_HUB_ADMIN, default "instructor") may log in. Hand each
#   learner their account name; whoever logs in first as that name owns it, so let the learners
#   log in at the start of the class (the admin can reset a password from the admin panel's
#   user list: delete the user and add it again, or use /hub/auth/change-password as the user).
# - Each learner's server runs under their own Unix account (LocalProcessSpawner), in their home.
# - The lab reaches each home the way hubs do it: before each start the hub copies the
#   repository's notebooks/ into ~/tf-training-lab/notebooks, adding only missing files (a
#   learner's edited notebook is never overwritten, like nbgitpuller's merge).
# - The lab opens on 00_start_here; TensorBoard reaches the browser through jupyter-server-proxy
#   at /user/<name>/proxy/<port>/ (labkit.tensorboard and TensorBoard's TENSORBOARD_PROXY_URL).
# - jupyterhub-idle-culler stops servers idle for $TFLAB_HUB_CULL_TIMEOUT s (default 3600).
# - Limits: LocalProcessSpawner does NOT enforce mem_limit / cpu_limit. It only passes them to
#   the server as MEM_LIMIT / CPU_LIMIT (shown by jupyter-resource-usage if installed). To
#   enforce them use SystemdSpawner (cgroups via systemd) on a systemd host, or Kubernetes
#   (hub/z2jh-values.yaml). See docs/instructor-guide.md.
#
# Settings (environment variables): TFLAB_HUB_IP (127.0.0.1), TFLAB_HUB_PORT (8000),
# TFLAB_HUB_STATE (/var/lib/tf-training-lab-hub: database, cookie secret, password file),
# TFLAB_HUB_VENV (venv whose bin/jupyterhub-singleuser the learners run; hubctl.py sets it),
# TFLAB_HUB_HUB_PORT (8081), TFLAB_HUB_PROXY_API_PORT (8001), TFLAB_HUB_MEM_LIMIT (2.5G),
# TFLAB_HUB_CPU_LIMIT (1), TFLAB_HUB_SOLUTIONS (0: notebooks/solutions is not copied).
# ruff: noqa: F821  (`c` is provided by JupyterHub)

import grp
import os
import pwd
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAB = "tf-training-lab"  # the folder in each learner's home
env = os.environ.get

ip, port = env("TFLAB_HUB_IP", "127.0.0.1"), int(env("TFLAB_HUB_PORT", "8000"))
state = Path(env("TFLAB_HUB_STATE", "/var/lib/tf-training-lab-hub"))
state.mkdir(parents=True, exist_ok=True, mode=0o700)
venv = Path(env("TFLAB_HUB_VENV", str(ROOT / ".venv")))
admin = env("TFLAB_HUB_ADMIN", "instructor")
group = env("TFLAB_HUB_GROUP", "tflab-learners")

# --- the hub and its proxy (bound to one address; put TLS in front for a real class) ---
c.JupyterHub.bind_url = f"http://{ip}:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env("TFLAB_HUB_HUB_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env('TFLAB_HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every learner's server

# --- who may log in ---
c.JupyterHub.authenticator_class = "firstuseauthenticator.FirstUseAuthenticator"
c.FirstUseAuthenticator.dbm_path = str(state / "passwords.dbm")
c.FirstUseAuthenticator.create_users = False  # only the accounts below, never a typo'd name
c.FirstUseAuthenticator.min_password_length = 8
try:
    learners = set(grp.getgrnam(group).gr_mem)
    learners |= {u.pw_name for u in pwd.getpwall() if u.pw_gid == grp.getgrnam(group).gr_gid}
except KeyError:
    learners = set()
c.Authenticator.allowed_users = learners
c.Authenticator.admin_users = {admin}

# --- one Unix account and home per learner ---
c.JupyterHub.spawner_class = "jupyterhub.spawner.LocalProcessSpawner"
c.Spawner.cmd = [str(venv / "bin" / "jupyterhub-singleuser")]
c.Spawner.notebook_dir = f"~/{LAB}"
c.Spawner.default_url = "/lab/tree/notebooks/00_start_here.ipynb"
c.Spawner.start_timeout = 300  # a JupyterLab start on a busy 2-core machine can take a minute
c.Spawner.http_timeout = 300
# per learner, measured (docs/classroom-measurements.md): about 1.2 GB (server + kernel tree) on the
# heaviest notebook; 2.5G leaves room for a second kernel a learner forgot to shut down
c.Spawner.mem_limit = env("TFLAB_HUB_MEM_LIMIT", "2.5G")  # NOT enforced by LocalProcessSpawner
c.Spawner.cpu_limit = float(env("TFLAB_HUB_CPU_LIMIT", "1"))  # NOT enforced either
c.Spawner.environment = {
    "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    # hub/singleuser/jupyter_server_config.py: the server proxy serves only the learner's own
    # ports (one machine = one shared 127.0.0.1)
    "JUPYTER_CONFIG_PATH": str(ROOT / "hub" / "singleuser"),
    # offline classrooms: the lab downloads nothing; carry the hub's proxy settings through
    **{k: v for k in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY",
                      "no_proxy", "LABKIT_OFFLINE", "TF_CPP_MIN_LOG_LEVEL")
       if (v := os.environ.get(k)) is not None},
}
solutions = env("TFLAB_HUB_SOLUTIONS", "0") == "1"


def copy_missing(src: Path, dst: Path, uid: int, gid: int) -> None:
    """Copy the files of src that dst lacks, owned by the learner; never overwrite."""
    skip = {"runs", "checkpoints", "exported", ".ipynb_checkpoints", "__pycache__"}
    if not solutions:
        skip.add("solutions")
    if not dst.exists():
        dst.mkdir(mode=0o755)
        os.chown(dst, uid, gid)
    for item in src.iterdir():
        if item.name in skip:
            continue
        target = dst / item.name
        if item.is_dir():
            copy_missing(item, target, uid, gid)
        elif not target.exists():
            shutil.copy2(item, target)
            os.chown(target, uid, gid)


def deliver_lab(spawner):
    """pre_spawn_hook: the lab into ~/tf-training-lab, and the learner's own TMPDIR."""
    user = pwd.getpwnam(spawner.user.name)
    home = Path(user.pw_dir)
    home.chmod(0o700)  # learners' kernels run code: no learner may read another's home
    lab = home / LAB
    lab.mkdir(mode=0o755, exist_ok=True)
    copy_missing(ROOT / "notebooks", lab / "notebooks", user.pw_uid, user.pw_gid)
    os.chown(lab, user.pw_uid, user.pw_gid)
    tmp = home / ".cache" / LAB / "tmp"
    for d in (home / ".cache", home / ".cache" / LAB, tmp):
        d.mkdir(mode=0o700, exist_ok=True)
        os.chown(d, user.pw_uid, user.pw_gid)
    spawner.environment = {
        **spawner.environment,
        "LABKIT_ROOT": str(lab),  # labkit.tooling.paths: runs/, checkpoints/ under the learner's copy
        # own TMPDIR: TensorBoard's registry ($TMPDIR/.tensorboard-info) is per learner, and
        # never the hub's (the test suite's TMPDIR is private to root)
        "TMPDIR": str(tmp),
    }


c.Spawner.pre_spawn_hook = deliver_lab

# --- stop idle servers (frees a learner's memory when they walk away) ---
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                f"--timeout={int(env('TFLAB_HUB_CULL_TIMEOUT', '3600'))}", "--cull-every=300"],
}]
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}]

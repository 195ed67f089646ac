"""The classroom path for real: JupyterHub, two learners in Chromium, TensorBoard through the hub.

What it does, in order (docs/instructor-guide.md, "Running on JupyterHub", describes the same):

1. As root: creates two learner accounts with ``useradd`` (hub/hubctl.py add-learners, in a
   group of their own), prepares the venv their servers run (hub/hubctl.py learner_venv), and
   starts ``jupyterhub -f hub/jupyterhub_config.py`` (configurable-http-proxy, FirstUse
   authenticator, LocalProcessSpawner, idle culler) on a free 127.0.0.1 port.
2. Each learner, in their own Chromium context (own cookies), logs in for the first time
   (which sets their password), lands on 00_start_here (the hub's default URL), opens
   notebooks/10_summary_tensorboard.ipynb from their own home copy, runs every cell above the
   last (the last stops TensorBoard), and sees TensorBoard's UI in the notebook's panel,
   served through ``/user/<name>/proxy/<port>/``, reading their own home's logdir.
3. Isolation: learner A's browser session is refused B's server, B's notebook file (files/
   and the contents API) and B's TensorBoard URL, and also B's TensorBoard port through A's
   own proxy (/user/A/proxy/<B's port>/).
4. A logs out; then nothing of A's (lab, files, API, TensorBoard) answers A's browser.
5. Stops the hub (and with it every server, kernel and TensorBoard) and removes the accounts
   with ``userdel -r``, whatever happened.

Screenshots go to ``artifacts/hub/``; the learners' measured memory (single-user server +
kernel + TensorBoard, summed over each account's processes) to ``artifacts/hub/memory.json``,
which benchmarks/classroom.py puts into docs/classroom-measurements.md. Skipped with the
reason when not root, or Chromium, configurable-http-proxy or jupyterhub is missing.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from browser_helpers import CHROMIUM, headless_chromium, wait_for_cells

from labkit.processes import stop_process_group

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "hub"
NOTEBOOK = "10_summary_tensorboard.ipynb"
TENSORBOARD_RUN = "GradientDescentOptimizer"  # one of the runs notebook 10 writes
HUB_START_S, SPAWN_S, RUN_S = 120, 300, 420
ENABLE = "sudo make test  (as root: installs chromium and configurable-http-proxy, see .ci/run)"

_spec = importlib.util.spec_from_file_location("hubctl", ROOT / "hub" / "hubctl.py")
hubctl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hubctl)


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "not root: the hub test creates Unix accounts (run the suite as root, as CI does)"
    if not Path(CHROMIUM).exists():
        return f"chromium not installed ({CHROMIUM}): {ENABLE}"
    if not shutil.which("configurable-http-proxy"):
        return f"configurable-http-proxy not installed (npm install -g configurable-http-proxy): {ENABLE}"
    if importlib.util.find_spec("jupyterhub") is None or importlib.util.find_spec("firstuseauthenticator") is None:
        return "jupyterhub / jupyterhub-firstuseauthenticator not installed: pip install -e '.[test]'"
    if importlib.util.find_spec("playwright") is None:
        return "playwright (Python package) not installed: pip install -e '.[test]'"
    return None


needs_hub = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MemorySampler(threading.Thread):
    """Peak summed RSS of every process owned by each learner's Unix account."""

    def __init__(self, uids: dict[str, int], interval: float = 0.5):
        super().__init__(daemon=True)
        self.uids, self.interval = uids, interval
        self.peak = dict.fromkeys(uids, 0)
        self.done = threading.Event()

    def now(self) -> dict[str, int]:
        total = dict.fromkeys(self.uids, 0)
        by_uid = {uid: name for name, uid in self.uids.items()}
        for proc in psutil.process_iter(["uids", "memory_info"]):
            uids, mem = proc.info["uids"], proc.info["memory_info"]
            if uids and mem and uids.real in by_uid:
                total[by_uid[uids.real]] += mem.rss
        return total

    def run(self) -> None:
        while not self.done.is_set():
            for name, rss in self.now().items():
                self.peak[name] = max(self.peak[name], rss)
            self.done.wait(self.interval)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """The repo's hub config, for real, on free ports; yields (base_url, learners, sampler)."""
    tag = secrets.token_hex(3)
    group = f"tflabt{tag}"
    learners = [f"tflab{tag}a", f"tflab{tag}b"]
    state = tmp_path_factory.mktemp("hub")
    state.chmod(0o700)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = log = sampler = None
    try:
        hubctl.add_learners(learners, group=group)
        for name in learners:
            prepare_lab_settings(name)
        venv = hubctl.learner_venv()
        env = dict(hubctl.hub_env(venv), TFLAB_HUB_STATE=str(state), TFLAB_HUB_PORT=str(port),
                   TFLAB_HUB_HUB_PORT=str(free_port()), TFLAB_HUB_PROXY_API_PORT=str(free_port()),
                   TFLAB_HUB_GROUP=group, TFLAB_HUB_ADMIN=f"tflab{tag}admin",
                   NO_PROXY="127.0.0.1,localhost,::1", no_proxy="127.0.0.1,localhost,::1")
        log = (state / "hub.log").open("wb")
        proc = subprocess.Popen([str(hubctl.REPO_VENV / "bin" / "jupyterhub"), "-f", str(hubctl.CONFIG)],
                                cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        deadline = time.monotonic() + HUB_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail("the hub exited early:\n" + (state / "hub.log").read_text()[-4000:])
            try:
                urllib.request.urlopen(f"{base}/hub/api/", timeout=5).read()
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    pytest.fail(f"the hub did not answer within {HUB_START_S} s")
                time.sleep(0.5)
        sampler = MemorySampler({n: pwd.getpwnam(n).pw_uid for n in learners})
        sampler.start()
        yield base, learners, sampler, state
    finally:
        if sampler is not None:
            sampler.done.set()
        if proc is not None:
            proc.terminate()  # the hub stops every learner's server and its proxy
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pass
            stop_process_group(proc)
            stop_pidfile(state / "proxy.pid")
        if log is not None:
            log.close()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(state / "hub.log", ARTIFACTS / "hub.log")
        hubctl.remove_learners(learners)
        subprocess.run(["groupdel", group], check=False, stderr=subprocess.DEVNULL)
        left = [n for n in learners if _account_exists(n) or Path(f"/home/{n}").exists()]
        assert not left, f"accounts or homes left behind: {left}"


def _account_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def stop_pidfile(path: Path) -> None:
    try:
        pid = int(path.read_text())
        p = psutil.Process(pid)
        if "configurable-http-proxy" in " ".join(p.cmdline()):
            p.kill()
    except (OSError, ValueError, psutil.Error):
        pass


def prepare_lab_settings(name: str) -> None:
    """Test-only JupyterLab settings in the learner's home: every cell in the DOM, no autosave."""
    user = pwd.getpwnam(name)
    settings = Path(user.pw_dir) / ".jupyter" / "lab" / "user-settings" / "@jupyterlab"
    files = {
        "notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        "apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                "checkForUpdates": False},
    }
    for rel, values in files.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(values))
    for path in [Path(user.pw_dir) / ".jupyter", *(Path(user.pw_dir) / ".jupyter").rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)


@pytest.fixture(scope="module")
def browser(hub):
    with headless_chromium() as chromium:
        yield chromium


def xsrf(context, name: str) -> str:
    for cookie in context.cookies():
        if cookie["name"] == "_xsrf" and cookie["path"].startswith(f"/user/{name}"):
            return cookie["value"]
    return ""


def get(context, url: str, name: str):
    """GET with the browser context's cookies, as the lab's own fetches do (XSRF header)."""
    return context.request.get(url, headers={"X-XSRFToken": xsrf(context, name)}, timeout=60_000)


def sessions(context, base: str, name: str) -> list[dict]:
    resp = get(context, f"{base}/user/{name}/api/sessions", name)
    assert resp.status == 200, f"{name}: sessions API answered {resp.status}"
    return resp.json()


def kernel_state(context, base: str, name: str) -> str | None:
    for s in sessions(context, base, name):
        if s.get("path", "").endswith(NOTEBOOK):
            return (s.get("kernel") or {}).get("execution_state")
    return None


def run_menu(page, command: str) -> None:
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(f".lm-Menu-item[data-command='{command}']").click()


def errors_outside_expected(page, nb_path: Path) -> list[str]:
    """Tracebacks in cells NOT tagged raises-exception (those show theirs on purpose)."""
    tagged = [("raises-exception" in c.get("metadata", {}).get("tags", []))
              for c in json.loads(nb_path.read_text())["cells"]]
    per_cell = page.evaluate("""() => Array.from(document.querySelectorAll(
        '.jp-NotebookPanel .jp-Cell')).map(c => Array.from(c.querySelectorAll(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")).map(o => o.innerText))""")
    assert len(per_cell) == len(tagged), f"{len(per_cell)} cells on the page, {len(tagged)} in the file"
    bad = re.compile(r"Traceback|^\s*[A-Za-z_][\w.]*(Error|Exception)\b.*:", re.MULTILINE)
    return [f"cell {i}: {t[-800:]}" for i, (texts, expected) in enumerate(zip(per_cell, tagged, strict=True))
            if not expected for t in texts if bad.search(t)]


def login(browser, base: str, name: str, password: str):
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    page.goto(f"{base}/hub/login", timeout=60_000)
    page.locator("input[name=username]").fill(name)
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=password]").press("Enter")
    # first login sets the password; the hub then starts the server and opens the default URL
    page.wait_for_url(re.compile(rf"/user/{name}/lab"), timeout=SPAWN_S * 1000)
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=SPAWN_S * 1000)
    return context, page


def tensorboard_panel(page, name: str) -> int:
    """The notebook's TensorBoard iframe: through this learner's proxy, showing the runs."""
    frames = page.locator(".jp-NotebookPanel .jp-OutputArea-output iframe")
    assert frames.count() > 0, f"{name}: no TensorBoard iframe in the outputs"
    frame = frames.last
    frame.scroll_into_view_if_needed()
    src = frame.get_attribute("src") or ""
    match = re.search(rf"/user/{name}/proxy/(\d+)/", src)
    assert match, f"{name}: the TensorBoard iframe is not served through the hub's proxy: {src!r}"
    frame.content_frame.locator("tb-webapp, tf-tensorboard").first.wait_for(state="attached", timeout=90_000)
    frame.content_frame.get_by_text(TENSORBOARD_RUN, exact=True).first.wait_for(state="visible", timeout=90_000)
    assert "Failed to fetch" not in frame.content_frame.locator("body").inner_text()
    return int(match.group(1))


def processes(name: str) -> list[str]:
    """What runs under a learner's account, with RSS: 'MB  command' lines, largest first."""
    uid, rows = pwd.getpwnam(name).pw_uid, []
    for proc in psutil.process_iter(["uids", "memory_info", "cmdline"]):
        if proc.info["uids"] and proc.info["uids"].real == uid and proc.info["memory_info"]:
            cmd = " ".join(proc.info["cmdline"] or [])
            cmd = cmd.replace("/opt/tf-training-lab/venv/bin/", "").replace(str(hubctl.REPO_VENV / "bin") + "/", "")
            rows.append((proc.info["memory_info"].rss, cmd[:90]))
    return [f"{rss / 1e6:5.0f} MB  {cmd}" for rss, cmd in sorted(rows, reverse=True)]


def server_rss_mb(name: str) -> int:
    """RSS of the learner's single-user server process alone (no kernel, no TensorBoard)."""
    uid = pwd.getpwnam(name).pw_uid
    return round(sum(p.info["memory_info"].rss for p in psutil.process_iter(["uids", "memory_info", "cmdline"])
                     if p.info["uids"] and p.info["uids"].real == uid
                     and "jupyterhub-singleuser" in " ".join(p.info["cmdline"] or [])) / 1e6)


def listener(port: int) -> psutil.Process:
    """The process listening on 127.0.0.1:port."""
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port and conn.pid:
            return psutil.Process(conn.pid)
    raise AssertionError(f"nothing listens on port {port}")


def refused(resp, *secrets_: str) -> bool:
    """A response that gives nothing away: an error status or the login page, no secret in it."""
    body = resp.text()
    if any(s in body for s in secrets_):
        return False
    return resp.status in (401, 403, 404) or "/hub/login" in resp.url


def learner_runs_notebook(browser, base: str, name: str, state: dict, sampler) -> None:
    password = secrets.token_urlsafe(12)
    t0 = time.monotonic()
    context, page = login(browser, base, name, password)
    state[name] = {"context": context, "page": page, "login_to_lab_s": time.monotonic() - t0}
    assert page.url.endswith(f"/user/{name}/lab/tree/notebooks/00_start_here.ipynb"), page.url
    # the start notebook rendered: its title heading, not just the loading placeholder
    page.locator(".jp-NotebookPanel .jp-MarkdownCell h1").first.wait_for(timeout=SPAWN_S * 1000)
    page.screenshot(path=str(ARTIFACTS / f"{name}-00_start_here.png"))
    home_nb = Path(pwd.getpwnam(name).pw_dir) / "tf-training-lab" / "notebooks" / NOTEBOOK
    assert home_nb.exists() and home_nb.stat().st_uid == pwd.getpwnam(name).pw_uid
    page.goto(f"{base}/user/{name}/lab/tree/notebooks/{NOTEBOOK}?reset", timeout=SPAWN_S * 1000)
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=SPAWN_S * 1000)
    deadline = time.monotonic() + SPAWN_S
    while kernel_state(context, base, name) != "idle":
        assert time.monotonic() < deadline, f"{name}: kernel not idle after {SPAWN_S} s"
        page.wait_for_timeout(1000)
    # only notebook 10's kernel runs for the measurement: shut down the start page's kernel
    for s in sessions(context, base, name):
        if not s.get("path", "").endswith(NOTEBOOK):
            context.request.delete(f"{base}/user/{name}/api/sessions/{s['id']}",
                                   headers={"X-XSRFToken": xsrf(context, name)})
    t1 = time.monotonic()
    page.locator(".jp-NotebookPanel .jp-Cell").last.locator(".jp-InputPrompt").click()
    run_menu(page, "notebook:run-all-above")  # the last cell stops TensorBoard
    wait_for_cells(page, lambda: kernel_state(context, base, name), RUN_S, name)
    state[name]["run_s"] = time.monotonic() - t1
    port = tensorboard_panel(page, name)
    page.screenshot(path=str(ARTIFACTS / f"{name}-10_tensorboard.png"))
    errors = errors_outside_expected(page, home_nb)
    assert not errors, f"{name}: error output:\n" + "\n---\n".join(errors)
    env = get(context, f"{base}/user/{name}/proxy/{port}/data/environment", name)
    assert env.status == 200, f"{name}: TensorBoard through the proxy answered {env.status}"
    # their own runs: the TensorBoard behind the port runs as this learner, on a logdir in
    # their home (the notebook passes a relative logdir; resolve it from the process's cwd)
    home = pwd.getpwnam(name).pw_dir
    board = listener(port)
    logdir = os.path.realpath(os.path.join(board.cwd(), env.json()["data_location"]))
    assert board.username() == name, f"port {port} belongs to {board.username()}, not {name}"
    assert logdir.startswith(f"{home}/tf-training-lab/notebooks/runs/"), logdir
    runs = get(context, f"{base}/user/{name}/proxy/{port}/data/runs", name).json()
    assert TENSORBOARD_RUN in runs and all((Path(logdir) / r).is_dir() for r in runs), runs
    state[name].update(port=port, logdir=logdir, home=home)


@pytest.mark.browser
@pytest.mark.slow
@needs_hub
def test_two_learners_on_a_real_hub(hub, browser):
    base, (a, b), sampler, hub_state = hub
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    st: dict[str, dict] = {}
    learner_runs_notebook(browser, base, a, st, sampler)
    learner_runs_notebook(browser, base, b, st, sampler)
    now = sampler.now()
    memory = {n: {"peak_mb": round(sampler.peak[n] / 1e6), "after_run_mb": round(now[n] / 1e6),
                  "server_only_mb": server_rss_mb(n), "processes_after_run": processes(n),
                  "login_to_lab_s": round(st[n]["login_to_lab_s"], 1), "run_s": round(st[n]["run_s"], 1)}
              for n in (a, b)}
    (ARTIFACTS / "memory.json").write_text(json.dumps({
        "measured": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "notebook": NOTEBOOK,
        "what": "summed RSS of all processes of the learner's Unix account: single-user server, "
                "kernel, TensorBoard (peak sampled every 0.5 s)",
        "learners": memory,
    }, indent=1))

    # --- isolation: A's browser session against B's server, files and TensorBoard ---
    ctx_a, page_a = st[a]["context"], st[a]["page"]
    b_home, b_port, a_port = st[b]["home"], st[b]["port"], st[a]["port"]
    secrets_b = (b_home, '"nbformat"', "tb-webapp", "data_location", "jupyter-config-data")
    probes = {
        "B's lab": f"{base}/user/{b}/lab",
        "B's notebook file": f"{base}/user/{b}/files/notebooks/{NOTEBOOK}",
        "B's contents API": f"{base}/user/{b}/api/contents/notebooks/{NOTEBOOK}",
        "B's TensorBoard": f"{base}/user/{b}/proxy/{b_port}/",
        "B's TensorBoard data": f"{base}/user/{b}/proxy/{b_port}/data/environment",
        "B's TensorBoard via A's own proxy": f"{base}/user/{a}/proxy/{b_port}/data/environment",
    }
    leaks, seen = {}, {}
    for what, url in probes.items():
        resp = get(ctx_a, url, a)
        seen[f"A -> {what}"] = f"{resp.status} {resp.url.replace(base, '')}"
        if not refused(resp, *secrets_b):
            leaks[what] = (url, resp.status, resp.url)
    page_a.goto(probes["B's lab"])
    page_a.screenshot(path=str(ARTIFACTS / f"{a}-refused-{b}.png"))
    assert not leaks, f"A's session reached B's: {leaks}"
    # and A still reaches A's own TensorBoard (the allowlist is not just refusing everything)
    assert get(ctx_a, f"{base}/user/{a}/proxy/{a_port}/data/environment", a).status == 200

    # --- A logs out: nothing of A's answers A's browser any more ---
    a_home = st[a]["home"]
    page_a.goto(f"{base}/hub/logout")
    page_a.wait_for_url(re.compile(r"/hub/(login|logout)"), timeout=60_000)
    after = {
        "A's lab": f"{base}/user/{a}/lab",
        "A's notebook file": f"{base}/user/{a}/files/notebooks/{NOTEBOOK}",
        "A's contents API": f"{base}/user/{a}/api/contents/notebooks/{NOTEBOOK}",
        "A's TensorBoard": f"{base}/user/{a}/proxy/{a_port}/data/environment",
        "the hub's home page": f"{base}/hub/home",
    }
    still = {}
    for what, url in after.items():
        resp = get(ctx_a, url, a)
        seen[f"A after logout -> {what}"] = f"{resp.status} {resp.url.replace(base, '')[:60]}"
        if not refused(resp, a_home, '"nbformat"', "tb-webapp", "data_location", "jupyter-config-data"):
            still[what] = (url, resp.status, resp.url)
    page_a.goto(after["A's lab"])
    page_a.screenshot(path=str(ARTIFACTS / f"{a}-after-logout.png"))
    (ARTIFACTS / "isolation.json").write_text(json.dumps(seen, indent=1))  # status, final URL
    assert not still, f"after logout A's browser still reaches: {still}"
    for name in (a, b):
        st[name]["context"].close()
    print(json.dumps(memory), file=sys.stderr)


def test_kubernetes_values_say_what_the_tested_hub_does():
    """hub/z2jh-values.yaml (not run here) keeps the tested one-machine hub's choices."""
    import yaml

    values = yaml.safe_load((ROOT / "hub" / "z2jh-values.yaml").read_text())
    config = (ROOT / "hub" / "jupyterhub_config.py").read_text()
    single = values["singleuser"]
    assert single["defaultUrl"].endswith("/notebooks/00_start_here.ipynb")
    assert '"/lab/tree/notebooks/00_start_here.ipynb"' in config
    assert single["extraEnv"]["LABKIT_ROOT"] == "/home/jovyan/tf-training-lab"
    assert "/opt/tf-training-lab/notebooks" in single["lifecycleHooks"]["postStart"]["exec"]["command"][-1]
    assert "COPY notebooks ./notebooks" in (ROOT / "hub" / "Dockerfile").read_text()
    assert values["cull"] == {"enabled": True, "timeout": 3600, "every": 300}
    assert "'TFLAB_HUB_CULL_TIMEOUT', '3600'" in config and "--cull-every=300" in config
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] == (
        "firstuseauthenticator.FirstUseAuthenticator")
    assert "firstuseauthenticator.FirstUseAuthenticator" in config
    assert single["memory"]["limit"] and single["cpu"]["limit"]
    assert hubctl.hub_env(Path("/x"))["TFLAB_HUB_VENV"] == "/x"

"""The lab in a real browser: Chromium runs every notebook in the README's JupyterLab.

One JupyterLab (started by the README's launcher, ``make lab``, exactly as tests/tooling/test_launch.py
does) and one headless Debian Chromium serve the whole module. For each notebook in
``notebooks/*.ipynb`` the test opens it, runs "Run All Cells" from the Run menu, waits until
the kernel is idle with no ``[*]`` prompt left, and asserts what a learner would see:

- no error output anywhere (no traceback, no ``SomethingError:`` line), except in the cells
  tagged ``raises-exception``, which must show theirs (the real error of an API TF 2.21 dropped);
- in notebooks that use widgets: widgets are rendered, never "Loading widget..." or
  "Error displaying widget";
- in 04_playground (and the widget demo of 00_start_here): moving a slider changes the plot
  image;
- in 10_summary_tensorboard: the TensorBoard panel (an iframe) shows TensorBoard's UI with the
  notebook's runs, checked before the notebook's last cell stops the server (so that cell is
  run separately, after the check);
- the notebook file on disk is not saved with this run's outputs (autosave is off for the test).

Screenshots go to ``artifacts/browser/<notebook>.png`` (git-ignored). Chromium is kept off the
network: its proxy is a closed loopback port (loopback itself is never proxied), and the
kernels inherit the suite's offline proxy settings from conftest.py. On a machine without
``/usr/bin/chromium`` the tests are skipped with a clear reason; ``.ci/run`` installs it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, headless_chromium, wait_for_cells

from labkit.processes import stop_process_group

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
ARTIFACTS = ROOT / "artifacts" / "browser"
SERVER_START_S = 240      # the shared 2-core machine can be slow to import jupyterlab
NOTEBOOK_OPEN_S = 240     # page load + kernel start
NOTEBOOK_RUN_S = 480      # one notebook, run all cells, under load (nbval budget is 45 s idle)
SLIDER_EFFECT_S = 60
# notebooks whose text promises "move the slider and the plot changes": the test moves one
SLIDER_MOVES_PLOT = ("00_start_here", "04_playground")
TENSORBOARD_NOTEBOOK = "10_summary_tensorboard"
TENSORBOARD_RUN = "GradientDescentOptimizer"  # a run that notebook writes (one folder per optimizer)

# JupyterLab user settings for the test server only (JUPYTERLAB_SETTINGS_DIR): every cell in
# the DOM (no windowing, so all outputs can be inspected), no autosave (the committed notebooks
# must not be overwritten with outputs), no news fetching (offline, no pop-up toast).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

SKIP_REASON = "chromium not installed: browser tests skipped; .ci/run installs it"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=SKIP_REASON),
]

ERROR_LINE = re.compile(r"^\s*[A-Za-z_][\w.]*(Error|Exception)\b.*:", re.MULTILINE)
WIDGET_FAILURES = ("Loading widget...", "Error displaying widget")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, token: str, path: str, method: str = "GET"):
    req = urllib.request.Request(f"{base}{path}", method=method,
                                 headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()
    return json.loads(body) if body else None


def uses_widgets(path: Path) -> bool:
    """Whether a notebook's code displays ipywidgets (sliders, LivePlot, interact)."""
    nb = json.loads(path.read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    return any(word in code for word in ("ipywidgets", "LivePlot", "interact", "labkit.teaching.widgets"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The README's launcher (``make lab``) on a free port, token on; yields (base_url, token)."""
    yield from serve_lab(tmp_path_factory)


@pytest.fixture(scope="module")
def lab_zh(tmp_path_factory):
    """The Chinese edition's launcher (``make lab LAB_LANG=zh_CN``), otherwise as ``lab``."""
    yield from serve_lab(tmp_path_factory, "LAB_LANG=zh_CN")


def serve_lab(tmp_path_factory, *make_args: str):
    """Start ``make lab`` (plus ``make_args``) on a private copy of notebooks/; yield
    (base_url, token, lab_root) while it serves; stop it afterwards."""
    pytest.importorskip("playwright.sync_api", reason="playwright (Python package) not installed")
    home = tmp_path_factory.mktemp("jupyterlab")
    settings = home / "settings"
    for rel, values in LAB_SETTINGS.items():
        (settings / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings / rel).write_text(json.dumps(values))
    # The lab serves a private copy of notebooks/ (LABKIT_ROOT, honoured by the launcher and by
    # labkit.tooling.paths), so the browser run never shares runs/ or checkpoints/ with an nbval run of
    # the same notebook, and can never save over the committed files.
    labroot = home / "labroot"
    shutil.copytree(ROOT / "notebooks", labroot / "notebooks",
                    ignore=shutil.ignore_patterns("runs", "checkpoints", "exported", ".ipynb_checkpoints"))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        LABKIT_ROOT=str(labroot),
        JUPYTER_TOKEN=token,
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        NO_PROXY="127.0.0.1,localhost,::1",
        no_proxy="127.0.0.1,localhost,::1",
    )
    env.pop("MPLBACKEND", None)  # let the kernels pick the inline backend, as for a learner
    log = (home / "lab.log").open("wb")
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"PORT={port}", "LAB_FLAGS=--no-browser", *make_args],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if proc.poll() is not None:
                pytest.fail("make lab exited early:\n" + (home / "lab.log").read_text()[-3000:])
            try:
                api(base, token, "/api/status")
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s")
                time.sleep(0.5)
        yield base, token, labroot
    finally:
        stop_process_group(proc)
        log.close()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (the labs it visits are the ``lab*`` fixtures)."""
    pytest.importorskip("playwright.sync_api", reason="playwright (Python package) not installed")

    with headless_chromium() as chromium:
        yield chromium


def kernel_state(base: str, token: str, notebook: str) -> str | None:
    """The server's view of the notebook's kernel: 'starting', 'idle', 'busy', 'dead' or None."""
    for session in api(base, token, "/api/sessions") or []:
        if session.get("path", "").endswith(f"notebooks/{notebook}"):
            return (session.get("kernel") or {}).get("execution_state")
    return None


def wait_for_kernel_idle(page, base: str, token: str, notebook: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while (state := kernel_state(base, token, notebook)) != "idle":
        assert state != "dead", f"{notebook}: the kernel died while starting"
        if time.monotonic() > deadline:
            raise AssertionError(f"{notebook}: kernel not idle after {timeout_s} s (state {state!r})")
        page.wait_for_timeout(1000)


def wait_for_run_all(page, base: str, token: str, notebook: str, timeout_s: float,
                     expected: frozenset[int] = frozenset()) -> None:
    """Wait until every cell has run, or an error is showing (see browser_helpers)."""
    wait_for_cells(page, lambda: kernel_state(base, token, notebook), timeout_s, notebook,
                   errors=lambda: bool(error_outputs(page, expected)))


def expected_errors(path: Path) -> frozenset[int]:
    """Positions (among code cells) of the cells tagged ``raises-exception``: they show a real
    TensorFlow error on purpose (an API the seed used that TF 2.21 no longer runs)."""
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    return frozenset(i for i, c in enumerate(code)
                     if "raises-exception" in c.get("metadata", {}).get("tags", []))


_STDERR_BY_CELL = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell')).map(
  cell => Array.from(cell.querySelectorAll(
    ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")).map(e => e.innerText))"""


def error_outputs(page, expected: frozenset[int] = frozenset()) -> list[str]:
    """Error output of every code cell except the ``expected`` ones (by code-cell position)."""
    found = []
    for i, texts in enumerate(page.evaluate(_STDERR_BY_CELL)):
        if i in expected:
            continue
        found += [f"code cell {i}: {t[-1500:]}" for t in texts if "Traceback" in t or ERROR_LINE.search(t)]
    return found


def expected_errors_shown(page, expected: frozenset[int]) -> list[int]:
    """The ``expected`` cells that do show their error (each must: the lesson is about it)."""
    per_cell = page.evaluate(_STDERR_BY_CELL)
    return sorted(i for i in expected if i < len(per_cell)
                  and any("Traceback" in t or ERROR_LINE.search(t) for t in per_cell[i]))


def image_state(page) -> list[tuple[str, bytes]]:
    imgs = page.locator(".jp-NotebookPanel .widget-image")
    return [(imgs.nth(i).get_attribute("src") or "", imgs.nth(i).screenshot())
            for i in range(imgs.count())]


def check_slider_moves_plot(page) -> None:
    """Press the arrow key on each slider in turn until a plot image changes; assert one did."""
    sliders = page.locator(".jp-NotebookPanel .widget-slider .noUi-handle")
    assert sliders.count() > 0, "the notebook shows no slider"
    before = image_state(page)
    assert before, "the notebook shows no plot image (ipywidgets.Image)"
    for i in range(sliders.count()):
        handle = sliders.nth(i)
        handle.scroll_into_view_if_needed()
        handle.focus()
        for _ in range(3):
            handle.press("ArrowRight")
        deadline = time.monotonic() + SLIDER_EFFECT_S
        while time.monotonic() < deadline:
            page.wait_for_timeout(1000)
            after = image_state(page)
            if after != before:
                changed = [j for j, (a, b) in enumerate(zip(before, after, strict=False)) if a != b]
                assert changed or len(after) != len(before)
                return
    raise AssertionError(f"moving {sliders.count()} slider(s) did not change any plot image")


def run_menu(page, command: str, label: str = "Run") -> None:
    """Click the Run menu's item for a JupyterLab command (e.g. ``runmenu:run-all``)."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{label}$")).click()
    page.locator(f".lm-Menu-item[data-command='{command}']").click()


def check_tensorboard_panel(page) -> None:
    """An iframe in the outputs shows TensorBoard's web app, listing the notebook's runs."""
    frames = page.locator(".jp-NotebookPanel .jp-OutputArea-output iframe")
    assert frames.count() > 0, "no TensorBoard iframe in the notebook's outputs"
    seen = []
    for i in range(frames.count()):
        frame = frames.nth(i)
        frame.scroll_into_view_if_needed()
        seen.append(frame.get_attribute("src"))
        app = frame.content_frame.locator("tb-webapp, tf-tensorboard")
        try:
            app.first.wait_for(state="attached", timeout=60_000)
        except Exception:  # try the next iframe; all are reported below
            continue
        # the run selector lists the runs the notebook wrote, fetched live from the server
        run = frame.content_frame.get_by_text(TENSORBOARD_RUN, exact=True)
        run.first.wait_for(state="visible", timeout=60_000)
        text = frame.content_frame.locator("body").inner_text()
        assert "Failed to fetch" not in text, f"TensorBoard shows an error: {text[:500]}"
        return
    raise AssertionError(f"no iframe showed TensorBoard's UI (tb-webapp); iframe srcs: {seen}")


def close_page(page, shot, base, token, notebook):
    """After a notebook's test, pass or fail: a screenshot if none was taken (a diagnostic, not
    the verdict), the page closed, the notebook's kernels shut down."""
    if not shot.exists():
        try:
            page.screenshot(path=str(shot))
        except Exception:  # the screenshot is a diagnostic, not the verdict
            pass
    page.close()
    shut_down_kernels(base, token, notebook)


def shut_down_kernels(base: str, token: str, notebook: str) -> None:
    for session in api(base, token, "/api/sessions") or []:
        if session.get("path", "").endswith(notebook):
            api(base, token, f"/api/sessions/{session['id']}", method="DELETE")


def test_there_are_notebooks_to_drive():
    assert "00_start_here.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_runs_in_chromium(lab, browser, notebook):
    base, token, labroot = lab
    path = labroot / "notebooks" / notebook
    committed = path.read_bytes()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{path.stem}.png"
    for old in ARTIFACTS.glob(f"{path.stem}*.png"):  # no stale screenshot from an earlier run
        old.unlink()
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    try:
        url = f"{base}/lab/tree/notebooks/{urllib.parse.quote(notebook)}?reset&token={token}"
        page.goto(url, timeout=NOTEBOOK_OPEN_S * 1000)
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=NOTEBOOK_OPEN_S * 1000)
        wait_for_kernel_idle(page, base, token, notebook, NOTEBOOK_OPEN_S)
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        if dialog.count():  # e.g. a kernel chooser: accept the default (Python 3)
            dialog.first.click()
        stops_server = notebook.startswith(TENSORBOARD_NOTEBOOK)
        if stops_server:
            # Its last cell stops TensorBoard: run everything above it, check the live panel,
            # then run the last cell as a learner would at the end.
            page.locator(".jp-NotebookPanel .jp-Cell").last.locator(".jp-InputPrompt").click()
            run_menu(page, "notebook:run-all-above")
        else:
            run_menu(page, "runmenu:run-all")
        expected = expected_errors(path)
        wait_for_run_all(page, base, token, notebook, NOTEBOOK_RUN_S, expected)
        if stops_server:
            check_tensorboard_panel(page)
            page.screenshot(path=str(ARTIFACTS / f"{path.stem}-tensorboard.png"))
            page.locator(".jp-NotebookPanel .jp-Cell").last.locator(".jp-InputPrompt").click()
            run_menu(page, "notebook:run-cell")
            wait_for_run_all(page, base, token, notebook, NOTEBOOK_RUN_S, expected)
        page.wait_for_timeout(1000)  # let late widget views render
        page.screenshot(path=str(shot))

        errors = error_outputs(page, expected)
        assert not errors, f"{notebook} shows error output:\n" + "\n---\n".join(errors)
        shown = expected_errors_shown(page, expected)
        assert shown == sorted(expected), (
            f"{notebook}: cells tagged raises-exception {sorted(expected)} should show their "
            f"error; only {shown} do")
        outputs = "\n".join(page.locator(".jp-NotebookPanel .jp-OutputArea-output").all_inner_texts())
        for failure in WIDGET_FAILURES:
            assert failure not in outputs, f"{notebook}: a widget shows {failure!r}"
        if uses_widgets(path):
            widgets = page.locator(".jp-NotebookPanel .jupyter-widgets")
            assert widgets.count() > 0, f"{notebook} uses widgets but none rendered"
            assert any(widgets.nth(i).is_visible() for i in range(widgets.count()))
            if "Slider" in path.read_text():
                assert page.locator(".jp-NotebookPanel .widget-slider").first.is_visible()
            widgets.first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / f"{path.stem}-widgets.png"))
            if widgets.count() > 1:  # the lesson's last widget too, for whoever reviews the shots
                widgets.last.scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / f"{path.stem}-widgets-last.png"))
        if notebook.startswith(SLIDER_MOVES_PLOT):
            check_slider_moves_plot(page)
            page.screenshot(path=str(ARTIFACTS / f"{path.stem}-after-slider.png"))
        if stops_server:
            prompts = page.locator(".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt").all_inner_texts()
            assert re.search(r"\[\d+\]", prompts[-1]), f"the last cell did not run: {prompts[-1]!r}"
    finally:
        close_page(page, shot, base, token, notebook)
    assert shot.stat().st_size > 0
    if path.read_bytes() != committed:  # someone edited it meanwhile; a save from the browser has counts
        counts = [c.get("execution_count") for c in json.loads(path.read_text())["cells"]
                  if c["cell_type"] == "code"]
        assert not any(counts), f"{notebook} was saved with outputs by the browser run (autosave?)"


# --- the Chinese edition ------------------------------------------------------------------------
# `make lab LAB_LANG=zh_CN` opens notebooks/zh_CN/ with JupyterLab's interface in Chinese. The
# menu labels are those of the installed jupyterlab-language-pack-zh-CN
# (jupyterlab_language_pack_zh_CN/locale/zh_CN/LC_MESSAGES/jupyterlab.json: "menu\x04File" -> 文件).
ZH_NOTEBOOK = "zh_CN/00_start_here.ipynb"  # the start page `make lab LAB_LANG=zh_CN` opens
ZH_MENUS = {"File": "文件", "Edit": "编辑", "Run": "运行", "Kernel": "内核"}
CJK = re.compile(r"[\u4e00-\u9fff]")
ZH_NOT_YET = "还不对"  # Feedback's "Not yet:" in labkit/locale/zh_CN/LC_MESSAGES/labkit.po


def test_chinese_edition_runs_with_the_chinese_interface(lab_zh, browser):
    """The Chinese start page in the Chinese interface: menus in Chinese, the lesson's text in
    Chinese, Run All (运行 -> 运行所有单元格) with no error output, widgets rendered."""
    base, token, labroot = lab_zh
    path = labroot / "notebooks" / ZH_NOTEBOOK
    assert path.exists(), f"{ZH_NOTEBOOK} is not generated (make translations)"
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    assert fonts.strip(), ("no Chinese font for Chromium: the screenshot would show boxes "
                           "(install one: make browser-deps, which installs fonts-wqy-microhei)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "zh_CN-00_start_here.png"
    for old in ARTIFACTS.glob("zh_CN-00_start_here*.png"):
        old.unlink()
    page = browser.new_page(viewport={"width": 1280, "height": 1400}, locale="zh-CN")
    try:
        url = f"{base}/lab/tree/notebooks/{urllib.parse.quote(ZH_NOTEBOOK)}?reset&token={token}"
        page.goto(url, timeout=NOTEBOOK_OPEN_S * 1000)
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=NOTEBOOK_OPEN_S * 1000)
        wait_for_kernel_idle(page, base, token, ZH_NOTEBOOK, NOTEBOOK_OPEN_S)
        dialog = page.locator(".jp-Dialog .jp-mod-accept")
        if dialog.count():
            dialog.first.click()
        menus = [t.strip() for t in page.locator(".lm-MenuBar-item").all_inner_texts()]
        for english, chinese in ZH_MENUS.items():
            assert chinese in menus and english not in menus, f"menu bar {menus}: want {chinese!r}"
        title = page.locator(".jp-NotebookPanel .jp-MarkdownCell h1").first.inner_text()
        assert CJK.search(title), f"the lesson's title is not Chinese: {title!r}"
        run_menu(page, "runmenu:run-all", label=ZH_MENUS["Run"])
        expected = expected_errors(path)
        wait_for_run_all(page, base, token, ZH_NOTEBOOK, NOTEBOOK_RUN_S, expected)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(shot))
        errors = error_outputs(page, expected)
        assert not errors, f"{ZH_NOTEBOOK} shows error output:\n" + "\n---\n".join(errors)
        assert expected_errors_shown(page, expected) == sorted(expected)
        outputs = "\n".join(page.locator(".jp-NotebookPanel .jp-OutputArea-output").all_inner_texts())
        for failure in WIDGET_FAILURES:
            assert failure not in outputs, f"{ZH_NOTEBOOK}: a widget shows {failure!r}"
        # the exercises as committed (prediction None) answer in the notebook's language
        assert ZH_NOT_YET in outputs and "Not yet:" not in outputs, "exercise feedback is not in Chinese"
        if uses_widgets(path):
            widgets = page.locator(".jp-NotebookPanel .jupyter-widgets")
            assert widgets.count() > 0 and any(widgets.nth(i).is_visible() for i in range(widgets.count()))
            widgets.first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "zh_CN-00_start_here-widgets.png"))
        # the interface is still Chinese after the run (a menu opened shows Chinese items)
        page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{ZH_MENUS['File']}$")).click()
        items = page.locator(".lm-Menu .lm-Menu-itemLabel").all_inner_texts()
        page.screenshot(path=str(ARTIFACTS / "zh_CN-00_start_here-menu.png"))
        page.keyboard.press("Escape")
        assert sum(bool(CJK.search(t)) for t in items) >= len(items) // 2, f"File menu items: {items}"
    finally:
        close_page(page, shot, base, token, ZH_NOTEBOOK)
    assert shot.stat().st_size > 0

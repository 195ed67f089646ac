"""What the browser tests (tests/test_browser.py) and the hub test (tests/test_hub.py) share:
Debian's Chromium, headless and loopback-only, and waiting in a real JupyterLab page until a
notebook's Run All has finished."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

CHROMIUM = "/usr/bin/chromium"
OFFLINE_PROXY = "http://127.0.0.1:9"  # closed port: Chromium cannot reach anything but loopback
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    f"--proxy-server={OFFLINE_PROXY}",  # Chromium never proxies loopback, so the lab still loads
]

PROMPTS = ".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt"


def wait_for_cells(page, kernel_state: Callable[[], str | None], timeout_s: float, label: str,
                   errors: Callable[[], bool] = lambda: False) -> None:
    """Wait until every cell has run (no ``[*]`` left, kernel idle) or ``errors()`` is true.

    ``kernel_state`` reads the kernel's state from the server, the prompts come from the page;
    both must hold for 3 s in a row, so the short idle moments between cells do not count.
    """
    prompts = page.locator(PROMPTS)
    deadline, stable = time.monotonic() + timeout_s, 0
    while stable < 3:
        state = kernel_state()
        texts = prompts.all_inner_texts()
        assert state not in ("dead", None), f"{label}: the kernel died (state {state!r}); prompts {texts}"
        finished = not any("*" in t for t in texts) and any(re.search(r"\[\d+\]", t) for t in texts)
        done = state == "idle" and (finished or errors())
        stable = stable + 1 if done else 0
        if time.monotonic() > deadline:
            raise AssertionError(f"{label}: not finished after {timeout_s} s: kernel {state!r}, prompts {texts}")
        page.wait_for_timeout(1000)


@contextmanager
def headless_chromium() -> Iterator:
    """Debian's Chromium, headless, with CHROMIUM_ARGS; launch() gives every run a fresh
    temporary profile (user-data dir)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()

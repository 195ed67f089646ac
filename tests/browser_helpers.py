"""What the browser tests (tests/test_browser.py) and the hub test (tests/test_hub.py) share:
waiting in a real JupyterLab page until a notebook's Run All has finished."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

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
